"""FirstRate Data: `YYYY-MM-DD HH:MM:SS,open,high,low,close,volume`, no header, bar starts,
US/Eastern; per-contract files (`ES_M24_1min.txt` is ESM4) or continuous unadjusted ones."""

from __future__ import annotations

from pathlib import Path

from research.engine.formats.base import RawTable
from research.engine.formats.detect import Detected
from research.engine.formats.symbols import symbol_from_file_name
from research.engine.formats.textio import read_text

NAMES = ("timestamp", "open", "high", "low", "close", "volume")


def read(file: Path, detected: Detected) -> RawTable:
    """One FirstRate file under the loader's names (ISO 8601 stamps without a zone).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES_M24_1min.txt"
    >>> _ = path.write_text("2024-06-03 09:31:00,5300.25,5301,5300,5300.75,812\\n")
    >>> from research.engine.formats.detect import detect
    >>> read(path, detect(path)).symbol
    'ESM4'
    """
    # FirstRate's free samples carry a header line (timestamp,open,...): skip it, never
    # read it as a first stamp
    frame = read_text(file, sep=",", header=0 if detected.has_header else None,
                      names=list(NAMES), usecols=range(6), dtype={"timestamp": str})
    return RawTable(frame=frame, fmt=detected.fmt, found_columns=detected.fields,
                    symbol=symbol_from_file_name(file), auto=detected.auto,
                    stamp_format=None if detected.has_header else
                    _stamp_format(detected.first_line))


def _stamp_format(first_line: str) -> str:
    """FirstRate writes seconds (`09:31:00`); some exports stop at minutes (`09:31`)."""
    stamp = first_line.split(",", 1)[0]
    return "%Y-%m-%d %H:%M:%S" if stamp.count(":") == 2 else "%Y-%m-%d %H:%M"
