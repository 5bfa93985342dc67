"""One prepared-bars cache entry on disk: a checked header and raw arrays, in one file.

An entry is ``MAGIC``, the header's length, the header (JSON: the key it was stored under,
a description, and each array's name, dtype, shape and place), the arrays' bytes (each at
a multiple of 64 bytes) and a CRC-32 of everything before it (zlib's; a damage check, not
a defence against a forger: a cut or altered file is caught, and CRC-32 reads a year of
bars in about a sixth of the time a blake2b digest takes here). It is written to a
temporary name (``.NAME.<12 hex>.tmp``, as results/atomic.py names its own) and renamed
into place, so a reader sees a whole entry or none; it is read through ``O_NOFOLLOW`` (a
link there is never followed) and bounded by the cache's size cap. Unlike a results file
it is not fsync'ed: after a crash an entry may be cut or empty, which its CRC-32 catches
(the bars are then read from the files again), and a sweep never waits for the disk.
Anything that does not check out (a
cut or altered file, another key, an array outside the file) is a `DamagedEntry`: the
cache then ignores the entry and writes it again; it never yields arrays that differ.

Entries are evicted oldest first (`evict`): a read refreshes an entry's modification
time, so the oldest is the least recently used.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "k.bars"
>>> _ = write_entry(path, {"k": 1}, {"n": 2}, {"x": np.arange(2)})
>>> entry = read_entry(path, {"k": 1}, max_bytes=2**20)
>>> entry.meta, entry.arrays["x"].tolist()
({'n': 2}, [0, 1])
"""

from __future__ import annotations

import itertools
import json
import os
import re
import stat
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from research.results.safe_files import open_regular

MAGIC = b"RSBARS\x00\x01"  # the format's name and version: another layout is another magic
SUFFIX = ".bars"
ALIGN = 64
DIGEST_BYTES = 4  # CRC-32, little-endian
MAX_HEADER_BYTES = 64 * 2**20  # a report of 20,000 files fits; a larger one is damage
STALE_TEMP_S = 3600.0  # a temporary file this old is what a crashed writer left
DTYPES = frozenset({"<i8", "<i4", "<i2", "|i1", "|u1", "|b1", "<f8"})  # what entries hold
_LENGTH = np.dtype("<u8")
# Only files named as this module names them are ever deleted (a cache_dir may be shared).
ENTRY_NAME = re.compile(r"^[0-9a-f]{40}\.bars$")
TEMP_NAME = re.compile(r"^\.[0-9a-f]{40}\.bars\.[0-9a-f]{12}\.tmp$")
MAX_SCAN_ENTRIES = 100_000  # folder entries an eviction looks at: bounded work


class DamagedEntry(ValueError):
    """An entry that cannot be used: cut, altered, another key or format."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What an entry holds: its description and its arrays (writable, owned by the entry)."""

    meta: Any
    arrays: dict[str, np.ndarray]
    nbytes: int


def write_entry(path: Path, key: Any, meta: Any, arrays: dict[str, np.ndarray]) -> int:
    """Store `arrays` and `meta` under `key` at `path` (atomically); the bytes written."""
    places, offset = [], 0
    contiguous = {}
    for name, values in arrays.items():
        values = np.ascontiguousarray(values)
        if values.dtype.str not in DTYPES:
            raise TypeError(f"write_entry: {name}: dtype {values.dtype} is not stored")
        contiguous[name] = values
        places.append([name, values.dtype.str, list(values.shape), offset, values.nbytes])
        offset += _aligned(values.nbytes)
    # keys in the order given: a description's mappings (a file's columns) keep theirs
    header = json.dumps({"key": key, "meta": meta, "arrays": places, "payload": offset},
                        separators=(",", ":")).encode()
    start = _aligned(len(MAGIC) + _LENGTH.itemsize + len(header))
    crc = 0
    with _replacing(path) as handle:
        for chunk in (MAGIC, np.array(len(header), _LENGTH).tobytes(), header,
                      bytes(start - len(MAGIC) - _LENGTH.itemsize - len(header))):
            handle.write(chunk)
            crc = zlib.crc32(chunk, crc)
        for (_, _, _, _, nbytes), values in zip(places, contiguous.values(), strict=True):
            for chunk in (memoryview(values).cast("B"), bytes(_aligned(nbytes) - nbytes)):
                handle.write(chunk)
                crc = zlib.crc32(chunk, crc)
        handle.write(crc.to_bytes(DIGEST_BYTES, "little"))
    return start + offset + DIGEST_BYTES


def read_entry(path: Path, key: Any, *, max_bytes: int) -> Entry | None:
    """The entry at `path` stored under `key`; None when there is none. A link or other
    non-file there raises UnsafeFileError; an entry that does not check out, DamagedEntry.
    A read refreshes the entry's modification time (least recently used goes first)."""
    try:
        fd = open_regular(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):  # no entry, or no folder yet
        return None
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise DamagedEntry(f"{size:,} bytes, over the cache's cap of {max_bytes:,}")
        buffer = np.empty(size, np.uint8)  # not zeroed first: a year of bars is 17 MB
        if handle.readinto(memoryview(buffer)) != size:
            raise DamagedEntry("shorter than it was a moment ago")
        if os.utime in os.supports_fd:  # the descriptor: never a link's target
            with suppress(OSError):
                os.utime(fd)
    return _parse(buffer, key)


def evict(folder: Path, max_bytes: int) -> int:
    """Delete the least recently used entries until the folder's entries fit `max_bytes`,
    and temporary files a crashed writer left; the bytes the entries take after it.

    >>> import pathlib, tempfile
    >>> evict(pathlib.Path(tempfile.mkdtemp()), max_bytes=0)
    0
    """
    entries, now = [], time.time()
    with os.scandir(folder) as listing:
        for item in itertools.islice(listing, MAX_SCAN_ENTRIES):
            with suppress(OSError):  # another process may remove it meanwhile
                info = item.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode):
                    continue
                if ENTRY_NAME.match(item.name):
                    entries.append((info.st_mtime_ns, item.name, info.st_size))
                elif TEMP_NAME.match(item.name) and now - info.st_mtime > STALE_TEMP_S:
                    os.unlink(folder / item.name)
    total = sum(size for _, _, size in entries)
    for _, name, size in sorted(entries):
        if total <= max_bytes:
            break
        with suppress(FileNotFoundError):
            os.unlink(folder / name)
        total -= size
    return total


@contextmanager
def _replacing(path: Path) -> Iterator[IO[bytes]]:
    """A temporary file in `path`'s folder, renamed to `path` once written (never through
    a link: O_EXCL | O_NOFOLLOW on the temporary; os.replace replaces a link, not its
    target)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        fd = open_regular(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _parse(buffer: np.ndarray, key: Any) -> Entry:
    view = memoryview(buffer)
    head = len(MAGIC) + _LENGTH.itemsize
    if len(buffer) < head + DIGEST_BYTES or bytes(view[:len(MAGIC)]) != MAGIC:
        raise DamagedEntry("not an entry of this format")
    body = view[:len(buffer) - DIGEST_BYTES]
    if zlib.crc32(body).to_bytes(DIGEST_BYTES, "little") != bytes(view[len(body):]):
        raise DamagedEntry("its CRC-32 does not match (cut or altered)")
    length = int(np.frombuffer(buffer, _LENGTH, 1, len(MAGIC))[0])
    if length > min(MAX_HEADER_BYTES, len(body) - head):
        raise DamagedEntry("its header does not fit")
    try:
        header = json.loads(bytes(view[head:head + length]))
    except ValueError as exc:
        raise DamagedEntry(f"its header is not JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("key") != key:
        raise DamagedEntry("stored under another key")
    start = _aligned(head + length)
    payload = header.get("payload")
    if not isinstance(payload, int) or start + payload != len(body):
        raise DamagedEntry("its arrays do not fill it")
    arrays = {}
    for place in header.get("arrays") or []:
        name, values = _array(buffer, place, start, payload)
        arrays[name] = values
    return Entry(header.get("meta"), arrays, len(buffer))


def _array(buffer: np.ndarray, place: Any, start: int, payload: int) -> tuple[str, np.ndarray]:
    """One array of the payload, a view of `buffer` (checked to lie inside it)."""
    try:
        name, dtype_text, shape, offset, nbytes = place
        dtype = np.dtype(dtype_text) if dtype_text in DTYPES else None
        count = int(np.prod(shape, dtype=np.int64)) if all(
            isinstance(n, int) and n >= 0 for n in shape) else -1
    except (TypeError, ValueError):
        raise DamagedEntry("an array's place is not readable") from None
    if not isinstance(name, str) or dtype is None or count < 0 or \
            not isinstance(offset, int) or not isinstance(nbytes, int) or \
            offset < 0 or nbytes != count * dtype.itemsize or offset + nbytes > payload:
        raise DamagedEntry("an array lies outside the entry")
    return name, np.frombuffer(buffer, dtype, count, start + offset).reshape(shape)


def _aligned(nbytes: int) -> int:
    return -(-nbytes // ALIGN) * ALIGN
