"""Deciding ambiguous trades exactly with 1-second bars (`data.resolve_with`).

A trade whose minute bars allow more than one outcome (research.engine.fill_bounds) is
walked again, minute by minute from its entry; a minute that still allows more than one
outcome from the trade's state is replayed second by second with the same rules (T1, Q5,
the close rule for a second touching both levels), starting, in the entry minute, at the
first second that reaches the breakout level. Minutes that allow one outcome keep the
minute rule, and trades that are not ambiguous are never re-read: the cost follows the
ambiguous trades, not the data. The decided outcome becomes the row's result, an opt-in
difference from the reference analyzer; the minute-only bounds stay beside it. A trade
with a replayed second that itself allows more than one outcome stays `UNDECIDED` (both
levels inside one second). Trades separated only by a gap fill are not replayed: 1-second
bars open beyond the level just as the minute did.

Second bars are `Bars` too (stamps at each second's start; no record for a second without
trades), read with `load_seconds` from any supported layout, Databento ohlcv-1s included.

>>> import numpy as np
>>> seconds_in_minute(np.array([0, 10**9, 61 * 10**9]), 0)
(0, 2)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numba
import numpy as np

from research.engine.bars import Bars
from research.engine.clock import NS_PER_MINUTE, utc_to_chicago
from research.engine.codes import (
    AMBIG_BOTH_LEVELS,
    AMBIG_ENTRY_BAR,
    BE,
    DECIDED_BY_SECONDS,
    LONG,
    LOSS,
    NO_ENTRY,
    NO_TRADE,
    OPEN,
    TIME,
    UNDECIDED,
    WIN,
)
from research.engine.entry import EntryTable
from research.engine.execution import NAT_NS, TradeBatch
from research.engine.formats.databento import accept_second_bars
from research.engine.inputs import to_bars
from research.engine.ranges import RangeTable
from research.engine.rules import ExitRules
from research.errors import DataError, shorten

NS_PER_SECOND = 1_000_000_000
# Replay problems the compiled walk reports (it cannot raise a readable error itself).
_OK, _NO_SECONDS, _OUTSIDE, _NO_ENTRY_SECOND = range(4)


def seconds_in_minute(second_ts: np.ndarray, minute_ts: int) -> tuple[int, int]:
    """The index range of the seconds inside the minute starting at `minute_ts`."""
    return (int(np.searchsorted(second_ts, minute_ts)),
            int(np.searchsorted(second_ts, minute_ts + NS_PER_MINUTE)))


def load_seconds(path: str, instrument: str, load_options: Mapping[str, Any] | None = None,
                 ) -> Bars:
    """1-second bars of `instrument` from `path` (any supported layout; Databento ohlcv-1s
    too). Refuses bars that are all whole minutes (minute bars given by mistake)."""
    with accept_second_bars():
        seconds = to_bars(str(path), instrument, load_options=dict(load_options or {}))
    if len(seconds) and not (seconds.ts_ns % NS_PER_MINUTE).any():
        raise DataError(f"data.resolve_with: {shorten(path)} holds bars stamped on whole "
                        "minutes only, not 1-second bars; give 1-second bars (Databento "
                        "schema ohlcv-1s)")
    return dataclasses.replace(seconds, source=str(path))


def check_seconds(seconds: Bars, bars: Bars) -> None:
    """The 1-second bars must span the minute bars (from within their first minute to
    within their last one) and trade inside the minute bar of every minute they share with
    it (else they are of another instrument or contract). A clear DataError otherwise."""
    if not len(bars):
        return
    _check_cover(seconds, bars)
    minute = np.searchsorted(bars.ts_ns, seconds.ts_ns, side="right") - 1
    shared = (minute >= 0) & (seconds.ts_ns < bars.ts_ns[np.maximum(minute, 0)] + NS_PER_MINUTE)
    outside = shared & ((seconds.high_ticks > bars.high_ticks[np.maximum(minute, 0)])
                        | (seconds.low_ticks < bars.low_ticks[np.maximum(minute, 0)]))
    if outside.any():
        first = int(minute[np.argmax(outside)])
        raise DataError(_problem_text(_OUTSIDE, int(bars.ts_ns[first]), seconds.source)
                        + f" ({int(outside.sum())} seconds outside their minute)")


def _check_cover(seconds: Bars, bars: Bars) -> None:
    first, last = int(bars.ts_ns[0]), int(bars.ts_ns[-1])
    if len(seconds) and seconds.ts_ns[0] < first + NS_PER_MINUTE and seconds.ts_ns[-1] >= last:
        return
    span = ("no bars" if not len(seconds) else
            f"{_stamp(int(seconds.ts_ns[0]))} to {_stamp(int(seconds.ts_ns[-1]))}")
    raise DataError(f"data.resolve_with: {shorten(seconds.source)} covers {span}; the minute "
                    f"bars run {_stamp(first)} to {_stamp(last)}: give 1-second bars over the "
                    "whole span (or set data.start/data.end to the span they cover)")


def resolve_trades(bars: Bars, seconds: Bars, table: RangeTable, entries: EntryTable,
                   batch: TradeBatch, rules: ExitRules, as_of_ns: int) -> TradeBatch:
    """`batch` with its ambiguous trades decided on `seconds` where they can be."""
    replay = np.flatnonzero((batch.ambiguity == AMBIG_ENTRY_BAR)
                            | (batch.ambiguity == AMBIG_BOTH_LEVELS))
    if not len(replay):
        return batch
    out = _replay_batch(
        bars.ts_ns, bars.open_ticks, bars.high_ticks, bars.low_ticks, bars.close_ticks,
        seconds.ts_ns, seconds.open_ticks, seconds.high_ticks, seconds.low_ticks,
        seconds.close_ticks, replay, entries.direction, entries.bar_idx, entries.price_ticks,
        batch.stop_distance_ticks, table.window_end_idx, table.expiry_ts_ns,
        np.int64(as_of_ns), rules.target_ticks, rules.t1_threshold_ticks, rules.time_mode)
    result, exit_ts, exit_ticks, open_as_of, decided_by, problem, where = out
    if problem != _OK:
        raise DataError(_problem_text(problem, int(bars.ts_ns[where]), seconds.source))
    fields = {"result": result, "exit_ts_ns": exit_ts, "exit_ticks": exit_ticks,
              "open_as_of_ns": open_as_of, "decided_by": decided_by}
    updated = {}
    for name, values in fields.items():
        column = getattr(batch, name).copy()
        column[replay] = values
        updated[name] = column
    return dataclasses.replace(batch, **updated)


def _problem_text(problem: int, minute_ns: int, source: str) -> str:
    where = f"data.resolve_with: {shorten(source)}"
    minute = _stamp(minute_ns)
    if problem == _NO_SECONDS:
        return (f"{where} has no 1-second bar in the minute {minute}, which the minute bars "
                "trade in: give 1-second bars of the same instrument over the whole span")
    if problem == _OUTSIDE:
        return (f"{where}: its 1-second bars in the minute {minute} trade outside that "
                "minute bar's range: another instrument or contract? give 1-second bars of "
                "the minute bars' instrument and contract")
    return (f"{where}: no 1-second bar in the minute {minute} reaches the breakout level "
            "the minute bar reached: another instrument or contract?")


def _stamp(ns: int) -> str:
    return str(utc_to_chicago(np.array([ns], np.int64))[0])


@numba.njit(nogil=True, cache=True)
def _move_count(open_, high, low, t1_fired, side, entry, initial_stop, target, t1_ticks,
                time_mode, pre_entry):  # pragma: no cover - compiled
    """How many moves fill_bounds.bar_moves allows a bar from this state."""
    break_even = entry - side
    if side == LONG:
        hits_target = (not time_mode) and high >= target
        hits_break_even = low <= break_even
        hits_initial = low <= initial_stop
        favourable = high - entry
    else:
        hits_target = (not time_mode) and low <= target
        hits_break_even = high >= break_even
        hits_initial = high >= initial_stop
        favourable = entry - low
    if t1_fired:
        return max(1, int(hits_target) + int(hits_break_even))
    count = int(hits_initial)
    if favourable >= t1_ticks:
        count += int(hits_target) + int(hits_break_even) + int(not hits_target)
    elif not hits_initial or pre_entry:
        count += 1
    return count


@numba.njit(nogil=True, cache=True)
def _bar_rule(high, low, close, t1_fired, stop, side, entry, target, t1_ticks,
              time_mode):  # pragma: no cover - compiled; execution.walk_exits, one bar
    """§9.1 for one bar: (exit code or NO_TRADE, exit level, t1_fired, stop)."""
    favourable = high - entry if side == LONG else entry - low
    is_t1_bar = False
    if not t1_fired and favourable >= t1_ticks:
        t1_fired, stop, is_t1_bar = True, entry - side, True  # Q29
    if side == LONG:
        hits_target = (not time_mode) and high >= target
        hits_stop = low <= stop
    else:
        hits_target = (not time_mode) and low <= target
        hits_stop = high >= stop
    if hits_stop and is_t1_bar:  # Q5
        return (WIN if hits_target else NO_TRADE), target, t1_fired, stop
    if hits_target and hits_stop:  # the nearer level by the close; a tie: the stop
        if abs(close - target) < abs(close - stop):
            return WIN, target, t1_fired, stop
        return (BE if t1_fired else LOSS), stop, t1_fired, stop
    if hits_target:
        return WIN, target, t1_fired, stop
    if hits_stop:
        return (BE if t1_fired else LOSS), stop, t1_fired, stop
    return NO_TRADE, 0, t1_fired, stop


@numba.njit(nogil=True, cache=True)
def _replay_batch(ts, open_, high, low, close, s_ts, s_open, s_high, s_low, s_close, replay,
                  direction, entry_idx, entry_px, distance, window_end_idx, expiry_ns,
                  as_of_ns, target_ticks, t1_ticks, time_mode):  # pragma: no cover - compiled
    """Per replayed trade: (result, exit stamp, exit ticks, open_as_of, decided_by), and the
    first problem met (code, minute index)."""
    n = len(replay)
    result = np.zeros(n, np.int8)
    exit_ts = np.full(n, NAT_NS, np.int64)
    exit_px = np.zeros(n, np.int64)
    open_as_of = np.full(n, NAT_NS, np.int64)
    decided_by = np.full(n, DECIDED_BY_SECONDS, np.int8)
    for k in range(n):
        r = replay[k]
        side = direction[r]
        if side == NO_ENTRY:
            continue
        entry = entry_px[r]
        target = entry + side * target_ticks
        initial_stop = entry - side * distance[r]
        stop = initial_stop
        t1_fired = False
        code = NO_TRADE
        for i in range(entry_idx[r], window_end_idx[r]):
            pre_entry = i == entry_idx[r] and (open_[i] - entry) * side < 0
            if _move_count(open_[i], high[i], low[i], t1_fired, side, entry, initial_stop,
                           target, t1_ticks, time_mode, pre_entry) <= 1:
                code, level, t1_fired, stop = _bar_rule(high[i], low[i], close[i], t1_fired,
                                                        stop, side, entry, target, t1_ticks,
                                                        time_mode)
                if code != NO_TRADE:
                    exit_ts[k], exit_px[k] = ts[i], level
                    break
                continue
            first = np.searchsorted(s_ts, ts[i])
            end = np.searchsorted(s_ts, ts[i] + NS_PER_MINUTE)
            if first == end:
                return result, exit_ts, exit_px, open_as_of, decided_by, _NO_SECONDS, i
            for j in range(first, end):
                if s_high[j] > high[i] or s_low[j] < low[i]:
                    return result, exit_ts, exit_px, open_as_of, decided_by, _OUTSIDE, i
            if i == entry_idx[r]:  # the trade starts at the first second reaching the level
                while first < end and (s_high[first] < entry if side == LONG
                                       else s_low[first] > entry):
                    first += 1
                if first == end:
                    return (result, exit_ts, exit_px, open_as_of, decided_by,
                            _NO_ENTRY_SECOND, i)
            for j in range(first, end):
                entry_second = i == entry_idx[r] and j == first
                second_pre_entry = entry_second and (s_open[j] - entry) * side < 0
                if _move_count(s_open[j], s_high[j], s_low[j], t1_fired, side, entry,
                               initial_stop, target, t1_ticks, time_mode,
                               second_pre_entry) > 1:
                    decided_by[k] = UNDECIDED
                code, level, t1_fired, stop = _bar_rule(s_high[j], s_low[j], s_close[j],
                                                        t1_fired, stop, side, entry, target,
                                                        t1_ticks, time_mode)
                if code != NO_TRADE:  # stamped with its minute, like every other exit
                    exit_ts[k], exit_px[k] = ts[i], level
                    break
            if code != NO_TRADE:
                break
        if code == NO_TRADE:  # §9.3 as amended: TIME or OPEN at the window's last close
            last = window_end_idx[r] - 1
            exit_px[k] = close[last]
            if expiry_ns[r] > as_of_ns:
                code = OPEN
                open_as_of[k] = ts[last]
            else:
                code = TIME
                exit_ts[k] = expiry_ns[r]
        result[k] = code
    return result, exit_ts, exit_px, open_as_of, decided_by, _OK, 0
