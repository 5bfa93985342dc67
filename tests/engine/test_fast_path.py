"""Property tests: the compiled batch path equals process_single_range on random bars."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from research.engine.clock import NS_PER_MINUTE
from research.engine.entry import detect_entries, detect_entry
from research.engine.execution import TradeBatch
from research.engine.params import RunParams
from research.engine.ranges import RangeRules, build_slot_ranges
from research.engine.results import trades_frame
from research.engine.strategy import process_range_batch, process_single_range
from tests.helpers import random_bars, random_params


def default_rules(bars):
    return RangeRules.from_params(RunParams(instrument=bars.instrument.symbol))


@given(data=st.data())
def test_batch_path_equals_single_range_path(data):
    bars = data.draw(random_bars())
    rp = data.draw(random_params(bars.instrument.symbol))
    as_of_ns = int(bars.ts_ns[data.draw(st.integers(0, len(bars) - 1))])
    table = build_slot_ranges(bars, RangeRules.from_params(rp))
    slow = TradeBatch.from_trades(
        [process_single_range(bars, r, rp, as_of_ns) for r in table])
    fast = process_range_batch(bars, table, rp, as_of_ns)
    for name in TradeBatch.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    assert trades_frame(bars, table, fast, rp).equals(trades_frame(bars, table, slow, rp))


@given(bars=random_bars())
def test_batch_entries_equal_single_entries(bars):
    table = build_slot_ranges(bars, default_rules(bars))
    entries = detect_entries(bars, table)
    singles = [detect_entry(bars, r) for r in table]
    assert list(entries.direction) == [e.direction for e in singles]
    assert list(entries.bar_idx) == [e.bar_idx for e in singles]
    assert list(entries.price_ticks) == [e.price_ticks for e in singles]


@given(bars=random_bars())
def test_ranges_cover_exactly_their_window(bars):
    table = build_slot_ranges(bars, default_rules(bars))
    for r in table:
        inside = (bars.ts_ns >= r.end_ts_ns - (r.slot_minute - (120 if r.session == "S1"
                                                                else 480)) * NS_PER_MINUTE)
        inside &= bars.ts_ns < r.end_ts_ns
        assert np.flatnonzero(inside).tolist() == list(range(r.start_idx, r.end_idx))
        assert r.range_high_ticks == bars.high_ticks[inside].max()
        assert r.range_low_ticks == bars.low_ticks[inside].min()


BOUND_FIELDS = ("ambiguity", "pessimistic_result", "pessimistic_entry_ticks",
                "pessimistic_exit_ts_ns", "pessimistic_exit_ticks", "optimistic_result",
                "optimistic_exit_ts_ns", "optimistic_exit_ticks", "decided_by")


@given(data=st.data())
def test_the_compiled_fill_bounds_equal_the_readable_ones(data):
    """The bounds ride in the compiled walk; fill_bounds states them in plain Python."""
    bars = data.draw(random_bars())
    rp = data.draw(random_params(bars.instrument.symbol))
    table = build_slot_ranges(bars, RangeRules.from_params(rp))
    as_of_ns = int(bars.ts_ns[-1])
    fast = process_range_batch(bars, table, rp, as_of_ns)
    for i, r in enumerate(table):
        slow = process_single_range(bars, r, rp, as_of_ns)
        assert tuple(int(getattr(fast, name)[i]) for name in BOUND_FIELDS) == \
            tuple(getattr(slow, name) for name in BOUND_FIELDS), i
