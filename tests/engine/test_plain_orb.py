"""The engine equals an independent plain loop (tests/engine/plain_orb.py) on random bars for
your own range and every entry, exit and sizing rule of issue 20, their combinations, DST
weeks, early closes (calendar: exchange) and a roll during a trade."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.engine.data import prepare_bars
from research.engine.params import RunParams
from research.engine.strategy import run_strategy
from tests.engine.plain_orb import NS, PlainORB, Row
from tests.engine.test_contract_walk import as_frame, rolled_frame, shifted
from tests.helpers import bars_from_ticks

# Weeks with something to get wrong: the March and November DST changes (the Sunday
# between two trade days), Thanksgiving (12:00 and 12:15 closes), Christmas (12:15, closed).
FIRST_DAYS = [dt.date(2024, 3, 8), dt.date(2024, 11, 1), dt.date(2024, 11, 27),
              dt.date(2024, 12, 23)]
FAST = settings(max_examples=10, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def day_bars(draw):
    """Minute bars over a few days around the ranges (07:00-17:00) and some evenings: random
    gaps, a small-step walk that often touches levels exactly, gaps at the open."""
    symbol = draw(st.sampled_from(["ES", "MES", "CL", "YM"]))
    first = draw(st.sampled_from(FIRST_DAYS))
    n_days = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    minutes = []
    for d in range(n_days + 1):
        day = np.arange(7 * 60, 17 * 60)
        keep = rng.random(len(day)) < draw(st.sampled_from([0.3, 0.9]))
        evening = np.arange(17 * 60, 24 * 60, 37)
        minutes.append(d * 1440 + np.concatenate([day[keep], evening]))
    minutes = np.concatenate(minutes)
    n = len(minutes)
    step = draw(st.integers(1, 3))
    mid = 10_000 + np.cumsum(rng.integers(-step, step + 1, size=n))
    high = mid + rng.integers(0, 2 * step + 1, size=n)
    low = mid - rng.integers(0, 2 * step + 1, size=n)
    open_ = np.clip(mid + rng.integers(-3 * step, 3 * step + 1, size=n), low, high)
    close = np.clip(mid + rng.integers(-step, step + 1, size=n), low, high)
    day0 = (first - dt.date(1970, 1, 1)).days
    return bars_from_ticks(symbol, day0, minutes, open_, high, low, close)


@st.composite
def issue20_params(draw, symbol: str):
    spec = RunParams(instrument=symbol).spec
    start = draw(st.sampled_from(["08:30", "09:00", "09:45"]))
    length = draw(st.sampled_from([1, 5, 15, 30]))
    by_end = draw(st.booleans())
    end_minute = int(start[:2]) * 60 + int(start[3:]) + length
    end = f"{end_minute // 60:02d}:{end_minute % 60:02d}"
    sizing = draw(st.sampled_from(["fixed", "risk_usd", "risk_fraction"]))
    target_ticks = draw(st.integers(2, 12))
    return RunParams(
        instrument=symbol, range_start=start,
        range_end=end if by_end else None, range_minutes=None if by_end else length,
        trade_until=draw(st.sampled_from([None, "11:00", "15:59"])),
        entry=draw(st.sampled_from(["stop", "close_confirm"])),
        direction=draw(st.sampled_from(["both", "long", "short"])),
        max_entries_per_day=draw(st.sampled_from([1, 2, 4])),
        target=float(np.round(target_ticks * spec.tick, 6)),
        target_r=draw(st.sampled_from([None, 0.5, 2, 10])),
        exit_at=draw(st.sampled_from([None, "12:00", "15:30", "16:30"])),
        t1_fraction=draw(st.sampled_from([0.3, 0.65, 1.0])),
        stop_cap_multiple=draw(st.sampled_from([0.5, 3.0])),
        target_mode=draw(st.sampled_from(["fixed", "fixed", "time"])),
        calendar=draw(st.sampled_from(["fixed", "exchange"])),
        trade_days=draw(st.sampled_from([(0, 1, 2, 3, 4), (1, 3, 4)])),
        write_no_trade_rows=draw(st.booleans()),
        commission=draw(st.sampled_from([0, 2.5])),
        slippage_ticks=draw(st.sampled_from([0, 1])),
        risk_usd=(draw(st.sampled_from([40, 300, 2000])) if sizing == "risk_usd" else None),
        risk_fraction=(draw(st.sampled_from([0.01, 0.2])) if sizing == "risk_fraction"
                       else None),
        equity_usd=(draw(st.sampled_from([1000, 50_000])) if sizing == "risk_fraction"
                    else None),
    )


def engine_rows(bars, rp: RunParams, as_of_ns: int) -> list[tuple]:
    frame = run_strategy(bars, rp, as_of=pd.Timestamp(as_of_ns, tz="UTC"), parallel=False)
    tick = bars.instrument.tick

    def ticks(values):
        return [int(round(v / tick)) for v in values]

    def ns(values):
        return [None if pd.isna(v) else int(v.value) for v in values]

    columns = zip(frame["date"].dt.date, frame["result"].astype(str),
                  frame["direction"].astype(str), ns(frame["entry_time"]),
                  ns(frame["exit_time"]), ticks(frame["entry_price"]),
                  ticks(frame["exit_price"]), ticks(frame["stop_distance"]),
                  ticks(frame["peak"]), ticks(frame["range"]),
                  frame["entry_no"].astype(int), frame["contracts"].astype(int),
                  (frame["net_usd"] * 100).round().astype(int),
                  frame["no_trade_reason"].astype(str), ticks(frame["target"]), strict=True)
    return [(*row[:-1], row[-1] if row[1] != "NoTrade" and rp.target_r is not None else None)
            for row in columns]


def plain_rows(bars, rp: RunParams, as_of_ns: int) -> list[tuple]:
    side = {1: "Long", -1: "Short", 0: ""}

    def one(r: Row) -> tuple:
        return (r.day, r.result, side[r.side], r.entry_ns, r.exit_ns, r.entry, r.exit,
                r.stop_distance, r.peak, r.range_size, r.entry_no, r.contracts, r.net_cents,
                r.reason, r.target if r.result != "NoTrade" and rp.target_r is not None
                else None)
    return [one(r) for r in PlainORB(bars, rp, as_of_ns).rows()]


def assert_same(bars, rp, as_of_ns):
    expected = plain_rows(bars, rp, as_of_ns)
    actual = engine_rows(bars, rp, as_of_ns)
    assert len(actual) == len(expected), (rp, len(actual), len(expected))
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        assert a == e, (i, rp, a, e)


@FAST
@given(bars=day_bars(), data=st.data())
def test_the_engine_equals_the_plain_loop(bars, data):
    rp = data.draw(issue20_params(bars.instrument.symbol))
    as_of_ns = int(bars.ts_ns[data.draw(st.integers(0, len(bars) - 1))])
    assert_same(bars, rp, as_of_ns)


@FAST
@given(bars=day_bars(), data=st.data())
def test_the_engine_equals_the_plain_loop_across_a_roll(bars, data):
    """The data move to contract B on a drawn date; trades entered on A stay on A's bars."""
    days = np.unique(bars.trading_day)
    roll_day = int(data.draw(st.sampled_from(days.tolist())))
    old = as_frame(bars, "A")
    new = shifted(old, data.draw(st.sampled_from([-400, 7, 300])) * bars.instrument.tick)
    rolled = prepare_bars(rolled_frame(old, new.assign(contract="B"), roll_day),
                          bars.instrument.symbol)
    rp = data.draw(issue20_params(bars.instrument.symbol))
    assert_same(rolled, rp, int(rolled.ts_ns[-1]))


@pytest.mark.slow
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bars=day_bars(), data=st.data())
def test_the_engine_equals_the_plain_loop_at_length(bars, data):
    rp = data.draw(issue20_params(bars.instrument.symbol))
    as_of_ns = int(bars.ts_ns[data.draw(st.integers(0, len(bars) - 1))])
    assert_same(bars, rp, as_of_ns)


def test_the_plain_loop_finds_trades():
    """Guard against a vacuous agreement: on a drawn-free day, both see entries and exits."""
    minutes = np.arange(8 * 60, 16 * 60)
    mid = 10_000 + (np.arange(len(minutes)) % 40)
    day0 = (dt.date(2024, 3, 5) - dt.date(1970, 1, 1)).days
    bars = bars_from_ticks("ES", day0, minutes, mid, mid + 2, mid - 2, mid)
    rp = RunParams(instrument="ES", range_start="08:00", range_minutes=15,
                   max_entries_per_day=3, target_r=2)
    rows = plain_rows(bars, rp, int(bars.ts_ns[-1]))
    assert [r[1] for r in rows] == [r[1] for r in engine_rows(bars, rp, int(bars.ts_ns[-1]))]
    assert {r[1] for r in rows} & {"Win", "Loss", "BE"} and len(rows) > 1
    assert NS == 10**9
