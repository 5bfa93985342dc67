"""Bar data in: files -> typed DataFrame (`load_bars`) -> one instrument's `Bars` (`prepare_bars`).

`load_bars` reads every vendor format of docs/data-formats.md (`research.engine.formats`) and
rejects only what it cannot represent in its output dtypes (unreadable files, unparseable or
DST-invalid timestamps, non-numeric prices, fixed-point prices read as points). `prepare_bars`
validates the content of the traded instrument's rows, and only those (docs/engine.md Q24). Every
row-level `DataError` names the source, the column, the total count and the first offending
rows; a row number is the 0-based position among the data rows of the frame or file.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from research.engine import timestamps
from research.engine.bars import NO_CONTRACTS, Bars
from research.engine.clock import CHICAGO, iso_day, wall_clock_labels
from research.engine.contract_walk import HELD_COLUMN, with_held
from research.engine.errors_rows import SHOWN_ROWS, fail_rows
from research.engine.formats.files import BAR_FILE_SUFFIXES, ScanLimitError, bar_files
from research.engine.formats.loader import Loaded, LoadReport, load_frame, load_parts
from research.engine.formats.options import ColumnsLike, DateLike, LoadOptions, day_number_of
from research.engine.formats.rows import float_prices, rows_of, take, tradable_instrument
from research.engine.formats.symbols import classify, parse_symbol
from research.engine.instruments import Instrument
from research.errors import DataError, InputTypeError

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("timestamp", "open", "high", "low", "close", "instrument")
PRICE_COLUMNS = ("open", "high", "low", "close")
FRAME_SOURCE = "<frame>"
OFF_GRID_TOLERANCE_TICKS = 0.01
MAX_ABS_TICKS = 2.0**53  # beyond this a float price no longer maps to one exact tick count
__all__ = ["BAR_FILE_SUFFIXES", "DateLike", "LoadOptions", "ScanLimitError", "bar_files",
           "bars_by_symbol", "bars_from_files", "day_number_of", "describe_bars", "load_bars",
           "prepare_bars", "tradable_instrument"]


# ---------------------------------------------------------------- instruments


def _no_rows(symbol: str, names: list[str], source: str) -> NoReturn:
    found = ", ".join(sorted(set(names))) or "nothing"
    raise DataError(f"no {symbol} rows in {source} (column 'instrument' holds: {found})")


# ---------------------------------------------------------------- prices


TICKS_BLOCK_ROWS = 1 << 18  # prices turned into ticks at a time (bounds the scratch arrays)


def _to_ticks(prices: np.ndarray, instrument: Instrument, snap_to_tick: bool,
              rows: np.ndarray, name: str, source: str) -> np.ndarray:
    """Price -> int64 tick count (docs/engine.md §1); off-grid prices are refused unless snapped.
    Worked out TICKS_BLOCK_ROWS prices at a time into the one int64 array (a large file's
    peak memory); every bad row of every block is in the message."""
    ticks = np.empty(prices.size, dtype=np.int64)
    invalid, off_grid = [], []
    for start in range(0, prices.size, TICKS_BLOCK_ROWS):
        exact = prices[start:start + TICKS_BLOCK_ROWS] / instrument.tick
        bad = ~np.isfinite(exact) | (np.abs(exact) > MAX_ABS_TICKS)
        if bad.any():
            invalid.append(np.flatnonzero(bad) + start)
            continue
        rounded = np.rint(exact)
        if not snap_to_tick:
            off_grid.append(np.flatnonzero(np.abs(exact - rounded) > OFF_GRID_TOLERANCE_TICKS)
                            + start)
        ticks[start:start + rounded.size] = rounded
    if invalid:
        bad = np.concatenate(invalid)
        fail_rows(source, name, "with a NaN, infinite or out-of-range price", rows[bad],
                  prices[bad])
    bad = np.concatenate(off_grid) if off_grid else np.array([], dtype=np.int64)
    if bad.size:
        fail_rows(source, name, f"with a price off the {instrument.symbol} tick grid "
                  f"({instrument.tick}; snap_to_tick=True rounds it)", rows[bad], prices[bad])
    return ticks


def _check_ohlc(ticks: dict[str, np.ndarray], prices: dict[str, np.ndarray], rows: np.ndarray,
                source: str) -> None:
    """low <= open, close <= high on every row (docs/engine.md §1)."""
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
    matter (docs/engine.md Q24). Naive timestamps are wall time in `timezone`. The source named in
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
    column = df["contract"] if "contract" in df.columns else None
    contracts = _contracts_of(column, rows, codes, symbols)
    return _bars(spec, _Rows(utc_ns=utc_ns, wall_ns=timestamps.chicago_wall_ns(utc_ns),
                             prices=prices, rows=rows, contracts=contracts,
                             held=_held_flags(df, rows, source),
                             load_warnings=tuple(str(text)
                                                 for text in df.attrs.get("warnings", ())),
                             dropped_bars=int(df.attrs.get("dropped_bars", 0))),
                 snap_to_tick, source, str(df.attrs.get("format", "")))


def bars_from_files(path: str | os.PathLike[str], options: LoadOptions) -> Bars:
    """`prepare_bars(load_bars(path, ...), options.instrument)` without the frame between:
    the loader's UTC and Chicago wall-clock arrays go straight into the Bars (no Chicago
    DatetimeIndex built only to be turned back into UTC). `options.instrument` is required.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
    >>> len(bars_from_files(path, LoadOptions.checked(str(path), instrument="ES")))
    1
    """
    if options.instrument is None:
        raise ValueError("bars_from_files: options.instrument is required")
    loaded = load_parts(path, options)
    part, source = loaded.part, loaded.source
    spec = tradable_instrument(options.instrument, source)
    codes, symbols = classify(pd.Series(part.names, dtype=object))
    column = pd.Series(part.contracts, dtype=object) if (part.contracts != "").any() else None
    selected = _selected(loaded, spec, codes, symbols, column)
    source_format = loaded.format
    # the loader's names, contracts and volumes are not needed past here: let them go before
    # the Bars are made (issue 19: a large file's peak memory)
    del loaded, part, column, codes
    # the wall clock's labels now, and the wall clock gone before the ticks are made
    selected = _labelled(selected)
    return _bars(spec, selected, False, source, source_format)


def _labelled(selected: _Rows) -> _Rows:
    """`selected` with its minute and trading-date labels in place of its wall clock."""
    return dataclasses.replace(selected, wall_ns=None,
                               labels=wall_clock_labels(selected.wall_ns))


def bars_by_symbol(path: str | os.PathLike[str], options: LoadOptions
                   ) -> tuple[LoadReport, tuple[tuple[str, Bars | str | None], ...]]:
    """What the data inspector shows of a path: the loader's report and, for each symbol
    its files hold (sorted), `prepare_bars(load_bars(...), root)`'s Bars, the message of
    the DataError it raised (text), or None when the symbol is no instrument of the table.
    Made from the loader's arrays, without the frame between (issue 19: the frame and its
    per-row instrument names no longer sit beside the Bars being made).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
    >>> report, found = bars_by_symbol(path, LoadOptions.checked(str(path)))
    >>> [(symbol, len(bars)) for symbol, bars in found]
    [('ES', 1)]
    """
    loaded = load_parts(path, options)
    part, source = loaded.part, loaded.source
    names = pd.Series(part.names, dtype=object)
    codes, symbols = classify(names)
    # the names as the inspector listed them from the frame's instrument column
    shown = sorted({str(name) for name in names.dropna().unique()})
    column = pd.Series(part.contracts, dtype=object) if (part.contracts != "").any() else None
    # one small code a row instead of pandas' int64 (it stays beside every symbol's Bars)
    codes = codes.astype(np.int16 if len(symbols) < np.iinfo(np.int16).max else np.int32)
    # the loader's volumes, names and contracts are not read past here (names live on as
    # `codes`, contracts in `column`): let them go before the first Bars are made
    nothing = np.empty(0, dtype=object)
    labels = wall_clock_labels(part.wall_ns)  # every row's, once: the wall clock goes too
    loaded = dataclasses.replace(loaded, part=dataclasses.replace(
        part, volume=None, names=nothing, contracts=nothing, wall_ns=np.empty(0, np.int64)))
    del part, names
    found: list[tuple[str, Bars | str | None]] = []
    for name in shown:
        root = parse_symbol(name).root
        if root is None:
            found.append((name, None))
            continue
        try:
            spec = tradable_instrument(root, source)
            # no name for the selected rows: they go once this symbol's Bars are made
            found.append((name, _bars(spec, _selected(loaded, spec, codes, symbols, column,
                                                      labels),
                                      False, source, loaded.format)))
        except DataError as exc:
            found.append((name, str(exc)))
    return loaded.report, tuple(found)


def _selected(loaded: Loaded, spec: Instrument, codes: np.ndarray, symbols: list,
              column: pd.Series | None,
              labels: tuple[np.ndarray, np.ndarray] | None = None) -> _Rows:
    """The rows of `spec` among the loader's arrays (views of them when it is every row);
    with every row's `labels` (made early), those rather than the wall clock."""
    part, source = loaded.part, loaded.source
    rows = rows_of(codes, symbols, spec.symbol)
    if not rows.size:
        _no_rows(spec.symbol, [symbol.name for symbol in symbols], source)
    whole = rows.size == part.utc_ns.size
    contracts = _contracts_of(column, rows, codes, symbols)
    if labels is not None:
        labels = tuple(values if whole else values[rows] for values in labels)
    return _Rows(utc_ns=part.utc_ns if whole else part.utc_ns[rows],
                 wall_ns=None if labels is not None else
                 part.wall_ns if whole else part.wall_ns[rows], labels=labels,
                 prices={name: values if whole else values[rows]
                         for name, values in part.prices.items()},
                 rows=rows, contracts=contracts,
                 held=loaded.held if loaded.held is None or whole else loaded.held[rows],
                 load_warnings=loaded.report.messages,
                 dropped_bars=loaded.report.dropped_bars)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rows:
    """One instrument's selected rows as arrays: what both ways in make Bars of."""

    utc_ns: np.ndarray
    wall_ns: np.ndarray | None  # Chicago wall clock of utc_ns (None once `labels` are made)
    prices: dict[str, np.ndarray]  # float64, by PRICE_COLUMNS
    rows: np.ndarray  # each row's 0-based position among the source's rows (for errors)
    contracts: tuple[tuple[str, ...], np.ndarray]  # sorted names, int16 code per row
    held: np.ndarray | None = None  # rows kept after a roll for open trades only (contract_walk)
    load_warnings: tuple[str, ...] = ()  # the loader's warnings, repeated at the sweep's end
    dropped_bars: int = 0  # bad bars the loader left out (bad_bars: drop)
    labels: tuple[np.ndarray, np.ndarray] | None = None  # wall_clock_labels(wall_ns), made early


def _bars(spec: Instrument, selected: _Rows, snap_to_tick: bool, source: str,
          source_format: str) -> Bars:
    """Ticks, OHLC order, labels, one contract per date, time order: checked, then Bars."""
    utc_ns, rows, prices = selected.utc_ns, selected.rows, selected.prices
    ticks = {name: _to_ticks(prices[name], spec, snap_to_tick, rows, name, source)
             for name in PRICE_COLUMNS}
    _check_ohlc(ticks, prices, rows, source)
    minute_of_day, trading_day = selected.labels if selected.labels is not None \
        else wall_clock_labels(selected.wall_ns)
    contracts, contract_code = selected.contracts
    held = selected.held
    if held is not None:  # rows kept after a roll for open trades only (contract_walk)
        held_bars = {"ts_ns": utc_ns[held], "contract_code": contract_code[held],
                     **{f"{name}_ticks": ticks[name][held] for name in PRICE_COLUMNS}}
        held_day, dated = trading_day[held], ~held
        utc_ns, contract_code, rows = utc_ns[dated], contract_code[dated], rows[dated]
        minute_of_day, trading_day = minute_of_day[dated], trading_day[dated]
        ticks = {name: values[dated] for name, values in ticks.items()}
    _one_contract_per_date(trading_day, contract_code, contracts, source)
    keep = _time_order_without_duplicates(utc_ns, ticks, rows, source)
    if keep is not None:
        utc_ns, contract_code = utc_ns[keep], contract_code[keep]
        minute_of_day, trading_day = minute_of_day[keep], trading_day[keep]
        ticks = {name: values[keep] for name, values in ticks.items()}
    bars = Bars(instrument=spec, ts_ns=_fresh(utc_ns, np.int64),
                open_ticks=_fresh(ticks["open"], np.int64),
                high_ticks=_fresh(ticks["high"], np.int64),
                low_ticks=_fresh(ticks["low"], np.int64),
                close_ticks=_fresh(ticks["close"], np.int64),
                minute_of_day=minute_of_day, trading_day=trading_day, source=source,
                contracts=contracts, contract_code=_fresh(contract_code, np.int16),
                source_format=source_format, load_warnings=selected.load_warnings,
                dropped_bars=selected.dropped_bars)
    if held is None or not held.any():
        return bars
    walk = with_held(bars.walk, bars.trading_day, held_bars, held_day)
    return dataclasses.replace(bars, walk=walk)


def _held_flags(df: pd.DataFrame, rows: np.ndarray, source: str) -> np.ndarray | None:
    """The HELD_COLUMN of the instrument's rows (load_bars marks them after a roll)."""
    if HELD_COLUMN not in df.columns:
        return None
    flags = take(df[HELD_COLUMN], rows)
    if flags.dtype != bool:
        raise DataError(f"{source}: column {HELD_COLUMN!r} holds {flags.dtype} values, not "
                        "True or False (True marks the rows kept after a roll for trades still "
                        "open on that contract)")
    return flags.to_numpy(dtype=bool)


def _contracts_of(column: pd.Series | None, rows: np.ndarray, codes: np.ndarray,
                  symbols: list) -> tuple[tuple[str, ...], np.ndarray]:
    """Each row's contract: the `contract` column, else the symbol's (ESZ4 in `instrument`)."""
    if column is not None:
        return _contract_codes(_upper(take(column, rows)))
    if any(symbol.contract for symbol in symbols):
        return _contract_codes(np.array([*(symbol.contract for symbol in symbols), ""],
                                        dtype=object)[codes[rows]])
    return NO_CONTRACTS, np.zeros(rows.size, np.int16)


def _upper(names: pd.Series) -> np.ndarray:
    """Contract names as compared: stripped, upper-cased, "" for none."""
    return names.fillna("").astype(str).str.strip().str.upper().to_numpy(dtype=object)


def _contract_codes(per_row: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    contracts, code = np.unique(per_row.astype(str), return_inverse=True)
    return tuple(str(name) for name in contracts), code.astype(np.int16)


def _one_contract_per_date(trading_day: np.ndarray, contract_code: np.ndarray,
                           contracts: tuple[str, ...], source: str) -> None:
    """Contracts are never mixed within a trading date (docs/data-formats.md, rolls)."""
    if len(contracts) < 2:
        return
    pairs = np.unique(trading_day.astype(np.int64) * len(contracts) + contract_code)
    pair_days = pairs // len(contracts)
    mixed = np.flatnonzero(pair_days[1:] == pair_days[:-1])
    if mixed.size:
        day = pair_days[mixed[0]]
        names = sorted({contracts[code] or "(none)" for code in contract_code[trading_day == day]})
        raise DataError(f"{source}: trading date {iso_day(int(day))} mixes contracts "
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
    """An owned contiguous array: Bars must never be a view into the caller's frame. An array
    that already owns its data as `dtype` (the ticks computed here) is taken as it is: a copy
    would only add to a large load's peak memory."""
    if values.dtype == dtype and values.flags.owndata and values.flags.c_contiguous \
            and values.flags.writeable:
        return values
    return np.array(values, dtype=dtype, copy=True, order="C")


# ---------------------------------------------------------------- load


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


def load_with_report(path: str | os.PathLike[str], **keywords: Any) -> tuple[pd.DataFrame,
                                                                             LoadReport]:
    """`load_bars` and what it found: each file's format, zone, stamps, rolls, warnings."""
    return load_frame(path, LoadOptions.checked(_path_text(path), **keywords))


def _path_text(path: object) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"path: expected a file, folder or glob (str or PathLike), got "
                             f"{type(path).__name__}")
    return os.fspath(path)


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
            contracts.append({"contract": name, "first_date": iso_day(int(mine.min())),
                              "last_date": iso_day(int(mine.max()))})
    changes = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    rolls = [{"date": iso_day(int(days[i])), "from": bars.contracts[codes[i - 1]],
              "to": bars.contracts[codes[i]]} for i in changes]
    contracts.sort(key=lambda row: (row["first_date"], row["contract"]))
    return {"format": bars.source_format, "contracts": contracts, "roll_dates": rolls,
            **loader}
