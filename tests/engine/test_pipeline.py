"""One pipeline, one input path, one set of parallel settings (the three seams that leaked)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from research import RunParams, prepare_bars, run_strategy, synthetic_bars
from research.engine.execution import ExitRules
from research.engine.inputs import to_bars
from research.engine.pipeline import Pipeline, SharedRanges
from research.engine.ranges import RangeRules
from research.errors import DataError, InputTypeError, SpecError
from research.parallel.budget import usable_cores
from research.parallel.processor import ParallelProcessor
from research.parallel.settings import ParallelSpec
from research.research_runner import ResearchRunner
from research.spec.grid import spec_from_dict
from tests.helpers import cli, random_bars, random_params, small_spec


@pytest.fixture(scope="module")
def month():
    return synthetic_bars("ES", "2024-03-01", "2024-03-31", seed=4)


# ---- 1. the stages' own keys: combos equal on a key share that stage's output ----

def shared_of(bars, rp) -> SharedRanges:
    return Pipeline(bars, bars.last_ts_ns, ParallelProcessor(1)).shared(
        RangeRules.from_params(rp))


def assert_same_shared(left: SharedRanges, right: SharedRanges) -> None:
    for part in ("table", "entries"):
        a, b = getattr(left, part), getattr(right, part)
        for name in a.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@given(data=st.data())
def test_equal_range_rules_mean_equal_ranges_and_entries(data):
    """Whatever else two combos differ in, equal RangeRules give them the same ranges and
    entries, so a sweep may compute those once per key."""
    bars = data.draw(random_bars())
    first = data.draw(random_params(bars.instrument.symbol))
    second = data.draw(random_params(bars.instrument.symbol))
    same_key = dataclasses.replace(
        second, enabled_sessions=first.enabled_sessions, enabled_slots=first.enabled_slots,
        trade_days=first.trade_days, market_close=first.market_close,
        target_mode=first.target_mode)
    assert RangeRules.from_params(same_key) == RangeRules.from_params(first)
    assert_same_shared(shared_of(bars, same_key), shared_of(bars, first))


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(RunParams)
                                   if f.name != "instrument"])
def test_every_field_is_in_the_key_of_the_stage_that_reads_it(month, field):
    """Vary one field: if ranges or entries change, RangeRules must change too, and if the
    walk changes, ExitRules (or RangeRules) must: no stage may read a field its key lacks."""
    values = {"enabled_sessions": [["S1", "S2"], ["S2"]],
              "enabled_slots": [{}, {"S1": ["08:00"], "S2": ["10:00"]}],
              "trade_days": [[0, 1, 2, 3, 4], [1, 3]], "target": [10, 15],
              "t1_fraction": [0.65, 0.3], "stop_cap_multiple": [3.0, 0.5],
              "market_close": ["16:00", "09:45"], "target_mode": ["fixed", "time"],
              "write_no_trade_rows": [True, False], "contracts": [1, 3],
              "commission": [0, 2.5], "slippage_ticks": [0, 2],
              "calendar": ["fixed", "exchange"],
              "range_start": ["08:30", "09:00"], "range_end": ["08:45", "09:00"],
              "range_minutes": [5, 15], "trade_until": [None, "10:00"],
              "entry": ["stop", "close_confirm"], "direction": ["both", "long"],
              "max_entries_per_day": [1, 3], "target_r": [None, 2], "exit_at": [None, "15:00"],
              "risk_usd": [None, 500], "risk_fraction": [0.01, 0.02],
              "equity_usd": [100_000, 50_000]}[field]
    needs = {"range_start": {"range_minutes": 30}, "range_end": {"range_start": "08:30"},
             "range_minutes": {"range_start": "08:30"}, "risk_fraction": {"equity_usd": 1e5},
             "equity_usd": {"risk_fraction": 0.01}}.get(field, {})
    bars = prepare_bars(month, "ES")
    a, b = (RunParams(instrument="ES", **needs, **{field: value}) for value in values)
    ranges_equal = RangeRules.from_params(a) == RangeRules.from_params(b)
    if ranges_equal:
        assert_same_shared(shared_of(bars, a), shared_of(bars, b))
    if ranges_equal and ExitRules.from_params(a) == ExitRules.from_params(b):
        pipeline = Pipeline(bars, bars.last_ts_ns, ParallelProcessor(1))
        shared = pipeline.shared(RangeRules.from_params(a))
        walks = [pipeline.exits(shared, ExitRules.from_params(rp)) for rp in (a, b)]
        for name in walks[0].__dataclass_fields__:
            np.testing.assert_array_equal(getattr(walks[0], name), getattr(walks[1], name))


@pytest.mark.slow
def test_a_sweep_over_every_field_gives_run_strategys_rows(month, tmp_path):
    """The sweep shares stages by key; run_strategy computes each combo alone: same rows."""
    grid = {"slot": ["07:30", "10:00"], "target": [10, 15], "t1_fraction": [0.3, 0.65],
            "stop_cap_multiple": [0.5, 3.0], "market_close": ["16:00", "09:45"],
            "target_mode": ["fixed", "time"], "write_no_trade_rows": [True, False],
            "commission": [0, 4.5], "calendar": ["fixed", "exchange"]}
    sweep = ResearchRunner(data=month, results_dir=tmp_path, backend="sequential",
                           progress=False).run(grid=grid, base={"instrument": "ES"}, name="all")
    spec = spec_from_dict({"name": "all", "base": {"instrument": "ES"}, "grid": grid},
                          data_required=False)
    stored = sweep.trades()
    for rp in spec.combos():
        rows = stored[stored["combo_id"] == rp.combo_id].drop(columns="combo_id")
        expected = run_strategy(month, rp)
        assert rows.reset_index(drop=True).equals(expected), rp


# ---- 2. one input path: bars of another instrument are refused everywhere ----

def test_prepared_bars_of_another_instrument_are_refused_by_the_runner(tmp_path):
    cl = prepare_bars(synthetic_bars("CL", "2024-03-01", "2024-03-08"), "CL")
    runner = ResearchRunner(data=cl, results_dir=tmp_path, backend="sequential", progress=False)
    with pytest.raises(DataError, match="the bars are CL, the parameters ask for ES"):
        runner.run(grid={"target": [10]}, base={"instrument": "ES"}, name="wrong")


def test_a_frame_of_another_instrument_names_what_it_holds(month, tmp_path):
    with pytest.raises(DataError, match=r"no NQ rows .*holds: ES"):
        ResearchRunner(data=month, results_dir=tmp_path, progress=False).run(
            grid={"target": [50]}, base={"instrument": "NQ"})
    with pytest.raises(DataError, match=r"no NQ rows .*holds: ES"):
        run_strategy(month, RunParams(instrument="NQ"))


@pytest.mark.parametrize("data", [42, ["bars.csv"], {"path": "x"}])
def test_data_of_a_wrong_type_is_a_type_error_naming_it(data):
    with pytest.raises(InputTypeError, match=f"got {type(data).__name__}"):
        to_bars(data, "ES")


# ---- 3. one ParallelSpec: spec < runner arguments < CLI flags ----

def test_run_spec_honours_the_spec_parallel_section(tmp_path):
    spec = spec_from_dict({**small_spec().to_dict(), "grid": {"target": [10, 15]},
                           "parallel": {"backend": "sequential", "max_cpus": 3}})
    sweep = ResearchRunner(results_dir=tmp_path, progress=False).run_spec(spec)
    # max_cpus 3 on a local backend is capped at the usable cores
    assert sweep.manifest["parallel"] == {"backend": "sequential",
                                          "max_cpus": min(3, usable_cores()),
                                          "scheduler": None, "batch_size": None}
    assert sweep.manifest["budget"]["backend"] == "sequential"


def test_runner_arguments_win_over_the_spec(tmp_path):
    spec = spec_from_dict({**small_spec().to_dict(), "grid": {"target": [10, 15]},
                           "parallel": {"backend": "loky", "max_cpus": 3}})
    sweep = ResearchRunner(results_dir=tmp_path, progress=False, backend="sequential",
                           max_cpus=1).run_spec(spec)
    assert sweep.manifest["parallel"]["backend"] == "sequential"
    assert sweep.manifest["budget"]["max_cpus"] == 1


@pytest.mark.parametrize(("lower", "upper", "expected"), [
    (ParallelSpec(backend="dask", scheduler="tcp://h:1", max_cpus=32), ParallelSpec(),
     {"backend": "dask", "max_cpus": 32, "scheduler": "tcp://h:1", "batch_size": None}),
    (ParallelSpec(backend="dask", scheduler="tcp://h:1"), ParallelSpec(backend="loky"),
     {"backend": "loky", "max_cpus": None, "scheduler": None, "batch_size": None}),
    (ParallelSpec(backend="dask", scheduler="tcp://h:1"), ParallelSpec(backend="dask"),
     {"backend": "dask", "max_cpus": None, "scheduler": "tcp://h:1", "batch_size": None}),
    (ParallelSpec(max_cpus=4, batch_size=3), ParallelSpec(max_cpus="auto"),
     {"backend": None, "max_cpus": "auto", "scheduler": None, "batch_size": 3}),
])
def test_each_layer_wins_over_the_one_below(lower, upper, expected):
    assert upper.over(lower).to_dict() == expected


def test_a_scheduler_without_the_dask_backend_is_refused():
    with pytest.raises(SpecError, match=r"scheduler: 'tcp://h:1' is set but the backend is "
                                        r"'loky'.*--backend dask"):
        ParallelSpec(scheduler="tcp://h:1").over(ParallelSpec(backend="loky")).resolved()


@pytest.mark.slow
def test_cli_scheduler_without_dask_backend_exits_2(tmp_path):
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text("name: s\nbase: {instrument: ES}\ngrid: {target: [10]}\n"
                         "data: {synthetic: {end: 2024-01-31}}\n")
    proc = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--scheduler", "tcp://h:8786")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert "needs backend dask" in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()  # refused before any work
