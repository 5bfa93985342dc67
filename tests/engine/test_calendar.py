"""The CME calendar on every row (calendar.py, docs/engine-dates.md) and `calendar: exchange`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from research.engine.calendar import close_labels, minute_text, session_closes
from research.engine.clock import day_number
from research.engine.params import RunParams
from research.engine.ranges import RangeRules
from research.engine.results import LEGACY_COLUMNS, to_legacy
from research.engine.strategy import run_strategy
from research.engine.synthetic import synthetic_bars
from research.errors import ParamsError

# Every special session the real NQ bars of 2024-09 ... 2025-03 show (issue 22, item 4).
NQ_SPECIAL = [("2024-09-02", "12:00", "Labor Day"),
              ("2024-11-28", "12:00", "Thanksgiving"),
              ("2024-11-29", "12:15", "Day after Thanksgiving"),
              ("2024-12-24", "12:15", "Christmas Eve"),
              ("2024-12-25", "closed", "Christmas"),
              ("2025-01-01", "closed", "New Year's Day"),
              ("2025-01-09", "08:30", "National Day of Mourning (President Carter)"),
              ("2025-01-20", "12:00", "Martin Luther King Jr. Day"),
              ("2025-02-17", "12:00", "Presidents' Day")]


def day(text: str) -> int:
    return day_number(dt.date.fromisoformat(text))


@pytest.mark.parametrize("symbol", ["NQ", "ES", "MNQ", "YM", "M2K"])
@pytest.mark.parametrize(("date", "close", "name"), NQ_SPECIAL)
def test_every_special_session_of_the_real_nq_bars(symbol, date, close, name):
    closes, names = session_closes(symbol, [day(date)])
    assert (minute_text(int(closes[0])), names[0]) == (close, name)


def test_a_regular_day_closes_at_16_00_without_a_name():
    closes, names = session_closes("NQ", [day("2024-11-27"), day("2031-07-01")])
    assert [minute_text(int(c)) for c in closes] == ["16:00", "16:00"]
    assert names == ["", ""]


def test_energy_and_metals_follow_their_own_calendar():
    closes, names = session_closes("CL", [day("2024-11-29"), day("2025-01-09")])
    assert [minute_text(int(c)) for c in closes] == ["12:45", "16:00"]  # normal hours on Jan 9
    assert names == ["Day after Thanksgiving", ""]
    assert minute_text(int(session_closes("GC", [day("2024-12-25")])[0][0])) == "closed"


def test_the_table_covers_2010_to_2026():
    closes, _ = session_closes("ES", [day("2010-12-24"), day("2026-11-27")])
    assert [minute_text(int(c)) for c in closes] == ["closed", "12:15"]


@pytest.fixture(scope="module")
def thanksgiving_week():
    """Synthetic NQ whose Friday 2024-11-29 goes flat inside its 08:00-11:00 range from
    11:00 to 13:00 (bars past the 12:15 close, as a bad file would hold) and breaks out at
    13:00."""
    frame = synthetic_bars("NQ", "2024-11-25", "2024-12-03", seed=3)
    wall = frame["timestamp"].dt.tz_localize(None)
    friday = wall.dt.date == dt.date(2024, 11, 29)
    minute = wall.dt.hour * 60 + wall.dt.minute
    in_range = friday & (minute >= 8 * 60) & (minute < 11 * 60)
    low, high = frame.loc[in_range, "low"].min(), frame.loc[in_range, "high"].max()
    middle = round((low + high) / 2 * 4) / 4  # on the 0.25 tick grid
    stamps = pd.date_range("2024-11-29 11:00", "2024-11-29 13:30", freq="min",
                           tz="America/Chicago")
    price = np.where(stamps.hour >= 13, high + 10, middle)
    late = pd.DataFrame({"timestamp": stamps, "open": price, "high": price, "low": price,
                         "close": price, "instrument": "NQ"})
    keep = ~(friday & (minute >= 11 * 60)).to_numpy()
    return pd.concat([frame[keep], late], ignore_index=True).sort_values(
        "timestamp", ignore_index=True)


def test_rows_carry_the_dates_scheduled_close_and_holiday(thanksgiving_week):
    rows = run_strategy(thanksgiving_week, RunParams(instrument="NQ"), parallel=False)
    by_date = rows.groupby(rows["date"].dt.strftime("%Y-%m-%d"))
    assert set(by_date["session_close"].first().items()) >= {
        ("2024-11-27", "16:00"), ("2024-11-29", "12:15"), ("2024-12-02", "16:00")}
    assert by_date["special_session"].first()["2024-11-29"] == "Day after Thanksgiving"
    assert by_date["special_session"].first()["2024-11-27"] == ""
    assert list(rows["session_close"].cat.categories) == list(close_labels("NQ")[0])
    assert list(to_legacy(rows).columns) == list(LEGACY_COLUMNS)  # the legacy CSV is unchanged


def test_calendar_exchange_stops_entries_at_an_early_close(thanksgiving_week):
    fixed = run_strategy(thanksgiving_week, RunParams(instrument="NQ", target=200),
                         parallel=False)
    exchange = run_strategy(thanksgiving_week, RunParams(instrument="NQ", target=200,
                                                         calendar="exchange"), parallel=False)
    friday = pd.Timestamp("2024-11-29")
    close = pd.Timestamp("2024-11-29 12:15", tz="America/Chicago")
    late = fixed[(fixed["date"] == friday) & (fixed["entry_time"] > close)]
    assert len(late)  # the synthetic bars trade on after 12:15: the test bites
    on_friday = exchange[exchange["date"] == friday]
    assert (on_friday["entry_time"].dropna() <= close).all()
    other = fixed["date"] != friday
    pd.testing.assert_frame_equal(fixed[other & (fixed["date"] != pd.Timestamp("2024-11-28"))],
                                  exchange[other & (exchange["date"]
                                                    != pd.Timestamp("2024-11-28"))])


def test_calendar_exchange_ends_windows_at_the_halt():
    bars = synthetic_bars("NQ", "2025-01-06", "2025-01-10", seed=4)
    rp = RunParams(instrument="NQ", target=400, enabled_sessions=("S2",))
    fixed = run_strategy(bars, rp, parallel=False)
    exchange = run_strategy(bars, RunParams(**{**rp.to_dict(), "calendar": "exchange"}),
                            parallel=False)
    halt = pd.Timestamp("2025-01-09 08:30", tz="America/Chicago")
    wednesday = exchange[exchange["date"] == pd.Timestamp("2025-01-08")]
    assert (wednesday["exit_time"].dropna() < halt).all()
    assert (fixed.loc[fixed["date"] == pd.Timestamp("2025-01-08"), "exit_time"] > halt).any()


def test_calendar_is_a_parameter_checked_and_keyed():
    with pytest.raises(ParamsError, match=r"^calendar: 'nyse' is not one of fixed, exchange "
                                          r"\(exchange: each date's scheduled CME close"):
        RunParams(instrument="ES", calendar="nyse")
    assert RunParams(instrument="ES", target=15).combo_id == "e80ef1ef90c8"  # ids unchanged
    exchange = RunParams(instrument="ES", target=15, calendar="exchange")
    assert exchange.combo_id != "e80ef1ef90c8"
    assert RangeRules.from_params(exchange) != RangeRules.from_params(
        RunParams(instrument="ES", target=15))
    assert np.array_equal(session_closes("ES", [])[0], np.empty(0, np.int64))


def test_the_inspector_lists_special_sessions_and_bars_while_closed(tmp_path, thanksgiving_week):
    from research.cli.data_inspector import inspect
    from tests import bar_writers as write

    screen = inspect(str(write.canonical_csv(thanksgiving_week, tmp_path / "NQ.csv")))
    assert "  special sessions (CME calendar): 2" in screen
    assert "    2024-11-28 Thanksgiving: close 12:00" in screen
    assert "    2024-11-29 Day after Thanksgiving: close 12:15" in screen
    assert ("  bars while the exchange was closed: 76 (first: 2024-11-29 12:15:00-06:00, "
            "2024-11-29 12:16:00-06:00, 2024-11-29 12:17:00-06:00): a wrong time zone or a bad "
            "file?"
            ) in screen
