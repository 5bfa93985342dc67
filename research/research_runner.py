"""ResearchRunner: grid -> plan -> execute on joblib workers -> store.

`grid.py` says what to run; this module decides how (tasks, processes x threads) and runs
it; `store.py` writes. Each task is a batch of combos that share ranges and entries, so
those are computed once per task and reused for every exit setting (DESIGN §3).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from research.engine.bars import ARRAY_FIELDS, Bars
from research.engine.data import bars_fingerprint, describe_bars, load_bars, prepare_bars
from research.engine.entry import EntryTable, detect_entries
from research.engine.execution import ExitRules, TradeBatch, execute_trades
from research.engine.params import RunParams
from research.engine.ranges import RangeTable, build_slot_ranges
from research.engine.results import categorize_text, trades_frame
from research.engine.synthetic import synthetic_bars
from research.errors import ResearchError, SpecError
from research.grid import ParallelSpec, SweepSpec, build_spec
from research.metrics import combo_metrics
from research.parallel.budget import resolve_budget, split_budget
from research.parallel.processor import ParallelProcessor
from research.report import write_heatmaps
from research.store import (
    MANIFEST,
    SUMMARY,
    TRADES,
    TRADES_SCHEMA,
    SweepStore,
    manifest_base,
    parquet_bytes,
    task_id_for,
    to_table,
)

logger = logging.getLogger(__name__)
TASKS_PER_PROCESS = 4  # a few tasks per process keeps the processes evenly loaded
# The fields that decide ranges and entries; combos equal on these share both.
SHARED_STAGE_FIELDS = ("enabled_sessions", "enabled_slots", "trade_days", "market_close",
                       "target_mode")


# ---- plan ----

@dataclass(frozen=True, slots=True)
class Task:
    """A batch of combos that share their ranges and entries."""

    task_id: str
    combos: tuple[RunParams, ...]


def shared_stage_key(rp: RunParams) -> tuple:
    return tuple(getattr(rp, name) for name in SHARED_STAGE_FIELDS)


def plan_tasks(combos: Sequence[RunParams], processes: int,
               batch_size: int | None = None) -> list[Task]:
    """Group combos by their shared stages, then cut each group into batches.

    The batch size only changes how work is spread, never the results.
    """
    if batch_size is None:
        batch_size = max(1, math.ceil(len(combos) / (processes * TASKS_PER_PROCESS)))
    groups: dict[tuple, list[RunParams]] = {}
    for rp in combos:
        groups.setdefault(shared_stage_key(rp), []).append(rp)
    tasks = []
    for members in groups.values():
        for start in range(0, len(members), batch_size):
            batch = tuple(members[start:start + batch_size])
            tasks.append(Task(task_id_for(rp.combo_id for rp in batch), batch))
    return tasks


# ---- execute (inside a worker) ----

@dataclass(frozen=True, slots=True)
class TaskResult:
    task_id: str
    trades: bytes  # parquet_bytes of a TRADES_SCHEMA table: encoded here, in the worker
    summaries: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    engine_seconds: float
    worker: dict[str, Any] = field(default_factory=dict)


def run_task(bars: Bars, task: Task, as_of_ns: int, threads: int) -> TaskResult:
    """Run one task's combos; a combo that raises is recorded, the others go on."""
    started = time.perf_counter()
    processor = ParallelProcessor(max_workers=threads)
    frames, summaries, failures = [], [], []
    combos = task.combos
    try:  # the stages every combo of the task shares (they share their key)
        table = build_slot_ranges(bars, combos[0],
                                  map_parts=lambda fn, parts: processor.map(parts, fn))
        entries = EntryTable.concat(
            processor.process(table, lambda part: detect_entries(bars, part)))
    except Exception as exc:  # noqa: BLE001 - every combo of the task fails alike
        failures, combos = [_failure(rp, exc) for rp in combos], ()
    for rp in combos:
        try:
            batch = _execute(processor, bars, table, entries, rp, as_of_ns)
            frame = trades_frame(bars, table, batch, rp)
            summaries.append({"combo_id": rp.combo_id, **combo_metrics(frame)})
            frame.insert(0, "combo_id", rp.combo_id)
            frames.append(frame)
        except Exception as exc:  # noqa: BLE001 - recorded in the manifest
            failures.append(_failure(rp, exc))
    trades = parquet_bytes(to_table(pd.concat(frames, ignore_index=True), TRADES_SCHEMA)
                           if frames else TRADES_SCHEMA.empty_table())
    worker = {"pid": os.getpid(), "threads": threads,
              "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
              "bars_array_type": type(bars.ts_ns).__name__}  # memmap: shared, not copied
    return TaskResult(task.task_id, trades, summaries, failures,
                      time.perf_counter() - started, worker)


@dataclass(frozen=True, slots=True)
class _RangesWithEntries(Sequence):
    """A RangeTable and its entries sliced together; items are SlotRanges, so an error in
    a slice is reported with the range's label."""

    table: RangeTable
    entries: EntryTable

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return _RangesWithEntries(self.table[index], self.entries[index])
        return self.table[index]

    @property
    def work_estimates(self) -> Any:
        return self.table.work_estimates


def _execute(processor: ParallelProcessor, bars: Bars, table: RangeTable, entries: EntryTable,
             rp: RunParams, as_of_ns: int) -> TradeBatch:
    rules = ExitRules.from_params(rp)
    parts = processor.process(
        _RangesWithEntries(table, entries),
        lambda part: execute_trades(bars, part.table, part.entries, rules, as_of_ns))
    return TradeBatch.concat(parts)


def _import_engine() -> int:
    """A worker's warm-up before its first task: the imports, and the compiled kernels
    loaded from numba's cache for read-only bars, the way tasks receive them (memmaps)."""
    from research.engine.data import prepare_bars
    from research.engine.synthetic import synthetic_bars

    bars = prepare_bars(synthetic_bars("ES", "2024-01-02", "2024-01-03", seed=0), "ES")
    for name in ARRAY_FIELDS:
        getattr(bars, name).setflags(write=False)
    run_task(bars, Task("warm-up", (RunParams(instrument="ES"),)), bars.last_ts_ns, threads=1)
    return os.getpid()


def _failure(rp: RunParams, exc: BaseException) -> dict[str, Any]:
    return {"combo_id": rp.combo_id, "params": rp.to_dict(),
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(exc))}


# ---- the runner ----

@dataclass(frozen=True, slots=True)
class Sweep:
    """A finished (or partly finished) sweep on disk."""

    path: Path

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / MANIFEST).read_text())

    @property
    def summary(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / SUMMARY)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return self.manifest.get("failures", [])

    def trades(self, combo_id: str | None = None) -> pd.DataFrame:
        filters = None if combo_id is None else [("combo_id", "==", combo_id)]
        return categorize_text(pd.read_parquet(self.path / TRADES, filters=filters))


class ResearchRunner:
    """Runs sweeps over one data set.

    >>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-03-31"))
    >>> sweep = runner.run(grid={"target": [10, 15]}, base={"instrument": "ES"}, name="demo")
    >>> sweep.summary[["target", "total_profit"]]  # doctest: +SKIP
    """

    def __init__(self, data: pd.DataFrame | Bars | str | Path | None = None,
                 results_dir: str | Path = "results", max_cpus: int | str | None = None,
                 backend: str = "loky", progress: bool = True, scheduler: str | None = None,
                 batch_size: int | None = None) -> None:
        parallel = ParallelSpec(backend=backend, max_cpus=max_cpus, scheduler=scheduler)
        self.data = data
        self.results_dir = Path(results_dir)
        self.max_cpus = parallel.max_cpus
        self.backend = parallel.backend
        self.scheduler = parallel.scheduler
        self.progress = progress
        self.batch_size = batch_size

    def run(self, grid: Mapping[str, Sequence[Any]] | None = None,
            base: Mapping[str, Any] | None = None, name: str | None = None, *,
            fresh: bool = False) -> Sweep:
        """Expand `grid` over `base` and run every combo on this runner's data."""
        parallel = ParallelSpec(backend=self.backend, max_cpus=self.max_cpus,
                                scheduler=self.scheduler)
        return self.run_spec(build_spec(grid or {}, base, name, parallel), fresh=fresh)

    def run_spec(self, spec: SweepSpec, *, fresh: bool = False) -> Sweep:
        """Run a validated spec; finished combos of an earlier run of it are skipped."""
        started = time.perf_counter()
        combos = list({rp.combo_id: rp for rp in spec.combos()}.values())
        store = SweepStore(self.results_dir / spec.name)
        # Only a new sweep surely has everything to do; a resumed one plans after reading.
        new_sweep = fresh or not (store.root / MANIFEST).exists()
        warm_up = self._warm_up(combos if new_sweep else [])
        bars = self._bars(spec, combos[0].instrument)
        store.prepare(spec.spec_hash, bars_fingerprint(bars),
                      self._manifest(spec, bars, len(combos)), fresh=fresh)
        done = store.finished()
        todo = [rp for rp in combos if rp.combo_id not in done]
        logger.info("%s: %d combos, %d already done", spec.name, len(combos),
                    len(combos) - len(todo))
        warm_up.join()
        failures, timings = self._run_parallel_strategy(bars, todo, store, total=len(combos))
        compact_started = time.perf_counter()
        summary, where = store.compact_summary(combos, spec)
        # Heatmaps (matplotlib, holds the GIL) overlap the trades compaction (pyarrow, not).
        with ThreadPoolExecutor(1, thread_name_prefix="research-heatmaps") as pool:
            heatmaps = pool.submit(write_heatmaps, summary, spec.axes, store.root)
            store.compact_trades(where)
            heatmaps = heatmaps.result()
        store.update_manifest(
            status="complete" if not failures else "failed",
            combos_ok=len(combos) - len(failures), combos_failed=len(failures),
            failures=failures, heatmaps=[path.name for path in heatmaps],
            timings={"total_s": round(time.perf_counter() - started, 3),
                     "compact_s": round(time.perf_counter() - compact_started, 3),
                     **timings})
        return Sweep(store.root)

    # -- how to run it --

    def _warm_up(self, todo: Sequence[RunParams]) -> threading.Thread:
        """Start the worker processes and import matplotlib while the parent loads data.

        Both are otherwise paid on the critical path: loky workers spawn and import the
        engine when the first task arrives, and heatmaps import matplotlib at the end.
        """
        processes = self._plan(todo)[1]

        def warm() -> None:
            if self.backend == "loky" and processes > 1:
                with self._parallel_config():
                    joblib.Parallel(n_jobs=processes)(
                        joblib.delayed(_import_engine)() for _ in range(processes))
            import matplotlib.figure  # noqa: F401

        thread = threading.Thread(target=warm, name="research-warm-up", daemon=True)
        thread.start()
        return thread

    def _run_parallel_strategy(self, bars: Bars, todo: Sequence[RunParams], store: SweepStore,
                               total: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """Fan the combos out: processes x threads within the CPU budget (DESIGN §4).

        Returns the failed combos and the seconds spent in the engine, the store and in all.
        """
        tasks, processes, threads = self._plan(todo)
        store.update_manifest(budget={"max_cpus": resolve_budget(self.max_cpus),
                                      "processes": processes,
                                      "threads": threads, "tasks": len(tasks),
                                      "backend": self.backend})
        as_of_ns = bars.last_ts_ns
        failures: list[dict[str, Any]] = []
        pending = {task.task_id: task for task in tasks}
        timings = {"engine_s": 0.0, "store_s": 0.0}
        execute_started = time.perf_counter()
        with self._progress(total, total - len(todo)) as bar:
            try:
                for result in self._results(bars, tasks, as_of_ns, processes, threads):
                    store_started = time.perf_counter()
                    store.write_task(result.task_id, result.trades, result.summaries)
                    failures.extend(result.failures)
                    timings["store_s"] += time.perf_counter() - store_started
                    timings["engine_s"] += result.engine_seconds
                    del pending[result.task_id]
                    bar.update(len(result.summaries) + len(result.failures))
            except KeyboardInterrupt:
                store.update_manifest(status="interrupted")
                raise
            except ResearchError:  # bad input (e.g. an unreachable scheduler): not a combo's fault
                store.update_manifest(status="failed")
                raise
            except Exception as exc:  # noqa: BLE001 - a dead worker: its combos are failed
                logger.error("workers failed: %s", exc)
                failures.extend(_failure(rp, exc) for task in pending.values()
                                for rp in task.combos)
        timings["execute_s"] = time.perf_counter() - execute_started
        return failures, {name: round(seconds, 3) for name, seconds in timings.items()}

    def _plan(self, todo: Sequence[RunParams]) -> tuple[list[Task], int, int]:
        """Tasks, processes and threads per process for the combos still to run."""
        budget = resolve_budget(self.max_cpus)
        processes, _ = split_budget(budget, max(1, len(todo)))
        tasks = plan_tasks(todo, processes, self.batch_size)
        processes, threads = split_budget(budget, max(1, len(tasks)))
        return tasks, processes, threads

    def _results(self, bars: Bars, tasks: list[Task], as_of_ns: int, processes: int,
                 threads: int) -> Iterator[TaskResult]:
        if not tasks:
            return
        if self.backend == "dask":
            from research.parallel.dask_backend import dask_results

            yield from dask_results(run_task, bars, tasks, (as_of_ns, threads),
                                    scheduler=self.scheduler, n_workers=processes)
            return
        calls = (joblib.delayed(run_task)(bars, task, as_of_ns, threads) for task in tasks)
        with self._parallel_config():
            yield from joblib.Parallel(n_jobs=processes, return_as="generator_unordered")(calls)

    def _parallel_config(self) -> joblib.parallel_config:
        if self.backend == "sequential":
            return joblib.parallel_config(backend="sequential")
        # Pin BLAS/OpenMP in workers: our own threads are the only inner parallelism.
        return joblib.parallel_config(backend="loky", inner_max_num_threads=1)

    # -- inputs --

    def _bars(self, spec: SweepSpec, instrument: str) -> Bars:
        data = self.data
        if data is None and spec.data is not None:
            if spec.data.synthetic is not None:
                data = synthetic_bars(**spec.data.synthetic_kwargs())
            else:
                data = load_bars(spec.data.path, **spec.data.load_kwargs())
        if data is None:
            raise SpecError("data: missing; give ResearchRunner(data=...) or a spec with data")
        if isinstance(data, Bars):
            return data
        if isinstance(data, (str, Path)):
            data = load_bars(data, instrument=instrument)
        return prepare_bars(data, instrument)

    def _manifest(self, spec: SweepSpec, bars: Bars, n_combos: int) -> dict[str, Any]:
        # spec_hash and data_fingerprint are added by SweepStore.prepare.
        return {**manifest_base(), "spec": spec.to_dict(), "source": spec.source,
                "grid_size": n_combos,
                "data": {"source": bars.source, "instrument": bars.instrument.symbol,
                         "rows": len(bars), "first_ts_ns": int(bars.ts_ns[0]),
                         "last_ts_ns": bars.last_ts_ns, **describe_bars(bars)}}

    def _progress(self, total: int, initial: int):
        from tqdm import tqdm

        enabled = self.progress and sys.stderr.isatty()
        return tqdm(total=total, initial=initial, unit="combo", disable=not enabled,
                    file=sys.stderr, dynamic_ncols=True)
