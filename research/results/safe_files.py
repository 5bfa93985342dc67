"""The results folder is the boundary: files in it are opened without following links.

A sweep writes, reads and deletes only regular files it could have made itself. A symbolic
link, FIFO, socket or device where a results file (or ``shards/``) should be is never
followed, opened or deleted through: it is an `UnsafeFileError` naming the path (the CLI
exits 2). Checks use ``lstat`` and ``O_NOFOLLOW`` (and ``O_NONBLOCK``, so a FIFO never
blocks the open); reads are bounded (`read_bounded`), so a manifest linked to /dev/zero
cannot exhaust memory.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "a.json").write_text("{}")
>>> read_bounded(folder / "a.json", 100)
b'{}'
>>> (folder / "link.json").symlink_to(folder / "a.json")
>>> read_bounded(folder / "link.json", 100)  # doctest: +ELLIPSIS
Traceback (most recent call last):
research.errors.UnsafeFileError: .../link.json: is a symbolic link, not a file; ...
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from research.errors import UnsafeFileError, shorten

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # Windows has neither flag (nor FIFOs)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CHUNK_BYTES = 1 << 20
_ADVICE = ("the results folder only holds files a sweep wrote: remove it, or choose another "
           "sweep name or results folder")

T = TypeVar("T")
E = TypeVar("E", bound=Exception)
# What reading a damaged or mistyped parquet/JSON file raises (pyarrow, pandas, json).
READ_ERRORS = (OSError, ValueError, TypeError, KeyError, pa.ArrowException)

def what_is(mode: int) -> str:
    """A file type in words.

    >>> what_is(stat.S_IFIFO), what_is(stat.S_IFLNK)
    ('a FIFO (named pipe)', 'a symbolic link')
    """
    for test, words in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"),
                        (stat.S_ISREG, "a file")):
        if test(mode):
            return words
    return "of an unknown type"


def unsafe(path: Path, mode: int, wanted: str = "a file") -> UnsafeFileError:
    """The one-line error for `path` of file type `mode` where `wanted` should be."""
    return UnsafeFileError(f"{shorten(str(path), 120)[1:-1]}: is {what_is(mode)}, not "
                           f"{wanted}; {_ADVICE}")


def regular_or_absent(path: Path) -> os.stat_result | None:
    """`path`'s lstat if it is a regular file, None if nothing is there; anything else
    (a link, FIFO, device, folder) raises UnsafeFileError naming it."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise unsafe(path, info.st_mode)
    return info


def is_regular(path: Path) -> bool:
    """Whether a regular file is at `path` (a link to one is not)."""
    return regular_or_absent(path) is not None


def regular_file(path: Path, error: type[Exception]) -> bool:
    """`is_regular`, a link, FIFO or device raised as `error`: each reader of a results
    folder (analysis, report, Sweep) says it with its own error class.

    >>> import tempfile
    >>> regular_file(Path(tempfile.mkdtemp()) / "summary.parquet", ValueError)
    False
    """
    try:
        return is_regular(path)
    except UnsafeFileError as exc:
        raise error(str(exc)) from None


def damaged(path: Path, exc: BaseException, error: type[E]) -> E:
    """The one line for a results file that cannot be read (damaged, truncated, mistyped).

    >>> str(damaged(Path("r/s.parquet"), ValueError("bad"), ValueError))  # doctest: +ELLIPSIS
    'r/s.parquet: cannot be read, damaged or truncated (ValueError: bad); run the sweep again...'
    """
    return error(f"{path}: cannot be read, damaged or truncated ({type(exc).__name__}: "
                 f"{shorten(str(exc), 80)[1:-1]}); run the sweep again to rewrite it")


def read_table(path: Path, reader: Callable[[Path], T], error: type[Exception]) -> T:
    """`reader(path)`, a damaged file raised as `error` (`damaged`'s line)."""
    try:
        return reader(path)
    except READ_ERRORS as exc:
        raise damaged(path, exc, error) from None


def folder_or_absent(path: Path) -> bool:
    """Whether `path` is a real folder (False: nothing there); a link or file there raises."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        raise unsafe(path, info.st_mode, "a folder")
    return True


def open_regular(path: Path, flags: int, mode: int = 0o644) -> int:
    """os.open without following a link or blocking on a FIFO; the descriptor of a regular
    file, else UnsafeFileError (the descriptor closed)."""
    regular_or_absent(path)
    try:
        fd = os.open(path, flags | _NOFOLLOW | _NONBLOCK, mode)
    except OSError as exc:
        info = _lstat(path)
        if info is not None and not stat.S_ISREG(info.st_mode):  # swapped in meanwhile
            raise unsafe(path, info.st_mode) from None
        raise exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise unsafe(path, info.st_mode)
    if _NONBLOCK:
        os.set_blocking(fd, True)
    return fd


def read_bounded(path: Path, limit_bytes: int) -> bytes:
    """A regular file's bytes, refused (UnsafeFileError) past `limit_bytes`."""
    fd = open_regular(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit_bytes + 1)
    if len(data) > limit_bytes:
        raise UnsafeFileError(f"{shorten(str(path), 120)[1:-1]}: is over {limit_bytes:,} bytes, "
                              "too large for what it should hold; it was not written by a "
                              "sweep: remove it, or choose another results folder")
    return data


def unlink_regular(path: Path) -> None:
    """Delete a regular file (nothing if absent); a link or anything else raises."""
    if regular_or_absent(path) is not None:
        path.unlink(missing_ok=True)


def file_record(path: Path) -> dict[str, int | str]:
    """{"size": bytes, "sha256": hex} of a regular file: what the manifest lists per output.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = path.write_bytes(b"abc")
    >>> file_record(path)["size"], file_record(path)["sha256"][:12]
    (3, 'ba7816bf8f01')
    """
    fd = open_regular(path, os.O_RDONLY)
    digest, size = hashlib.sha256(), 0
    with os.fdopen(fd, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except OSError:
        return None
