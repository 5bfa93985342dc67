"""ParallelProcessor inside the engine: identical output for any thread count, clear errors."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

import research.engine.strategy as strategy
from research.engine.data import prepare_bars
from research.engine.execution import execute_trades
from research.engine.params import RunParams
from research.engine.pipeline import Stages
from research.engine.synthetic import synthetic_bars
from research.errors import InputTypeError, ParamsError
from research.parallel.processor import RangeProcessingError
from tests.helpers import random_bars, random_params


@pytest.fixture(scope="module")
def two_years():
    return prepare_bars(synthetic_bars("ES", "2023-01-01", "2024-12-31", seed=5), "ES")


@pytest.fixture(scope="module")
def sequential(two_years):
    return strategy.run_strategy(two_years, RunParams(instrument="ES"), parallel=False)


@pytest.mark.parametrize("threads", [1, 2, 3, 4, 7])
def test_threads_give_identical_rows_on_multi_year_data(two_years, sequential, threads):
    got = strategy.run_strategy(two_years, RunParams(instrument="ES"), parallel=True,
                                threads=threads)
    assert len(got) > 3000
    assert got.equals(sequential)


def test_automatic_choice_gives_identical_rows(two_years, sequential):
    assert strategy.run_strategy(two_years, RunParams(instrument="ES")).equals(sequential)


@given(data=st.data(), threads=st.sampled_from([2, 3, 7]))
def test_threads_equal_sequential_on_random_bars(data, threads):
    bars = data.draw(random_bars())
    rp = data.draw(random_params(bars.instrument.symbol))
    one = strategy.run_strategy(bars, rp, parallel=False)
    many = strategy.run_strategy(bars, rp, parallel=True, threads=threads)
    assert many.equals(one)


def broken_exits(bars, table, entries, rules, as_of_ns):
    if 19_401 in table.trading_day:  # 2023-02-13, a Monday
        raise ZeroDivisionError("bad range")
    return execute_trades(bars, table, entries, rules, as_of_ns)


def test_a_range_that_raises_is_named(two_years):
    with pytest.raises(RangeProcessingError, match="2023-02-13 S1 07:30") as info:
        strategy.run_strategy(two_years, RunParams(instrument="ES"), parallel=True, threads=2,
                              stages=Stages(exits=broken_exits))
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_fewer_than_two_ranges_take_the_sequential_path(two_years, caplog):
    rp = RunParams(instrument="ES", enabled_sessions=["S1"], enabled_slots={"S1": ["07:30"]})
    one_day = prepare_bars(synthetic_bars("ES", "2024-03-05", "2024-03-05", seed=1), "ES")
    with caplog.at_level(logging.DEBUG, logger="research.engine.strategy"):
        frame = strategy.run_strategy(one_day, rp, parallel=True, threads=4)
    assert len(frame) == 1
    assert "parallel=False" in caplog.text and "threads=1" in caplog.text


def test_threads_must_be_positive(two_years):
    with pytest.raises(ParamsError, match=r"^threads: 0 is not a positive number$"):
        strategy.run_strategy(two_years, RunParams(instrument="ES"), parallel=True, threads=0)


@pytest.mark.parametrize(("threads", "shown"), [(True, "True"), (2.0, "2.0"), ("4", "'4'")])
def test_threads_must_be_a_whole_number(two_years, threads, shown):
    with pytest.raises(InputTypeError, match=rf"^threads: {shown} is not a whole number$"):
        strategy.run_strategy(two_years, RunParams(instrument="ES"), parallel=True,
                              threads=threads)


@pytest.mark.parametrize("days_per_part", [1, 7, 10_000])
def test_range_building_does_not_depend_on_how_days_are_cut(two_years, days_per_part):
    import numpy as np

    from research.engine import ranges

    rules = ranges.RangeRules.from_params(RunParams(instrument="ES", target_mode="time"))
    reference = ranges.build_slot_ranges(two_years, rules)
    cut = ranges.build_slot_ranges(two_years, rules, days_per_part=days_per_part)
    assert len(reference) > 3000
    for name in ranges.RangeTable.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(cut, name), getattr(reference, name))
