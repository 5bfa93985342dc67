"""Which format a file is in: from its kind (parquet, DBN, text), header or first line.

`format: auto` picks a format only when the header or the first line says it unambiguously
(docs/data-formats.md's layouts); otherwise the error names what was found and the key to give.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from research.engine.formats.base import FORMAT_NAMES, FORMATS, VendorFormat, found, shorten
from research.engine.formats.textio import (
    DBN_MAGIC,
    PARQUET_MAGIC,
    call_guarded,
    head_lines,
    read_head,
    separator_of,
    split_fields,
)
from research.errors import DataError, HeaderOnlyError

# First lines of the headerless layouts (docs/data-formats.md).
_FIRST_LINES = (
    ("ninjatrader", re.compile(r"\d{8} \d{6};")),
    ("kibot", re.compile(r"\d{2}/\d{2}/\d{4},\d{1,2}:\d{2},")),
    ("firstrate", re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?,")),
)
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


@dataclass(frozen=True, slots=True, kw_only=True)
class Detected:
    """What a file is: its format, its kind and, for text, its separator and first fields."""

    fmt: VendorFormat
    kind: str  # "parquet", "dbn" or "text"
    fields: tuple[str, ...] = ()  # header names (or first-row values when headerless)
    has_header: bool = True
    sep: str = ","
    first_line: str = ""
    auto: bool = False  # picked by format: auto


def detect(file: Path, format: str = "auto",
           columns: Mapping[str, object] | None = None) -> Detected:
    """The format of `file` (`format` when given, else detected); a DataError says why not.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
    >>> detect(path).fmt.name
    'kibot'
    """
    if format not in FORMAT_NAMES:
        raise DataError(f"{file}: format: {shorten(format)} is not one of "
                        f"{', '.join(FORMAT_NAMES)}")
    kind = call_guarded(file, lambda: kind_of(file))
    if kind == "parquet":
        names = tuple(call_guarded(file, lambda: _parquet_names(file)))
        return _choose(file, format, columns, Detected(fmt=FORMATS["canonical"], kind=kind,
                                                        fields=names))
    head = read_head(file)
    if head.startswith(DBN_MAGIC):
        return _choose(file, format, columns, Detected(fmt=FORMATS["databento"], kind="dbn"))
    lines = head_lines(file, head)
    sep = separator_of(lines[0])
    fields = tuple(split_fields(lines[0], sep))
    header = is_header(fields)
    if header and len(lines) == 1:
        raise HeaderOnlyError(f"{file}: has a header but no rows ({found(fields)})")
    seen = Detected(fmt=FORMATS["canonical"], kind="text", fields=fields, has_header=header,
                    sep=sep, first_line=lines[0])
    return _choose(file, format, columns, seen)


def kind_of(file: Path) -> str:
    """'parquet', 'dbn' or 'text', from the name, else the magic bytes."""
    name = file.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".dbn", ".dbn.zst")):
        return "dbn"
    with open(file, "rb") as raw:
        return "parquet" if raw.read(4) == PARQUET_MAGIC else "text"


def _parquet_names(file: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(file).names)


def _choose(file: Path, format: str, columns: Mapping[str, object] | None,
            seen: Detected) -> Detected:
    if seen.kind == "dbn":
        if format not in ("auto", "databento"):
            raise DataError(f"{file}: is a Databento DBN file; give format: databento (or "
                            "auto)")
        return _with(seen, FORMATS["databento"], auto=format == "auto")
    if format != "auto":
        return _with(seen, FORMATS[format], auto=False)
    if columns:
        return _with(seen, FORMATS["delimited"], auto=True)
    guess = looks_like(seen.fields, seen.first_line, seen.has_header)
    if guess is None:
        raise DataError(f"{file}: cannot tell its format ({describe_found(seen)}); give "
                        f"format: (one of {', '.join(FORMATS)}) or a columns: mapping, e.g. "
                        "columns: {timestamp: Time, close: Last}")
    return _with(seen, guess, auto=True)


def _with(seen: Detected, fmt: VendorFormat, auto: bool) -> Detected:
    return Detected(fmt=fmt, kind=seen.kind, fields=seen.fields, has_header=seen.has_header,
                    sep=seen.sep, first_line=seen.first_line, auto=auto)


def looks_like(fields: Sequence[str], first_line: str, has_header: bool) -> VendorFormat | None:
    """The one format a header or first line matches, or None (docs/data-formats.md's table)."""
    names = {name.strip().lower() for name in fields}
    if has_header:
        if "ts_event" in names:
            return FORMATS["databento"]
        if "timestamp" in names:
            return FORMATS["canonical"]
        if {"date", "time", "last"} <= names:
            return FORMATS["sierrachart"]
        return None
    for name, pattern in _FIRST_LINES:
        if pattern.match(first_line):
            return FORMATS[name]
    return None


def hint(fields: Sequence[str], first_line: str = "", has_header: bool = True,
         current: str = "") -> str:
    """'; this looks like Sierra Chart: format: sierrachart' when another format fits, else ''.

    >>> hint(["Date", "Time", "Open", "High", "Low", "Last", "Volume"])
    '; this looks like Sierra Chart: format: sierrachart'
    """
    guess = looks_like(fields, first_line, has_header)
    if guess is None or guess.name == current:
        return ""
    return f"; this looks like {guess.title}: format: {guess.name}"


def describe_found(seen: Detected) -> str:
    if seen.has_header:
        return found(seen.fields)
    return f"no header; first line {shorten(seen.first_line)}"


def is_header(fields: Sequence[str]) -> bool:
    """A first line is a header when none of its fields is a number or a date-like value."""
    return not any(_NUMBER.fullmatch(value) or value[:1].isdigit() for value in fields)


MIN_BAR_FIELDS = 5  # timestamp (or date and time), open, high, low, close at least


def looks_like_bars(file: Path, head: bytes) -> bool:
    """Whether a text file found in a folder search looks like bars (a known layout, or a
    header with enough columns), so notes and READMEs next to the data are skipped."""
    lines = head_lines(file, head)
    sep = separator_of(lines[0])
    fields = split_fields(lines[0], sep)
    header = is_header(fields)
    return looks_like(fields, lines[0], header) is not None or (
        header and len(fields) >= MIN_BAR_FIELDS)
