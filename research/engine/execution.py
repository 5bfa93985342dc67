"""The per-trade walk (docs/engine.md §8-§10): T1/BE, target/stop, window end, peak.

`execute_trade` states the rules in plain Python; `execute_trades` is the same walk compiled
over a batch of ranges without the GIL. Tests hold the two equal on random data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from research.engine.bars import Bars
from research.engine.codes import (
    BAR_NONE,
    BAR_STOP,
    BAR_TARGET,
    BE,
    LONG,
    LOSS,
    NO_ENTRY,
    NO_TRADE,
    OPEN,
    TIME,
    WIN,
)
from research.engine.contract_walk import WalkSeries, own_contract_window, walk_windows
from research.engine.entry import Entry, EntryTable
from research.engine.params import RunParams
from research.engine.ranges import RangeTable, SlotRange

NAT_NS = np.iinfo(np.int64).min


@dataclass(frozen=True, slots=True)
class ExitRules:
    """What the exit walk reads of a RunParams, in exact ticks (docs/engine.md Q15/Q18): its key.
    Combos equal on it and on their RangeRules share the walk.

    >>> ExitRules.from_params(RunParams(instrument="ES", target=10, t1_fraction=0.5))
    ExitRules(target_ticks=40, t1_threshold_ticks=20, stop_cap_ticks=120, time_mode=False)
    """

    target_ticks: int
    t1_threshold_ticks: int
    stop_cap_ticks: int
    time_mode: bool

    @classmethod
    def from_params(cls, rp: RunParams) -> ExitRules:
        return cls(rp.target_ticks, rp.t1_threshold_ticks, rp.stop_cap_ticks,
                   rp.target_mode == "time")


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


NO_TRADE_ROW = Trade(NO_TRADE, NO_ENTRY, NAT_NS, NAT_NS, 0, 0, 0, 0, NAT_NS)


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


def favourable_ticks(bars: Bars | WalkSeries, i: int, side: int, entry_ticks: int) -> int:
    return bars.high_ticks[i] - entry_ticks if side == LONG else entry_ticks - bars.low_ticks[i]


def touches_level(bars: Bars | WalkSeries, i: int, side: int, level: int, adverse: bool) -> bool:
    """Does bar i reach `level` on the adverse (stop) or favourable (target) side?"""
    if (side == LONG) == adverse:
        return bool(bars.low_ticks[i] <= level)
    return bool(bars.high_ticks[i] >= level)


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
    initial_stop = entry_ticks - side * distance
    # docs/data-formats.md, rolls: W = [entry, E) on the entry's contract, whatever the roll does.
    walk = bars.walk
    window = own_contract_window(walk, entry.bar_idx, r.window_end_ts_ns)
    exit_ = walk_exits(walk, window, side, entry_ticks, initial_stop, rules)
    open_as_of = NAT_NS
    if exit_ is not None:
        result, exit_idx, exit_ticks = exit_
        exit_ts = int(walk.ts_ns[exit_idx])
    else:
        # §9.3 as amended (Q6/Q7, Q9/Q20): no BE re-label; OPEN if X is after as_of.
        last = window[-1]
        exit_ticks = int(walk.close_ticks[last])
        if r.expiry_ts_ns > as_of_ns:
            result, exit_ts, open_as_of = OPEN, NAT_NS, int(walk.ts_ns[last])
        else:
            result, exit_ts = TIME, r.expiry_ts_ns
    peak = peak_excursion(walk, window, side, entry_ticks, initial_stop,
                          allow_fallback=result != OPEN)
    return Trade(result, side, int(bars.ts_ns[entry.bar_idx]), exit_ts, entry_ticks,
                 int(exit_ticks), distance, peak, open_as_of)


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

    def __len__(self) -> int:
        return len(self.result)

    def __getitem__(self, index: slice | np.ndarray) -> TradeBatch:
        return TradeBatch(*(getattr(self, name)[index] for name in self.__dataclass_fields__))

    @classmethod
    def from_trades(cls, trades: list[Trade]) -> TradeBatch:
        columns = list(zip(*[(t.result, t.direction, t.entry_ts_ns, t.exit_ts_ns, t.entry_ticks,
                              t.exit_ticks, t.stop_distance_ticks, t.peak_ticks,
                              t.open_as_of_ns) for t in trades], strict=True)) or [()] * 9
        return cls(np.asarray(columns[0], np.int8), np.asarray(columns[1], np.int8),
                   *(np.asarray(c, np.int64) for c in columns[2:]))

    @classmethod
    def concat(cls, batches: list[TradeBatch]) -> TradeBatch:
        names = cls.__dataclass_fields__
        if not batches:
            return cls.from_trades([])
        return cls(*(np.concatenate([getattr(b, n) for b in batches]) for n in names))


def execute_trades(bars: Bars, table: RangeTable, entries: EntryTable, rules: ExitRules,
                   as_of_ns: int) -> TradeBatch:
    """execute_trade for a batch of ranges in one compiled, GIL-free call."""
    walk = bars.walk  # each trade on its own contract's bars (contract_walk)
    first_end, held_start, held_end = walk_windows(walk, entries.bar_idx, table.window_end_idx,
                                                   table.window_end_ts_ns)
    out = _walk_batch(
        walk.ts_ns, walk.high_ticks, walk.low_ticks, walk.close_ticks,
        entries.direction, entries.bar_idx, entries.price_ticks, table.range_size_ticks,
        first_end, table.expiry_ts_ns, np.int64(as_of_ns),
        rules.target_ticks, rules.t1_threshold_ticks, rules.stop_cap_ticks, rules.time_mode,
        held_start, held_end)
    return TradeBatch(*out)


@numba.njit(nogil=True, cache=True)
def _walk_batch(ts, high, low, close, direction, entry_idx, entry_px, range_size,
                window_end_idx, expiry_ns, as_of_ns, target_ticks, t1_ticks, cap_ticks,
                time_mode, held_start, held_end):  # pragma: no cover - compiled; mirrors
    # execute_trade block by block
    """execute_trade over a batch. Per range: its side, entry bar and price (ticks), range
    size, window end index and expiry X; for all: as_of and the ExitRules in ticks. The
    window is [entry, window_end_idx) then [held_start, held_end) of the walk series: its
    contract's bars after a roll (contract_walk.walk_windows)."""
    n = len(direction)
    result = np.full(n, NO_TRADE, np.int8)
    entry_ts = np.full(n, NAT_NS, np.int64)
    exit_ts = np.full(n, NAT_NS, np.int64)
    entry_out = np.zeros(n, np.int64)
    exit_px = np.zeros(n, np.int64)
    distance_out = np.zeros(n, np.int64)
    peak_out = np.zeros(n, np.int64)
    open_as_of = np.full(n, NAT_NS, np.int64)
    for r in range(n):
        side = direction[r]
        if side == NO_ENTRY:
            continue  # NoTrade: the zeros and NaTs of NO_TRADE_ROW
        entry = entry_px[r]
        target = entry + side * target_ticks  # §7.4
        distance = min(range_size[r], cap_ticks)  # stop_distance, §7.4
        initial_stop = entry - side * distance
        stop = initial_stop
        t1_fired = False
        code = NO_TRADE  # still open
        exit_idx = -1
        exit_price = 0
        truncated_peak = 0  # peak_excursion, §10.1: up to the first initial-stop touch
        full_peak = 0
        before_initial_stop = True
        done = False
        for piece in range(2 if held_end[r] > held_start[r] else 1):  # W = [entry, E), §8:
            lo = entry_idx[r] if piece == 0 else held_start[r]  # the dated bars, then the
            hi = window_end_idx[r] if piece == 0 else held_end[r]  # contract's held bars
            for i in range(lo, hi):
                if side == LONG:  # favourable_ticks and the initial stop's touch_level
                    favourable = high[i] - entry
                    hits_initial = low[i] <= initial_stop
                else:
                    favourable = entry - low[i]
                    hits_initial = high[i] >= initial_stop
                full_peak = max(full_peak, favourable)
                if before_initial_stop:
                    if hits_initial:
                        before_initial_stop = False
                    else:
                        truncated_peak = max(truncated_peak, favourable)
                if code == NO_TRADE:  # walk_exits, §9.1
                    is_t1_bar = False
                    if not t1_fired and favourable >= t1_ticks:
                        # §9.1 step 2, Q29: the break-even stop is one tick on the losing side.
                        t1_fired = True
                        stop = entry - side
                        is_t1_bar = True
                    if side == LONG:  # Q16: time mode ignores target touches entirely
                        hits_target = (not time_mode) and high[i] >= target
                        hits_stop = low[i] <= stop
                    else:
                        hits_target = (not time_mode) and low[i] <= target
                        hits_stop = high[i] >= stop
                    outcome = BAR_NONE  # bar_outcome, §9.1 step 4
                    if hits_stop and is_t1_bar:  # Q5: no stop on the T1 bar
                        outcome = BAR_TARGET if hits_target else BAR_NONE
                    elif hits_target and hits_stop:  # nearer level by the close; a tie: stop
                        nearer_target = abs(close[i] - target) < abs(close[i] - stop)
                        outcome = BAR_TARGET if nearer_target else BAR_STOP
                    elif hits_target:
                        outcome = BAR_TARGET
                    elif hits_stop:
                        outcome = BAR_STOP
                    if outcome == BAR_TARGET:
                        code, exit_idx, exit_price = WIN, i, target
                    elif outcome == BAR_STOP:
                        code, exit_idx, exit_price = (BE if t1_fired else LOSS), i, stop
                # Past the exit only the peak matters; it needs the whole window when it is 0.
                if code != NO_TRADE and not before_initial_stop and truncated_peak > 0:
                    done = True
                    break
            if done:
                break
        if code == NO_TRADE:  # §9.3 as amended (Q6/Q7, Q9/Q20): OPEN if X is after as_of
            last = held_end[r] - 1 if held_end[r] > held_start[r] else window_end_idx[r] - 1
            exit_price = close[last]
            if expiry_ns[r] > as_of_ns:
                code = OPEN
                open_as_of[r] = ts[last]
            else:
                code = TIME
                exit_ts[r] = expiry_ns[r]
        else:
            exit_ts[r] = ts[exit_idx]
        result[r] = code
        entry_ts[r] = ts[entry_idx[r]]
        entry_out[r] = entry
        exit_px[r] = exit_price
        distance_out[r] = distance
        # Q11: a truncated peak of exactly 0 falls back to the whole window's, except OPEN.
        peak_out[r] = truncated_peak if (code == OPEN or truncated_peak > 0) else full_peak
    return (result, direction.copy(), entry_ts, exit_ts, entry_out, exit_px, distance_out,
            peak_out, open_as_of)
