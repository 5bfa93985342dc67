"""Compaction: shards and the last compacted files -> summary, daily and trades files.

Every finished combo has its summary row, daily row and trades rows in one *source*: a task's
shards, or the files of the last compaction (which a resumed or grown grid reuses). The
outputs list the grid's finished combos in grid order. Each source file is read forward, row
group by row group (research/results/parquet_rows.py), so every row group is decoded once:
compaction is linear in the rows and its memory is bounded by row groups, not by the grid.
Compaction is given plain data (each combo's parameter values, in grid order), never the
spec itself.

Every file names its combos (trades.parquet in its footer, the others in a combo_id column),
and a source's combo counts only where its files agree, so a compaction cut short between
two renames never mixes rows of different combos.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from research.errors import (
    CompactionError,  # noqa: F401 - raised here
    shorten,
)
from research.results.atomic import ROW_GROUP_ROWS, WRITE_OPTIONS, atomic_write, write_parquet
from research.results.daily import DAILY, daily_schema
from research.results.parquet_rows import GroupWriter, RowReader, Segment
from research.results.safe_files import is_regular, regular_or_absent, unlink_regular
from research.results.schemas import (
    SHARD_SUMMARY_SCHEMA,
    TRADES_SCHEMA,
    ParamColumns,
    param_table,
    summary_schema,
    to_table,
)
from research.results.store import (
    DAILY_SUFFIX,
    SHARD_TASK_KEY,
    SUMMARY,
    SUMMARY_CSV,
    SUMMARY_SUFFIX,
    TRADE_ROWS_KEY,
    TRADES,
    TRADES_SUFFIX,
    SweepStore,
)

logger = logging.getLogger(__name__)
DAILY_ROW_GROUP_ROWS = 1024  # combos per row group of daily.parquet
CSV_ROWS_PER_WRITE = 8192  # summary.csv rows formatted at once
CHECKSUMS = "compacted checksums"  # SweepStore.sources_seen's entry for the outputs' check


@dataclass(frozen=True, slots=True)
class Source:
    """One place finished combos can be read from: their summary rows, daily rows, trades."""

    name: str
    summary: pa.Table  # SHARD_SUMMARY_SCHEMA, one row per combo, in file order
    daily: Path
    trades: Path | None
    trade_starts: dict[str, int]  # combo_id -> first row in `trades`

    def combos(self) -> list[str]:
        return self.summary.column("combo_id").to_pylist()

    def combo_rows(self) -> Iterator[tuple[str, int, int]]:
        """(combo_id, its row in the summary and daily file, its trades rows: the summary's
        `ranges`), in file order."""
        return zip(self.combos(), itertools.count(),
                   self.summary.column("ranges").to_pylist())


@dataclass(frozen=True, slots=True)
class _Pick:
    combo_id: str
    values: Mapping[str, Any]  # its parameter values as written
    source: int
    row: int  # in the source's summary and daily file
    rows: int  # trades rows (the summary's `ranges`)


@dataclass(frozen=True, slots=True)
class Compaction:
    """What one compaction writes: the grid's finished combos, in grid order, each from
    its source. `write_summary` first (the report can start on it), then `write_rows`.

    >>> import tempfile
    >>> store = SweepStore(tempfile.mkdtemp()); store.prepare({"data_fingerprint": "d"}, {})
    >>> dates = np.array([19724, 19725])  # 2024-01-02 and 03
    >>> grid = [("a1b2", {"target": 10})]
    >>> Compaction.of(store, grid, [("target", pa.int64())], dates).write_summary().empty
    True
    """

    store: SweepStore
    sources: tuple[Source, ...]
    picks: tuple[_Pick, ...]
    columns: ParamColumns
    store_trades: bool
    dates: np.ndarray  # the data's trading dates, day numbers: the daily matrix's rows

    @classmethod
    def of(cls, store: SweepStore, grid: Iterable[tuple[str, Mapping[str, Any]]],
           columns: ParamColumns, dates: np.ndarray, *,
           store_trades: bool = True) -> Compaction:
        """`grid`: every combo's id and parameter values in grid order, read once (it may be
        a generator); `columns`: the summary's parameter columns, typed over the whole grid
        (so types never depend on which combos finished)."""
        sources = find_sources(store, dates, with_trades=store_trades).usable
        picks = tuple(_pick(sources, grid))
        logger.info("compacting %d combos into %s", len(picks), store.root)
        return cls(store, sources, picks, tuple(columns), store_trades, dates)

    def write_summary(self) -> pd.DataFrame:
        """summary.parquet and summary.csv; returns the summary."""
        return _write_summary(self.store, self.sources, self.picks, self.columns)

    def write_rows(self, row_group_rows: int = ROW_GROUP_ROWS) -> int:
        """daily.parquet and trades.parquet (removed when trades are not stored). Returns
        how many source row groups were decoded: each once when compaction is linear."""
        with RowReader() as reader:
            if self.store_trades:
                _write_trades(self.store.root / TRADES, self.sources, self.picks, reader,
                              row_group_rows)
            else:
                unlink_regular(self.store.root / TRADES)
            _write_daily(self.store.root / DAILY, self.sources, self.picks, reader, self.dates)
            return reader.decoded


@dataclass(frozen=True, slots=True)
class Sources:
    """Where finished combos can be read from, and what was wrong with what could not be
    used (name -> problem, in words): a shard's task id, or "compacted"."""

    usable: tuple[Source, ...]
    problems: dict[str, str]


def find_sources(store: SweepStore, dates: np.ndarray, with_trades: bool = True) -> Sources:
    """The committed shards (by task id) and then the last compacted files whose daily rows
    run over `dates`; where a combo is in several, the first source wins (a shard is newer
    than the compacted files). Checks footers and combo ids only: no full re-read."""
    expected = daily_schema(dates).remove_metadata()
    usable, problems = [], {}
    candidates = [(task_id, store.shard_path(task_id, SUMMARY_SUFFIX),
                   store.shard_path(task_id, DAILY_SUFFIX),
                   store.shard_path(task_id, TRADES_SUFFIX)) for task_id in store.committed_tasks()]
    if is_regular(store.root / SUMMARY):
        # their checksums are read (whole files hashed) once a sweep, as the footers are
        key = _files_key((store.root / SUMMARY, store.root / DAILY, store.root / TRADES),
                         with_trades, dates)
        seen = store.sources_seen.get(CHECKSUMS)
        changed = seen[1] if seen is not None and seen[0] == key else \
            _changed_outputs(store, with_trades)
        store.sources_seen[CHECKSUMS] = (key, changed)
        if changed:  # its checksums say it is not what was written: never carried forward
            problems["compacted"] = changed
        else:
            candidates.append(("compacted", store.root / SUMMARY, store.root / DAILY,
                               store.root / TRADES))
    for name, summary, daily, trades in candidates:
        for path in (summary, daily):  # a link, FIFO or device there: refused, never read
            regular_or_absent(path)
        trades_path = trades if regular_or_absent(trades) else None
        key = _files_key((summary, daily, trades_path), with_trades, dates)
        seen = store.sources_seen.get(name)
        if seen is not None and seen[0] == key:  # read (or written) earlier in this sweep
            source, problem = seen[1]
        else:
            source, problem = _source(name, summary, daily, trades_path, with_trades, expected)
            store.sources_seen[name] = (key, (source, problem))
        if source is not None:
            usable.append(source)
        if problem is not None:
            problems[name] = problem
    return Sources(tuple(usable), problems)


def remember_task(store: SweepStore, task_id: str, summary: pa.Table, dates: np.ndarray,
                  with_trades: bool = True) -> Source:
    """List a task's shards, just written by `store.write_task` (which returned `summary`),
    as a source without reading them back: its trades rows follow its summary's `ranges`
    (the worker encoded them so, research.results.store.encode_shards). A file changed
    since (another identity) is read as usual by `find_sources`."""
    paths = [store.shard_path(task_id, suffix)
             for suffix in (SUMMARY_SUFFIX, DAILY_SUFFIX, TRADES_SUFFIX)]
    trades = paths[2] if with_trades and regular_or_absent(paths[2]) else None
    starts = dict(zip(summary.column("combo_id").to_pylist(),
                      np.concatenate([[0], np.cumsum(summary.column("ranges").to_numpy())[:-1]])
                      .tolist(), strict=True)) if trades is not None and len(summary) else {}
    source = Source(task_id, to_table(summary, SHARD_SUMMARY_SCHEMA), paths[1], trades, starts)
    store.sources_seen[task_id] = (_files_key((paths[0], paths[1], trades), with_trades, dates),
                                   (source, None))
    return source


def _files_key(paths: Sequence[Path | None], with_trades: bool, dates: np.ndarray,
               ) -> tuple[Any, ...]:
    """Which files these are (device, inode, size, modification time: a rewrite or a swap
    changes it) and what they were checked against."""
    stats = []
    for path in paths:
        try:
            info = None if path is None else path.lstat()
        except OSError:
            info = None
        stats.append(None if info is None else
                     (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns))
    span = (len(dates), int(dates[0]), int(dates[-1])) if len(dates) else (0,)
    return (*stats, with_trades, span)


def _changed_outputs(store: SweepStore, with_trades: bool) -> str | None:
    """What of the compacted files differs from the manifest's sizes and checksums."""
    manifest = store.read_manifest() or {}
    names = (SUMMARY, DAILY, TRADES) if with_trades else (SUMMARY, DAILY)
    changed = [problem for name in names if (problem := store.changed_output(name, manifest))]
    return "; ".join(changed) or None


def _source(name: str, summary_path: Path, daily_path: Path, trades_path: Path | None,
            with_trades: bool, daily: pa.Schema) -> tuple[Source | None, str | None]:
    """A source of the combos its files agree on, and the problem with the rest, if any.
    Each file's footer is read once (one ParquetFile each)."""
    try:
        daily_file = pq.ParquetFile(daily_path)
        if daily_file.schema_arrow.remove_metadata() != daily:
            return None, "its daily rows run over other trading dates"
        summary_file = pq.ParquetFile(summary_path)
        summary = to_table(summary_file.read(), SHARD_SUMMARY_SCHEMA)
        daily_ids = daily_file.read(columns=["combo_id"]).column("combo_id")
        footers = [summary_file.schema_arrow.metadata, daily_file.schema_arrow.metadata]
        trade_counts = None
        if trades_path is not None:
            trades_footer = footer_of(trades_path)
            footers.append(trades_footer)
            trade_counts = _trade_counts(trades_footer)
        foreign = _foreign_task(name, (summary_path, daily_path, trades_path), footers)
    except (OSError, ValueError, pa.ArrowException) as exc:
        return None, f"unreadable ({type(exc).__name__}: {shorten(str(exc))})"
    if foreign:
        return None, foreign
    ids = summary.column("combo_id").to_pylist()
    ranges = summary.column("ranges").to_pylist()
    usable = set(ids) & set(daily_ids.to_pylist())
    starts: dict[str, int] = {}
    if trade_counts is not None:
        position = 0
        for combo, rows in trade_counts:
            starts[combo] = position
            position += rows
        counts = dict(trade_counts)
        usable &= {c for c, n in zip(ids, ranges, strict=True) if counts.get(c) == n}
    elif with_trades:
        usable = set()
    keep = [i for i, combo in enumerate(ids) if combo in usable]
    problem = None
    if len(keep) < len(ids):
        problem = f"{len(ids) - len(keep)} of {len(ids)} combos lack rows in its files"
    return Source(name, summary.take(pa.array(keep, pa.int64())), daily_path, trades_path,
                  starts), problem


def _foreign_task(name: str, paths: Sequence[Path | None],
                  footers: Sequence[Mapping[bytes, bytes] | None]) -> str | None:
    """A shard file that names another task in its footer was put there from elsewhere."""
    if name == "compacted":
        return None
    for path, footer in zip([p for p in paths if p is not None], footers, strict=True):
        task = (footer or {}).get(SHARD_TASK_KEY, b"").decode()
        if task != name:
            return f"{path.name} holds task {shorten(task)}'s rows"
    return None


def footer_of(path: Path) -> dict[bytes, bytes]:
    """The key-value metadata of a parquet file's footer: every key of the Arrow schema's
    metadata (a shard's), and those added as the file was closed (trades.parquet's row
    counts, known only then: `trade_rows_footer`). `pq.read_schema` gives only the former.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> with pq.ParquetWriter(path, pa.schema([("x", pa.int64())])) as writer:
    ...     writer.add_key_value_metadata(trade_rows_footer([["a1", 3]]))
    >>> footer_of(path)[TRADE_ROWS_KEY], pq.read_schema(path).metadata
    (b'[["a1", 3]]', None)
    """
    with pq.ParquetFile(path) as file:
        return dict(file.metadata.metadata or {})


def trade_rows_footer(counts: Sequence[Sequence[Any]]) -> dict[bytes, bytes]:
    """trades.parquet's footer entry naming each combo's rows, [[combo_id, rows], ...] in
    file order: added when the file is closed (ParquetWriter.add_key_value_metadata,
    pyarrow >= 17), so the rows can be written before the last task has finished."""
    return {TRADE_ROWS_KEY: json.dumps([[combo, int(rows)] for combo, rows in counts]).encode()}


def _trade_counts(footer: Mapping[bytes, bytes] | None) -> list[tuple[str, int]]:
    """(combo_id, rows) in file order, from the footer of a trades file."""
    return [tuple(pair) for pair in json.loads((footer or {}).get(TRADE_ROWS_KEY, b"[]"))]


def _pick(sources: Sequence[Source], grid: Iterable[tuple[str, Mapping[str, Any]]],
          ) -> list[_Pick]:
    """The finished combos of the grid, in grid order, each from its first source."""
    where: dict[str, tuple[int, int, int]] = {}
    for s, source in enumerate(sources):
        for combo, row, rows in source.combo_rows():
            where.setdefault(combo, (s, row, rows))
    return [_Pick(combo, values, *where[combo]) for combo, values in grid if combo in where]


def _write_summary(store: SweepStore, sources: Sequence[Source], picks: Sequence[_Pick],
                   columns: ParamColumns) -> pd.DataFrame:
    """summary.parquet and summary.csv: combo_id, the parameter columns, then the metrics."""
    offsets = np.cumsum([0] + [len(s.summary) for s in sources])
    metrics = pa.concat_tables([s.summary for s in sources] or [SHARD_SUMMARY_SCHEMA.empty_table()])
    metrics = metrics.take(pa.array([offsets[p.source] + p.row for p in picks], pa.int64()))
    params = param_table([p.values for p in picks], columns)
    summary = pa.Table.from_arrays([metrics.column("combo_id"), *params.columns,
                                    *metrics.columns[1:]], schema=summary_schema(columns))
    write_parquet(summary, store.root / SUMMARY)
    frame = summary.to_pandas()
    with atomic_write(store.root / SUMMARY_CSV) as handle:
        # a slice at a time: the whole file as one string cost ~150 MB at 100,800 combos
        for start in range(0, max(len(frame), 1), CSV_ROWS_PER_WRITE):
            part = frame.iloc[start:start + CSV_ROWS_PER_WRITE]
            handle.write(part.to_csv(index=False, header=start == 0,
                                     lineterminator="\n").encode())
    return frame


def _write_trades(path: Path, sources: Sequence[Source], picks: Sequence[_Pick],
                  reader: RowReader, row_group_rows: int) -> None:
    """trades.parquet: each combo's rows in grid order, checked against the summary, cut
    into fixed row groups so the bytes never depend on how the sources were batched."""
    segments = segments_of((p.source, sources[p.source].trade_starts[p.combo_id], p.rows,
                          p.combo_id) for p in picks)
    with (atomic_write(path) as handle,
          pq.ParquetWriter(handle, TRADES_SCHEMA, **WRITE_OPTIONS) as writer):
        pending = GroupWriter(writer, row_group_rows)
        for table, window in reader.gather(segments, lambda s: sources[s].trades,
                                           TRADES_SCHEMA, row_group_rows):
            check_rows(table.column("combo_id"), window, sources)
            pending.add(table)
        pending.close()
        # the same footer, at the same place, as when the rows are written while the
        # tasks run (research.results.streaming): the bytes never depend on which
        writer.add_key_value_metadata(trade_rows_footer([(p.combo_id, p.rows) for p in picks]))


def _write_daily(path: Path, sources: Sequence[Source], picks: Sequence[_Pick],
                 reader: RowReader, dates: np.ndarray) -> None:
    """daily.parquet: one row per combo in grid order (research.results.daily's layout)."""
    schema = daily_schema(dates)
    segments = segments_of((p.source, p.row, 1, p.combo_id) for p in picks)
    with (atomic_write(path) as handle,
          pq.ParquetWriter(handle, schema, **WRITE_OPTIONS) as writer):
        pending = GroupWriter(writer, DAILY_ROW_GROUP_ROWS)
        for table, window in reader.gather(segments, lambda s: sources[s].daily, schema,
                                           DAILY_ROW_GROUP_ROWS):
            check_rows(table.column("combo_id"), window, sources)
            pending.add(table)
        pending.close()


def segments_of(items: Iterable[tuple[int, int, int, str]],
              ) -> Iterator[tuple[int, int, int, list[list[Any]]]]:
    """Merge consecutive (source, start, rows, combo) into runs read at once; each run also
    lists its combos and their rows, to check what is read.

    >>> list(segments_of([(0, 0, 2, "a"), (0, 2, 3, "b"), (1, 0, 1, "c")]))
    [(0, 0, 5, [['a', 2], ['b', 3]]), (1, 0, 1, [['c', 1]])]
    """
    run: list[Any] | None = None
    for source, start, rows, combo in items:
        if run is not None and run[0] == source and run[1] + run[2] == start:
            run[2] += rows
            run[3].append([combo, rows])
            continue
        if run is not None:
            yield tuple(run)
        run = [source, start, rows, [[combo, rows]]]
    if run is not None:
        yield tuple(run)


def check_rows(column: pa.ChunkedArray | pa.Array, window: Sequence[Segment],
                sources: Sequence[Source]) -> None:
    """The rows read name the combos they should, in order, each as often as it should:
    checked for a whole window at once; a mismatch is then traced to its source.

    >>> check_rows(pa.array(["a", "a", "b"]), [(0, 0, 3, [["a", 2], ["b", 1]])], [])
    """
    if _rows_match(column, [pair for *_, combos in window for pair in combos]):
        return
    offset, culprit = 0, window[-1][0]
    for source, _, rows, combos in window:
        if not _rows_match(column.slice(offset, rows), combos):
            culprit = source
            break
        offset += rows
    raise CompactionError(f"{sources[culprit].name}: stored rows do not match its summary "
                          "(another task's rows?); not publishing; run again to recompute "
                          "them")


def _rows_match(column: pa.ChunkedArray | pa.Array, expected: list[list[Any]]) -> bool:
    ids = pa.array([c for c, _ in expected], pa.string())
    want = pc.take(ids, pa.array(np.repeat(np.arange(len(expected)),
                                           [n for _, n in expected])))
    return len(column) == len(want) and (not len(want) or pc.all(pc.equal(column, want)).as_py())
