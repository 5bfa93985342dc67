"""The per-trade walk (docs/engine.md §8-§10): T1/BE, target/stop, window end, peak, and
the trade's fill bounds (research.engine.fill_bounds) in the same walk, on the bars of the
contract the trade entered (research.engine.contract_walk).

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
    AMBIG_BOTH_LEVELS,
    AMBIG_ENTRY_BAR,
    AMBIG_GAP,
    AMBIG_NONE,
    BAR_NONE,
    BAR_STOP,
    BAR_TARGET,
    BE,
    DECIDED_BY_MINUTES,
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
from research.engine.fill_bounds import fill_bounds
from research.engine.ranges import RangeTable, SlotRange
from research.engine.rules import ExitRules, favourable_ticks, touches_level

__all__ = ["NAT_NS", "ExitRules", "Trade", "TradeBatch", "execute_trade", "execute_trades",
           "favourable_ticks", "touches_level"]

NAT_NS = np.iinfo(np.int64).min


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
        return cls(*(np.concatenate([getattr(b, n) for b in batches]) for n in names))


def execute_trades(bars: Bars, table: RangeTable, entries: EntryTable, rules: ExitRules,
                   as_of_ns: int) -> TradeBatch:
    """execute_trade for a batch of ranges in one compiled, GIL-free call."""
    walk = bars.walk  # each trade on its own contract's bars (contract_walk)
    first_end, held_start, held_end = walk_windows(walk, entries.bar_idx, table.window_end_idx,
                                                   table.window_end_ts_ns)
    targets, t1s = rules.trade_targets(np.minimum(table.range_size_ticks, rules.stop_cap_ticks))
    out = _walk_batch(
        walk.ts_ns, walk.open_ticks, walk.high_ticks, walk.low_ticks, walk.close_ticks,
        entries.direction, entries.bar_idx, entries.price_ticks, table.range_size_ticks,
        first_end, table.expiry_ts_ns, np.int64(as_of_ns),
        targets, t1s, rules.stop_cap_ticks, rules.time_mode,
        held_start, held_end)
    traded = entries.direction != NO_ENTRY
    return TradeBatch(*out, target_ticks=np.where(traded, targets, 0),
                      entry_no=traded.astype(np.int64),
                      range_row=np.arange(len(table), dtype=np.int64))


@numba.njit(nogil=True, cache=True, inline="always")
def _fold(w_code, w_idx, w_px, b_code, b_idx, b_px, result, level, i, open_i,
          side):  # pragma: no cover - compiled
    """fill_bounds' _worse and _better for an exit (result, level) in bar i: the worst fills
    a stop at the open when the bar opened beyond it (stop_fill)."""
    fill = level
    if result != WIN and (open_i - level) * side < 0:
        fill = open_i
    if w_code < 0 or (fill - w_px) * side < 0:
        w_code, w_idx, w_px = result, i, fill
    if b_code < 0 or (level - b_px) * side > 0:
        b_code, b_idx, b_px = result, i, level
    return w_code, w_idx, w_px, b_code, b_idx, b_px


@numba.njit(nogil=True, cache=True)
def _peak_past_exit(high, low, side, entry, initial_stop, start, end, truncated_peak, full_peak,
                    before_initial_stop):  # pragma: no cover - compiled
    """peak_excursion past the decided walk (§10.1): (truncated, full) peaks and whether the
    initial stop is still untouched (a window of two pieces continues from it); the full
    window is needed only while the truncated peak is 0, else up to the first initial-stop
    touch. A loop of its own: the hot one, kept small."""
    for i in range(start, end):
        if not before_initial_stop and truncated_peak > 0:
            break
        if side == LONG:
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
    return truncated_peak, full_peak, before_initial_stop


@numba.njit(nogil=True, cache=True)
def _walk_batch(ts, open_, high, low, close, direction, entry_idx, entry_px, range_size,
                window_end_idx, expiry_ns, as_of_ns, target_all, t1_all, cap_ticks,
                time_mode, held_start, held_end):  # pragma: no cover - compiled; mirrors
    # execute_trade block by block
    """execute_trade over a batch. Per range: its side, entry bar and price (ticks), range
    size, window end index and expiry X; for all: as_of and the ExitRules in ticks. The
    window is [entry, window_end_idx) then [held_start, held_end) of the walk series: its
    contract's bars after a roll (contract_walk.walk_windows); `k` counts bars along it.

    The fill bounds (fill_bounds.fill_bounds) ride in the same walk: `live_a`/`live_b` are
    the states the bars allow (T1 not fired / fired), the exits they allow are folded into
    the worst and best outcome as they come, in bar_moves' order."""
    n = len(direction)
    result = np.full(n, NO_TRADE, np.int8)
    entry_ts = np.full(n, NAT_NS, np.int64)
    exit_ts = np.full(n, NAT_NS, np.int64)
    entry_out = np.zeros(n, np.int64)
    exit_px = np.zeros(n, np.int64)
    distance_out = np.zeros(n, np.int64)
    peak_out = np.zeros(n, np.int64)
    open_as_of = np.full(n, NAT_NS, np.int64)
    ambiguity = np.full(n, AMBIG_NONE, np.int8)
    worst_result = np.full(n, NO_TRADE, np.int8)
    worst_entry = np.zeros(n, np.int64)
    worst_ts = np.full(n, NAT_NS, np.int64)
    worst_px = np.zeros(n, np.int64)
    best_result = np.full(n, NO_TRADE, np.int8)
    best_ts = np.full(n, NAT_NS, np.int64)
    best_px = np.zeros(n, np.int64)
    for r in range(n):
        side = direction[r]
        if side == NO_ENTRY:
            continue  # NoTrade: the zeros and NaTs of NO_TRADE_ROW
        entry = entry_px[r]
        t1_ticks = t1_all[r]  # target_r: each trade's own target and T1 (§7.6)
        target = entry + side * target_all[r]  # §7.4
        distance = min(range_size[r], cap_ticks)  # stop_distance, §7.4
        initial_stop = entry - side * distance
        break_even = entry - side  # Q29
        stop = initial_stop
        t1_fired = False
        code = NO_TRADE  # still open
        exit_idx = -1
        exit_price = 0
        truncated_peak = 0  # peak_excursion, §10.1: up to the first initial-stop touch
        full_peak = 0
        before_initial_stop = True
        live_a = True  # fill_bounds' states: T1 not fired / fired
        live_b = False
        w_code, w_idx, w_px = -1, -1, 0  # the worst and best exits so far (-1: none)
        b_code, b_idx, b_px = -1, -1, 0
        branched_at = -1
        n_dated = window_end_idx[r] - entry_idx[r]  # W = [entry bar, E), §8: the dated
        n_window = n_dated + held_end[r] - held_start[r]  # bars, then the contract's held
        peak_from = n_window
        for k in range(n_window):
            i = entry_idx[r] + k if k < n_dated else held_start[r] + k - n_dated
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
            was_t1 = t1_fired  # the reference's state as the bar starts
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
            if branched_at < 0 and (live_a or live_b):
                # Until a bar allows two outcomes the bounds follow the reference (one live
                # state, its state), so only that question is asked: bar_moves from it
                # gives one move, the reference's. The reference has just tested this bar
                # from the same state: after T1 its stop is the break-even stop.
                if was_t1:
                    branches = hits_target and hits_stop
                elif favourable >= t1_ticks:
                    branches = hits_initial or hits_stop
                else:
                    branches = hits_initial and i == entry_idx[r] and (open_[i] - entry) * side < 0
                if branches:
                    branched_at = i
                elif code != NO_TRADE:  # the reference's exit, in this bar: the one outcome
                    fill = exit_price  # stop_fill: the open when the bar opened beyond it
                    if code != WIN and (open_[i] - exit_price) * side < 0:
                        fill = open_[i]
                    w_code, w_idx, w_px = code, i, fill
                    b_code, b_idx, b_px = code, i, exit_price
                    live_a = False
                    live_b = False
                else:
                    live_a = not t1_fired
                    live_b = t1_fired
            if branched_at >= 0 and (live_a or live_b):  # fill_bounds: every move of each
                if side == LONG:  # live state
                    reach_target = (not time_mode) and high[i] >= target
                    reach_break_even = low[i] <= break_even
                else:
                    reach_target = (not time_mode) and low[i] <= target
                    reach_break_even = high[i] >= break_even
                next_a = False
                next_b = False
                o = open_[i]
                if live_a:  # bar_moves from T1_NOT_FIRED, in its order
                    if hits_initial:
                        w_code, w_idx, w_px, b_code, b_idx, b_px = _fold(
                            w_code, w_idx, w_px, b_code, b_idx, b_px, LOSS, initial_stop, i,
                            o, side)
                    if favourable >= t1_ticks:
                        if reach_target:
                            w_code, w_idx, w_px, b_code, b_idx, b_px = _fold(
                                w_code, w_idx, w_px, b_code, b_idx, b_px, WIN, target, i, o,
                                side)
                        if reach_break_even:
                            w_code, w_idx, w_px, b_code, b_idx, b_px = _fold(
                                w_code, w_idx, w_px, b_code, b_idx, b_px, BE, break_even, i,
                                o, side)
                        next_b = not reach_target
                    elif not hits_initial or (i == entry_idx[r] and (o - entry) * side < 0):
                        next_a = True
                if live_b:  # bar_moves from T1_FIRED
                    if reach_target:
                        w_code, w_idx, w_px, b_code, b_idx, b_px = _fold(
                            w_code, w_idx, w_px, b_code, b_idx, b_px, WIN, target, i, o, side)
                    if reach_break_even:
                        w_code, w_idx, w_px, b_code, b_idx, b_px = _fold(
                            w_code, w_idx, w_px, b_code, b_idx, b_px, BE, break_even, i, o,
                            side)
                    if not (reach_target or reach_break_even):
                        next_b = True
                live_a, live_b = next_a, next_b
            if code != NO_TRADE and not live_a and not live_b:
                peak_from = k + 1  # decided: only the peak is left
                break
        if peak_from < n_dated:  # the rest of the dated piece, then the held one
            truncated_peak, full_peak, before_initial_stop = _peak_past_exit(
                high, low, side, entry, initial_stop, entry_idx[r] + peak_from,
                window_end_idx[r], truncated_peak, full_peak, before_initial_stop)
        if held_end[r] > held_start[r] and peak_from < n_window:
            truncated_peak, full_peak, before_initial_stop = _peak_past_exit(
                high, low, side, entry, initial_stop,
                held_start[r] + max(peak_from - n_dated, 0), held_end[r], truncated_peak,
                full_peak, before_initial_stop)
        last = held_end[r] - 1 if held_end[r] > held_start[r] else window_end_idx[r] - 1
        end_code = OPEN if expiry_ns[r] > as_of_ns else TIME  # §9.3 as amended (Q9/Q20)
        end_ts = NAT_NS if end_code == OPEN else expiry_ns[r]
        if code == NO_TRADE:  # (Q6/Q7: no BE re-label)
            exit_price = close[last]
            code = end_code
            exit_ts[r] = end_ts
            if code == OPEN:
                open_as_of[r] = ts[last]
        else:
            exit_ts[r] = ts[exit_idx]
        if live_a or live_b:  # a state still open when W ends: TIME or OPEN at the close
            if w_code < 0 or (close[last] - w_px) * side < 0:
                w_code, w_idx, w_px = end_code, -1, close[last]
            if b_code < 0 or (close[last] - b_px) * side > 0:
                b_code, b_idx, b_px = end_code, -1, close[last]
        first = entry_idx[r]
        worst_entry[r] = open_[first] if (open_[first] - entry) * side > 0 else entry
        if (w_px - worst_entry[r]) * side != (b_px - entry) * side:
            if branched_at < 0:
                ambiguity[r] = AMBIG_GAP
            elif branched_at == first:
                ambiguity[r] = AMBIG_ENTRY_BAR
            else:
                ambiguity[r] = AMBIG_BOTH_LEVELS
        worst_result[r], worst_px[r] = w_code, w_px
        worst_ts[r] = ts[w_idx] if w_idx >= 0 else end_ts
        best_result[r], best_px[r] = b_code, b_px
        best_ts[r] = ts[b_idx] if b_idx >= 0 else end_ts
        result[r] = code
        entry_ts[r] = ts[first]
        entry_out[r] = entry
        exit_px[r] = exit_price
        distance_out[r] = distance
        # Q11: a truncated peak of exactly 0 falls back to the whole window's, except OPEN.
        peak_out[r] = truncated_peak if (code == OPEN or truncated_peak > 0) else full_peak
    return (result, direction.copy(), entry_ts, exit_ts, entry_out, exit_px, distance_out,
            peak_out, open_as_of, ambiguity, worst_result, worst_entry, worst_ts, worst_px,
            best_result, best_ts, best_px, np.zeros(n, np.int8))
