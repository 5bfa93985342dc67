"""Databento OHLCV-1m as CSV or parquet, raw or "pretty" (docs/data-formats.md).

Raw: `ts_event` is uint64 ns since the epoch (UTC) and prices are int64 fixed point with
1 unit = 1e-9; pretty (`to_csv(pretty_ts=True, pretty_px=True, map_symbols=True)`): ISO 8601
UTC stamps and decimal prices. `ts_event` is the interval start. `rtype` 33 is OHLCV-1m.
`symbol` is the contract (ESZ4); without it, `instrument_id` names the contract.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from research.engine.errors_rows import fail_rows
from research.engine.formats.base import RawTable
from research.engine.formats.canonical import read_parquet_columns
from research.engine.formats.checks import FIXED_POINT_ABOVE
from research.engine.formats.detect import Detected
from research.engine.formats.textio import call_guarded, read_text

COLUMNS = ("ts_event", "rtype", "open", "high", "low", "close", "volume", "symbol",
           "instrument_id")
OHLCV_1M = 33  # rtype of 1-minute bars
OHLCV_1S = 32  # rtype of 1-second bars: only where 1-second bars are asked for
# The bar rtype a read expects: 1-minute bars, except inside accept_second_bars().
EXPECTED_RTYPE = contextvars.ContextVar("databento_rtype", default=OHLCV_1M)
FIXED_PRICE_SCALE = 1e9  # units per point (databento_dbn.FIXED_PRICE_SCALE)
RENAMED = {"timestamp": "ts_event"}


def read(file: Path, detected: Detected) -> RawTable:
    """One Databento CSV or parquet file under the loader's names.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "glbx.csv"
    >>> _ = path.write_text("ts_event,rtype,open,high,low,close,volume,symbol\\n"
    ...                     "1733149860000000000,33,6045250000000,6046000000000,"
    ...                     "6045000000000,6045750000000,812,ESZ4\\n")
    >>> from research.engine.formats.detect import detect
    >>> raw = read(path, detect(path))
    >>> raw.units_per_point, str(raw.frame["timestamp"][0])
    (1000000000.0, '2024-12-02 14:31:00+00:00')
    """
    if detected.kind == "parquet":
        frame = call_guarded(file, lambda: read_parquet_columns(file, COLUMNS))
    else:
        frame = read_text(file, sep=detected.sep, usecols=lambda name: name in COLUMNS,
                          dtype={"symbol": str})
    return table_from_frame(frame, file, detected)


def table_from_frame(frame: pd.DataFrame, file: Path, detected: Detected) -> RawTable:
    """Shared by CSV, parquet and DBN: stamps, rtype, price scale and the contract column."""
    source = str(file)
    if "rtype" in frame.columns:
        _require_minute_bars(frame["rtype"], source)
    if "ts_event" in frame.columns:
        frame = frame.assign(ts_event=utc_from_ns(frame["ts_event"], source))
    frame = frame.rename(columns={"ts_event": "timestamp"})
    if "symbol" not in frame.columns and "instrument_id" in frame.columns:
        frame = frame.assign(contract="id" + frame["instrument_id"].astype(str))
    frame = frame.drop(columns=[name for name in ("rtype", "instrument_id")
                                if name in frame.columns])
    return RawTable(frame=frame, fmt=detected.fmt, found_columns=detected.fields,
                    units_per_point=FIXED_PRICE_SCALE if _fixed_point(frame) else 1.0,
                    renamed=dict(RENAMED), auto=detected.auto)


def utc_from_ns(values: pd.Series, source: str) -> pd.Series:
    """Integer ns since the epoch -> UTC datetimes; text and datetimes pass unchanged."""
    if not pd.api.types.is_integer_dtype(values.dtype):
        return values
    too_big = np.flatnonzero(values.to_numpy() > np.iinfo(np.int64).max) \
        if values.dtype == np.uint64 else np.array([], dtype=np.int64)
    if too_big.size:
        fail_rows(source, "ts_event", "with a stamp beyond the year 2262 (pandas' datetime "
                  "range)", too_big, values.to_numpy()[too_big])
    return pd.Series(pd.to_datetime(values.to_numpy(np.int64), unit="ns", utc=True),
                     index=values.index)


@contextlib.contextmanager
def accept_second_bars() -> Iterator[None]:
    """Within it, Databento files must hold 1-second bars (ohlcv-1s, rtype 32) instead of
    1-minute bars (`data.resolve_with`)."""
    token = EXPECTED_RTYPE.set(OHLCV_1S)
    try:
        yield
    finally:
        EXPECTED_RTYPE.reset(token)


def expected_schema() -> str:
    """The Databento schema the current read expects: ohlcv-1m, or ohlcv-1s."""
    return "ohlcv-1s" if EXPECTED_RTYPE.get() == OHLCV_1S else "ohlcv-1m"


def _require_minute_bars(rtype: pd.Series, source: str) -> None:
    expected = EXPECTED_RTYPE.get()
    other = np.flatnonzero(pd.to_numeric(rtype, errors="coerce").to_numpy() != expected)
    if other.size:
        kind = "1-second" if expected == OHLCV_1S else "1-minute"
        fail_rows(source, "rtype", f"that are not {kind} bars (rtype {expected}, "
                  f"OHLCV-{expected_schema()[-2:]}): request schema "
                  f"{expected_schema()}", other, rtype.to_numpy()[other])


def _fixed_point(frame: pd.DataFrame) -> bool:
    """Raw prices: ~1e9 times the price in points (no price in points is above 1e7)."""
    if "open" not in frame.columns or frame.empty:
        return False
    opens = pd.to_numeric(frame["open"], errors="coerce")
    return bool(np.nanmax(np.abs(opens.to_numpy(np.float64, na_value=np.nan)),
                          initial=0.0) > FIXED_POINT_ABOVE)
