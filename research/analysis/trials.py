"""How many tries: the effective number of tests and the null spread of the trials' Sharpes.

Both come from the correlation of the daily matrix's columns, which a planted or real edge
(a shift of some combos' means) does not change, so neither can be inflated by the edge
the tests are looking for.

- **Effective number of tests** (Li & Ji, "Adjusting multiple testing in multi-locus
  analyses using the eigenvalues of a correlation matrix", Heredity 95, 2005, eq. 5):
  M_eff = Σ_i f(|λ_i|), f(x) = 1[x >= 1] + (x − ⌊x⌋), over the eigenvalues λ of the N x N
  correlation matrix. N identical combos give 1, N uncorrelated ones N. The non-zero
  eigenvalues of Z'Z (N x N, Z the T x N standardised matrix) are those of ZZ' (T x T),
  so 100,000 combos cost one T x T matrix; M_eff is therefore at most T − 1.
- **The null variance of the trials' Sharpe ratios**: under "no combo has an edge" each
  per-period Sharpe estimate has variance ≈ 1 / (T − 1) (the PSR formula at SR = 0;
  Lo 2002), and N estimates with average pairwise correlation ρ̄ have an expected
  cross-sectional variance of (1 − ρ̄) / (T − 1). DSR's threshold uses it (see sharpe.py).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> base = rng.integers(-100, 100, (250, 1))
>>> same = np.hstack([base, base, base])                 # three copies of one try
>>> round(correlation_summary(same).effective_trials, 6)
1.0
>>> independent = rng.integers(-100, 100, (250, 3))
>>> round(correlation_summary(independent).effective_trials)
3
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ESTIMATOR = "Li & Ji (2005) eigenvalue effective number of tests"
CHUNK_COLUMNS = 4096  # standardised columns at a time: T x 4,096 float64 is 8 MB a year


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationSummary:
    """What the correlation of the combos' daily P&L says about the number of tries.

    ``varying`` counts the combos whose P&L varies (a flat combo has no correlation);
    ``mean_correlation`` is ρ̄ over their pairs; ``effective_trials`` is Li & Ji's M_eff.
    """

    varying: int
    mean_correlation: float
    effective_trials: float

    def null_sharpe_variance(self, n_dates: int) -> float:
        """(1 − ρ̄) / (T − 1): the spread the trials' Sharpes would have with no edge.

        >>> CorrelationSummary(varying=10, mean_correlation=0.5,
        ...                    effective_trials=4.0).null_sharpe_variance(101)
        0.005
        """
        if math.isnan(self.mean_correlation):  # fewer than two combos vary: no spread to model
            return math.nan
        return max(0.0, 1.0 - self.mean_correlation) / max(n_dates - 1, 1)


def correlation_summary(cents: np.ndarray) -> CorrelationSummary:
    """ρ̄ and M_eff of a (dates x combos) matrix (examples: the module)."""
    n_dates = cents.shape[0]
    gram = np.zeros((n_dates, n_dates))
    column_sum = np.zeros(n_dates)
    varying = 0
    for start in range(0, cents.shape[1], CHUNK_COLUMNS):
        z = _standardised(cents[:, start:start + CHUNK_COLUMNS])
        varying += z.shape[1]
        gram += z @ z.T
        column_sum += z.sum(axis=1)
    if varying == 0:
        return CorrelationSummary(varying=0, mean_correlation=math.nan, effective_trials=0.0)
    mean_corr = (float(column_sum @ column_sum) - varying) / (varying * (varying - 1)) \
        if varying > 1 else math.nan
    eigenvalues = np.abs(np.linalg.eigvalsh(gram))
    eigenvalues = eigenvalues[eigenvalues > 1e-9 * varying]  # rounding, not dimensions
    effective = float(np.sum((eigenvalues >= 1) + (eigenvalues - np.floor(eigenvalues))))
    return CorrelationSummary(varying=varying, mean_correlation=mean_corr,
                              effective_trials=min(effective, float(varying)))


def _standardised(cents: np.ndarray) -> np.ndarray:
    """Columns centred and scaled to unit length (so Z'Z is the correlation matrix); flat
    columns dropped."""
    values = cents.astype(np.float64)
    values -= values.mean(axis=0)
    norms = np.sqrt(np.einsum("tc,tc->c", values, values))
    keep = norms > 0
    return values[:, keep] / norms[keep]
