"""Compaction while the tasks run (issue 23): daily.parquet and trades.parquet are written
as tasks finish, so the tail after the last task is small.

The rows are compaction's (research/results/compaction.py): the grid's finished combos in
grid order, each from its source, cut by the same GroupWriter into the same row groups,
with the same footer, so the bytes are the same whether they were streamed or written at
the end. One thread of the parent per file walks the grid in order; where the next combo's
task is not published yet, it waits for it (`TaskBoard`). Sources are read from the
published shards (just written: in the page cache), so nothing is held but the row groups
in flight, whatever order the tasks finish in.

Nothing is published until `RowStream.publish` has compared what was written with the
final compaction's picks (the same combos, the same rows each): otherwise, or when a thread
failed, the caller writes the rows at the end as before. A sweep that stops (Ctrl-C, a
failed store write) aborts the threads; their files are temp files (atomic_write), which go
with them, and a crash leaves only temp files, which the next run removes.

>>> import tempfile
>>> store = SweepStore(tempfile.mkdtemp()); store.prepare({"data_fingerprint": "d"}, {})
>>> dates = np.array([19724, 19725])
>>> with RowStream(store, dates, store_trades=False) as stream:
...     stream.start()
...     stream.add_chunk(["a1"], {"a1": "t1"})
...     stream.tasks_failed(["t1"]); stream.close_grid()
...     stream.publish(Compaction.of(store, [("a1", {"x": 1})], [("x", pa.int64())], dates))
True
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa  # noqa: F401 - the doctests use it
import pyarrow.parquet as pq

from research.errors import shorten
from research.results.atomic import ROW_GROUP_ROWS, WRITE_OPTIONS, atomic_write
from research.results.compaction import (
    DAILY_ROW_GROUP_ROWS,
    Compaction,
    Source,
    check_rows,
    find_sources,
    segments_of,
    trade_rows_footer,
)
from research.results.daily import DAILY, daily_schema
from research.results.parquet_rows import GroupWriter, Key, RowReader, Segment
from research.results.safe_files import unlink_regular
from research.results.schemas import TRADES_SCHEMA
from research.results.store import TRADES, SweepStore

logger = logging.getLogger(__name__)
KINDS = ("trades", "daily")


class _Aborted(Exception):
    """The sweep stopped: what was streamed is dropped."""


class TaskBoard:
    """What the streaming threads wait on: the grid's chunks as they are planned (each
    combo's id in grid order, and the task of each combo to run), each task's source once
    published (None: it failed as a whole), the end of the grid, and an abort.

    >>> board = TaskBoard(); board.add_chunk(["a1", "b2"], {"b2": "t1"}); board.close()
    >>> board.chunk(0)[0], board.chunk(1), board.task("t1")  # closed: t1 never came
    (['a1', 'b2'], None, None)
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._chunks: list[tuple[list[str], Mapping[str, str]]] = []
        self._tasks: dict[str, Source | None] = {}
        self._closed = False
        self.aborted = False
        self.waited_s: dict[str, float] = {}  # thread name -> seconds spent waiting

    def add_chunk(self, combo_ids: list[str], task_of: Mapping[str, str]) -> None:
        with self._changed:
            self._chunks.append((combo_ids, task_of))
            self._changed.notify_all()

    def publish(self, task_id: str, source: Source) -> None:
        with self._changed:
            self._tasks[task_id] = source
            self._changed.notify_all()

    def fail(self, task_ids: Iterable[str]) -> None:
        with self._changed:
            for task_id in task_ids:
                self._tasks.setdefault(task_id, None)
            self._changed.notify_all()

    def close(self) -> None:
        """No more chunks; a task not published by now never will be."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def abort(self) -> None:
        with self._changed:
            self.aborted = True
            self._changed.notify_all()

    def chunk(self, index: int) -> tuple[list[str], Mapping[str, str]] | None:
        """Chunk `index` once planned; None when the grid has fewer."""
        self._wait(lambda: index < len(self._chunks) or self._closed)
        return self._chunks[index] if index < len(self._chunks) else None

    def task(self, task_id: str) -> Source | None:
        """The task's source once published; None if it failed or never ran."""
        self._wait(lambda: task_id in self._tasks or self._closed)
        return self._tasks.get(task_id)

    def _wait(self, ready: Callable[[], bool]) -> None:
        started = time.perf_counter()
        with self._changed:
            while not ready() and not self.aborted:
                self._changed.wait()
            if self.aborted:
                raise _Aborted
        name = threading.current_thread().name
        self.waited_s[name] = self.waited_s.get(name, 0.0) + time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class _Pick:
    source: Source
    row: int  # in the source's summary and daily file
    rows: int  # trades rows
    combo_id: str
    position: int  # in the grid


class _Walker:
    """One file's walk over the grid: the picks in grid order (waiting for their tasks),
    merged into segments, and when a row group is read for the last time."""

    def __init__(self, board: TaskBoard, old: Sequence[Source], kind: str) -> None:
        self.board, self.kind = board, kind
        self.where: dict[str, tuple[Source, int, int]] = {}
        for source in old:  # the first source of a combo wins, as in compaction._pick
            for combo, row, rows in source.combo_rows():
                self.where.setdefault(combo, (source, row, rows))
        self.sources: list[Source] = []  # segment source numbers -> sources
        self._number: dict[int, int] = {}  # id(source) -> its number
        self._by_path: dict[Path, Source] = {}
        self._rows_of: dict[str, dict[str, tuple[int, int]]] = {}  # task -> combo -> row, rows
        self.positions: dict[str, int] = {}  # the current chunk's combos -> grid position
        self._last_use: dict[Key, int] = {}
        self._trade_index: dict[int, tuple[np.ndarray, list[str]]] = {}
        self.written: list[tuple[str, int]] = []  # (combo, trades rows) in file order

    def picks(self) -> Iterator[_Pick]:
        position = 0
        for index in itertools.count():
            chunk = self.board.chunk(index)
            if chunk is None:
                return
            ids, task_of = chunk
            self.positions = {combo: position + i for i, combo in enumerate(ids)}
            self._last_use.clear()  # computed over the chunk's positions
            for combo in ids:
                if self.board.aborted:
                    raise _Aborted
                hit = self.where.get(combo) or self._from_task(task_of.get(combo), combo)
                if hit is not None:
                    yield _Pick(*hit, combo, position)
                position += 1

    def _from_task(self, task_id: str | None, combo: str) -> tuple[Source, int, int] | None:
        if task_id is None:
            return None
        source = self.board.task(task_id)
        if source is None:
            return None
        rows_of = self._rows_of.get(task_id)
        if rows_of is None:
            rows_of = self._rows_of[task_id] = {
                combo: (row, rows) for combo, row, rows in source.combo_rows()}
        found = rows_of.get(combo)
        return None if found is None else (source, *found)

    def segments(self) -> Iterator[tuple[Segment, int]]:
        """The picks merged as compaction merges them (compaction.segments_of), each run
        with the grid position of its last combo."""
        positions: deque[int] = deque()  # of the picks handed to segments_of, not yet run

        def items() -> Iterator[tuple[int, int, int, str]]:
            for pick in self.picks():
                positions.append(pick.position)
                self.written.append((pick.combo_id, pick.rows))
                start, rows = ((pick.source.trade_starts[pick.combo_id], pick.rows)
                               if self.kind == "trades" else (pick.row, 1))
                yield self._numbered(pick.source), start, rows, pick.combo_id

        for run in segments_of(items()):
            for _ in run[3]:  # one pick per combo of the run, in order
                last = positions.popleft()
            yield run, last

    def path_of(self, number: int) -> Path:
        source = self.sources[number]
        return source.trades if self.kind == "trades" else source.daily  # type: ignore[return-value]

    def _numbered(self, source: Source) -> int:
        number = self._number.get(id(source))
        if number is None:
            number = self._number[id(source)] = len(self.sources)
            self.sources.append(source)
            self._by_path[self.path_of(number)] = source
        return number

    def done_with(self, reader: RowReader, key: Key, position: int) -> bool:
        """Whether no later combo of this chunk reads row group `key` (one of a later
        chunk decodes it again)."""
        last = self._last_use.get(key)
        if last is None:
            path, group = key
            bounds = reader.bounds(path)
            combos = self._combos_in(self._by_path[path], int(bounds[group]),
                                     int(bounds[group + 1]))
            last = self._last_use[key] = max((self.positions.get(c, -1) for c in combos),
                                             default=-1)
        return last <= position

    def _combos_in(self, source: Source, first: int, end: int) -> list[str]:
        """The combos with rows in [first, end) of the source's file."""
        if self.kind == "daily":
            return source.combos()[first:end]
        index = self._trade_index.get(id(source))
        if index is None:
            pairs = sorted(source.trade_starts.items(), key=lambda item: item[1])
            index = self._trade_index[id(source)] = (
                np.array([start for _, start in pairs], np.int64), [c for c, _ in pairs])
        starts, ids = index
        lo = max(0, int(np.searchsorted(starts, first, side="right")) - 1)
        return ids[lo:int(np.searchsorted(starts, end, side="left"))]


class RowStream:
    """daily.parquet and trades.parquet (when trades are stored) written while the tasks
    run, by one thread each: `start` them, tell them each chunk (`add_chunk`), each task
    published (`task_published`) or failed (`tasks_failed`) and the grid's end
    (`close_grid`); then `publish` with the final compaction. Leaving the `with` block
    without publishing drops what was written."""

    def __init__(self, store: SweepStore, dates: np.ndarray, *, store_trades: bool) -> None:
        self.store, self.dates, self.store_trades = store, dates, store_trades
        self.board = TaskBoard()
        self.kinds = KINDS if store_trades else ("daily",)
        self._state = threading.Condition()
        self._written: dict[str, list[tuple[str, int]]] = {}
        self._errors: dict[str, BaseException] = {}
        self._verdict: bool | None = None
        self._threads: list[threading.Thread] = []
        self.busy_s: dict[str, float] = {}  # each thread's time not spent waiting
        self.cpu_s: dict[str, float] = {}  # each thread's cpu time
        self.decoded: dict[str, tuple[int, int]] = {}  # row groups decoded, peak bytes held

    def __enter__(self) -> RowStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def started(self) -> bool:
        return bool(self._threads)

    def start(self) -> None:
        """Start the threads; the sources found now (earlier shards, the last compacted
        files) come first, as in compaction.find_sources."""
        old = find_sources(self.store, self.dates, with_trades=self.store_trades).usable
        for kind in self.kinds:
            thread = threading.Thread(target=self._copy, args=(kind, old), daemon=True,
                                      name=f"research-compact-{kind}")
            self._threads.append(thread)
            thread.start()

    def add_chunk(self, combo_ids: list[str], task_of: Mapping[str, str]) -> None:
        if self.started:
            self.board.add_chunk(combo_ids, task_of)

    def task_published(self, task_id: str, source: Source) -> None:
        if self.started:
            self.board.publish(task_id, source)

    def tasks_failed(self, task_ids: Iterable[str]) -> None:
        if self.started:
            self.board.fail(task_ids)

    def close_grid(self) -> None:
        self.board.close()

    def publish(self, compaction: Compaction) -> bool:
        """Publish the streamed files if they hold exactly `compaction`'s picks; False (and
        nothing published) otherwise: the caller writes the rows at the end."""
        if not self.started:
            return False
        self.close_grid()
        with self._state:
            self._state.wait_for(lambda: len(self._written) + len(self._errors)
                                 == len(self.kinds))
            expected = [(p.combo_id, p.rows) for p in compaction.picks]
            problem = self._problem(expected)
            self._verdict = problem is None
            self._state.notify_all()
        for thread in self._threads:
            thread.join()
        if problem is not None:
            logger.info("rows streamed while the tasks ran not used (%s): written at the end",
                        problem)
            return False
        if self._errors:  # failed once told to publish (the disk filled): as at the end
            raise next(iter(self._errors.values()))
        if not self.store_trades:
            unlink_regular(self.store.root / TRADES)
        return True

    def _problem(self, expected: list[tuple[str, int]]) -> str | None:
        """Why the streamed files cannot be published, in words (None: they can)."""
        for kind, exc in self._errors.items():
            return f"the {kind} thread failed: {type(exc).__name__}: {shorten(str(exc))}"
        for kind, written in self._written.items():
            if written != expected:
                return (f"its {kind} rows are of {len(written)} combos, the final "
                        f"compaction's of {len(expected)} (or in another order)")
        return None

    def stop(self) -> None:
        """Drop what was streamed (unless published) and wait for the threads."""
        self.board.abort()
        with self._state:
            if self._verdict is None:
                self._verdict = False
            self._state.notify_all()
        for thread in self._threads:
            thread.join()

    def _copy(self, kind: str, old: Sequence[Source]) -> None:
        """One file's rows, as compaction._write_trades / _write_daily write them."""
        started, cpu_started = time.perf_counter(), time.thread_time()
        name = threading.current_thread().name
        path, schema, group_rows = ((self.store.root / TRADES, TRADES_SCHEMA, ROW_GROUP_ROWS)
                                    if kind == "trades" else
                                    (self.store.root / DAILY, daily_schema(self.dates),
                                     DAILY_ROW_GROUP_ROWS))
        walker = _Walker(self.board, old, kind)
        try:
            with (atomic_write(path) as handle,
                  pq.ParquetWriter(handle, schema, **WRITE_OPTIONS) as writer):
                with RowReader() as reader:
                    pending = GroupWriter(writer, group_rows)
                    for table, window in reader.stream(
                            walker.segments(), walker.path_of, schema, group_rows,
                            lambda key, done: walker.done_with(reader, key, done)):
                        check_rows(table.column("combo_id"), window, walker.sources)
                        pending.add(table)
                    pending.close()
                    self.decoded[kind] = (reader.decoded, reader.peak_cached)
                self.busy_s[kind] = (time.perf_counter() - started
                                     - self.board.waited_s.get(name, 0.0))
                self.cpu_s[kind] = time.thread_time() - cpu_started
                if not self._finished(kind, walker.written):
                    raise _Aborted
                if kind == "trades":
                    writer.add_key_value_metadata(trade_rows_footer(walker.written))
        except _Aborted:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to `publish`
            with self._state:
                self._errors[kind] = exc
                self._state.notify_all()

    def _finished(self, kind: str, written: list[tuple[str, int]]) -> bool:
        """Hand over what was written; wait for the verdict: publish or drop."""
        with self._state:
            self._written[kind] = written
            self._state.notify_all()
            self._state.wait_for(lambda: self._verdict is not None)
            return bool(self._verdict) and not self.board.aborted


def stream_wanted(processes: int) -> bool:
    """Whether compaction runs beside the tasks: only where they run in worker processes,
    which leaves the parent's own cpu idle while it waits for them. In one process the
    engine takes the whole budget (its threads), and a thread beside it would take cpu
    from it.

    >>> stream_wanted(1), stream_wanted(2)
    (False, True)
    """
    return processes > 1

