"""Harvey & Liu's haircut Sharpe ratio of the judged combo (Bonferroni, Holm, BHY).

Harvey & Liu, "Backtesting", Journal of Portfolio Management 42(1), 2015: turn the
winner's Sharpe into a t-statistic, adjust its p-value for the M tests tried, and turn the
adjusted p-value back into the Sharpe ratio it would take to have it. The haircut is the
share of the Sharpe that the adjustment takes away.

- t_j = SR_j·√T (per-period Sharpe, T dates); p_j = 2·(1 − Φ(t_j)) for SR_j > 0 (two-sided
  as in the paper), 1 for a combo that does not beat zero;
- M: the number of tries (the ledger's by default); the M − N tries not in this sweep's
  matrix are counted with p = 1, which can only make the adjustment milder than the truth
  for Holm and BHY (never for Bonferroni);
- Bonferroni: min(1, M·p); Holm: max over i <= r of min(1, (M − i + 1)·p_(i)); BHY
  (Benjamini, Hochberg & Yekutieli): min over i >= r of min(1, M·c(M)·p_(i)/i),
  c(M) = Σ_{i<=M} 1/i; r the winner's rank among the ascending p-values;
- haircut Sharpe = Φ⁻¹(1 − p_adj/2)/√T; haircut = 1 − haircut Sharpe / Sharpe.

>>> import numpy as np
>>> h = haircut(np.array([0.2, 0.0, -0.1]), winner=0, n_dates=100, n_tests=3)
>>> round(h.pvalue, 6), round(h.bonferroni.pvalue, 6)       # t = 2: p = 0.0455
(0.0455, 0.136501)
>>> round(h.bonferroni.sharpe, 4)
0.1489
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from research.analysis.normal import normal_isf, normal_sf_array

METHODS = ("bonferroni", "holm", "bhy")


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjusted:
    """One method's adjusted p-value, the Sharpe (per period) it leaves, and the haircut."""

    pvalue: float
    sharpe: float
    haircut: float | None  # None when the winner's Sharpe is not above 0

    def to_dict(self) -> dict[str, Any]:
        return {"pvalue": self.pvalue, "sharpe": self.sharpe, "haircut": self.haircut}


@dataclass(frozen=True, slots=True, kw_only=True)
class Haircut:
    """The winner's unadjusted t and p, and each method's adjustment for `n_tests` tries."""

    sharpe: float
    tstat: float
    pvalue: float
    n_tests: int
    bonferroni: Adjusted
    holm: Adjusted
    bhy: Adjusted

    def to_dict(self) -> dict[str, Any]:
        return {"sharpe": self.sharpe, "tstat": self.tstat, "pvalue": self.pvalue,
                "n_tests": self.n_tests,
                **{method: getattr(self, method).to_dict() for method in METHODS}}


def pvalues_of(sharpes: np.ndarray, n_dates: int) -> np.ndarray:
    """Two-sided p-values of per-period Sharpe ratios over `n_dates` dates (1 where <= 0).

    >>> pvalues_of(np.array([0.2, -0.2]), 100).round(4).tolist()
    [0.0455, 1.0]
    """
    tstat = np.asarray(sharpes, dtype=np.float64) * math.sqrt(n_dates)
    return np.where(tstat > 0, 2 * normal_sf_array(tstat), 1.0)


def haircut(sharpes: np.ndarray, winner: int, n_dates: int, n_tests: int) -> Haircut:
    """The haircut of combo `winner` among the per-period `sharpes` of this sweep's combos,
    adjusted for `n_tests` (>= len(sharpes)) tries. Example: the module."""
    n_tests = max(int(n_tests), len(sharpes))
    pvalues = pvalues_of(sharpes, n_dates)
    ordered = np.sort(pvalues)
    own = float(pvalues[winner])
    rank = int(np.searchsorted(ordered, own, side="left")) + 1  # the first of equal p's
    i = np.arange(1, len(ordered) + 1)
    holm = float(np.max(np.minimum(1.0, (n_tests - i[:rank] + 1) * ordered[:rank])))
    c_m = float(np.sum(1.0 / np.arange(1, n_tests + 1)))
    bhy = float(min(1.0, np.min(n_tests * c_m * ordered[rank - 1:] / i[rank - 1:])))
    sharpe = float(sharpes[winner])
    adjusted = {"bonferroni": min(1.0, n_tests * own), "holm": holm, "bhy": bhy}
    return Haircut(sharpe=sharpe, tstat=sharpe * math.sqrt(n_dates), pvalue=own,
                   n_tests=n_tests,
                   **{method: _adjusted(p, sharpe, n_dates) for method, p in adjusted.items()})


def _adjusted(pvalue: float, sharpe: float, n_dates: int) -> Adjusted:
    left = normal_isf(pvalue / 2) / math.sqrt(n_dates) if pvalue < 1 else 0.0
    left = max(left, 0.0)
    return Adjusted(pvalue=pvalue, sharpe=left,
                    haircut=1.0 - left / sharpe if sharpe > 0 else None)
