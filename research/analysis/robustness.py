"""Robustness: the analysis' result, and its ``robustness.json`` text.

``to_dict`` gives the file's layout (docs/reference.md, "robustness.json").
Floats are rounded to FLOAT_DECIMALS like the summary's, -0.0 becomes 0.0, and an undefined
number is null with a note saying why, so the file never holds NaN or Infinity and the
same inputs and seed give the same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from research.analysis.cpcv import Cpcv
from research.analysis.cscv import Cscv
from research.analysis.haircut import Haircut
from research.analysis.sharpe import DeflatedSharpe
from research.analysis.spa import Spa
from research.analysis.stats import SQRT_PERIODS_PER_YEAR
from research.analysis.stepm import StepM
from research.analysis.trials import ESTIMATOR as TRIALS_ESTIMATOR
from research.analysis.walkforward import WalkForward
from research.results.metrics import FLOAT_DECIMALS

LAYOUT_VERSION = 2  # 2: trials, dsr_by_trials, spa_studentized, stepm, haircut, cpcv


@dataclass(frozen=True, slots=True, kw_only=True)
class BootstrapSettings:
    """How the SPA test and the intervals resampled (one set of resamples for both)."""

    reps: int
    block_length: int
    block_length_source: str  # "config", "optimal_block_length" or "fallback"
    seed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Robustness:
    """Everything the analysis found; ``combo_stats`` is the per-combo table, ``seconds``
    the time each stage took (not part of robustness.json, which must not vary).

    ``n_trials`` counts this sweep's combos; ``n_ledger`` every distinct combo tried on the
    same data (the ledger), ``n_effective`` Li & Ji's effective number; ``deflated`` and
    ``spa_pvalue`` (studentized, consistent) are at the N named by ``trials_used``, and
    ``deflated_by_trials`` / ``haircut_by_trials`` give each of the three."""

    n_trials: int
    n_ledger: int
    n_effective: float
    mean_correlation: float
    trials_used: str
    n_failed: int
    n_dates: int
    first_date: str
    last_date: str
    metric: str
    best_combo_id: str
    best_params: dict[str, Any]
    best_metric: float
    best_net_usd: float
    deflated: DeflatedSharpe
    spa: Spa
    spa_pvalue: float
    bootstrap: BootstrapSettings
    walk_forward: WalkForward
    cscv: Cscv
    cpcv: Cpcv
    stepm: StepM
    haircut: Haircut
    deflated_by_trials: dict[str, DeflatedSharpe]
    haircut_by_trials: dict[str, Haircut]
    best_plateau_score: float
    best_plateau_rank: int
    evidence: str
    verdict: str
    combo_stats: pd.DataFrame = field(repr=False, compare=False)
    seconds: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """robustness.json as a dict (rounded, no NaN)."""
        d = self.deflated
        layout = {
            "layout_version": LAYOUT_VERSION,
            "n_trials": self.n_trials, "n_failed": self.n_failed, "n_dates": self.n_dates,
            "trials": {"used": self.trials_used, "n_used": d.n_trials,
                       "sweep": self.n_trials, "ledger": self.n_ledger,
                       "effective": self.n_effective,
                       "effective_estimator": TRIALS_ESTIMATOR,
                       "mean_correlation": self.mean_correlation},
            "first_date": self.first_date, "last_date": self.last_date,
            "metric": self.metric, "best_combo_id": self.best_combo_id,
            "best_params": self.best_params, "best_metric": self.best_metric,
            "best_net_usd": self.best_net_usd, "best_sharpe": d.sharpe,
            "best_sharpe_annualised": d.sharpe * SQRT_PERIODS_PER_YEAR,
            "skewness": d.skew, "kurtosis": d.kurtosis, "sharpe_variance": d.sharpe_variance,
            "sharpe_variance_estimator": d.variance_estimator,
            "sharpe_variance_sample": d.sharpe_variance_sample,
            "sr0": d.sr0, "sr0_annualised": d.sr0 * SQRT_PERIODS_PER_YEAR,
            "psr": d.psr, "dsr": d.dsr,
            "dsr_by_trials": {name: {"n": value.n_trials, "sr0": value.sr0, "dsr": value.dsr}
                              for name, value in self.deflated_by_trials.items()},
            "pbo": self.cscv.pbo, "prob_oos_loss": self.cscv.prob_oos_loss,
            "spa_pvalue": self.spa_pvalue, "spa_pvalues": self.spa.to_dict(),
            "spa_studentized_pvalues": self.spa.studentized_dict(),
            "best_plateau_score": self.best_plateau_score,
            "best_plateau_rank": self.best_plateau_rank,
            "bootstrap": {"reps": self.bootstrap.reps,
                          "block_length": self.bootstrap.block_length,
                          "block_length_source": self.bootstrap.block_length_source,
                          "seed": self.bootstrap.seed},
            "evidence": self.evidence, "verdict": self.verdict,
            "walk_forward": self.walk_forward.to_dict(),
            "cscv": self.cscv.to_dict(),
            "cpcv": self.cpcv.to_dict(),
            "stepm": self.stepm.to_dict(self.combo_stats["combo_id"].tolist()),
            "haircut": self.haircut.to_dict(),
            "haircut_by_trials": {name: value.to_dict()
                                  for name, value in self.haircut_by_trials.items()},
        }
        return _clean(layout)

    def to_json(self) -> str:
        """The text of robustness.json."""
        return format_json(self.to_dict())


def format_json(value: Any) -> str:
    """Indented JSON whose lists of plain values stay on one line (the 12,870 logits).

    >>> print(format_json({"logits": [0.5, -1.25], "wfe": None}), end="")
    {
      "logits": [0.5, -1.25],
      "wfe": null
    }
    """
    return _format(value, 0) + "\n"


def _format(value: Any, depth: int) -> str:
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(key)}: {_format(item, depth + 1)}"
                 for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        return "[\n" + ",\n".join(inner + _format(item, depth + 1) for item in value) + \
            "\n" + pad + "]"
    return json.dumps(value, separators=(", ", ": "), allow_nan=False)


def _clean(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, floats rounded, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        items = value.tolist() if isinstance(value, np.ndarray) else value
        # the 12,870 CSCV logits: a plain float is rounded here, not through every check
        return [_clean_float(item) if type(item) is float else _clean(item) for item in items]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _clean_float(float(value))
    return value


def _clean_float(number: float) -> float | None:
    """Rounded to FLOAT_DECIMALS (-0.0 as 0.0); None for NaN and the infinities."""
    return round(number, FLOAT_DECIMALS) + 0.0 if math.isfinite(number) else None
