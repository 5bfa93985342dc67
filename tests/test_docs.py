"""Every docstring example in the package runs and says what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import research

MODULES = sorted(info.name for info in pkgutil.walk_packages(research.__path__, "research.")
                 if not info.name.endswith("__main__"))
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write results write them here
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
