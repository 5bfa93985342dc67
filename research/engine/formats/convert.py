"""One vendor file's table -> the loader's arrays: its reader picked, the instrument's rows
selected (spreads counted), stamps in UTC, prices as float64 (fixed point divided).

`read_raw` reads a file (or, inside `textio.chunked_reads`, its next chunk) with its format's
reader; `converted` turns the table into arrays, and says what a chunked read's chunks must
agree on. `loader.read_file` checks and reports what comes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from research.engine import timestamps
from research.engine.clock import NS_PER_MINUTE
from research.engine.errors_rows import fail_rows
from research.engine.formats import (
    canonical,
    databento,
    dbn,
    delimited,
    firstrate,
    kibot,
    ninjatrader,
    sierrachart,
)
from research.engine.formats.base import RawTable
from research.engine.formats.checks import check_fixed_point, zone_hint
from research.engine.formats.chunked import Converted, RawShape
from research.engine.formats.detect import Detected, describe_found, hint
from research.engine.formats.file_notes import named_by_path
from research.engine.formats.options import LoadOptions
from research.engine.formats.rows import float_prices, rows_of, take
from research.engine.formats.stamps import date_time_ns
from research.engine.formats.symbols import KIND_SPREAD, classify, parse_symbol
from research.errors import DataError

PRICE_COLUMNS = ("open", "high", "low", "close")
READERS = {"canonical": canonical.read, "databento": databento.read,
           "ninjatrader": ninjatrader.read, "sierrachart": sierrachart.read,
           "kibot": kibot.read, "firstrate": firstrate.read}


def converted(raw: RawTable, file: Path, detected: Detected, options: LoadOptions,
               first_row: int = 0) -> Converted:
    """A RawTable's rows of the instrument as arrays: stamps in UTC, prices, instruments.
    `first_row`: the table's first row among the file's (a chunk's offset)."""
    source = str(file)
    raw, named_from = named_by_path(raw, file)
    _require_columns(raw, detected, source)
    rows, names, contracts, spreads, holds = _select(raw, options, source,
                                                     describe_found(detected))
    zone = options.timezone or raw.fmt.timezone
    stamps = options.timestamps or raw.fmt.stamps
    seen: list[str] = []  # the date format or stamp zone read: chunks must agree on it
    utc_ns = _utc_ns_or_zone_hint(raw, rows, zone, source, given=options.timezone is not None,
                                  seen=seen)
    if stamps == "close":  # docs/data-formats.md: end stamps 17:01 ... 16:00 -> open minute
        utc_ns = utc_ns - NS_PER_MINUTE
    prices = {name: _prices(raw, name, rows, source) for name in PRICE_COLUMNS}
    volume = float_prices(raw.frame["volume"], rows, raw.column("volume"), source) \
        if "volume" in raw.frame.columns else None
    frame = raw.frame
    agree = (raw.fmt.name, raw.units_per_point, raw.symbol, tuple(raw.renamed.items()),
             raw.date_formats, raw.stamp_format, named_from, tuple(seen),
             tuple((name, pd.api.types.is_numeric_dtype(frame[name].dtype))
                   for name in frame.columns))
    shape = RawShape(fmt=raw.fmt, columns=tuple(frame.columns), renamed=raw.renamed,
                     rows=len(frame))
    return Converted(raw=shape, rows=rows + first_row if first_row else rows, names=names,
                     contracts=contracts, spreads=spreads, holds=holds, named_from=named_from,
                     zone=zone, stamps=stamps, utc_ns=utc_ns, prices=prices, volume=volume,
                     agree=agree)


def read_raw(file: Path, detected: Detected, columns: Mapping[str, str | int] | None
              ) -> RawTable:
    name = detected.fmt.name
    if columns and name != "delimited":
        raise DataError(f"{file}: columns: is for delimited text (format: auto or "
                        f"delimited); format: {name} has its own layout")
    if name == "delimited":
        if not columns:
            raise DataError(f"{file}: format: delimited needs a columns: mapping, e.g. "
                            "columns: {date: Date, time: Time, close: Last}")
        return delimited.read(file, detected, columns)
    if name == "databento" and detected.kind == "dbn":
        return dbn.read(file, detected)
    try:
        return READERS[name](file, detected)
    except DataError as exc:
        if not detected.fmt.header and ": cannot read:" in str(exc):  # e.g. too few fields
            raise DataError(f"{exc}; expected the {detected.fmt.title} layout "
                            f"{detected.fmt.layout} ({describe_found(detected)})"
                            f"{_hint(detected, name)}") from None
        raise


def _require_columns(raw: RawTable, detected: Detected, source: str) -> None:
    present = set(raw.frame.columns)
    stamp = ["timestamp"] if "date" not in present else ["date", "time"]
    missing = [name for name in (*stamp, *PRICE_COLUMNS) if name not in present]
    if missing:
        shown = ", ".join(repr(raw.column(name)) for name in missing)
        raise DataError(f"{source}: missing column(s) {shown}; bars need timestamp, open, "
                        f"high, low, close, instrument ({raw.fmt.name} layout: "
                        f"{raw.fmt.layout}); {describe_found(detected)}"
                        f"{_hint(detected, raw.fmt.name)}")


def _hint(detected: Detected, current: str) -> str:
    return hint(detected.fields, detected.first_line, detected.has_header, current)


def _select(raw: RawTable, options: LoadOptions, source: str, found_text: str
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, tuple[str, ...]]:
    """Rows of the instrument, their instrument names and contracts, spreads, what it holds."""
    frame, wanted = raw.frame, options.instrument
    if "symbol" not in frame.columns:
        return _whole_file(raw, options, source, found_text)
    codes, symbols = classify(frame["symbol"])
    holds = tuple(sorted({symbol.name for symbol in symbols}))
    spread_codes = [code for code, symbol in enumerate(symbols) if symbol.kind == KIND_SPREAD
                    and (wanted is None or symbol.root == wanted)]
    spreads = int(np.isin(codes, spread_codes).sum()) if spread_codes else 0
    if wanted is not None:
        rows = rows_of(codes, symbols, wanted)
    else:
        rows = np.flatnonzero(~np.isin(codes, spread_codes)) if spreads else \
            np.arange(len(frame))
    labels = [symbol.root if symbol.contract else symbol.name for symbol in symbols]
    names = np.array([*labels, np.nan], dtype=object)[codes[rows]]
    contracts = np.array([*(s.contract for s in symbols), ""], dtype=object)[codes[rows]]
    return rows, names, contracts, spreads, holds


def _whole_file(raw: RawTable, options: LoadOptions, source: str, found_text: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, tuple[str, ...]]:
    """A file of one instrument: named by the file name, else by `instrument`."""
    frame, wanted = raw.frame, options.instrument
    named = parse_symbol(raw.symbol) if raw.symbol else None
    root = named.root if named is not None else wanted
    if root is None:
        raise DataError(f"{source}: missing column(s) 'instrument' and no instrument given "
                        f"({found_text}); give instrument: ES (in a spec, "
                        "base.instrument is the default) or name the file after it (ES.txt)")
    holds = (named.name,) if named is not None else (root,)
    if wanted is not None and root != wanted:
        return np.array([], dtype=np.int64), *_empty(2), 0, holds
    rows = np.arange(len(frame))
    names = _repeated(root, rows.size)
    if "contract" in frame.columns:
        contracts = frame["contract"].fillna("").astype(str).str.strip().str.upper()
        contracts = contracts.to_numpy(dtype=object)
    else:
        contracts = _repeated(named.contract if named is not None else "", rows.size)
    return rows, names, contracts, 0, holds


def _repeated(value: str, size: int) -> np.ndarray:
    """An object array of `size` references to the one `value`. (np.full(size, value,
    dtype=object) makes a new str per row, ~60 bytes each: the whole names column of a file
    named by its instrument, issue 19's memory bound.)

    >>> names = _repeated("ES", 3)
    >>> names.tolist(), names[0] is names[2]
    (['ES', 'ES', 'ES'], True)
    """
    out = np.empty(size, dtype=object)
    out.fill(value)
    return out


def _empty(count: int) -> list[np.ndarray]:
    return [np.array([], dtype=object) for _ in range(count)]


def _utc_ns(raw: RawTable, rows: np.ndarray, zone: str, source: str,
            seen: list[str] | None = None) -> np.ndarray:
    frame = raw.frame
    if "date" in frame.columns:
        wall = date_time_ns(take(frame["date"], rows), take(frame["time"], rows), rows, source,
                            raw.date_formats, (raw.column("date"), raw.column("time")), seen)
        return timestamps.localise(pd.DatetimeIndex(wall.view("M8[ns]")), zone, rows, source)
    values = take(frame["timestamp"], rows)
    if raw.stamp_format:
        parsed = pd.to_datetime(values, format=raw.stamp_format, errors="coerce")
        bad = np.flatnonzero(np.asarray(parsed.isna()))
        if bad.size:
            fail_rows(source, raw.column("timestamp"), f"with a stamp that does not parse as "
                      f"{raw.stamp_format}", rows[bad], values.to_numpy()[bad])
        values = parsed
    return timestamps.utc_ns(values, rows, zone, source, seen)


def _utc_ns_or_zone_hint(raw: RawTable, rows: np.ndarray, zone: str, source: str,
                         given: bool, seen: list[str] | None = None) -> np.ndarray:
    """`_utc_ns`; a wall time that DST skips in a zone nobody gave is often a file in another
    zone (UTC read as Chicago): the error then says which zone the daily halt points to."""
    try:
        return _utc_ns(raw, rows, zone, source, seen)
    except DataError as exc:
        if given or "(DST change)" not in str(exc):
            raise
        as_written = _utc_ns(raw, rows, "UTC", source)  # the stamps' own clock, no DST gaps
        hint = zone_hint(as_written, zone)
        if not hint:
            raise
        raise DataError(f"{exc}; {hint}") from None


def _prices(raw: RawTable, name: str, rows: np.ndarray, source: str) -> np.ndarray:
    prices = float_prices(raw.frame[name], rows, raw.column(name), source)
    if raw.units_per_point != 1.0:
        return prices / raw.units_per_point  # correctly rounded: the nearest double, exact ticks
    check_fixed_point(prices, rows, raw.column(name), source)
    return prices
