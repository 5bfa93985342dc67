"""Breakout detection (docs/engine.md §7): one tick beyond the range, first touch by the close.

The entry rule (§7.5) is a stop one tick beyond the range (the reference's) or a bar closing
beyond it with the entry at the next bar's open; `direction` may allow one side only. A
range's later entries (max_entries_per_day) scan again from the bar after an exit
(`scan_from`). `breakout_touches` is the one definition of a break that the breakout
statistics share: the first bar after the range, by the cut-off, trading one tick beyond.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from research.engine.bars import Bars
from research.engine.clock import NS_PER_DAY
from research.engine.codes import ENTRY_CLOSE_CONFIRM, LONG, NO_ENTRY, SHORT
from research.engine.contract_walk import run_end_of
from research.engine.entry_rules import DEFAULT_ENTRY_RULES, EntryRules
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

    def __getitem__(self, index: slice | np.ndarray) -> EntryTable:
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
    of a roll stops at the roll), and before the window end E (an exit_at before the
    cut-off, §7.6)."""
    last = min(r.cutoff_ts_ns, r.end_ts_ns + NS_PER_DAY - 1)
    own_end = int(run_end_of(bars.walk, np.array([r.start_idx]))[0])
    stop = min(int(np.searchsorted(bars.ts_ns, last, side="right")), own_end, r.window_end_idx)
    return range(r.end_idx, stop)


def detect_entry(bars: Bars, r: SlotRange, rules: EntryRules = DEFAULT_ENTRY_RULES,
                 scan_from: int = 0) -> Entry:
    """The first bar touching a level picks the side; one bar touching both is NoTrade (Q1).

    Only each side's first touch counts and it must be at or before the close, so scanning
    the candidate bars in time order and stopping at the first touch is exact. A side
    `rules` does not allow has no level. close_confirm: the first bar closing beyond a
    level signals, and the entry fills at the next bar's open (on the range's contract,
    before E), or there is none. `scan_from`: the first bar a later entry may use.
    """
    long_level, short_level = breakout_levels(r)
    candidates = candidate_bars(bars, r)
    entry_end = min(int(run_end_of(bars.walk, np.array([r.start_idx]))[0]), r.window_end_idx)
    for i in range(max(candidates.start, scan_from), candidates.stop):
        if rules.mode == ENTRY_CLOSE_CONFIRM:
            above = rules.allow_long and bars.close_ticks[i] >= long_level
            below = rules.allow_short and bars.close_ticks[i] <= short_level
            if not (above or below):
                continue
            if i + 1 >= entry_end:
                return Entry(NO_ENTRY, -1, 0)
            return Entry(LONG if above else SHORT, i + 1, int(bars.open_ticks[i + 1]))
        touches_long = rules.allow_long and bars.high_ticks[i] >= long_level
        touches_short = rules.allow_short and bars.low_ticks[i] <= short_level
        if touches_long and touches_short:
            return Entry(NO_ENTRY, -1, 0)
        if touches_long:
            return Entry(LONG, i, long_level)
        if touches_short:
            return Entry(SHORT, i, short_level)
    return Entry(NO_ENTRY, -1, 0)


def scan_bounds(bars: Bars, table: RangeTable) -> tuple[np.ndarray, np.ndarray]:
    """Per range: the end (exclusive) of its candidate bars (§7.3, Q30, before E) and of
    the bars an entry may fill on (the range's contract, before E)."""
    last_ns = np.minimum(table.cutoff_ts_ns, table.end_ts_ns + NS_PER_DAY - 1)
    scan_end = np.searchsorted(bars.ts_ns, last_ns, side="right").astype(np.int64)
    entry_end = table.window_end_idx.astype(np.int64)
    if len(bars.walk.run_start_idx) > 1:  # candidates stay on the range's contract
        entry_end = np.minimum(entry_end, run_end_of(bars.walk, table.start_idx))
    return np.minimum(scan_end, entry_end), entry_end


def detect_entries(bars: Bars, table: RangeTable, rules: EntryRules = DEFAULT_ENTRY_RULES,
                   scan_from: np.ndarray | None = None) -> EntryTable:
    """detect_entry for every range of a table, in one GIL-free compiled pass."""
    scan_end, entry_end = scan_bounds(bars, table)
    scan_start = table.end_idx if scan_from is None else np.maximum(table.end_idx, scan_from)
    direction, bar_idx, price = _first_breakouts(
        bars.open_ticks, bars.high_ticks, bars.low_ticks, bars.close_ticks,
        scan_start.astype(np.int64), scan_end, entry_end,
        table.range_high_ticks + 1, table.range_low_ticks - 1,
        rules.mode, rules.allow_long, rules.allow_short)
    return EntryTable(direction, bar_idx, price)


def breakout_touches(bars: Bars, table: RangeTable) -> tuple[np.ndarray, np.ndarray]:
    """Per range, the first bar after it (by its cut-off, on its contract) trading one tick
    above the range high, and one tick below the low (-1: none): the engine's own stop-entry
    levels (§7.1), both sides independently (breakout statistics: up, down, both, neither).
    """
    scan_end, _ = scan_bounds(bars, table)
    return _first_touches(bars.high_ticks, bars.low_ticks, table.end_idx.astype(np.int64),
                          scan_end, table.range_high_ticks + 1, table.range_low_ticks - 1)


@numba.njit(nogil=True, cache=True)
def _first_touches(high, low, scan_start, scan_end, long_level,
                   short_level):  # pragma: no cover - compiled
    n = len(scan_start)
    up = np.full(n, -1, np.int64)
    down = np.full(n, -1, np.int64)
    for r in range(n):
        for i in range(scan_start[r], scan_end[r]):
            if up[r] < 0 and high[i] >= long_level[r]:
                up[r] = i
            if down[r] < 0 and low[i] <= short_level[r]:
                down[r] = i
            if up[r] >= 0 and down[r] >= 0:
                break
    return up, down


@numba.njit(nogil=True, cache=True)
def _first_breakouts(open_, high, low, close, scan_start, scan_end, entry_end, long_level,
                     short_level, mode, allow_long, allow_short):  # pragma: no cover
    """detect_entry over a batch: scan_start/scan_end bound each range's candidate bars
    (§7.3, Q30), entry_end the bars a close_confirm entry may fill on, long_level/
    short_level its breakout levels (§7.1), all in ticks; mode and the sides: EntryRules."""
    n = len(scan_start)
    direction = np.full(n, NO_ENTRY, np.int8)
    bar_idx = np.full(n, -1, np.int64)
    price = np.zeros(n, np.int64)
    for r in range(n):
        for i in range(scan_start[r], scan_end[r]):  # §7.3: only each side's first touch
            if mode == ENTRY_CLOSE_CONFIRM:  # §7.5: a close beyond, the next bar's open
                above = allow_long and close[i] >= long_level[r]
                below = allow_short and close[i] <= short_level[r]
                if above or below:
                    if i + 1 < entry_end[r]:
                        direction[r] = LONG if above else SHORT
                        bar_idx[r], price[r] = i + 1, open_[i + 1]
                    break
                continue
            touches_long = allow_long and high[i] >= long_level[r]
            touches_short = allow_short and low[i] <= short_level[r]
            if touches_long and touches_short:  # Q1: one bar breaking both sides: NoTrade
                break
            if touches_long:  # Q3: the fill is the level, even on a gap
                direction[r], bar_idx[r], price[r] = LONG, i, long_level[r]
                break
            if touches_short:
                direction[r], bar_idx[r], price[r] = SHORT, i, short_level[r]
                break
    return direction, bar_idx, price
