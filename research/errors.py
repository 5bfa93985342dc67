"""One family of errors a user can act on; the CLI prints them without a traceback.

Messages show a user's values through `shorten`, so that no message is unbounded.
"""

from __future__ import annotations

import logging
import shutil
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

SHOWN_CHARS = 60  # a value from a file, a spec or a caller is cut to this many characters
_MAX_DEPTH = 8  # nesting shown in a message; deeper levels are written "..."
_MAX_INT_BITS = 3000  # str() refuses ints past 4300 digits; such an int is described instead


class ResearchError(Exception):
    """Base of every error this package raises for bad input: catch it to report a user's
    mistake in one line (the CLI does, and exits 2).

    >>> from research import RunParams
    >>> try:
    ...     RunParams(instrument="XX")
    ... except ResearchError as exc:
    ...     print(f"{type(exc).__name__}: {exc}")  # doctest: +ELLIPSIS
    ParamsError: instrument: 'XX' is not one of ES, NQ, YM, CL, NG, GC, RTY, MES, ...

    The message is shown with control characters escaped (`printable`): text from a data
    file or a path can never move the cursor, clear the screen or retitle the terminal.
    """

    def __str__(self) -> str:
        return printable(super().__str__())


class DataError(ResearchError, ValueError):
    """Bad bar data: names the file, column, first offending rows and their count.

    >>> from research import load_bars
    >>> load_bars("missing.csv")
    Traceback (most recent call last):
    research.errors.DataError: missing.csv: no such file or folder
    """


class ParamsError(ResearchError, ValueError):
    """A RunParams field outside its allowed values.

    >>> from research import RunParams
    >>> RunParams(instrument="ES", target=10.1)
    Traceback (most recent call last):
    research.errors.ParamsError: target: 10.1 is not a multiple of the ES tick (0.25)
    """


class SpecError(ResearchError, ValueError):
    """A sweep spec mistake, found before any work starts.

    >>> from research.spec.grid import spec_from_dict
    >>> spec_from_dict({"name": "x", "bogus": 1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    research.errors.SpecError: spec: unknown key(s) ['bogus']; allowed: name, data, base, ...
    """


class InputTypeError(ResearchError, TypeError):
    """An argument of the wrong type (a path where a frame was expected, text for a number)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (what `timeout`, docker and batch schedulers send), handled like Ctrl-C:
    finished combos are kept and the manifest says "interrupted"."""


class ScanLimitError(DataError):
    """A folder or glob search passed MAX_SCAN_ENTRIES, MAX_SCAN_SECONDS or MAX_BAR_FILES."""


class HeaderOnlyError(DataError):
    """A text bar file with a header line and no bar: a folder's search skips it."""


class ReportError(ResearchError):
    """The folder is not a sweep's results folder, or its manifest or summary is unreadable."""


class BackendError(ResearchError):
    """The dask backend cannot run: the extra is missing or the scheduler is unreachable."""


class FolderLockedError(ResearchError):
    """Another process is writing this results folder."""


class CompactionError(ResearchError):
    """Stored rows do not match the summary: compaction refuses to publish them."""


class StoreMismatchError(ResearchError):
    """A results path holds something other than this sweep's results: another spec's or
    data set's, a manifest that cannot be read, or a file where the folder should be."""


class UnsafeFileError(StoreMismatchError):
    """A symlink, FIFO, device or folder where a results file should be: the results folder
    is the boundary of what a sweep writes, so such a path is never followed or read.

    >>> raise UnsafeFileError("results/x/.lock: is a symbolic link, not a file")
    Traceback (most recent call last):
    ...
    research.errors.UnsafeFileError: results/x/.lock: is a symbolic link, not a file
    """


class StoreWriteError(ResearchError):
    """A results file could not be written (disk full, no permission): the sweep stops,
    keeping every shard already published."""

    @classmethod
    def from_os_error(cls, exc: OSError, root: Path) -> StoreWriteError:
        """One line: the file, the reason, the space left, and what to do."""
        try:
            free = f"; {shutil.disk_usage(root).free / 1e6:.1f} MB free there"
        except OSError:
            free = ""
        return cls(f"cannot write {exc.filename or root}: {exc.strerror or exc}{free}; finished "
                   "combos are kept: fix this and run the same command again")


class AnalysisError(ResearchError, ValueError):
    """Inputs the robustness analysis cannot work on: a results folder without its daily
    matrix, fewer than two combos, too few trading dates, a matrix and parameter table that
    do not match. Data merely too short for one method is not an error: that method's
    section is skipped with its reason (see ``research.analysis``).

    >>> raise AnalysisError("needs at least 2 combos, got 1")
    Traceback (most recent call last):
    ...
    research.errors.AnalysisError: needs at least 2 combos, got 1
    """


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every control or invisible formatting character escaped (``\\x1b``,
    ``\\u202e``): text from a file is shown as data, never acted on by a terminal.

    >>> print(printable("ES\\x1b]0;owned\\x07 ok"))
    ES\\x1b]0;owned\\x07 ok
    >>> printable("2024-01-02 Zürich")
    '2024-01-02 Zürich'
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char == " " else _escape(char)
                   for char in text)


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if unicodedata.category(char) == "Zs":  # a non-ASCII space: shown, it does no harm
        return char
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def printable_lines(text: str) -> str:
    """`printable` line by line: the line breaks of a screen kept, every other control
    character escaped (what a command prints of text read from files).

    >>> print(printable_lines("ES\\x1b[2J: 3 bars\\nNQ: 2 bars"))
    ES\\x1b[2J: 3 bars
    NQ: 2 bars
    """
    return "\n".join(printable(line) for line in text.split("\n"))


class PrintableFormatter(logging.Formatter):
    """A logging formatter that escapes control characters in every record (paths and
    symbols from files reach log lines too).

    >>> record = logging.LogRecord("x", logging.WARNING, "", 0, "%s", ("a\\x1b]0;t\\x07",), None)
    >>> print(PrintableFormatter("%(message)s").format(record))
    a\\x1b]0;t\\x07
    """

    def format(self, record: logging.LogRecord) -> str:
        return printable_lines(super().format(record))


def printable_logging(level: int, fmt: str = "%(levelname)s %(name)s: %(message)s") -> None:
    """logging.basicConfig to stderr with PrintableFormatter: what the commands call."""
    handler = logging.StreamHandler()
    handler.setFormatter(PrintableFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler])


def shorten(value: object, limit: int = SHOWN_CHARS) -> str:
    """`repr` of text (`str` of anything else), cut to about `limit` characters.

    Lists, tuples, sets and mappings are rendered only as far as the limit, so a huge or
    alias-expanded value costs no more to show than a short one.

    >>> shorten("x" * 100, 12)
    "'xxxxxxx...(100 chars)"
    >>> shorten(list(range(10**6)), 20)
    '[0, 1, 2, 3, 4, ...(1000000 items)'
    >>> shorten({"S1": ["07:30"]}), shorten(1.5)
    ("{'S1': ['07:30']}", '1.5')
    """
    if isinstance(value, str):
        text, size, unit = repr(value[:limit + 1]), len(value), "chars"
    elif _is_container(value):
        text, size, unit = _bounded_repr(value, limit), _size(value), "items"
    else:
        text = printable(_scalar_text(value, str))  # a Path or an object's text: escaped
        size, unit = len(text), "chars"
    if len(text) <= limit:
        return text
    return f"{text[:limit - 4]}...({size} {unit})"


def _is_container(value: object) -> bool:
    return isinstance(value, (list, tuple, set, frozenset, Mapping))


def _size(value: object) -> int | str:
    try:
        return len(value)  # type: ignore[arg-type]
    except TypeError:
        return "?"


def _bounded_repr(value: object, limit: int) -> str:
    """The first characters of the value's repr (a little over `limit`), never the rest."""
    out, used = [], 0
    for piece in _pieces(value, 0, limit):
        out.append(piece)
        used += len(piece)
        if used > limit:
            break
    return "".join(out)


def _pieces(value: object, depth: int, limit: int) -> Iterator[str]:
    """repr of `value` in pieces, lazily: the caller stops reading past its limit."""
    if not _is_container(value):
        yield repr(value[:limit + 1]) if isinstance(value, str) else _scalar_text(value, repr)
        return
    if depth >= _MAX_DEPTH:
        yield "..."
        return
    if isinstance(value, Mapping):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ", " if index else ""
            yield from _pieces(key, depth + 1, limit)
            yield ": "
            yield from _pieces(item, depth + 1, limit)
        yield "}"
        return
    opening, closing = {list: "[]", tuple: "()"}.get(type(value), "{}")
    if not value and opening == "{":
        yield f"{type(value).__name__}()"
        return
    yield opening
    for index, item in enumerate(value):  # type: ignore[arg-type]
        yield ", " if index else ""
        yield from _pieces(item, depth + 1, limit)
    yield "," if isinstance(value, tuple) and len(value) == 1 else ""
    yield closing


def _scalar_text(value: object, render: Callable[[object], str]) -> str:
    """str or repr of one value; an int too long to print and a failing repr are described."""
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        return f"<an integer of about {int(value.bit_length() * 0.30103):,} digits>"
    try:
        return render(value)
    except Exception:  # noqa: BLE001 - a message must not fail on the value it shows
        return f"<a {type(value).__name__}>"
