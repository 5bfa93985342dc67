"""Fill bounds: what a minute bar cannot tell about a trade, as its worst and best outcome.

A minute bar hides the order of its prices. The engine keeps the reference analyzer's
conventions for the row's result (docs/engine.md §9.1: a bar touching the stop and the target
goes to the level nearer its close; Q4 the entry bar's whole range counts; Q5 no stop on the
T1 bar; Q3 fills at the level past a gap). Here every order of a bar's prices is allowed
instead: from each state a trade can be in (T1 not fired / fired), a bar leads to every
exit whose level it touches in some order, and to the states it can leave the trade in.
Walking those states bar by bar gives every outcome the bars allow; the worst and the best
(in ticks) are the trade's pessimistic and optimistic outcomes. The reference's choice is
always one of them, so pessimistic <= reference <= optimistic, and so is any finer replay
of the same minutes (1-second bars, `research.engine.resolve`).

The pessimistic bound also fills a stop, or a breakout entry, that the bar opens beyond at
the open rather than at the level (the reference's level fill stays the row's result).

This module is the readable statement; the compiled walk (`walk_kernel._walk_batch`) does the
same in the same pass as the reference's walk, and tests hold the two equal.

>>> import pandas as pd
>>> from research.engine.codes import LONG, RESULT_NAMES, TIME
>>> from research.engine.data import prepare_bars
>>> frame = pd.DataFrame({"timestamp": pd.date_range("2024-01-09 08:00", periods=2,
...                                                   freq="min", tz="America/Chicago"),
...                       "open": [100.0, 100.0], "high": [104.0, 101.0],
...                       "low": [97.0, 99.0], "close": [100.0, 100.0], "instrument": "ES"})
>>> bars = prepare_bars(frame, "ES")
>>> rules = ExitRules(target_ticks=8, t1_threshold_ticks=6, stop_cap_ticks=24,
...                   time_mode=False)
>>> b = fill_bounds(bars, range(0, 2), LONG, 400, 392, rules, end=(TIME, 400))
>>> AMBIGUITY_NAMES[b.ambiguity], RESULT_NAMES[b.worst.result], RESULT_NAMES[b.best.result]
('entry bar', 'Loss', 'Win')
"""

from __future__ import annotations

from dataclasses import dataclass

from research.engine.bars import Bars
from research.engine.codes import (
    AMBIG_BOTH_LEVELS,
    AMBIG_ENTRY_BAR,
    AMBIG_GAP,
    AMBIG_NONE,
    AMBIGUITY_NAMES,
    BE,
    LOSS,
    NO_TRADE,
    WIN,
)
from research.engine.rules import ExitRules, favourable_ticks, touches_level

T1_NOT_FIRED, T1_FIRED = 0, 1  # the states a trade can be in between bars
STILL_OPEN = NO_TRADE  # a move that leaves the trade open (its `level` is the new state)

__all__ = ["AMBIGUITY_NAMES", "Bounds", "Outcome", "bar_moves", "fill_bounds"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One way a trade can end: its result, exit bar (-1: the window ended) and fill."""

    result: int
    exit_idx: int
    fill_ticks: int


@dataclass(frozen=True, slots=True)
class Bounds:
    """A trade's worst and best outcomes, the pessimistic entry fill and why they differ."""

    ambiguity: int  # AMBIG_*: AMBIG_NONE when both bounds give the same profit
    entry_fill_ticks: int  # the pessimistic entry: the open when the bar opened beyond
    worst: Outcome  # pessimistic: gap fills at the open
    best: Outcome  # optimistic: level fills


def bar_moves(bars: Bars, i: int, state: int, side: int, entry_ticks: int,
              initial_stop: int, rules: ExitRules, pre_entry: bool) -> list[tuple[int, int]]:
    """Every way bar i can end for a trade in `state`, its prices in any order:
    (result, level) of an exit, or (STILL_OPEN, next state). In a fixed order (the
    compiled walk keeps it, so ties pick the same outcome).

    `pre_entry`: part of the bar may predate the entry (the entry bar opened on the near
    side of the level, Q4), so a stop touch need not have happened in the trade.
    """
    target = entry_ticks + side * rules.target_ticks
    break_even = entry_ticks - side  # Q29
    hits_target = not rules.time_mode and touches_level(bars, i, side, target, adverse=False)
    hits_break_even = touches_level(bars, i, side, break_even, adverse=True)
    if state == T1_FIRED:
        moves = [(WIN, target)] if hits_target else []
        moves += [(BE, break_even)] if hits_break_even else []
        return moves or [(STILL_OPEN, T1_FIRED)]
    hits_initial = touches_level(bars, i, side, initial_stop, adverse=True)
    moves = [(LOSS, initial_stop)] if hits_initial else []  # the stop before T1
    if favourable_ticks(bars, i, side, entry_ticks) >= rules.t1_threshold_ticks:
        # T1 fires in this bar; after it, the target and the break-even stop in any order.
        moves += [(WIN, target)] if hits_target else []
        moves += [(BE, break_even)] if hits_break_even else []
        moves += [] if hits_target else [(STILL_OPEN, T1_FIRED)]
    elif not hits_initial or pre_entry:
        moves.append((STILL_OPEN, T1_NOT_FIRED))
    return moves


def stop_fill(bars: Bars, i: int, side: int, level: int) -> int:
    """The pessimistic fill of a stop at `level` in bar i: the open when the bar opened
    beyond it (a gap), else the level."""
    opened = int(bars.open_ticks[i])
    return opened if (opened - level) * side < 0 else level


def entry_fill(bars: Bars, i: int, side: int, level: int) -> int:
    """The pessimistic fill of a breakout entry at `level` on bar i: the open when the bar
    opened beyond the level (a gap), else the level."""
    opened = int(bars.open_ticks[i])
    return opened if (opened - level) * side > 0 else level


def fill_bounds(bars: Bars, window: range, side: int, entry_ticks: int, initial_stop: int,
                rules: ExitRules, end: tuple[int, int]) -> Bounds:
    """The bounds of one trade over its window W; `end` is (result, fill) of a trade still
    open when W ends (TIME or OPEN at the last close, §9.3 as amended)."""
    states = [T1_NOT_FIRED]
    worst: Outcome | None = None
    best: Outcome | None = None
    branched_at = -1
    for i in window:
        pre_entry = i == window[0] and (int(bars.open_ticks[i]) - entry_ticks) * side < 0
        next_states: list[int] = []
        moves = 0
        for state in states:
            for result, level in bar_moves(bars, i, state, side, entry_ticks, initial_stop,
                                           rules, pre_entry):
                moves += 1
                if result == STILL_OPEN:
                    next_states += [] if level in next_states else [level]
                    continue
                fill = stop_fill(bars, i, side, level) if result in (LOSS, BE) else level
                worst = _worse(worst, Outcome(result, i, fill), side)
                best = _better(best, Outcome(result, i, level), side)
        if moves > 1 and branched_at < 0:
            branched_at = i
        states = sorted(next_states)
        if not states:
            break
    if states:
        worst = _worse(worst, Outcome(end[0], -1, end[1]), side)
        best = _better(best, Outcome(end[0], -1, end[1]), side)
    assert worst is not None and best is not None  # W always holds the entry bar
    entry = entry_fill(bars, window[0], side, entry_ticks)
    if (worst.fill_ticks - entry) * side == (best.fill_ticks - entry_ticks) * side:
        ambiguity = AMBIG_NONE
    elif branched_at < 0:
        ambiguity = AMBIG_GAP
    else:
        ambiguity = AMBIG_ENTRY_BAR if branched_at == window[0] else AMBIG_BOTH_LEVELS
    return Bounds(ambiguity, entry, worst, best)


def _worse(current: Outcome | None, candidate: Outcome, side: int) -> Outcome:
    if current is None or (candidate.fill_ticks - current.fill_ticks) * side < 0:
        return candidate
    return current


def _better(current: Outcome | None, candidate: Outcome, side: int) -> Outcome:
    if current is None or (candidate.fill_ticks - current.fill_ticks) * side > 0:
        return candidate
    return current

