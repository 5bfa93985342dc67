"""Which files a data path names: a file, a folder (recursive) or a glob, found within bounds.

Data paths are untrusted input: `/`, `/proc` or `/**/*.csv` must not walk the whole file
system. The search visits at most MAX_SCAN_ENTRIES directory entries and runs at most
MAX_SCAN_SECONDS, never follows links to folders, and stops at MAX_BAR_FILES files; past a
bound it stops with a ScanLimitError that says to point at a narrower folder or glob.
"""

from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from research.engine.formats.textio import read_head
from research.errors import (
    DataError,
    ScanLimitError,  # noqa: F401 - raised here
    shorten,
)

BAR_FILE_SUFFIXES = (".parquet", ".csv")  # the suffixes of canonical bar files
TEXT_SUFFIXES = (".csv", ".txt")
COMPRESSED_SUFFIXES = (".gz", ".zst")
OTHER_SUFFIXES = (".parquet", ".dbn", ".dbn.zst")
READ_SUFFIXES = ".parquet, .csv, .txt, .dbn, .dbn.zst; .csv and .txt also as .gz or .zst"
MAX_SCAN_ENTRIES = 100_000  # directory entries a folder or glob search may visit
MAX_SCAN_SECONDS = 10.0  # wall time a folder or glob search may take
MAX_BAR_FILES = 20_000  # files one data path may name


def is_bar_file_name(name: str) -> bool:
    """Whether a file name has a bar file's suffix: .parquet, .csv, .txt (also .gz or .zst
    compressed), .dbn or .dbn.zst.

    >>> is_bar_file_name("ES.csv.gz"), is_bar_file_name("notes.md")
    (True, False)
    """
    lower = name.lower()
    if lower.endswith(OTHER_SUFFIXES):
        return True
    for suffix in COMPRESSED_SUFFIXES:
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
            break
    return lower.endswith(TEXT_SUFFIXES)


def bar_files(path: str | os.PathLike[str], *, format: str = "auto") -> list[Path]:
    """The bar files a path names, as `load_bars` reads them: itself, a folder's bar files
    (recursive) or a glob's matches (folders among them searched too), in sorted order.

    In a search, a `.txt` file is taken only when it looks like bars (a known layout or a
    header), so notes next to the data do not matter; with a `format` every one is taken.
    A DataError starting with the path when it names no bar file.
    """
    text = os.fspath(path)
    try:
        return _bar_files(text, format)
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise DataError(f"{shorten(text)}: cannot be read as a data path "
                        f"({exc.strerror or exc})") from None


def _bar_files(text: str, format: str) -> list[Path]:
    candidate = Path(text)
    scan = _Scan(text)
    if candidate.is_dir():
        files = [file for file in scan.files_under(candidate) if _wanted(file, format)]
    elif glob.has_magic(text):
        files = [file for file in scan.glob(text) if _wanted(file, format)]
    elif candidate.is_file():
        if not is_bar_file_name(candidate.name):
            raise DataError(f"{text}: not a bar file (expected .parquet or .csv; also read: "
                            ".txt, .gz, .zst, .dbn)")
        if not _wanted(candidate, format):
            raise DataError(f"{text}: not a bar file (expected .parquet or .csv), and its "
                            "first line is in no known layout: give format: or columns:")
        files = [candidate]
    else:
        raise DataError(f"{text}: no such file or folder")
    if not files:
        raise DataError(f"{text}: matches no bar file (read: {READ_SUFFIXES})")
    return sorted(files)


def _wanted(file: Path, format: str) -> bool:
    """A .txt file in auto mode must look like bars; other bar suffixes always count."""
    if format != "auto" or ".txt" not in file.name.lower():
        return True
    from research.engine.formats.detect import looks_like_bars

    try:
        return looks_like_bars(file, read_head(file))
    except DataError:
        return False


class _Scan:
    """One bounded search: counts entries and time across every folder it walks."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.entries = 0
        self.found = 0
        self.deadline = time.monotonic() + MAX_SCAN_SECONDS

    def files_under(self, folder: Path) -> Iterator[Path]:
        stack = [folder]
        while stack:
            current = stack.pop()
            for entry in self._entries(current):
                kind = _kind(entry)
                if kind == "dir":
                    stack.append(Path(entry.path))
                elif kind == "file" and is_bar_file_name(entry.name):
                    yield self._count(Path(entry.path))

    def glob(self, pattern: str) -> Iterator[Path]:
        root, matcher, depth = _glob_parts(pattern)
        if not root.is_dir():
            return
        stack = [(root, "", 1)]
        while stack:
            current, prefix, level = stack.pop()
            for entry in self._entries(current):
                relative = prefix + entry.name
                kind = _kind(entry)
                is_dir = kind == "dir"
                if matcher.fullmatch(relative):
                    if is_dir:
                        yield from self.files_under(Path(entry.path))
                    elif kind == "file" and is_bar_file_name(entry.name):
                        yield self._count(Path(entry.path))
                elif is_dir and (depth is None or level < depth):
                    stack.append((Path(entry.path), relative + "/", level + 1))

    def _entries(self, folder: Path) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as found:
                entries = []
                for entry in found:
                    self.entries += 1
                    self._check()
                    entries.append(entry)
        except OSError:
            return []  # an unreadable folder holds nothing for us, as glob.glob treats it
        return sorted(entries, key=lambda entry: entry.name, reverse=True)

    def _count(self, path: Path) -> Path:
        self.found += 1
        if self.found > MAX_BAR_FILES:
            self._stop(f"more than {MAX_BAR_FILES} bar files")
        return path

    def _check(self) -> None:
        if self.entries > MAX_SCAN_ENTRIES:
            self._stop(f"more than {MAX_SCAN_ENTRIES} folder entries")
        if self.entries % 1024 == 0 and time.monotonic() > self.deadline:
            self._stop(f"more than {MAX_SCAN_SECONDS:g} s")

    def _stop(self, what: str) -> None:
        raise ScanLimitError(f"{self.text}: searching it took {what} and was stopped; point "
                             "the data path at a narrower folder or glob (e.g. data/ES/*.csv)")


def _kind(entry: os.DirEntry[str]) -> str:
    """'dir' (never through a link), 'file' or 'other'; unreadable entries are 'other'."""
    try:
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        return "file" if entry.is_file() else "other"
    except OSError:
        return "other"


def _glob_parts(pattern: str) -> tuple[Path, re.Pattern[str], int | None]:
    """The folder before the first wildcard, a regex for the paths below it, and how deep
    below it a match can lie (None: any depth, for `**`)."""
    parts = Path(pattern).parts
    fixed = 0
    while fixed < len(parts) and not glob.has_magic(parts[fixed]):
        fixed += 1
    root = Path(*parts[:fixed]) if fixed else Path(".")
    rest = parts[fixed:]
    regex = "/".join(_part_regex(part) for part in rest)
    regex = regex.replace(f"{_ANY_DEPTH}/", _ANY_DEPTH)
    if rest and rest[-1] == "**":
        regex = regex[: -len(_ANY_DEPTH)] + ".*"
    return root, re.compile(regex), None if "**" in rest else len(rest)


_ANY_DEPTH = "(?:[^/]*/)*"


def _part_regex(part: str) -> str:
    """One path component of a glob as a regex: `**` is any depth, `*` does not cross `/`
    and (as glob.glob) never matches a leading dot."""
    if part == "**":
        return _ANY_DEPTH
    out = "" if part.startswith(".") else "(?!\\.)"
    index = 0
    while index < len(part):
        char = part[index]
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[" and "]" in part[index + 1:]:
            close = part.index("]", index + 1)
            body = part[index + 1:close].replace("\\", "\\\\")
            out += f"[{'^' + body[1:] if body.startswith('!') else body}]"
            index = close
        else:
            out += re.escape(char)
        index += 1
    return out
