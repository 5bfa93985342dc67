"""A sweep prepared once (research.spec.prepared): the settings layered in one place, the
dry run planning what the run runs, list-valued axes in the dry run, the manifest's spec hash."""

from __future__ import annotations

import contextlib
import io

import pytest

from research.cli.dry_run import Planned, dry_run
from research.cli.sweep import main
from research.errors import SpecError
from research.parallel.settings import ParallelSpec
from research.research_runner import ResearchRunner
from research.spec.grid import spec_from_dict
from research.spec.prepared import RunnerOptions

SYNTHETIC = {"synthetic": {"instrument": "ES", "start": "2024-03-04", "end": "2024-03-15",
                           "seed": 3}}
LIST_AXIS = {"trade_days": [["Mon", "Tue", "Wed", "Thu", "Fri"], ["Tue", "Wed", "Thu"]],
             "target": [10, 15]}


def spec(grid=None, name="prep", **top):
    return spec_from_dict({"name": name, "data": SYNTHETIC, "base": {"instrument": "ES"},
                           "grid": grid or {"target": [10, 15]}, **top})


def lean(tmp_path, **options):
    return ResearchRunner(results_dir=tmp_path, progress=False, analysis=False, report=False,
                          backend="sequential", **options)


# ---- the settings: the spec's, unless the runner (the CLI's flags) says otherwise ----

def test_the_spec_s_settings_hold_where_the_runner_gives_none():
    settings = RunnerOptions().over(spec(store_trades="none", max_combos=5,
                                         parallel={"backend": "sequential", "max_cpus": 1},
                                         analysis={"enabled": False}))
    assert (settings.store_trades, settings.max_combos, settings.analysis) == (False, 5, None)
    assert (settings.parallel.backend, settings.parallel.budget) == ("sequential", 1)
    assert settings.report and not settings.keep_shards


def test_the_runner_s_arguments_win_over_the_spec():
    options = RunnerOptions(parallel=ParallelSpec(backend="loky", max_cpus=2),
                            store_trades="all", max_combos=7, analysis=False, report=False,
                            keep_shards=True)
    settings = options.over(spec(store_trades="none", max_combos=5,
                                 parallel={"backend": "sequential", "max_cpus": 1}))
    assert (settings.store_trades, settings.max_combos, settings.analysis) == (True, 7, None)
    assert (settings.parallel.backend, settings.parallel.budget) == ("loky", 2)
    assert (settings.report, settings.keep_shards) == (False, True)


def test_an_analysis_the_spec_enables_carries_its_config():
    settings = RunnerOptions().over(spec(analysis={"blocks": 8}))
    assert settings.analysis is not None and settings.analysis.blocks == 8


def test_layering_refuses_a_grid_larger_than_allowed():
    with pytest.raises(SpecError, match=r"^grid: 2 combos, more than the 1 allowed; ask for "
                                         r"them with --max-combos 2"):
        RunnerOptions(max_combos=1).over(spec())


# ---- the dry run plans what the run runs ----

def test_the_dry_run_plans_the_tasks_the_run_runs(tmp_path):
    sweep_spec = spec(grid={"target": [10, 15, 20], "t1_fraction": [0.5, 0.65]})
    runner = lean(tmp_path, max_cpus=2, batch_size=2)
    planned = Planned.of(runner.prepare(sweep_spec))
    budget = runner.run_spec(sweep_spec).manifest["budget"]
    assert (len(planned.task_sizes), planned.processes, planned.threads) == (
        budget["tasks"], budget["processes"], budget["threads"])
    assert planned.todo == 6 and sorted(planned.task_sizes) == [2, 2, 2]


def test_the_dry_run_takes_a_list_valued_axis(tmp_path):
    result = dry_run(lean(tmp_path, max_cpus=1), spec(grid=LIST_AXIS))
    lines = result.report().splitlines()
    assert lines[1] == "combos: 4 in the grid (trade_days 2 x target 2), 0 already done, 4 to run"
    assert lines[4] == f"outputs: {tmp_path / 'prep'}/ (summary, daily, trades, 1 heatmap)"
    # two range keys of 2 combos, packed whole into the one task the single process runs
    assert result.calibration is not None and result.calibration.combos == 4
    assert not (tmp_path / "prep").exists()


def test_the_cli_dry_run_takes_a_list_valued_axis(tmp_path):
    path = tmp_path / "lists.yaml"
    path.write_text("base: {instrument: ES}\n"
                    "grid: {trade_days: [[Mon, Tue, Wed, Thu, Fri], [Tue, Wed, Thu]]}\n"
                    "data: {synthetic: {start: 2024-03-04, end: 2024-03-15}}\n")
    with contextlib.redirect_stdout(io.StringIO()) as out, \
            contextlib.redirect_stderr(io.StringIO()) as err:
        code = main([str(path), "--dry-run", "--quiet", "--max-cpus", "1",
                     "--results-dir", str(tmp_path / "results")])
    assert code == 0, err.getvalue()
    assert out.getvalue().splitlines()[1] == ("combos: 2 in the grid (trade_days 2), "
                                              "0 already done, 2 to run")


# ---- the manifest's spec hash ----

def test_the_manifest_holds_the_spec_hash(tmp_path):
    first = spec(name="a")
    manifest = lean(tmp_path).run_spec(first).manifest
    assert manifest["spec_hash"] == first.spec_hash
    renamed = lean(tmp_path).run_spec(spec(name="b")).manifest
    assert renamed["spec_hash"] == manifest["spec_hash"]  # a name is not what runs
    grown = lean(tmp_path).run_spec(spec(name="c", grid={"target": [10, 15, 20]})).manifest
    assert grown["spec_hash"] not in (manifest["spec_hash"], None)
    assert grown["spec_hash"] == spec(grid={"target": [10, 15, 20]}).spec_hash
