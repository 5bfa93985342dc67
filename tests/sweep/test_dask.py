"""The dask backend: same results as loky, survives a killed worker, fails fast and clearly.

Everything runs on loopback LocalClusters of 2 worker processes with one thread each.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow  # dask clusters: worker processes, seconds each to start
import dask  # noqa: E402  (installed with distributed)

from research.errors import ResearchError  # noqa: E402
from research.outputs import Sweep  # noqa: E402
from research.parallel.dask_backend import INSTALL_HINT, dask_results  # noqa: E402
from research.research_runner import ResearchRunner  # noqa: E402
from research.spec.grid import SweepSpec, load_spec  # noqa: E402

ROOT = Path(__file__).parents[2]
CI_SPEC = ROOT / "sweeps" / "ci.yaml"
BAD_ADDRESS = "tcp://127.0.0.1:1"  # nothing listens on port 1: refused at once
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MALLOC_TRIM_THRESHOLD_")
# Taken at import, before any cluster exists: a LocalCluster's nannies set these in the parent.
ORIGINAL_ENV = {name: os.environ.get(name) for name in THREAD_VARS}


def _restore_env() -> None:
    for name, value in ORIGINAL_ENV.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def _thread_env() -> Iterator[None]:
    """Give every test (and the tests after this module) the parent's own thread variables."""
    yield
    _restore_env()


def _local_cluster() -> distributed.LocalCluster:
    return distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, silence_logs=logging.ERROR)


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with _local_cluster() as local:
        yield local
    _restore_env()


@pytest.fixture(scope="module")
def spec() -> SweepSpec:
    return load_spec(CI_SPEC)


@pytest.fixture(scope="module")
def loky_sweep(spec: SweepSpec, tmp_path_factory: pytest.TempPathFactory) -> Sweep:
    """The reference: the CI sweep on loky."""
    runner = ResearchRunner(results_dir=tmp_path_factory.mktemp("loky"), backend="loky",
                            max_cpus=2, progress=False)
    return runner.run_spec(spec)


def _assert_same_outputs(sweep: Sweep, reference: Sweep) -> None:
    for name in ("summary.csv", "trades.parquet"):
        assert (sweep.path / name).read_bytes() == (reference.path / name).read_bytes(), name


def test_dask_matches_loky_byte_for_byte(cluster, spec, loky_sweep, tmp_path) -> None:
    runner = ResearchRunner(results_dir=tmp_path, backend="dask",
                            scheduler=cluster.scheduler_address, max_cpus=2, progress=False)
    sweep = runner.run_spec(spec)
    manifest = sweep.manifest
    assert manifest["status"] == "complete"
    assert manifest["budget"]["backend"] == "dask"
    _assert_same_outputs(sweep, loky_sweep)


def _identity(bars: object, task: int) -> tuple[int, int, int]:
    return os.getpid(), id(bars), task


def test_bars_reach_each_worker_once(cluster) -> None:
    """Every task on a worker sees the one scattered object, not a copy per task."""
    bars = bytes(1_000_000)  # large enough that joblib would otherwise ship it per call
    seen = list(dask_results(_identity, bars, list(range(12)), (),
                             scheduler=cluster.scheduler_address, n_workers=2))
    assert sorted(task for _, _, task in seen) == list(range(12))
    ids_per_worker: dict[int, set[int]] = {}
    for pid, ident, _ in seen:
        ids_per_worker.setdefault(pid, set()).add(ident)
    assert all(len(ids) == 1 for ids in ids_per_worker.values()), ids_per_worker


def test_local_cluster_when_no_scheduler(spec, loky_sweep, tmp_path) -> None:
    """No address: a LocalCluster of our own, closed after, the parent's variables restored."""
    before = {name: os.environ.get(name) for name in THREAD_VARS}
    runner = ResearchRunner(results_dir=tmp_path, backend="dask", max_cpus=2, progress=False)
    sweep = runner.run_spec(spec)
    _assert_same_outputs(sweep, loky_sweep)
    assert {name: os.environ.get(name) for name in THREAD_VARS} == before


class _KillOnce(distributed.WorkerPlugin):
    """SIGKILLs the first worker that starts a task, once (a marker file remembers)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key: str, start: str, finish: str, **kwargs: object) -> None:
        if finish == "executing" and not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize(("allowed_failures", "first_status"),
                         [(3, "complete"), (0, "failed")], ids=["retried", "failed"])
def test_killed_worker_is_survived(spec, loky_sweep, tmp_path, allowed_failures,
                                   first_status) -> None:
    """A worker SIGKILLed mid-task: its task is retried elsewhere (dask's default), or, past
    the scheduler's allowed failures, the sweep ends with those combos failed instead of
    hanging; either way a re-run completes and equals a clean run byte for byte."""
    marker = tmp_path / "killed"
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}), \
            _local_cluster() as local, distributed.Client(local, set_as_default=False) as client:
        pids = set(client.run(os.getpid).values())
        client.register_plugin(_KillOnce(str(marker)))
        runner = ResearchRunner(results_dir=tmp_path / "out", backend="dask",
                                scheduler=local.scheduler_address, max_cpus=2, progress=False,
                                batch_size=1)
        first = runner.run_spec(spec).manifest
        assert marker.exists() and int(marker.read_text()) in pids  # a worker died mid-task
        assert first["status"] == first_status
        assert first["combos_ok"] + first["combos_failed"] == first["grid_size"]  # none lost
        if first_status == "failed":
            assert "KilledWorker" in first["failures"][0]["error"]
        again = runner.run_spec(spec)  # resume: runs only what is not in a shard yet
    assert again.manifest["status"] == "complete"
    assert again.manifest["combos_ok"] == first["grid_size"]
    _assert_same_outputs(again, loky_sweep)


@pytest.mark.filterwarnings("ignore:.*tasks have been successfully executed:UserWarning")
@pytest.mark.filterwarnings("ignore:.*still being processed by the workers:UserWarning")
def test_closing_early_shuts_the_local_cluster_down() -> None:
    before = set(multiprocessing.active_children())
    results = dask_results(_identity, b"", list(range(8)), (), scheduler=None, n_workers=1)
    pid, _, _ = next(results)
    assert pid != os.getpid()  # one worker still gets the tasks (joblib runs n_jobs=1 inline)
    assert set(multiprocessing.active_children()) - before  # the cluster's worker process
    results.close()
    assert not set(multiprocessing.active_children()) - before


def test_bad_scheduler_fails_fast(spec, tmp_path) -> None:
    runner = ResearchRunner(results_dir=tmp_path, backend="dask", scheduler=BAD_ADDRESS,
                            max_cpus=2, progress=False)
    started = time.monotonic()
    with pytest.raises(ResearchError, match="tcp://127.0.0.1:1"):
        runner.run_spec(spec)
    assert time.monotonic() - started < 20


def test_bad_scheduler_cli_message(tmp_path) -> None:
    # how fast it fails is test_bad_scheduler_fails_fast's (in-process: no interpreter start)
    done = subprocess.run(
        [sys.executable, "-m", "research.cli.sweep", str(CI_SPEC), "--backend", "dask",
         "--scheduler", BAD_ADDRESS, "--results-dir", str(tmp_path), "--quiet"],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert BAD_ADDRESS in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_dask_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ResearchError) as info:
        next(dask_results(_identity, b"", [0], (), scheduler=None, n_workers=1))
    assert INSTALL_HINT in str(info.value)
    assert "pip install -e '.[dask]'" in str(info.value)
