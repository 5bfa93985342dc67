"""The research runner: determinism across parallel settings, failures, crash and resume."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pandas as pd
import pytest

from research import RunParams, run_strategy
from research.engine.execution import execute_trades
from research.engine.pipeline import ENGINE_STAGES, Stages
from research.engine.results import select_rows
from research.engine.synthetic import synthetic_bars
from research.errors import SpecError
from research.parallel.backends import run_tasks
from research.parallel.settings import ParallelSpec
from research.plan import plan_tasks
from research.research_runner import ResearchRunner
from research.results.store import StoreMismatchError
from research.spec.grid import load_spec, spec_from_dict
from research.worker import run_task
from tests.helpers import (
    OUTPUTS,
    ROOT,
    cli,
    digests,
    loky_workers,
    seven_slot_spec,
    small_spec,
    spec_and_clean_run,
    wait_for_first_shard,
)


def run(spec, tmp_path, label, **options):
    # Here the sweep's results; report.html and the robustness analysis have their own tests
    # (tests/report, tests/analysis) and would only add a second a run.
    options = {"progress": False, "analysis": False, "report": False, **options}
    return ResearchRunner(results_dir=tmp_path / label, **options).run_spec(spec)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The small spec run in-process, sequentially, one combo per task."""
    out = tmp_path_factory.mktemp("reference")
    sweep = ResearchRunner(results_dir=out, backend="sequential", progress=False,
                           batch_size=1, analysis=False, report=False).run_spec(small_spec())
    return sweep


@pytest.mark.parametrize("options", [
    {"max_cpus": 1},
    pytest.param({"max_cpus": 2}, marks=pytest.mark.slow),  # 2 processes x 1 thread
    pytest.param({"max_cpus": 3, "batch_size": 3}, marks=pytest.mark.slow),  # 3 processes
    {"backend": "sequential", "max_cpus": 4, "batch_size": 100},  # in-process, 4 threads
])
def test_outputs_are_byte_identical_whatever_the_parallel_setting(reference, tmp_path, options):
    sweep = run(small_spec(), tmp_path, "run", **options)
    assert digests(sweep.path) == digests(reference.path)
    assert sweep.manifest["status"] == "complete"


class SmallChunks(ResearchRunner):
    plan_chunk = 5  # a 16-combo grid is planned and run in 4 chunks


def test_a_grid_streamed_in_chunks_gives_the_same_bytes(reference, tmp_path):
    sweep = SmallChunks(results_dir=tmp_path, backend="sequential",
                        progress=False).run_spec(small_spec())
    assert digests(sweep.path) == digests(reference.path)
    assert sweep.manifest["combos_run"] == 16


@pytest.mark.slow
def test_the_manifest_budget_tells_the_whole_run_not_its_last_chunk(reference, tmp_path):
    # chunks of 5, 5, 5 and 1 combos, 2 a task: the first three on 2 processes, the last on 1
    sweep = SmallChunks(results_dir=tmp_path, max_cpus=2, batch_size=2,
                        progress=False).run_spec(small_spec())
    combos = small_spec().combos()
    tasks = sum(len(plan_tasks(combos[i:i + 5], processes=2, batch_size=2)) for i in (0, 5, 10, 15))
    budget = sweep.manifest["budget"]
    assert (budget["processes"], budget["threads"], budget["tasks"]) == (2, 1, tasks)
    assert digests(sweep.path) == digests(reference.path)


def test_a_grid_larger_than_allowed_is_refused_before_any_work(tmp_path):
    spec = small_spec()
    with pytest.raises(SpecError, match=r"grid: 16 combos, more than the 10 allowed; ask for "
                                        r"them with --max-combos 16"):
        ResearchRunner(results_dir=tmp_path, progress=False, max_combos=10).run_spec(spec)
    assert not (tmp_path / spec.name).exists()
    d = spec.to_dict()
    d["max_combos"] = 10
    with pytest.raises(SpecError, match="max_combos: 16"):
        ResearchRunner(results_dir=tmp_path, progress=False).run_spec(spec_from_dict(d))
    sweep = ResearchRunner(results_dir=tmp_path, progress=False, backend="sequential",
                           max_combos=16).run_spec(spec_from_dict(d))
    assert len(sweep.summary) == 16


@pytest.mark.slow
def test_one_process_with_two_threads_equals_two_processes_with_one(tmp_path):
    # One shared-stage group, so a batch size of 100 makes a single task: 1 process x 2 threads.
    spec = small_spec(name="group", target=[10, 15, 20], t1_fraction=[0.5, 0.65])
    one_by_two = run(spec, tmp_path, "a", max_cpus=2, batch_size=100)
    two_by_one = run(spec, tmp_path, "b", max_cpus=2, batch_size=1)
    sequential = run(spec, tmp_path, "c", backend="sequential", max_cpus=1)
    budget = one_by_two.manifest["budget"]
    assert (budget["processes"], budget["threads"]) == (1, 2)
    budget = two_by_one.manifest["budget"]
    assert (budget["processes"], budget["threads"]) == (2, 1)
    assert digests(one_by_two.path) == digests(two_by_one.path) == digests(sequential.path)


@pytest.mark.slow
def test_workers_are_stopped_once_the_tasks_are_done(tmp_path):
    # loky keeps idle workers for 300 s: they would hold their memory through compaction
    spec = small_spec(name="release")
    sweep = run(spec, tmp_path, "run", max_cpus=2, batch_size=2)
    assert sweep.manifest["budget"]["processes"] == 2
    assert loky_workers(os.getpid()) == []
    again = run(spec, tmp_path, "again", max_cpus=2, batch_size=2)  # fresh workers start
    assert digests(again.path) == digests(sweep.path)


@pytest.mark.slow
def test_workers_see_pinned_inner_threads():
    from research.engine.data import prepare_bars

    # Large enough (> 1 MB per array) for joblib to memory-map the bars into the workers.
    bars = prepare_bars(synthetic_bars("ES", "2024-01-01", "2024-06-30", seed=1), "ES")
    tasks = plan_tasks(small_spec().combos(), processes=2)
    results = list(run_tasks(run_task, bars, tasks, (bars.last_ts_ns, 1, ENGINE_STAGES),
                             ParallelSpec(max_cpus=2).resolved(), processes=2))
    assert {r.worker["omp_num_threads"] for r in results} == {"1"}
    assert {r.worker["bars_array_type"] for r in results} == {"memmap"}
    pids = {r.worker["pid"] for r in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2  # in the two workers, not here


def test_plan_groups_shared_stages_and_covers_every_combo_once():
    combos = small_spec().combos()
    tasks = plan_tasks(combos, processes=2, batch_size=3)
    planned = [rp.combo_id for task in tasks for rp in task.combos]
    assert sorted(planned) == sorted(rp.combo_id for rp in combos)
    for task in tasks:
        keys = {(rp.enabled_slots, rp.target_mode) for rp in task.combos}
        assert len(keys) == 1 and len(task.combos) <= 3


def test_sweep_accessors(reference):
    summary = reference.summary
    assert len(summary) == 16 and summary["combo_id"].is_unique
    one = summary["combo_id"].iloc[0]
    trades = reference.trades(one)
    assert set(trades["combo_id"]) == {one} and len(trades) == summary["ranges"].iloc[0]
    assert reference.failed == []


def rows_failing_for_target_15_in_time_mode(bars, table, batch, rp):
    if rp.target == 15 and rp.target_mode == "time":
        raise RuntimeError("boom for target 15")
    return select_rows(bars, table, batch, rp)


def test_a_combo_that_raises_is_recorded_and_the_rest_finish(tmp_path):
    sweep = run(small_spec(), tmp_path, "fail", backend="sequential",
                stages=Stages(rows=rows_failing_for_target_15_in_time_mode))
    failed = sweep.failed
    assert len(failed) == 4 and all("boom for target 15" in f["error"] for f in failed)
    assert all("Traceback" in f["traceback"] for f in failed)
    assert len(sweep.summary) == 12 and sweep.manifest["status"] == "failed"
    # A re-run (the bug fixed) retries only the failed combos and equals a clean run.
    again = run(small_spec(), tmp_path, "fail", backend="sequential")
    assert again.failed == [] and len(again.summary) == 16


def with_data(spec, **synthetic):
    d = spec.to_dict()
    d["data"] = {"synthetic": {**d["data"]["synthetic"], **synthetic}}
    return spec_from_dict(d)


def test_changed_data_refuses_to_mix_unless_fresh(tmp_path):
    run(small_spec(), tmp_path, "mix", backend="sequential")
    changed = with_data(small_spec(), end="2024-05-15")
    with pytest.raises(StoreMismatchError, match=r"the data \(spec data.synthetic: .*"
                                                 r"bars \d[\d,]* -> \d[\d,]*.*--fresh"):
        run(changed, tmp_path, "mix", backend="sequential")
    sweep = ResearchRunner(results_dir=tmp_path / "mix", backend="sequential",
                           progress=False).run_spec(changed, fresh=True)
    assert len(sweep.summary) == 16 and sweep.manifest["combos_run"] == 16
    # the root holds the fresh results, the old ones moved aside, and the trial ledger
    assert sorted(p.name[:9] for p in (tmp_path / "mix").iterdir()) == [
        "small", "small.old", "trial_led"]


def test_resume_skips_finished_combos(tmp_path):
    first = run(small_spec(), tmp_path, "resume", backend="sequential")
    assert not list((first.path / "shards").iterdir())  # compacted, then removed
    again = run(small_spec(), tmp_path, "resume", backend="sequential")
    assert again.manifest["budget"]["tasks"] == 0 and again.manifest["combos_run"] == 0
    assert digests(again.path) == digests(first.path)


def test_a_grown_grid_runs_only_its_new_combos(tmp_path):
    small = small_spec(name="grow", slot=["07:30", "10:00"], target=[10, 15])
    grown = small_spec(name="grow", slot=["07:30", "10:00"], target=[10, 12.5, 15])
    first = run(small, tmp_path, "grow", backend="sequential", keep_shards=True)
    old_shards = {p.name: p.read_bytes() for p in (first.path / "shards").iterdir()}
    again = run(grown, tmp_path, "grow", backend="sequential", keep_shards=True)
    assert again.manifest["combos_run"] == 2  # the two combos of target 12.5
    for name, content in old_shards.items():  # the old combos' shards are not rewritten
        assert (again.path / "shards" / name).read_bytes() == content
    fresh = run(grown, tmp_path, "fresh-grown", backend="sequential")
    assert digests(again.path, (*OUTPUTS, "daily.parquet")) == \
        digests(fresh.path, (*OUTPUTS, "daily.parquet"))
    shrunk = run(small, tmp_path, "grow", backend="sequential")  # and back: nothing to run
    assert shrunk.manifest["combos_run"] == 0 and len(shrunk.summary) == 4


def test_notebook_api_run_with_a_frame(tmp_path):
    frame = synthetic_bars("ES", "2024-03-01", "2024-03-31", seed=5)
    runner = ResearchRunner(data=frame, results_dir=tmp_path, progress=False, max_cpus=1)
    sweep = runner.run(grid={"target": [10, 15]}, base={"instrument": "ES"}, name="demo")
    assert sweep.path == tmp_path / "demo"
    assert sweep.summary["target"].tolist() == [10, 15]
    # A stored combo reads back exactly as run_strategy returns it, dtypes included.
    rp = RunParams(instrument="ES", target=15)
    stored = sweep.trades(rp.combo_id).drop(columns="combo_id")
    pd.testing.assert_frame_equal(stored, run_strategy(frame, rp))


# ---- crashes: real processes killed with SIGKILL ----

CRASH_SPEC = seven_slot_spec("crash", end="2024-12-31")


@pytest.fixture(scope="module")
def crash_spec_and_clean_run(tmp_path_factory):
    return spec_and_clean_run(tmp_path_factory.mktemp("crash"), "crash", CRASH_SPEC)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find worker processes")
def test_worker_killed_mid_sweep_then_rerun_completes(crash_spec_and_clean_run, tmp_path):
    spec_path, clean = crash_spec_and_clean_run
    proc = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--max-cpus", 2,
               "--batch-size", 8)
    wait_for_first_shard(tmp_path / "crash", proc)
    workers = loky_workers(proc.pid)
    killed = bool(workers)
    if killed:
        os.kill(workers[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert killed, "no loky worker found to kill"
    print("sweep exit code after the kill:", proc.returncode, err.strip()[-200:])
    if proc.returncode == 1:
        assert "failed" in err and "Traceback" not in err
    else:  # the sweep finished first: nothing to resume, still a valid run
        assert proc.returncode == 0, err
    for shard in (tmp_path / "crash" / "shards").glob("*.parquet"):
        import pyarrow.parquet as pq

        pq.read_table(shard)  # every published shard is whole
    rerun = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--max-cpus", 2)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert digests(tmp_path / "crash") == digests(clean.path)


@pytest.mark.slow
def test_whole_sweep_killed_then_rerun_continues(crash_spec_and_clean_run, tmp_path):
    spec_path, clean = crash_spec_and_clean_run
    proc = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--max-cpus", 2,
               "--batch-size", 8, start_new_session=True)
    wait_for_first_shard(tmp_path / "crash", proc)
    os.killpg(proc.pid, signal.SIGKILL)  # parent and workers at once: a hard crash
    proc.communicate(timeout=60)
    done_before = sum(len(pd.read_parquet(shard))
                      for shard in (tmp_path / "crash" / "shards").glob("*.summary.parquet"))
    rerun = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--max-cpus", 2, "-v")
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert 1 <= done_before < len(clean.summary), "killed part-way: some combos, not all"
    assert digests(tmp_path / "crash") == digests(clean.path)


# ---- the CLI end to end ----

@pytest.mark.parametrize("csv_rows_per_write", [8192, 5])
def test_the_ci_sweep_in_process_matches_the_snapshot(tmp_path, monkeypatch,
                                                     csv_rows_per_write):
    # the fast loop's guard on the regression snapshot; the CLI run below is the slow one.
    # summary.csv written a few rows at a time is the same file (compaction's CSV slices)
    monkeypatch.setattr("research.results.compaction.CSV_ROWS_PER_WRITE", csv_rows_per_write)
    sweep = ResearchRunner(results_dir=tmp_path, backend="sequential", progress=False,
                           analysis=False).run_spec(load_spec(ROOT / "sweeps" / "ci.yaml"))
    golden = (ROOT / "tests" / "snapshots" / "ci_summary.csv").read_bytes()
    assert (sweep.path / "summary.csv").read_bytes() == golden


@pytest.mark.slow
def test_cli_runs_the_ci_sweep_and_matches_the_golden_summary(tmp_path):
    proc = cli(ROOT / "sweeps" / "ci.yaml", "--results-dir", tmp_path, "--quiet")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert f"results: {tmp_path / 'ci'}" in out
    golden = (ROOT / "tests" / "snapshots" / "ci_summary.csv").read_bytes()
    assert (tmp_path / "ci" / "summary.csv").read_bytes() == golden


@pytest.mark.slow
@pytest.mark.parametrize(("spec_text", "message"), [
    ("name: x\nbase: {instrument: ES}\ngrid: {target: [10, 10.1]}\n"
     "data: {synthetic: {}}\n", "grid.target"),
    ("name: x\nbase: {instrument: ES}\ndata: {path: /nonexistent/*.parquet}\n", "nonexistent"),
    ("name: x\nbase: {instrument: ES}\ngrid: {slot: ['07:31']}\ndata: {synthetic: {}}\n",
     "07:31"),
    ("name: x\nbase: {instrument: ES}\nbogus: 1\ndata: {synthetic: {}}\n", "bogus"),
    ("name: [x\n", "invalid YAML"),
])
def test_cli_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path, spec_text, message):
    spec_path = tmp_path / "bad.yaml"
    spec_path.write_text(spec_text)
    proc = cli(spec_path, "--results-dir", tmp_path, "--quiet")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert message in err and "Traceback" not in err


@pytest.mark.slow
def test_cli_grows_a_grid_refuses_changed_data_and_fresh_starts_over(tmp_path):
    spec_path = tmp_path / "s.yaml"
    base = "name: s\nbase: {instrument: ES}\n"
    spec_path.write_text(base + "data: {synthetic: {end: 2024-01-31}}\ngrid: {target: [10]}\n")
    assert cli(spec_path, "--results-dir", tmp_path, "--quiet").wait(timeout=120) == 0
    spec_path.write_text(base + "data: {synthetic: {end: 2024-01-31}}\n"
                                "grid: {target: [10, 15]}\n")
    assert cli(spec_path, "--results-dir", tmp_path, "--quiet").wait(timeout=120) == 0
    spec_path.write_text(base + "data: {synthetic: {end: 2024-02-29}}\n"
                                "grid: {target: [10, 15]}\n")
    proc = cli(spec_path, "--results-dir", tmp_path, "--quiet")
    assert proc.wait(timeout=120) == 2
    err = proc.stderr.read()
    assert "the data (" in err and "--fresh" in err and "Traceback" not in err
    fresh = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--fresh")
    assert fresh.wait(timeout=120) == 0


def rows_always_failing(*args):
    raise RuntimeError("always")


def test_cli_exit_code_1_when_a_combo_fails(tmp_path, capsys):
    from research.cli.sweep import main

    spec_path = tmp_path / "f.yaml"
    spec_path.write_text("name: f\nbase: {instrument: ES}\ngrid: {target: [10, 15]}\n"
                         "data: {synthetic: {end: 2024-01-31}}\n")
    assert main([str(spec_path), "--results-dir", str(tmp_path), "--quiet",
                 "--backend", "sequential"], stages=Stages(rows=rows_always_failing)) == 1
    assert "2 combo(s) failed" in capsys.readouterr().err


def exits_failing_on_2024_03_18(bars, table, entries, rules, as_of_ns):
    if 19_800 in table.trading_day:  # 2024-03-18
        raise ValueError("bad bar data")
    return execute_trades(bars, table, entries, rules, as_of_ns)


def test_a_failing_range_is_named_in_the_manifest(tmp_path):
    spec = small_spec(name="named", target=[10, 15])
    sweep = run(spec, tmp_path, "named", backend="sequential", max_cpus=2, batch_size=100,
                stages=Stages(exits=exits_failing_on_2024_03_18))
    assert sweep.manifest["budget"]["threads"] == 2
    assert len(sweep.failed) == 2
    assert all("range 2024-03-18 S1 07:30" in f["error"] and "bad bar data" in f["error"]
               for f in sweep.failed)


@pytest.mark.parametrize(("options", "message"), [
    ({"backend": "bogus"}, r"^parallel\.backend: 'bogus' is not one of \('loky', 'sequential', "
                           r"'dask'\)$"),
    ({"max_cpus": 0}, r"^parallel\.max_cpus: 0 is not 'auto', null or an int >= 1"),
    ({"max_cpus": "many"}, r"^parallel\.max_cpus: 'many' is not 'auto', null or an int >= 1"),
])
def test_runner_rejects_bad_parallel_settings_up_front(options, message):
    from research.errors import SpecError

    with pytest.raises(SpecError, match=message):
        ResearchRunner(**options)


def test_runner_without_data_is_a_clear_error(tmp_path):
    from research.errors import SpecError

    with pytest.raises(SpecError, match=r"^data: missing; give ResearchRunner\(data=\.\.\.\) or "
                                        r"a spec with data$"):
        ResearchRunner(results_dir=tmp_path, progress=False).run(
            grid={"target": [10]}, base={"instrument": "ES"})


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_a_rerun_continues(crash_spec_and_clean_run, tmp_path):
    spec_path, clean = crash_spec_and_clean_run
    # SIGINT must reach the CLI even when this test runs with SIGINT ignored (background).
    proc = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--max-cpus", 2,
               "--batch-size", 8, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_for_first_shard(tmp_path / "crash", proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    folder = tmp_path / "crash"
    # 168 combos in 21 tasks of 8: the signal lands mid-sweep, so only 130 will do
    assert proc.returncode == 130, err
    assert err == ("interrupted: finished combos are kept; run the same command again to "
                   "continue\n")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and not manifest.get("failures")
    assert "combos_ok" not in manifest
    rerun = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--max-cpus", 2)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert digests(folder) == digests(clean.path)
