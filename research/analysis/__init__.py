"""From the in-sample best to a decision: is a sweep's winner skill or luck?

docs/robustness.md's methods on the T x N daily net $ matrix a sweep stores, without re-running
the engine; exact (integer cents), deterministic (enumerated splits, seeded bootstraps).

- ``analyze(daily, params, axes, config)`` -> ``Robustness``: everything, in memory;
- ``analyze_folder(results_dir, config)``: the same from a results folder, writing
  ``robustness.json`` and ``combo_stats.parquet`` there;
- ``AnalysisConfig``: the settings (a sweep spec's ``analysis:`` section);
- ``probabilistic_sharpe``, ``expected_max_sharpe``, ``deflated_sharpe``: §3's formulas,
  per-period inputs;
- ``AnalysisError``: inputs the analysis cannot work on.

>>> from research.analysis import expected_max_sharpe
>>> round(expected_max_sharpe(100, 0.002), 4)
0.1132
"""

from __future__ import annotations

import importlib
from typing import Any

# Where each public name lives. Loaded on first use (PEP 562): a sweep without analysis (or
# a spec that only reads AnalysisConfig) does not import the statistics. None of them imports
# scipy.stats or arch (~1.5 s and ~3.4 s to import): research.analysis.normal, block_length
# and resample stand in for them, and the tests hold them equal.
_HOMES = {"AnalysisConfig": "config", "AnalysisError": "run", "COMBO_STATS": "folder",
          "ROBUSTNESS": "folder", "analyze_folder": "folder", "read_inputs": "folder",
          "Robustness": "robustness", "analyze": "run", "deflated_sharpe": "sharpe",
          "expected_max_sharpe": "sharpe", "probabilistic_sharpe": "sharpe"}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'research.analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"research.analysis.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
