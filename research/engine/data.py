"""Bar data in: files -> typed DataFrame (`load_bars`) -> one instrument's `Bars` (`prepare_bars`).

`load_bars` rejects only what it cannot represent in its output dtypes (unreadable files,
unparseable or DST-invalid timestamps, non-numeric prices). `prepare_bars` validates the content
of the traded instrument's rows, and only those (DECISIONS Q24). Every row-level `DataError`
names the source, the column, the total count and the first offending rows; a row number is
the 0-based position among the data rows of the frame or file.
"""

from __future__ import annotations

import glob
import logging
import os
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from research.engine import timestamps
from research.engine.bars import Bars
from research.engine.clock import (
    CHICAGO,
    MINUTES_PER_DAY,
    NS_PER_DAY,
    NS_PER_MINUTE,
    day_number,
    utc_to_chicago,
)
from research.engine.errors_rows import SHOWN_ROWS, fail_rows
from research.engine.instruments import ALIASES, INSTRUMENTS, Instrument
from research.errors import DataError

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("timestamp", "open", "high", "low", "close", "instrument")
PRICE_COLUMNS = ("open", "high", "low", "close")
BAR_FILE_SUFFIXES = (".parquet", ".csv")
FRAME_SOURCE = "<frame>"
OFF_GRID_TOLERANCE_TICKS = 0.01
MAX_ABS_TICKS = 2.0**53  # beyond this a float price no longer maps to one exact tick count
NEXT_DAY_FROM_MINUTE = 23 * 60  # ENGINE_SPEC §5.1: bars from 23:00 carry the next date


# ---------------------------------------------------------------- instruments


def tradable_instrument(symbol: str, source: str) -> Instrument:
    """The table row of an instrument argument (stripped, upper-cased); an alias or unknown
    name is a DataError that starts with `source`."""
    wanted = str(symbol).strip().upper()
    if wanted in INSTRUMENTS:
        return INSTRUMENTS[wanted]
    hint = f" ({wanted} is {ALIASES[wanted]} in bar files: ask for {ALIASES[wanted]})" \
        if wanted in ALIASES else ""
    raise DataError(f"{source}: instrument argument: unknown instrument {symbol!r}{hint}; "
                    f"known: {', '.join(INSTRUMENTS)}")


def _instrument_codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes into the distinct stripped, upper-cased values (factorize: no per-row Python)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return codes, [str(value).strip().upper() for value in uniques]


def _rows_of(codes: np.ndarray, names: list[str], symbol: str) -> np.ndarray:
    """Positions of the rows that belong to `symbol`, aliases included (MINUTEDATAEXPORT=ES)."""
    wanted = [code for code, name in enumerate(names) if ALIASES.get(name, name) == symbol]
    if len(wanted) == 1:
        return np.flatnonzero(codes == wanted[0])
    return np.flatnonzero(np.isin(codes, wanted))


def _no_rows(symbol: str, names: list[str], source: str) -> NoReturn:
    found = ", ".join(sorted(set(names))) or "nothing"
    raise DataError(f"no {symbol} rows in {source} (column 'instrument' holds: {found})")


# ---------------------------------------------------------------- prices


def _float_prices(column: pd.Series, rows: np.ndarray, name: str, source: str) -> np.ndarray:
    """The selected rows' prices as float64; text that is not a number is an error (NaN passes)."""
    if pd.api.types.is_numeric_dtype(column.dtype):
        prices = column.to_numpy(dtype=np.float64, na_value=np.nan)
        return prices if rows.size == len(prices) else prices[rows]
    raw = column.to_numpy(dtype=object)
    raw = raw if rows.size == len(raw) else raw[rows]
    prices = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(np.float64, na_value=np.nan)
    bad = np.flatnonzero(np.isnan(prices) & ~pd.isna(raw))
    if bad.size:
        fail_rows(source, name, "with a non-numeric value", rows[bad], raw[bad])
    return prices


def _to_ticks(prices: np.ndarray, instrument: Instrument, snap_to_tick: bool,
              rows: np.ndarray, name: str, source: str) -> np.ndarray:
    """Price -> int64 tick count (DESIGN §3); off-grid prices are refused unless snapped."""
    exact = prices / instrument.tick
    invalid = ~np.isfinite(exact) | (np.abs(exact) > MAX_ABS_TICKS)
    if invalid.any():
        bad = np.flatnonzero(invalid)
        fail_rows(source, name, "with a NaN, infinite or out-of-range price", rows[bad],
                  prices[bad])
    ticks = np.rint(exact)
    if not snap_to_tick:
        off_grid = np.abs(exact - ticks) > OFF_GRID_TOLERANCE_TICKS
        if off_grid.any():
            bad = np.flatnonzero(off_grid)
            fail_rows(source, name, f"with a price off the {instrument.symbol} tick grid "
                      f"({instrument.tick}; snap_to_tick=True rounds it)", rows[bad],
                      prices[bad])
    return ticks.astype(np.int64)


def _check_ohlc(ticks: dict[str, np.ndarray], prices: dict[str, np.ndarray], rows: np.ndarray,
                source: str) -> None:
    """low <= open, close <= high on every row (ENGINE_SPEC §1.2)."""
    open_, high, low, close = (ticks[name] for name in PRICE_COLUMNS)
    checks = (("high", high < low, "with high < low"),
              ("open", (open_ < low) | (open_ > high), "with open outside [low, high]"),
              ("close", (close < low) | (close > high), "with close outside [low, high]"))
    for name, broken, problem in checks:
        if broken.any():
            bad = np.flatnonzero(broken)
            shown = [" ".join(f"{col}={prices[col][i]}" for col in PRICE_COLUMNS)
                     for i in bad[:SHOWN_ROWS]]  # fail_rows counts all of `bad`
            fail_rows(source, name, problem, rows[bad], shown, described=True)


# ---------------------------------------------------------------- prepare


def prepare_bars(df: pd.DataFrame, instrument: str, *, timezone: str = CHICAGO,
                 snap_to_tick: bool = False, source: str = FRAME_SOURCE) -> Bars:
    """One instrument's rows as exact int64 arrays, validated, sorted and de-duplicated.

    Only the rows of `instrument` are read, so a bad row of another instrument does not
    matter (DECISIONS Q24). Naive timestamps are wall time in `timezone`. The source named in
    errors defaults to the file `load_bars` read (`df.attrs["source"]`).
    """
    source = _source_of(df, source)
    _require_columns(df, source)
    spec = tradable_instrument(instrument, source)
    codes, names = _instrument_codes(df["instrument"])
    rows = _rows_of(codes, names, spec.symbol)
    if not rows.size:
        _no_rows(spec.symbol, names, source)
    utc_ns = timestamps.utc_ns(_take(df["timestamp"], rows), rows, timezone, source)
    prices = {name: _float_prices(df[name], rows, name, source) for name in PRICE_COLUMNS}
    ticks = {name: _to_ticks(prices[name], spec, snap_to_tick, rows, name, source)
             for name in PRICE_COLUMNS}
    _check_ohlc(ticks, prices, rows, source)
    keep = _time_order_without_duplicates(utc_ns, ticks, rows, source)
    if keep is not None:
        utc_ns = utc_ns[keep]
        ticks = {name: values[keep] for name, values in ticks.items()}
    minute_of_day, trading_day = _wall_clock_labels(timestamps.chicago_wall_ns(utc_ns))
    return Bars(instrument=spec, ts_ns=_fresh(utc_ns, np.int64),
                open_ticks=_fresh(ticks["open"], np.int64),
                high_ticks=_fresh(ticks["high"], np.int64),
                low_ticks=_fresh(ticks["low"], np.int64),
                close_ticks=_fresh(ticks["close"], np.int64),
                minute_of_day=minute_of_day, trading_day=trading_day, source=source)


def _source_of(df: pd.DataFrame, source: str) -> str:
    attached = df.attrs.get("source")
    return attached if source == FRAME_SOURCE and isinstance(attached, str) else source


def _require_columns(df: pd.DataFrame, source: str) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in df.columns]
    if missing:
        hint = " (it is the index: reset_index() first)" if df.index.name in missing else ""
        raise DataError(f"{source}: missing column(s) {', '.join(map(repr, missing))}{hint}; "
                        f"bars need {', '.join(REQUIRED_COLUMNS)}")


def _take(column: pd.Series, rows: np.ndarray) -> pd.Series:
    return column if rows.size == len(column) else column.iloc[rows]


def _time_order_without_duplicates(utc_ns: np.ndarray, ticks: dict[str, np.ndarray],
                                   rows: np.ndarray, source: str) -> np.ndarray | None:
    """Positions in stable time order with identical duplicates dropped; None if nothing moves.
    Conflicting duplicates (same time, other OHLC) are an error naming both rows."""
    order = None
    if utc_ns.size > 1 and (utc_ns[1:] < utc_ns[:-1]).any():
        order = np.argsort(utc_ns, kind="stable")
    sorted_ns = utc_ns if order is None else utc_ns[order]
    same_time = sorted_ns[1:] == sorted_ns[:-1]
    if not same_time.any():
        return order
    positions = np.arange(utc_ns.size) if order is None else order
    same_bar = same_time.copy()
    for values in ticks.values():
        ordered = values[positions]
        same_bar &= ordered[1:] == ordered[:-1]
    conflict = np.flatnonzero(same_time & ~same_bar)
    if conflict.size:
        later, earlier = rows[positions[conflict + 1]], rows[positions[conflict]]
        stamps = timestamps.chicago_text(sorted_ns[conflict + 1][:SHOWN_ROWS])
        shown = [f"{stamp} also at row {int(row)} with other OHLC" for stamp, row in
                 zip(stamps, earlier, strict=False)]
        fail_rows(source, "timestamp", "with a conflicting duplicate timestamp", later, shown,
                  described=True)
    keep = np.ones(utc_ns.size, dtype=bool)
    keep[1:] = ~same_time
    log.debug("%s: dropped %d identical duplicate bar(s)", source, int(same_time.sum()))
    return positions[keep]


def _wall_clock_labels(wall_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chicago minute of day (int16) and trading date (int32 days, +1 from 23:00, §5.1)."""
    wall_minutes = wall_ns // NS_PER_MINUTE
    minute_of_day = wall_minutes % MINUTES_PER_DAY
    trading_day = wall_minutes // MINUTES_PER_DAY + (minute_of_day >= NEXT_DAY_FROM_MINUTE)
    return minute_of_day.astype(np.int16), trading_day.astype(np.int32)


def _fresh(values: np.ndarray, dtype: type) -> np.ndarray:
    """An owned contiguous array: Bars must never be a view into the caller's frame."""
    return np.array(values, dtype=dtype, copy=True, order="C")


# ---------------------------------------------------------------- load


DateLike = str | date | datetime | pd.Timestamp | None


def load_bars(path: str | os.PathLike[str], timezone: str = CHICAGO, *,
              instrument: str | None = None, start: DateLike = None,
              end: DateLike = None) -> pd.DataFrame:
    """Read bar files into timestamp (tz Chicago, ns), open/high/low/close (float64), instrument.

    `path` is a .parquet or .csv file, a glob, or a folder (searched recursively); files are
    read in sorted order, rows in file order. Naive timestamps are wall time in `timezone`.
    `instrument` keeps only its rows (MINUTEDATAEXPORT counts as ES); `start`/`end` are
    inclusive dates of the Chicago timestamp. Other columns are dropped.
    """
    files = bar_files(path)
    source = os.fspath(path)
    symbol = None if instrument is None else tradable_instrument(instrument, source).symbol
    first_day, last_day = day_number_of(start, "start"), day_number_of(end, "end")
    frames = [_load_file(file, timezone, symbol, first_day, last_day) for file in files]
    frames = [frame for frame in frames if len(frame)] or frames[:1]  # concat warns on empties
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if frame.empty and (symbol is not None or first_day is not None or last_day is not None):
        what = f"{symbol} rows" if symbol else "rows"
        raise DataError(f"no {what} in {source} between {start or 'the start'} and "
                        f"{end or 'the end'}")
    frame.attrs["source"] = source
    return frame


def bar_files(path: str | os.PathLike[str]) -> list[Path]:
    """The bar files a path names, as `load_bars` reads them: itself, a folder's bar files
    (recursive) or a glob's matches (folders among them searched too), in sorted order.
    A DataError starting with the path when it names no BAR_FILE_SUFFIXES file."""
    text = os.fspath(path)
    candidate = Path(text)
    if candidate.is_dir():
        files = _bar_files_under(candidate)
    elif glob.has_magic(text):
        files = []
        for match in sorted(glob.glob(text, recursive=True)):
            found = Path(match)
            if found.is_dir():
                files.extend(_bar_files_under(found))
            elif found.suffix.lower() in BAR_FILE_SUFFIXES:
                files.append(found)
    elif candidate.is_file():
        if candidate.suffix.lower() not in BAR_FILE_SUFFIXES:
            raise DataError(f"{text}: not a bar file (expected .parquet or .csv)")
        files = [candidate]
    else:
        raise DataError(f"{text}: no such file or folder")
    if not files:
        raise DataError(f"{text}: matches no .parquet or .csv bar file")
    return files


def _bar_files_under(folder: Path) -> list[Path]:
    return sorted(file for file in folder.rglob("*")
                  if file.is_file() and file.suffix.lower() in BAR_FILE_SUFFIXES)


def day_number_of(value: DateLike, name: str) -> int | None:
    """Days since clock.EPOCH of a date bound (an aware datetime counts by its Chicago date)."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name}: not a date: {value!r}") from exc
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(CHICAGO)
    return day_number(stamp.date())


def _load_file(file: Path, timezone: str, symbol: str | None, first_day: int | None,
               last_day: int | None) -> pd.DataFrame:
    source = str(file)
    raw = _read_table(file)
    _require_columns(raw, source)
    codes, names = _instrument_codes(raw["instrument"])
    rows = np.arange(len(raw)) if symbol is None else _rows_of(codes, names, symbol)
    utc_ns = timestamps.utc_ns(_take(raw["timestamp"], rows), rows, timezone, source)
    prices = {name: _float_prices(raw[name], rows, name, source) for name in PRICE_COLUMNS}
    instruments = np.array([*names, np.nan], dtype=object)[codes[rows]]  # code -1 = missing
    if first_day is not None or last_day is not None:
        days = timestamps.chicago_wall_ns(utc_ns) // NS_PER_DAY
        inside = np.ones(days.size, dtype=bool)
        if first_day is not None:
            inside &= days >= first_day
        if last_day is not None:
            inside &= days <= last_day
        utc_ns, instruments = utc_ns[inside], instruments[inside]
        prices = {name: values[inside] for name, values in prices.items()}
    return pd.DataFrame({"timestamp": utc_to_chicago(utc_ns), **prices,
                         "instrument": instruments})


def _read_table(file: Path) -> pd.DataFrame:
    """The bar columns of one file; anything unreadable becomes a DataError naming it."""
    try:
        if file.suffix.lower() == ".parquet":
            return _read_parquet(file)
        return pd.read_csv(file, usecols=lambda name: name in REQUIRED_COLUMNS,
                           skipinitialspace=True)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{file}: cannot read: {exc}") from exc


def _read_parquet(file: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    present = [name for name in REQUIRED_COLUMNS if name in pq.read_schema(file).names]
    table = pd.read_parquet(file, columns=present)
    if "timestamp" not in table.columns and table.index.name == "timestamp":
        table = table.reset_index()
    return table
