"""The examples in the analysis' docstrings run and say what they print."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import research.analysis

MODULES = sorted(["research.analyze", "research.engine.planted_edge",
                  "research.engine.synthetic", research.analysis.__name__,
                  *(f"{research.analysis.__name__}.{info.name}"
                    for info in pkgutil.iter_modules(research.analysis.__path__))])


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_analysis_module_has_examples():
    untested = [name for name in MODULES if name.startswith("research.analysis")
                and doctest.testmod(importlib.import_module(name)).attempted == 0]
    assert untested == []
