"""Every analysis module shows how it is used (tests/test_docs.py runs the examples)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import research.analysis

MODULES = sorted(["research.cli.analyze", "research.engine.planted_edge",
                  "research.engine.synthetic", research.analysis.__name__,
                  *(f"{research.analysis.__name__}.{info.name}"
                    for info in pkgutil.iter_modules(research.analysis.__path__))])


def test_every_analysis_module_has_examples():
    untested = [name for name in MODULES if name.startswith("research.analysis")
                and doctest.testmod(importlib.import_module(name)).attempted == 0]
    assert untested == []
