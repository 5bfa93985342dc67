"""Issue 20 in the engine: your own range, entry, exit and sizing rules. The independent
plain loop (test_plain_orb.py) holds the rows; here: the reference equivalence, the
compiled path against the readable one, the checks and the labels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.engine.data import prepare_bars
from research.engine.entry import breakout_touches, detect_entries, detect_entry
from research.engine.entry_rules import EntryRules
from research.engine.execution import TradeBatch
from research.engine.params import LATER_FIELDS, RunParams
from research.engine.pipeline import Pipeline
from research.engine.range_params import check_range_fields
from research.engine.ranges import RangeRules, build_slot_ranges
from research.engine.results import categorize_text, trades_frame
from research.engine.rules import ExitRules
from research.engine.strategy import process_range_batch, process_single_range, range_trades
from research.engine.synthetic import synthetic_bars
from research.errors import ParamsError, SpecError
from research.parallel.processor import ParallelProcessor
from research.spec.grid import spec_from_dict
from tests.engine.test_plain_orb import day_bars, issue20_params

FAST = settings(max_examples=12, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def quarter():
    return prepare_bars(synthetic_bars("ES", "2024-01-01", "2024-03-31"), "ES")


# ---- a custom range equal to a reference slot gives the reference's rows ----

@pytest.mark.parametrize("target_mode", ["fixed", "time"])
def test_range_0800_0930_gives_the_rows_of_s2_0930(quarter, target_mode):
    """S2 starts at 08:00 and its slot 09:30 ends the range: the same window, entries,
    window end E (next weekday 09:30; time mode 08:00) and walk. Only the labels differ:
    session R0800-0930 instead of S2, stream ES-R0800-0930 instead of ES2."""
    reference = RunParams(instrument="ES", enabled_sessions=["S2"],
                          enabled_slots={"S2": ["09:30"]}, target_mode=target_mode)
    custom = RunParams(instrument="ES", range_start="08:00", range_end="09:30",
                       target_mode=target_mode)
    ref = trades_frame_of(quarter, reference)
    own = trades_frame_of(quarter, custom)
    assert (ref["result"] != "NoTrade").sum() > 20
    labels = ["session", "stream"]
    assert ref.drop(columns=labels).equals(own.drop(columns=labels))
    assert set(own["session"].astype(str)) == {"R0800-0930"}
    assert set(own["stream"].astype(str)) == {"ES-R0800-0930"}
    assert set(ref["session"].astype(str)) == {"S2"}


def trades_frame_of(bars, rp):
    return Pipeline(bars, bars.last_ts_ns, ParallelProcessor(max_workers=1)).run(rp)


def test_range_minutes_and_range_end_are_the_same_range(quarter):
    by_end = RunParams(instrument="ES", range_start="08:30", range_end="08:45")
    by_minutes = RunParams(instrument="ES", range_start="08:30", range_minutes=15)
    assert RangeRules.from_params(by_end) == RangeRules.from_params(by_minutes)
    assert trades_frame_of(quarter, by_end).equals(trades_frame_of(quarter, by_minutes))


def test_a_custom_range_reads_back_from_parquet_with_its_labels(quarter):
    frame = trades_frame_of(quarter, RunParams(instrument="ES", range_start="08:30",
                                               range_minutes=5))
    back = categorize_text(frame.astype({c: str for c in ("slot", "session", "stream")}))
    assert back["session"].astype(str).eq("R0830-0835").all()
    assert back["slot"].astype(str).eq("08:35").all()
    assert not back["stream"].isna().any()


# ---- defaults change nothing ----

def test_every_new_field_is_a_later_field_and_defaults_keep_the_combo_id():
    new = ("range_start", "range_end", "range_minutes", "trade_until", "entry", "direction",
           "max_entries_per_day", "target_r", "exit_at", "risk_usd", "risk_fraction",
           "equity_usd")
    assert set(new) <= set(LATER_FIELDS)
    assert RunParams(instrument="ES", target=15).combo_id == "e80ef1ef90c8"  # as published
    assert RunParams(instrument="ES", entry="stop", direction="both",
                     max_entries_per_day=1).combo_id == RunParams(instrument="ES").combo_id
    assert RunParams(instrument="ES", entry="close_confirm").combo_id != \
        RunParams(instrument="ES").combo_id


# ---- the compiled path equals the readable one for every new rule ----

@FAST
@given(bars=day_bars(), data=st.data())
def test_batch_path_equals_single_range_path_for_the_new_rules(bars, data):
    rp = dataclasses.replace(data.draw(issue20_params(bars.instrument.symbol)),
                             max_entries_per_day=1)
    as_of_ns = int(bars.ts_ns[data.draw(st.integers(0, len(bars) - 1))])
    table = build_slot_ranges(bars, RangeRules.from_params(rp))
    slow = TradeBatch.from_trades([process_single_range(bars, r, rp, as_of_ns) for r in table])
    fast = process_range_batch(bars, table, rp, as_of_ns)
    for name in TradeBatch.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    assert trades_frame(bars, table, fast, rp).equals(trades_frame(bars, table, slow, rp))


@FAST
@given(bars=day_bars(), data=st.data())
def test_later_entries_equal_the_readable_loop(bars, data):
    rp = data.draw(issue20_params(bars.instrument.symbol))
    as_of_ns = int(bars.ts_ns[-1])
    pipeline = Pipeline(bars, as_of_ns, ParallelProcessor(max_workers=1))
    shared = pipeline.shared(RangeRules.from_params(rp))
    fast = pipeline.exits(shared, ExitRules.from_params(rp))
    fast = fast[np.lexsort((fast.entry_no, fast.range_row))]
    slow = TradeBatch.from_trades([t for i, r in enumerate(shared.table)
                                   for t in range_trades(bars, r, rp, as_of_ns, i)])
    slow = dataclasses.replace(slow, range_row=np.array(
        [i for i, r in enumerate(shared.table)
         for _ in range_trades(bars, r, rp, as_of_ns, i)], np.int64))
    for name in TradeBatch.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)


@FAST
@given(bars=day_bars(), data=st.data())
def test_batch_entries_equal_single_entries_for_every_entry_rule(bars, data):
    rp = data.draw(issue20_params(bars.instrument.symbol))
    table = build_slot_ranges(bars, RangeRules.from_params(rp))
    rules = EntryRules.from_params(rp)
    scan_from = np.array([data.draw(st.integers(0, len(bars))) for _ in range(len(table))],
                         np.int64)
    fast = detect_entries(bars, table, rules, scan_from)
    slow = [detect_entry(bars, r, rules, int(s)) for r, s in zip(table, scan_from, strict=True)]
    assert fast.direction.tolist() == [e.direction for e in slow]
    assert fast.bar_idx.tolist() == [e.bar_idx for e in slow]
    assert fast.price_ticks.tolist() == [e.price_ticks for e in slow]


@FAST
@given(bars=day_bars())
def test_breakout_touches_are_the_stop_entry_levels(bars):
    """The statistics' break: each side's first touch of the stop entry level, by the cut-off;
    the first of the two (or none, or both on one bar) is the stop entry's."""
    rp = RunParams(instrument=bars.instrument.symbol, range_start="08:30", range_minutes=15)
    table = build_slot_ranges(bars, RangeRules.from_params(rp))
    up, down = breakout_touches(bars, table)
    entries = detect_entries(bars, table)
    for r, u, d, side, bar in zip(table, up, down, entries.direction, entries.bar_idx,
                                  strict=True):
        touched = [i for i in (u, d) if i >= 0]
        if not touched or u == d:
            assert side == 0
        else:
            assert bar == min(touched)
        if u >= 0:
            assert bars.high_ticks[u] > r.range_high_ticks
            assert not (bars.high_ticks[r.end_idx:u] > r.range_high_ticks).any()


# ---- the checks: one line naming the field, the value and the fix ----

@pytest.mark.parametrize(("fields", "message"), [
    ({"range_start": "08:30"}, "range_start: '08:30' needs exactly one of range_end"),
    ({"range_end": "09:00"}, "range_end: '09:00' needs range_start"),
    ({"range_minutes": 5}, "range_minutes: 5 needs range_start"),
    ({"range_start": "08:30", "range_end": "09:00", "range_minutes": 30},
     "not both"),
    ({"range_start": "8:30", "range_minutes": 5}, r"range_start: '8:30' is not an HH:MM"),
    ({"range_start": 830, "range_minutes": 5}, "range_start: 830 is not an HH:MM time; write"),
    ({"range_start": "08:30", "range_end": "08:30"}, "is not after range_start '08:30'"),
    ({"range_start": "15:30", "range_end": "16:30"}, "ends after 16:00"),
    ({"range_start": "08:30", "range_minutes": 0}, r"range_minutes: 0 is not in \[1, 450\]"),
    ({"range_start": "08:30", "range_minutes": 2.5}, "range_minutes: 2.5 is not a whole"),
    ({"range_start": "08:30", "range_minutes": 15, "trade_until": "08:40"},
     "trade_until: '08:40' is before the range's end 08:45"),
    ({"range_start": "08:30", "range_minutes": 15, "enabled_sessions": ["S2"]},
     "replaces the reference sessions"),
    ({"trade_until": "11:00", "market_close": "12:00"}, "give one"),
    ({"entry": "market"}, "entry: 'market' is not one of stop, close_confirm"),
    ({"direction": "up"}, "direction: 'up' is not one of both, long, short"),
    ({"max_entries_per_day": 0}, r"max_entries_per_day: 0 is not a whole number in \[1, 100\]"),
    ({"target_r": -1}, r"target_r: -1 is not in \(0, 1,000\] \(R\)"),
    ({"exit_at": "10:30"}, "exit_at: '10:30' is not after the range's end 11:00"),
    ({"range_start": "08:30", "range_minutes": 15, "exit_at": "08:45"},
     "exit_at: '08:45' is not after"),
    ({"risk_usd": 500, "risk_fraction": 0.01}, "size by one"),
    ({"risk_fraction": 0.01}, "risk_fraction: 0.01 needs equity_usd too"),
    ({"equity_usd": 1000}, "equity_usd: 1000 needs risk_fraction too"),
    ({"risk_fraction": 1.5, "equity_usd": 1000}, r"risk_fraction: 1.5 is not in \(0, 1\]"),
    ({"risk_usd": 10.001}, "risk_usd: 10.001 is not a whole number of cents"),
    ({"risk_usd": 100, "contracts": 2}, "contracts: 2 is given with risk sizing"),
])
def test_mistakes_are_one_line_errors(fields, message):
    with pytest.raises(ParamsError, match=message):
        RunParams(instrument="ES", **fields)


def test_the_range_check_is_one_function_stats_can_call():
    window = check_range_fields("09:30", None, 30, "15:00")
    assert (window.start_minute, window.end_minute, window.cutoff_minute) == (570, 600, 900)
    assert window.label == "R0930-1000"


def test_the_slot_axis_and_a_custom_range_do_not_mix():
    spec = {"name": "x", "base": {"instrument": "ES", "range_start": "08:30",
                                  "range_minutes": 5},
            "grid": {"slot": ["09:30"]}}
    with pytest.raises(SpecError, match="grid: slot conflicts with range_start"):
        spec_from_dict(spec, data_required=False)


def test_range_minutes_is_a_grid_axis_sharing_nothing_but_each_range():
    spec = spec_from_dict({"name": "x", "base": {"instrument": "ES", "range_start": "08:30"},
                           "grid": {"range_minutes": [5, 15, 30], "target": [10, 15]}},
                          data_required=False)
    keys = {RangeRules.from_params(rp) for rp in spec.combos()}
    assert len(keys) == 3  # combos sharing a range share ranges and entries


# ---- sizing ----

def test_sizing_by_risk_gives_whole_contracts_and_a_reason_for_zero(quarter):
    frame = trades_frame_of(quarter, RunParams(instrument="ES", range_start="08:30",
                                               range_minutes=30, risk_usd=1400))
    traded = frame[frame["result"] != "NoTrade"]
    assert len(traded) > 5
    # ES: $12.50 a tick; 1400 / (12.50 x stop ticks) contracts, floored
    stop_ticks = (traded["stop_distance"] / 0.25).round().astype(int)
    assert (traded["contracts"] == 140_000 // (1250 * stop_ticks)).all()
    voided = frame[frame["no_trade_reason"] == "stop wider than the risk"]
    assert len(voided) > 0 and (voided["result"] == "NoTrade").all()
    assert (voided["contracts"] == 0).all() and (voided["net_usd"] == 0).all()


def test_compounding_equity_grows_with_the_combos_own_net(quarter):
    rp = RunParams(instrument="ES", range_start="08:30", range_minutes=30,
                   risk_fraction=0.05, equity_usd=100_000, commission=2.5)
    frame = trades_frame_of(quarter, rp)
    equity = 10_000_000  # cents
    for _, rows in frame.groupby("date", sort=True):
        for _, row in rows.iterrows():
            if row["result"] != "NoTrade":
                stop_cents = max(round(row["stop_distance"] / 0.25), 1) * 1250
                assert row["contracts"] == min(equity * 5 // 100 // stop_cents, 100_000)
        equity += int(round(rows["net_usd"].sum() * 100))
    assert frame["contracts"].max() > 1


def test_sizing_zero_rows_go_without_no_trade_rows(quarter):
    rp = RunParams(instrument="ES", range_start="08:30", range_minutes=30, risk_usd=400,
                   write_no_trade_rows=False)
    frame = trades_frame_of(quarter, rp)
    assert (frame["result"] != "NoTrade").all() and (frame["contracts"] >= 1).all()


def test_target_r_sets_each_trades_target_from_its_stop(quarter):
    frame = trades_frame_of(quarter, RunParams(instrument="ES", range_start="08:30",
                                               range_minutes=15, target_r=2))
    won = frame[frame["result"] == "Win"]
    assert len(won) > 0
    assert ((won["target"] - 2 * won["stop_distance"]).abs() < 1e-9).all()
    assert ((won["exit_price"] - won["entry_price"]).abs() - won["target"]).abs().max() < 1e-9


def test_exit_at_is_checked_against_the_slots_the_grid_gives():
    ok = spec_from_dict({"name": "x", "base": {"instrument": "ES", "exit_at": "10:15"},
                         "grid": {"slot": ["07:30", "09:30"]}}, data_required=False)
    assert [rp.exit_at for rp in ok.combos()] == ["10:15", "10:15"]
    with pytest.raises(SpecError, match=r"grid\.slot\[1\] = '10:30': exit_at: '10:15' is "
                                        "not after the range's end 10:30"):
        spec_from_dict({"name": "x", "base": {"instrument": "ES", "exit_at": "10:15"},
                        "grid": {"slot": ["07:30", "10:30"]}}, data_required=False)
