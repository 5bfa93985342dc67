"""Build research/engine/cme_calendar.csv: CME Globex special sessions, 2010-2026.

A dev-time tool, not a runtime dependency: run it where pandas_market_calendars is
installed (`pip install pandas_market_calendars`; the pinned table was built with 5.5.0):

    python docs/make_cme_calendar.py

Each product group takes the dates of its pandas_market_calendars CME Globex calendar
whose scheduled close is not the regular 16:00 Chicago (early closes and halts), and the
weekdays it has no session for (closed), then applies OVERRIDES where that calendar is
wrong (each with its source). See docs/engine-dates.md for the sources and the known errors.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pandas_market_calendars as mcal

FIRST, LAST = "2010-01-01", "2026-12-31"
REGULAR_CLOSE = "16:00"
CLOSED = "closed"
# Product group -> the pandas_market_calendars calendar it is built from.
GROUPS = {"equity": "CME Globex Equity", "energy": "CMEGlobex_CL", "natgas": "CMEGlobex_NG",
          "metals": "CMEGlobex_GC"}
PMC = f"pandas_market_calendars {mcal.__version__}"
CARTER = ("https://mondovisione.com/media-and-resources/news/cme-group-announces-trading-"
          "hours-for-us-national-day-of-mourning-to-honor-for/ (CME Group, 2024-12-30); "
          "pandas_market_calendars issue #486")
# (group, date, close, name, source): where the calendar above is wrong or silent.
OVERRIDES = (
    ("equity", "2025-01-09", "08:30", "National Day of Mourning (President Carter)", CARTER),
)


def holiday_name(day: dt.date) -> str:
    """The US holiday a special CME session belongs to, by its date."""
    weekday, month, nth = day.weekday(), day.month, (day.day - 1) // 7 + 1
    fixed = {(1, 1): "New Year's Day", (6, 19): "Juneteenth", (7, 4): "Independence Day",
             (12, 25): "Christmas", (12, 24): "Christmas Eve", (12, 31): "New Year's Eve",
             (7, 3): "Independence Day eve"}
    for (m, d), name in fixed.items():  # a Saturday holiday is kept on Friday, a Sunday's
        observed = dt.date(day.year, m, d)  # on Monday
        if observed.weekday() == 5 and name not in ("Christmas Eve", "Independence Day eve"):
            observed -= dt.timedelta(days=1)
        elif observed.weekday() == 6 and name not in ("Christmas Eve", "New Year's Eve"):
            observed += dt.timedelta(days=1)
        if day == observed or (month, day.day) == (m, d):
            return name
    if month == 1 and weekday == 0 and nth == 3:
        return "Martin Luther King Jr. Day"
    if month == 2 and weekday == 0 and nth == 3:
        return "Presidents' Day"
    if month == 5 and weekday == 0 and day.day > 24:
        return "Memorial Day"
    if month == 9 and weekday == 0 and nth == 1:
        return "Labor Day"
    if month == 11 and weekday == 3 and nth == 4:
        return "Thanksgiving"
    if month == 11 and weekday == 4 and 23 <= day.day <= 29:
        return "Day after Thanksgiving"
    easter = pd.Timestamp(day.year, 1, 1) + pd.offsets.Easter()
    if day == (easter - pd.Timedelta(days=2)).date():
        return "Good Friday"
    return "Special session"


def group_rows(group: str, calendar_name: str) -> list[dict[str, str]]:
    schedule = mcal.get_calendar(calendar_name).schedule(FIRST, LAST, tz="America/Chicago")
    closes = schedule["market_close"].dt.strftime("%H:%M")
    rows = [{"group": group, "date": day.date().isoformat(), "close": close,
             "name": holiday_name(day.date()), "source": PMC}
            for day, close in closes.items() if close != REGULAR_CLOSE]
    for day in pd.bdate_range(FIRST, LAST):  # weekdays without a session: closed
        if day not in schedule.index:
            rows.append({"group": group, "date": day.date().isoformat(), "close": CLOSED,
                         "name": holiday_name(day.date()), "source": PMC})
    return rows


def build() -> pd.DataFrame:
    rows = [row for group, name in GROUPS.items() for row in group_rows(group, name)]
    table = pd.DataFrame(rows).set_index(["group", "date"])
    for group, date, close, name, source in OVERRIDES:
        table.loc[(group, date), ["close", "name", "source"]] = [close, name, source]
    return table.sort_index().reset_index()


def main(out: Path) -> None:
    table = build()
    header = (f"# CME Globex special sessions {FIRST[:4]}-{LAST[:4]}, Chicago time, built by "
              f"docs/make_cme_calendar.py from {PMC} ({', '.join(GROUPS.values())}) plus "
              "overrides with their sources; see docs/engine-dates.md\n")
    out.write_text(header + table.to_csv(index=False), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else
         Path(__file__).resolve().parents[1] / "research" / "engine" / "cme_calendar.csv")
