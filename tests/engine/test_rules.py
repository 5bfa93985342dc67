"""One test per docs/engine.md difference and per kept quirk, on tiny hand-made bar sets.

Prices are in points; the standard range (02:00 and 07:29 bars) runs 4796-4805 as in
GOLDEN.md, so ES breaks out at 4805.25 / 4795.75 with target 4815.25 and stop 4796.25.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from research.engine.params import RunParams
from research.engine.results import COLUMNS, to_legacy
from research.engine.strategy import run_strategy
from research.errors import DataError, ParamsError
from tests.helpers import bars_from_ticks

DAY_NAMES = {"Mon": 0, "Tue": 1, "Wed": 2, "Thu": 3, "Fri": 4, "Sat": 5, "Sun": 6, "NextMon": 7}
STANDARD_RANGE = [("02:00", 4800, 4805, 4798, 4802), ("07:29", 4802, 4803, 4796, 4800)]


def bars(rows, symbol="ES", monday=dt.date(2024, 1, 8)):
    """rows: ("Tue 07:45", o, h, l, c) in the week of `monday`; a bare "HH:MM" is Tuesday."""
    minutes, prices = [], []
    for stamp, *ohlc in rows:
        day, _, clock = stamp.rpartition(" ")
        hours, mins = map(int, clock.split(":"))
        minutes.append(DAY_NAMES[day or "Tue"] * 1440 + hours * 60 + mins)
        prices.append(ohlc)
    tick = RunParams(instrument=symbol).spec.tick
    ticks = np.round(np.asarray(prices, dtype=float) / tick).astype(np.int64)
    day0 = (monday - dt.date(1970, 1, 1)).days
    return bars_from_ticks(symbol, day0, np.asarray(minutes), *ticks.T)


def run(rows, symbol="ES", as_of=None, monday=dt.date(2024, 1, 8), **params):
    params.setdefault("enabled_sessions", ["S1"])
    params.setdefault("enabled_slots", {"S1": ["07:30"]})
    frame = run_strategy(bars(rows, symbol, monday), RunParams(instrument=symbol, **params),
                         as_of=as_of, parallel=False)
    return to_legacy(frame)


def tue(*rows):
    return STANDARD_RANGE + list(rows)


# ---- corrected (docs/engine.md "Where we differ from the reference") ----

def test_q6_q7_no_be_relabel_after_t1_gives_time():
    out = run(tue(("07:50", 4805.25, 4805.5, 4805.25, 4805.25),
                  ("08:10", 4805.25, 4806, 4804.75, 4805),  # pre-T1 dip to the BE stop
                  ("09:00", 4806, 4812, 4806, 4811),  # T1
                  ("Wed 08:00", 4809, 4810, 4808, 4809)))
    assert out.loc[0, ["Result", "ExitTime", "ExitPrice"]].tolist() == [
        "TIME", "10/01/24 07:29", "4811.0"]


def test_q8_friday_window_ends_on_the_calendar_monday_across_dst():
    rows = [("Fri " + s, *p) for s, *p in STANDARD_RANGE] + [
        ("Fri 07:40", 4804, 4805.75, 4803, 4805.5), ("Sun 18:00", 4803, 4806, 4800, 4801),
        ("NextMon 01:00", 4801, 4802, 4798, 4799.5),
        ("NextMon 08:00", 4799.5, 4800, 4799, 4800)]
    out = run(rows, monday=dt.date(2024, 10, 28))  # Sunday 2024-11-03 is the DST change
    assert out.loc[0, ["ExitTime", "ExitPrice", "Result"]].tolist() == [
        "04/11/24 07:29", "4799.5", "TIME"]


@pytest.mark.parametrize(("as_of", "result"), [
    ("2024-01-10 07:29:58", "OPEN"),
    ("2024-01-10 07:29:59", "TIME"),  # X == as_of is TIME: the comparison is strict
    (pd.Timestamp("2024-01-10 13:29:59", tz="UTC"), "TIME"),
])
def test_q9_q20_open_or_time_decided_by_as_of(as_of, result):
    out = run(tue(("07:40", 4804, 4805.75, 4803, 4805.5)), as_of=as_of)
    assert out.loc[0, "Result"] == result


def test_q9_as_of_defaults_to_last_bar():
    rows = tue(("07:40", 4804, 4805.75, 4803, 4805.5), ("Wed 07:00", 4805, 4806, 4804, 4805))
    out = run(rows)
    assert out.loc[0, ["Result", "open_as_of_time", "ExitPrice"]].tolist() == [
        "OPEN", "10/01/24 07:00", "4805.0"]


def test_q10_errors_surface_instead_of_corrupted_rows():
    with pytest.raises(DataError, match="instrument: the bars are ES, the parameters ask for NQ"):
        run_strategy(bars(tue()), RunParams(instrument="NQ"))


def test_q12_micro_be_profit_is_scaled():
    out = run(tue(("07:50", 4805.25, 4805.5, 4805.25, 4805.25), ("09:00", 4806, 4812, 4806, 4811),
                  ("11:00", 4811, 4811, 4804, 4805)), symbol="MES")
    assert out.loc[0, ["Result", "Profit"]].tolist() == ["BE", "-0.025"]


def test_q13_micro_profit_keeps_one_more_decimal_and_range_is_rounded():
    rows = [("02:00", 38000, 38005, 37998, 38002), ("07:29", 38002, 38003, 37996, 38000),
            ("07:40", 38000, 38007, 37999, 38006), ("08:00", 38006, 38006, 37996, 37997)]
    out = run(rows, symbol="MYM")
    assert out.loc[0, ["Result", "Profit", "Range"]].tolist() == ["Loss", "-0.9", "9.0"]


def test_q14_range_is_rounded_for_decimal_ticks():
    rows = [("02:00", 69.70, 70.06, 69.66, 70.0), ("07:29", 70.0, 70.01, 69.9, 70.0)]
    assert run(rows, symbol="CL").loc[0, "Range"] == "0.4"


def test_q15_exact_touch_of_a_decimal_level_triggers():
    rows = [("02:00", 69.70, 70.06, 69.66, 70.0), ("07:29", 70.0, 70.01, 69.9, 70.0),
            ("08:00", 70.0, 70.07, 70.0, 70.05), ("10:00", 70.05, 70.57, 70.05, 70.5)]
    out = run(rows, symbol="CL")
    assert out.loc[0, ["EntryTime", "Result", "ExitPrice"]].tolist() == [
        "09/01/24 08:00", "Win", "70.57"]


def test_q15_t1_threshold_ceil_and_stop_cap_floor_in_ticks():
    rp = RunParams(instrument="ES", target=12.25, t1_fraction=0.55, stop_cap_multiple=0.52)
    assert (rp.target_ticks, rp.t1_threshold_ticks, rp.stop_cap_ticks) == (49, 27, 25)


def test_q16_time_mode_ignores_target_touches():
    rows = tue(("07:40", 4804, 4805.75, 4803, 4805.5), ("09:00", 4806, 4812, 4806, 4811),
               ("10:00", 4811, 4817, 4804.5, 4816))  # target and BE stop on one bar
    out = run(rows, target_mode="time")
    assert out.loc[0, ["Result", "ExitTime"]].tolist() == ["BE", "09/01/24 10:00"]


def test_q18_parameters_are_fields_and_dropped_ones_are_rejected():
    with pytest.raises(ParamsError, match="unknown field"):
        RunParams.from_dict({"instrument": "ES", "same_bar_priority": "STOP_FIRST"})
    with pytest.raises(ParamsError, match="not a multiple of the ES tick"):
        RunParams(instrument="ES", target=10.1)


def test_q25_no_chatter_on_stdout_or_stderr(capfd):
    run(tue(("07:40", 4804, 4805.75, 4803, 4805.5)))
    assert capfd.readouterr() == ("", "")


def test_q26_empty_result_has_every_column_and_dtype():
    full = run_strategy(bars(tue(("07:40", 4804, 4805.75, 4803, 4805.5))),
                        RunParams(instrument="ES"))
    empty = run_strategy(bars([("Sun 18:00", 4800, 4801, 4799, 4800)]), RunParams(instrument="ES"))
    assert list(empty.columns) == list(COLUMNS) and len(empty) == 0
    assert empty.dtypes.to_dict() == full.dtypes.to_dict()


# ---- kept quirks ----

def test_q1_bar_breaking_both_sides_is_no_trade():
    out = run(tue(("07:30", 4800, 4806, 4795, 4800)))
    assert out.loc[0, ["Result", "Direction"]].tolist() == ["NoTrade", "NA"]


def test_q3_gap_through_fills_at_the_level():
    out = run(tue(("08:00", 4812, 4813, 4811, 4812)))
    assert out.loc[0, "EntryPrice"] == "4805.25"


def test_q4_entry_bar_low_can_stop_out():
    out = run(tue(("07:40", 4800, 4806, 4796, 4799)))
    assert out.loc[0, ["Result", "ExitTime"]].tolist() == ["Loss", "09/01/24 07:40"]


def test_q5_stop_ignored_on_the_t1_bar():
    out = run(tue(("07:45", 4802, 4806, 4801, 4805.5), ("08:40", 4805.5, 4812, 4804, 4810),
                  ("09:10", 4810, 4816, 4809, 4815)))
    assert out.loc[0, ["Result", "ExitTime"]].tolist() == ["Win", "09/01/24 09:10"]


def test_q11_peak_falls_back_to_the_whole_window_max_when_truncated_is_zero():
    out = run(tue(("07:40", 4800, 4805.25, 4796, 4799), ("10:00", 4799, 4815, 4799, 4814)))
    assert out.loc[0, ["Result", "Peak"]].tolist() == ["Loss", "9.75"]


def test_q17_empty_slot_list_means_all_slots():
    rp = RunParams(instrument="ES", enabled_slots={"S1": []})
    assert rp.slots_for("S1") == ("07:30", "08:00", "09:00")
    assert RunParams(instrument="ES", enabled_slots={"S1": ["08:00"]}).slots_for("S2") == (
        "09:30", "10:00", "10:30", "11:00")


def test_q19_no_holiday_calendar_expiry_on_a_holiday():
    rows = tue(("07:40", 4804, 4805.75, 4803, 4805.5), ("Wed 12:00", 4805, 4806, 4804, 4805))
    out = run(rows, monday=dt.date(2024, 12, 30))  # Tue Dec 31: expiry on the Jan 1 holiday
    assert out.loc[0, "ExitTime"] == "01/01/25 07:29"


def test_q29_break_even_costs_one_tick():
    out = run(tue(("07:50", 4805.25, 4805.5, 4805.25, 4805.25), ("09:00", 4806, 4812, 4806, 4811),
                  ("11:00", 4811, 4811, 4804, 4805)))
    assert out.loc[0, ["Result", "ExitPrice", "Profit"]].tolist() == ["BE", "4805.0", "-0.25"]


@pytest.mark.parametrize(("stamp", "result"), [("16:00", "Win"), ("16:01", "NoTrade")])
def test_q30_breakout_at_market_close_is_valid(stamp, result):
    out = run(tue((stamp, 4804, 4806, 4803, 4805.5), ("17:00", 4806, 4816, 4805, 4815)))
    assert out.loc[0, "Result"] == result


def test_market_close_parameter_moves_the_cut_off():
    rows = tue(("14:30", 4804, 4806, 4803, 4805.5))
    assert run(rows, market_close="15:00").loc[0, "Result"] != "NoTrade"
    assert run(rows, market_close="14:00").loc[0, "Result"] == "NoTrade"


def test_write_no_trade_rows_false_drops_them():
    out = run(tue(("07:30", 4800, 4806, 4795, 4800)), write_no_trade_rows=False)
    assert len(out) == 0 and list(out.columns)[-1] == "open_as_of_time"
