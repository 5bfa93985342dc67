"""Every analysis module shows how it is used (tests/docs/test_docs.py runs the examples)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import research.analysis

MODULES = sorted(["research.cli.analyze", "research.engine.planted_edge",
                  "research.engine.synthetic", research.analysis.__name__,
                  *(f"{research.analysis.__name__}.{info.name}"
                    for info in pkgutil.iter_modules(research.analysis.__path__))])


def examples_in(name: str) -> int:
    """How many docstring examples the module holds (counted, not run: test_docs runs them)."""
    module = importlib.import_module(name)
    return sum(len(test.examples) for test in doctest.DocTestFinder().find(module))


def test_every_analysis_module_has_examples():
    untested = [name for name in MODULES if name.startswith("research.analysis")
                and examples_in(name) == 0]
    assert untested == []
