"""Your own opening range (docs/engine.md, custom ranges): the checks of `range_start`,
`range_end` or `range_minutes`, and `trade_until`, in one function the engine and the
breakout statistics both call.

A custom range on trading date D is the window [D range_start, D range_end) in Chicago
wall time, like a reference slot's [D session start, D slot). It must lie inside the day
part of one Globex session (00:00 to the 16:00 close; from 23:00 the bars belong to the
next date, docs/engine-dates.md), so every bar of the window carries the label D.

>>> w = check_range_fields("08:30", None, 15, None)
>>> w.start_minute, w.end_minute, w.label
(510, 525, 'R0830-0845')
>>> check_range_fields(None, None, None, "15:00").cutoff_minute
900
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from research.engine.sessions import minute_of_day
from research.errors import ParamsError, shorten

LATEST_RANGE_END = "16:00"  # the Globex day session's regular close (docs/engine-dates.md)
LATEST_RANGE_END_MINUTE = 16 * 60
CUSTOM_LABEL_PREFIX = "R"  # a custom range's session label: R0830-0845


@dataclass(frozen=True, slots=True)
class RangeWindow:
    """A checked range definition in Chicago minutes of the day (None: not given).

    `start_minute`/`end_minute` are both None when the reference sessions run;
    `cutoff_minute` is `trade_until` (None: today's rule, `market_close`).
    """

    start_minute: int | None
    end_minute: int | None
    cutoff_minute: int | None

    @property
    def is_custom(self) -> bool:
        return self.start_minute is not None

    @property
    def label(self) -> str:
        """The `session` label of the rows of a custom range (its `stream` is the symbol,
        a dash, and this label: ES-R0830-0845).

        >>> RangeWindow(480, 570, None).label
        'R0800-0930'
        """
        if self.start_minute is None or self.end_minute is None:
            return ""
        return range_label(self.start_minute, self.end_minute)


def range_label(start_minute: int, end_minute: int) -> str:
    """'R' + start HHMM + '-' + end HHMM: readable, stable and sortable.

    >>> range_label(510, 540)
    'R0830-0900'
    """
    return (f"{CUSTOM_LABEL_PREFIX}{start_minute // 60:02d}{start_minute % 60:02d}-"
            f"{end_minute // 60:02d}{end_minute % 60:02d}")


def hhmm_minute(name: str, value: Any) -> int:
    """A Chicago "HH:MM" field as its minute of the day, or a ParamsError naming it.

    >>> hhmm_minute("exit_at", "15:55")
    955
    """
    if not isinstance(value, str):  # YAML reads 08:30 unquoted as a number of minutes
        raise ParamsError(f"{name}: {shorten(value)} is not an HH:MM time; write it as text "
                          "in quotes, e.g. '08:30'")
    try:
        return minute_of_day(value)
    except ValueError:
        raise ParamsError(f"{name}: {shorten(value)} is not an HH:MM time (00:00-23:59), "
                          "e.g. '08:30'") from None


def check_range_fields(range_start: Any, range_end: Any, range_minutes: Any,
                       trade_until: Any) -> RangeWindow:
    """Check a range definition; every mistake is a one-line ParamsError naming the field,
    its value and the fix. All None: the reference sessions with today's cut-off.

    >>> check_range_fields("08:00", "09:30", None, None).label
    'R0800-0930'
    >>> check_range_fields("08:30", "08:15", None, None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    research.errors.ParamsError: range_end: '08:15' is not after range_start '08:30'; ...
    """
    cutoff = None if trade_until is None else hhmm_minute("trade_until", trade_until)
    if range_start is None:
        for name, value in (("range_end", range_end), ("range_minutes", range_minutes)):
            if value is not None:
                raise ParamsError(f"{name}: {shorten(value)} needs range_start (the range's "
                                  "first minute, Chicago HH:MM, e.g. '08:30')")
        return RangeWindow(None, None, cutoff)
    start = hhmm_minute("range_start", range_start)
    if (range_end is None) == (range_minutes is None):
        raise ParamsError(f"range_start: {shorten(range_start)} needs exactly one of range_end "
                          "(HH:MM) or range_minutes (a whole number), not "
                          + ("both" if range_end is not None else "neither"))
    if range_end is not None:
        end = hhmm_minute("range_end", range_end)
        if end <= start:
            raise ParamsError(f"range_end: {shorten(range_end)} is not after range_start "
                              f"{shorten(range_start)}; a range needs at least one minute")
    else:
        end = start + _check_minutes(range_minutes, start)
    if end > LATEST_RANGE_END_MINUTE:
        what = (f"range_end {shorten(range_end)}" if range_end is not None
                else f"range_start {range_start} + range_minutes {range_minutes}")
        raise ParamsError(f"{what} ends after {LATEST_RANGE_END}, the Globex day session's "
                          "close; a range lies within one session (00:00-16:00 Chicago)")
    if cutoff is not None and cutoff < end:
        raise ParamsError(f"trade_until: {shorten(trade_until)} is before the range's end "
                          f"{end // 60:02d}:{end % 60:02d}; no entry could be taken")
    return RangeWindow(start, end, cutoff)


def _check_minutes(value: Any, start: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamsError(f"range_minutes: {shorten(value)} is not a whole number of minutes")
    longest = LATEST_RANGE_END_MINUTE - start
    if not 1 <= value <= max(longest, 1):
        raise ParamsError(f"range_minutes: {shorten(value)} is not in [1, {longest}] (the range "
                          f"must end by {LATEST_RANGE_END}, the Globex day session's close)")
    return value
