"""Chicago wall-clock arithmetic, vectorised over trading dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

CHICAGO = "America/Chicago"  # the engine's one time zone: every wall time is Chicago's
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
MINUTES_PER_DAY = 1440
NS_PER_DAY = MINUTES_PER_DAY * NS_PER_MINUTE
EPOCH = date(1970, 1, 1)  # day numbers (trading_day, calendar days) count from here
NEXT_DAY_FROM_MINUTE = 23 * 60  # docs/engine.md §5.1: bars from 23:00 carry the next date


def chicago_to_utc_ns(days: np.ndarray, minutes: np.ndarray | int) -> np.ndarray:
    """UTC ns of Chicago wall time `minutes` past midnight on calendar `days` (since epoch).

    A wall time skipped by a DST change moves forward; an ambiguous one takes standard
    time. Neither happens for session times on trading days (weekdays, 02:00 or later).
    """
    days = np.asarray(days, dtype=np.int64)
    wall = days * NS_PER_DAY + np.asarray(minutes, dtype=np.int64) * NS_PER_MINUTE
    local = pd.DatetimeIndex(wall.astype("datetime64[ns]")).tz_localize(
        CHICAGO, ambiguous=np.zeros(len(wall), dtype=bool), nonexistent="shift_forward")
    return local.as_unit("ns").asi8.copy()


def noon_offsets_ns(days: np.ndarray) -> np.ndarray:
    """Chicago's UTC offset (local - UTC, ns) at noon of each calendar day."""
    utc = chicago_to_utc_ns(days, 12 * 60)
    return np.asarray(days, dtype=np.int64) * NS_PER_DAY + 720 * NS_PER_MINUTE - utc


def weekday_to_utc_ns(days: np.ndarray, minutes: int | np.ndarray,
                      offsets_ns: np.ndarray) -> np.ndarray:
    """chicago_to_utc_ns for weekdays, from their noon offsets: US DST changes happen on
    Sundays at 02:00, so a weekday keeps one offset all day. Much cheaper per call."""
    return np.asarray(days, dtype=np.int64) * NS_PER_DAY + minutes * NS_PER_MINUTE - offsets_ns


def next_weekday(days: np.ndarray) -> np.ndarray:
    """The next weekday's calendar date: D+1, or D+3 from a Friday (docs/engine.md Q8)."""
    days = np.asarray(days, dtype=np.int64)
    weekday = weekday_of(days)
    return days + np.where(weekday == 4, 3, 1)


def weekday_of(days: np.ndarray) -> np.ndarray:
    """Mon=0 ... Sun=6 for days since 1970-01-01 (a Thursday)."""
    return (np.asarray(days, dtype=np.int64) + 3) % 7


def day_number(value: date) -> int:
    """Days since EPOCH of a calendar date; a datetime counts by its own (wall) date."""
    if isinstance(value, datetime):
        value = value.date()
    return (value - EPOCH).days


def iso_day(day: int) -> str:
    """A day number (days since EPOCH) as an ISO date, the one way back from day numbers.

    >>> iso_day(19724)
    '2024-01-02'
    """
    return (EPOCH + timedelta(days=int(day))).isoformat()


def utc_to_chicago(utc_ns: np.ndarray) -> pd.DatetimeIndex:
    """UTC epoch ns (int64) as a tz-aware Chicago DatetimeIndex: the one tz conversion."""
    utc = pd.DatetimeIndex(np.asarray(utc_ns, dtype=np.int64).view("M8[ns]")).tz_localize("UTC")
    return utc.tz_convert(CHICAGO)


LABEL_BLOCK_ROWS = 1 << 18  # rows labelled at a time: bounds the int64 scratch (issue 19)


def wall_clock_labels(wall_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chicago minute of day (int16) and trading date (int32 days, +1 from 23:00, §5.1) of
    naive Chicago wall-clock ns. A long array is labelled LABEL_BLOCK_ROWS rows at a time:
    the same labels, without ~25 bytes a row of int64 scratch at a large load's peak."""
    wall_ns = np.asarray(wall_ns, dtype=np.int64)
    if wall_ns.ndim != 1 or wall_ns.size <= LABEL_BLOCK_ROWS:
        return _labels_of(wall_ns)
    minute_of_day = np.empty(wall_ns.size, dtype=np.int16)
    trading_day = np.empty(wall_ns.size, dtype=np.int32)
    for start in range(0, wall_ns.size, LABEL_BLOCK_ROWS):
        stop = start + LABEL_BLOCK_ROWS
        minute_of_day[start:stop], trading_day[start:stop] = _labels_of(wall_ns[start:stop])
    return minute_of_day, trading_day


def _labels_of(wall_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    wall_minutes = wall_ns // NS_PER_MINUTE
    minute_of_day = wall_minutes % MINUTES_PER_DAY
    trading_day = wall_minutes // MINUTES_PER_DAY + (minute_of_day >= NEXT_DAY_FROM_MINUTE)
    return minute_of_day.astype(np.int16), trading_day.astype(np.int32)
