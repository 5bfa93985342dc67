"""The stationary bootstrap's resamples (Politis & Romano 1994), drawn as arch draws them,
as count rows.

``arch.bootstrap.StationaryBootstrap(block, data, seed=seed)`` (arch 8.0, ``base.py``:
``update_indices`` and ``_get_random_integers``; ``_samplers.pyx`` /
``_samplers_python.py``: ``stationary_bootstrap_sample``) makes ``numpy.random.
default_rng(seed)`` and, for each replication, draws T start indices
(``integers(T, size=T, dtype=int64)``) then T uniforms (``random(T)``); date i continues
the block of date i − 1 (the next date, wrapping from T − 1 to 0) when its uniform is
above p = 1 / block, else starts afresh at its own drawn index; date 0 always takes its
draw. The draws depend only on T, the block length and the seed, never on the data. So
bootstrapping the dates 0..T-1 gives exactly the resamples that arch's ``SPA`` and
``conf_int`` would apply to the (dates x combos) matrix with that seed. ``stationary_counts``
makes the same draws from the same generator in the same order, and follows the blocks
with numpy at once instead of arch's loop (the tests hold every index equal to arch's, on
many sizes, block lengths and seeds). Why our own: importing ``arch.bootstrap`` costs
~3.4 s of a sweep's start (arch.univariate, statsmodels) for these draws and the block
length (research.analysis.block_length).

Row r of the count matrix says how often each date appears in resample r; a resampled sum
over dates is then counts @ values, one exact matrix product for every combo at once (see
``spa`` and ``intervals``).
"""

from __future__ import annotations

import math

import numpy as np

from research.analysis.block_length import optimal_block_length

BLOCK_FROM_CONFIG, BLOCK_FROM_DATA, BLOCK_FALLBACK = ("config", "optimal_block_length",
                                                      "fallback")


def stationary_counts(n_dates: int, block_length: int, reps: int, seed: int) -> np.ndarray:
    """(reps x n_dates) int64: how often each date appears in each arch resample.

    >>> counts = stationary_counts(n_dates=5, block_length=2, reps=3, seed=0)
    >>> counts.shape, counts.sum(axis=1).tolist()
    ((3, 5), [5, 5, 5])
    """
    indices = stationary_indices(n_dates, block_length, reps, seed)
    offsets = (np.arange(reps, dtype=np.int64) * n_dates)[:, None]
    flat = np.bincount((indices + offsets).ravel(), minlength=reps * n_dates)
    return flat.reshape(reps, n_dates).astype(np.int64, copy=False)


def stationary_indices(n_dates: int, block_length: int, reps: int, seed: int) -> np.ndarray:
    """(reps x n_dates) int64: the dates of each resample, in order: row r is the index
    array arch's ``StationaryBootstrap(block_length, ..., seed=seed)`` applies to the data
    in its replication r (see the module).

    >>> stationary_indices(n_dates=6, block_length=3, reps=2, seed=1).tolist()  # arch's too
    [[2, 3, 4, 5, 0, 1], [0, 1, 5, 0, 5, 0]]
    """
    generator = np.random.default_rng(int(seed))  # arch: default_rng(int(seed))
    starts = np.empty((reps, n_dates), dtype=np.int64)
    uniforms = np.empty((reps, n_dates), dtype=np.float64)
    for rep in range(reps):  # arch's order: one replication's integers, then its uniforms
        starts[rep] = generator.integers(n_dates, size=n_dates, dtype=np.int64)
        uniforms[rep] = generator.random(n_dates)
    probability = 1.0 / block_length  # arch's self._p
    positions = np.arange(n_dates, dtype=np.int64)
    fresh = uniforms <= probability  # arch continues the block where u > p
    fresh[:, 0] = True
    block_start = np.maximum.accumulate(np.where(fresh, positions, 0), axis=1)
    # arch steps one date at a time and wraps T to 0: the same as (start + steps) mod T
    return (np.take_along_axis(starts, block_start, axis=1) + positions - block_start) % n_dates


def choose_block_length(cents: np.ndarray, configured: int | None) -> tuple[int, str]:
    """The mean block length in dates, and where it came from.

    `configured` wins. Otherwise the optimal block length (Politis & White 2004, corrected by
    Patton, Politis & White 2009; research.analysis.block_length, arch's "stationary"
    column) of the equal-weight average of all combos' daily P&L, rounded up: one length
    for every combo, because one resample is shared by all of them, and the average carries
    the dependence they have in common. 1 (an i.i.d. bootstrap) when that series has no
    spread or the estimate is not finite. Clamped to [1, T].

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
    estimate = optimal_block_length(average)
    if not math.isfinite(estimate):
        return 1, BLOCK_FALLBACK
    return min(max(1, math.ceil(estimate)), len(average)), BLOCK_FROM_DATA
