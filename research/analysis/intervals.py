"""Stationary-bootstrap 95 % intervals of each combo's daily mean $ and Sharpe (§5).

The same numbers as ``arch.bootstrap.StationaryBootstrap(block, matrix, seed=seed)
.conf_int(func, reps, method="percentile")`` with ``func`` the vector of every combo's mean
and annualised Sharpe: one resample of the dates per replication, shared by all combos,
and the 2.5 % / 97.5 % percentiles (numpy's linear interpolation, as arch) of each
statistic over the replications. Here the resamples (``resample``) enter as a count
matrix, so a replication's sums are one exact matrix product, and combos are taken a
chunk at a time: memory stays near CHUNK_BYTES, and the tests hold the bounds equal to
arch's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from research.analysis.stats import SQRT_PERIODS_PER_YEAR, exact_matmul, sharpe_daily
from research.results.daily import CENTS_PER_DOLLAR

CONFIDENCE = 0.95
CHUNK_BYTES = 16 * 2**20  # working memory of one chunk of combos (measured fastest here)
_ARRAYS_PER_CHUNK = 8  # (reps x combos) arrays alive at once, with sharpe_daily's temps
_PERCENTILES = (100 * (1 - CONFIDENCE) / 2, 100 * (1 + CONFIDENCE) / 2)


@dataclass(frozen=True, slots=True)
class Intervals:
    """Per combo: the bounds of the daily mean $ and of the annualised Sharpe."""

    mean_low: np.ndarray
    mean_high: np.ndarray
    sharpe_low: np.ndarray
    sharpe_high: np.ndarray


def bootstrap_intervals(cents: np.ndarray, counts: np.ndarray) -> Intervals:
    """Percentile intervals for a (dates x combos) cents matrix, resamples `counts`.

    >>> from research.analysis.resample import stationary_counts
    >>> cents = np.array([[100, 0], [-50, 0], [200, 0], [0, 0], [150, 0]])
    >>> ci = bootstrap_intervals(cents, stationary_counts(5, 1, 500, seed=0))
    >>> bool(ci.mean_low[0] < 0.8 < ci.mean_high[0])   # the mean is $0.80
    True
    >>> float(ci.mean_low[1]), float(ci.sharpe_high[1])  # never traded: no spread at all
    (0.0, 0.0)
    """
    n_dates, n_combos = cents.shape
    chunk = max(1, CHUNK_BYTES // (_ARRAYS_PER_CHUNK * 8 * max(len(counts), n_dates)))
    bounds = []
    for start in range(0, n_combos, chunk):
        part = cents[:, start:start + chunk]
        bounds.append(chunk_bounds(part, counts, exact_matmul(counts, part)))
    return intervals_of(bounds)


def chunk_bounds(part: np.ndarray, counts: np.ndarray, boot_sums: np.ndarray) -> np.ndarray:
    """(4 x chunk) bounds of one chunk of combos, given its bootstrap sums ``counts @ part``
    (research.analysis.bootstrap shares them with SPA and StepM). Each column's bounds
    depend on that column alone, so any cut into chunks gives the same numbers.

    >>> from research.analysis.resample import stationary_counts
    >>> part = np.array([[100], [-50], [200]])
    >>> counts = stationary_counts(3, 1, 50, seed=0)
    >>> chunk_bounds(part, counts, exact_matmul(counts, part)).shape
    (4, 1)
    """
    n_dates = len(part)
    total_sq = exact_matmul(counts, part * part)
    means = boot_sums / (n_dates * CENTS_PER_DOLLAR)
    sharpes = sharpe_daily(n_dates, boot_sums, total_sq) * SQRT_PERIODS_PER_YEAR
    return np.vstack([np.percentile(means, _PERCENTILES, axis=0),
                      np.percentile(sharpes, _PERCENTILES, axis=0)])


def intervals_of(bounds: list[np.ndarray]) -> Intervals:
    """The chunks' bounds, in combo order, as Intervals.

    >>> intervals_of([]).mean_low.shape
    (0,)
    """
    return Intervals(*(np.hstack(bounds) if bounds else np.empty((4, 0))))
