"""Romano & Wolf's StepM: every combo that beats not trading, the family-wise error held.

Romano & Wolf, "Stepwise Multiple Testing as Formalized Data Snooping", Econometrica 73(4),
2005 (Algorithm 4.1, studentized as their §4.2 recommends). With d_j the daily $ of combo j
(not trading is the benchmark, so the differential is the P&L itself), m_j its mean and
s_j the standard error of m_j (the stationary-bootstrap kernel variance arch's SPA uses):

1. active = every combo that trades (s_j > 0); rejected = none;
2. c = the (1 − α) quantile over the bootstrap replications of
   max over active j of (m*_j − μ_j) / s_j;
3. reject every active j with m_j / s_j > c; if none was, stop; else drop them from the
   active set and go to 2.

The rejected combos beat not trading with the family-wise error rate held at α.

Why not ``arch.bootstrap.StepM`` as it is (arch 8, read in ``StepM.compute`` and
``SPA.better_models``): it re-runs arch's SPA, whose statistic is the raw mean (arch's
``studentize`` flag only moves the "consistent" threshold), so a combo with a wide P&L
(a far target) needs a larger mean than a narrow one to be found, which Romano & Wolf's
studentization avoids; and it re-centres with the "consistent" rule (Hansen's), where
Romano & Wolf re-centre every mean (μ_j = m_j, "upper"). ``stepm(..., studentize=False,
centre="consistent")`` is arch's procedure exactly (the tests hold the sets equal with the
same seed); the default is Romano & Wolf's. The same resamples as SPA's are used
(``resample``), combos a chunk at a time, so 100,000 combos fit in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from research.analysis.spa import _centres, _kernel_weights
from research.analysis.stats import exact_matmul
from research.results.daily import CENTS_PER_DOLLAR

FWER = 0.05
CENTRES = ("lower", "consistent", "upper")
CHUNK_BYTES = 16 * 2**20


@dataclass(frozen=True, slots=True, kw_only=True)
class StepM:
    """The combos found to beat not trading (indices in grid order), and how."""

    superior: tuple[int, ...]
    size: float
    steps: int
    studentized: bool
    centre: str

    def to_dict(self, combo_ids: list[str]) -> dict[str, Any]:
        return {"size": self.size, "studentized": self.studentized, "centre": self.centre,
                "steps": self.steps, "count": len(self.superior),
                "superior": [combo_ids[i] for i in self.superior]}


def stepm(cents: np.ndarray, counts: np.ndarray, block_length: int, *, size: float = FWER,
          studentize: bool = True, centre: str = "upper") -> StepM:
    """StepM on a (dates x combos) cents matrix with the resamples `counts` (reps x dates).

    >>> from research.analysis.resample import stationary_counts
    >>> rng = np.random.default_rng(5)
    >>> cents = rng.integers(-500, 500, size=(250, 4))
    >>> cents[:, 2] += 300                          # combo 2 earns $3 a day
    >>> stepm(cents, stationary_counts(250, 2, 500, seed=0), 2).superior
    (2,)
    """
    setup = StepmSetup.of(cents, block_length, studentize=studentize, centre=centre)
    return setup.run(cents, counts, size=size)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepmSetup:
    """What every step reads: each combo's statistic m_j / s_j, its scale s_j, its centre
    μ_j, and the combos tested at the first step (`active`).

    >>> from research.analysis.resample import stationary_counts
    >>> cents = np.array([[100, 0], [300, 0], [200, 0], [250, 0]])
    >>> StepmSetup.of(cents, block_length=1).active.tolist()  # the flat combo is not tested
    [True, False]
    """

    statistic: np.ndarray
    scale: np.ndarray
    recentre: np.ndarray
    active: np.ndarray
    studentize: bool
    centre: str

    @classmethod
    def of(cls, cents: np.ndarray, block_length: int, *, studentize: bool = True,
           centre: str = "upper") -> StepmSetup:
        n_dates = cents.shape[0]
        means = cents.sum(axis=0) / (n_dates * CENTS_PER_DOLLAR)
        sd, centres = _centres(cents / CENTS_PER_DOLLAR, means,
                               _kernel_weights(n_dates, block_length))
        scale = sd if studentize else np.ones_like(sd)
        active = sd > 0 if studentize else np.ones(len(means), dtype=bool)
        statistic = np.divide(means, scale, out=np.full(len(means), -math.inf), where=active)
        return cls(statistic=statistic, scale=scale, recentre=centres[CENTRES.index(centre)],
                   active=active, studentize=studentize, centre=centre)

    def fold_first(self, maxima: np.ndarray, boot_sums: np.ndarray, start: int,
                   n_dates: int) -> None:
        """The first step's maxima over combos [start, start + chunk) into `maxima`, from
        the chunk's bootstrap sums ``counts @ cents[:, start:start + chunk]`` (shared with
        SPA and the intervals): the same numbers `_active_maxima` computes for them."""
        part = start + np.flatnonzero(self.active[start:start + boot_sums.shape[1]])
        if part.size:
            boot = boot_sums[:, part - start] / (n_dates * CENTS_PER_DOLLAR)
            np.maximum(maxima, ((boot - self.recentre[part]) / self.scale[part]).max(axis=1),
                       out=maxima)

    def run(self, cents: np.ndarray, counts: np.ndarray, *, size: float = FWER,
            first_maxima: np.ndarray | None = None) -> StepM:
        """Algorithm 4.1's steps; `first_maxima` (folded by `fold_first`) spares the first
        step's product."""
        active = self.active.copy()
        rejected = np.zeros(len(active), dtype=bool)
        steps = 0
        while active.any():
            steps += 1
            maxima = first_maxima if steps == 1 and first_maxima is not None else \
                _active_maxima(cents, counts, self.recentre, self.scale, active)
            critical = float(np.percentile(maxima, 100.0 * (1 - size)))  # arch's quantile
            new = active & (self.statistic > critical)
            if not new.any():
                break
            rejected |= new
            active &= ~new
        return StepM(superior=tuple(int(i) for i in np.flatnonzero(rejected)), size=size,
                     steps=steps, studentized=self.studentize, centre=self.centre)


def _active_maxima(cents: np.ndarray, counts: np.ndarray, centre: np.ndarray,
                   scale: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Per replication: max over the active combos of (m*_j − μ_j) / s_j."""
    n_dates = cents.shape[0]
    columns = np.flatnonzero(active)
    maxima = np.full(len(counts), -math.inf)
    chunk = max(1, CHUNK_BYTES // (8 * 3 * max(len(counts), n_dates)))
    for start in range(0, len(columns), chunk):
        part = columns[start:start + chunk]
        boot = exact_matmul(counts, cents[:, part]) / (n_dates * CENTS_PER_DOLLAR)
        np.maximum(maxima, ((boot - centre[part]) / scale[part]).max(axis=1), out=maxima)
    return maxima
