"""The breakout pass: for every (range definition, trading date), the range and what the
bars after it did, read from the engine's own ranges and breakout touches.

One definition of a break (issue 20): each range definition is the engine's custom range
(RangeRules with `custom_range` and the cut-off as `market_close_minute`, as
RangeRules.from_params builds it for a combo with range_start, range_end and trade_until), its
ranges are `build_slot_ranges`'s and its breaks `breakout_touches`'s. So the rules are the
engine's (docs/engine.md §5-§7): the trading dates are the labels in the data whose weekday
is a trade day (§5.3); a range holds the bars stamped in [D range_start, D range_end) and
does not exist without one (§5.4, §5.6); a side breaks when a bar from D range_end up to
D trade_until inclusive (§7.3, Q30; with ``calendar: exchange`` no later than the date's
scheduled close, research/engine/calendar.py) trades one tick beyond the range (§7.1: the
engine's entry level), on the range's own contract (a roll ends the scan, as it ends the
engine's). The first break is the earlier of the two sides' first touches; a bar breaking
both sides first is neither side's (Q1). It continues when the close of the last bar stamped
at most `after_minutes` after the breakout bar is at or beyond the break level (strictly
outside the range), still on the same contract.

`tests/stats/test_stats_kernel.py` states the same rules as a plain Python loop over the
bars and holds the two equal on random bars (hypothesis); tests/stats/test_stats_engine.py
holds the figures equal to the engine's own entries of a sweep's combos.

>>> from research import prepare_bars, synthetic_bars
>>> from research.stats.definitions import check_range
>>> bars = prepare_bars(synthetic_bars("ES", "2024-01-08", "2024-01-12"), "ES")
>>> days = day_breakouts(bars, (check_range("base", "08:30", range_minutes=5),))
>>> len(days), int(days.has_range.sum())
(5, 5)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from research.engine.bars import Bars
from research.engine.clock import NS_PER_MINUTE, weekday_of
from research.engine.contract_walk import run_end_of
from research.engine.entry import breakout_touches
from research.engine.ranges import RangeRules, RangeTable, build_slot_ranges, trading_days
from research.stats.definitions import RangeDefinition

# What a date's first break was (named once, as research/engine/codes.py names the engine's).
NO_BREAK, UP_FIRST, DOWN_FIRST, BOTH_FIRST = range(4)
# Whether the first break continued: not asked (no clear first break), no, yes.
NOT_ASKED, STOPPED, CONTINUED = -1, 0, 1
DEFAULT_AFTER_MINUTES = 30


@dataclass(frozen=True, slots=True, eq=False)
class DayBreakouts:
    """One row per (range definition, trading date), definitions outer, dates in order.

    >>> DayBreakouts.empty().has_range.shape
    (0,)
    """

    definition: np.ndarray  # int64: index into the definitions
    trading_day: np.ndarray  # int64: days since 1970-01-01
    has_range: np.ndarray  # bool: a bar in the range window (else the date is not counted)
    range_high_ticks: np.ndarray  # int64
    range_low_ticks: np.ndarray  # int64
    broke_up: np.ndarray  # bool: some bar traded one tick above the range high
    broke_down: np.ndarray  # bool: some bar traded one tick below the range low
    first_break: np.ndarray  # int8: NO_BREAK, UP_FIRST, DOWN_FIRST, BOTH_FIRST
    first_break_idx: np.ndarray  # int64: the first breakout bar, -1 without one
    continued: np.ndarray  # int8: NOT_ASKED, STOPPED, CONTINUED

    def __len__(self) -> int:
        return len(self.definition)

    @classmethod
    def empty(cls) -> DayBreakouts:
        ints, flags = np.empty(0, np.int64), np.empty(0, bool)
        return cls(ints, ints, flags, ints, ints, flags, flags, np.empty(0, np.int8), ints,
                   np.empty(0, np.int8))


def day_breakouts(bars: Bars, definitions: Sequence[RangeDefinition], *,
                  trade_days: Sequence[int] = (0, 1, 2, 3, 4), exchange_calendar: bool = False,
                  after_minutes: int = DEFAULT_AFTER_MINUTES) -> DayBreakouts:
    """Every definition on every trade date of `bars` (see the module for the rules).

    >>> from research import prepare_bars, synthetic_bars
    >>> from research.stats.definitions import check_range
    >>> bars = prepare_bars(synthetic_bars("ES", "2024-01-08", "2024-01-09"), "ES")
    >>> day_breakouts(bars, (check_range("base", "08:30", "09:00"),), trade_days=(1,)).trading_day
    array([19731])
    """
    days = trading_days(bars)
    days = days[np.isin(weekday_of(days), np.asarray(trade_days, np.int64))]
    if not len(days) or not definitions:
        return DayBreakouts.empty()
    parts = [_one_definition(bars, days, k, range_rules(d, trade_days, exchange_calendar),
                             np.int64(after_minutes) * NS_PER_MINUTE)
             for k, d in enumerate(definitions)]
    return DayBreakouts(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def range_rules(definition: RangeDefinition, trade_days: Sequence[int] = (0, 1, 2, 3, 4),
                exchange_calendar: bool = False) -> RangeRules:
    """The engine's range stage key of a definition: what RangeRules.from_params gives a
    combo with its range_start, range_end and trade_until (the entry and exit fields do not
    move a break).

    >>> from research.stats.definitions import check_range
    >>> range_rules(check_range("base", "08:30", "08:35", trade_until="11:00")).custom_range
    (510, 515)
    """
    return RangeRules(sessions=(), trade_days=tuple(int(d) for d in trade_days),
                      market_close_minute=definition.trade_until_minute, time_mode=False,
                      exchange_calendar=exchange_calendar,
                      custom_range=(definition.range_start_minute, definition.range_end_minute))


def _one_definition(bars: Bars, days: np.ndarray, k: int, rules: RangeRules,
                    after_ns: np.int64) -> tuple[np.ndarray, ...]:
    """DayBreakouts' columns of one definition: one row per trade date, from its ranges."""
    table = build_slot_ranges(bars, rules)
    up_idx, down_idx = breakout_touches(bars, table)
    row = np.searchsorted(days, table.trading_day)  # the table's dates are among `days`
    n = len(days)
    has_range = np.zeros(n, bool)
    has_range[row] = True
    high, low = np.zeros(n, np.int64), np.zeros(n, np.int64)
    high[row], low[row] = table.range_high_ticks, table.range_low_ticks
    broke_up, broke_down = np.zeros(n, bool), np.zeros(n, bool)
    broke_up[row], broke_down[row] = up_idx >= 0, down_idx >= 0
    first, first_idx = _first_breaks(up_idx, down_idx)
    first_break = np.full(n, NO_BREAK, np.int8)
    first_break[row] = first
    first_bar = np.full(n, -1, np.int64)
    first_bar[row] = first_idx
    continued = np.full(n, NOT_ASKED, np.int8)
    continued[row] = _continued(bars, table, first, first_idx, after_ns)
    return (np.full(n, k, np.int64), days, has_range, high, low, broke_up, broke_down,
            first_break, first_bar, continued)


def _first_breaks(up_idx: np.ndarray, down_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The earlier side's first touch (Q1: one bar touching both is BOTH_FIRST)."""
    never = np.iinfo(np.int64).max
    up, down = np.where(up_idx >= 0, up_idx, never), np.where(down_idx >= 0, down_idx, never)
    first_idx = np.minimum(up, down)
    first = np.select([first_idx == never, up == down, up < down],
                      [NO_BREAK, BOTH_FIRST, UP_FIRST], DOWN_FIRST).astype(np.int8)
    return first, np.where(first_idx == never, -1, first_idx)


def _continued(bars: Bars, table: RangeTable, first: np.ndarray, first_idx: np.ndarray,
               after_ns: np.int64) -> np.ndarray:
    """CONTINUED when the close of the last bar by `after_ns` after a one-sided first break
    (on the range's contract) is still beyond the level, STOPPED when not, else NOT_ASKED."""
    out = np.full(len(first), NOT_ASKED, np.int8)
    asked = np.flatnonzero((first == UP_FIRST) | (first == DOWN_FIRST))
    if not len(asked):
        return out
    ts = bars.ts_ns
    later = np.searchsorted(ts, ts[first_idx[asked]] + after_ns, side="right") - 1
    if len(bars.walk.run_start_idx) > 1:  # the continuation bar stays on the range's contract
        later = np.minimum(later, run_end_of(bars.walk, table.start_idx[asked]) - 1)
    close = bars.close_ticks[later]
    up = first[asked] == UP_FIRST
    beyond = np.where(up, close >= table.range_high_ticks[asked] + 1,
                      close <= table.range_low_ticks[asked] - 1)
    out[asked] = np.where(beyond, CONTINUED, STOPPED)
    return out
