"""Sanity checks that catch the usual mistakes (docs/data-formats.md "Sanity checks").

Fixed-point prices are an error; a daily halt that is not at 16:00-17:00 Chicago (a wrong
time zone) and bars that look end-stamped are warnings that say by how much and which key
fixes it. Warnings are logged and returned, so the inspector can show them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from research.engine.clock import MINUTES_PER_DAY, NS_PER_MINUTE
from research.engine.errors_rows import fail_rows

log = logging.getLogger("research.engine.data")

FIXED_POINT_ABOVE = 1e7  # no futures price in points is this high; 1e9-scaled ones are
HALT_START_MINUTE = 16 * 60  # CME Globex halts 16:00-17:00 Chicago every trading day
HALT_MINUTES = 60
MIN_DAYS_FOR_HALT_CHECK = 3  # fewer trading dates say too little about a daily halt
HALT_EMPTY_SHARE = 0.5  # a halt window holds fewer bars than half a usual minute's count
# Zones offered when the halt is whole hours off (the ones minute-bar exports use).
ZONE_SUGGESTIONS = ("America/New_York", "America/Chicago", "America/Denver",
                    "America/Los_Angeles", "UTC", "Europe/London", "Europe/Berlin",
                    "Asia/Tokyo", "Australia/Sydney")


@dataclass(frozen=True, slots=True, kw_only=True)
class DataWarning:
    """A problem the loader noticed but did not refuse: where, what kind, and the message.

    >>> DataWarning(source="ES.txt", kind="stamps", message="...").kind
    'stamps'
    """

    source: str
    kind: str  # "timezone", "stamps" or "spreads"
    message: str


def check_fixed_point(prices: np.ndarray, rows: np.ndarray, column: str, source: str) -> None:
    """Raw Databento prices (int64 x 1e-9) read as points: refuse, naming format: databento."""
    huge = np.flatnonzero(np.abs(prices) > FIXED_POINT_ABOVE)
    if huge.size:
        fail_rows(source, column, f"with a price above {FIXED_POINT_ABOVE:.0e}, which is no "
                  "futures price in points: these look like fixed-point prices (1 unit = 1e-9,"
                  " Databento's raw form): format: databento", rows[huge], prices[huge])


def halt_warnings(wall_ns: np.ndarray, utc_ns: np.ndarray, source: str, timezone: str,
                  stamps: str) -> list[DataWarning]:
    """Where the data's daily halt lies in Chicago time (`wall_ns`, naive), against where it
    should (16:00-17:00)."""
    if utc_ns.size == 0:
        return []
    wall_minutes = wall_ns // NS_PER_MINUTE
    if np.unique(wall_minutes // MINUTES_PER_DAY).size < MIN_DAYS_FOR_HALT_CHECK:
        return []
    counts = np.bincount(wall_minutes % MINUTES_PER_DAY, minlength=MINUTES_PER_DAY)
    window = np.convolve(np.r_[counts, counts[:HALT_MINUTES - 1]], np.ones(HALT_MINUTES, int),
                         mode="valid")  # window[m]: bars at minutes m .. m+59 (circular)
    usual_minute = np.median(counts[counts > 0])
    empty = window < HALT_EMPTY_SHARE * usual_minute
    if empty[HALT_START_MINUTE] or not empty.any():
        return []  # the halt is where it should be, or the data shows no daily halt at all
    offsets = (np.flatnonzero(empty) - HALT_START_MINUTE + 720) % MINUTES_PER_DAY - 720
    offset = int(offsets[np.argmin(np.abs(offsets))])
    warning = _stamp_warning(source, offset, stamps) if abs(offset) < 30 else \
        _zone_warning(source, offset, timezone, int(np.median(utc_ns)))
    log.warning("%s", warning.message)
    return [warning]


def _stamp_warning(source: str, offset: int, stamps: str) -> DataWarning:
    late = offset > 0
    if late:
        fix = ("the bars look end-stamped: timestamps: close shifts them to their open"
               if stamps == "open" else "the stamps look later than bar ends")
    else:
        fix = ("the bars look open-stamped: timestamps: open" if stamps == "close"
               else "the stamps look earlier than bar opens")
    return DataWarning(source=source, kind="stamps", message=(
        f"{source}: the daily halt runs {_clock(HALT_START_MINUTE + offset)}-"
        f"{_clock(HALT_START_MINUTE + HALT_MINUTES + offset)} Chicago, {abs(offset)} min "
        f"{'later' if late else 'earlier'} than 16:00-17:00 (read as timestamps: {stamps}); "
        f"{fix}"))


def _zone_warning(source: str, offset: int, timezone: str, sample_ns: int) -> DataWarning:
    hours = offset / 60
    shown = f"{hours:+.0f} h" if offset % 60 == 0 else f"{offset:+d} min"
    zones = _zones_ahead_by(timezone, offset, sample_ns)
    fix = f"timezone: {zones[0]}" if zones else "timezone: (the zone the file's stamps are in)"
    return DataWarning(source=source, kind="timezone", message=(
        f"{source}: the daily 16:00-17:00 Chicago halt is at {_clock(HALT_START_MINUTE + offset)}"
        f"-{_clock(HALT_START_MINUTE + offset + HALT_MINUTES)} after reading the stamps as "
        f"{timezone}: the time zone looks {shown} off; set {fix}"))


def _zones_ahead_by(timezone: str, offset_minutes: int, sample_ns: int) -> list[str]:
    """Zones whose clock runs `offset_minutes` ahead of `timezone` at the sample time."""
    moment = pd.Timestamp(sample_ns, tz="UTC").to_pydatetime()
    base = moment.astimezone(ZoneInfo(timezone)).utcoffset()
    out = []
    for zone in ZONE_SUGGESTIONS:
        shift = moment.astimezone(ZoneInfo(zone)).utcoffset() - base
        if shift.total_seconds() == offset_minutes * 60 and zone != timezone:
            out.append(zone)
    return out


def _clock(minute: int) -> str:
    minute %= MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"
