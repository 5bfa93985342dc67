"""Every core pays (issue 23): workers started while the data loads, the bars shared once,
one backend session per sweep, shard footers read once, a plan never slower than one worker.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

import research.plan as plan_module
import research.research_runner as runner_module
import research.results.compaction as compaction_module
from research.engine.params import RunParams
from research.engine.ranges import weekday_trading_days
from research.parallel.backends import Session
from research.plan import SECOND_THREAD_MIN_RANGES, Plan, early_processes
from research.research_runner import ResearchRunner
from research.shared_bars import PREFIX
from research.spec.prepared import PreparedSweep, sweep_bars
from tests.helpers import digests, loky_workers, small_spec


def run(spec, path, runner=ResearchRunner, **options):
    options = {"progress": False, "analysis": False, "report": False, **options}
    return runner(results_dir=path, **options).run_spec(spec)


class SmallChunks(ResearchRunner):
    plan_chunk = 5  # the 16-combo grid in 4 chunks


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The small spec run in-process, sequentially, one combo per task."""
    return run(small_spec(), tmp_path_factory.mktemp("reference"), backend="sequential",
               batch_size=1)


def bars_folders() -> set[str]:
    roots = [Path("/dev/shm"), Path(os.environ.get("TMPDIR", "/tmp"))]
    return {str(p) for root in roots if root.is_dir() for p in root.glob(PREFIX + "*")}


# ---- the plan ----

def test_the_issue_grid_at_two_cpus_plans_one_worker_not_a_slower_split():
    # 168 combos (4 slots x 7 targets x 3 T1 x 2 stop caps) of one slot each, one year:
    # 1 process x 2 threads measured 0.43-0.50 s against 0.27-0.31 s on one thread
    combos = [RunParams(instrument="ES", target=10 + t, t1_fraction=f, stop_cap_multiple=c,
                        enabled_sessions=("S2",), enabled_slots=(("S2", (slot,)),))
              for slot in ("09:30", "10:00", "10:30", "11:00") for t in range(7)
              for f in (0.5, 0.65, 0.8) for c in (1.0, 2.0)]
    plan = Plan.for_combos(combos, budget=2, n_dates=262)
    assert (plan.processes, plan.threads, plan.work) == (1, 1, 168 * 262)
    assert "one process" in plan.split and "one thread" in plan.split
    # a task's range table at the measured threshold gets the second thread
    wide = Plan.for_combos(combos[:1], budget=2, n_dates=SECOND_THREAD_MIN_RANGES)
    assert (wide.processes, wide.threads) == (1, 2)


def test_the_manifest_records_the_plan_and_its_thresholds(tmp_path):
    sweep = run(small_spec(), tmp_path, max_cpus=2)
    budget = sweep.manifest["budget"]
    assert budget["second_process_min_work"] == plan_module.SECOND_PROCESS_MIN_WORK
    assert budget["second_thread_min_ranges"] == SECOND_THREAD_MIN_RANGES
    dates = len(weekday_trading_days(sweep_bars(small_spec())))  # 43 weekdays, one slot a combo
    assert budget["work"] == 16 * dates
    assert (budget["processes"], budget["threads"]) == (1, 1)
    assert budget["split"].startswith("one process")


def test_workers_are_started_early_only_when_the_plan_will_want_them():
    assert early_processes(16, 1, 43, budget=2) == 1  # 688 combos x ranges: one process
    assert early_processes(20_160, 1, 262, budget=4) == 4
    assert early_processes(20_160, 1, None, budget=1) == 1  # a budget of one: none


# ---- start-up off the critical path ----

@pytest.mark.slow
def test_workers_started_before_the_data_loads_give_the_same_bytes(reference, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(plan_module, "SECOND_PROCESS_MIN_WORK", 1)  # 2 processes, early
    events: list[str] = []
    start, load = Session.start_workers, PreparedSweep.load.__func__
    shared = Counter()
    real_shared = runner_module.shared_bars

    def spy_start(self, *args, **kwargs):
        events.append("start workers")
        return start(self, *args, **kwargs)

    def spy_load(cls, *args, **kwargs):
        events.append("load data")
        return load(cls, *args, **kwargs)

    def spy_shared(bars, name="bars"):
        shared[name] += 1
        return real_shared(bars, name)

    monkeypatch.setattr(Session, "start_workers", spy_start)
    monkeypatch.setattr(PreparedSweep, "load", classmethod(spy_load))
    monkeypatch.setattr(runner_module, "shared_bars", spy_shared)
    before = bars_folders()
    sweep = run(small_spec(), tmp_path, runner=SmallChunks, max_cpus=2)
    assert events == ["start workers", "load data"]
    assert digests(sweep.path) == digests(reference.path)
    assert sweep.manifest["budget"]["processes"] == 2
    assert shared == {"warm-up": 1, "bars": 1}  # the bars written once for the 4 chunks
    assert bars_folders() <= before  # the temporary files are gone
    assert loky_workers(os.getpid()) == []  # and the workers


# ---- one backend session per sweep ----

@pytest.mark.slow
def test_one_dask_cluster_and_client_for_every_chunk(reference, tmp_path):
    pytest.importorskip("distributed")
    from research.parallel.dask_backend import DaskSession

    before = dict(DaskSession.started)
    sweep = run(small_spec(), tmp_path, runner=SmallChunks, backend="dask", max_cpus=2,
                batch_size=2)
    assert sweep.manifest["combos_run"] == 16  # 4 chunks
    assert DaskSession.started["clusters"] - before["clusters"] == 1
    assert DaskSession.started["clients"] - before["clients"] == 1
    assert digests(sweep.path) == digests(reference.path)


def test_a_sequential_session_serves_every_chunk():
    from research.parallel.settings import ParallelSpec

    with Session(ParallelSpec(backend="sequential").resolved(), 10) as session:
        chunks = [sorted(session.results(pow, tasks, (), 1)) for tasks in ([1, 2], [3])]
    assert chunks == [[10, 100], [1000]]


# ---- shard footers read once ----

def test_shard_footers_are_read_once_per_sweep(tmp_path, monkeypatch):
    """A grown grid resumes from kept shards: each old shard is listed once (resume and
    compaction share the listing), each shard written in this run never."""
    first = small_spec(target=[10], slot=["07:30", "10:00"])
    run(first, tmp_path, backend="sequential", batch_size=1, keep_shards=True)
    shards = tmp_path / first.name / "shards"
    old = {p.name.split(".")[0] for p in shards.iterdir()}
    assert len(old) == 2

    listed: Counter = Counter()
    real_source = compaction_module._source

    def spy_source(name, *args, **kwargs):
        listed[name] += 1
        return real_source(name, *args, **kwargs)

    checks: list[bool] = []
    real_check = compaction_module._changed_outputs

    def spy_check(*args, **kwargs):
        checks.append(True)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(compaction_module, "_source", spy_source)
    monkeypatch.setattr(compaction_module, "_changed_outputs", spy_check)
    grown = small_spec(target=[10, 15], slot=["07:30", "10:00"])
    sweep = run(grown, tmp_path, backend="sequential", batch_size=1, keep_shards=True)
    assert sweep.manifest["combos_run"] == 2
    new = {p.name.split(".")[0] for p in shards.iterdir()} - old
    assert len(new) == 2
    # the old shards and the last compacted files once each; the new shards never
    assert listed == {**{name: 1 for name in old}, "compacted": 1}
    assert len(checks) == 1  # the compacted files hashed against the manifest once
    fresh = run(grown, tmp_path / "fresh", backend="sequential", batch_size=1)
    assert digests(sweep.path) == digests(fresh.path)


@pytest.mark.slow
def test_the_bars_file_goes_even_when_its_process_is_killed(tmp_path):
    """SIGKILL runs no cleanup: loky's resource tracker removes the folder (as joblib's)."""
    import signal
    import subprocess
    import sys
    import time

    script = ("import sys, time\n"
              "from research.shared_bars import shared_bars, warm_up_bars\n"
              "with shared_bars(warm_up_bars()) as handle:\n"
              "    print(handle.path, flush=True)\n"
              "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            cwd=Path(__file__).parents[2])
    path = Path(proc.stdout.readline().decode().strip())
    assert path.is_file()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    while path.parent.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not path.parent.exists()
