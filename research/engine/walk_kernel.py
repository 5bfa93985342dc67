"""The compiled exit walk (docs/engine.md §8-§10): `execution.execute_trade` and
`fill_bounds.fill_bounds` over a batch of ranges in one GIL-free call, with block extremes
that let it jump over bars where nothing can happen.

Why blocks: a trade's window W runs to E (about 1,300 minute bars on average), and the peak
(§10.1) reads past the exit up to the first touch of the initial stop, often to E. Walked
bar by bar, that is most of a sweep's engine time. `BlockExtremes` keeps, for each block of
2**shift bars of the walk series (aligned on the series' indices), the highest high and the
lowest low. A block whose extremes touch none of the levels the walk is waiting for (T1,
target, stop, initial stop) changes nothing but the peaks, which its extremes give exactly;
the walk then moves a whole block at once. Every other bar is walked as before, so results
are the same bar for bar (tests hold the kernel equal to the readable path for several block
sizes, a block of one bar included).

>>> import numpy as np
>>> blocks = BlockExtremes.of(np.array([3, 5, 4, 9, 1]), np.array([1, 2, 0, 8, 1]), shift=1)
>>> blocks.high_max.tolist(), blocks.low_min.tolist()
([5, 9, 1], [1, 0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from research.engine.codes import (
    AMBIG_BOTH_LEVELS,
    AMBIG_ENTRY_BAR,
    AMBIG_GAP,
    AMBIG_NONE,
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

NAT_NS = np.iinfo(np.int64).min
# 32 bars a block: measured with `python -m benchmarks.walk` (docs/benchmarks.md) against
# 16 and 64 on the 5,040-combo grid; the extremes cost 1/16 of the bars' own memory.
BLOCK_SHIFT = 5


@dataclass(frozen=True, slots=True, eq=False)
class BlockExtremes:
    """Per block of 2**shift bars of a walk series: the highest high and the lowest low."""

    high_max: np.ndarray  # int64
    low_min: np.ndarray  # int64
    shift: int

    @classmethod
    def of(cls, high: np.ndarray, low: np.ndarray, shift: int = BLOCK_SHIFT) -> BlockExtremes:
        starts = np.arange(0, len(high), 1 << shift)
        if not len(starts):
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), shift)
        return cls(np.maximum.reduceat(np.asarray(high, np.int64), starts),
                   np.minimum.reduceat(np.asarray(low, np.int64), starts), shift)


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


@numba.njit(nogil=True, cache=True, inline="always")
def _block_extremes(blk_high, blk_low, blk, side, entry):  # pragma: no cover - compiled
    """A block's best favourable move from `entry` and its most adverse price (the lowest
    low long, the highest high short)."""
    if side == LONG:
        return blk_high[blk] - entry, blk_low[blk]
    return entry - blk_low[blk], blk_high[blk]


@numba.njit(nogil=True, cache=True, inline="always")
def _bar_peak(high_i, low_i, side, entry, initial_stop, truncated_peak, full_peak,
              before_initial_stop):  # pragma: no cover - compiled
    """peak_excursion's step over one bar (§10.1): its favourable ticks (favourable_ticks),
    whether it touches the initial stop (touch_level), and the peaks and state after it."""
    if side == LONG:
        favourable = high_i - entry
        hits_initial = low_i <= initial_stop
    else:
        favourable = entry - low_i
        hits_initial = high_i >= initial_stop
    full_peak = max(full_peak, favourable)
    if before_initial_stop:
        if hits_initial:
            before_initial_stop = False
        else:
            truncated_peak = max(truncated_peak, favourable)
    return favourable, hits_initial, truncated_peak, full_peak, before_initial_stop


@numba.njit(nogil=True, cache=True)
def _peak_past_exit(high, low, blk_high, blk_low, shift, side, entry, initial_stop, start, end,
                    truncated_peak, full_peak, before_initial_stop):  # pragma: no cover
    """peak_excursion past the decided walk (§10.1): (truncated, full) peaks and whether the
    initial stop is still untouched (a window of two pieces continues from it); the full
    window is needed only while the truncated peak is 0, else up to the first initial-stop
    touch. A block that cannot touch the initial stop (or once it is touched: any block)
    adds its extreme at once."""
    size = 1 << shift
    at = start
    while at < end:
        if not before_initial_stop and truncated_peak > 0:
            break  # past the first initial-stop touch only a zero peak reads further
        block_end = min((at | (size - 1)) + 1, end)
        if block_end - at == size:
            block_favourable, block_adverse = _block_extremes(blk_high, blk_low, at >> shift,
                                                              side, entry)
            if not before_initial_stop or (block_adverse - initial_stop) * side > 0:
                full_peak = max(full_peak, block_favourable)
                if before_initial_stop:
                    truncated_peak = max(truncated_peak, block_favourable)
                at = block_end
                continue
        for i in range(at, block_end):
            _, _, truncated_peak, full_peak, before_initial_stop = _bar_peak(
                high[i], low[i], side, entry, initial_stop, truncated_peak, full_peak,
                before_initial_stop)
        at = block_end
    return truncated_peak, full_peak, before_initial_stop


@numba.njit(nogil=True, cache=True, inline="always")
def _quiet_block(block_favourable, block_adverse, entry, side, t1_fired, t1_ticks, target,
                 stop, initial_stop, before_initial_stop, time_mode):  # pragma: no cover
    """A block in which no bar fires T1, touches the target, the stop or (while the peak
    still counts) the initial stop: for the reference and for bounds that follow it (not
    branched), its bars change nothing but the peaks."""
    if (block_adverse - stop) * side <= 0:
        return False
    # After T1 the break-even stop lies inside the initial one, except at a stop distance of
    # 0 (a flat range): the peak's own level is asked for, not inferred.
    if before_initial_stop and (block_adverse - initial_stop) * side <= 0:
        return False
    if not t1_fired and block_favourable >= t1_ticks:
        return False
    # the block's favourable extreme in price, against the target (Q16: time mode has none)
    return time_mode or (entry + side * block_favourable - target) * side < 0


@numba.njit(nogil=True, cache=True)
def _walk_batch(ts, open_, high, low, close, direction, entry_idx, entry_px, range_size,
                window_end_idx, expiry_ns, as_of_ns, target_all, t1_all, cap_all,
                time_all, held_start, held_end, blk_high, blk_low,
                shift):  # pragma: no cover - compiled; mirrors execute_trade block by block
    """execute_trade over a batch, for K ExitRules at once. Per range: its side, entry bar
    and price (ticks), range size, window end index and expiry X; for all: as_of. Per rules
    k: `target_all[k]`/`t1_all[k]` each range's target and T1 threshold in ticks, `cap_all[k]`
    the stop cap in ticks, `time_all[k]` time mode. The outputs hold the K x n trades rules
    after rules (trade k * n + r: range r under rules k). The window is [entry,
    window_end_idx) then [held_start, held_end) of the walk series: its contract's bars
    after a roll (contract_walk.walk_windows). `blk_high`/`blk_low` are the series'
    BlockExtremes of 2**shift bars.

    The fill bounds (fill_bounds.fill_bounds) ride in the same walk: `live_a`/`live_b` are
    the states the bars allow (T1 not fired / fired), the exits they allow are folded into
    the worst and best outcome as they come, in bar_moves' order."""
    n_ranges = len(direction)
    n = len(cap_all) * n_ranges
    size = 1 << shift
    mask = size - 1
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
    for j in range(n):  # trade j: range r under rules k
        k = j // n_ranges
        r = j - k * n_ranges
        side = direction[r]
        if side == NO_ENTRY:
            continue  # NoTrade: the zeros and NaTs of NO_TRADE_ROW
        entry = entry_px[r]
        t1_ticks = t1_all[k, r]  # target_r: each trade's own target and T1 (§7.6)
        target = entry + side * target_all[k, r]  # §7.4
        time_mode = time_all[k]
        distance = min(range_size[r], cap_all[k])  # stop_distance, §7.4
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
        decided_piece = 2  # the piece and bar where the walk was decided (2: it was not)
        decided_at = 0
        for piece in range(2):  # W = [entry bar, E), §8: the dated bars, then the held ones
            at = entry_idx[r] if piece == 0 else held_start[r]
            end = window_end_idx[r] if piece == 0 else held_end[r]
            while at < end:  # block by block: whole blocks where nothing happens, else bars
                block_end = min((at | mask) + 1, end)
                if code == NO_TRADE and branched_at < 0 and block_end - at == size:
                    block_favourable, block_adverse = _block_extremes(
                        blk_high, blk_low, at >> shift, side, entry)
                    if _quiet_block(block_favourable, block_adverse, entry, side, t1_fired,
                                    t1_ticks, target, stop, initial_stop, before_initial_stop,
                                    time_mode):
                        full_peak = max(full_peak, block_favourable)
                        if before_initial_stop:
                            truncated_peak = max(truncated_peak, block_favourable)
                        at = block_end
                        continue
                for i in range(at, block_end):
                    (favourable, hits_initial, truncated_peak, full_peak,
                     before_initial_stop) = _bar_peak(high[i], low[i], side, entry,
                                                      initial_stop, truncated_peak, full_peak,
                                                      before_initial_stop)
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
                        # Until a bar allows two outcomes the bounds follow the reference (one
                        # live state, its state), so only that question is asked: bar_moves from
                        # it gives one move, the reference's. The reference has just tested this
                        # bar from the same state: after T1 its stop is the break-even stop.
                        if was_t1:
                            branches = hits_target and hits_stop
                        elif favourable >= t1_ticks:
                            branches = hits_initial or hits_stop
                        else:
                            branches = (hits_initial and i == entry_idx[r]
                                        and (open_[i] - entry) * side < 0)
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
                                    w_code, w_idx, w_px, b_code, b_idx, b_px, LOSS, initial_stop,
                                    i, o, side)
                            if favourable >= t1_ticks:
                                if reach_target:
                                    w_code, w_idx, w_px, b_code, b_idx, b_px = _fold(
                                        w_code, w_idx, w_px, b_code, b_idx, b_px, WIN, target, i,
                                        o, side)
                                if reach_break_even:
                                    w_code, w_idx, w_px, b_code, b_idx, b_px = _fold(
                                        w_code, w_idx, w_px, b_code, b_idx, b_px, BE, break_even,
                                        i, o, side)
                                next_b = not reach_target
                            elif not hits_initial or (i == entry_idx[r] and (o - entry) * side < 0):
                                next_a = True
                        if live_b:  # bar_moves from T1_FIRED
                            if reach_target:
                                w_code, w_idx, w_px, b_code, b_idx, b_px = _fold(
                                    w_code, w_idx, w_px, b_code, b_idx, b_px, WIN, target, i, o,
                                    side)
                            if reach_break_even:
                                w_code, w_idx, w_px, b_code, b_idx, b_px = _fold(
                                    w_code, w_idx, w_px, b_code, b_idx, b_px, BE, break_even, i,
                                    o, side)
                            if not (reach_target or reach_break_even):
                                next_b = True
                        live_a, live_b = next_a, next_b
                    if code != NO_TRADE and not live_a and not live_b:
                        decided_piece, decided_at = piece, i + 1  # only the peak is left
                        break
                if decided_piece < 2:
                    break
                at = block_end
            if decided_piece < 2:
                break
        if decided_piece == 0:  # the rest of the dated piece, then the held one
            truncated_peak, full_peak, before_initial_stop = _peak_past_exit(
                high, low, blk_high, blk_low, shift, side, entry, initial_stop, decided_at,
                window_end_idx[r], truncated_peak, full_peak, before_initial_stop)
        if decided_piece < 2 and held_end[r] > held_start[r]:
            truncated_peak, full_peak, before_initial_stop = _peak_past_exit(
                high, low, blk_high, blk_low, shift, side, entry, initial_stop,
                decided_at if decided_piece == 1 else held_start[r], held_end[r],
                truncated_peak, full_peak, before_initial_stop)
        last = held_end[r] - 1 if held_end[r] > held_start[r] else window_end_idx[r] - 1
        end_code = OPEN if expiry_ns[r] > as_of_ns else TIME  # §9.3 as amended (Q9/Q20)
        end_ts = NAT_NS if end_code == OPEN else expiry_ns[r]
        if code == NO_TRADE:  # (Q6/Q7: no BE re-label)
            exit_price = close[last]
            code = end_code
            exit_ts[j] = end_ts
            if code == OPEN:
                open_as_of[j] = ts[last]
        else:
            exit_ts[j] = ts[exit_idx]
        if live_a or live_b:  # a state still open when W ends: TIME or OPEN at the close
            if w_code < 0 or (close[last] - w_px) * side < 0:
                w_code, w_idx, w_px = end_code, -1, close[last]
            if b_code < 0 or (close[last] - b_px) * side > 0:
                b_code, b_idx, b_px = end_code, -1, close[last]
        first = entry_idx[r]
        worst_entry[j] = open_[first] if (open_[first] - entry) * side > 0 else entry
        if (w_px - worst_entry[j]) * side != (b_px - entry) * side:
            if branched_at < 0:
                ambiguity[j] = AMBIG_GAP
            elif branched_at == first:
                ambiguity[j] = AMBIG_ENTRY_BAR
            else:
                ambiguity[j] = AMBIG_BOTH_LEVELS
        worst_result[j], worst_px[j] = w_code, w_px
        worst_ts[j] = ts[w_idx] if w_idx >= 0 else end_ts
        best_result[j], best_px[j] = b_code, b_px
        best_ts[j] = ts[b_idx] if b_idx >= 0 else end_ts
        result[j] = code
        entry_ts[j] = ts[first]
        entry_out[j] = entry
        exit_px[j] = exit_price
        distance_out[j] = distance
        # Q11: a truncated peak of exactly 0 falls back to the whole window's, except OPEN.
        peak_out[j] = truncated_peak if (code == OPEN or truncated_peak > 0) else full_peak
    directions = np.empty(n, np.int8)
    for j in range(n):
        directions[j] = direction[j % n_ranges]
    return (result, directions, entry_ts, exit_ts, entry_out, exit_px, distance_out,
            peak_out, open_as_of, ambiguity, worst_result, worst_entry, worst_ts, worst_px,
            best_result, best_ts, best_px, np.zeros(n, np.int8))
