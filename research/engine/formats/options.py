"""`load_bars`' keywords, checked once into a frozen `LoadOptions`.

The list of load keys lives here only: `load_bars` takes them as keywords, a sweep spec's
``data:`` section takes them as keys (research.spec.data_source), and both check them with
`LoadOptions.checked`, so the loader never checks them again.

>>> LoadOptions.checked("ES.txt", format="kibot", start="2024-01-02").first_day
19724
>>> LoadOptions.checked("ES.txt", roll="front")
Traceback (most recent call last):
...
research.errors.DataError: ES.txt: roll: 'front' is not one of volume, none
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from research.engine.clock import CHICAGO, day_number, iso_day
from research.engine.errors_rows import shorten
from research.engine.formats.base import FORMAT_NAMES, STAMPS
from research.engine.formats.delimited import check_columns
from research.engine.formats.quality import BAD_BARS
from research.engine.formats.rolls import ROLL_RULES
from research.engine.formats.rows import tradable_instrument
from research.errors import DataError

DateLike = str | date | datetime | pd.Timestamp | None
ColumnsLike = Mapping[str, str | int] | None
# How files are read (the keys that need no file to check), with their defaults. A sweep
# spec leaves a key at its default out of its dict, so older specs keep their spec hash.
FILE_KEY_DEFAULTS = MappingProxyType({"format": "auto", "columns": None, "timestamps": None,
                                      "roll": "volume", "snap_to_tick": False,
                                      "bad_bars": "warn"})
# Every keyword of load_bars after the path, in its order.
LOAD_KEYS = ("format", "columns", "instrument", "timezone", "timestamps", "roll", "start",
             "end", "snap_to_tick", "bad_bars")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadOptions:
    """`load_bars`' keywords, checked (`instrument` is a table symbol, dates day numbers
    since 1970-01-01, inclusive Chicago dates). Build it with `checked`.

    >>> LoadOptions.checked("x", instrument=" es ").keywords()["instrument"]
    'ES'
    """

    format: str = "auto"
    columns: Mapping[str, str | int] | None = None
    instrument: str | None = None
    timezone: str | None = None  # None: the format's zone
    timestamps: str | None = None  # None: the format's stamp convention
    roll: str = "volume"
    first_day: int | None = None
    last_day: int | None = None
    snap_to_tick: bool = False
    bad_bars: str = "warn"  # warn | drop | error: bars wrong one by one (quality.BAD_BARS)

    @classmethod
    def checked(cls, source: str, *, format: str = "auto", columns: ColumnsLike = None,
                instrument: str | None = None, timezone: str | None = None,
                timestamps: str | None = None, roll: str = "volume", start: DateLike = None,
                end: DateLike = None, snap_to_tick: bool = False,
                bad_bars: str = "warn") -> LoadOptions:
        """Every key checked; a DataError starts with `source` and names the key."""
        check_file_keys(source, format=format, columns=columns, timezone=timezone,
                        timestamps=timestamps, roll=roll, snap_to_tick=snap_to_tick,
                        bad_bars=bad_bars)
        symbol = None if instrument is None else tradable_instrument(instrument, source).symbol
        return cls(format=format, columns=None if columns is None else dict(columns),
                   instrument=symbol, timezone=timezone, timestamps=timestamps, roll=roll,
                   first_day=day_number_of(start, "start"), last_day=day_number_of(end, "end"),
                   snap_to_tick=snap_to_tick, bad_bars=bad_bars)

    @property
    def start(self) -> str | None:
        """The first date kept, as ISO text (None: from the first bar)."""
        return None if self.first_day is None else iso_day(self.first_day)

    @property
    def end(self) -> str | None:
        """The last date kept, as ISO text (None: to the last bar)."""
        return None if self.last_day is None else iso_day(self.last_day)

    @property
    def file_format(self) -> str:
        """The format the files are searched for: delimited when `columns` maps them."""
        return "delimited" if self.columns else self.format

    def keywords(self) -> dict[str, Any]:
        """The options as `load_bars`' keywords (dates as ISO text), in LOAD_KEYS order.

        >>> tuple(LoadOptions().keywords()) == LOAD_KEYS
        True
        """
        columns = None if self.columns is None else dict(self.columns)
        return {"format": self.format, "columns": columns, "instrument": self.instrument,
                "timezone": self.timezone, "timestamps": self.timestamps, "roll": self.roll,
                "start": self.start, "end": self.end, "snap_to_tick": self.snap_to_tick,
                "bad_bars": self.bad_bars}

    def changed_file_keys(self) -> dict[str, Any]:
        """The file keys not at their default (FILE_KEY_DEFAULTS).

        >>> LoadOptions.checked("x", roll="none", start="2024-01-02").changed_file_keys()
        {'roll': 'none'}
        """
        given = self.keywords()
        return {key: given[key] for key, default in FILE_KEY_DEFAULTS.items()
                if given[key] != default}

    def written_timezone(self) -> str | None:
        """The zone as a spec records it: unset means America/Chicago for canonical files
        (the format's zone), so a spec written before the vendor formats keeps its hash.

        >>> LoadOptions().written_timezone(), LoadOptions(format="kibot").written_timezone()
        ('America/Chicago', None)
        """
        if self.timezone is None and self.format in ("auto", "canonical"):
            return CHICAGO
        return self.timezone


def check_file_keys(source: str, *, format: object = "auto", columns: object = None,
                    timezone: object = None, timestamps: object = None, roll: object = "volume",
                    snap_to_tick: object = False, bad_bars: object = "warn") -> None:
    """The keys that need no file, checked alone."""
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
    """Days since clock.EPOCH of a date bound (an aware datetime counts by its Chicago date).

    >>> day_number_of("2024-01-02", "start")
    19724
    """
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
