"""The CME calendar (docs/data-formats.md, rolls, issue 22): each date's scheduled close.

`cme_calendar.csv` (next to this module) is a pinned table of CME Globex special sessions
2010-2026 for each product group: holidays (closed until 17:00), early closes and halts,
in Chicago time, built by docs/make_cme_calendar.py from pandas_market_calendars plus
overrides where it is wrong, each row with its source (docs/engine-dates.md). Any other
weekday closes at the regular 16:00. Dates outside the table read as regular days.

>>> closes, names = session_closes("NQ", [day_number(dt.date(2024, 11, 29))])
>>> minute_text(closes[0]), names[0]
('12:15', 'Day after Thanksgiving')
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Sequence
from importlib import resources

import numpy as np

from research.engine.clock import day_number
from research.engine.sessions import minute_of_day

REGULAR_CLOSE_MINUTE = 16 * 60  # the reference's fixed market close, every regular weekday
CLOSED = -1  # a session_close minute: no day session at all (holiday)
CLOSED_TEXT = "closed"
FIRST_YEAR, LAST_YEAR = 2010, 2026
# Product group of each root (micros with their base): whose calendar a date follows.
GROUP_OF = {**dict.fromkeys(("ES", "NQ", "YM", "RTY", "MES", "MNQ", "MYM", "M2K"), "equity"),
            "CL": "energy", "MCL": "energy", "NG": "natgas", "MNG": "natgas",
            "GC": "metals", "MGC": "metals"}


@functools.cache
def special_sessions(group: str) -> dict[int, tuple[int, str]]:
    """Day number -> (scheduled close minute or CLOSED, holiday name) of one group.

    >>> special_sessions("equity")[day_number(dt.date(2024, 12, 25))]
    (-1, 'Christmas')
    """
    text = resources.files("research.engine").joinpath("cme_calendar.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {day_number(dt.date.fromisoformat(row["date"])):
            (CLOSED if row["close"] == CLOSED_TEXT else minute_of_day(row["close"]), row["name"])
            for row in rows if row["group"] == group}


def session_closes(symbol: str, days: Sequence[int] | np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Per trading date (day number): the scheduled close minute (Chicago, CLOSED for a
    holiday) and the special session's name ("" on a regular day).

    >>> session_closes("ES", [day_number(dt.date(2024, 12, 24))])[0].tolist()
    [735]
    """
    table = special_sessions(GROUP_OF.get(symbol, "equity"))
    found = [table.get(int(day), (REGULAR_CLOSE_MINUTE, "")) for day in days]
    return np.array([close for close, _ in found], np.int64), [name for _, name in found]


def minute_text(minute: int) -> str:
    """A session_close as the result rows print it: HH:MM, or 'closed'.

    >>> minute_text(735), minute_text(CLOSED)
    ('12:15', 'closed')
    """
    return CLOSED_TEXT if minute == CLOSED else f"{minute // 60:02d}:{minute % 60:02d}"


def close_labels(symbol: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fixed categories of the session_close and special_session columns of a root.

    >>> close_labels("NQ")[0][-2:]
    ('16:00', 'closed')
    """
    table = special_sessions(GROUP_OF.get(symbol, "equity"))
    closes = sorted({minute_text(c) for c, _ in table.values()} | {minute_text(960)})
    return tuple(closes), ("", *sorted({name for _, name in table.values()}))


DAY_SESSION_REOPENS = 17 * 60  # Globex reopens at 17:00 Chicago for the next trade date


def calendar_in_data(symbol: str, trading_day: np.ndarray,
                     minute_of_day: np.ndarray) -> tuple[list[tuple[int, str, str]], np.ndarray]:
    """The special sessions among the data's trading dates, as (day, close text, name), and
    the positions of bars stamped while the exchange was closed: on a special date, from
    its scheduled close (all day on a holiday) up to the 17:00 reopening. Bars there are a
    sign of a wrong time zone or a bad file.

    >>> day = day_number(dt.date(2024, 11, 29))
    >>> calendar_in_data("ES", np.array([day, day]), np.array([12 * 60, 13 * 60]))
    ([(20056, '12:15', 'Day after Thanksgiving')], array([1]))
    """
    days, inverse = np.unique(np.asarray(trading_day, np.int64), return_inverse=True)
    closes, names = session_closes(symbol, days)
    special = [(int(day), minute_text(int(close)), name)
               for day, close, name in zip(days, closes, names, strict=True) if name]
    shut_from = np.where(closes == CLOSED, 0, closes)[inverse.reshape(-1)]
    minute = np.asarray(minute_of_day, np.int64)
    is_special = np.array([bool(name) for name in names], bool)[inverse.reshape(-1)]
    closed = is_special & (minute >= shut_from) & (minute < DAY_SESSION_REOPENS)
    return special, np.flatnonzero(closed)
