"""Breakout detection (docs/engine.md §7): one tick beyond the range, first touch by the close."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from research.engine.bars import Bars
from research.engine.clock import NS_PER_DAY
from research.engine.codes import LONG, NO_ENTRY, SHORT
from research.engine.contract_walk import run_end_of
from research.engine.ranges import RangeTable, SlotRange


@dataclass(frozen=True, slots=True)
class Entry:
    direction: int  # LONG, SHORT or NO_ENTRY
    bar_idx: int  # the breakout bar (-1 without an entry)
    price_ticks: int  # the breakout level: fills there even on a gap (Q3)


@dataclass(frozen=True, slots=True, eq=False)
class EntryTable:
    """Entries of a RangeTable, row for row; computed once and reused by every exit setting."""

    direction: np.ndarray  # int8
    bar_idx: np.ndarray  # int64
    price_ticks: np.ndarray  # int64

    def __getitem__(self, index: slice) -> EntryTable:
        return EntryTable(self.direction[index], self.bar_idx[index], self.price_ticks[index])

    def __len__(self) -> int:
        return len(self.direction)

    @classmethod
    def concat(cls, parts: list[EntryTable]) -> EntryTable:
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(p, name) for p in parts])
                     for name in ("direction", "bar_idx", "price_ticks")))


def breakout_levels(r: SlotRange) -> tuple[int, int]:
    """§7.1: long one tick above the range high, short one tick below the range low."""
    return r.range_high_ticks + 1, r.range_low_ticks - 1


def candidate_bars(bars: Bars, r: SlotRange) -> range:
    """§7.3: bars from D slot up to D market_close inclusive (Q30), within 24 h of D slot;
    only the range's contract's (docs/data-formats.md, rolls: a market_close past 23:00 on the eve
    of a roll stops at the roll)."""
    last = min(r.cutoff_ts_ns, r.end_ts_ns + NS_PER_DAY - 1)
    own_end = int(run_end_of(bars.walk, np.array([r.start_idx]))[0])
    return range(r.end_idx, min(int(np.searchsorted(bars.ts_ns, last, side="right")), own_end))


def detect_entry(bars: Bars, r: SlotRange) -> Entry:
    """The first bar touching a level picks the side; one bar touching both is NoTrade (Q1).

    Only each side's first touch counts and it must be at or before the close, so scanning
    the candidate bars in time order and stopping at the first touch is exact.
    """
    long_level, short_level = breakout_levels(r)
    for i in candidate_bars(bars, r):
        touches_long = bars.high_ticks[i] >= long_level
        touches_short = bars.low_ticks[i] <= short_level
        if touches_long and touches_short:
            return Entry(NO_ENTRY, -1, 0)
        if touches_long:
            return Entry(LONG, i, long_level)
        if touches_short:
            return Entry(SHORT, i, short_level)
    return Entry(NO_ENTRY, -1, 0)


def detect_entries(bars: Bars, table: RangeTable) -> EntryTable:
    """detect_entry for every range of a table, in one GIL-free compiled pass."""
    last_ns = np.minimum(table.cutoff_ts_ns, table.end_ts_ns + NS_PER_DAY - 1)
    scan_end = np.searchsorted(bars.ts_ns, last_ns, side="right").astype(np.int64)
    if len(bars.walk.run_start_idx) > 1:  # candidates stay on the range's contract
        scan_end = np.minimum(scan_end, run_end_of(bars.walk, table.start_idx))
    direction, bar_idx, price = _first_breakouts(
        bars.high_ticks, bars.low_ticks, table.end_idx, scan_end,
        table.range_high_ticks + 1, table.range_low_ticks - 1)
    return EntryTable(direction, bar_idx, price)


@numba.njit(nogil=True, cache=True)
def _first_breakouts(high, low, scan_start, scan_end, long_level, short_level):  # pragma: no cover
    """detect_entry over a batch: scan_start/scan_end bound each range's candidate bars
    (§7.3, Q30), long_level/short_level its breakout levels (§7.1), all in ticks."""
    n = len(scan_start)
    direction = np.full(n, NO_ENTRY, np.int8)
    bar_idx = np.full(n, -1, np.int64)
    price = np.zeros(n, np.int64)
    for r in range(n):
        for i in range(scan_start[r], scan_end[r]):  # §7.3: only each side's first touch
            touches_long = high[i] >= long_level[r]
            touches_short = low[i] <= short_level[r]
            if touches_long and touches_short:  # Q1: one bar breaking both sides: NoTrade
                break
            if touches_long:  # Q3: the fill is the level, even on a gap
                direction[r], bar_idx[r], price[r] = LONG, i, long_level[r]
                break
            if touches_short:
                direction[r], bar_idx[r], price[r] = SHORT, i, short_level[r]
                break
    return direction, bar_idx, price
