"""What every vendor format shares: its description, the table a reader hands on, messages.

A reader turns one file into a `RawTable`: the file's rows under the loader's column names
(`timestamp`, or `date` and `time`; `open`, `high`, `low`, `close`; optionally `volume` and
`symbol`), values untouched, plus what the file itself said (its columns, its format). The
loader (`formats.loader`) does the rest the same way for every format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from research.engine.clock import CHICAGO
from research.errors import shorten

EASTERN = "America/New_York"
STAMPS = ("open", "close")  # which minute a bar is stamped with: its first or its end
SHOWN_COLUMNS = 12  # at most this many found column names are listed in a message


@dataclass(frozen=True, slots=True, kw_only=True)
class VendorFormat:
    """One layout of minute bars (docs/data-formats.md's table): how it looks and what it means.

    >>> FORMATS["kibot"].timezone, FORMATS["kibot"].stamps
    ('America/New_York', 'open')
    """

    name: str
    title: str  # as a user knows it: "Sierra Chart"
    layout: str  # the header or first line, as docs/data-formats.md shows it
    timezone: str  # the zone of naive stamps when no `timezone` is given
    stamps: str  # "open" or "close": the format's stamp convention
    header: bool  # whether the file starts with a header line


FORMATS: dict[str, VendorFormat] = {fmt.name: fmt for fmt in (
    VendorFormat(name="canonical", title="canonical bars",
                 layout="timestamp,open,high,low,close[,volume][,instrument]",
                 timezone=CHICAGO, stamps="open", header=True),
    # ts_event is the interval start in UTC ns; prices int64 x 1e-9 unless "pretty".
    VendorFormat(name="databento", title="Databento OHLCV-1m",
                 layout="ts_event,rtype,publisher_id,instrument_id,open,high,low,close,"
                        "volume,symbol", timezone="UTC", stamps="open", header=True),
    # NinjaTrader 8 writes its exports in UTC, stamped with the bar's end (its help,
    # "Importing": "NinjaTrader exports are always done in the UTC time zone"; docs/vendors.md).
    VendorFormat(name="ninjatrader", title="NinjaTrader",
                 layout="yyyyMMdd HHmmss;open;high;low;close;volume (no header)",
                 timezone="UTC", stamps="close", header=False),
    VendorFormat(name="sierrachart", title="Sierra Chart",
                 layout="Date, Time, Open, High, Low, Last, Volume, NumberOfTrades, ...",
                 timezone=CHICAGO, stamps="open", header=True),
    VendorFormat(name="kibot", title="Kibot",
                 layout="MM/DD/YYYY,HH:MM,open,high,low,close,volume (no header)",
                 timezone=EASTERN, stamps="open", header=False),
    VendorFormat(name="firstrate", title="FirstRate Data",
                 layout="YYYY-MM-DD HH:MM:SS,open,high,low,close,volume (no header)",
                 timezone=EASTERN, stamps="open", header=False),
    # Any other delimited text, read through a `columns:` mapping.
    VendorFormat(name="delimited", title="delimited text",
                 layout="any header (or none), with columns: {timestamp: ..., close: ...}",
                 timezone=CHICAGO, stamps="open", header=True),
)}
FORMAT_NAMES = ("auto", *FORMATS)
__all__ = ["FORMATS", "FORMAT_NAMES", "RawTable", "VendorFormat", "found", "shorten"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RawTable:
    """One file's rows under the loader's names, before any value is checked.

    `units_per_point` divides every price (1e9 for Databento's fixed point); `symbol` is the
    instrument or contract of a file without a symbol column (from its name), if any.
    """

    frame: pd.DataFrame
    fmt: VendorFormat
    found_columns: tuple[str, ...]
    units_per_point: float = 1.0  # prices are divided by this (1e9: Databento fixed point)
    symbol: str | None = None
    renamed: dict[str, str] = field(default_factory=dict)  # loader name -> file's column
    date_formats: tuple[str | None, ...] = (None,)  # for a `date` column; None: inferred
    stamp_format: str | None = None  # strptime format of a `timestamp` column; None: ISO
    auto: bool = False  # the format was detected (format: auto)

    def column(self, name: str) -> str:
        """The file's name of a loader column, for messages ('Last' for close)."""
        return self.renamed.get(name, name)


def found(columns: Iterable[object]) -> str:
    """The columns a file holds, for messages: 'found columns Date, Time, Open'."""
    names = [shorten(str(name), 30).strip("'") for name in columns]
    more = f" (and {len(names) - SHOWN_COLUMNS} more)" if len(names) > SHOWN_COLUMNS else ""
    return f"found columns {', '.join(names[:SHOWN_COLUMNS]) or 'none'}{more}"
