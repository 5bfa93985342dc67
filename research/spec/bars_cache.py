"""The prepared-bars cache: a second sweep or inspection of the same files reads the bars
the first one prepared, instead of parsing the files again.

Where: ``data.cache_dir`` (``--cache-dir``), else ``$XDG_CACHE_HOME/research``, else
``~/.cache/research`` (the XDG Base Directory Specification: a relative
``$XDG_CACHE_HOME`` is ignored). How big: ``data.cache_max_bytes`` (default 2 GiB); past it
the least recently used entries are deleted, and 0 turns the cache off (as ``--no-cache``
does). Synthetic data is generated, never cached.

An entry's key is everything the bars depend on: each file's path, size, modification
time (ns) and a blake2b hash of its first and last 64 KiB, in the order the loader reads
them; every load option; the instrument; the path as given (the bars' source names it);
the cache format, ENGINE_VERSION, a digest of the engine's own source files and the
versions of the libraries that read the files. A changed file (size, time or content at
either end) is another key, so it is read again; the same key gives the same bytes, so
results never depend on the cache (cold, warm or stale). An entry is written atomically
and read through ``O_NOFOLLOW`` (cache_entry.py); a damaged one is ignored, said in one
warning and written again; a cache folder that cannot be written is said in one warning
and the sweep goes on without it.

>>> import pathlib, tempfile
>>> from research.engine.formats.options import LoadOptions
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = folder / "ES.txt"
>>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
>>> settings = CacheSettings(folder=str(folder / "cache"))
>>> options = LoadOptions.checked(str(path), instrument="ES")
>>> [cached_bars(path, options, settings).cache for _ in range(2)]
['miss', 'hit']
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import logging
import os
import zoneinfo
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from research.engine.bars import Bars
from research.engine.bars_pack import pack_bars, unpack_bars
from research.engine.data import bars_from_files
from research.engine.formats.databento import expected_schema
from research.engine.formats.files import bar_files
from research.engine.formats.options import LoadOptions
from research.errors import DataError, SpecError, UnsafeFileError, shorten
from research.results.provenance import ENGINE_VERSION
from research.results.safe_files import folder_or_absent, unlink_regular
from research.spec.cache_entry import SUFFIX, DamagedEntry, evict, read_entry, write_entry

logger = logging.getLogger(__name__)
T = TypeVar("T")

CACHE_FORMAT = 1  # the key's and the entry's layout: a change makes every entry another key
DEFAULT_MAX_BYTES = 2 * 2**30
ENDS_BYTES = 64 * 2**10  # hashed at each end of a file
HIT, MISS, OFF = "hit", "miss", "off"
FIX = "give --cache-dir DIR (data.cache_dir) or --no-cache"


@dataclass(frozen=True, slots=True)
class CacheSettings:
    """Where the prepared-bars cache lives and how big it may grow. `folder` None: the
    default (`default_folder`); `max_bytes` 0 or `enabled` False: no cache at all.

    >>> CacheSettings(max_bytes=0).on, CacheSettings(folder="/tmp/c").where()
    (False, PosixPath('/tmp/c'))
    """

    folder: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    enabled: bool = True

    @property
    def on(self) -> bool:
        return self.enabled and self.max_bytes > 0

    def where(self) -> Path:
        return Path(self.folder) if self.folder is not None else default_folder()

    @classmethod
    def parsed(cls, folder: Any, max_bytes: Any, where: str = "data") -> CacheSettings:
        """A spec's ``cache_dir`` and ``cache_max_bytes`` checked (None: the default); a
        relative folder is taken from the working folder, ``~`` expanded.

        >>> CacheSettings.parsed(None, 10).max_bytes
        10
        >>> CacheSettings.parsed(None, -1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        research.errors.SpecError: data.cache_max_bytes: -1 is not a whole number of bytes ...
        """
        if folder is not None and (not isinstance(folder, str) or not folder or
                                   "\0" in folder):
            raise SpecError(f"{where}.cache_dir: {shorten(folder)} is not a folder path")
        if max_bytes is None:
            max_bytes = DEFAULT_MAX_BYTES
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise SpecError(f"{where}.cache_max_bytes: {shorten(max_bytes)} is not a whole "
                            "number of bytes >= 0 (0 turns the cache off)")
        return cls(folder=None if folder is None else os.path.abspath(os.path.expanduser(
            folder)), max_bytes=max_bytes)


def default_folder() -> Path:
    """``$XDG_CACHE_HOME/research``, else ``~/.cache/research`` (XDG Base Directory
    Specification, specifications.freedesktop.org/basedir-spec: a relative path in
    ``$XDG_CACHE_HOME`` is invalid and ignored).

    >>> default_folder().name
    'research'
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "research"


def cached_bars(path: str | os.PathLike[str], options: LoadOptions,
                settings: CacheSettings | None = None) -> Bars:
    """`bars_from_files(path, options)` through the cache; the Bars' ``cache`` says
    whether they came from it (hit), were read and stored (miss), or the cache was off.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
    >>> options = LoadOptions.checked(str(path), instrument="ES")
    >>> cached_bars(path, options, CacheSettings(enabled=False)).cache
    'off'
    """
    settings = settings or CacheSettings()
    bars, state = cached("bars", path, options, settings,
                         lambda: bars_from_files(path, options), pack_bars,
                         lambda meta, arrays: unpack_bars(meta, arrays))
    if state == HIT:  # said again, as reading the files said them
        for message in bars.load_warnings:
            logging.getLogger("research.engine.data").warning("%s", message)
    return dataclasses.replace(bars, cache=state)


def cached(kind: str, path: str | os.PathLike[str], options: LoadOptions,
           settings: CacheSettings, read: Callable[[], T],
           pack: Callable[[T], tuple[Any, dict[str, np.ndarray]]],
           unpack: Callable[[Any, dict[str, np.ndarray]], T]) -> tuple[T, str]:
    """`read()` through the cache under `kind` (what is stored: "bars" for a sweep, the
    inspector's own); with the state: hit, miss or off. A failure of the cache itself is a
    warning, never the caller's error; the reader's own errors pass through.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
    >>> settings = CacheSettings(folder=str(path.parent / "cache"))
    >>> store = (lambda n: ({"n": n}, {}), lambda meta, arrays: meta["n"])
    >>> [cached("demo", path, LoadOptions(), settings, lambda: 7, *store) for _ in "ab"]
    [(7, 'miss'), (7, 'hit')]
    """
    if not settings.on:
        return read(), OFF
    try:
        files = bar_files(path, format=options.file_format)
        key = entry_key(kind, path, options, files)
    except (DataError, OSError):  # let the reader say what is wrong with the data
        return read(), MISS
    try:
        entry_path = settings.where() / (name_of(key) + SUFFIX)
    except RuntimeError as exc:  # Path.home(): no home folder to put ~/.cache in
        logger.warning("the prepared-bars cache has no folder (%s); the files are read "
                       "(%s)", _why(exc), FIX)
        return read(), MISS
    try:
        entry = read_entry(entry_path, key, max_bytes=settings.max_bytes)
        if entry is not None:
            value = unpack(entry.meta, entry.arrays)
            logger.info("%s: read from the prepared-bars cache (%s)", shorten(
                os.fspath(path))[1:-1], entry_path)
            return value, HIT
    except (DamagedEntry, ValueError, TypeError, KeyError) as exc:
        logger.warning("%s: a damaged prepared-bars cache entry (%s): ignored, written again",
                       entry_path, shorten(str(exc), 80)[1:-1])
        _remove(entry_path)
    except (OSError, UnsafeFileError) as exc:
        logger.warning("the prepared-bars cache cannot be read (%s); the files are read "
                       "instead (%s)", _why(exc), FIX)
        return read(), MISS
    value = read()
    if _unchanged(files, key):  # a file written while it was read: not stored
        _store(settings, entry_path, key, lambda: pack(value))
    return value, MISS


def entry_key(kind: str, path: str | os.PathLike[str], options: LoadOptions,
              files: list[Path]) -> dict[str, Any]:
    """Everything the stored bars depend on, as JSON-able values (module docstring).

    >>> sorted(entry_key("bars", "ES.txt", LoadOptions(), []))[:4]
    ['code', 'engine', 'files', 'format']
    """
    key = {"format": CACHE_FORMAT, "kind": kind, "engine": ENGINE_VERSION,
           "code": code_digest(), "versions": library_versions(), "path": os.fspath(path),
           "options": {field.name: getattr(options, field.name)
                       for field in dataclasses.fields(options)},
           "schema": expected_schema(), "files": [file_fingerprint(file) for file in files]}
    return json.loads(json.dumps(key, sort_keys=True, default=str))  # as read back


def name_of(key: dict[str, Any]) -> str:
    """The entry's file name (without suffix): a digest of its key.

    >>> len(name_of({"format": 1}))
    40
    """
    text = json.dumps(key, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def file_fingerprint(file: Path) -> list[Any]:
    """[path, size, mtime_ns, blake2b of the first and last ENDS_BYTES] of one file.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = path.write_bytes(b"x" * 10)
    >>> file_fingerprint(path)[1]
    10
    """
    with open(file, "rb") as handle:
        info = os.fstat(handle.fileno())
        digest = hashlib.blake2b(handle.read(ENDS_BYTES), digest_size=16)
        if info.st_size > ENDS_BYTES:
            handle.seek(max(ENDS_BYTES, info.st_size - ENDS_BYTES))
            digest.update(handle.read(ENDS_BYTES))
    return [os.path.abspath(file), info.st_size, info.st_mtime_ns, digest.hexdigest()]


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the engine's source and data files: a changed loader or rule (even
    without a new ENGINE_VERSION) never reads bars an older one prepared.

    >>> len(code_digest())
    32
    """
    root = Path(__file__).resolve().parents[1] / "engine"
    digest = hashlib.blake2b(digest_size=16)
    for file in sorted(root.rglob("*")):
        if file.suffix in (".py", ".csv") and file.is_file():
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def library_versions() -> dict[str, str | None]:
    """The libraries that read files and convert stamps, and the time zone data's version
    (research's own code is in `code_digest`).

    >>> sorted(library_versions())
    ['numpy', 'pandas', 'pyarrow', 'tzdata']
    """
    return {"numpy": np.__version__, "pandas": pd.__version__, "pyarrow": pa.__version__,
            "tzdata": _tzdata_version()}


def _tzdata_version() -> str | None:
    versions = []
    for folder in zoneinfo.TZPATH:  # the system's zone files come before the tzdata package
        try:
            with open(Path(folder) / "tzdata.zi", "rb") as handle:
                versions.append(handle.readline(100).decode(errors="replace").strip())
        except OSError:
            continue
    with suppress(importlib.metadata.PackageNotFoundError):
        versions.append(importlib.metadata.version("tzdata"))
    return "; ".join(versions) or None


def _unchanged(files: list[Path], key: dict[str, Any]) -> bool:
    """Whether every file still has the size and time it had when the key was made."""
    try:
        now = [[os.path.abspath(file), (info := os.stat(file)).st_size, info.st_mtime_ns]
               for file in files]
    except OSError:
        return False
    return now == [fingerprint[:3] for fingerprint in key["files"]]


def _store(settings: CacheSettings, entry_path: Path, key: dict[str, Any],
           pack: Callable[[], tuple[Any, dict[str, np.ndarray]]]) -> None:
    """Write one entry and evict past the cap; a failure is one warning, never an error
    (a Bars field pack_bars does not know included: the bars are read, just not stored)."""
    folder = entry_path.parent
    try:
        meta, arrays = pack()
        if sum(values.nbytes for values in arrays.values()) > settings.max_bytes:
            logger.info("%s: larger than the cache's cap of %s bytes: not stored",
                        entry_path, f"{settings.max_bytes:,}")
            return
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder_or_absent(folder)  # a link where the folder should be: never written through
        written = write_entry(entry_path, key, meta, arrays)
        if written > settings.max_bytes:
            _remove(entry_path)
            return
        evict(folder, settings.max_bytes)
    except (OSError, UnsafeFileError, TypeError, ValueError) as exc:
        logger.warning("the prepared-bars cache cannot be written in %s (%s); going on "
                       "without it (%s)", folder, _why(exc), FIX)


def _remove(entry_path: Path) -> None:
    with suppress(OSError, UnsafeFileError):
        unlink_regular(entry_path)


def _why(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return shorten(text, 120)[1:-1]
