"""The trading-date convention (docs/engine-dates.md) at the roll, DST and year boundaries:
a Globex session opens at 17:00 Chicago the day before; labels move to the next date from
23:00 (docs/engine.md §5); ranges, slots and window ends are Chicago wall times."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.engine import clock
from research.engine.clock import CHICAGO, day_number, utc_to_chicago, wall_clock_labels
from research.engine.data import prepare_bars
from research.engine.params import RunParams
from research.engine.ranges import RangeRules, build_slot_ranges
from research.engine.synthetic import synthetic_bars
from research.engine.timestamps import chicago_wall_ns


def label_of(wall: str) -> str:
    utc = pd.Timestamp(wall, tz=CHICAGO).tz_convert("UTC").value
    _, day = wall_clock_labels(chicago_wall_ns(np.array([utc])))
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day[0]))).isoformat()


@pytest.mark.parametrize(("wall", "label"), [
    ("2024-09-15 17:00", "2024-09-15"),  # a roll's first session opens Sunday 17:00 ...
    ("2024-09-15 22:59", "2024-09-15"),  # ... its evening keeps Sunday's label (never ranged)
    ("2024-09-15 23:00", "2024-09-16"),  # from 23:00 the label is Monday's
    ("2024-03-10 17:00", "2024-03-10"),  # spring forward: the Sunday after 02:00 CST -> CDT
    ("2024-03-10 23:00", "2024-03-11"),
    ("2024-11-03 23:00", "2024-11-04"),  # fall back
    ("2024-12-31 22:59", "2024-12-31"),  # the year boundary
    ("2024-12-31 23:00", "2025-01-01"),
])
def test_a_bar_carries_the_next_date_from_23_00_chicago(wall, label):
    assert label_of(wall) == label


@pytest.fixture(scope="module")
def dst_and_new_year():
    frames = [synthetic_bars("ES", "2024-03-07", "2024-03-12", seed=1),
              synthetic_bars("ES", "2024-12-26", "2025-01-03", seed=2)]
    return prepare_bars(pd.concat(frames, ignore_index=True), "ES")


def ranges_by_label(bars, **params):
    table = build_slot_ranges(bars, RangeRules.from_params(RunParams(instrument="ES", **params)))
    return {r.label: r for r in table}


def wall(ns: int) -> str:
    return utc_to_chicago(np.array([ns]))[0].strftime("%Y-%m-%d %H:%M %Z")


def test_slots_are_chicago_wall_times_across_the_dst_change(dst_and_new_year):
    ranges = ranges_by_label(dst_and_new_year)
    friday, monday = ranges["2024-03-08 S1 07:30"], ranges["2024-03-11 S1 07:30"]
    assert (wall(friday.end_ts_ns), wall(monday.end_ts_ns)) == (
        "2024-03-08 07:30 CST", "2024-03-11 07:30 CDT")
    assert monday.end_ts_ns - friday.end_ts_ns == (3 * 24 - 1) * 3600 * 10**9  # an hour less
    assert wall(friday.window_end_ts_ns) == "2024-03-11 07:30 CDT"  # Friday -> Monday
    first_bar = dst_and_new_year.ts_ns[monday.start_idx]
    assert wall(first_bar) == "2024-03-11 02:00 CDT"  # S1 starts at 02:00 wall time


def test_window_ends_cross_the_year_on_the_next_weekday(dst_and_new_year):
    ranges = ranges_by_label(dst_and_new_year)
    assert wall(ranges["2024-12-27 S2 10:00"].window_end_ts_ns) == "2024-12-30 10:00 CST"
    # New Year's Day has no session, but the window still ends there (no holiday skip, §8).
    assert wall(ranges["2024-12-31 S2 10:00"].window_end_ts_ns) == "2025-01-01 10:00 CST"
    assert "2025-01-01 S2 10:00" not in ranges  # a closed date has no bars in its windows
    assert "2025-01-02 S1 07:30" in ranges


def test_time_mode_windows_end_at_the_next_session_start(dst_and_new_year):
    ranges = ranges_by_label(dst_and_new_year, target_mode="time")
    assert wall(ranges["2024-03-08 S2 09:30"].window_end_ts_ns) == "2024-03-11 08:00 CDT"
    assert day_number(dt.date(2024, 3, 11)) == ranges["2024-03-11 S2 09:30"].trading_day


@settings(max_examples=30, deadline=None)
@given(block=st.integers(1, 9), stamps=st.lists(st.integers(-2**62, 2**62), max_size=40))
def test_wall_clock_labels_in_blocks_equal_the_one_pass_labels(block, stamps):
    # issue 19: a long array is labelled in blocks; the labels must be the readable ones
    wall_ns = np.array(stamps, dtype=np.int64)
    wall_minutes = wall_ns // clock.NS_PER_MINUTE
    minute_of_day = wall_minutes % clock.MINUTES_PER_DAY
    trading_day = wall_minutes // clock.MINUTES_PER_DAY + (minute_of_day >= 23 * 60)
    saved, clock.LABEL_BLOCK_ROWS = clock.LABEL_BLOCK_ROWS, block
    try:
        got_minute, got_day = clock.wall_clock_labels(wall_ns)
    finally:
        clock.LABEL_BLOCK_ROWS = saved
    assert got_minute.dtype == np.int16 and got_day.dtype == np.int32
    assert np.array_equal(got_minute, minute_of_day) and np.array_equal(got_day, trading_day)
