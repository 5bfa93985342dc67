"""Rows of parquet files copied by position, in order, into new files (compaction's reads
and writes): each source row group decoded once and dropped after its last read, the rows
of many combos copied with one `take`, and writes cut into fixed row groups.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.parquet"
>>> pq.write_table(pa.table({"x": list(range(10))}), path, row_group_size=4)
>>> with RowReader() as reader:
...     tables = [t for t, _ in reader.gather([(0, 2, 5, [["a", 5]])], lambda s: path,
...                                           pa.schema([("x", pa.int64())]), window_rows=8)]
>>> tables[0].column("x").to_pylist(), reader.decoded
([2, 3, 4, 5, 6], 2)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CACHE_BYTES = 256 * 2**20  # decoded row groups kept while reading sources
# Source row groups one gathered window may hold at once (besides the cache): a window is
# copied with one `take`, so the rows of many small combos cost one call, not one each.
WINDOW_GROUPS = 8
Segment = tuple[int, int, int, list[list[Any]]]  # source, first row, rows, [[combo, rows]...]
Key = tuple[Path, int]  # a row group: its file and its index there


class GroupWriter:
    """Rows waiting for a writer, written in whole row groups of `rows` (everything at the
    end): one contiguous chunk per write, cut at multiples of `rows`, so row groups and pages
    fall at the same rows whatever sources the rows came from."""

    def __init__(self, writer: pq.ParquetWriter, rows: int) -> None:
        self.writer, self.group_rows = writer, rows
        self.tables: list[pa.Table] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        if len(table):
            self.tables.append(table)
            self.rows += len(table)
        if self.rows >= self.group_rows:
            self._flush(final=False)

    def close(self) -> None:
        self._flush(final=True)

    def _flush(self, final: bool) -> None:
        # one row group a write, made contiguous (pages fall at the same rows whatever the
        # chunks): only that group is copied, not all the rows waiting
        while self.rows >= self.group_rows or (final and self.rows):
            want = min(self.rows, self.group_rows)
            head: list[pa.Table] = []
            rest: list[pa.Table] = []
            taken = 0
            for table in self.tables:
                n = min(len(table), want - taken)
                if n:
                    head.append(table.slice(0, n))
                    taken += n
                if n < len(table):
                    rest.append(table.slice(n))
            self.writer.write_table(pa.concat_tables(head).combine_chunks(),
                                    row_group_size=self.group_rows)
            self.tables, self.rows = rest, self.rows - want


def pieces_of(segment: Segment, max_rows: int) -> list[Segment]:
    """`segment` cut at its combos into pieces of at most `max_rows` rows (a combo with more
    rows is a piece of its own).

    >>> pieces_of((0, 10, 5, [["a", 2], ["b", 2], ["c", 1]]), 3)
    [(0, 10, 2, [['a', 2]]), (0, 12, 3, [['b', 2], ['c', 1]])]
    """
    source, start, rows, combos = segment
    if rows <= max_rows:
        return [segment]
    pieces: list[Segment] = []
    first, count, members = start, 0, []
    for combo, n in combos:
        if members and count + n > max_rows:
            pieces.append((source, first, count, members))
            first, count, members = first + count, 0, []
        members.append([combo, n])
        count += n
    pieces.append((source, first, count, members))
    return pieces


class _Window:
    """Rows to copy, as (row group, first row, rows) pieces of the groups it holds."""

    def __init__(self) -> None:
        self.groups: dict[tuple[Path, int], int] = {}  # key -> position in `tables`
        self.tables: list[pa.Table] = []
        self.starts: list[int] = []  # each piece's first row in the concatenated groups
        self.lengths: list[int] = []
        self.segments: list[Segment] = []
        self.rows = 0
        self.last = -1  # the position of its last segment (RowReader.stream)

    def needs_room(self, keys: Sequence[tuple[Path, int]]) -> bool:
        return len(self.groups.keys() | set(keys)) > WINDOW_GROUPS

    def hold(self, key: tuple[Path, int], table: pa.Table) -> None:
        self.groups[key] = len(self.tables)
        self.tables.append(table)

    def add(self, segment: Segment, keys: Sequence[tuple[Path, int]],
            bounds: np.ndarray | None) -> None:
        """A segment whose rows lie in `keys` (held), `bounds` their file's group starts."""
        _, start, length, _ = segment
        offsets = np.cumsum([0] + [len(t) for t in self.tables])
        for key in keys:
            group_first = int(bounds[key[1]])
            lo = max(start, group_first)
            hi = min(start + length, int(bounds[key[1] + 1]))
            self.starts.append(int(offsets[self.groups[key]]) + lo - group_first)
            self.lengths.append(hi - lo)
        self.segments.append(segment)
        self.rows += length

    def take(self, schema: pa.Schema) -> pa.Table:
        if not self.rows:
            return schema.empty_table()
        lengths = np.asarray(self.lengths, np.int64)
        firsts = np.repeat(np.asarray(self.starts, np.int64) - np.cumsum(lengths) + lengths,
                           lengths)
        rows = pa.concat_tables(self.tables).take(pa.array(firsts + np.arange(lengths.sum())))
        return rows.cast(schema)


class RowReader:
    """Rows of parquet files by position: each row group decoded on demand and kept until
    its last read (within CACHE_BYTES, least recently used first out), so reads that move
    forward decode every row group once."""

    def __init__(self, cache_bytes: int = CACHE_BYTES) -> None:
        self.cache_bytes = cache_bytes
        self.files: dict[Path, tuple[pq.ParquetFile, np.ndarray]] = {}
        self.groups: OrderedDict[tuple[Path, int], pa.Table] = OrderedDict()
        self.cached = 0
        self.peak_cached = 0  # the most bytes of decoded groups held at once
        self.decoded = 0  # row groups decoded: equal to the files' row groups when linear

    def __enter__(self) -> RowReader:
        return self

    def __exit__(self, *exc: object) -> None:
        for file, _ in self.files.values():
            file.close()
        self.groups.clear()

    def gather(self, segments: Iterable[Segment], path_of: Callable[[int], Path],
               schema: pa.Schema, window_rows: int,
               ) -> Iterator[tuple[pa.Table, list[Segment]]]:
        """The rows of `segments` in order, in windows of about `window_rows` rows that
        touch at most WINDOW_GROUPS source row groups (one segment may touch more): each
        window is copied with one `take`. Yields (rows, the window's segments).

        The whole order of reads is known up front, so a row group leaves the cache once
        its last segment is copied: reads in order hold a group or two, not CACHE_BYTES.
        """
        segments = list(segments)
        last_use = {key: i for i, segment in enumerate(segments)
                    for key in self._keys(path_of(segment[0]), segment)}
        return self.stream(((segment, i) for i, segment in enumerate(segments)), path_of,
                           schema, window_rows, lambda key, done: last_use[key] <= done)

    def stream(self, items: Iterable[tuple[Segment, int]], path_of: Callable[[int], Path],
               schema: pa.Schema, window_rows: int, done_with: Callable[[Key, int], bool],
               ) -> Iterator[tuple[pa.Table, list[Segment]]]:
        """`gather` over segments that may not all be known yet (compaction while the tasks
        run: `items` may wait for them): each segment comes with a position that grows,
        and a window's row groups leave the cache once `done_with(key, position of the
        window's last segment)` says no later segment reads them. A group dropped too
        early is decoded again (the rows stay right; only the work grows)."""
        window = _Window()
        for segment, position in items:
            # a task's rows arrive as one segment (hundreds of thousands of rows): cut at
            # its combos so a window, and the copies made of it, stay near window_rows
            pieces = pieces_of(segment, window_rows)
            piece_keys = [self._keys(path_of(piece[0]), piece) for piece in pieces]
            for p, (piece, keys) in enumerate(zip(pieces, piece_keys, strict=True)):
                if window.segments and (window.needs_room(keys)
                                        or window.rows + piece[2] > window_rows):
                    yield self._take(window, schema, done_with, window.last, keep=keys)
                    window = _Window()
                for key in keys:
                    if key not in window.groups:
                        window.hold(key, self._group(*key))
                window.add(piece, keys, self.files[keys[0][0]][1] if keys else None)
                window.last = position
                if window.rows >= window_rows:  # the next piece may share a row group
                    following = piece_keys[p + 1] if p + 1 < len(pieces) else ()
                    yield self._take(window, schema, done_with, position, keep=following)
                    window = _Window()
        if window.segments:
            yield self._take(window, schema, done_with, window.last)

    def bounds(self, path: Path) -> np.ndarray:
        """The first row of each of `path`'s row groups, then its row count."""
        return self._open(path)[1]

    def _keys(self, path: Path, segment: Segment) -> list[tuple[Path, int]]:
        """The (file, row group) keys a segment's rows lie in."""
        _, start, length, _ = segment
        if not length:
            return []
        _, bounds = self._open(path)
        first = int(np.searchsorted(bounds, start, side="right")) - 1
        last = int(np.searchsorted(bounds, start + length, side="left"))  # exclusive
        return [(path, group) for group in range(first, last)]

    def _take(self, window: _Window, schema: pa.Schema, done_with: Callable[[Key, int], bool],
              done: int, keep: Sequence[Key] = ()) -> tuple[pa.Table, list[Segment]]:
        """The window's rows; then the groups no later segment reads leave the cache (not
        those in `keep`: the next piece of the same segment reads them)."""
        rows = window.take(schema)
        for key in window.groups:
            if key in self.groups and key not in keep and done_with(key, done):
                self.cached -= self.groups.pop(key).nbytes
        return rows, window.segments

    def _open(self, path: Path) -> tuple[pq.ParquetFile, np.ndarray]:
        if path not in self.files:
            file = pq.ParquetFile(path)
            sizes = [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)]
            self.files[path] = (file, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))
        return self.files[path]

    def _group(self, path: Path, index: int) -> pa.Table:
        key = (path, index)
        if key in self.groups:
            self.groups.move_to_end(key)
            return self.groups[key]
        table = self.files[path][0].read_row_group(index).replace_schema_metadata(None)
        self.decoded += 1
        self.groups[key] = table
        self.cached += table.nbytes
        self.peak_cached = max(self.peak_cached, self.cached)
        while self.cached > self.cache_bytes and len(self.groups) > 1:
            _, dropped = self.groups.popitem(last=False)
            self.cached -= dropped.nbytes
        return table
