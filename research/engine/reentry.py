"""max_entries_per_day (docs/engine.md §7.5): after an exit, a range may enter again.

A range's first entries come from the shared entry stage, once per RangeRules. Only the
trades that exited (Win, BE, Loss) before their window ended can have a later entry: for
those, the entry scan runs again from the bar after the exit, over the same candidate
bars (by the cut-off, on the range's contract, before E), and the walk runs on the new
entries. Each round reads only the bars between an exit and the cut-off of the ranges
still in play, so the default (one entry) costs nothing and no pass reads all bars again.
The k-th entry of a range is its row with `entry_no` k; a range's rows follow each other
in entry order (results.select_rows).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from research.engine.bars import Bars
from research.engine.codes import BE, LOSS, NO_ENTRY, WIN
from research.engine.entry import EntryTable, detect_entries
from research.engine.entry_rules import EntryRules
from research.engine.execution import TradeBatch, execute_trades
from research.engine.ranges import RangeTable
from research.engine.rules import ExitRules

EXITED = (WIN, BE, LOSS)  # a trade that ended inside its window may be followed by another

Exits = Callable[[Bars, RangeTable, EntryTable, ExitRules, int], TradeBatch]


def next_scan_from(bars: Bars, exit_ts_ns: np.ndarray) -> np.ndarray:
    """The first bar a later entry may use: the bar after the exit bar. An exit on the
    contract's held bars (after a roll) lies past every candidate bar, so no entry follows."""
    return np.searchsorted(bars.ts_ns, exit_ts_ns, side="right").astype(np.int64)


def with_later_entries(bars: Bars, table: RangeTable, first: TradeBatch, rules: ExitRules,
                       entry_rules: EntryRules, as_of_ns: int,
                       exits: Exits = execute_trades) -> TradeBatch:
    """`first` (one trade per range, range_row = its row) followed by each range's 2nd to
    rules.max_entries-th trades, round after round."""
    rounds = [first]
    current = first
    for entry_no in range(2, rules.max_entries + 1):
        exited = np.isin(current.result, EXITED)
        if not exited.any():
            break
        rows = current.range_row[exited]
        scan_from = next_scan_from(bars, current.exit_ts_ns[exited])
        entries = detect_entries(bars, table[rows], entry_rules, scan_from)
        has = entries.direction != NO_ENTRY
        if not has.any():
            break
        rows = rows[has]
        walk = exits(bars, table[rows], entries[has], rules, as_of_ns)
        current = dataclasses.replace(walk, entry_no=np.full(len(walk), entry_no, np.int64),
                                      range_row=rows)
        rounds.append(current)
    return TradeBatch.concat(rounds) if len(rounds) > 1 else first
