"""Any other delimited text (or a parquet file's columns), read through a `columns:` mapping.

`columns` maps the loader's names to the file's: `{timestamp: Time}` or `{date: Date, time:
Time}`, `close: Last`, ...; names left out are matched case-insensitively (`open` finds
`Open`). A file without a header takes 0-based positions (`{date: 0, time: 1, open: 2, ...}`).
`date_format` (strptime, e.g. "%d.%m.%Y") reads dates that are not ISO or month-first.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from research.engine.formats.base import RawTable, found, shorten
from research.engine.formats.canonical import read_parquet_columns
from research.engine.formats.detect import Detected
from research.engine.formats.symbols import symbol_from_file_name
from research.engine.formats.textio import call_guarded, read_text
from research.errors import DataError

COLUMN_KEYS = ("timestamp", "date", "time", "open", "high", "low", "close", "volume",
               "instrument", "contract")
OPTION_KEYS = ("date_format",)
PRICES = ("open", "high", "low", "close")
TEXT_KEYS = ("timestamp", "date", "time", "instrument", "contract")


def check_columns(columns: object) -> dict[str, str | int]:
    """The mapping checked alone (keys, value types, a time source); messages start with
    `columns`.

    >>> check_columns({"date": "Date", "time": "Time", "close": "Last"})["close"]
    'Last'
    """
    if not isinstance(columns, Mapping) or not columns:
        raise DataError(f"columns: expected a mapping like {{timestamp: Time, close: Last}}, "
                        f"got {shorten(columns)}")
    unknown = [key for key in columns if key not in (*COLUMN_KEYS, *OPTION_KEYS)]
    if unknown:
        raise DataError(f"columns: unknown key(s) {shorten(unknown)}; allowed: "
                        f"{', '.join((*COLUMN_KEYS, *OPTION_KEYS))}")
    for key, value in columns.items():
        wrong = not isinstance(value, str) if key in OPTION_KEYS else (
            isinstance(value, bool) or not isinstance(value, (str, int))
            or (isinstance(value, int) and value < 0))
        if wrong or value == "":
            raise DataError(f"columns.{key}: {shorten(value)} is not a column name or a "
                            "0-based position")
    if "timestamp" in columns and ("date" in columns or "time" in columns):
        raise DataError("columns: give timestamp, or date and time, not both")
    if ("date" in columns) != ("time" in columns):
        raise DataError("columns: date and time go together (or give timestamp alone)")
    return dict(columns)


def read(file: Path, detected: Detected, columns: Mapping[str, str | int]) -> RawTable:
    """One delimited file through `columns`."""
    mapping = check_columns(columns)
    chosen = _resolve(file, detected, mapping)
    positions = sorted(set(chosen.values()))
    if detected.kind == "parquet":  # columns: maps parquet columns (and an index) alike
        wanted = [detected.fields[position] for position in positions]
        frame = call_guarded(file, lambda: read_parquet_columns(file, tuple(wanted)))[wanted]
    else:
        frame = read_text(file, sep=detected.sep, header=0 if detected.has_header else None,
                          usecols=positions, skipinitialspace=True,
                          dtype={position: str for key, position in chosen.items()
                                 if key in TEXT_KEYS})
    frame.columns = range(frame.shape[1]) if not detected.has_header else frame.columns
    by_position = dict(zip(positions, frame.columns, strict=True))
    out = frame[[by_position[chosen[key]] for key in chosen]].copy()
    out.columns = [("symbol" if key == "instrument" else key) for key in chosen]
    names = {key: _shown_name(detected, position) for key, position in chosen.items()}
    names["symbol"] = names.pop("instrument", "instrument")
    return RawTable(frame=out, fmt=detected.fmt, found_columns=detected.fields,
                    symbol=symbol_from_file_name(file), renamed=names,
                    date_formats=(mapping.get("date_format"), None),
                    stamp_format=mapping.get("date_format"), auto=detected.auto)


def _resolve(file: Path, detected: Detected, mapping: dict[str, str | int]) -> dict[str, int]:
    """Loader name -> the column's 0-based position in the file."""
    lower = {name.strip().lower(): index for index, name in enumerate(detected.fields)}
    exact = {name.strip(): index for index, name in enumerate(detected.fields)}
    time_keys = ("date", "time") if "date" in mapping or "timestamp" not in lower and \
        "date" in lower else ("timestamp",)
    chosen: dict[str, int] = {}
    for key in (*time_keys, *PRICES, "volume", "instrument", "contract"):
        given = mapping.get(key)
        if isinstance(given, int):
            if given >= len(detected.fields):
                raise DataError(f"{file}: columns.{key}: position {given} is past the "
                                f"{len(detected.fields)} fields of the first line")
            chosen[key] = given
        elif given is not None:
            if given.strip() not in exact and given.strip().lower() not in lower:
                raise DataError(f"{file}: columns.{key}: {shorten(given)} is not a column "
                                f"({_found(detected)})")
            chosen[key] = exact.get(given.strip(), lower.get(given.strip().lower(), 0))
        elif detected.has_header and key in lower:
            chosen[key] = lower[key]
        elif key in (*time_keys, *PRICES):
            raise DataError(f"{file}: columns: no column for {key} ({_found(detected)}); "
                            f"map it, e.g. columns: {{{key}: {_example(detected, key)}}}")
    return chosen


def _found(detected: Detected) -> str:
    if detected.has_header:
        return found(detected.fields)
    return (f"no header, {len(detected.fields)} fields; first line "
            f"{shorten(detected.first_line)}: map 0-based positions")


def _example(detected: Detected, key: str) -> str:
    return "Last" if key == "close" and detected.has_header else (
        "Time" if detected.has_header else "0")


def _shown_name(detected: Detected, position: int) -> str:
    return detected.fields[position] if detected.has_header else f"field {position}"
