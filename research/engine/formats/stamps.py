"""Vendor stamp text -> naive wall-clock ns, parsed once per distinct date and time.

A year of minute bars has ~300 distinct dates and 1,440 distinct times: parsing those and
adding them up is much faster than parsing 350,000 stamps. Values that do not parse (or lie
outside pandas' datetime range, 1677-09-21 .. 2262-04-11) are row-level DataErrors.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from research.engine.clock import NS_PER_SECOND
from research.engine.errors_rows import fail_rows
from research.engine.timestamps import PANDAS_RANGE, in_ns_range

_TIME_OF_DAY = re.compile(r"(\d{1,2}):?(\d{2}):?(\d{2})?(?:[.,](\d{1,9}))?")


def date_time_ns(dates: pd.Series, times: pd.Series, rows: np.ndarray, source: str,
                 date_formats: Sequence[str | None], names: tuple[str, str],
                 chosen: list[str] | None = None) -> np.ndarray:
    """Naive ns of each row's date plus time of day; `date_formats` are tried in order (None:
    pandas infers the format from the first value). `chosen`, when given, gets the format
    that read the dates (the loader's chunks must all agree on it)."""
    day_ns = _dates_ns(dates, rows, source, date_formats, names[0], chosen)
    return day_ns + _times_ns(times, rows, source, names[1])


def _dates_ns(dates: pd.Series, rows: np.ndarray, source: str,
              date_formats: Sequence[str | None], name: str,
              chosen: list[str] | None = None) -> np.ndarray:
    codes, uniques = pd.factorize(dates, use_na_sentinel=True)  # strip the few uniques only
    parsed = _parse_dates(pd.Index([str(value).strip() for value in uniques]), date_formats,
                          chosen)
    unique_ns = parsed.as_unit("ns").asi8 if parsed.notna().all() else None
    bad_unique = np.flatnonzero(np.asarray(parsed.isna()))
    bad = np.flatnonzero((codes < 0) | np.isin(codes, bad_unique))
    if bad.size or unique_ns is None:
        shown = np.asarray(dates, dtype=object)[bad]
        fail_rows(source, name, f"with a date that does not parse as "
                  f"{_shown_formats(date_formats)} or lies outside {PANDAS_RANGE}", rows[bad],
                  shown)
    return unique_ns[codes]


def _parse_dates(values: pd.Index, date_formats: Sequence[str | None],
                 chosen: list[str] | None = None) -> pd.DatetimeIndex:
    best = pd.DatetimeIndex(np.full(len(values), np.datetime64("NaT", "ns")))
    best_format: str | None = None
    for date_format in date_formats:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "could not infer format"
            parsed = in_ns_range(pd.DatetimeIndex(pd.to_datetime(values, format=date_format,
                                                                 errors="coerce")))
        if parsed.notna().sum() > best.notna().sum():
            best = parsed.as_unit("ns") if parsed.notna().any() else best
            best_format = date_format
        if best.notna().all():
            break
    if chosen is not None:
        chosen.append(_format_used(best_format, values))
    midnight = best.normalize() if best.notna().any() else best
    return midnight.where(best == midnight)  # a "date" with a time of day is not a date


def _format_used(date_format: str | None, values: pd.Index) -> str:
    """The format that read `values`: the given one, else the one pandas infers from the
    first value (pandas.tseries.api.guess_datetime_format, what to_datetime does without a
    format: "the format is inferred from the first non-NaN element", pandas' to_datetime
    docs); "" when none is inferred (each value is then parsed on its own)."""
    if date_format is not None or not len(values):
        return date_format or ""
    from pandas.tseries.api import guess_datetime_format

    return guess_datetime_format(str(values[0])) or ""


def _times_ns(times: pd.Series, rows: np.ndarray, source: str, name: str) -> np.ndarray:
    codes, uniques = pd.factorize(times, use_na_sentinel=True)
    unique_ns = np.array([_time_of_day_ns(str(value).strip()) for value in uniques],
                         dtype=np.int64)
    bad = np.flatnonzero((codes < 0) | (unique_ns[codes] < 0) if len(uniques) else codes < 0)
    if bad.size:
        fail_rows(source, name, "with a time of day that does not parse (expected HH:MM, "
                  "HH:MM:SS[.fff] or HHMMSS)", rows[bad], np.asarray(times, dtype=object)[bad])
    return unique_ns[codes]


def _time_of_day_ns(text: str) -> int:
    """ns after midnight of 'HH:MM', 'HH:MM:SS.fff' or 'HHMMSS'; -1 when it is not one."""
    match = _TIME_OF_DAY.fullmatch(text)
    if not match:
        return -1
    hours, minutes = int(match.group(1)), int(match.group(2))
    seconds = int(match.group(3) or 0)
    fraction = (match.group(4) or "").ljust(9, "0")
    if hours > 23 or minutes > 59 or seconds > 59:
        return -1
    return ((hours * 60 + minutes) * 60 + seconds) * NS_PER_SECOND + int(fraction or 0)


def _shown_formats(date_formats: Sequence[str | None]) -> str:
    named = [fmt for fmt in date_formats if fmt]
    return " or ".join(named) if named else "a date"


def split_stamp(values: pd.Series, date_chars: int) -> tuple[pd.Series, pd.Series]:
    """'20241202 093100' -> ('20241202', '093100'): a date of `date_chars` characters, a space
    and the time."""
    text = values.astype(str)
    return text.str.slice(0, date_chars), text.str.slice(date_chars + 1)
