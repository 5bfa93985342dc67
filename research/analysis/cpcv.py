"""Combinatorial purged cross-validation of the selection rule "pick the best combo".

López de Prado, Advances in Financial Machine Learning (Wiley 2018), ch. 12: cut the T
dates into N contiguous groups (``numpy.array_split``: the first T mod N groups one date
longer); each of the C(N, k) choices of k test groups is a split. In a split, the rule is
trained on the other groups, less the `purge` dates just before each test group (whose
outcome could overlap the test's) and the `embargo` dates just after it (serial
dependence leaking backwards), and picks the combo with the best metric there (ties: the
lowest index); its daily $ on the test groups are that split's out-of-sample P&L.

Each group is tested in C(N − 1, k − 1) splits, so the splits' test groups assemble into
φ = k/N · C(N, k) whole back-test paths (N = 10, k = 2: 9; N = 20, k = 2: 19): path p
takes, for every group, the p-th split (in enumeration order) that tests it. The
distribution of the paths' Sharpe ratios is the out-of-sample spread of the rule, where
walk-forward gives a single path. An ORB trade opens and closes within its date, so one
date's P&L never overlaps another's; the purge and embargo guard against the dependence
between neighbouring dates (volatility clusters), not against overlapping labels.

>>> [len(paths) for paths in (path_splits(10, 2), path_splits(20, 2))]
[9, 19]
>>> train_mask(10, groups=5, test=(2,), purge=1, embargo=1).astype(int).tolist()
[1, 1, 1, 0, 0, 0, 0, 1, 1, 1]
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from research.analysis.stats import METRICS, SQRT_PERIODS_PER_YEAR, exact_matmul, sharpe_daily
from research.results.daily import CENTS_PER_DOLLAR


@dataclass(frozen=True, slots=True, kw_only=True)
class Cpcv:
    """The paths' out-of-sample figures of the selection rule (per-period Sharpe ratios)."""

    groups: int
    test_groups: int
    purge_dates: int
    embargo_dates: int
    splits: int
    paths: int
    distinct_choices: int
    median_sharpe: float | None
    prob_loss: float | None  # the share of paths whose Sharpe is below 0
    skipped: str | None
    path_sharpes: np.ndarray = field(repr=False, compare=False)
    path_net_usd: np.ndarray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The ``cpcv`` section of robustness.json (Sharpe ratios annualised alongside)."""
        return {"groups": self.groups, "test_groups": self.test_groups,
                "purge_dates": self.purge_dates, "embargo_dates": self.embargo_dates,
                "splits": self.splits, "paths": self.paths,
                "distinct_choices": self.distinct_choices,
                "median_sharpe": self.median_sharpe,
                "median_sharpe_annualised": None if self.median_sharpe is None
                else self.median_sharpe * SQRT_PERIODS_PER_YEAR,
                "prob_loss": self.prob_loss, "skipped": self.skipped,
                "path_sharpes": self.path_sharpes.tolist(),
                "path_net_usd": self.path_net_usd.tolist()}


def group_bounds(n_dates: int, groups: int) -> list[tuple[int, int]]:
    """[start, stop) rows of each group, as ``numpy.array_split`` cuts them.

    >>> group_bounds(7, 3)
    [(0, 3), (3, 5), (5, 7)]
    """
    sizes = [len(part) for part in np.array_split(np.arange(n_dates), groups)]
    stops = np.cumsum(sizes)
    return [(int(stop - size), int(stop)) for size, stop in zip(sizes, stops, strict=True)]


def path_splits(groups: int, test_groups: int) -> list[dict[int, int]]:
    """For each path, group -> the index of the split whose test set supplies it.

    >>> path_splits(3, 2)   # splits (0,1), (0,2), (1,2)
    [{0: 0, 1: 0, 2: 1}, {0: 1, 1: 2, 2: 2}]
    """
    splits = list(itertools.combinations(range(groups), test_groups))
    testing = {g: [i for i, split in enumerate(splits) if g in split] for g in range(groups)}
    n_paths = math.comb(groups - 1, test_groups - 1)
    return [{g: testing[g][p] for g in range(groups)} for p in range(n_paths)]


def train_mask(n_dates: int, *, groups: int, test: tuple[int, ...], purge: int,
               embargo: int) -> np.ndarray:
    """Rows a split trains on: not in a test group, nor `purge` rows before one, nor
    `embargo` rows after one (example: the module)."""
    mask = np.ones(n_dates, dtype=bool)
    bounds = group_bounds(n_dates, groups)
    for g in test:
        start, stop = bounds[g]
        mask[max(0, start - purge):min(n_dates, stop + embargo)] = False
    return mask


def cpcv(cents: np.ndarray, *, groups: int, test_groups: int, purge: int, embargo: int,
         metric: str) -> Cpcv:
    """CPCV of "pick the best by `metric`" on a (dates x combos) int64 cents matrix;
    skipped when a group would have fewer than two dates.

    >>> cents = np.array([[1, 0], [2, 0], [0, 1], [0, 3], [1, 0], [2, 1]] * 2)
    >>> result = cpcv(cents, groups=4, test_groups=2, purge=0, embargo=0, metric="net_usd")
    >>> result.splits, result.paths, len(result.path_net_usd)
    (6, 3, 3)
    """
    n_dates = cents.shape[0]
    settings = {"groups": groups, "test_groups": test_groups, "purge_dates": purge,
                "embargo_dates": embargo}
    if n_dates < 2 * groups:
        return _skipped(settings, f"the data have {n_dates} trading dates, fewer than two "
                        f"for each of the {groups} groups")
    splits = list(itertools.combinations(range(groups), test_groups))
    masks = np.array([train_mask(n_dates, groups=groups, test=split, purge=purge,
                                 embargo=embargo) for split in splits])
    total = exact_matmul(masks.astype(np.int64), cents)
    total_sq = exact_matmul(masks.astype(np.int64), cents * cents)
    n_train = masks.sum(axis=1)
    score = METRICS[metric]
    chosen = np.array([int(np.argmax(score(int(n), total[i], total_sq[i])))
                       for i, n in enumerate(n_train)])
    bounds = group_bounds(n_dates, groups)
    sharpes, nets = [], []
    for path in path_splits(groups, test_groups):
        series = np.concatenate([cents[start:stop, chosen[path[g]]]
                                 for g, (start, stop) in enumerate(bounds)])
        sharpes.append(float(sharpe_daily(len(series), np.array([int(series.sum())]),
                                          np.array([int(series @ series)]))[0]))
        nets.append(int(series.sum()) / CENTS_PER_DOLLAR)
    path_sharpes = np.array(sharpes)
    return Cpcv(**settings, splits=len(splits), paths=len(path_sharpes),
                distinct_choices=len(set(chosen.tolist())),
                median_sharpe=float(np.median(path_sharpes)),
                prob_loss=float(np.mean(path_sharpes < 0)), skipped=None,
                path_sharpes=path_sharpes, path_net_usd=np.array(nets))


def _skipped(settings: dict[str, int], reason: str) -> Cpcv:
    empty = np.empty(0)
    return Cpcv(**settings, splits=0, paths=0, distinct_choices=0, median_sharpe=None,
                prob_loss=None, skipped=reason, path_sharpes=empty, path_net_usd=empty)
