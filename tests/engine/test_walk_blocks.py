"""The compiled walk jumps over blocks of bars where nothing can happen (engine.walk_kernel):
whatever the block size, its trades equal the readable path's, field for field; and it
walks many exit settings in one call as it walks each alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.engine.data import prepare_bars
from research.engine.entry import detect_entries
from research.engine.entry_rules import EntryRules
from research.engine.execution import (
    ExitRules,
    TradeBatch,
    block_extremes,
    execute_trades,
    execute_trades_for,
)
from research.engine.params import RunParams
from research.engine.pipeline import Pipeline
from research.engine.ranges import RangeRules, build_slot_ranges
from research.engine.strategy import process_single_range
from research.engine.synthetic import synthetic_bars
from research.engine.walk_kernel import BLOCK_SHIFT, BlockExtremes
from research.parallel.processor import ParallelProcessor
from tests.engine.test_contract_walk import rolled_frame, rolled_pairs
from tests.helpers import random_bars, random_params

NO_BLOCKS = 40  # blocks of 2**40 bars: none ever fits in a window, every bar is walked


def walked(bars, rp, as_of_ns, shift):
    table = build_slot_ranges(bars, RangeRules.from_params(rp))
    entries = detect_entries(bars, table, EntryRules.from_params(rp))
    return table, execute_trades(bars, table, entries, ExitRules.from_params(rp), as_of_ns,
                                 block_shift=shift)


def assert_same_trades(fast: TradeBatch, slow: TradeBatch, shift: int) -> None:
    for name in TradeBatch.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name),
                                      err_msg=f"{name}, blocks of 2**{shift}")


@settings(deadline=None)
@given(data=st.data(), shift=st.sampled_from([0, 1, 2, 3, BLOCK_SHIFT]))
def test_every_block_size_gives_the_readable_trades(data, shift):
    bars = data.draw(random_bars())
    rp = data.draw(random_params(bars.instrument.symbol))
    as_of_ns = int(bars.ts_ns[data.draw(st.integers(0, len(bars) - 1))])
    table, fast = walked(bars, rp, as_of_ns, shift)
    slow = TradeBatch.from_trades([process_single_range(bars, r, rp, as_of_ns) for r in table])
    assert_same_trades(fast, slow, shift)


@settings(max_examples=25, deadline=None)
@given(pair=rolled_pairs(), data=st.data(), shift=st.sampled_from([0, 1, 2, 3]))
def test_every_block_size_gives_the_readable_trades_across_rolls(pair, data, shift):
    """Blocks are aligned on the walk series: a trade's held piece after a roll starts
    anywhere in one."""
    bars, old, new, roll_day = pair
    rolled = prepare_bars(rolled_frame(old, new, roll_day), bars.instrument.symbol)
    rp = data.draw(random_params(bars.instrument.symbol))
    as_of_ns = int(rolled.ts_ns[data.draw(st.integers(0, len(rolled) - 1))])
    table, fast = walked(rolled, rp, as_of_ns, shift)
    slow = TradeBatch.from_trades([process_single_range(rolled, r, rp, as_of_ns)
                                   for r in table])
    assert_same_trades(fast, slow, shift)


@pytest.mark.parametrize("shift", [0, 2, 4, BLOCK_SHIFT, 7])
@pytest.mark.parametrize("params", [
    {"target": 5.0, "t1_fraction": 0.5},
    {"target": 40.0, "t1_fraction": 0.9, "stop_cap_multiple": 5},  # long walks, far peaks
    {"target": 10.0, "target_mode": "time"},
])
def test_a_month_of_synthetic_es_walks_the_same_with_and_without_blocks(shift, params):
    """Windows of a whole session (about 1,300 bars): many blocks, jumped and entered."""
    bars = prepare_bars(synthetic_bars("ES", "2024-03-01", "2024-03-31", seed=3), "ES")
    rp = RunParams(instrument="ES", **params)
    _, fast = walked(bars, rp, bars.last_ts_ns, shift)
    _, plain = walked(bars, rp, bars.last_ts_ns, NO_BLOCKS)
    assert_same_trades(fast, plain, shift)


@given(values=st.lists(st.tuples(st.integers(-50, 50), st.integers(0, 9)), max_size=70),
       shift=st.integers(0, 4))
def test_block_extremes_are_each_blocks_highest_high_and_lowest_low(values, shift):
    high = np.array([mid + spread for mid, spread in values], np.int64)
    low = np.array([mid for mid, _ in values], np.int64)
    blocks = BlockExtremes.of(high, low, shift)
    size = 1 << shift
    assert blocks.high_max.tolist() == [max(high[k:k + size]) for k in range(0, len(high), size)]
    assert blocks.low_min.tolist() == [min(low[k:k + size]) for k in range(0, len(low), size)]


def test_the_extremes_are_made_once_per_walk_series_and_follow_a_replace():
    bars = prepare_bars(synthetic_bars("ES", "2024-01-08", "2024-01-09"), "ES")
    first = block_extremes(bars.walk)
    assert block_extremes(bars.walk) is first
    other = block_extremes(bars.walk, shift=2)
    assert other.shift == 2 and block_extremes(bars.walk) is first  # the default is kept
    copy = dataclasses.replace(bars.walk, high_ticks=bars.walk.high_ticks + 1)
    assert (block_extremes(copy).high_max == first.high_max + 1).all()


@settings(max_examples=40, deadline=None)
@given(data=st.data(), threads=st.sampled_from([1, 3]))
def test_several_exit_rules_in_one_call_equal_one_call_each(data, threads):
    """Pipeline.exits_for walks many ExitRules in one compiled call (per thread slice)."""
    bars = data.draw(random_bars())
    params = data.draw(st.lists(random_params(bars.instrument.symbol), min_size=2, max_size=5))
    base = params[0]
    # one range key for all: only the exit settings vary
    params = [dataclasses.replace(base, target=p.target, t1_fraction=p.t1_fraction,
                                  stop_cap_multiple=p.stop_cap_multiple,
                                  target_mode=p.target_mode) for p in params]
    pipeline = Pipeline(bars, int(bars.ts_ns[-1]), ParallelProcessor(max_workers=threads))
    shared = pipeline.shared(RangeRules.from_params(base))
    rules = [ExitRules.from_params(rp) for rp in params]
    together = pipeline.exits_for(shared, rules)
    for one_rules, batch in zip(rules, together, strict=True):
        assert_same_trades(batch, pipeline.exits(shared, one_rules), BLOCK_SHIFT)


def test_exit_rules_with_their_own_targets_walk_alike_in_one_call():
    bars = prepare_bars(synthetic_bars("ES", "2024-03-04", "2024-03-08", seed=5), "ES")
    rules = [ExitRules(40, 26, 120, False), ExitRules(8, 4, 200, False, target_r=(3, 2)),
             ExitRules(12, 12, 12, True)]
    rp = RunParams(instrument="ES")
    table = build_slot_ranges(bars, RangeRules.from_params(rp))
    entries = detect_entries(bars, table, EntryRules.from_params(rp))
    together = execute_trades_for(bars, table, entries, rules, bars.last_ts_ns)
    for one_rules, batch in zip(rules, together, strict=True):
        assert_same_trades(batch, execute_trades(bars, table, entries, one_rules,
                                                 bars.last_ts_ns), BLOCK_SHIFT)
    assert (together[1].target_ticks != 8).any()  # target_r: each trade its own target
