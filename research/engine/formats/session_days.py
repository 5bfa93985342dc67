"""Which bars belong to an exchange session, for the roll's vote and the inspector.

CME Globex trades Sunday to Friday, 17:00 to 16:00 Chicago: a session opening at 17:00 is the
next day's (Sunday evening is Monday's session). A bar whose session falls on a Saturday or a
Sunday is outside the exchange's calendar: NinjaTrader's CL exports hold one-lot Saturday
bars, and one such bar must not decide a roll (issue 22). This is the weekday rule only:
a holiday's session (research.engine.calendar) still votes; its thin volume rarely decides.
"""

from __future__ import annotations

import numpy as np

from research.engine.clock import EPOCH, NS_PER_DAY, NS_PER_MINUTE, weekday_of
from research.engine.formats.checks import DataWarning

SESSION_OPENS_MINUTE = 17 * 60  # a Globex session opens at 17:00 Chicago the day before
SHOWN_DATES = 5


def session_day(wall_ns: np.ndarray) -> np.ndarray:
    """The day (days since 1970-01-01) of each bar's Globex session: its Chicago wall date,
    +1 from 17:00.

    >>> import pandas as pd
    >>> wall = pd.DatetimeIndex(["2025-03-30 17:00", "2025-03-31 09:30"]).asi8
    >>> (session_day(wall) == session_day(wall)[1]).all()  # Sunday 17:00 is Monday's
    np.True_
    """
    wall_ns = np.asarray(wall_ns, dtype=np.int64)
    minute = (wall_ns // NS_PER_MINUTE) % (NS_PER_DAY // NS_PER_MINUTE)
    return wall_ns // NS_PER_DAY + (minute >= SESSION_OPENS_MINUTE)


def is_trading_session(days: np.ndarray) -> np.ndarray:
    """Whether a session day is on the exchange's calendar: Monday to Friday (holidays are
    the calendar's business, not this weekday rule's).

    >>> is_trading_session(np.array([20175, 20176])).tolist()  # Fri 2025-03-28, Sat 03-29
    [True, False]
    """
    return weekday_of(np.asarray(days)) < 5


def on_calendar(wall_ns: np.ndarray) -> np.ndarray:
    """Per bar: whether its session is on the exchange's calendar."""
    return is_trading_session(session_day(wall_ns))


def off_calendar_warning(wall_ns: np.ndarray, source: str) -> DataWarning | None:
    """One line on bars whose session is not on the calendar (count and dates), or None."""
    days = session_day(wall_ns)
    off = ~is_trading_session(days)
    if not off.any():
        return None
    dates, counts = np.unique(days[off], return_counts=True)
    shown = ", ".join(f"{(EPOCH + np.timedelta64(int(day), 'D').astype(object)).isoformat()} "
                      f"({count})" for day, count in zip(dates[:SHOWN_DATES],
                                                         counts[:SHOWN_DATES], strict=True))
    more = f" and {dates.size - SHOWN_DATES} more" if dates.size > SHOWN_DATES else ""
    return DataWarning(source=source, kind="calendar", message=(
        f"{source}: {int(off.sum())} bar(s) on {dates.size} date(s) outside the exchange's "
        f"sessions (Saturday/Sunday: {shown}{more}); they take no part in the roll decision"))
