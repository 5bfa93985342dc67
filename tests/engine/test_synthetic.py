"""synthetic_bars: deterministic, on the CME schedule, on the tick grid, OHLC consistent."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from research.engine.data import prepare_bars
from research.engine.instruments import INSTRUMENTS
from research.engine.synthetic import BASE_LEVEL, SYNTHETIC_DEFAULTS, synthetic_bars
from research.errors import DataError
from research.results.provenance import bars_fingerprint

COLUMNS = ["timestamp", "open", "high", "low", "close", "instrument"]


@pytest.fixture(scope="module")
def es_year() -> pd.DataFrame:
    return synthetic_bars("ES", "2024-01-01", "2024-12-31", seed=7)


@pytest.fixture(scope="module")
def es_wall(es_year) -> pd.DataFrame:
    """The year's Chicago wall clock: date, weekday (Mon=0) and minute of day per bar."""
    local = es_year["timestamp"]
    return pd.DataFrame({"date": local.dt.date, "weekday": local.dt.day_of_week,
                         "minute": local.dt.hour * 60 + local.dt.minute})


def test_same_arguments_give_the_same_frame_and_seeds_differ():
    first = synthetic_bars("NQ", "2024-03-01", "2024-03-20", seed=11)
    pd.testing.assert_frame_equal(first, synthetic_bars("NQ", "2024-03-01", "2024-03-20", seed=11))
    other = synthetic_bars("NQ", "2024-03-01", "2024-03-20", seed=12)
    assert not first[["open", "close"]].equals(other[["open", "close"]])


def test_frame_has_the_load_bars_shape(es_year):
    assert list(es_year.columns) == COLUMNS
    assert str(es_year["timestamp"].dtype) == "datetime64[ns, America/Chicago]"
    assert all(es_year[name].dtype == np.float64 for name in ("open", "high", "low", "close"))
    assert set(es_year["instrument"]) == {"ES"}
    assert es_year["timestamp"].is_monotonic_increasing and es_year["timestamp"].is_unique


def test_one_year_of_es_has_the_expected_size(es_year):
    # (its speed is not asserted here: timings belong in benchmarks/, a loaded machine flakes)
    assert 340_000 <= len(es_year) <= 360_000


def test_week_runs_sunday_17_00_to_friday_16_00_with_a_daily_halt(es_wall):
    assert not (es_wall["weekday"] == 5).any()  # Saturday
    sunday = es_wall[es_wall["weekday"] == 6]
    assert (sunday["minute"] >= 17 * 60).all()
    assert not es_wall["minute"].between(16 * 60, 17 * 60 - 1).any()
    assert (es_wall.loc[es_wall["weekday"] == 4, "minute"] < 16 * 60).all()
    sunday_opens = sunday.groupby("date")["minute"].min()
    assert len(sunday_opens) >= 50 and (sunday_opens == 17 * 60).mean() > 0.9


def test_schedule_stays_on_the_wall_clock_across_dst(es_wall):
    for day in (date(2024, 3, 8), date(2024, 3, 11), date(2024, 11, 1), date(2024, 11, 4)):
        minutes = es_wall.loc[es_wall["date"] == day, "minute"]
        assert minutes.min() <= 5 and minutes.max() >= 15 * 60 + 55  # whole wall-clock day
    assert es_wall.loc[es_wall["date"] == date(2024, 3, 10), "minute"].min() == 17 * 60


@pytest.mark.parametrize("holiday", [date(2024, 1, 1), date(2024, 7, 4), date(2024, 11, 28),
                                     date(2024, 12, 25)])
def test_holiday_sessions_are_closed(es_wall, holiday):
    on_day = es_wall[es_wall["date"] == holiday]
    day_before = es_wall[es_wall["date"] == holiday.fromordinal(holiday.toordinal() - 1)]
    assert not (on_day["minute"] < 16 * 60).any()
    assert not (day_before["minute"] >= 17 * 60).any()


@pytest.mark.parametrize("early_close", [date(2024, 11, 29), date(2024, 12, 24)])
def test_early_closes_stop_at_noon(es_wall, early_close):
    minutes = es_wall.loc[es_wall["date"] == early_close, "minute"]
    assert minutes.between(0, 12 * 60 - 1).sum() > 700
    assert not minutes.between(12 * 60, 17 * 60 - 1).any()


def test_about_half_a_percent_of_minutes_are_missing(es_wall):
    weekday = es_wall[(es_wall["weekday"] < 5) & ~es_wall["date"].isin(
        [date(2024, 11, 29), date(2024, 12, 24), date(2024, 1, 1), date(2024, 7, 4),
         date(2024, 11, 28), date(2024, 12, 25)])]
    per_day = weekday[weekday["minute"] < 16 * 60].groupby("date").size()
    missing_share = 1 - per_day.sum() / (len(per_day) * 16 * 60)
    assert 0.002 < missing_share < 0.01


def test_volatility_peaks_after_08_30(es_year, es_wall):
    bar_range = (es_year["high"] - es_year["low"]).to_numpy()
    minute = es_wall["minute"].to_numpy()
    open_burst = bar_range[(minute >= 8 * 60 + 30) & (minute < 8 * 60 + 45)].mean()
    midday = bar_range[(minute >= 11 * 60) & (minute < 13 * 60)].mean()
    overnight = bar_range[(minute >= 19 * 60) & (minute < 23 * 60)].mean()
    assert open_burst > 1.5 * midday > 1.5 * overnight


@pytest.mark.parametrize("symbol", list(INSTRUMENTS))
def test_every_instrument_is_on_its_tick_grid_and_consistent(symbol):
    df = synthetic_bars(symbol, "2024-03-04", "2024-03-15", seed=5)
    bars = prepare_bars(df, symbol)  # raises on off-grid prices or broken OHLC
    assert len(bars) == len(df) > 10_000
    assert (df["low"] <= df[["open", "close"]].min(axis=1)).all()
    assert (df[["open", "close"]].max(axis=1) <= df["high"]).all()
    assert (df["low"] > 0).all()
    base = {"MES": "ES", "MNQ": "NQ", "MYM": "YM", "MCL": "CL", "MNG": "NG", "MGC": "GC",
            "M2K": "RTY"}.get(symbol, symbol)
    assert 0.8 < df["close"].median() / BASE_LEVEL[base] < 1.25


def test_micros_trade_like_their_base():
    micro = synthetic_bars("MES", "2024-01-08", "2024-01-12", seed=3)
    base = synthetic_bars("ES", "2024-01-08", "2024-01-12", seed=3)
    pd.testing.assert_frame_equal(micro.drop(columns="instrument"),
                                  base.drop(columns="instrument"))
    assert bars_fingerprint(prepare_bars(micro, "MES")) != bars_fingerprint(
        prepare_bars(base, "ES"))


def test_open_is_the_previous_close_inside_a_session():
    df = synthetic_bars("CL", "2024-01-08", "2024-01-09", seed=2)
    step = df["timestamp"].diff().dt.total_seconds().to_numpy()
    same_session = step[1:] == 60
    assert (df["open"].to_numpy()[1:][same_session] ==
            df["close"].to_numpy()[:-1][same_session]).all()


def test_dates_are_inclusive_and_accept_date_objects():
    df = synthetic_bars("es", date(2024, 1, 9), date(2024, 1, 9), seed=1)
    assert set(df["timestamp"].dt.date) == {date(2024, 1, 9)}
    assert df["timestamp"].dt.hour.min() == 0 and df["timestamp"].dt.hour.max() == 23


@pytest.mark.parametrize(("args", "message"), [
    (("XX", "2024-01-01", "2024-01-31"), "unknown instrument 'XX'"),
    (("ES", "2024-02-01", "2024-01-31"), "start <= end"),
])
def test_bad_arguments_are_errors(args, message):
    with pytest.raises(DataError, match=message):
        synthetic_bars(*args)


def test_unknown_instrument_is_named_as_the_argument():
    with pytest.raises(DataError, match=r"^synthetic_bars: instrument argument: unknown "
                                        r"instrument 'XX'; known: ES, NQ"):
        synthetic_bars("XX", "2024-01-01", "2024-01-31")
    with pytest.raises(DataError, match=r"MINUTEDATAEXPORT is ES in bar files: ask for ES"):
        synthetic_bars("MINUTEDATAEXPORT", "2024-01-01", "2024-01-31")


def test_defaults_are_synthetic_defaults():
    assert dict(SYNTHETIC_DEFAULTS) == {"start": "2024-01-01", "end": "2024-12-31", "seed": 7}
    with pytest.raises(TypeError, match="does not support item assignment"):
        SYNTHETIC_DEFAULTS["seed"] = 8  # type: ignore[index]


def test_defaults_give_the_default_year(es_year):
    pd.testing.assert_frame_equal(synthetic_bars(), es_year)


@pytest.mark.parametrize("symbol", list(INSTRUMENTS))
def test_instrument_base_is_what_a_micro_trades_like(symbol):
    spec = INSTRUMENTS[symbol]
    assert spec.base in BASE_LEVEL and INSTRUMENTS[spec.base].micro is False
    assert (spec.base == symbol) is (not spec.micro)
    assert INSTRUMENTS[spec.base].tick == spec.tick


def test_tick_walk_keeps_the_closes_and_makes_every_minute_continuous():
    plain = synthetic_bars("ES", "2024-03-04", "2024-03-08", seed=5)
    walk = synthetic_bars("ES", "2024-03-04", "2024-03-08", seed=5, tick_walk=True)
    assert walk["close"].equals(plain["close"]) and walk["open"].equals(plain["open"])
    assert (walk["high"] >= walk[["open", "close"]].max(axis=1)).all()
    assert (walk["low"] <= walk[["open", "close"]].min(axis=1)).all()
    assert not walk["high"].equals(plain["high"])  # the extremes are the walk's, not wicks
    ticks = (walk["high"] - walk["low"]) / 0.25
    assert np.allclose(ticks, np.round(ticks))
