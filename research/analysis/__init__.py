"""From the in-sample best to a decision: is a sweep's winner skill or luck?

ROBUSTNESS.md's methods on the T x N daily net $ matrix a sweep stores, without re-running
the engine; exact (integer cents), deterministic (enumerated splits, seeded bootstraps).

- ``analyze(daily, params, axes, config)`` -> ``Robustness``: everything, in memory;
- ``analyze_folder(results_dir, config)``: the same from a results folder, writing
  ``robustness.json`` and ``combo_stats.parquet`` there;
- ``AnalysisConfig``: the settings (a sweep spec's ``analysis:`` section);
- ``probabilistic_sharpe``, ``expected_max_sharpe``, ``deflated_sharpe``: §3's formulas,
  per-period inputs;
- ``AnalysisError``: inputs the analysis cannot work on.

>>> round(expected_max_sharpe(100, 0.002), 4)
0.1132
"""

from research.analysis.config import AnalysisConfig
from research.analysis.errors import AnalysisError
from research.analysis.folder import COMBO_STATS, ROBUSTNESS, analyze_folder, read_inputs
from research.analysis.robustness import Robustness
from research.analysis.run import analyze
from research.analysis.sharpe import deflated_sharpe, expected_max_sharpe, probabilistic_sharpe

__all__ = ["COMBO_STATS", "ROBUSTNESS", "AnalysisConfig", "AnalysisError", "Robustness",
           "analyze", "analyze_folder", "deflated_sharpe", "expected_max_sharpe",
           "probabilistic_sharpe", "read_inputs"]
