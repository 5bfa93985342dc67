"""The one pipeline (docs/architecture.md): bars -> ranges -> entries -> exits -> rows -> costs.

`run_strategy` runs it for one RunParams. A sweep's task runs the shared stages (ranges and
entries) once for its RangeRules, the exit walk once per ExitRules, the rows stage (which
rows a combo writes) per combo, then the columns of all its combos at once, costs applied
row-wise. Both go through `Pipeline`, so the stages are put together in this one place.

>>> from research.engine.data import prepare_bars
>>> from research.engine.synthetic import synthetic_bars
>>> from research.parallel.processor import ParallelProcessor
>>> bars = prepare_bars(synthetic_bars("ES", "2024-01-08", "2024-01-12"), "ES")
>>> pipeline = Pipeline(bars, bars.last_ts_ns, ParallelProcessor(max_workers=1))
>>> len(pipeline.run(RunParams(instrument="ES")))
35
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from research.engine.bars import Bars
from research.engine.codes import ENTRY_STOP
from research.engine.entry import EntryTable, detect_entries
from research.engine.entry_rules import DEFAULT_ENTRY_RULES, EntryRules
from research.engine.execution import (
    ExitRules,
    TradeBatch,
    execute_trades,
    execute_trades_for,
)
from research.engine.params import RunParams
from research.engine.ranges import RangeRules, RangeTable, build_slot_ranges
from research.engine.reentry import with_later_entries
from research.engine.resolve import resolve_trades
from research.engine.results import (
    GatheredRows,
    RowPiece,
    gather_columns,
    select_rows,
    to_frame,
)
from research.errors import ParamsError
from research.parallel.processor import ParallelProcessor


@dataclass(frozen=True, slots=True)
class Stages:
    """The stage functions, in flow order: the engine's by default.

    A seam for tests and tools: swap one stage (say, one that raises on a given day) and
    everything else, threads and sweeps included, runs as usual. Module-level functions
    keep it picklable for worker processes.

    >>> Stages().exits is execute_trades
    True
    """

    ranges: Callable[..., RangeTable] = build_slot_ranges
    entries: Callable[[Bars, RangeTable, EntryRules], EntryTable] = detect_entries
    exits: Callable[[Bars, RangeTable, EntryTable, ExitRules, int], TradeBatch] = execute_trades
    rows: Callable[[Bars, RangeTable, TradeBatch, RunParams], np.ndarray] = select_rows


ENGINE_STAGES = Stages()


@dataclass(frozen=True, slots=True, eq=False)
class SharedRanges(Sequence):
    """What the shared stages give: the ranges and their entries, row for row.

    Slices cut both together (the processor slices it for threads); items are SlotRanges,
    so a failing slice is reported with its range's label.
    """

    table: RangeTable
    entries: EntryTable
    rules: RangeRules | None = None  # what built them (the entry rule of later entries)

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return SharedRanges(self.table[index], self.entries[index], self.rules)
        return self.table[index]

    @property
    def work_estimates(self) -> Any:
        return self.table.work_estimates


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The stages over one instrument's bars, with `processor` cutting each stage's work
    into slices for threads. Results never depend on the slicing."""

    bars: Bars
    as_of_ns: int  # docs/engine.md Q9/Q20: OPEN when the expiry is after this instant
    processor: ParallelProcessor
    stages: Stages = ENGINE_STAGES
    seconds: Bars | None = None  # 1-second bars deciding ambiguous trades (resolve_with)

    def shared(self, rules: RangeRules) -> SharedRanges:
        """Ranges (§4-§6) and entries (§7): the same for every combo with these rules."""
        table = self.stages.ranges(self.bars, rules,
                                   map_parts=lambda fn, parts: self.processor.map(parts, fn))
        entries = self.processor.process(
            table, lambda part: self.stages.entries(self.bars, part, rules.entry))
        return SharedRanges(table, EntryTable.concat(entries), rules)

    def exits(self, shared: SharedRanges, rules: ExitRules) -> TradeBatch:
        """The exit walk (§8-§10) of every range: the same for combos with equal rules.
        With `seconds`, its ambiguous trades are then decided on them (engine.resolve).
        With max_entries_per_day > 1, each range's later entries follow (engine.reentry)."""
        parts = self.processor.process(
            shared, lambda part: self.stages.exits(self.bars, part.table, part.entries, rules,
                                                   self.as_of_ns))
        trades = TradeBatch.concat(parts)  # one per range: its row is its range_row
        if len(parts) != 1 or not _counts_up(trades.range_row):  # each slice counted from 0
            trades = dataclasses.replace(trades, range_row=np.arange(len(trades), dtype=np.int64))
        entry_rules = shared.rules.entry if shared.rules else DEFAULT_ENTRY_RULES
        if self.seconds is not None:
            _check_resolvable(rules, entry_rules)
            return resolve_trades(self.bars, self.seconds, shared.table, shared.entries,
                                  trades, rules, self.as_of_ns)
        if rules.max_entries > 1:
            trades = with_later_entries(self.bars, shared.table, trades, rules, entry_rules,
                                        self.as_of_ns, self.stages.exits)
        return trades

    def exits_for(self, shared: SharedRanges, rules: Sequence[ExitRules]) -> list[TradeBatch]:
        """`exits` under each of several ExitRules, in order. The engine's own walk with one
        entry per range and no 1-second replay takes them all in one compiled call per
        slice (execution.execute_trades_for); anything else goes one rules at a time."""
        if (self.stages.exits is not execute_trades or self.seconds is not None
                or len(rules) < 2 or any(r.max_entries > 1 for r in rules)):
            return [self.exits(shared, r) for r in rules]
        parts = self.processor.process(
            shared, lambda part: execute_trades_for(self.bars, part.table, part.entries, rules,
                                                    self.as_of_ns))
        batches = []
        for k in range(len(rules)):
            trades = TradeBatch.concat([part[k] for part in parts])
            if len(parts) != 1:  # each slice counted its rows from 0
                trades = dataclasses.replace(
                    trades, range_row=np.arange(len(trades), dtype=np.int64))
            batches.append(trades)
        return batches

    def rows(self, shared: SharedRanges, trades: TradeBatch, rp: RunParams) -> np.ndarray:
        """Which of the ranges one combo writes (§12 as amended)."""
        return self.stages.rows(self.bars, shared.table, trades, rp)

    def columns(self, shared: SharedRanges, walks: list[TradeBatch],
                pieces: list[RowPiece]) -> GatheredRows:
        """The typed columns of several combos' rows (see results.gather_columns)."""
        return gather_columns(self.bars, shared.table, walks, pieces)

    def frame(self, shared: SharedRanges, trades: TradeBatch, rp: RunParams) -> pd.DataFrame:
        """One combo's typed result frame."""
        piece = RowPiece.of(rp, self.rows(shared, trades, rp))
        return to_frame(self.columns(shared, [trades], [piece]).columns)

    def run(self, rp: RunParams) -> pd.DataFrame:
        """Every stage for one RunParams."""
        shared = self.shared(RangeRules.from_params(rp))
        return self.frame(shared, self.exits(shared, ExitRules.from_params(rp)), rp)


def _counts_up(rows: np.ndarray) -> bool:
    """Whether `rows` is 0, 1, 2, ...: a single slice's trades need no renumbering.

    >>> _counts_up(np.arange(3)), _counts_up(np.array([1, 2]))
    (True, False)
    """
    return bool((rows == np.arange(len(rows))).all())


def _check_resolvable(rules: ExitRules, entry_rules: EntryRules) -> None:
    """The 1-second replay (engine.resolve) knows the reference's rules: one stop entry per
    range and a target in points."""
    unsupported = [name for name, used in (("target_r", rules.target_r is not None),
                                           ("max_entries_per_day > 1", rules.max_entries > 1),
                                           ("entry: close_confirm",
                                            entry_rules.mode != ENTRY_STOP))
                   if used]
    if unsupported:
        raise ParamsError(f"data.resolve_with: the 1-second replay does not support "
                          f"{', '.join(unsupported)}; drop resolve_with or these rules")
