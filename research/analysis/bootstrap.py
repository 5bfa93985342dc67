"""SPA, StepM's first step and the intervals from one bootstrap product (§4, §4.1, §5).

All three read the same resampled sums: ``counts @ cents`` for the shared resamples
(``resample``), each combo's sum of cents in each replication. Computed by each on its
own, that product (reps x dates x combos: 1,000 x 252 x 100,000 is 25 billion
multiply-adds) was the analysis' largest cost after CSCV, three times over. Here combos
are taken a chunk at a time (SPA's chunks, `spa.spa_chunk`), the chunk's product is
computed once (`bootstrap_sums`) and handed to SPA's running maxima, StepM's first step
and the intervals' bounds; StepM's later steps, over the combos still untested, multiply
only those. The product is exact (integer cents, ``stats.exact_matmul``) and each
consumer does the same arithmetic on it as alone, so the results are the same bits as
`spa_test`, `stepm` and `bootstrap_intervals` called one by one (the tests hold them
equal on random matrices).

>>> from research.analysis.resample import stationary_counts
>>> cents = np.random.default_rng(5).integers(-500, 500, size=(250, 4))
>>> cents[:, 2] += 300                          # combo 2 earns $3 a day
>>> tests = bootstrap_tests(cents, stationary_counts(250, 2, 500, seed=0), block_length=2)
>>> tests.stepm.superior, tests.spa.pvalue < 0.05, bool(tests.intervals.mean_low[2] > 0)
((2,), True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from research.analysis.intervals import Intervals, chunk_bounds, intervals_of
from research.analysis.spa import Spa, SpaPass, spa_chunk
from research.analysis.stats import exact_matmul
from research.analysis.stepm import StepM, StepmSetup


@dataclass(frozen=True, slots=True)
class BootstrapTests:
    """What the shared resamples say: SPA, StepM's superior combos, each combo's intervals."""

    spa: Spa
    stepm: StepM
    intervals: Intervals


def bootstrap_tests(cents: np.ndarray, counts: np.ndarray, block_length: int
                    ) -> BootstrapTests:
    """SPA, StepM (Romano & Wolf's defaults) and the intervals of a (dates x combos) cents
    matrix with the resamples `counts` (reps x dates), one product per chunk of combos."""
    n_dates, n_combos = cents.shape
    reps = len(counts)
    spa = SpaPass(n_dates, reps, block_length)
    superior = StepmSetup.of(cents, block_length)
    first_maxima = np.full(reps, -math.inf)
    bounds = []
    chunk = spa_chunk(n_dates, reps)
    for start in range(0, n_combos, chunk):
        part = cents[:, start:start + chunk]
        sums = bootstrap_sums(counts, part)  # the one product, read three times
        spa.add(part, sums)
        superior.fold_first(first_maxima, sums, start, n_dates)
        bounds.append(chunk_bounds(part, counts, sums))
    return BootstrapTests(spa=spa.result(),
                          stepm=superior.run(cents, counts, first_maxima=first_maxima),
                          intervals=intervals_of(bounds))


def bootstrap_sums(counts: np.ndarray, part: np.ndarray) -> np.ndarray:
    """Each replication's sum of cents for each combo of `part`: ``counts @ part``, exact.

    >>> bootstrap_sums(np.array([[2, 0], [1, 1]]), np.array([[100], [-40]])).tolist()
    [[200.0], [60.0]]
    """
    return exact_matmul(counts, part)
