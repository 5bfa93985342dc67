"""Walk-forward analysis (docs/robustness.md §1, after Pardo): choose in-sample, trade the next.

Folds are laid out from the end of the data, so the latest dates are always tested: fold
k tests dates [s_k, s_k + test) with s_k = s_0 + k·step and the last test window ending on
the last date; rolling training windows are the `train` dates before s_k, anchored ones
run from the first date to s_k. The earliest (T − train − test) mod step dates are used
only by anchored training. In each fold the combo with the best metric on the training
window is chosen (ties: the lowest index, in grid order) and traded on the test window;
the test windows are disjoint, so their P&L stitches into one out-of-sample series.

>>> [(f.train_start, f.test_start, f.test_stop) for f in fold_windows(10, 4, 2, 3, False)]
[(1, 5, 7), (4, 8, 10)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from research.analysis.stats import (
    METRICS,
    SQRT_PERIODS_PER_YEAR,
    sharpe_daily,
    window_moments,
)
from research.results.daily import CENTS_PER_DOLLAR


@dataclass(frozen=True, slots=True)
class FoldWindow:
    """Row ranges of one fold, half-open: training [train_start, train_stop), test after."""

    train_start: int
    train_stop: int
    test_start: int
    test_stop: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Fold:
    """One fold as reported: dates (ISO, inclusive), the chosen combo, its metric on both."""

    train_start: str
    train_end: str
    test_start: str
    test_end: str
    combo_id: str
    params: Mapping[str, Any]
    train_metric: float
    test_metric: float

    def to_dict(self) -> dict[str, Any]:
        return {"train_start": self.train_start, "train_end": self.train_end,
                "test_start": self.test_start, "test_end": self.test_end,
                "combo_id": self.combo_id, "params": dict(self.params),
                "train_metric": self.train_metric, "test_metric": self.test_metric}


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkForward:
    """The folds and the stitched out-of-sample series' figures (§1).

    ``oos_sharpe`` is annualised; ``oos_tstat`` = mean / (sd / √n) of the stitched daily $;
    ``wfe`` = annualised OOS net $ / annualised in-sample net $ of the chosen combos, None
    when the in-sample net is <= 0 (``wfe_note`` says why). ``skipped`` names why there are
    no folds (the data are shorter than train + test); every figure is None then.
    """

    train: int
    test: int
    step: int
    anchored: bool
    metric: str
    folds: tuple[Fold, ...]
    oos_net_usd: float | None
    oos_sharpe: float | None
    oos_tstat: float | None
    is_net_usd: float | None
    wfe: float | None
    wfe_note: str | None
    distinct_choices: int | None
    choice_changes: int | None
    skipped: str | None
    oos_daily_usd: pd.Series = field(repr=False, compare=False)  # the stitched series

    def to_dict(self) -> dict[str, Any]:
        """The ``walk_forward`` section of robustness.json (the stitched series is not in it)."""
        return {"train": self.train, "test": self.test, "step": self.step,
                "anchored": self.anchored, "metric": self.metric,
                "oos_net_usd": self.oos_net_usd, "oos_sharpe": self.oos_sharpe,
                "oos_tstat": self.oos_tstat, "oos_dates": len(self.oos_daily_usd),
                "is_net_usd": self.is_net_usd, "wfe": self.wfe, "wfe_note": self.wfe_note,
                "distinct_choices": self.distinct_choices,
                "choice_changes": self.choice_changes, "skipped": self.skipped,
                "folds": [fold.to_dict() for fold in self.folds]}


def fold_windows(n_dates: int, train: int, test: int, step: int,
                 anchored: bool) -> list[FoldWindow]:
    """The folds over `n_dates` dates, the last test window ending on the last date; none
    when the data are shorter than train + test.

    >>> [(f.train_start, f.train_stop) for f in fold_windows(10, 4, 2, 3, True)]
    [(0, 5), (0, 8)]
    """
    if n_dates < train + test:
        return []
    n_folds = (n_dates - train - test) // step + 1
    first_test = n_dates - test - (n_folds - 1) * step
    starts = [first_test + k * step for k in range(n_folds)]
    return [FoldWindow(0 if anchored else start - train, start, start, start + test)
            for start in starts]


def walk_forward(cents: np.ndarray, dates: pd.DatetimeIndex, combo_ids: Sequence[str],
                 params_of: Callable[[int], Mapping[str, Any]], *, train: int, test: int,
                 step: int, anchored: bool, metric: str) -> WalkForward:
    """Walk forward over a (dates x combos) int64 matrix of daily net cents.

    >>> from research.analysis.stats import to_cents
    >>> usd = np.array([[1.0, 0.0], [1.0, 2.0], [-1.0, 2.0], [1.0, -3.0]])
    >>> wf = walk_forward(to_cents(usd), pd.date_range("2024-01-01", periods=4), ["a", "b"],
    ...                   lambda i: {}, train=2, test=1, step=1, anchored=False,
    ...                   metric="net_usd")
    >>> [f.combo_id for f in wf.folds], wf.oos_net_usd   # fold 1's tie (2 and 2) goes to a
    (['a', 'b'], -4.0)
    """
    settings = {"train": train, "test": test, "step": step, "anchored": anchored,
                "metric": metric}
    windows = fold_windows(len(dates), train, test, step, anchored)
    if not windows:
        return _skipped(settings, f"the data have {len(dates)} trading dates, fewer than "
                        f"train + test = {train + test}")
    score = METRICS[metric]
    iso = [day.date().isoformat() for day in dates]
    folds, chosen, is_net_cents, is_dates = [], [], 0, 0
    for w in windows:
        in_sample = window_moments(cents, w.train_start, w.train_stop)
        train_values = score(in_sample.n, in_sample.total, in_sample.total_sq)
        best = int(np.argmax(train_values))  # the first of equal values: lowest index
        out = window_moments(cents[:, best:best + 1], w.test_start, w.test_stop)
        folds.append(Fold(train_start=iso[w.train_start], train_end=iso[w.train_stop - 1],
                          test_start=iso[w.test_start], test_end=iso[w.test_stop - 1],
                          combo_id=combo_ids[best], params=params_of(best),
                          train_metric=float(train_values[best]),
                          test_metric=float(score(out.n, out.total, out.total_sq)[0])))
        chosen.append(best)
        is_net_cents += int(in_sample.total[best])
        is_dates += w.train_stop - w.train_start
    test_rows = np.concatenate([np.arange(w.test_start, w.test_stop) for w in windows])
    oos_cents = cents[test_rows, np.repeat(chosen, [w.test_stop - w.test_start
                                                    for w in windows])]
    return _stitched(settings, tuple(folds), chosen, oos_cents, dates[test_rows],
                     is_net_cents, is_dates)


def _stitched(settings: dict[str, Any], folds: tuple[Fold, ...], chosen: list[int],
              oos_cents: np.ndarray, oos_dates: pd.DatetimeIndex, is_net_cents: int,
              is_dates: int) -> WalkForward:
    """The stitched series' figures (§1): net $, annualised Sharpe, t-stat, WFE, stability."""
    n = len(oos_cents)
    oos_net_cents = int(oos_cents.sum())
    sharpe = float(sharpe_daily(n, np.array([oos_net_cents]),
                                np.array([int(oos_cents @ oos_cents)]))[0])
    if is_net_cents > 0:
        wfe, note = (oos_net_cents / n) / (is_net_cents / is_dates), None
    else:  # §1: a ratio over a loss would read backwards; say so instead
        sign = "-" if is_net_cents < 0 else ""
        wfe, note = None, (f"undefined: the chosen combos' in-sample net is "
                           f"{sign}${abs(is_net_cents) / CENTS_PER_DOLLAR:,.2f} (<= 0)")
    series = pd.Series(oos_cents / CENTS_PER_DOLLAR, index=oos_dates, name="oos_net_usd")
    return WalkForward(**settings, folds=folds, oos_net_usd=oos_net_cents / CENTS_PER_DOLLAR,
                       oos_sharpe=sharpe * SQRT_PERIODS_PER_YEAR,
                       oos_tstat=sharpe * math.sqrt(n),
                       is_net_usd=is_net_cents / CENTS_PER_DOLLAR, wfe=wfe, wfe_note=note,
                       distinct_choices=len(set(chosen)),
                       choice_changes=sum(a != b for a, b in zip(chosen, chosen[1:], strict=False)),
                       skipped=None, oos_daily_usd=series)


def _skipped(settings: dict[str, Any], reason: str) -> WalkForward:
    return WalkForward(**settings, folds=(), oos_net_usd=None, oos_sharpe=None,
                       oos_tstat=None, is_net_usd=None, wfe=None, wfe_note=None,
                       distinct_choices=None, choice_changes=None, skipped=reason,
                       oos_daily_usd=pd.Series([], dtype=np.float64, name="oos_net_usd",
                                               index=pd.DatetimeIndex([], name="date")))
