"""The planted edge (a test device): same seed same bars, breakouts untouched, a real edge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research import RunParams, prepare_bars, run_strategy
from research.engine.entry import detect_entries
from research.engine.planted_edge import MAX_DRIFT_MINUTES, PlantedEdge
from research.engine.ranges import RangeRules, build_slot_ranges
from research.engine.synthetic import synthetic_bars
from research.errors import DataError

START, END = "2024-01-01", "2024-06-30"
SLOT_0930 = RangeRules.from_params(RunParams(instrument="ES", enabled_sessions=["S2"],
                                             enabled_slots={"S2": ["09:30"]}))


@pytest.fixture(scope="module")
def plain() -> pd.DataFrame:
    return synthetic_bars("ES", START, END, seed=3)


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    return synthetic_bars("ES", START, END, seed=3, edge=PlantedEdge())


def test_no_edge_is_the_plain_walk(plain):
    pd.testing.assert_frame_equal(synthetic_bars("ES", START, END, seed=3, edge=None), plain)


def test_same_seed_same_bars_and_the_edge_changes_them(plain, planted):
    again = synthetic_bars("ES", START, END, seed=3, edge=PlantedEdge())
    pd.testing.assert_frame_equal(again, planted)
    assert planted["timestamp"].equals(plain["timestamp"])
    assert not planted["close"].equals(plain["close"])


def test_bars_before_the_first_breakout_are_untouched(plain, planted):
    changed = np.flatnonzero((planted[["open", "high", "low", "close"]]
                              != plain[["open", "high", "low", "close"]]).any(axis=1))
    entries = detect_entries(prepare_bars(plain, "ES"),
                             build_slot_ranges(prepare_bars(plain, "ES"), SLOT_0930))
    first_breakout = entries.bar_idx[entries.direction != 0].min()
    assert changed.min() > first_breakout
    pd.testing.assert_frame_equal(planted.iloc[:changed.min()], plain.iloc[:changed.min()])


def test_the_edge_slots_ranges_and_breakouts_are_those_of_the_plain_walk(plain, planted):
    """A constant shift per date moves a range and its levels together: same breakouts."""
    bars_plain, bars_planted = prepare_bars(plain, "ES"), prepare_bars(planted, "ES")
    ranges_plain = build_slot_ranges(bars_plain, SLOT_0930)
    ranges_planted = build_slot_ranges(bars_planted, SLOT_0930)
    np.testing.assert_array_equal(ranges_plain.range_size_ticks, ranges_planted.range_size_ticks)
    plain_entries = detect_entries(bars_plain, ranges_plain)
    planted_entries = detect_entries(bars_planted, ranges_planted)
    np.testing.assert_array_equal(plain_entries.bar_idx, planted_entries.bar_idx)
    np.testing.assert_array_equal(plain_entries.direction, planted_entries.direction)
    assert (plain_entries.direction != 0).mean() > 0.9


def test_ranges_that_end_before_the_edge_slot_are_unchanged(plain, planted):
    """S1's ranges end by 09:00, before any 09:30 drift (later S2 ranges contain it)."""
    s1 = RangeRules.from_params(RunParams(instrument="ES", enabled_sessions=["S1"]))
    sizes = [build_slot_ranges(prepare_bars(frame, "ES"), s1).range_size_ticks
             for frame in (plain, planted)]
    np.testing.assert_array_equal(*sizes)


def test_prices_stay_on_the_tick_grid_and_ohlc_consistent(planted):
    ticks = planted[["open", "high", "low", "close"]].to_numpy() / 0.25
    np.testing.assert_allclose(ticks, np.round(ticks), atol=1e-9)
    assert (planted["high"] >= planted[["open", "close"]].max(axis=1)).all()
    assert (planted["low"] <= planted[["open", "close"]].min(axis=1)).all()
    assert (planted["open"].iloc[1:].to_numpy() == planted["close"].iloc[:-1].to_numpy()).mean() \
        > 0.99  # continuous except at session-opening gaps


def test_the_edge_slot_earns_and_the_plain_walk_does_not(plain, planted):
    params = RunParams(instrument="ES", enabled_sessions=["S2"], enabled_slots={"S2": ["09:30"]},
                       target=15)
    plain_points = run_strategy(plain, params, parallel=False)["profit"].sum()
    planted_points = run_strategy(planted, params, parallel=False)["profit"].sum()
    assert planted_points > plain_points + 200  # points, over half a year




@pytest.mark.parametrize(("kwargs", "message"), [
    ({"slot": "12:00"}, r"edge\.slot: '12:00' is not one of 07:30"),
    ({"share": 1.5}, r"edge\.share: 1\.5 is not a number from 0 to 1"),
    ({"share": True}, r"edge\.share: True"),
    ({"drift_ticks_per_minute": -1}, r"edge\.drift_ticks_per_minute: -1 is not a number >= 0"),
    ({"minutes": 0}, rf"edge\.minutes: 0 is not an integer from 1 to {MAX_DRIFT_MINUTES}"),
    ({"minutes": 2.5}, r"edge\.minutes: 2\.5"),
])
def test_bad_edge_settings_are_refused(kwargs, message):
    with pytest.raises(DataError, match=message):
        PlantedEdge(**kwargs)
