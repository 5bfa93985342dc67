"""Sierra Chart text export: `Date, Time, Open, High, Low, Last, Volume, NumberOfTrades, ...`.

Fields are separated by a comma and a space; `Last` is the close; stamps are bar starts in
the chart's time zone (`2024/12/2, 09:31:00.000`).
"""

from __future__ import annotations

from pathlib import Path

from research.engine.formats.base import RawTable
from research.engine.formats.detect import Detected
from research.engine.formats.symbols import symbol_from_file_name
from research.engine.formats.textio import read_text

RENAMED = {"date": "Date", "time": "Time", "open": "Open", "high": "High", "low": "Low",
           "close": "Last", "volume": "Volume"}


def read(file: Path, detected: Detected) -> RawTable:
    """One Sierra Chart export under the loader's names.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ESZ24.txt"
    >>> _ = path.write_text("Date, Time, Open, High, Low, Last, Volume\\n"
    ...                     "2024/12/2, 09:31:00.000, 6045.25, 6046, 6045, 6045.75, 812\\n")
    >>> from research.engine.formats.detect import detect
    >>> read(path, detect(path)).frame["close"].tolist()
    [6045.75]
    """
    wanted = {file_name.lower(): name for name, file_name in RENAMED.items()}
    frame = read_text(file, sep=detected.sep, skipinitialspace=True,
                      usecols=lambda column: column.strip().lower() in wanted,
                      dtype={"Date": str, "Time": str})
    frame.columns = [wanted[column.strip().lower()] for column in frame.columns]
    return RawTable(frame=frame, fmt=detected.fmt, found_columns=detected.fields,
                    symbol=symbol_from_file_name(file),
                    date_formats=("%Y/%m/%d", "%Y-%m-%d", "%m/%d/%Y"), renamed=dict(RENAMED),
                    auto=detected.auto)
