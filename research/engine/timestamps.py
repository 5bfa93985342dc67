"""Timestamps -> UTC ns: tz-aware, naive-in-a-zone, or text with offsets; errors name rows."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from research.engine.clock import NS_PER_MINUTE, utc_to_chicago
from research.engine.errors_rows import SHOWN_ROWS, fail_rows
from research.errors import DataError

_OFFSET_TAIL = re.compile(r"([+-])(\d{2}):(\d{2})")
PANDAS_RANGE = "pandas' datetime range (1677-09-21 .. 2262-04-11)"


def in_ns_range(stamps: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The stamps with those outside nanosecond range (pandas 3 parses year 9999 as us) as NaT,
    in ns."""
    if stamps.unit == "ns":
        return stamps
    utc = stamps if stamps.tz is None else stamps.tz_convert(None)
    inside = (utc >= pd.Timestamp.min) & (utc <= pd.Timestamp.max) | stamps.isna()
    if not inside.all():
        stamps = stamps.where(inside)
    return stamps.as_unit("ns")


def _check_range(stamps: pd.DatetimeIndex, values: pd.Series, rows: np.ndarray,
                 source: str) -> pd.DatetimeIndex:
    """A stamp outside pandas' ns range (year 9999, 1677) is a row error, not a traceback."""
    ranged = in_ns_range(stamps)
    bad = np.flatnonzero(np.asarray(ranged.isna()) & ~np.asarray(stamps.isna()))
    if bad.size:
        fail_rows(source, "timestamp", f"with a timestamp outside {PANDAS_RANGE}", rows[bad],
                  [str(value) for value in np.asarray(values, dtype=object)[bad[:SHOWN_ROWS]]])
    return ranged


PARSE_CHUNK_ROWS = 1 << 17  # timestamps parsed at a time (bounds a large file's peak memory)


def utc_ns(values: pd.Series, rows: np.ndarray, timezone: str, source: str,
           zones: list[str] | None = None) -> np.ndarray:
    """UTC epoch ns per value: aware stamps are converted, naive ones read as `timezone` wall time
    (docs/engine.md Q22/Q23). `zones`, when given, gets the stamps' own zone ("None": naive;
    the loader's chunks must all agree on it)."""
    missing = np.asarray(values.isna(), dtype=bool)
    if missing.any():
        fail_rows(source, "timestamp", "with a missing timestamp", rows[missing],
                  ["missing"] * SHOWN_ROWS, described=True)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamps = _check_range(pd.DatetimeIndex(values), values, rows, source)
    elif pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        stamps = _check_range(_parse_text(values, rows, source), values, rows, source)
    else:
        raise DataError(f"{source}: column 'timestamp': expected datetimes or ISO 8601 text, "
                        f"got dtype {values.dtype}")
    if zones is not None:
        zones.append(str(stamps.tz))
    if stamps.tz is None:
        return localise(stamps, timezone, rows, source)
    return stamps.as_unit("ns").asi8


def _parse_text(values: pd.Series, rows: np.ndarray, source: str) -> pd.DatetimeIndex:
    """Parse ISO 8601 text PARSE_CHUNK_ROWS rows at a time: pandas parses text through
    Python strings (~80 bytes a row), so a whole large file at once would peak at several
    times its size; chunks bound that. Chunks that disagree (naive and aware stamps, one
    zone and another) are parsed again as one, for the whole column's message."""
    if len(values) <= PARSE_CHUNK_ROWS:
        return _parse_text_at_once(values, rows, source)
    parsed, zones = [], set()
    for start in range(0, len(values), PARSE_CHUNK_ROWS):
        part = slice(start, start + PARSE_CHUNK_ROWS)
        stamps = _parse_text_at_once(values.iloc[part], rows[part], source)
        zones.add(str(stamps.tz))
        parsed.append(stamps.as_unit("ns").asi8)
    if len(zones) > 1:
        return _parse_text_at_once(values, rows, source)
    utc_ns = np.concatenate(parsed)
    naive = pd.DatetimeIndex(utc_ns.view("M8[ns]"))
    return naive if zones == {"None"} else naive.tz_localize("UTC").tz_convert(zones.pop())


def _parse_text_at_once(values: pd.Series, rows: np.ndarray, source: str) -> pd.DatetimeIndex:
    """Parse ISO 8601 text. `±HH:MM` and `Z` suffixes are split off and applied here because
    pandas 2.2 parses offset strings one by one (seconds for a year of bars)."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) != "string":
        values = values.astype(str)  # datetime objects: their str() is ISO with an offset
    codes, uniques = pd.factorize(values.str[-6:])
    suffix_lengths, offset_minutes = _suffixes(list(uniques))
    row_suffix = suffix_lengths[codes]
    if not row_suffix.any():
        return _parse_iso(values, rows, source)
    with_suffix = row_suffix > 0
    result_ns = np.empty(len(values), dtype=np.int64)
    heads = _strip_suffixes(values[with_suffix], row_suffix[with_suffix])
    wall = _parse_iso(heads, rows[with_suffix], source, values[with_suffix])
    if wall.tz is not None:
        fail_rows(source, "timestamp", "with two UTC offsets", rows[with_suffix],
                  values[with_suffix].to_numpy())
    offsets_ns = offset_minutes[codes[with_suffix]] * NS_PER_MINUTE
    result_ns[with_suffix] = wall.as_unit("ns").asi8 - offsets_ns
    if not with_suffix.all():
        others = _parse_iso(values[~with_suffix], rows[~with_suffix], source)
        if others.tz is None:
            naive = np.flatnonzero(~with_suffix)
            fail_rows(source, "timestamp", "without a UTC offset among timestamps that have one",
                      rows[naive], values.to_numpy()[naive])
        result_ns[~with_suffix] = others.as_unit("ns").asi8
    return pd.DatetimeIndex(result_ns.view("M8[ns]")).tz_localize("UTC")


def _suffixes(tails: list[object]) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct 6-character tail: length of its offset suffix (0 = none) and offset minutes."""
    lengths = np.zeros(len(tails), dtype=np.int64)
    minutes = np.zeros(len(tails), dtype=np.int64)
    for index, tail in enumerate(tails):
        text = str(tail)
        match = _OFFSET_TAIL.fullmatch(text)
        if match:
            sign = -1 if match.group(1) == "-" else 1
            lengths[index] = 6
            minutes[index] = sign * (int(match.group(2)) * 60 + int(match.group(3)))
        elif text.endswith("Z"):
            lengths[index] = 1
    return lengths, minutes


def _strip_suffixes(values: pd.Series, row_suffix: np.ndarray) -> pd.Series:
    """The text without its offset suffix, one vectorised slice per suffix length."""
    lengths = np.unique(row_suffix)
    if len(lengths) == 1:
        return values.str[: -int(lengths[0])]
    heads = values.copy()
    for length in lengths:
        mask = row_suffix == length
        heads[mask] = values[mask].str[: -int(length)]
    return heads


def _parse_iso(values: pd.Series, rows: np.ndarray, source: str,
               originals: pd.Series | None = None) -> pd.DatetimeIndex:
    """ISO 8601 text -> datetimes; the rows that do not parse are named with their `originals`."""
    parsed = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pandas 2: mixed zones -> object
            parsed = pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        pass
    if parsed is not None and pd.api.types.is_datetime64_any_dtype(parsed.dtype):
        return _check_range(pd.DatetimeIndex(parsed), values if originals is None
                            else originals, rows, source)
    coerced = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
    bad = np.flatnonzero(np.asarray(coerced.isna(), dtype=bool))
    if bad.size:
        fail_rows(source, "timestamp", "with an unparseable timestamp (expected ISO 8601, e.g. "
                  "2024-01-09 08:30:00-06:00)", rows[bad],
                  (values if originals is None else originals).to_numpy()[bad])
    raise DataError(f"{source}: column 'timestamp': mixes time zones in a form that is not "
                    "read; write UTC offsets as ±HH:MM on every row")


def localise(wall: pd.DatetimeIndex, timezone: str, rows: np.ndarray,
              source: str) -> np.ndarray:
    """Naive wall time -> UTC ns; a DST-skipped or repeated wall time is an error naming it."""
    try:
        local = wall.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    except KeyError as exc:  # zoneinfo and pytz both raise a KeyError subclass
        raise DataError(f"{source}: unknown timezone {timezone!r} for naive timestamps") from exc
    bad = np.flatnonzero(np.asarray(local.isna(), dtype=bool))
    if bad.size:
        first = wall[bad[:SHOWN_ROWS]]  # only these are shown; fail_rows counts all of `bad`
        shifted = first.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
        kinds = np.where(np.asarray(shifted.isna()), "ambiguous", "does not exist")
        shown = [f"{stamp} ({kind})" for stamp, kind in zip(first, kinds, strict=True)]
        fail_rows(source, "timestamp", f"with a wall time that does not exist or is ambiguous "
                  f"in {timezone} (DST change)", rows[bad], shown, described=True)
    return local.as_unit("ns").asi8


def chicago_wall_ns(utc_ns: np.ndarray) -> np.ndarray:
    """Chicago wall clock as naive epoch ns: the one tz conversion per call."""
    return utc_to_chicago(utc_ns).tz_localize(None).asi8


def chicago_text(utc_ns: np.ndarray) -> list[str]:
    """Each stamp as pandas prints it, e.g. '2024-01-09 08:02:00-06:00' (fractional seconds
    when present). Not `clock.format_wall`: strftime has no ±HH:MM offset before Python 3.12
    and a fixed format cannot drop zero fractions as str() does."""
    return [str(stamp) for stamp in utc_to_chicago(utc_ns)]
