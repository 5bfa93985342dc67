"""Hand-built days with known answers: both sides, neither, no range bars, a bar breaking both
sides at once, the continuation bar, trade_until, a DST week, an early close, a roll, and the
volatility terciles."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from research.engine.bars import Bars
from research.engine.clock import day_number
from research.stats.breakouts import stats_of_bars
from research.stats.definitions import check_range
from research.stats.kernel import (
    BOTH_FIRST,
    CONTINUED,
    NOT_ASKED,
    STOPPED,
    UP_FIRST,
    day_breakouts,
)
from research.stats.volatility import HIGH, LOW, MID, UNCLASSIFIED, volatility_states
from tests.helpers import MONDAY, bars_from_ticks

RANGE = [("08:30", 102, 98, 100), ("08:34", 101, 99, 100)]  # high 102, low 98
FIRST_5 = check_range("test", "08:30", range_minutes=5)


def minute(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def day_bars(days: dict[int, list[tuple[str, int, int, int]]], day0: int = MONDAY,
             symbol: str = "ES") -> Bars:
    """Bars from {day offset: [(HH:MM Chicago, high, low, close)]}; open = close."""
    rows = [(offset * 1440 + minute(hhmm), high, low, close)
            for offset, bars in days.items() for hhmm, high, low, close in bars]
    minutes, high, low, close = (np.array(column) for column in zip(*rows, strict=True))
    return bars_from_ticks(symbol, day0, minutes, close, high, low, close)


def test_days_breaking_both_sides_one_side_neither_and_without_range_bars():
    bars = day_bars({
        0: [*RANGE, ("09:00", 103, 100, 103), ("09:29", 103, 101, 103),  # up first, holds
            ("09:31", 100, 90, 90), ("10:00", 100, 97, 97)],  # after the horizon; then down
        1: [*RANGE, ("09:00", 102, 98, 100), ("10:00", 102, 98, 98)],  # touches, never beyond
        2: [("09:00", 200, 190, 195), ("10:00", 300, 100, 200)],  # no bar in the range
        3: [*RANGE, ("09:00", 103, 100, 103), ("09:30", 102, 100, 102)],  # up, back at the high
    })
    row = stats_of_bars(bars, (FIRST_5,)).table.iloc[0]
    assert row["days"] == 3  # Wednesday has no range, so it is not counted
    assert (row["up_days"], row["down_days"], row["both_days"], row["neither_days"]) == \
        (2, 1, 1, 1)
    assert row["up"] == pytest.approx(2 / 3) and row["neither"] == pytest.approx(1 / 3)
    # Monday: the last bar by 09:30 is 09:29, closing beyond 102; Thursday closes at 102.
    assert (row["first_breaks"], row["continued"], row["continuation"]) == (2, 1, 0.5)


def test_one_bar_breaking_both_sides_first_is_no_sides_break():
    bars = day_bars({0: [*RANGE, ("09:00", 103, 97, 103), ("09:30", 110, 105, 110)]})
    days = day_breakouts(bars, (FIRST_5,))
    assert (days.first_break[0], days.continued[0]) == (BOTH_FIRST, NOT_ASKED)
    row = stats_of_bars(bars, (FIRST_5,)).table.iloc[0]
    assert row["both"] == 1.0 and row["first_breaks"] == 0 and math.isnan(row["continuation"])


@pytest.mark.parametrize(("until", "broke"), [("10:00", True), ("09:59", False)])
def test_a_breakout_stamped_at_trade_until_counts(until, broke):
    bars = day_bars({0: [*RANGE, ("10:00", 103, 100, 103)]})
    definition = check_range("test", "08:30", "08:35", trade_until=until)
    assert bool(day_breakouts(bars, (definition,)).broke_up[0]) is broke


def test_ranges_follow_chicago_wall_time_across_the_dst_change():
    """Friday 2024-03-08 is on CST, Monday 03-11 on CDT: the same wall-clock day must give
    the same answer; decoys sit where the other offset would put the range."""
    pattern = [("07:30", 150, 140, 145), *RANGE, ("09:00", 103, 100, 103),
               ("09:30", 150, 140, 145)]
    bars = day_bars({0: pattern, 3: pattern}, day0=day_number(dt.date(2024, 3, 8)))
    days = day_breakouts(bars, (FIRST_5,))
    assert days.trading_day.tolist() == [day_number(dt.date(2024, 3, 8)),
                                         day_number(dt.date(2024, 3, 11))]
    assert days.range_high_ticks.tolist() == [102, 102]
    assert days.range_low_ticks.tolist() == [98, 98]
    assert bars.minute_of_day[days.first_break_idx].tolist() == [minute("09:00")] * 2


@pytest.mark.parametrize(("calendar", "broke"), [(False, True), (True, False)])
def test_an_early_close_ends_breakouts_with_the_exchange_calendar(calendar, broke):
    """ES closed at 12:15 on the day after Thanksgiving 2024 (research/engine/calendar.py)."""
    bars = day_bars({0: [*RANGE, ("13:00", 103, 100, 103)]},
                    day0=day_number(dt.date(2024, 11, 29)))
    assert bool(day_breakouts(bars, (FIRST_5,), exchange_calendar=calendar).broke_up[0]) \
        is broke


def test_the_continuation_bar_stays_on_the_ranges_contract():
    """Monday's break at 15:50; 600 minutes later is Tuesday 01:50, but Tuesday (from Monday
    23:00) trades another contract: the continuation is read at Monday's last bar."""
    plain = day_bars({0: [*RANGE, ("15:50", 103, 100, 103), ("15:59", 104, 103, 104),
                          ("23:00", 60, 50, 50)], 1: [("01:00", 60, 50, 50)]})
    code = (plain.trading_day > MONDAY).astype(np.int16)
    rolled = Bars(plain.instrument, plain.ts_ns, plain.open_ticks, plain.high_ticks,
                  plain.low_ticks, plain.close_ticks, minute_of_day=plain.minute_of_day,
                  trading_day=plain.trading_day, contracts=("ESH4", "ESM4"), contract_code=code)
    assert day_breakouts(plain, (FIRST_5,), after_minutes=600).continued[0] == STOPPED
    rolled_days = day_breakouts(rolled, (FIRST_5,), after_minutes=600)
    assert (rolled_days.first_break[0], rolled_days.continued[0]) == (UP_FIRST, CONTINUED)


def weekday_offsets(count: int) -> list[int]:
    """Calendar-day offsets from a Monday of the first `count` weekdays."""
    return [week * 7 + day for week in range(count // 5 + 1) for day in range(5)][:count]


def test_volatility_terciles_on_a_constructed_series():
    """26 weekdays whose ranges are 10 ticks, but 50 on the 22nd and 30 on the 24th: the prior
    20 days' means are 10, 10, 12, 12, 13, 13 from the 21st date on, so the terciles are the
    21st-22nd (low), 23rd-24th (mid), 25th-26th (high); the first 20 are not classified."""
    ranges = [10] * 26
    ranges[21], ranges[23] = 50, 30
    days = {offset: [("08:30", 100 + r, 100, 100), ("09:00", 100, 100, 100)]
            for offset, r in zip(weekday_offsets(26), ranges, strict=True)}
    bars = day_bars(days)
    state_days, states = volatility_states(bars)
    assert len(state_days) == 26
    assert states.tolist() == [UNCLASSIFIED] * 20 + [LOW, LOW, MID, MID, HIGH, HIGH]
    split = stats_of_bars(bars, (check_range("test", "08:30", "09:00"),)).by_volatility
    assert split.set_index("volatility")["days"].to_dict() == {"low": 2, "mid": 2, "high": 2}
