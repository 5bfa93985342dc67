"""The spike check's lean form (bars compared a block at a time, issue 19's memory bound)
finds the very bars its plain statement below finds, on random bars."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.engine.formats import quality
from research.engine.formats.quality import SPIKE_MEDIAN_RANGES


def plain_spikes(close, utc_ns, trading_day, contracts, prices):
    """The check as first written: sort by (contract, time), median range per (date,
    contract) by pandas, every bar compared with both neighbours at once."""
    if close.size < 3:
        return np.array([], dtype=np.int64)
    codes = pd.factorize(contracts)[0]
    order = np.lexsort((utc_ns, codes))
    spans = (prices["high"] - prices["low"])[order]
    days = trading_day[order].astype(np.int64) * (codes.max() + 1) + codes[order]
    median = pd.Series(spans).groupby(days).transform("median").to_numpy()
    floor = np.nanmin(spans[spans > 0]) if (spans > 0).any() else 1.0
    limit = SPIKE_MEDIAN_RANGES * np.maximum(median, floor)
    ordered, same = close[order], codes[order]
    into, back = ordered[1:-1] - ordered[:-2], ordered[2:] - ordered[1:-1]
    spike = ((np.abs(into) > limit[1:-1]) & (np.abs(back) > limit[1:-1])
             & (np.sign(into) != np.sign(back))
             & (np.abs(ordered[2:] - ordered[:-2]) <= limit[1:-1])
             & (same[1:-1] == same[:-2]) & (same[2:] == same[1:-1]))
    return np.sort(order[1:-1][spike])


@st.composite
def bars(draw):
    n = draw(st.integers(0, 60))
    shuffled = draw(st.booleans())
    contracts = np.array(draw(st.lists(st.sampled_from(["", "ESH4", "ESM4"]), min_size=n,
                                       max_size=n)) if draw(st.booleans()) else [""] * n,
                         dtype=object)
    minutes = np.cumsum(draw(st.lists(st.integers(0, 900), min_size=n, max_size=n)))
    if shuffled:
        minutes = np.array(draw(st.permutations(minutes.tolist())), dtype=np.int64)
    utc_ns = np.asarray(minutes, dtype=np.int64) * 60 * 10**9
    trading_day = (np.asarray(minutes, dtype=np.int64) // 1440).astype(np.int32)
    level = st.sampled_from([100.0, 100.25, 99.75, 150.0, 50.0, 100.5, np.nan, 0.0])
    close = np.array(draw(st.lists(level, min_size=n, max_size=n)), dtype=np.float64)
    span = np.array(draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, np.nan]), min_size=n,
                                  max_size=n)), dtype=np.float64)
    prices = {"high": close + span, "low": close, "close": close}
    return close, utc_ns, trading_day, contracts, prices


@settings(max_examples=40, deadline=None)
@given(drawn=bars(), block=st.sampled_from([1, 2, 7, 1 << 18]))
def test_block_spikes_equal_the_plain_check(drawn, block):
    expected = plain_spikes(*drawn)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(quality, "SPIKE_BLOCK_ROWS", block)
        np.testing.assert_array_equal(quality._spikes(*drawn), expected)


def test_a_spike_is_found_across_a_block_edge(monkeypatch):
    monkeypatch.setattr(quality, "SPIKE_BLOCK_ROWS", 2)
    close = np.array([100.0, 100.25, 100.0, 180.0, 100.25, 100.0, 100.25])
    prices = {"high": close + 0.25, "low": close, "close": close}
    n = close.size
    found = quality._spikes(close, np.arange(n) * 60 * 10**9, np.zeros(n, np.int32),
                            np.full(n, "", dtype=object), prices)
    assert found.tolist() == [3]
