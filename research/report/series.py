"""What the report derives from the daily net $ matrix: equity, drawdown, months, the
walk-forward's stitched out-of-sample series and the two-halves rank comparison.

Equity starts at 0 and its peak includes that start, as in metrics.py, so the deepest
drawdown here is the summary's ``max_drawdown_usd``.

>>> days = pd.Series([100.0, -250.0, 50.0, 300.0],
...                  index=pd.to_datetime(["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"]))
>>> equity_curve(days).tolist(), drawdown(equity_curve(days)).tolist()
([100.0, -150.0, -100.0, 200.0], [0.0, -250.0, -200.0, 0.0])
>>> monthly_pnl(days)[["Jan", "Feb", "Mar", "year"]]
        Jan    Feb  Mar   year
2024 -150.0  350.0  NaN  200.0
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.report.results_folder import Fold

MONTHS = tuple(calendar.month_abbr[1:])


def equity_curve(daily_usd: pd.Series) -> pd.Series:
    """Cumulative net $ after each trading date."""
    return daily_usd.cumsum()


def drawdown(equity_usd: pd.Series) -> pd.Series:
    """$ below the running peak (0 or negative); the peak starts at 0."""
    return equity_usd - np.maximum(equity_usd.cummax(), 0.0)


def monthly_pnl(daily_usd: pd.Series) -> pd.DataFrame:
    """Net $ per calendar month: one row per year, Jan..Dec (NaN: no trading date) and
    the year's total."""
    index = pd.DatetimeIndex(daily_usd.index)
    years = index.year.to_numpy()
    first = int(years.min()) if len(years) else 0
    n_years = int(years.max()) - first + 1 if len(years) else 0
    slots = (years - first) * 12 + index.month.to_numpy() - 1
    values = daily_usd.to_numpy(np.float64)
    sums = np.bincount(slots, weights=values, minlength=n_years * 12).reshape(n_years, 12)
    dates = np.bincount(slots, minlength=n_years * 12).reshape(n_years, 12)
    table = pd.DataFrame(np.where(dates > 0, sums, np.nan), columns=list(MONTHS),
                         index=list(range(first, first + n_years)))
    table["year"] = sums.sum(axis=1)
    return table[dates.sum(axis=1) > 0]


@dataclass(frozen=True, slots=True, eq=False)
class Stitched:
    """The walk-forward's out-of-sample net $ per test date, beside the in-sample best's
    on the same dates; `skipped` folds name a combo the daily matrix lacks."""

    walk_forward_usd: pd.Series
    in_sample_best_usd: pd.Series
    skipped: tuple[int, ...]


def stitched_out_of_sample(daily: pd.DataFrame, folds: Sequence[Fold],
                           best_combo_id: str) -> Stitched:
    """Each fold's chosen combo on its test window, in fold order (windows are disjoint).

    >>> m = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [10.0, 20.0, 30.0, 40.0]},
    ...                  index=pd.date_range("2024-01-01", periods=4))
    >>> d = m.index
    >>> folds = [Fold(d[0], d[1], d[2], d[2], "b", {}, None, None),
    ...          Fold(d[1], d[2], d[3], d[3], "a", {}, None, None)]
    >>> s = stitched_out_of_sample(m, folds, best_combo_id="b")
    >>> s.walk_forward_usd.tolist(), s.in_sample_best_usd.tolist()
    ([30.0, 4.0], [30.0, 40.0])
    """
    parts, skipped = [], []
    for number, fold in enumerate(folds, 1):
        window = (daily.index >= fold.test_start) & (daily.index <= fold.test_end)
        if fold.combo_id not in daily.columns:
            skipped.append(number)
            continue
        parts.append(daily.loc[window, fold.combo_id])
    chosen = pd.concat(parts) if parts else pd.Series(dtype=np.float64)
    chosen = chosen[~chosen.index.duplicated()]
    best = (daily[best_combo_id].reindex(chosen.index) if best_combo_id in daily.columns
            else pd.Series(np.nan, index=chosen.index))
    return Stitched(chosen.rename("walk-forward"), best.rename("in-sample best"),
                    tuple(skipped))


@dataclass(frozen=True, slots=True, eq=False)
class HalfRanks:
    """Each combo's rank by net $ on the first and on the second half of the dates (1 =
    best), and Spearman's correlation between them."""

    first: pd.Series
    second: pd.Series
    spearman: float
    split_date: pd.Timestamp | None


def half_ranks(daily: pd.DataFrame) -> HalfRanks:
    """Rank every combo on each half of the trading dates.

    >>> m = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 0.0, 9.0, 9.0]},
    ...                  index=pd.date_range("2024-01-01", periods=4))
    >>> r = half_ranks(m)
    >>> r.first.tolist(), r.second.tolist(), round(r.spearman, 6)
    ([1.0, 2.0], [2.0, 1.0], -1.0)
    """
    half = len(daily) // 2
    first = daily.iloc[:half].sum().rank(ascending=False, method="average")
    second = daily.iloc[half:].sum().rank(ascending=False, method="average")
    spearman = float(first.corr(second)) if len(first) >= 2 else float("nan")
    split = daily.index[half] if 0 < half < len(daily) else None
    return HalfRanks(first, second, spearman, split)
