"""Files -> one frame of bars in the engine's convention, for every format alike.

Per file: detect (or take) the format, read it into the loader's names, keep the rows of the
instrument (spreads dropped and counted), convert stamps to UTC (naive ones in `timezone`,
else the format's zone), shift end stamps to the bar's open, read prices (fixed point
divided), filter dates, snap, check. Then all files together: one contract per trading
date (`rolls`). Row numbers in errors are 0-based positions among a file's data rows.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from research.engine import timestamps
from research.engine.clock import (
    NS_PER_DAY,
    NS_PER_MINUTE,
    iso_day,
    utc_to_chicago,
    wall_clock_labels,
)
from research.engine.contract_walk import HELD_COLUMN, held_rows
from research.engine.formats.checks import (
    DataWarning,
    halt_warnings,
)
from research.engine.formats.chunked import (
    chunked,
    give_back_freed_memory,
    read_in_chunks,
)
from research.engine.formats.convert import converted, read_raw
from research.engine.formats.databento import expected_schema
from research.engine.formats.detect import detect
from research.engine.formats.file_notes import (
    ENCODING_NAMES,
    calendar_warnings,
    cut_finding,
    cut_last_row,
    duplicate_of,
    encoding,
    settings_from,
)
from research.engine.formats.files import bar_files
from research.engine.formats.options import LoadOptions
from research.engine.formats.quality import apply_policy, check_spacing, find_bad_bars
from research.engine.formats.rolls import choose_contracts
from research.engine.formats.session_days import on_calendar
from research.engine.formats.symbols import (
    expiry_ranks,
    parse_symbol,
)
from research.engine.instruments import INSTRUMENTS
from research.errors import DataError, HeaderOnlyError

log = logging.getLogger("research.engine.data")

PRICE_COLUMNS = ("open", "high", "low", "close")
DAY_PART_END_MINUTE = 16 * 60  # a date's ranges lie after midnight, before the 16:00 close



@dataclass(frozen=True, slots=True, kw_only=True)
class FileReport:
    """What one file turned out to be, for the log, the manifest and the inspector."""

    source: str
    format: str
    detected: bool  # by format: auto
    timezone: str
    stamps: str
    columns: dict[str, str]  # loader name -> the file's column
    rows: int  # rows kept
    spreads: int  # spread rows dropped
    holds: tuple[str, ...]  # the distinct instruments/contracts the file names
    # where each setting came from: "detected", "given", "format default", "file name",
    # "folder name", "column" (the instrument), "columns:" (a delimited format)
    settings_from: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    dropped: int = 0  # bad bars left out (bad_bars: drop)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadReport:
    files: list[FileReport]
    warnings: list[DataWarning] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per file left out, and why

    @property
    def dropped_bars(self) -> int:
        return sum(file.dropped for file in self.files)

    @property
    def messages(self) -> tuple[str, ...]:
        """Every warning and skipped file as one line each: what a sweep repeats at its end."""
        return (*(warning.message for warning in self.warnings), *self.skipped)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Part:
    """One file's kept rows, converted."""

    utc_ns: np.ndarray
    wall_ns: np.ndarray  # Chicago wall clock of utc_ns (one tz conversion per file)
    prices: dict[str, np.ndarray]
    volume: np.ndarray | None
    names: np.ndarray  # the instrument column as read (stripped, upper-cased; roots of contracts)
    contracts: np.ndarray  # contract symbol per row, "" for none


@dataclass(frozen=True, slots=True, kw_only=True)
class Loaded:
    """Every file of a path read and rolled: the rows as arrays, in the frame's row order
    (`load_frame` makes the frame of them; `data.bars_from_files` the Bars, without it)."""

    part: _Part
    source: str  # the path as given
    format: str  # the files' formats, sorted, comma-separated
    report: LoadReport
    held: np.ndarray | None = None  # rows kept after a roll for open trades only (contract_walk)


def load_frame(path: str | os.PathLike[str], options: LoadOptions) -> tuple[pd.DataFrame,
                                                                            LoadReport]:
    """Every file of `path` in the engine's convention, and what was found on the way."""
    loaded = load_parts(path, options)
    combined = loaded.part
    # copy=False: the loader's arrays become the frame's columns as they are (pandas would
    # otherwise copy the prices into one block: another 32 bytes a row at the peak)
    frame = pd.DataFrame({"timestamp": utc_to_chicago(combined.utc_ns), **combined.prices,
                          "instrument": combined.names}, copy=False)
    if (combined.contracts != "").any():
        frame["contract"] = combined.contracts
    if loaded.held is not None:  # a trade lives on its contract (contract_walk)
        frame[HELD_COLUMN] = loaded.held
    frame.attrs["source"] = loaded.source
    frame.attrs["format"] = loaded.format
    # what the manifest, the closing block and the report repeat (through prepare_bars)
    frame.attrs["warnings"] = list(loaded.report.messages)
    frame.attrs["dropped_bars"] = loaded.report.dropped_bars
    return frame, loaded.report


def load_parts(path: str | os.PathLike[str], options: LoadOptions) -> Loaded:
    """Every file of `path` read, converted, filtered and rolled (one contract per date)."""
    source = os.fspath(path)
    files = bar_files(path, format=options.file_format)
    parts, reports, warnings, skipped, seen = [], [], [], [], {}
    for file in files:
        try:
            part, report, found_warnings = read_file(file, options)
        except HeaderOnlyError as exc:
            if len(files) == 1:
                raise
            skipped.append(f"{exc}: skipped")
            log.warning("%s: skipped", exc)
            continue
        copy_of = duplicate_of(part, seen, report.source) if len(files) > 1 else None
        if copy_of is not None:
            skipped.append(f"{report.source}: holds the same bars as {copy_of} (a copy; line "
                           "endings or compression may differ): skipped")
            log.warning("%s", skipped[-1])
            continue
        parts.append(part)
        reports.append(report)
        warnings.extend(found_warnings)
    combined = _concat(parts)
    if not combined.utc_ns.size and (options.instrument or options.first_day is not None
                                     or options.last_day is not None):
        _nothing_selected(source, options, reports)
    warnings += calendar_warnings(combined, source)  # before the roll leaves any out
    keep = _one_contract_per_date(combined, options.roll, source)
    held = None
    if keep is not None:
        held = _held_after_rolls(combined, keep)
        keep = keep | held
        held = held[keep] if held.any() else None
        combined = _Part(utc_ns=combined.utc_ns[keep], wall_ns=combined.wall_ns[keep],
                         volume=None, names=combined.names[keep],
                         prices={k: v[keep] for k, v in combined.prices.items()},
                         contracts=combined.contracts[keep])
    return Loaded(part=combined, source=source, held=held,
                  format=",".join(sorted({report.format for report in reports})),
                  report=LoadReport(files=reports, warnings=warnings, skipped=skipped))


def read_file(file: Path, options: LoadOptions) -> tuple[_Part, FileReport, list[DataWarning]]:
    """One file's rows of the instrument, converted and checked."""
    source = str(file)
    detected = detect(file, options.format, options.columns)
    read = read_in_chunks(file, detected, lambda: read_raw(file, detected, options.columns),
                          lambda raw, first_row: converted(raw, file, detected, options,
                                                            first_row)) \
        if chunked(file, detected) else None
    if read is None:  # a small file, or chunks that disagree or fail: the whole file at once
        read = converted(read_raw(file, detected, options.columns), file, detected, options)
    raw, rows, names, contracts = read.raw, read.rows, read.names, read.contracts
    spreads, holds, named_from, zone, stamps = read.spreads, read.holds, read.named_from, \
        read.zone, read.stamps
    utc_ns, prices, volume = read.utc_ns, read.prices, read.volume
    del read  # the arrays below replace these one by one (a large file's peak memory)
    wall_ns = timestamps.chicago_wall_ns(utc_ns)
    cut = cut_last_row(file, detected, raw.rows, rows)
    inside = _inside_dates(wall_ns, options)
    if inside is not None:
        utc_ns, wall_ns, rows = utc_ns[inside], wall_ns[inside], rows[inside]
        names, contracts, cut = names[inside], contracts[inside], cut[inside]
        prices = {name: values[inside] for name, values in prices.items()}
        volume = None if volume is None else volume[inside]
    if expected_schema() == "ohlcv-1m":  # inside accept_second_bars (resolve_with): seconds
        check_spacing(utc_ns, contracts, rows, source)
    if options.snap_to_tick:
        prices = _snapped(prices, names)
    give_back_freed_memory()  # what the steps above let go, before the largest check
    found = find_bad_bars(prices, utc_ns, wall_clock_labels(wall_ns)[1], names, contracts,
                          rows, source)
    give_back_freed_memory()
    if cut.any():
        found.insert(0, cut_finding(source, cut, rows, prices))
    keep, dropped = apply_policy(found, options.bad_bars, utc_ns.size)
    warnings = [DataWarning(source=source, kind=bad.kind, message=bad.message)
                for bad in found if keep is None]
    for warning in warnings:
        log.warning("%s", warning.message)
    if keep is not None:
        for bad in found:
            log.info("%s", bad.message)
        log.warning("%s: dropped %d bad bar(s) (bad_bars: drop)", source, dropped)
        utc_ns, wall_ns, names, contracts = utc_ns[keep], wall_ns[keep], names[keep], \
            contracts[keep]
        prices = {name: values[keep] for name, values in prices.items()}
        volume = None if volume is None else volume[keep]
    warnings += halt_warnings(wall_ns, utc_ns, source, zone, stamps,
                              zone_given=options.timezone is not None)
    report = FileReport(source=source, format=raw.fmt.name, detected=detected.auto,
                        timezone=zone, stamps=stamps, rows=int(utc_ns.size), spreads=spreads,
                        columns={name: raw.column(name) for name in raw.columns},
                        holds=holds, settings_from=settings_from(detected, named_from,
                                                                  options),
                        encoding=encoding(file, detected), dropped=dropped)
    log.info("%s: format %s%s, timezone %s, timestamps %s, %d rows", source, raw.fmt.name,
             " (detected)" if detected.auto else "", zone, stamps, utc_ns.size)
    if report.settings_from.get("instrument") in ("file name", "folder name"):
        log.info("%s: instrument %s from its %s", source, ", ".join(holds),
                 report.settings_from["instrument"])
    if report.encoding != "utf-8":
        log.info("%s: read as %s", source, ENCODING_NAMES[report.encoding])
    if spreads:
        log.info("%s: dropped %d spread row(s)", source, spreads)
    give_back_freed_memory()  # the checks' scratch arrays (a large file's peak memory)
    return _Part(utc_ns=utc_ns, wall_ns=wall_ns, prices=prices, volume=volume, names=names,
                 contracts=contracts), report, warnings


def _inside_dates(wall_ns: np.ndarray, options: LoadOptions) -> np.ndarray | None:
    if options.first_day is None and options.last_day is None:
        return None
    days = wall_ns // NS_PER_DAY
    inside = np.ones(days.size, dtype=bool)
    if options.first_day is not None:
        inside &= days >= options.first_day
    if options.last_day is not None:
        inside &= days <= options.last_day
    return inside


def _snapped(prices: dict[str, np.ndarray], names: np.ndarray) -> dict[str, np.ndarray]:
    """Prices rounded to their instrument's tick (snap_to_tick), so prepare_bars takes them."""
    out = {name: values.copy() for name, values in prices.items()}
    for symbol in {name for name in names if isinstance(name, str)}:
        spec = INSTRUMENTS.get(symbol) or INSTRUMENTS.get(parse_symbol(symbol).root or "")
        if spec is None:
            continue
        mine = names == symbol
        for values in out.values():
            values[mine] = np.round(np.rint(values[mine] / spec.tick) * spec.tick,
                                    spec.decimals)
    return out


def _concat(parts: list[_Part]) -> _Part:
    if len(parts) == 1:
        return parts[0]
    volumes = [part.volume for part in parts]
    return _Part(utc_ns=np.concatenate([part.utc_ns for part in parts]),
                 wall_ns=np.concatenate([part.wall_ns for part in parts]),
                 prices={name: np.concatenate([part.prices[name] for part in parts])
                         for name in PRICE_COLUMNS},
                 volume=None if any(v is None for v in volumes) else np.concatenate(volumes),
                 names=np.concatenate([part.names for part in parts]),
                 contracts=np.concatenate([part.contracts for part in parts]))


def _one_contract_per_date(part: _Part, rule: str, source: str) -> np.ndarray | None:
    """Per instrument with contract symbols: the rows of each date's contract (None: all);
    each roll is logged (describe_bars reports them from the bars)."""
    if not part.utc_ns.size or not (part.contracts != "").any():
        return None
    _, trading_day = wall_clock_labels(part.wall_ns)
    keep = np.ones(part.utc_ns.size, dtype=bool)
    root_codes, roots = pd.factorize(pd.Series(part.names).fillna(""))
    for root_code, root in enumerate(roots):
        mine = np.flatnonzero(root_codes == root_code) if len(roots) > 1 else \
            np.arange(part.utc_ns.size)
        codes, contracts = _sorted_codes(part.contracts[mine])
        if len(contracts) == 1:
            continue
        volume = None if part.volume is None else part.volume[mine]
        wall = part.wall_ns[mine]
        minute = (wall // NS_PER_MINUTE) % (NS_PER_DAY // NS_PER_MINUTE)
        in_day = (wall // NS_PER_DAY == trading_day[mine]) & (minute < DAY_PART_END_MINUTE)
        last_years = [int(pd.Timestamp(int(wall[codes == code].max())).year)
                      for code in range(len(contracts))]
        chosen, rolls = choose_contracts(trading_day[mine], codes, contracts, volume, rule,
                                         source, votes=on_calendar(wall), in_day=in_day,
                                         expiry_rank=expiry_ranks(contracts, last_years))
        if chosen is not None:
            keep[mine] = chosen
        for roll in rolls:
            log.info("%s: %s rolls from %s to %s on %s", source, root, roll.before, roll.after,
                     roll.date)
    return None if keep.all() else keep


def _held_after_rolls(part: _Part, keep: np.ndarray) -> np.ndarray:
    """Per instrument: the outgoing contract's rows in the days after each roll, which
    trades entered before the roll still read (contract_walk.held_rows)."""
    _, trading_day = wall_clock_labels(part.wall_ns)
    held = np.zeros(len(keep), dtype=bool)
    root_codes, _ = pd.factorize(pd.Series(part.names).fillna(""))
    contract_codes, _ = pd.factorize(part.contracts)
    for root_code in np.unique(root_codes):
        mine = np.flatnonzero(root_codes == root_code)
        held[mine] = held_rows(trading_day[mine], contract_codes[mine], keep[mine])
    return held


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes into the sorted distinct values (a hash factorize: no sort of every row)."""
    codes, uniques = pd.factorize(values)
    names = [str(name) for name in uniques]
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], [names[i] for i in order]


def _nothing_selected(source: str, options: LoadOptions, reports: list[FileReport]) -> None:
    what = f"{options.instrument} rows" if options.instrument else "rows"
    holds = sorted({name for report in reports for name in report.holds})
    held = f" (the data holds: {', '.join(holds[:12])}{' ...' if len(holds) > 12 else ''})" \
        if holds and options.first_day is None and options.last_day is None else ""
    if options.first_day is None and options.last_day is None:
        raise DataError(f"no {what} in {source}{held}")
    raise DataError(f"no {what} in {source} between {_day(options.first_day, 'the start')} "
                    f"and {_day(options.last_day, 'the end')}")


def _day(day: int | None, default: str) -> str:
    return default if day is None else iso_day(day)
