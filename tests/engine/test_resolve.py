"""A known answer for fills: a 1-second random walk, and the same walk as minute bars.

The minute-only bounds must contain the result decided on the seconds, on every combo; with
one price per second nothing stays undecided; and the decided rows equal a direct replay of
the price path, written here without the engine's walk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.engine.codes import LONG
from research.engine.data import prepare_bars
from research.engine.entry import detect_entries
from research.engine.params import RunParams
from research.engine.ranges import RangeRules, build_slot_ranges
from research.engine.resolve import NS_PER_SECOND, load_seconds
from research.engine.strategy import run_strategy
from research.engine.synthetic_seconds import synthetic_second_bars
from research.errors import DataError
from research.results.metrics import combo_metrics

COMBOS = [RunParams(instrument="ES", target=target, t1_fraction=t1, stop_cap_multiple=cap,
                    target_mode=mode)
          for target in (1.25, 3, 6) for t1 in (0.3, 1.0) for cap in (0.5, 3.0)
          for mode in ("fixed", "time")]


@pytest.fixture(scope="module")
def walk():
    minutes, seconds = synthetic_second_bars("ES", "2024-03-04", "2024-03-15", seed=11)
    return prepare_bars(minutes, "ES"), prepare_bars(seconds, "ES")


@pytest.fixture(scope="module")
def runs(walk):
    bars, seconds = walk
    return [(rp, run_strategy(bars, rp, parallel=False),
             run_strategy(bars, rp, parallel=False, resolve_with=seconds)) for rp in COMBOS]


def test_minute_bounds_contain_the_second_resolved_result_on_every_combo(runs):
    for rp, minute, resolved in runs:
        bounds = combo_metrics(minute)
        decided = combo_metrics(resolved)["net_profit_usd"]
        assert bounds["net_usd_pessimistic"] <= decided <= bounds["net_usd_optimistic"], rp
        assert (minute["net_usd_pessimistic"] <= resolved["net_usd"]).all()
        assert (resolved["net_usd"] <= minute["net_usd_optimistic"]).all()
        # The bounds stay beside the decided result, unchanged.
        for column in ("ambiguous", "net_usd_pessimistic", "net_usd_optimistic"):
            assert resolved[column].equals(minute[column])


def test_with_one_price_a_second_no_trade_stays_undecided(runs):
    ambiguous = sum(int(m["ambiguous"].sum()) for _, m, _ in runs)
    trades = sum(int((m["result"] != "NoTrade").sum()) for _, m, _ in runs)
    undecided = sum(combo_metrics(r)["undecided_trades"] for _, _, r in runs)
    assert ambiguous > 0.02 * trades  # the walk does leave minutes undecided
    assert undecided <= 0.005 * trades
    assert undecided == 0
    decided_by = pd.concat([r["decided_by"] for _, _, r in runs]).astype(str)
    assert (decided_by == "1-second bars").sum() == ambiguous


def path_outcome(prices, side, entry, rules_rp: RunParams, distance):
    """The trade on a price path (one price a second from the entry second on): the first
    level the path reaches decides, in the order the prices came. Returns (result, index of
    the exit second or None, exit ticks or None)."""
    favourable = (prices - entry) * side
    target = entry + side * rules_rp.target_ticks
    initial_stop = entry - side * distance
    t1 = np.flatnonzero(favourable >= rules_rp.t1_threshold_ticks)
    t1_at = t1[0] if len(t1) else len(prices)
    exits = []
    loss = np.flatnonzero((prices[:t1_at] - initial_stop) * side <= 0)
    if len(loss):
        exits.append((loss[0], "Loss", initial_stop))
    if rules_rp.target_mode == "fixed":
        win = np.flatnonzero((prices - target) * side >= 0)
        if len(win):
            exits.append((win[0], "Win", target))
    break_even = np.flatnonzero((prices[t1_at:] - (entry - side)) * side <= 0)
    if len(break_even):
        exits.append((t1_at + break_even[0], "BE", entry - side))
    if not exits:
        return None, None, None
    at, result, level = min(exits)
    return result, at, level


def test_resolved_rows_equal_a_direct_replay_of_the_path(walk, runs):
    bars, seconds = walk
    tick = bars.instrument.tick
    for rp, _, resolved in runs[::3]:
        table = build_slot_ranges(bars, RangeRules.from_params(rp))
        entries = detect_entries(bars, table)
        traded = resolved[resolved["result"] != "NoTrade"].reset_index(drop=True)
        assert len(traded) == int((entries.direction != 0).sum())
        k = 0
        for r in range(len(table)):
            side = int(entries.direction[r])
            if side == 0:
                continue
            entry = int(entries.price_ticks[r])
            first_minute = int(bars.ts_ns[entries.bar_idx[r]])
            last_minute = int(bars.ts_ns[table.window_end_idx[r] - 1])
            inside = (seconds.ts_ns >= first_minute) & (seconds.ts_ns < last_minute + 60 * 10**9)
            prices, stamps = seconds.close_ticks[inside], seconds.ts_ns[inside]
            reached = (prices >= entry) if side == LONG else (prices <= entry)
            start = int(np.argmax(reached))
            distance = min(int(table.range_size_ticks[r]), rp.stop_cap_ticks)
            result, at, level = path_outcome(prices[start:], side, entry, rp, distance)
            row = traded.loc[k]
            k += 1
            if result is None:
                assert row["result"] in ("TIME", "OPEN")
                assert round(row["exit_price"] / tick) == prices[-1]
                continue
            exit_second = int(stamps[start + at])
            exit_minute = pd.Timestamp(exit_second - exit_second % (60 * NS_PER_SECOND),
                                       tz="UTC")
            assert (row["result"], round(row["exit_price"] / tick)) == (result, level), r
            # A trade whose outcomes all give the same fill is not ambiguous (not replayed),
            # even when the minute bars leave its exit minute open (one touch or a later one).
            if row["decided_by"] == "1-second bars":
                assert row["exit_time"] == exit_minute


def test_a_seconds_file_that_does_not_cover_the_minutes_is_refused(walk):
    bars, _ = walk
    _, seconds = synthetic_second_bars("ES", "2024-03-04", "2024-03-15", seed=11)
    first_week = seconds[seconds["timestamp"] < pd.Timestamp("2024-03-09", tz="America/Chicago")]
    with pytest.raises(DataError, match=r"data\.resolve_with: '<frame>' covers 2024-03-04 "
                                        r"00:00:0\d-06:00 to 2024-03-08 23:59:5\d-06:00; the "
                                        r"minute bars run 2024-03-04 00:00:00-06:00 to "
                                        r"2024-03-15 23:59:00-05:00: give 1-second bars"):
        run_strategy(bars, COMBOS[0], resolve_with=prepare_bars(first_week, "ES"))


def test_seconds_of_another_walk_are_refused(walk):
    bars, _ = walk
    _, other = synthetic_second_bars("ES", "2024-03-04", "2024-03-15", seed=12)
    with pytest.raises(DataError, match=r"data\.resolve_with: '<frame>': its 1-second bars in "
                                        r"the minute 2024-03-04 00:0\d:00-06:00 trade outside "
                                        r"that minute bar's range: another instrument or "
                                        r"contract\?"):
        run_strategy(bars, COMBOS[0], resolve_with=prepare_bars(other, "ES"))


def test_minute_bars_given_as_seconds_are_refused(tmp_path, walk):
    minutes, _ = synthetic_second_bars("ES", "2024-03-04", "2024-03-04", seed=11)
    path = tmp_path / "es_1m.csv"
    minutes.assign(timestamp=minutes["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(
        path, index=False)
    with pytest.raises(DataError, match=r"whole minutes only, not 1-second bars"):
        load_seconds(str(path), "ES")


def test_databento_ohlcv_1s_is_read_as_seconds_and_refused_as_minutes(tmp_path):
    path = tmp_path / "glbx-ohlcv-1s.csv"
    path.write_text("ts_event,rtype,open,high,low,close,volume,symbol\n"
                    "1733149860000000000,32,6045250000000,6045250000000,6045250000000,"
                    "6045250000000,3,ESZ4\n"
                    "1733149861000000000,32,6045500000000,6045500000000,6045500000000,"
                    "6045500000000,1,ESZ4\n")
    seconds = load_seconds(str(path), "ES")
    assert seconds.close_ticks.tolist() == [24181, 24182]
    with pytest.raises(DataError, match=r"not 1-minute bars \(rtype 33, OHLCV-1m\): request "
                                        r"schema ohlcv-1m"):
        run_strategy(str(path), COMBOS[0])
