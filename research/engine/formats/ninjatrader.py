"""NinjaTrader text export: `yyyyMMdd HHmmss;open;high;low;close;volume`, no header.

Stamps are bar ends, in UTC: NinjaTrader 8 writes every export in UTC (its help, "Importing"); the
contract is in the file name (`ES 12-24.Last.txt` is ESZ4).
"""

from __future__ import annotations

from pathlib import Path

from research.engine.formats.base import RawTable
from research.engine.formats.detect import Detected
from research.engine.formats.stamps import split_stamp
from research.engine.formats.symbols import symbol_from_file_name
from research.engine.formats.textio import read_text

NAMES = ("stamp", "open", "high", "low", "close", "volume")


def read(file: Path, detected: Detected) -> RawTable:
    """One NinjaTrader file: the stamp split into date (yyyyMMdd) and time (HHmmss) (UTC bar
    ends, NinjaTrader 8's export convention).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES 12-24.Last.txt"
    >>> _ = path.write_text("20241202 093100;6045.25;6046;6045;6045.75;812\\n")
    >>> from research.engine.formats.detect import detect
    >>> raw = read(path, detect(path))
    >>> raw.symbol, raw.frame["date"][0], raw.frame["time"][0]
    ('ESZ4', '20241202', '093100')
    """
    frame = read_text(file, sep=";", header=None, names=list(NAMES), usecols=range(6),
                      dtype={"stamp": str})
    dates, times = split_stamp(frame.pop("stamp"), 8)
    frame.insert(0, "date", dates)
    frame.insert(1, "time", times)
    return RawTable(frame=frame, fmt=detected.fmt, found_columns=detected.fields,
                    symbol=symbol_from_file_name(file), date_formats=("%Y%m%d",),
                    renamed={"date": "stamp", "time": "stamp"}, auto=detected.auto)
