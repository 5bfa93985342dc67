"""ResearchRunner: a spec -> its bars and plan -> tasks on a backend -> the store -> compaction.

`grid.py` says what to run, `plan.py` how it is cut, `worker.py` what one task does and
`parallel/backends.py` where it runs; this module puts them together. The parent process
is the only writer of the results folder (`store.py`).
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from research.analysis import AnalysisConfig, AnalysisError, analyze_folder
from research.checks import check_runner_arguments
from research.compaction import Compaction, find_sources
from research.engine.bars import Bars
from research.engine.fills import fill_check
from research.engine.inputs import BarsInput, to_bars
from research.engine.pipeline import ENGINE_STAGES, Stages
from research.engine.ranges import weekday_trading_days
from research.engine.synthetic import synthetic_bars
from research.errors import ResearchError, SpecError
from research.grid import (
    SweepSpec,
    build_spec,
    check_grid_size,
    check_max_combos,
    check_store_trades,
)
from research.lock import hold
from research.outputs import Sweep
from research.parallel.backends import run_tasks
from research.parallel.settings import ParallelSpec
from research.plan import Plan
from research.provenance import data_facts, environment, explain_change, trusted_facts
from research.report import write_heatmaps
from research.store import StoreWriteError, SweepStore
from research.worker import failure_record, run_task

logger = logging.getLogger(__name__)
T = TypeVar("T")


PLAN_CHUNK = 50_000  # combos planned and run at a time: a huge grid is never held whole


@dataclass(slots=True)
class _GridRun:
    """What the chunks of one sweep did, added up."""

    failures: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    combos_run: int = 0

    def add(self, plan: Plan, failures: list[dict[str, Any]], timings: dict[str, float]) -> None:
        self.failures.extend(failures)
        self.combos_run += sum(len(task.combos) for task in plan.tasks)
        for name, seconds in timings.items():
            self.timings[name] = self.timings.get(name, 0.0) + seconds


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class ResearchRunner:
    """Runs sweeps over one data set.

    `max_combos` allows a grid larger than the spec's limit (grid.DEFAULT_MAX_COMBOS).
    `max_cpus`, `backend` and `scheduler` override the spec's ``parallel:`` section where
    given (see ParallelSpec), `store_trades` ("all" or "none") the spec's. `keep_shards`
    keeps the shards after compaction. `analysis=False` skips the robustness analysis
    (the spec's ``analysis: {enabled: false}`` too). `stages` swaps engine stages, a seam
    for tests.

    >>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-03-31"))
    >>> runner.plan_chunk  # combos planned and run at a time
    50000
    >>> sweep = runner.run(grid={"target": [10, 15]}, base={"instrument": "ES"}, name="demo")
    >>> sweep.summary[["target", "total_profit"]]  # doctest: +SKIP
    """

    plan_chunk = PLAN_CHUNK

    def __init__(self, data: BarsInput | None = None, results_dir: str | Path = "results",
                 max_cpus: int | str | None = None, backend: str | None = None,
                 progress: bool = True, scheduler: str | None = None,
                 batch_size: int | None = None, stages: Stages = ENGINE_STAGES,
                 store_trades: str | None = None, keep_shards: bool = False,
                 analysis: bool = True, max_combos: int | None = None) -> None:
        check_runner_arguments(data=data, results_dir=results_dir, progress=progress,
                               keep_shards=keep_shards)
        self.parallel = ParallelSpec(backend=backend, max_cpus=max_cpus, scheduler=scheduler,
                                     batch_size=batch_size)
        self.store_trades = check_store_trades(store_trades)
        self.keep_shards = keep_shards
        self.analysis = analysis
        self.max_combos = check_max_combos(max_combos)
        self.data = data
        self.results_dir = Path(results_dir)
        self.progress = progress
        self.stages = stages

    def run(self, grid: Mapping[str, Sequence[Any]] | None = None,
            base: Mapping[str, Any] | None = None, name: str | None = None, *,
            fresh: bool = False) -> Sweep:
        """Expand `grid` over `base` and run every combo on this runner's data."""
        return self.run_spec(build_spec(grid or {}, base, name), fresh=fresh)

    def run_spec(self, spec: SweepSpec, *, fresh: bool = False) -> Sweep:
        """Run a validated spec; finished combos of an earlier run are reused (the same
        data and engine: see SweepStore.prepare), so a grown grid runs only its new combos."""
        started = time.perf_counter()
        settings = self.parallel.over(spec.parallel).resolved()
        check_grid_size(spec, self.max_combos)
        store = SweepStore(self.results_dir / spec.name)
        try:
            with hold(store.root):  # one writer per results folder
                return self._run_locked(spec, store, settings, fresh, started)
        except OSError as exc:  # the store's own writes: not any combo's fault
            error = StoreWriteError.from_os_error(exc, store.root)
            with suppress(OSError):
                store.release_reserve()  # the disk may be full: room for the last word
                store.update_manifest(status="failed", reason=str(error))
            raise error from exc

    def _run_locked(self, spec: SweepSpec, store: SweepStore, settings: ParallelSpec,
                    fresh: bool, started: float) -> Sweep:
        store_trades = (self.store_trades or spec.store_trades) == "all"
        if len(spec.axes) >= 2:  # there will be heatmaps to draw at the end
            _preload_matplotlib()
        bars = self._bars(spec, spec.base["instrument"])
        store.prepare(trusted_facts(bars), self._manifest(spec, bars, spec.size),
                      fresh=fresh, explain=explain_change)
        dates = weekday_trading_days(bars)
        done = _reusable(store, dates, store_trades)
        logger.info("%s: %d combos, %d finished earlier", spec.name, spec.size, len(done))
        try:
            run = self._run_grid(spec, bars, dates, done, store, settings, store_trades)
            compact_started = time.perf_counter()
            heatmaps = self._compact(spec, store, dates, store_trades)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (errors.Terminated)
            store.update_manifest(status="interrupted")
            raise
        except ResearchError as exc:  # bad input found late, e.g. an unreachable scheduler
            store.update_manifest(status="failed", reason=str(exc))
            raise
        timings = {"total_s": round(time.perf_counter() - started, 3),
                   "compact_s": round(time.perf_counter() - compact_started, 3),
                   **{name: round(seconds, 3) for name, seconds in run.timings.items()}}
        store.update_manifest(
            status="complete" if not run.failures else "failed",
            combos_ok=spec.size - len(run.failures), combos_failed=len(run.failures),
            combos_run=run.combos_run, failures=run.failures, heatmaps=heatmaps,
            store_trades=store_trades, timings=timings)
        if spec.analysis.enabled and self.analysis:
            store.update_manifest(analysis=_analyze(store, spec.analysis))
        return Sweep(store.root)

    # -- how to run it --

    def _run_grid(self, spec: SweepSpec, bars: Bars, dates: np.ndarray, done: set[str],
                  store: SweepStore, settings: ParallelSpec, store_trades: bool) -> _GridRun:
        """Every combo not `done`, planned and run PLAN_CHUNK combos at a time: the grid is
        streamed, never held whole."""
        run = _GridRun()
        with self._progress(spec.size, 0) as bar:
            for chunk in _chunks(spec.iter_combos(), self.plan_chunk):
                todo = [rp for rp in chunk if rp.combo_id not in done]
                bar.update(len(chunk) - len(todo))
                plan = Plan.for_combos(todo, settings.budget, settings.batch_size,
                                       n_dates=len(dates))
                failures, timings = self._run_parallel_strategy(bars, plan, store, settings,
                                                                store_trades, bar)
                run.add(plan, failures, timings)
        return run

    def _run_parallel_strategy(self, bars: Bars, plan: Plan, store: SweepStore,
                               settings: ParallelSpec, store_trades: bool, bar: Any,
                               ) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """Fan the plan's tasks out on the backend (DESIGN §4); publish each result.

        A task that fails as a whole (its worker died, the cluster lost it) marks the
        combos still pending as failed, for a re-run to retry. A store write that fails
        is not a combo's fault: it propagates and stops the sweep.
        """
        store.update_manifest(parallel=settings.to_dict(),
                              budget={"max_cpus": settings.budget, "backend": settings.backend,
                                      **plan.to_dict()})
        failures: list[dict[str, Any]] = []
        pending = {task.task_id: task for task in plan.tasks}
        timings = {"engine_s": 0.0, "store_s": 0.0}
        execute_started = time.perf_counter()
        results = run_tasks(run_task, bars, plan.tasks,
                            (bars.last_ts_ns, plan.threads, self.stages, store_trades),
                            settings, plan.processes)
        with closing(results):
            while pending:
                try:
                    result = next(results)
                except StopIteration:
                    break
                except (KeyboardInterrupt, ResearchError):
                    raise
                except Exception as exc:  # noqa: BLE001 - a dead worker: its combos failed
                    logger.error("workers failed: %s", exc)
                    failures.extend(failure_record(rp, exc) for task in pending.values()
                                    for rp in task.combos)
                    break
                store_started = time.perf_counter()
                store.write_task(result.task_id, result.summaries, result.trades, result.daily)
                timings["store_s"] += time.perf_counter() - store_started
                timings["engine_s"] += result.engine_seconds
                failures.extend(result.failures)
                del pending[result.task_id]
                bar.update(len(result.summaries) + len(result.failures))
        timings["execute_s"] = time.perf_counter() - execute_started
        return failures, timings

    def _compact(self, spec: SweepSpec, store: SweepStore, dates: np.ndarray,
                 store_trades: bool) -> list[str]:
        """The compacted files, then the shards go. Heatmaps (matplotlib, holds the GIL)
        are drawn while the rows are compacted (pyarrow, does not); returns their names."""
        grid = ((rp.combo_id, values) for rp, values in spec.iter_grid())
        compaction = Compaction.of(store, grid, spec.param_columns(), dates,
                                   store_trades=store_trades)
        summary = compaction.write_summary()
        with ThreadPoolExecutor(1, thread_name_prefix="research-heatmaps") as pool:
            heatmaps = pool.submit(write_heatmaps, summary, spec.axes, store.root)
            compaction.write_rows()
            names = [path.name for path in heatmaps.result()]
        if not self.keep_shards:
            store.remove_shards()
        return names

    # -- inputs --

    def _bars(self, spec: SweepSpec, instrument: str) -> Bars:
        """The one input path (engine.inputs.to_bars) for the runner's data or the spec's."""
        if self.data is not None:
            return to_bars(self.data, instrument)
        if spec.data is None:
            raise SpecError("data: missing; give ResearchRunner(data=...) or a spec with data")
        if spec.data.synthetic is not None:
            return to_bars(synthetic_bars(**spec.data.synthetic_kwargs()), instrument)
        return to_bars(spec.data.path, instrument, load_options=spec.data.load_kwargs())

    def _manifest(self, spec: SweepSpec, bars: Bars, n_combos: int) -> dict[str, Any]:
        # the trusted facts (data fingerprint, engine version, layout) are added by prepare
        return {**environment(), "spec": spec.to_dict(), "source": spec.source,
                "grid_size": n_combos, "data": data_facts(bars),
                "fills": fill_check(bars).to_dict()}

    def _progress(self, total: int, initial: int):
        from tqdm import tqdm

        enabled = self.progress and sys.stderr.isatty()
        return tqdm(total=total, initial=initial, unit="combo", disable=not enabled,
                    file=sys.stderr, dynamic_ncols=True)


def _analyze(store: SweepStore, config: AnalysisConfig) -> dict[str, Any]:
    """The robustness analysis of the finished sweep (research.analysis), written beside
    its results; a sweep it cannot analyse (one combo, too few dates) says why instead."""
    started = time.perf_counter()
    try:
        result = analyze_folder(store.root, config)
    except AnalysisError as exc:
        logger.warning("robustness analysis skipped: %s", exc)
        return {"status": "skipped", "reason": str(exc)}
    return {"status": "done", "verdict": result.verdict,
            "seconds": round(time.perf_counter() - started, 3)}


def _reusable(store: SweepStore, dates: np.ndarray, store_trades: bool) -> set[str]:
    """The finished combos a resumed sweep may skip. A shard whose files disagree (truncated,
    empty, deleted or swapped: its footers say so) is discarded, said in one line, and its
    combos run again; so are combos the compacted files do not hold whole."""
    sources = find_sources(store, dates, with_trades=store_trades)
    for name, problem in sources.problems.items():
        where = store.root if name == "compacted" else store.shards / name
        logger.warning("%s: %s; its combos will be computed again", where, problem)
        if name != "compacted":
            store.discard_task(name)
    return {combo for source in sources.usable if source.name not in sources.problems
            or source.name == "compacted" for combo in source.combos()}


def _preload_matplotlib() -> None:
    """Import matplotlib on a background thread while the sweep runs: its ~0.5-1 s of imports
    then overlap the GIL-free kernels instead of delaying the heatmaps at the end."""
    def load() -> None:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401

    threading.Thread(target=load, name="research-preload", daemon=True).start()
