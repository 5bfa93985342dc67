"""Kibot: `MM/DD/YYYY,HH:MM,open,high,low,close,volume`, no header, bar starts, US/Eastern.

One file per symbol (`ES.txt`): the instrument is in the file name or `instrument`.
"""

from __future__ import annotations

from pathlib import Path

from research.engine.formats.base import RawTable
from research.engine.formats.detect import Detected
from research.engine.formats.symbols import symbol_from_file_name
from research.engine.formats.textio import read_text

NAMES = ("date", "time", "open", "high", "low", "close", "volume")


def read(file: Path, detected: Detected) -> RawTable:
    """One Kibot file under the loader's names.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
    >>> from research.engine.formats.detect import detect
    >>> raw = read(path, detect(path))
    >>> raw.symbol, raw.frame["time"][0]
    ('ES', '09:31')
    """
    frame = read_text(file, sep=",", header=None, names=list(NAMES), usecols=range(7),
                      dtype={"date": str, "time": str})
    return RawTable(frame=frame, fmt=detected.fmt, found_columns=detected.fields,
                    symbol=symbol_from_file_name(file), date_formats=("%m/%d/%Y",),
                    auto=detected.auto)
