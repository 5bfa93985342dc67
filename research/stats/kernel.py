"""The breakout pass: for every (range definition, trading date), the range and what the
bars after it did, in one GIL-free compiled call over all definitions at once.

The rules are the engine's (docs/engine.md §5-§7): the trading dates are the labels in the
data whose weekday is a trade day (§5.3); a range holds the bars stamped in
[D range_start, D range_end) and does not exist without one (§5.4, §5.6); a side breaks when
a bar from D range_end up to D trade_until inclusive (§7.3, Q30; with ``calendar: exchange``
no later than the date's scheduled close, research/engine/calendar.py) trades one tick
beyond the range (§7.1: the engine's entry level), on the range's own contract (a roll ends
the scan, as it ends the engine's). The first break is the first such bar; a bar breaking
both sides first is neither side's (Q1). It continues when the close of the last bar stamped
at most `after_minutes` after the breakout bar is at or beyond the break level (strictly
outside the range), still on the same contract.

`tests/stats/test_stats_kernel.py` states the same rules as a plain Python loop over the
bars and holds the two equal on random bars (hypothesis).

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

import numba
import numpy as np

from research.engine.bars import Bars
from research.engine.calendar import session_closes
from research.engine.clock import NS_PER_MINUTE, noon_offsets_ns, weekday_of, weekday_to_utc_ns
from research.engine.contract_walk import run_end_of
from research.engine.ranges import trading_days
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
    offsets = noon_offsets_ns(days)  # trade dates are weekdays: one UTC offset all day
    closes = session_closes(bars.instrument.symbol, days)[0] if exchange_calendar else None
    start_ns, end_ns, until_ns = (np.concatenate(parts) for parts in zip(*(
        _windows(d, days, offsets, closes) for d in definitions), strict=True))
    ts = bars.ts_ns
    start_idx = np.searchsorted(ts, start_ns).astype(np.int64)
    end_idx = np.searchsorted(ts, end_ns).astype(np.int64)
    scan_end = np.searchsorted(ts, until_ns, side="right").astype(np.int64)
    contract_end = np.full(len(start_idx), len(ts), np.int64)
    if len(bars.walk.run_start_idx) > 1:  # a roll in the data: each range keeps its contract
        contract_end = run_end_of(bars.walk, np.minimum(start_idx, max(len(ts) - 1, 0)))
        scan_end = np.minimum(scan_end, contract_end)
    columns = _breakouts(ts, bars.high_ticks, bars.low_ticks, bars.close_ticks, start_idx,
                         end_idx, scan_end, contract_end, np.int64(after_minutes) * NS_PER_MINUTE)
    return DayBreakouts(np.repeat(np.arange(len(definitions), dtype=np.int64), len(days)),
                        np.tile(days, len(definitions)), end_idx > start_idx, *columns)


def _windows(definition: RangeDefinition, days: np.ndarray, offsets: np.ndarray,
             closes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UTC ns of each date's range start, range end and last breakout stamp."""
    until = np.full(len(days), definition.trade_until_minute, np.int64)
    if closes is not None:  # an early close ends breakouts (a holiday keeps the rule, as ranges.py)
        until = np.where(closes >= 0, np.minimum(closes, until), until)
    return (weekday_to_utc_ns(days, definition.range_start_minute, offsets),
            weekday_to_utc_ns(days, definition.range_end_minute, offsets),
            weekday_to_utc_ns(days, until, offsets))


@numba.njit(nogil=True, cache=True)
def _breakouts(ts, high, low, close, start_idx, end_idx, scan_end, contract_end,
               after_ns):  # pragma: no cover
    """Per row: [start_idx, end_idx) the range's bars, [end_idx, scan_end) the candidate
    breakout bars, contract_end the end of the range's contract, after_ns the continuation
    horizon; prices in ticks, stamps UTC ns."""
    n = len(start_idx)
    range_high = np.zeros(n, np.int64)
    range_low = np.zeros(n, np.int64)
    broke_up = np.zeros(n, np.bool_)
    broke_down = np.zeros(n, np.bool_)
    first = np.full(n, NO_BREAK, np.int8)
    first_idx = np.full(n, -1, np.int64)
    continued = np.full(n, NOT_ASKED, np.int8)
    for r in range(n):
        if end_idx[r] <= start_idx[r]:  # §5.4: no bar in the window, no range
            continue
        high_ticks, low_ticks = high[start_idx[r]], low[start_idx[r]]
        for i in range(start_idx[r] + 1, end_idx[r]):
            high_ticks = max(high_ticks, high[i])
            low_ticks = min(low_ticks, low[i])
        range_high[r], range_low[r] = high_ticks, low_ticks
        up_level, down_level = high_ticks + 1, low_ticks - 1  # §7.1: one tick beyond
        for i in range(end_idx[r], scan_end[r]):
            touches_up = high[i] >= up_level
            touches_down = low[i] <= down_level
            if first[r] == NO_BREAK and (touches_up or touches_down):
                first_idx[r] = i
                first[r] = BOTH_FIRST if touches_up and touches_down else \
                    UP_FIRST if touches_up else DOWN_FIRST
            broke_up[r] = broke_up[r] or touches_up
            broke_down[r] = broke_down[r] or touches_down
            if broke_up[r] and broke_down[r]:
                break
        if first[r] == UP_FIRST or first[r] == DOWN_FIRST:
            later = np.searchsorted(ts, ts[first_idx[r]] + after_ns, side="right") - 1
            later = min(later, contract_end[r] - 1)
            beyond = close[later] >= up_level if first[r] == UP_FIRST \
                else close[later] <= down_level
            continued[r] = CONTINUED if beyond else STOPPED
    return range_high, range_low, broke_up, broke_down, first, first_idx, continued
