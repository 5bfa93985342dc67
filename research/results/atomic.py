"""Files that are never half-written, and parquet bytes that never depend on the clock.

Every file of a results folder goes through `atomic_write` (a temp file in the same
folder, fsync, ``os.replace``), so a crash never leaves a half-written file under a final
name; the final name is never a link, FIFO or device (safe_files.py: refused, never
followed); parquet is always encoded with the same options, so the same rows give the same bytes.

>>> import pathlib, tempfile, pyarrow as pa
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
>>> write_parquet(pa.table({"x": [1, 2]}), path)
>>> parquet_bytes(pa.table({"x": [1, 2]})) == path.read_bytes()
True
"""

from __future__ import annotations

import json
import os
import re
import stat
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from research.results.safe_files import open_regular, regular_or_absent

# Fixed writer options: the same rows always give the same bytes (parquet stores no clock).
WRITE_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3,
                                 "use_dictionary": True, "write_statistics": True,
                                 "version": "2.6", "data_page_version": "1.0"}
ROW_GROUP_ROWS = 131_072
TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")  # what atomic_write leaves after a crash


@contextmanager
def atomic_write(path: Path) -> Iterator[IO[bytes]]:
    """Yield a file in `path`'s folder that replaces `path` only once fully written and synced."""
    regular_or_absent(path)  # a link, FIFO or device there: refused, never replaced
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        fd = open_regular(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    with suppress(OSError):  # make the rename durable on POSIX; Windows can't open folders
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def parquet_bytes(table: pa.Table, row_group_rows: int = ROW_GROUP_ROWS) -> bytes:
    """A table encoded with the fixed options: a worker encodes its shard (the heavy part),
    the parent only publishes the bytes."""
    sink = pa.BufferOutputStream()
    pq.write_table(table.combine_chunks(), sink, row_group_size=row_group_rows, **WRITE_OPTIONS)
    return sink.getvalue().to_pybytes()


def write_parquet(table: pa.Table | bytes, path: Path) -> None:
    """Atomic parquet write of a table or of parquet_bytes."""
    encoded = table if isinstance(table, bytes) else parquet_bytes(table)
    with atomic_write(path) as handle:
        handle.write(encoded)


def write_json(data: Mapping[str, Any], path: Path) -> None:
    """Atomic JSON write: sorted keys, indented, numpy scalars as numbers."""
    text = json.dumps(data, sort_keys=True, indent=2, default=_json_default) + "\n"
    with atomic_write(path) as handle:
        handle.write(text.encode())


def remove_temp_files(folder: Path) -> None:
    """Delete what a crashed atomic_write left in `folder` (never a finished file)."""
    for path in folder.iterdir():
        if TEMP_NAME.match(path.name) and stat.S_ISREG(path.lstat().st_mode):
            path.unlink(missing_ok=True)


def _json_default(value: Any) -> Any:
    """numpy scalars as numbers; anything else JSON lacks (Path, Timestamp) as its text."""
    return value.item() if isinstance(value, np.generic) else str(value)
