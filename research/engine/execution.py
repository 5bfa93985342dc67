"""The per-trade walk (docs/engine.md §8-§10): T1/BE, target/stop, window end, peak, and
the trade's fill bounds (research.engine.fill_bounds) in the same walk, on the bars of the
contract the trade entered (research.engine.contract_walk).

`execute_trade` states the rules in plain Python; `execute_trades` is the same walk compiled
over a batch of ranges without the GIL. Tests hold the two equal on random data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from research.engine.bars import Bars
from research.engine.codes import (
    AMBIG_NONE,
    BAR_NONE,
    BAR_STOP,
    BAR_TARGET,
    BE,
    DECIDED_BY_MINUTES,
    LOSS,
    NO_ENTRY,
    NO_TRADE,
    OPEN,
    TIME,
    WIN,
)
from research.engine.contract_walk import WalkSeries, own_contract_window, walk_windows
from research.engine.entry import Entry, EntryTable
from research.engine.fill_bounds import fill_bounds
from research.engine.ranges import RangeTable, SlotRange
from research.engine.rules import ExitRules, favourable_ticks, touches_level
from research.engine.walk_kernel import (  # noqa: F401 - _walk_batch: the kernel, by name
    BLOCK_SHIFT,
    NAT_NS,
    BlockExtremes,
    _walk_batch,
)

__all__ = ["NAT_NS", "ExitRules", "Trade", "TradeBatch", "execute_trade", "execute_trades",
           "execute_trades_for", "favourable_ticks", "touches_level"]



@dataclass(frozen=True, slots=True)
class Trade:
    """One range's outcome in ticks and UTC ns (NAT_NS where a stamp does not apply)."""

    result: int
    direction: int  # LONG, SHORT, or NO_ENTRY for NoTrade
    entry_ts_ns: int
    exit_ts_ns: int
    entry_ticks: int
    exit_ticks: int
    stop_distance_ticks: int
    peak_ticks: int
    open_as_of_ns: int
    # The fill bounds (research.engine.fill_bounds): why they differ (AMBIG_*), the
    # pessimistic outcome (entry filled at the open on a gap) and the optimistic one.
    ambiguity: int = AMBIG_NONE
    pessimistic_result: int = NO_TRADE
    pessimistic_entry_ticks: int = 0
    pessimistic_exit_ts_ns: int = NAT_NS
    pessimistic_exit_ticks: int = 0
    optimistic_result: int = NO_TRADE
    optimistic_exit_ts_ns: int = NAT_NS
    optimistic_exit_ticks: int = 0
    decided_by: int = DECIDED_BY_MINUTES  # research.engine.resolve sets the others
    target_ticks: int = 0  # the trade's target distance (target_r: its own, §7.6)
    entry_no: int = 0  # 1 for a range's first entry, k for its k-th (0: NoTrade)
    range_row: int = -1  # the row of its range in the RangeTable (set by the batch)


NO_TRADE_ROW = Trade(NO_TRADE, NO_ENTRY, NAT_NS, NAT_NS, 0, 0, 0, 0, NAT_NS)
INT8_FIELDS = ("result", "direction", "ambiguity", "pessimistic_result", "optimistic_result",
               "decided_by")


def stop_distance(r: SlotRange, rules: ExitRules) -> int:
    """§7.4: the range size, capped at stop_cap_multiple x target (floored to ticks)."""
    return min(r.range_size_ticks, rules.stop_cap_ticks)


def bar_outcome(touches_target: bool, touches_stop: bool, is_t1_bar: bool,
                close_ticks: int, target_ticks: int, stop_ticks: int) -> int:
    """§9.1 step 4. On the T1 bar the stop is never honoured (Q5); a double touch goes to
    the nearer level by the close, a tie to the stop."""
    if touches_stop and is_t1_bar:
        return BAR_TARGET if touches_target else BAR_NONE
    if touches_target and touches_stop:
        nearer_target = abs(close_ticks - target_ticks) < abs(close_ticks - stop_ticks)
        return BAR_TARGET if nearer_target else BAR_STOP
    if touches_target:
        return BAR_TARGET
    return BAR_STOP if touches_stop else BAR_NONE


def walk_exits(bars: Bars | WalkSeries, window: Sequence[int], side: int, entry_ticks: int,
               initial_stop: int, rules: ExitRules) -> tuple[int, int, int] | None:
    """§9.1 over every bar of W: (result, bar index, exit price) of the first exit, or None."""
    target = entry_ticks + side * rules.target_ticks
    stop, t1_fired = initial_stop, False
    for i in window:
        is_t1_bar = False
        favourable = favourable_ticks(bars, i, side, entry_ticks)
        if not t1_fired and favourable >= rules.t1_threshold_ticks:
            # Q29: the break-even stop is one tick on the losing side of entry.
            t1_fired, stop, is_t1_bar = True, entry_ticks - side, True
        # docs/engine.md Q16: time mode ignores target touches entirely.
        hits_target = not rules.time_mode and touches_level(bars, i, side, target, adverse=False)
        hits_stop = touches_level(bars, i, side, stop, adverse=True)
        outcome = bar_outcome(hits_target, hits_stop, is_t1_bar,
                              int(bars.close_ticks[i]), target, stop)
        if outcome == BAR_TARGET:
            return WIN, i, target
        if outcome == BAR_STOP:
            return (BE if t1_fired else LOSS), i, stop
    return None


def peak_excursion(bars: Bars | WalkSeries, window: Sequence[int], side: int,
                   entry_ticks: int, initial_stop: int, allow_fallback: bool) -> int:
    """§10.1: max favourable move before the first touch of the *initial* stop, over the
    whole window (past the exit). Q11: exactly 0 falls back to the untruncated maximum,
    except for OPEN."""
    excursions = [favourable_ticks(bars, i, side, entry_ticks) for i in window]
    stop_touches = [touches_level(bars, i, side, initial_stop, adverse=True) for i in window]
    first_touch = stop_touches.index(True) if True in stop_touches else len(window)
    truncated = max(excursions[:first_touch], default=0)
    if truncated == 0 and allow_fallback:
        return max(excursions, default=0)
    return truncated


def execute_trade(bars: Bars, r: SlotRange, entry: Entry, rules: ExitRules,
                  as_of_ns: int) -> Trade:
    """The whole life of one trade, from its entry to the end of its window W = [entry, E)."""
    if entry.direction == NO_ENTRY:
        return NO_TRADE_ROW
    side, entry_ticks = entry.direction, entry.price_ticks
    distance = stop_distance(r, rules)
    rules = rules.for_trade(distance)  # target_r: the trade's own target (§7.6)
    initial_stop = entry_ticks - side * distance
    # docs/data-formats.md, rolls: W = [entry, E) on the entry's contract, whatever the roll does.
    walk = bars.walk
    window = own_contract_window(walk, entry.bar_idx, r.window_end_ts_ns)
    exit_ = walk_exits(walk, window, side, entry_ticks, initial_stop, rules)
    open_as_of = NAT_NS
    last = window[-1]
    # §9.3 as amended (Q6/Q7, Q9/Q20): no BE re-label; OPEN if X is after as_of.
    end_result = OPEN if r.expiry_ts_ns > as_of_ns else TIME
    if exit_ is not None:
        result, exit_idx, exit_ticks = exit_
        exit_ts = int(walk.ts_ns[exit_idx])
    else:
        result, exit_ticks = end_result, int(walk.close_ticks[last])
        if result == OPEN:
            exit_ts, open_as_of = NAT_NS, int(walk.ts_ns[last])
        else:
            exit_ts = r.expiry_ts_ns
    peak = peak_excursion(walk, window, side, entry_ticks, initial_stop,
                          allow_fallback=result != OPEN)
    bounds = fill_bounds(walk, window, side, entry_ticks, initial_stop, rules,
                         end=(end_result, int(walk.close_ticks[last])))

    def stamp(exit_idx: int) -> int:
        if exit_idx >= 0:
            return int(walk.ts_ns[exit_idx])
        return NAT_NS if end_result == OPEN else r.expiry_ts_ns

    worst, best = bounds.worst, bounds.best
    return Trade(result, side, int(bars.ts_ns[entry.bar_idx]), exit_ts, entry_ticks,
                 int(exit_ticks), distance, peak, open_as_of, bounds.ambiguity,
                 worst.result, bounds.entry_fill_ticks, stamp(worst.exit_idx),
                 worst.fill_ticks, best.result, stamp(best.exit_idx), best.fill_ticks,
                 target_ticks=rules.target_ticks, entry_no=1)


@dataclass(frozen=True, slots=True, eq=False)
class TradeBatch:
    """Trades of a RangeTable as arrays, row for row (the fields of Trade)."""

    result: np.ndarray  # int8
    direction: np.ndarray  # int8
    entry_ts_ns: np.ndarray
    exit_ts_ns: np.ndarray
    entry_ticks: np.ndarray
    exit_ticks: np.ndarray
    stop_distance_ticks: np.ndarray
    peak_ticks: np.ndarray
    open_as_of_ns: np.ndarray
    ambiguity: np.ndarray  # int8 AMBIG_*
    pessimistic_result: np.ndarray  # int8
    pessimistic_entry_ticks: np.ndarray
    pessimistic_exit_ts_ns: np.ndarray
    pessimistic_exit_ticks: np.ndarray
    optimistic_result: np.ndarray  # int8
    optimistic_exit_ts_ns: np.ndarray
    optimistic_exit_ticks: np.ndarray
    decided_by: np.ndarray  # int8 DECIDED_*
    target_ticks: np.ndarray  # the trade's target distance; 0 for NoTrade
    entry_no: np.ndarray  # 1..max_entries_per_day for trades, 0 for NoTrade
    range_row: np.ndarray  # each trade's range, a row of the RangeTable it was walked on

    def __len__(self) -> int:
        return len(self.result)

    def __getitem__(self, index: slice | np.ndarray) -> TradeBatch:
        return TradeBatch(*(getattr(self, name)[index] for name in self.__dataclass_fields__))

    def without_trade(self, mask: np.ndarray) -> TradeBatch:
        """The rows of `mask` as NoTrade rows (NO_TRADE_ROW's values), in their places."""
        if not mask.any():
            return self
        changed = {}
        for name in self.__dataclass_fields__:
            column = getattr(self, name)
            if name != "range_row":
                column = column.copy()
                column[mask] = getattr(NO_TRADE_ROW, name)
            changed[name] = column
        return TradeBatch(**changed)

    @classmethod
    def from_trades(cls, trades: list[Trade]) -> TradeBatch:
        """One trade per range, in range order (range_row: their positions)."""
        names = [n for n in cls.__dataclass_fields__ if n != "range_row"]
        return cls(*(np.asarray([getattr(t, name) for t in trades],
                                np.int8 if name in INT8_FIELDS else np.int64)
                     for name in names), range_row=np.arange(len(trades), dtype=np.int64))

    @classmethod
    def concat(cls, batches: list[TradeBatch]) -> TradeBatch:
        names = cls.__dataclass_fields__
        if not batches:
            return cls.from_trades([])
        if len(batches) == 1:  # one slice (one thread): the batch itself, its arrays unchanged
            return batches[0]
        return cls(*(np.concatenate([getattr(b, n) for b in batches]) for n in names))


def block_extremes(walk: WalkSeries, shift: int = BLOCK_SHIFT) -> BlockExtremes:
    """The walk series' block extremes (walk_kernel), made once per series and kept on it.
    Threads racing on the first walk make the same arrays; either one is kept.

    >>> from research.engine.data import prepare_bars
    >>> from research.engine.synthetic import synthetic_bars
    >>> walk = prepare_bars(synthetic_bars("ES", "2024-01-08", "2024-01-08"), "ES").walk
    >>> block_extremes(walk) is block_extremes(walk)
    True
    """
    blocks = walk.block_extremes
    if blocks is None or blocks.shift != shift:
        blocks = BlockExtremes.of(walk.high_ticks, walk.low_ticks, shift)
        if shift == BLOCK_SHIFT:
            object.__setattr__(walk, "block_extremes", blocks)
    return blocks


def execute_trades(bars: Bars, table: RangeTable, entries: EntryTable, rules: ExitRules,
                   as_of_ns: int, block_shift: int = BLOCK_SHIFT) -> TradeBatch:
    """execute_trade for a batch of ranges in one compiled, GIL-free call (`block_shift`:
    the walk's blocks of 2**block_shift bars, walk_kernel; results never depend on it)."""
    return execute_trades_for(bars, table, entries, [rules], as_of_ns, block_shift)[0]


def execute_trades_for(bars: Bars, table: RangeTable, entries: EntryTable,
                       rules: Sequence[ExitRules], as_of_ns: int,
                       block_shift: int = BLOCK_SHIFT) -> list[TradeBatch]:
    """execute_trades under each of several ExitRules, in one compiled call: a sweep walks
    the same ranges under many exit settings, and one call per setting cost more in Python
    than the walk itself (benchmarks/walk.py). The batches' arrays are views of one array
    per field.

    >>> from research.engine.data import prepare_bars
    >>> from research.engine.entry import detect_entries
    >>> from research.engine.params import RunParams
    >>> from research.engine.ranges import RangeRules, build_slot_ranges
    >>> from research.engine.synthetic import synthetic_bars
    >>> bars = prepare_bars(synthetic_bars("ES", "2024-01-08", "2024-01-09"), "ES")
    >>> rp = RunParams(instrument="ES")
    >>> table = build_slot_ranges(bars, RangeRules.from_params(rp))
    >>> entries = detect_entries(bars, table)
    >>> rules = [ExitRules(40, 26, 120, False), ExitRules(8, 4, 24, True)]
    >>> both = execute_trades_for(bars, table, entries, rules, bars.last_ts_ns)
    >>> [b.result.tolist() == execute_trades(bars, table, entries, r, bars.last_ts_ns
    ...                                      ).result.tolist() for b, r in zip(both, rules)]
    [True, True]
    """
    walk = bars.walk  # each trade on its own contract's bars (contract_walk)
    first_end, held_start, held_end = walk_windows(walk, entries.bar_idx, table.window_end_idx,
                                                   table.window_end_ts_ns)
    size_ticks = table.range_size_ticks
    targets, t1s = zip(*(r.trade_targets(np.minimum(size_ticks, r.stop_cap_ticks))
                         for r in rules), strict=True)
    target_all = np.array(targets, np.int64).reshape(len(rules), len(table))
    t1_all = np.array(t1s, np.int64).reshape(len(rules), len(table))
    blocks = block_extremes(walk, block_shift)
    out = _walk_batch(
        walk.ts_ns, walk.open_ticks, walk.high_ticks, walk.low_ticks, walk.close_ticks,
        entries.direction, entries.bar_idx, entries.price_ticks, size_ticks,
        first_end, table.expiry_ts_ns, np.int64(as_of_ns), target_all, t1_all,
        np.array([r.stop_cap_ticks for r in rules], np.int64),
        np.array([r.time_mode for r in rules], np.bool_),
        held_start, held_end, blocks.high_max, blocks.low_min, blocks.shift)
    traded = entries.direction != NO_ENTRY
    entry_no = traded.astype(np.int64)
    range_row = np.arange(len(table), dtype=np.int64)
    n = len(table)
    return [TradeBatch(*(field[k * n:(k + 1) * n] for field in out),
                       target_ticks=np.where(traded, target_all[k], 0), entry_no=entry_no,
                       range_row=range_row)
            for k in range(len(rules))]
