"""ResearchRunner: a spec -> its bars and plan -> tasks on a backend -> the store -> compaction.

`grid.py` says what to run, `plan.py` how it is cut, `worker.py` what one task does and
`parallel/backends.py` where it runs; this module puts them together. The parent process
is the only writer of the results folder (`store.py`).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from research.analysis.config import AnalysisConfig
from research.engine.bars import Bars
from research.engine.clock import utc_to_chicago
from research.engine.fills import fill_check
from research.engine.inputs import BarsInput, to_bars
from research.engine.params import RunParams
from research.engine.pipeline import ENGINE_STAGES, Stages
from research.engine.ranges import weekday_trading_days
from research.engine.synthetic import synthetic_bars
from research.errors import ResearchError, SpecError
from research.outputs import Sweep
from research.parallel.backends import release_workers, run_tasks
from research.parallel.settings import ParallelSpec
from research.plan import Plan
from research.progress import Progress, RunFacts
from research.report import write_heatmaps, write_report
from research.results.compaction import Compaction, find_sources
from research.results.lock import hold
from research.results.provenance import data_facts, environment, explain_change, trusted_facts
from research.results.record import (
    begin_compaction,
    finish_compaction,
    record_report,
    retire_stale_analysis,
    set_step,
)
from research.results.store import StoreWriteError, SweepStore
from research.spec.arguments import check_runner_arguments
from research.spec.grid import (
    SweepSpec,
    build_spec,
    check_grid_size,
    check_max_combos,
    check_store_trades,
)
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
    plan: dict[str, int] = field(default_factory=dict)  # the chunks' plans in one
    # every combo's id in grid order (done or not), for compaction: ~60 bytes a combo, so
    # the grid's RunParams need not be built a second time
    combo_ids: list[str] = field(default_factory=list)

    def add(self, plan: Plan, failures: list[dict[str, Any]], timings: dict[str, float]) -> None:
        self.failures.extend(failures)
        self.combos_run += sum(len(task.combos) for task in plan.tasks)
        # the widest chunk's processes x threads (a small last chunk may run on fewer)
        tasks = self.plan.get("tasks", 0) + len(plan.tasks)
        if plan.processes >= self.plan.get("processes", 0):
            self.plan = plan.to_dict()
        self.plan["tasks"] = tasks
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
    (the spec's ``analysis: {enabled: false}`` too); `report=False` writes no report.html.
    `stages` swaps engine stages, a seam for tests.

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
                 analysis: bool = True, max_combos: int | None = None,
                 report: bool = True) -> None:
        check_runner_arguments(data=data, results_dir=results_dir, progress=progress,
                               keep_shards=keep_shards)
        self.parallel = ParallelSpec(backend=backend, max_cpus=max_cpus, scheduler=scheduler,
                                     batch_size=batch_size)
        self.store_trades = check_store_trades(store_trades)
        self.keep_shards = keep_shards
        self.analysis = analysis
        self.report = report
        self.max_combos = check_max_combos(max_combos)
        self.data = data
        self.results_dir = Path(results_dir)
        self.progress = progress
        self.stages = stages

    def run(self, grid: Mapping[str, Sequence[Any]] | None = None,
            base: Mapping[str, Any] | None = None, name: str | None = None, *,
            fresh: bool = False) -> Sweep:
        """Expand `grid` over `base` and run every combo on this runner's data; the results
        go to `results_dir`/`name` (a re-run continues there; `fresh` starts over).

        >>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-01-31"),
        ...                         progress=False)
        >>> sweep = runner.run(grid={"target": [10, 15], "t1_fraction": [0.5, 0.65]},
        ...                    base={"instrument": "ES"}, name="demo-grid")
        >>> len(sweep.summary), sweep.failed
        (4, [])
        """
        return self.run_spec(build_spec(grid or {}, base, name), fresh=fresh)

    def run_spec(self, spec: SweepSpec, *, fresh: bool = False) -> Sweep:
        """Run a validated spec (`grid.load_spec` reads a YAML file); finished combos of an
        earlier run are reused (the same data and engine: see SweepStore.prepare), so a
        grown grid runs only its new combos. With `progress`, the first line, a bar (or
        plain lines) and the counts go to stderr (research.progress).

        >>> from research.spec.grid import spec_from_dict
        >>> spec = spec_from_dict({"name": "demo-spec", "base": {"instrument": "ES"},
        ...     "grid": {"target": [10, 15]},
        ...     "data": {"synthetic": {"instrument": "ES", "start": "2024-01-01",
        ...                            "end": "2024-01-31"}}})
        >>> sweep = ResearchRunner(progress=False).run_spec(spec)
        >>> sweep.path.as_posix(), sweep.summary["target"].tolist()
        ('results/demo-spec', [10, 15])
        """
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
        store_trades = self._stores_trades(spec)
        progress = Progress(self.progress)  # research/progress.py: first line, bar, log lines
        bars = self._bars(spec, spec.base["instrument"], progress)
        store.prepare(trusted_facts(bars), self._manifest(spec, bars, spec.size),
                      fresh=fresh, explain=explain_change)
        dates = weekday_trading_days(bars)
        done = _reusable(store, dates, store_trades)
        logger.info("%s: %d combos, %d finished earlier", spec.name, spec.size, len(done))
        try:
            run = self._run_grid(spec, bars, dates, done, store, settings, store_trades,
                                 progress)
            compact_started = time.perf_counter()
            heatmaps = self._compact(spec, run.combo_ids, store, dates, store_trades, progress)
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
            store_trades=store_trades, timings=timings,
            budget={"max_cpus": settings.budget, "backend": settings.backend, **run.plan})
        set_step(store, "sweep", "complete" if not run.failures else "failed")
        if spec.analysis.enabled and self.analysis:
            set_step(store, "analysis", "running", analysis={"status": "running"})
            record = _analyze(store, spec.analysis)
            if record["status"] != "done":  # skipped: no analysis of these results exists
                retire_stale_analysis(store, record["reason"])
                set_step(store, "analysis", record["status"], analysis=record)
        else:  # an analysis of other results is never left beside these
            retire_stale_analysis(store, "not asked for (--no-analysis or analysis.enabled "
                                         "false); python -m research.cli.analyze runs it")
        if self.report:
            self._write_report(store)
        return Sweep(store.root)

    @staticmethod
    def _write_report(store: SweepStore) -> None:
        """report.html from the finished folder (issue 13). The results are already final:
        a report that fails is logged and recorded in the manifest (``report_error``; the
        next run's manifest starts without it), never fatal."""
        set_step(store, "report", "running")
        try:
            write_report(store.root)
        except Exception as exc:  # noqa: BLE001 - any bug in the page must not lose a sweep
            logger.error("report.html not written: %s: %s", type(exc).__name__, exc)
            with suppress(OSError, ResearchError):
                record_report(store, "failed", f"{type(exc).__name__}: {exc}")
            return
        record_report(store, "done")

    # -- how to run it --

    def _run_grid(self, spec: SweepSpec, bars: Bars, dates: np.ndarray, done: set[str],
                  store: SweepStore, settings: ParallelSpec, store_trades: bool,
                  progress: Progress) -> _GridRun:
        """Every combo not `done`, planned and run `plan_chunk` combos at a time: the grid is
        streamed, never held whole. The first line is said once the first chunk is planned
        (exact for a grid of one chunk; a larger one counts what finished earlier)."""
        run = _GridRun()
        with progress:
            for number, chunk in enumerate(_chunks(spec.iter_combos(), self.plan_chunk)):
                run.combo_ids.extend(rp.combo_id for rp in chunk)
                todo = [rp for rp in chunk if rp.combo_id not in done]
                plan = Plan.for_combos(todo, settings.budget, settings.batch_size,
                                       n_dates=len(dates))
                if number == 0:
                    already = (len(chunk) - len(todo) if spec.size <= len(chunk)
                               else min(len(done), spec.size))
                    progress.start(self._facts(spec, bars, plan, settings, spec.size,
                                               spec.size - already))
                failures, timings = self._run_parallel_strategy(bars, plan, store, settings,
                                                                store_trades, progress)
                run.add(plan, failures, timings)
        if run.plan.get("processes", 1) > 1:  # idle, they would hold memory through compaction
            release_workers(settings)
        return run

    def _run_parallel_strategy(self, bars: Bars, plan: Plan, store: SweepStore,
                               settings: ParallelSpec, store_trades: bool, progress: Progress,
                               ) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """Fan the plan's tasks out on the backend (docs/architecture.md); publish each result.

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
                    progress.update(0, sum(len(task.combos) for task in pending.values()))
                    break
                store_started = time.perf_counter()
                store.write_task(result.task_id, result.summaries, result.trades, result.daily)
                timings["store_s"] += time.perf_counter() - store_started
                timings["engine_s"] += result.engine_seconds
                failures.extend(result.failures)
                del pending[result.task_id]
                progress.update(len(result.summaries), len(result.failures))
        timings["execute_s"] = time.perf_counter() - execute_started
        return failures, timings

    def _compact(self, spec: SweepSpec, combo_ids: list[str], store: SweepStore,
                 dates: np.ndarray, store_trades: bool, progress: Progress) -> list[str]:
        """The compacted files, then the shards go. Heatmaps (Pillow, holds the GIL) are
        drawn while the rows are compacted (pyarrow, does not); returns their names."""
        trades = ", trades" if store_trades else ""  # this can take seconds: say so
        progress.note(f"{spec.name}: writing the summary, daily matrix{trades} and heatmaps")
        begin_compaction(store)
        grid = zip(combo_ids, spec.iter_values(), strict=True)
        compaction = Compaction.of(store, grid, spec.param_columns(), dates,
                                   store_trades=store_trades)
        summary = compaction.write_summary()
        with ThreadPoolExecutor(1, thread_name_prefix="research-heatmaps") as pool:
            heatmaps = pool.submit(write_heatmaps, summary, spec.axes, store.root)
            compaction.write_rows()
            names = [path.name for path in heatmaps.result()]
        finish_compaction(store, names)  # sizes and sha256s; stale heatmaps and analysis go
        if not self.keep_shards:
            store.remove_shards()
        return names

    # -- inputs --

    def plan_for(self, spec: SweepSpec, *, fresh: bool = False,
                 progress: Progress | None = None) -> PlannedSweep:
        """What `run_spec(spec)` would run, read only: the bars, the combos not yet in the
        results folder (all of them with `fresh`) and the plan. Nothing is written.

        >>> from research.spec.grid import build_spec
        >>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-01-31"),
        ...                         max_cpus=1)
        >>> planned = runner.plan_for(build_spec({"target": [10, 15]}, {"instrument": "ES"},
        ...                                      "demo"))
        >>> len(planned.todo), len(planned.plan.tasks), planned.plan.processes
        (2, 1, 1)
        """
        settings = self.parallel.over(spec.parallel).resolved()
        check_grid_size(spec, self.max_combos)
        store_trades = self._stores_trades(spec)
        combos = spec.combos()
        bars = self._bars(spec, spec.base["instrument"], progress)
        dates = weekday_trading_days(bars)
        done = set() if fresh else _reusable(SweepStore(self.results_dir / spec.name), dates,
                                             store_trades, read_only=True)
        todo = tuple(rp for rp in combos if rp.combo_id not in done)
        plan = Plan.for_combos(todo, settings.budget, settings.batch_size, n_dates=len(dates))
        return PlannedSweep(spec=spec, bars=bars, combos=tuple(combos), todo=todo, dates=dates,
                            plan=plan, settings=settings, store_trades=store_trades,
                            data_label=self.data_label(spec))

    def _stores_trades(self, spec: SweepSpec) -> bool:
        """Whether every trade is stored: the runner's setting, else the spec's."""
        return (self.store_trades or spec.store_trades) == "all"

    def data_label(self, spec: SweepSpec | None) -> str:
        """Where this runner's bars for `spec` come from, in a few words.

        >>> ResearchRunner(data="data/ES.parquet").data_label(None)
        'data/ES.parquet'
        """
        if self.data is not None:
            if isinstance(self.data, (str, Path)):
                return str(self.data)
            return f"the runner's {type(self.data).__name__}"
        if spec is None or spec.data is None:
            return "no data"
        if spec.data.synthetic is not None:
            synthetic = spec.data.synthetic_kwargs()
            seed = f" (seed {synthetic['seed']})" if "seed" in synthetic else ""
            return f"synthetic {synthetic.get('instrument', spec.base['instrument'])}{seed}"
        return spec.data.path_as_written or spec.data.path or "?"

    def _bars(self, spec: SweepSpec, instrument: str, progress: Progress | None = None) -> Bars:
        """The one input path (engine.inputs.to_bars) for the runner's data or the spec's.
        The data is named on `progress` before it is read: reading may take a while."""
        if progress is not None and (spec.data is not None or isinstance(self.data, (str, Path))):
            progress.note(f"sweep {spec.name}: loading {self.data_label(spec)} ...")
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

    def _facts(self, spec: SweepSpec, bars: Bars, plan: Plan, settings: ParallelSpec,
               n_combos: int, n_todo: int) -> RunFacts:
        """The first line's facts (progress.RunFacts)."""
        first, last = bar_dates(bars)
        return RunFacts(name=spec.name, combos=n_combos, done=n_combos - n_todo,
                        tasks=len(plan.tasks), processes=plan.processes, threads=plan.threads,
                        backend=settings.backend, data=self.data_label(spec), bars=len(bars),
                        first_date=first, last_date=last)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedSweep:
    """A spec's inputs and plan before anything runs (ResearchRunner.plan_for): the bars,
    every combo (grid order, distinct), those still to run, the trading dates, the plan."""

    spec: SweepSpec
    bars: Bars
    combos: tuple[RunParams, ...]
    todo: tuple[RunParams, ...]
    dates: np.ndarray
    plan: Plan
    settings: ParallelSpec
    store_trades: bool
    data_label: str


def bar_dates(bars: Bars) -> tuple[str, str]:
    """The first and last bar's Chicago calendar dates, as a spec's data start/end are
    written ("-" without bars).

    >>> bar_dates(to_bars(synthetic_bars("ES", "2024-01-01", "2024-01-31"), "ES"))
    ('2024-01-01', '2024-01-31')
    """
    if not len(bars):
        return "-", "-"
    first, last = utc_to_chicago(bars.ts_ns[[0, -1]])
    return f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"


def _analyze(store: SweepStore, config: AnalysisConfig) -> dict[str, Any]:
    """The robustness analysis of the finished sweep (research.analysis), written beside
    its results; a sweep it cannot analyse (one combo, too few dates) says why instead."""
    from research.analysis import AnalysisError, analyze_folder  # scipy, arch: only when run

    started = time.perf_counter()
    try:
        result = analyze_folder(store.root, config)
    except AnalysisError as exc:
        logger.warning("robustness analysis skipped: %s", exc)
        return {"status": "skipped", "reason": str(exc)}
    # analyze_folder recorded the files, settings and daily matrix: add the time
    record = {**(store.read_manifest() or {}).get("analysis", {}),
              "seconds": round(time.perf_counter() - started, 3)}
    store.update_manifest(analysis=record)
    return {"status": "done", "verdict": result.verdict}


def _reusable(store: SweepStore, dates: np.ndarray, store_trades: bool,
              read_only: bool = False) -> set[str]:
    """The finished combos a resumed sweep may skip. A shard whose files disagree (truncated,
    empty, deleted or swapped: its footers say so) is discarded, said in one line, and its
    combos run again; so are combos the compacted files do not hold whole. `read_only`
    (a dry run) leaves the folder as it is and says nothing."""
    sources = find_sources(store, dates, with_trades=store_trades)
    for name, problem in ({} if read_only else sources.problems).items():
        where = store.root if name == "compacted" else store.shards / name
        logger.warning("%s: %s; its combos will be computed again", where, problem)
        if name != "compacted":
            store.discard_task(name)
    return {combo for source in sources.usable if source.name not in sources.problems
            or source.name == "compacted" for combo in source.combos()}

