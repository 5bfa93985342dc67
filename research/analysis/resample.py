"""The stationary bootstrap's resamples (Politis & Romano), drawn by arch, as count rows.

``arch.bootstrap.StationaryBootstrap(block, data, seed=seed)`` draws, for each
replication, T start indices and T uniforms from ``numpy.random.default_rng(seed)`` and
turns them into a resample of the T dates; the draws depend only on T, the block length
and the seed, never on the data (``update_indices``, arch 8). So bootstrapping the dates
0..T-1 gives exactly the resamples that arch's ``SPA`` and ``conf_int`` would apply to the
(dates x combos) matrix with that seed. Row r of the count matrix says how often each date
appears in resample r; a resampled sum over dates is then counts @ values, one exact
matrix product for every combo at once (see ``spa`` and ``intervals``).
"""

from __future__ import annotations

import math

import numpy as np

BLOCK_FROM_CONFIG, BLOCK_FROM_DATA, BLOCK_FALLBACK = ("config", "optimal_block_length",
                                                      "fallback")


def stationary_counts(n_dates: int, block_length: int, reps: int, seed: int) -> np.ndarray:
    """(reps x n_dates) int64: how often each date appears in each arch resample.

    >>> counts = stationary_counts(n_dates=5, block_length=2, reps=3, seed=0)
    >>> counts.shape, counts.sum(axis=1).tolist()
    ((3, 5), [5, 5, 5])
    """
    from arch.bootstrap import StationaryBootstrap  # arch's import is heavy: only when used

    bootstrap = StationaryBootstrap(block_length, np.arange(n_dates), seed=seed)
    counts = np.empty((reps, n_dates), dtype=np.int64)
    for rep, (positional, _) in enumerate(bootstrap.bootstrap(reps)):
        counts[rep] = np.bincount(positional[0], minlength=n_dates)
    return counts


def choose_block_length(cents: np.ndarray, configured: int | None) -> tuple[int, str]:
    """The mean block length in dates, and where it came from.

    `configured` wins. Otherwise ``arch.bootstrap.optimal_block_length`` (Politis & White
    2004, corrected by Patton, Politis & White 2009; its "stationary" column) of the
    equal-weight average of all combos' daily P&L, rounded up: one length for every combo,
    because one resample is shared by all of them, and the average carries the dependence
    they have in common. 1 (an i.i.d. bootstrap) when that series has no spread or the
    estimate is not finite. Clamped to [1, T].

    >>> choose_block_length(np.zeros((10, 2), dtype=np.int64), None)
    (1, 'fallback')
    >>> choose_block_length(np.zeros((10, 2), dtype=np.int64), 3)
    (3, 'config')
    """
    if configured is not None:
        return configured, BLOCK_FROM_CONFIG
    average = cents.mean(axis=1)
    if len(average) < 2 or np.all(average == average[0]):
        return 1, BLOCK_FALLBACK
    with np.errstate(divide="ignore", invalid="ignore"):  # short, sparse series: 0/0 inside
        from arch.bootstrap import optimal_block_length

        estimate = float(optimal_block_length(average)["stationary"].iloc[0])
    if not math.isfinite(estimate):
        return 1, BLOCK_FALLBACK
    return min(max(1, math.ceil(estimate)), len(average)), BLOCK_FROM_DATA
