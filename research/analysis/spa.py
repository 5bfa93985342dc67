"""White's Reality Check / Hansen's SPA test of the best combo against not trading (§4).

The statistic is arch's: ``arch.bootstrap.SPA(benchmark, models, block_size, reps,
bootstrap="stationary", seed=seed)`` with benchmark losses 0 (not trading) and model losses
−P&L, so the loss differentials d are the daily P&L in dollars. With arch 8 (its
``_simulate_values``, ``_compute_variance``, ``_check_column_validity`` and ``compute``):

- the test statistic is max_j mean(d_j);
- each replication r gives max_j (mean(d*_rj) − μ_j) for three re-centrings μ: "upper"
  μ_j = mean(d_j); "consistent" the same but 0 for a combo far below the benchmark
  (mean(d_j) < −√(ω²_j / T · 2 ln ln T), ω²_j the stationary-bootstrap kernel variance);
  "lower" 0 for every combo with mean(d_j) < 0;
- each p-value is the share of replications whose maximum exceeds the statistic.
(arch 8 uses the variance only in that threshold; its ``studentize`` flag changes nothing
else: checked in ``SPA.compute`` and ``_simulate_values``, which never divide by it.) So
arch's p-values are those of the raw statistic. Hansen (2005, eq. 6-7) studentizes:
T = max(max_j √T·mean(d_j)/ω_j, 0) against replications max(max_j √T·(mean(d*_j) − μ_j)/ω_j,
0), ω_j² the same kernel variance; a combo with ω_j = 0 (never trades) is left out of it.
Both come from the same resamples in one pass. arch keeps a (combos x reps x 3) array and
copies the matrix once per replication: 10,000 combos take 9 s and 240 MB there. Here the
same resamples (``resample``) enter as one count matrix, combos are taken a chunk at a time
and only the running maxima are kept, so memory stays near CHUNK_BYTES. The tests hold the
raw p-values equal to arch's, the studentized ones to a hand computation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from research.analysis.stats import exact_matmul
from research.results.daily import CENTS_PER_DOLLAR

CHUNK_BYTES = 16 * 2**20  # working memory of one chunk of combos (measured fastest here)
_ARRAYS_PER_CHUNK = 4  # (reps x combos) arrays alive at once in _chunk_maxima


@dataclass(frozen=True, slots=True, kw_only=True)
class Spa:
    """The three SPA p-values of the raw statistic (arch's; ``pvalue`` is the consistent
    one) and of Hansen's studentized one (``studentized``: lower, consistent, upper)."""

    pvalue: float
    pvalue_lower: float
    pvalue_upper: float
    reps: int
    block_length: int
    studentized: tuple[float, float, float] = (math.nan, math.nan, math.nan)

    @property
    def pvalue_studentized(self) -> float:
        """Hansen's consistent p-value of the studentized statistic."""
        return self.studentized[1]

    def to_dict(self) -> dict[str, Any]:
        return {"lower": self.pvalue_lower, "consistent": self.pvalue,
                "upper": self.pvalue_upper}

    def studentized_dict(self) -> dict[str, Any]:
        lower, consistent, upper = self.studentized
        return {"lower": lower, "consistent": consistent, "upper": upper}


def spa_test(cents: np.ndarray, counts: np.ndarray, block_length: int) -> Spa:
    """SPA on a (dates x combos) cents matrix with the resamples `counts` (reps x dates).

    >>> rng = np.random.default_rng(1)
    >>> cents = rng.integers(-500, 500, size=(60, 4))
    >>> from research.analysis.resample import stationary_counts
    >>> spa = spa_test(cents, stationary_counts(60, 3, 200, seed=0), block_length=3)
    >>> 0 <= spa.pvalue_lower <= spa.pvalue <= spa.pvalue_upper <= 1
    True
    """
    n_dates, n_combos = cents.shape
    running = SpaPass(n_dates, len(counts), block_length)
    chunk = spa_chunk(n_dates, len(counts))
    for start in range(0, n_combos, chunk):
        part = cents[:, start:start + chunk]
        running.add(part, exact_matmul(counts, part))
    return running.result()


def spa_chunk(n_dates: int, reps: int) -> int:
    """Combos per chunk: _ARRAYS_PER_CHUNK (reps x combos) arrays within CHUNK_BYTES.

    >>> spa_chunk(252, 1000)
    524
    """
    return max(1, CHUNK_BYTES // (_ARRAYS_PER_CHUNK * 8 * max(reps, n_dates)))


class SpaPass:
    """SPA's running maxima, fed one chunk of combos at a time with the chunk's bootstrap
    sums (``counts @ part``, which the intervals and StepM read too: research.analysis.
    bootstrap computes it once for all three). The result does not depend on where chunks
    are cut but for `_centres`, which the chunks of `spa_chunk` keep as they always were.

    >>> from research.analysis.resample import stationary_counts
    >>> cents = np.random.default_rng(1).integers(-500, 500, size=(60, 4))
    >>> counts = stationary_counts(60, 3, 200, seed=0)
    >>> running = SpaPass(60, 200, block_length=3)
    >>> running.add(cents, exact_matmul(counts, cents))
    >>> running.result() == spa_test(cents, counts, 3)
    True
    """

    def __init__(self, n_dates: int, reps: int, block_length: int) -> None:
        self.n_dates, self.reps, self.block_length = n_dates, reps, block_length
        self.kernel = _kernel_weights(n_dates, block_length)
        self.statistic, self.statistic_t = -math.inf, 0.0  # Hansen floors the studentized at 0
        self.maxima = np.full((reps, 3), -math.inf)
        self.maxima_t = np.zeros((reps, 3))

    def add(self, part: np.ndarray, boot_sums: np.ndarray) -> None:
        """One chunk of combos (dates x chunk cents) and its bootstrap sums (reps x chunk)."""
        n_dates, maxima, maxima_t = self.n_dates, self.maxima, self.maxima_t
        means = part.sum(axis=0) / (n_dates * CENTS_PER_DOLLAR)
        self.statistic = max(self.statistic, float(means.max()))
        sd, centres = _centres(part / CENTS_PER_DOLLAR, means, self.kernel)
        boot_means = boot_sums / (n_dates * CENTS_PER_DOLLAR)
        scale = np.where(sd > 0, sd, math.inf)  # a flat combo: out of the studentized test
        self.statistic_t = max(self.statistic_t, float((means / scale).max()))
        for kind, centre in enumerate(centres):
            deviation = boot_means - centre
            np.maximum(maxima[:, kind], deviation.max(axis=1), out=maxima[:, kind])
            np.maximum(maxima_t[:, kind], (deviation / scale).max(axis=1),
                       out=maxima_t[:, kind])

    def result(self) -> Spa:
        lower, consistent, upper = (self.maxima > self.statistic).mean(axis=0)
        studentized = tuple(float(p) for p in (self.maxima_t > self.statistic_t).mean(axis=0))
        return Spa(pvalue=float(consistent), pvalue_lower=float(lower),
                   pvalue_upper=float(upper), reps=self.reps, block_length=self.block_length,
                   studentized=studentized)


def _centres(usd: np.ndarray, means: np.ndarray, kernel: np.ndarray
             ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The standard error of each combo's mean (ω_j / √T), and the lower, consistent and
    upper re-centring of its bootstrap mean."""
    n_dates = len(usd)
    demeaned = usd - means
    # arch's variance: Σ_t Σ_s κ_|t−s| d_t d_s / T, κ_0 = 1 (a quadratic form, one product)
    variance = np.einsum("tc,tc->c", demeaned, kernel @ demeaned) / n_dates
    with np.errstate(invalid="ignore"):  # ln ln T < 0 for T < 3: nothing is "valid"
        threshold = -np.sqrt(variance / n_dates * 2 * np.log(np.log(n_dates)))
    consistent = np.where(means >= threshold, means, 0.0)
    standard_error = np.sqrt(np.maximum(variance, 0.0) / n_dates)
    return standard_error, (np.maximum(means, 0.0), consistent, means)


def _kernel_weights(n_dates: int, block_length: int) -> np.ndarray:
    """κ_i = (1 − i/T)(1 − p)^i + (i/T)(1 − p)^(T−i), p = 1 / block (Politis & Romano),
    laid out as the symmetric (T x T) matrix of κ_|t−s|."""
    p = 1.0 / block_length
    lag = np.arange(n_dates)
    kappa = (1 - lag / n_dates) * (1 - p) ** lag + (lag / n_dates) * (1 - p) ** (n_dates - lag)
    kappa[0] = 1.0
    return kappa[np.abs(lag[:, None] - lag[None, :])]
