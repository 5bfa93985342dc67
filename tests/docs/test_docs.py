"""Every docstring example in the package runs and says what it shows."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import inspect
import pkgutil
from pathlib import Path

import pytest

import research
from research.engine.results import to_legacy

MODULES = sorted(info.name for info in pkgutil.walk_packages(research.__path__, "research.")
                 if not info.name.endswith("__main__"))
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write results write them here
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


def public_members(cls) -> list[str]:
    """A class's public methods and properties; dataclass fields are documented by the
    class itself."""
    fields = set(getattr(cls, "__dataclass_fields__", {}))
    return [name for name in vars(cls) if not name.startswith("_") and name not in fields]


DOCUMENTED = [
    *[(name, getattr(research, name)) for name in research.__all__],
    *[(f"{cls.__name__}.{name}", getattr(cls, name))
      for cls in (research.Sweep, research.ResearchRunner, research.RunParams,
                  research.ParallelProcessor)
      for name in public_members(cls)],
    *[(f"{module}.main", importlib.import_module(module).main)
      for module in ("research.cli.sweep", "research.cli.data_inspector")],
]


@pytest.mark.parametrize(("name", "obj"), DOCUMENTED, ids=[name for name, _ in DOCUMENTED])
def test_every_public_name_has_a_docstring_with_an_example(name, obj):
    doc = inspect.getdoc(obj.fget if isinstance(obj, property) else obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    assert ">>>" in doc, f"{name}'s docstring has no example"


def test_the_strategy_page_shows_the_engines_own_row():
    """docs/STRATEGY.md quotes the engine's row that its picture draws; the picture's script
    checks the bars against that row (levels asserts), so both stay true to the engine."""
    docs = Path(__file__).parents[2] / "docs"
    loader = importlib.util.spec_from_file_location("make_strategy_figure",
                                                    docs / "make_strategy_figure.py")
    figure = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(figure)
    rows, bars = figure.the_trade()
    figure.levels(rows.iloc[0], bars)
    assert to_legacy(rows).to_csv(index=False) in (docs / "STRATEGY.md").read_text()
    assert (docs / "strategy_trade.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
