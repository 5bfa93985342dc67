"""Property tests: the compiled batch path equals process_single_range on random bars."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from research.engine.clock import NS_PER_MINUTE
from research.engine.entry import detect_entries, detect_entry
from research.engine.execution import TradeBatch
from research.engine.params import RunParams
from research.engine.ranges import RangeTable, build_slot_ranges
from research.engine.results import trades_frame
from research.engine.strategy import process_range_batch, process_single_range

from .conftest import bars_from_ticks

MONDAY = (dt.date(2024, 3, 4) - dt.date(1970, 1, 1)).days  # the week of the March DST change


@st.composite
def random_bars(draw):
    """A few days of minute bars: random gaps, a small-step walk that often touches levels
    exactly, ties between high/low and levels, and instruments with decimal ticks."""
    symbol = draw(st.sampled_from(["ES", "MES", "CL", "NG", "GC", "YM", "M2K"]))
    n_days = draw(st.integers(1, 6))
    n = draw(st.integers(20, 400))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    start = draw(st.integers(0, 1440))
    gaps = rng.choice([1, 1, 1, 2, 5, 30, 120], size=n)
    minutes = start + np.cumsum(gaps) * max(1, (n_days * 1440) // (n * 3))
    step = draw(st.integers(1, 4))
    mid = 10_000 + np.cumsum(rng.integers(-step, step + 1, size=n))
    up = rng.integers(0, 2 * step + 1, size=n)
    down = rng.integers(0, 2 * step + 1, size=n)
    high, low = mid + up, mid - down
    open_ = np.clip(mid + rng.integers(-step, step + 1, size=n), low, high)
    close = np.clip(mid + rng.integers(-step, step + 1, size=n), low, high)
    return bars_from_ticks(symbol, MONDAY, minutes, open_, high, low, close)


@st.composite
def random_params(draw, symbol: str):
    target_ticks = draw(st.integers(1, 12))
    return RunParams(
        instrument=symbol,
        target=float(np.round(target_ticks * RunParams(instrument=symbol).spec.tick, 6)),
        t1_fraction=draw(st.sampled_from([0.05, 0.3, 0.5, 0.65, 0.99, 1.0])),
        stop_cap_multiple=draw(st.sampled_from([0.5, 1.0, 3.0, 20.0] if target_ticks > 1
                                               else [1.0, 3.0])),
        market_close=draw(st.sampled_from(["16:00", "09:45", "23:59", "12:00"])),
        target_mode=draw(st.sampled_from(["fixed", "time"])),
        trade_days=draw(st.sampled_from([(0, 1, 2, 3, 4), (1, 3), (4,)])),
        write_no_trade_rows=draw(st.booleans()),
    )


@given(data=st.data())
def test_batch_path_equals_single_range_path(data):
    bars = data.draw(random_bars())
    rp = data.draw(random_params(bars.instrument.symbol))
    as_of_ns = int(bars.ts_ns[data.draw(st.integers(0, len(bars) - 1))])
    table = build_slot_ranges(bars, rp)
    slow = TradeBatch.from_trades(
        [process_single_range(bars, r, rp, as_of_ns) for r in table])
    fast = process_range_batch(bars, table, rp, as_of_ns)
    for name in TradeBatch.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    assert trades_frame(bars, table, fast, rp).equals(trades_frame(bars, table, slow, rp))


@given(bars=random_bars())
def test_batch_entries_equal_single_entries(bars):
    table = build_slot_ranges(bars, RunParams(instrument=bars.instrument.symbol))
    entries = detect_entries(bars, table)
    singles = [detect_entry(bars, r) for r in table]
    assert list(entries.direction) == [e.direction for e in singles]
    assert list(entries.bar_idx) == [e.bar_idx for e in singles]
    assert list(entries.price_ticks) == [e.price_ticks for e in singles]


@given(bars=random_bars())
def test_ranges_cover_exactly_their_window(bars):
    table = build_slot_ranges(bars, RunParams(instrument=bars.instrument.symbol))
    assert RangeTable.from_ranges(list(table)).end_idx.tolist() == table.end_idx.tolist()
    for r in table:
        inside = (bars.ts_ns >= r.end_ts_ns - (r.slot_minute - (120 if r.session == "S1"
                                                                else 480)) * NS_PER_MINUTE)
        inside &= bars.ts_ns < r.end_ts_ns
        assert np.flatnonzero(inside).tolist() == list(range(r.start_idx, r.end_idx))
        assert r.range_high_ticks == bars.high_ticks[inside].max()
        assert r.range_low_ticks == bars.low_ticks[inside].min()
