"""Compaction: a sweep's shards -> summary.parquet, summary.csv and trades.parquet.

Rows come out in grid order whatever the batching, so the bytes depend only on the grid
and the rows. Compaction is given plain data (the combos' parameter values in grid order),
never the spec itself.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from research.files import ROW_GROUP_ROWS, WRITE_OPTIONS, atomic_write, write_parquet
from research.store import SUMMARY, SUMMARY_CSV, TRADES, TRADES_SUFFIX, SweepStore
from research.tables import (
    TRADES_SCHEMA,
    param_columns_for,
    param_table,
    summary_schema,
    to_table,
)

logger = logging.getLogger(__name__)
SHARD_CACHE = 4  # trades shards held in memory at once during compaction
AxisValues = Mapping[str, Mapping[str, Any]]  # combo_id -> {axis: value as written}


def compact(store: SweepStore, axis_values: AxisValues, axes: Sequence[str],
            row_group_rows: int = ROW_GROUP_ROWS) -> pd.DataFrame:
    """compact_summary then compact_trades: all three files; returns the summary."""
    summary, where = compact_summary(store, axis_values, axes)
    compact_trades(store, where, row_group_rows)
    return summary


def compact_summary(store: SweepStore, axis_values: AxisValues,
                    axes: Sequence[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Write summary.parquet and summary.csv in grid order; return the summary and the
    finished combos' combo_id -> task_id in that order (what compact_trades takes).

    `axis_values` lists every combo of the grid in grid order with its parameter values;
    unfinished combos are left out. Column types come from all of them (param_columns_for),
    so they never depend on which combos finished.
    """
    columns = param_columns_for(axis_values.values(), list(axes))
    metrics_t, task_of = store.summaries()
    where = {c: task_of[c] for c in axis_values if c in task_of}
    logger.info("compacting %d of %d combos into %s", len(where), len(axis_values), store.root)
    row_of = {c: i for i, c in enumerate(metrics_t.column("combo_id").to_pylist())}
    metrics_t = metrics_t.take(pa.array([row_of[c] for c in where], pa.int64()))
    params_t = param_table([axis_values[c] for c in where], columns)
    summary_t = pa.Table.from_arrays(
        [metrics_t.column("combo_id"), *params_t.columns, *metrics_t.columns[1:]],
        schema=summary_schema(columns))
    write_parquet(summary_t, store.root / SUMMARY)
    summary = summary_t.to_pandas()
    with atomic_write(store.root / SUMMARY_CSV) as handle:
        handle.write(summary.to_csv(index=False, lineterminator="\n").encode())
    return summary, where


def compact_trades(store: SweepStore, where: Mapping[str, str],
                   row_group_rows: int = ROW_GROUP_ROWS) -> None:
    """Write trades.parquet: each combo's rows from shard `where[combo_id]`, combos in
    `where`'s order (compact_summary's). The bytes depend only on that order and the
    rows, not on batching: trades stream combo by combo through a small LRU of shards
    and are cut into row groups of `row_group_rows`."""
    cache = _ShardCache(store.shards)
    pending: list[pa.Table] = []
    pending_rows = 0
    with (atomic_write(store.root / TRADES) as handle,
          pq.ParquetWriter(handle, TRADES_SCHEMA, **WRITE_OPTIONS) as writer):
        for combo_id, task_id in where.items():
            rows = cache.rows(task_id, combo_id)
            if len(rows):
                pending.append(rows)
                pending_rows += len(rows)
            if pending_rows >= row_group_rows:
                pending = _flush(writer, pending, row_group_rows, final=False)
                pending_rows = sum(len(t) for t in pending)
        _flush(writer, pending, row_group_rows, final=True)


def _flush(writer: pq.ParquetWriter, pending: list[pa.Table], row_group_rows: int,
           final: bool) -> list[pa.Table]:
    """Write whole row groups (everything when final); return the rows kept for later.

    One contiguous chunk per write, cut at multiples of row_group_rows, so row groups and
    pages fall at the same rows whatever shards the rows came from."""
    if not pending:
        return []
    rows = pa.concat_tables(pending).combine_chunks()
    cut = len(rows) if final else len(rows) - len(rows) % row_group_rows
    if cut:
        writer.write_table(rows.slice(0, cut), row_group_size=row_group_rows)
    rest = rows.slice(cut)
    return [rest] if len(rest) else []


class _ShardCache:
    """The last few trades shards read, each with its combo_id -> row positions."""

    def __init__(self, shards: Path, size: int = SHARD_CACHE) -> None:
        self.shards, self.size = shards, size
        self.loaded: OrderedDict[str, tuple[pa.Table, dict[str, np.ndarray]]] = OrderedDict()

    def rows(self, task_id: str, combo_id: str) -> pa.Table:
        if task_id not in self.loaded:
            if len(self.loaded) >= self.size:
                self.loaded.popitem(last=False)
            self.loaded[task_id] = self._load(task_id)
        self.loaded.move_to_end(task_id)
        table, positions = self.loaded[task_id]
        return table.take(positions.get(combo_id, np.empty(0, dtype=np.int64)))

    def _load(self, task_id: str) -> tuple[pa.Table, dict[str, np.ndarray]]:
        table = to_table(pq.read_table(self.shards / (task_id + TRADES_SUFFIX)), TRADES_SCHEMA)
        encoded = table.column("combo_id").combine_chunks().dictionary_encode()
        codes = encoded.indices.to_numpy()
        order = np.argsort(codes, kind="stable")  # stable: shard row order within a combo
        ends = np.cumsum(np.bincount(codes, minlength=len(encoded.dictionary)))
        starts = ends - np.diff(ends, prepend=0)
        names = encoded.dictionary.to_pylist()
        return table, {c: order[s:e] for c, s, e in zip(names, starts, ends, strict=True)}
