"""Bar data in: files -> typed DataFrame (`load_bars`) -> one instrument's `Bars` (`prepare_bars`).

`load_bars` reads every vendor format of DATA_FORMATS.md (`research.engine.formats`) and
rejects only what it cannot represent in its output dtypes (unreadable files, unparseable or
DST-invalid timestamps, non-numeric prices, fixed-point prices read as points). `prepare_bars`
validates the content of the traded instrument's rows, and only those (DECISIONS Q24). Every
row-level `DataError` names the source, the column, the total count and the first offending
rows; a row number is the 0-based position among the data rows of the frame or file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from research.engine import timestamps
from research.engine.bars import NO_CONTRACTS, Bars
from research.engine.clock import CHICAGO, EPOCH, day_number, wall_clock_labels
from research.engine.errors_rows import SHOWN_ROWS, fail_rows, shorten
from research.engine.formats.base import FORMAT_NAMES, STAMPS
from research.engine.formats.delimited import check_columns
from research.engine.formats.files import BAR_FILE_SUFFIXES, ScanLimitError, bar_files
from research.engine.formats.loader import LoadOptions, LoadReport, load_frame
from research.engine.formats.quality import BAD_BARS
from research.engine.formats.rolls import ROLL_RULES
from research.engine.formats.rows import float_prices, rows_of, take, tradable_instrument
from research.engine.formats.symbols import classify
from research.engine.instruments import Instrument
from research.errors import DataError, InputTypeError

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("timestamp", "open", "high", "low", "close", "instrument")
PRICE_COLUMNS = ("open", "high", "low", "close")
FRAME_SOURCE = "<frame>"
OFF_GRID_TOLERANCE_TICKS = 0.01
MAX_ABS_TICKS = 2.0**53  # beyond this a float price no longer maps to one exact tick count
__all__ = ["BAR_FILE_SUFFIXES", "ScanLimitError", "bar_files", "describe_bars", "load_bars",
           "prepare_bars", "tradable_instrument"]


# ---------------------------------------------------------------- instruments


def _no_rows(symbol: str, names: list[str], source: str) -> NoReturn:
    found = ", ".join(sorted(set(names))) or "nothing"
    raise DataError(f"no {symbol} rows in {source} (column 'instrument' holds: {found})")


# ---------------------------------------------------------------- prices


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

    >>> from research import synthetic_bars, run_strategy, RunParams
    >>> bars = prepare_bars(synthetic_bars("ES", "2024-01-02", "2024-01-05"), "ES")
    >>> len(bars), bars.instrument.symbol, bars.high_ticks.dtype  # prices as int64 ticks
    (5075, 'ES', dtype('int64'))
    >>> len(run_strategy(bars, RunParams(instrument="ES")))  # reuse for many runs
    28
    """
    source = _source_of(df, source)
    _require_columns(df, source)
    spec = tradable_instrument(instrument, source)
    codes, symbols = classify(df["instrument"])
    rows = rows_of(codes, symbols, spec.symbol)
    if not rows.size:
        _no_rows(spec.symbol, [symbol.name for symbol in symbols], source)
    utc_ns = timestamps.utc_ns(take(df["timestamp"], rows), rows, timezone, source)
    prices = {name: float_prices(df[name], rows, name, source) for name in PRICE_COLUMNS}
    ticks = {name: _to_ticks(prices[name], spec, snap_to_tick, rows, name, source)
             for name in PRICE_COLUMNS}
    _check_ohlc(ticks, prices, rows, source)
    minute_of_day, trading_day = wall_clock_labels(timestamps.chicago_wall_ns(utc_ns))
    contracts, contract_code = _contract_codes(df, rows, codes, symbols)
    _one_contract_per_date(trading_day, contract_code, contracts, source)
    keep = _time_order_without_duplicates(utc_ns, ticks, rows, source)
    if keep is not None:
        utc_ns, contract_code = utc_ns[keep], contract_code[keep]
        minute_of_day, trading_day = minute_of_day[keep], trading_day[keep]
        ticks = {name: values[keep] for name, values in ticks.items()}
    return Bars(instrument=spec, ts_ns=_fresh(utc_ns, np.int64),
                open_ticks=_fresh(ticks["open"], np.int64),
                high_ticks=_fresh(ticks["high"], np.int64),
                low_ticks=_fresh(ticks["low"], np.int64),
                close_ticks=_fresh(ticks["close"], np.int64),
                minute_of_day=minute_of_day, trading_day=trading_day, source=source,
                contracts=contracts, contract_code=_fresh(contract_code, np.int16),
                source_format=str(df.attrs.get("format", "")),
                load_warnings=tuple(str(text) for text in df.attrs.get("warnings", ())),
                dropped_bars=int(df.attrs.get("dropped_bars", 0)))


def _contract_codes(df: pd.DataFrame, rows: np.ndarray, codes: np.ndarray,
                    symbols: list) -> tuple[tuple[str, ...], np.ndarray]:
    """Each row's contract: the `contract` column, else the symbol's (ESZ4 in `instrument`)."""
    if "contract" in df.columns:
        names = take(df["contract"], rows).fillna("").astype(str).str.strip().str.upper()
        per_row = names.to_numpy(dtype=object)
    elif any(symbol.contract for symbol in symbols):
        per_row = np.array([*(symbol.contract for symbol in symbols), ""],
                           dtype=object)[codes[rows]]
    else:
        return NO_CONTRACTS, np.zeros(rows.size, np.int16)
    contracts, code = np.unique(per_row.astype(str), return_inverse=True)
    return tuple(str(name) for name in contracts), code.astype(np.int16)


def _one_contract_per_date(trading_day: np.ndarray, contract_code: np.ndarray,
                           contracts: tuple[str, ...], source: str) -> None:
    """Contracts are never mixed within a trading date (DATA_FORMATS "Contracts")."""
    if len(contracts) < 2:
        return
    pairs = np.unique(trading_day.astype(np.int64) * len(contracts) + contract_code)
    pair_days = pairs // len(contracts)
    mixed = np.flatnonzero(pair_days[1:] == pair_days[:-1])
    if mixed.size:
        day = pair_days[mixed[0]]
        names = sorted({contracts[code] or "(none)" for code in contract_code[trading_day == day]})
        raise DataError(f"{source}: trading date {_iso(int(day))} mixes contracts "
                        f"{', '.join(names)}; load_bars(..., roll='volume') keeps one "
                        "contract per date")


def _source_of(df: pd.DataFrame, source: str) -> str:
    attached = df.attrs.get("source")
    return attached if source == FRAME_SOURCE and isinstance(attached, str) else source


def _require_columns(df: pd.DataFrame, source: str) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in df.columns]
    if missing:
        hint = " (it is the index: reset_index() first)" if df.index.name in missing else ""
        raise DataError(f"{source}: missing column(s) {', '.join(map(repr, missing))}{hint}; "
                        f"bars need {', '.join(REQUIRED_COLUMNS)}")


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


def _fresh(values: np.ndarray, dtype: type) -> np.ndarray:
    """An owned contiguous array: Bars must never be a view into the caller's frame."""
    return np.array(values, dtype=dtype, copy=True, order="C")


def _iso(day: int) -> str:
    return (EPOCH + pd.Timedelta(days=day).to_pytimedelta()).isoformat()


# ---------------------------------------------------------------- load


DateLike = str | date | datetime | pd.Timestamp | None
ColumnsLike = Mapping[str, str | int] | None


def load_bars(path: str | os.PathLike[str], *, format: str = "auto", columns: ColumnsLike = None,
              instrument: str | None = None, timezone: str | None = None,
              timestamps: str | None = None, roll: str = "volume", start: DateLike = None,
              end: DateLike = None, snap_to_tick: bool = False,
              bad_bars: str = "warn") -> pd.DataFrame:
    """Read bar files into timestamp (tz Chicago, ns, the bar's open), open/high/low/close
    (float64), instrument and, when the files name contracts, contract.

    `path` is a file, a glob, or a folder (searched recursively, within bounds); files are
    read in sorted order, rows in file order. `format` is one of FORMAT_NAMES (`auto` detects
    it from the header or first line; `columns` maps any other delimited text). Naive stamps
    are wall time in `timezone` (default: the format's zone); `timestamps` is `open` or
    `close` (default: the format's convention; `close` shifts bars to their open minute).
    `instrument` keeps its rows, and names the instrument of a file without an instrument
    column. Several contracts: one per trading date, chosen by `roll` (`volume` or `none`);
    spreads are dropped. `start`/`end` are inclusive Chicago dates. `snap_to_tick` rounds
    prices to the tick. `bad_bars` (`warn`, `drop` or `error`) handles bars wrong one by one
    (prices at or below zero, spikes, a level 10x off, a cut last line): the loader's
    warnings and the count of dropped bars travel in `frame.attrs`. Other columns are dropped.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
    >>> frame = load_bars(path)
    >>> str(frame["timestamp"][0]), frame.attrs["format"]
    ('2024-12-02 08:31:00-06:00', 'kibot')
    """
    frame, _ = load_with_report(path, format=format, columns=columns, instrument=instrument,
                                timezone=timezone, timestamps=timestamps, roll=roll,
                                start=start, end=end, snap_to_tick=snap_to_tick,
                                bad_bars=bad_bars)
    return frame


def load_with_report(path: str | os.PathLike[str], **kwargs: Any) -> tuple[pd.DataFrame,
                                                                           LoadReport]:
    """`load_bars` and what it found: each file's format, zone, stamps, rolls, warnings."""
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"path: expected a file, folder or glob (str or PathLike), got "
                             f"{type(path).__name__}")
    options = load_options(os.fspath(path), **kwargs)
    return load_frame(path, options)


def load_options(source: str, *, format: str = "auto", columns: ColumnsLike = None,
                 instrument: str | None = None, timezone: str | None = None,
                 timestamps: str | None = None, roll: str = "volume", start: DateLike = None,
                 end: DateLike = None, snap_to_tick: bool = False,
                 bad_bars: str = "warn") -> LoadOptions:
    """`load_bars`' keywords checked; a DataError starts with `source` and names the key."""
    check_load_keys(source, format=format, columns=columns, timezone=timezone,
                    timestamps=timestamps, roll=roll, snap_to_tick=snap_to_tick,
                    bad_bars=bad_bars)
    symbol = None if instrument is None else tradable_instrument(instrument, source).symbol
    return LoadOptions(format=format, columns=columns, instrument=symbol, timezone=timezone,
                       timestamps=timestamps, roll=roll, first_day=day_number_of(start, "start"),
                       last_day=day_number_of(end, "end"), snap_to_tick=snap_to_tick,
                       bad_bars=bad_bars)


def check_load_keys(source: str, *, format: object = "auto", columns: object = None,
                    timezone: object = None, timestamps: object = None, roll: object = "volume",
                    snap_to_tick: object = False, bad_bars: object = "warn") -> None:
    """The keys that need no file, checked alone (also for a sweep spec's data section)."""
    def refuse(key: str, value: object, allowed: str) -> NoReturn:
        raise DataError(f"{source}: {key}: {shorten(value)} is not {allowed}")

    if format not in FORMAT_NAMES:
        refuse("format", format, f"one of {', '.join(FORMAT_NAMES)}")
    if columns is not None:
        try:
            check_columns(columns)
        except DataError as exc:
            raise DataError(f"{source}: {exc}") from None
    if timezone is not None and not _is_zone(timezone):
        refuse("timezone", timezone, "an IANA time zone (e.g. America/New_York)")
    if timestamps is not None and timestamps not in STAMPS:
        refuse("timestamps", timestamps, f"one of {', '.join(STAMPS)}")
    if roll not in ROLL_RULES:
        refuse("roll", roll, f"one of {', '.join(ROLL_RULES)}")
    if not isinstance(snap_to_tick, bool):
        refuse("snap_to_tick", snap_to_tick, "true or false")
    if bad_bars not in BAD_BARS:
        refuse("bad_bars", bad_bars, f"one of {', '.join(BAD_BARS)}")


def _is_zone(value: object) -> bool:
    try:
        ZoneInfo(str(value)) if isinstance(value, str) and value else None
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        return False
    return isinstance(value, str) and bool(value)


def day_number_of(value: DateLike, name: str) -> int | None:
    """Days since clock.EPOCH of a date bound (an aware datetime counts by its Chicago date)."""
    if value is None:
        return None
    if not isinstance(value, (str, date, np.datetime64)):  # pd.Timestamp(5) is 1970-01-01
        raise DataError(f"{name}: not a date: {shorten(value)} ({type(value).__name__}; give "
                        "YYYY-MM-DD text or a date)")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name}: not a date: {shorten(value)}") from exc
    if stamp is pd.NaT:
        raise DataError(f"{name}: not a date: {shorten(value)}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(CHICAGO)
    return day_number(stamp.date())


def describe_bars(bars: Bars) -> dict[str, Any]:
    """What the manifest records about where bars came from: format, contracts (by first
    date), rolls, the loader's warnings and the bad bars it dropped (the last two only when
    there are).

    >>> from research.engine.synthetic import synthetic_bars
    >>> describe_bars(prepare_bars(synthetic_bars("ES", "2024-01-08", "2024-01-09"), "ES"))
    {'format': '', 'contracts': [], 'roll_dates': []}
    """
    loader = {**({"warnings": list(bars.load_warnings)} if bars.load_warnings else {}),
              **({"dropped_bars": bars.dropped_bars} if bars.dropped_bars else {})}
    if bars.contracts == NO_CONTRACTS or not len(bars):
        return {"format": bars.source_format, "contracts": [], "roll_dates": [], **loader}
    days, codes = bars.trading_day, bars.contract_code
    contracts = []
    for code, name in enumerate(bars.contracts):
        mine = days[codes == code]
        if mine.size:
            contracts.append({"contract": name, "first_date": _iso(int(mine.min())),
                              "last_date": _iso(int(mine.max()))})
    changes = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    rolls = [{"date": _iso(int(days[i])), "from": bars.contracts[codes[i - 1]],
              "to": bars.contracts[codes[i]]} for i in changes]
    contracts.sort(key=lambda row: (row["first_date"], row["contract"]))
    return {"format": bars.source_format, "contracts": contracts, "roll_dates": rolls,
            **loader}
