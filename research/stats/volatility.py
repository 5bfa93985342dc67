"""The volatility state of a trading date: the tercile of its prior 20 days' range.

A date's range is its bars' highest high less their lowest low (one contract: the data's
contract is constant within a date). Its prior range is the mean of the ranges of the
LOOKBACK_DAYS weekday trading dates before it in the data (weekend labels, the Sunday
evening's few hours, are left out); a date with fewer before it is not classified. The
classified dates are cut into terciles by rank (ties by date): the third with the smallest
prior range is "low", the next "mid", the rest "high". The cut uses the whole sample, so it
describes, it does not forecast (as Lundström 2013 splits ORB returns by volatility state).

>>> import numpy as np
>>> states = tercile_states(np.array([np.nan, 3.0, 1.0, 2.0, 6.0, 5.0, 4.0]))
>>> [STATE_NAMES.get(int(s), "-") for s in states]
['-', 'mid', 'low', 'low', 'high', 'high', 'mid']
"""

from __future__ import annotations

import numpy as np

from research.engine.bars import Bars
from research.engine.clock import weekday_of

LOOKBACK_DAYS = 20
UNCLASSIFIED, LOW, MID, HIGH = -1, 0, 1, 2
STATE_NAMES = {LOW: "low", MID: "mid", HIGH: "high"}


def daily_ranges(bars: Bars) -> tuple[np.ndarray, np.ndarray]:
    """The weekday trading dates (day numbers) and each one's high - low, in ticks.

    >>> from research import prepare_bars, synthetic_bars
    >>> days, ranges = daily_ranges(prepare_bars(synthetic_bars("ES", "2024-01-08",
    ...                                                         "2024-01-09"), "ES"))
    >>> len(days), bool((ranges > 0).all())  # 01-09 from 23:00 is dated 01-10 (§5.1)
    (3, True)
    """
    labels = np.asarray(bars.trading_day, np.int64)
    if not len(labels):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])  # labels never decrease
    days = labels[starts]
    ranges = (np.maximum.reduceat(bars.high_ticks, starts)
              - np.minimum.reduceat(bars.low_ticks, starts))
    weekday = weekday_of(days) < 5
    return days[weekday], ranges[weekday].astype(np.int64)


def prior_mean_ranges(ranges: np.ndarray, lookback_days: int = LOOKBACK_DAYS) -> np.ndarray:
    """Each date's mean range over the `lookback_days` dates before it; NaN with fewer.

    >>> prior_mean_ranges(np.array([2, 4, 6, 8]), lookback_days=2).tolist()
    [nan, nan, 3.0, 5.0]
    """
    out = np.full(len(ranges), np.nan)
    if len(ranges) > lookback_days:
        sums = np.concatenate([[0], np.cumsum(ranges, dtype=np.float64)])
        out[lookback_days:] = (sums[lookback_days:-1] - sums[:-lookback_days - 1]) / lookback_days
    return out


def tercile_states(prior: np.ndarray) -> np.ndarray:
    """LOW, MID or HIGH by rank among the non-NaN values (ties: the earlier date ranks
    lower), UNCLASSIFIED for NaN.

    >>> tercile_states(np.array([np.nan, 2.0, 2.0, 1.0])).tolist()
    [-1, 1, 2, 0]
    """
    states = np.full(len(prior), UNCLASSIFIED, np.int8)
    classified = np.flatnonzero(~np.isnan(prior))
    order = classified[np.argsort(prior[classified], kind="stable")]
    states[order] = (3 * np.arange(len(order)) // max(len(order), 1)).astype(np.int8)
    return states


def volatility_states(bars: Bars, lookback_days: int = LOOKBACK_DAYS,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The weekday trading dates of `bars` and each one's state (LOW, MID, HIGH or
    UNCLASSIFIED).

    >>> from research import prepare_bars, synthetic_bars
    >>> bars = prepare_bars(synthetic_bars("ES", "2024-01-01", "2024-03-29"), "ES")
    >>> days, states = volatility_states(bars)
    >>> int((states == UNCLASSIFIED).sum()), sorted(set(states.tolist()))
    (20, [-1, 0, 1, 2])
    """
    days, ranges = daily_ranges(bars)
    return days, tercile_states(prior_mean_ranges(ranges, lookback_days))


def states_of(days: np.ndarray, state_days: np.ndarray, states: np.ndarray) -> np.ndarray:
    """The state of each of `days` (UNCLASSIFIED where `state_days` lacks the date).

    >>> states_of(np.array([5, 7, 9]), np.array([5, 9]), np.array([LOW, HIGH])).tolist()
    [0, -1, 2]
    """
    out = np.full(len(days), UNCLASSIFIED, np.int8)
    if not len(state_days):
        return out
    at = np.minimum(np.searchsorted(state_days, days), len(state_days) - 1)
    found = state_days[at] == days
    out[found] = states[at[found]]
    return out
