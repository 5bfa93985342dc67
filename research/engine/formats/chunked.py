"""A large text file read and converted a chunk of rows at a time (issue 19: loading a CSV
peaks at no more than about twice its size).

Read whole, a file's text columns and its converted arrays lie in memory together (pandas'
table alone is about 1.3 times the file). Here each chunk of CHUNK_ROWS rows is read
(`textio.chunked_reads`) and converted into the loader's arrays before the next is read, so
the text is never whole; then the arrays are joined one column at a time.

The chunked read must give what the whole read gives, error or result. Whatever the whole
file decides once, every chunk must decide alike (format, price scale, the date format
tried or inferred, the stamps' zone, each column's numeric type): chunks that disagree, or
a chunk that fails, make the loader read the whole file at once, for the very same result
or message (`read_in_chunks` returns None). Rows in chunks are numbered from the file's
first data row, as in the whole read.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from research.engine.formats.base import RawTable
from research.engine.formats.detect import Detected
from research.engine.formats.textio import EndOfChunks, chunked_reads
from research.errors import DataError

CHUNK_ROWS = 1 << 17  # rows of a large text file read and converted at a time
CHUNKED_ABOVE_BYTES = 64 << 20  # text files larger than this are read in chunks
PRICE_COLUMNS = ("open", "high", "low", "close")
ROW_ARRAYS = ("rows", "names", "contracts", "utc_ns")  # one value per row, besides prices


@dataclass(frozen=True, slots=True, kw_only=True)
class RawShape:
    """What the loader needs of a RawTable once its values are converted (not the values).

    >>> from research.engine.formats.base import FORMATS
    >>> RawShape(fmt=FORMATS["sierrachart"], columns=("close",), renamed={"close": "Last"},
    ...          rows=3).column("close")
    'Last'
    """

    fmt: Any  # base.VendorFormat
    columns: tuple[str, ...]  # the loader's names of the table's columns
    renamed: dict[str, str]
    rows: int  # the file's (or chunk's) data rows

    def column(self, name: str) -> str:
        """The file's name of a loader column, for messages (RawTable.column)."""
        return self.renamed.get(name, name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Converted:
    """One file's (or one chunk's) rows of the instrument as arrays: what the loader checks
    next. `agree` is what every chunk of one file must share."""

    raw: RawShape
    rows: np.ndarray  # 0-based positions among the file's data rows
    names: np.ndarray
    contracts: np.ndarray
    spreads: int
    holds: tuple[str, ...]
    named_from: str  # where the instrument came from (file_notes.named_by_path)
    zone: str
    stamps: str
    utc_ns: np.ndarray
    prices: dict[str, np.ndarray]
    volume: np.ndarray | None
    agree: tuple = ()


def chunked(file: Path, detected: Detected) -> bool:
    """Whether `file` is text larger than CHUNKED_ABOVE_BYTES (read in chunks)."""
    try:
        return detected.kind == "text" and file.stat().st_size > CHUNKED_ABOVE_BYTES
    except OSError:
        return False


def read_in_chunks(file: Path, detected: Detected, read_raw: Callable[[], RawTable],
                   convert: Callable[[RawTable, int], Converted]) -> Converted | None:
    """`file` CHUNK_ROWS rows at a time: `read_raw()` gives the next chunk's table and
    `convert(raw, first_row)` its arrays. None when a chunk fails or the chunks disagree
    (the caller then reads the whole file at once)."""
    pieces: dict[str, list[np.ndarray]] = {name: [] for name in (*ROW_ARRAYS, *PRICE_COLUMNS,
                                                                 "volume")}
    first: Converted | None = None
    spreads, holds, first_row = 0, set(), 0
    try:
        with chunked_reads(file, CHUNK_ROWS):
            while True:
                try:
                    part = convert(read_raw(), first_row)
                except EndOfChunks:
                    break
                if first is not None and part.agree != first.agree:
                    return None
                first = first or part
                first_row += part.raw.rows
                spreads += part.spreads
                holds.update(part.holds)
                _keep(pieces, part)
    except DataError:
        return None
    if first is None:
        return None
    return _joined(first, pieces, first_row, spreads, tuple(sorted(holds)))


def _keep(pieces: dict[str, list[np.ndarray]], part: Converted) -> None:
    for name in ROW_ARRAYS:
        pieces[name].append(getattr(part, name))
    for name in PRICE_COLUMNS:
        pieces[name].append(part.prices[name])
    if part.volume is not None:
        pieces["volume"].append(part.volume)


def _joined(first: Converted, pieces: dict[str, list[np.ndarray]], rows: int, spreads: int,
            holds: tuple[str, ...]) -> Converted:
    """The chunks as one file: each column joined and its pieces let go (their pages handed
    back to the system) before the next."""
    joined = {}
    for name in list(pieces):
        joined[name] = np.concatenate(pieces.pop(name)) if first.volume is not None \
            or name != "volume" else None
        give_back_freed_memory()  # the pieces lie in the heap: else each column counts twice
    shape = RawShape(fmt=first.raw.fmt, columns=first.raw.columns, renamed=first.raw.renamed,
                     rows=rows)
    return Converted(raw=shape, rows=joined["rows"], names=joined["names"],
                     contracts=joined["contracts"], utc_ns=joined["utc_ns"],
                     prices={name: joined[name] for name in PRICE_COLUMNS},
                     volume=joined["volume"], spreads=spreads, holds=holds,
                     named_from=first.named_from, zone=first.zone, stamps=first.stamps,
                     agree=first.agree)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def give_back_freed_memory() -> None:
    """Hand freed heap pages back to the system (glibc's malloc_trim(0); nothing elsewhere).

    glibc keeps freed chunks of a few MB in its heap rather than returning them, so the
    chunks' freed text would still count in the process' memory; malloc_trim "attempts to
    release free memory from the heap" and "since glibc 2.8 ... frees memory in all arenas
    and in all chunks with whole free pages" (malloc_trim(3)).

    >>> give_back_freed_memory()
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
