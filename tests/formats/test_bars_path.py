"""The sweep's way from files to Bars (data.bars_from_files) equals load_bars + prepare_bars.

`bars_from_files` hands the loader's UTC and Chicago wall-clock arrays straight to the Bars
instead of building the Chicago frame `load_bars` returns; the property: on any canonical
file (shuffled rows, identical and conflicting duplicates, off-grid prices, a second
instrument, contract months, a date window) both ways give the same Bars or the same error.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.engine.bars import Bars
from research.engine.data import (
    LoadOptions,
    bars_by_symbol,
    bars_from_files,
    load_bars,
    load_with_report,
    prepare_bars,
)
from research.engine.formats.options import LOAD_KEYS
from research.engine.formats.symbols import parse_symbol
from research.engine.synthetic import synthetic_bars
from research.errors import DataError
from tests.bar_writers import canonical_csv
from tests.formats.test_formats import assert_same_bars

BASE = synthetic_bars("ES", "2024-03-07", "2024-03-12", seed=3)  # across the DST change


@st.composite
def bar_files(draw: st.DrawFn) -> tuple[pd.DataFrame, dict]:
    """A few hundred rows of BASE, mangled the ways real files are, and load options."""
    start = draw(st.integers(0, len(BASE) - 400))
    frame = BASE.iloc[start:start + draw(st.integers(1, 400))].copy()
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if draw(st.booleans()):  # identical duplicates, and rows out of time order
        frame = pd.concat([frame, frame.sample(frac=0.1, random_state=rng)])
        frame = frame.sample(frac=1.0, random_state=rng)
    if draw(st.booleans()):  # another instrument's rows, which must not matter
        frame = pd.concat([frame, frame.head(20).assign(instrument="NQ")])
    if draw(st.booleans()):  # a conflicting duplicate
        frame = pd.concat([frame, frame.head(1).assign(close=frame["low"].iloc[0])])
    if draw(st.booleans()):  # an off-grid price (refused, or rounded with snap_to_tick)
        frame.loc[frame.index[0], "high"] = frame["high"].iloc[0] + 0.1
    if draw(st.booleans()):  # contract months, one per date or mixed
        frame = frame.assign(contract=draw(st.sampled_from(["ESH4", " esh4 "]))
                             if draw(st.booleans()) else
                             np.where(rng.random(len(frame)) < 0.5, "ESH4", "ESM4"))
    options = {"snap_to_tick": draw(st.booleans()), "roll": draw(st.sampled_from(["volume",
                                                                                  "none"]))}
    if draw(st.booleans()):
        options["start"] = draw(st.sampled_from(["2024-03-08", "2024-03-11"]))
    return frame, options


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=bar_files())
def test_bars_from_files_equals_prepare_bars_of_load_bars(case):
    frame, options = case
    with tempfile.TemporaryDirectory() as folder:
        path = canonical_csv(frame, Path(folder) / "bars.csv")
        try:
            slow = prepare_bars(load_bars(path, instrument="ES", **options), "ES")
        except DataError as exc:
            with pytest.raises(DataError, match=f"^{re.escape(str(exc))}$"):
                bars_from_files(path, LoadOptions.checked(str(path), instrument="ES",
                                                          **options))
            return
        fast = bars_from_files(path, LoadOptions.checked(str(path), instrument="ES", **options))
    assert_same_bars(fast, slow, "canonical")


def test_the_load_keys_are_load_bars_keywords_in_order():
    import inspect

    assert tuple(inspect.signature(load_bars).parameters)[1:] == LOAD_KEYS


def test_bars_from_files_needs_the_instrument(tmp_path):
    path = canonical_csv(BASE.head(5), tmp_path / "bars.csv")
    with pytest.raises(ValueError, match=r"^bars_from_files: options\.instrument is required$"):
        bars_from_files(path, LoadOptions.checked(str(path)))


def _inspected_from_the_frame(path: Path, options: dict) -> tuple:
    """The inspector's way before issue 19: the whole frame, then prepare_bars per symbol."""
    frame, report = load_with_report(path, **options)
    found = []
    for symbol in sorted({str(name) for name in frame["instrument"].dropna().unique()}):
        root = parse_symbol(symbol).root
        if root is None:
            found.append((symbol, None))
            continue
        try:
            found.append((symbol, prepare_bars(frame, root)))
        except DataError as exc:
            found.append((symbol, str(exc)))
    return report, found


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=bar_files(), other=st.sampled_from(["NQ", "ZZZ", "ESM4", "ESH4-ESM4"]))
def test_bars_by_symbol_equals_the_frame_way_of_the_inspector(case, other):
    frame, options = case
    frame = pd.concat([frame, frame.tail(15).assign(instrument=other)])
    with tempfile.TemporaryDirectory() as folder:
        path = canonical_csv(frame, Path(folder) / "bars.csv")
        try:
            slow_report, slow = _inspected_from_the_frame(path, options)
        except DataError as exc:
            with pytest.raises(DataError, match=f"^{re.escape(str(exc))}$"):
                bars_by_symbol(path, LoadOptions.checked(str(path), **options))
            return
        fast_report, fast = bars_by_symbol(path, LoadOptions.checked(str(path), **options))
    assert fast_report == slow_report
    assert [symbol for symbol, _ in fast] == [symbol for symbol, _ in slow]
    for (symbol, mine), (_, theirs) in zip(fast, slow, strict=True):
        if isinstance(theirs, Bars):
            assert isinstance(mine, Bars), (symbol, mine)
            assert_same_bars(mine, theirs, "canonical")
        else:
            assert mine == theirs, symbol
