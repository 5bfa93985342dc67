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

from research.engine.clock import MINUTES_PER_DAY, NS_PER_DAY, NS_PER_MINUTE
from research.engine.errors_rows import fail_rows
from research.errors import DataError

log = logging.getLogger("research.engine.data")

FIXED_POINT_ABOVE = 1e7  # no futures price in points is this high; 1e9-scaled ones are
HALT_START_MINUTE = 16 * 60  # CME Globex halts 16:00-17:00 Chicago every trading day
HALT_MINUTES = 60
SECONDS_PER_DAY = 86_400
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
                  stamps: str, *, zone_given: bool = True) -> list[DataWarning]:
    """Where the data's daily halt lies in Chicago time (`wall_ns`, naive), against where it
    should (16:00-17:00), found in each DST period on its own: a year of UTC stamps read as
    Chicago puts the halt at two places an hour apart, and neither one hour is empty over the
    whole year. A zone off by whole hours is a DataError naming the zone to set, unless the
    zone was given (`zone_given`: then a warning, the user's word stands)."""
    found = []  # (offset minutes, a UTC time inside the period) per telling DST period
    for rows in _dst_periods(utc_ns):
        offset = _halt_offset(wall_ns[rows])
        if offset is not None:
            found.append((offset, int(utc_ns[rows[rows.size // 2]])))
    if not any(offset for offset, _ in found):
        return []  # the halt is where it should be, or the data shows no daily halt at all
    off = [(offset, at) for offset, at in found if offset]
    if all(abs(offset) < 30 for offset, _ in off):
        warning = _stamp_warning(source, off[0][0], stamps)
    else:
        off = [(offset, at) for offset, at in off if abs(offset) >= 30]
        warning = _zone_warning(source, off, timezone)
        if not zone_given and all(offset % 60 == 0 for offset, _ in off):  # whole hours
            raise DataError(f"{warning.message} (the halt checked in each of {len(found)} DST "
                            "period(s); an explicit timezone: overrides this check)")
    log.warning("%s", warning.message)
    return [warning]


def zone_hint(stamps_ns: np.ndarray, timezone: str) -> str:
    """For stamps that could not be read in `timezone` (a DST gap): the zone their daily halt
    points to, as a hint ('' when the halt says nothing). `stamps_ns` are the stamps as
    written (naive, read as UTC), close enough to UTC to tell DST periods apart.

    >>> zone_hint(np.array([], dtype=np.int64), "America/Chicago")
    ''
    """
    found = []
    for rows in _dst_periods(stamps_ns):
        offset = _halt_offset(stamps_ns[rows] + _offset_ns(timezone, stamps_ns[rows]))
        if offset is not None:
            found.append((offset, int(stamps_ns[rows[rows.size // 2]])))
    off = [(offset, at) for offset, at in found if offset and offset % 60 == 0]
    if not off or len(off) < len(found):
        return ""
    zones = _zones_ahead_by(timezone, off)
    if not zones:
        return ""
    return (f"the daily halt in the stamps as written points to {zones[0]} time, not "
            f"{timezone}: set timezone: {zones[0]}")


def _offset_ns(timezone: str, stamps_ns: np.ndarray) -> np.ndarray:
    """Chicago's clock minus `timezone`'s at each stamp: naive stamps in `timezone` shifted to
    Chicago wall time (zero for Chicago itself)."""
    if timezone == "America/Chicago" or not stamps_ns.size:
        return np.zeros(stamps_ns.size, dtype=np.int64)
    moment = pd.DatetimeIndex(stamps_ns.view("M8[ns]"), tz="UTC")
    chicago = moment.tz_convert("America/Chicago").tz_localize(None).asi8
    other = moment.tz_convert(timezone).tz_localize(None).asi8
    return chicago - other


def _dst_periods(utc_ns: np.ndarray) -> list[np.ndarray]:
    """Row positions per stretch of time in which no zone of ZONE_SUGGESTIONS changes its UTC
    offset (US, EU and AU DST dates differ), so a halt stays at one wall-clock hour within."""
    if utc_ns.size == 0:
        return []
    days = utc_ns // NS_PER_DAY
    if bool((days[1:] >= days[:-1]).all()):  # in time order: runs of days, no sort
        starts = np.r_[0, np.flatnonzero(days[1:] != days[:-1]) + 1]
        change = _period_changes(days[starts])
        bounds = starts[1:][change[1:] != change[:-1]]
        return np.split(np.arange(utc_ns.size), bounds)
    unique_days, day_index = np.unique(days, return_inverse=True)
    period = _period_changes(unique_days)[day_index]
    order = np.argsort(period, kind="stable")
    bounds = np.flatnonzero(np.diff(period[order])) + 1
    return np.split(order, bounds)


def _period_changes(unique_days: np.ndarray) -> np.ndarray:
    """Per distinct UTC day (ascending): the number of DST changes of any suggested zone
    before it (equal numbers: one period)."""
    noon = pd.DatetimeIndex((unique_days * NS_PER_DAY + NS_PER_DAY // 2).view("M8[ns]"),
                            tz="UTC")
    keys = np.zeros(unique_days.size, dtype=np.int64)
    for zone in ZONE_SUGGESTIONS:  # one DST state per zone and day: a combined period key
        offsets = noon.tz_convert(zone).tz_localize(None).asi8 - noon.tz_localize(None).asi8
        keys = keys * 3 + (offsets != offsets.min())
    return np.r_[0, np.cumsum(keys[1:] != keys[:-1])]


def _halt_offset(wall_ns: np.ndarray) -> int | None:
    """Minutes between the nearest empty hour and 16:00 (0: the halt is in place), or None
    when the rows say nothing (too few dates, no empty hour at all)."""
    wall_minutes = wall_ns // NS_PER_MINUTE
    if np.unique(wall_minutes // MINUTES_PER_DAY).size < MIN_DAYS_FOR_HALT_CHECK:
        return None
    counts = np.bincount(wall_minutes % MINUTES_PER_DAY, minlength=MINUTES_PER_DAY)
    window = np.convolve(np.r_[counts, counts[:HALT_MINUTES - 1]], np.ones(HALT_MINUTES, int),
                         mode="valid")  # window[m]: bars at minutes m .. m+59 (circular)
    usual_minute = np.median(counts[counts > 0])
    empty = window < HALT_EMPTY_SHARE * usual_minute
    if empty[HALT_START_MINUTE]:
        return 0
    if not empty.any():
        return None
    offsets = (np.flatnonzero(empty) - HALT_START_MINUTE + 720) % MINUTES_PER_DAY - 720
    return int(offsets[np.argmin(np.abs(offsets))])


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


def _zone_warning(source: str, off: list[tuple[int, int]], timezone: str) -> DataWarning:
    offsets = sorted({offset for offset, _ in off})
    shown = " or ".join(f"{offset / 60:+.0f} h" if offset % 60 == 0 else f"{offset:+d} min"
                        for offset in offsets)
    by_period = " (by DST period)" if len(offsets) > 1 else ""
    zones = _zones_ahead_by(timezone, off)
    fix = f"timezone: {zones[0]}" if zones else "timezone: (the zone the file's stamps are in)"
    first = off[0][0]
    return DataWarning(source=source, kind="timezone", message=(
        f"{source}: the daily 16:00-17:00 Chicago halt is at {_clock(HALT_START_MINUTE + first)}"
        f"-{_clock(HALT_START_MINUTE + first + HALT_MINUTES)} after reading the stamps as "
        f"{timezone}: the time zone looks {shown} off{by_period}; set {fix}"))


def _zones_ahead_by(timezone: str, off: list[tuple[int, int]]) -> list[str]:
    """Zones whose clock runs each period's offset ahead of `timezone` in that period (a UTC
    year read as Chicago is 5 h off in summer and 6 h in winter: only UTC fits both)."""
    def ahead(zone: str, sample_ns: int) -> float:
        moment = pd.Timestamp(sample_ns, tz="UTC").to_pydatetime()
        return (moment.astimezone(ZoneInfo(zone)).utcoffset()
                - moment.astimezone(ZoneInfo(timezone)).utcoffset()).total_seconds()

    return [zone for zone in ZONE_SUGGESTIONS if zone != timezone
            and all((ahead(zone, at) - offset * 60) % SECONDS_PER_DAY == 0
                    for offset, at in off)]  # a day apart is the same clock (Tokyo: -10 h)


def _clock(minute: int) -> str:
    minute %= MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"
