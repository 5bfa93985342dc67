"""Our own layout: timestamp, open, high, low, close[, volume][, instrument] (CSV or parquet)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from research.engine.formats.base import RawTable
from research.engine.formats.detect import Detected
from research.engine.formats.textio import call_guarded, read_text

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume", "instrument")


def read(file: Path, detected: Detected) -> RawTable:
    """The canonical columns of one file (others are dropped); `instrument` becomes `symbol`.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "es.csv"
    >>> _ = path.write_text("timestamp,open,high,low,close\\n2024-01-09 08:00,1,2,0.5,1.5\\n")
    >>> from research.engine.formats.detect import detect
    >>> list(read(path, detect(path)).frame.columns)
    ['timestamp', 'open', 'high', 'low', 'close']
    """
    if detected.kind == "parquet":
        frame = call_guarded(file, lambda: read_parquet_columns(file, COLUMNS))
    else:
        frame = read_text(file, sep=detected.sep, skipinitialspace=True,
                          usecols=lambda name: name.strip() in COLUMNS)
        frame.columns = [name.strip() for name in frame.columns]
    return RawTable(frame=frame.rename(columns={"instrument": "symbol"}), fmt=detected.fmt,
                    found_columns=detected.fields, renamed={"symbol": "instrument"},
                    auto=detected.auto)


def read_parquet_columns(file: Path, wanted: tuple[str, ...]) -> pd.DataFrame:
    """The `wanted` columns a parquet file has; an index among them becomes a column."""
    import pyarrow.parquet as pq

    present = [name for name in wanted if name in pq.read_schema(file).names]
    table = pd.read_parquet(file, columns=present)
    if any(name in wanted and name not in table.columns for name in table.index.names):
        table = table.reset_index()
    return table[[name for name in table.columns if name in wanted]]
