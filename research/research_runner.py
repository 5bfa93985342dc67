"""ResearchRunner: a spec -> a prepared sweep -> tasks on a backend -> the store -> compaction.

`spec/grid.py` says what to run, `spec/prepared.py` prepares it once (settings layered, bars,
finished combos, the streamed plan), `plan.py` cuts it into tasks, `worker.py` says what one
task does and `parallel/backends.py` where it runs; this module puts them together. The
parent process is the only writer of the results folder (`results/store.py`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from research.analysis.config import AnalysisConfig
from research.analysis.fill_band import fill_note, pessimistic_winner_sentence, winner_band
from research.engine.bars import Bars
from research.engine.inputs import BarsInput
from research.engine.pipeline import ENGINE_STAGES, Stages
from research.engine.resolve import check_seconds, load_seconds
from research.engine.synthetic import synthetic_bars  # noqa: F401 - the doctests use it
from research.errors import ResearchError
from research.outputs import Sweep
from research.parallel.backends import Session, release_workers
from research.parallel.interrupt import checkpoint
from research.parallel.settings import ParallelSpec
from research.plan import Plan, early_processes, slots_of
from research.progress import Progress
from research.report import write_heatmaps, write_report
from research.results.compaction import remember_task
from research.results.lock import hold
from research.results.provenance import explain_change, trusted_facts
from research.results.record import (
    begin_compaction,
    finish_compaction,
    record_report,
    retire_stale_analysis,
    set_step,
)
from research.results.store import SUMMARY, StoreWriteError, SweepStore
from research.results.streaming import RowStream, stream_wanted
from research.shared_bars import shared_bars, warm_up_bars
from research.spec.arguments import check_max_combos, check_runner_arguments, check_store_trades
from research.spec.grid import SweepSpec, build_spec
from research.spec.prepared import (
    PLAN_CHUNK,
    PreparedSweep,
    RunnerOptions,
    SweepSettings,
    data_label,
    expected_dates,
)
from research.worker import failure_record, run_task, unspooled, warm_up

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _GridRun:
    """What the chunks of one sweep did, added up."""

    failures: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    combos_run: int = 0
    plan: dict[str, Any] = field(default_factory=dict)  # the chunks' plans in one
    # every combo's id in grid order (done or not), for compaction: ~60 bytes a combo, so
    # the grid's RunParams need not be built a second time
    combo_ids: list[str] = field(default_factory=list)

    def add(self, plan: Plan, failures: list[dict[str, Any]], timings: dict[str, float]) -> None:
        self.failures.extend(failures)
        self.combos_run += sum(len(task.combos) for task in plan.tasks)
        # the widest chunk's processes x threads (a small last chunk may run on fewer)
        tasks = self.plan.get("tasks", 0) + len(plan.tasks)
        work = None if plan.work is None else (self.plan.get("work") or 0) + plan.work
        if plan.processes >= self.plan.get("processes", 0):
            self.plan = plan.to_dict()
        self.plan["tasks"], self.plan["work"] = tasks, work
        for name, seconds in timings.items():
            self.timings[name] = self.timings.get(name, 0.0) + seconds


class ResearchRunner:
    """Runs sweeps over one data set.

    `max_combos` allows a grid larger than the spec's limit (arguments.DEFAULT_MAX_COMBOS).
    `max_cpus`, `backend` and `scheduler` override the spec's ``parallel:`` section where
    given (see ParallelSpec), `store_trades` ("all" or "none") the spec's. `keep_shards`
    keeps the shards after compaction. `analysis=False` skips the robustness analysis
    (the spec's ``analysis: {enabled: false}`` too); `report=False` writes no report.html.
    These are layered over the spec's in one place (spec.prepared.RunnerOptions.over).
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
        self.options = RunnerOptions(
            parallel=ParallelSpec(backend=backend, max_cpus=max_cpus, scheduler=scheduler,
                                  batch_size=batch_size),
            store_trades=check_store_trades(store_trades), keep_shards=keep_shards,
            analysis=analysis, report=report, max_combos=check_max_combos(max_combos))
        self.data = data
        self.results_dir = Path(results_dir)
        self.progress = progress
        self.stages = stages
        self._seconds: Bars | None = None  # the running spec's data.resolve_with bars

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
        settings = self.options.over(spec)  # refuses a grid too large before any work
        store = SweepStore(self.results_dir / spec.name)
        try:
            with hold(store.root):  # one writer per results folder
                return self._run_locked(spec, settings, store, fresh, started)
        except OSError as exc:  # the store's own writes: not any combo's fault
            error = StoreWriteError.from_os_error(exc, store.root)
            with suppress(OSError):
                store.release_reserve()  # the disk may be full: room for the last word
                store.update_manifest(status="failed", reason=str(error))
            raise error from exc

    def prepare(self, spec: SweepSpec, *, fresh: bool = False,
                progress: Progress | None = None) -> PreparedSweep:
        """What `run_spec(spec)` would run, read only: the settings, the bars and the
        finished combos it would skip (none with `fresh`); `chunks()` plans it. Nothing is
        written. The dry run calibrates on it.

        >>> from research.spec.grid import build_spec
        >>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-01-31"),
        ...                         max_cpus=1)
        >>> prepared = runner.prepare(build_spec({"target": [10, 15]}, {"instrument": "ES"},
        ...                                      "demo"))
        >>> [(len(c.todo), len(c.plan.tasks), c.plan.processes) for c in prepared.chunks()]
        [(2, 1, 1)]
        """
        prepared = self._load(spec, self.options.over(spec), progress)
        if fresh:
            return prepared
        return prepared.resumed(SweepStore(self.results_dir / spec.name), read_only=True)

    def data_label(self, spec: SweepSpec | None) -> str:
        """Where this runner's bars for `spec` come from, in a few words.

        >>> ResearchRunner(data="data/ES.parquet").data_label(None)
        'data/ES.parquet'
        """
        return data_label(spec, self.data)

    def _load(self, spec: SweepSpec, settings: SweepSettings,
              progress: Progress | None) -> PreparedSweep:
        return PreparedSweep.load(spec, settings, self.data, progress,
                                  plan_chunk=self.plan_chunk)

    def _run_locked(self, spec: SweepSpec, settings: SweepSettings, store: SweepStore,
                    fresh: bool, started: float) -> Sweep:
        # One backend session for the whole sweep (every chunk); its temporary files go
        # however the sweep ends (research.shared_bars).
        with ExitStack() as stack:
            session = stack.enter_context(Session(settings.parallel, None))
            self._start_workers_early(spec, settings, session, stack)
            return self._run_session(spec, settings, store, fresh, started, session)

    def _start_workers_early(self, spec: SweepSpec, settings: SweepSettings, session: Session,
                             stack: ExitStack) -> None:
        """Start the worker processes the plan will likely want now, so that their start-up
        (imports, the compiled kernels) overlaps the data's load and the plan (issue 23)."""
        parallel = settings.parallel
        if parallel.backend != "loky" or parallel.budget < 2:
            return
        first = next(iter(spec.iter_combos()), None)
        if first is None:
            return
        processes = early_processes(spec.size, slots_of(first), expected_dates(spec, self.data),
                                    parallel.budget, parallel.batch_size)
        if processes > 1:
            handle = stack.enter_context(shared_bars(warm_up_bars(), "warm-up"))
            session.start_workers(processes, warm_up, (handle, processes))

    def _run_session(self, spec: SweepSpec, settings: SweepSettings, store: SweepStore,
                     fresh: bool, started: float, session: Session) -> Sweep:
        progress = Progress(self.progress)  # research/progress.py: first line, bar, log lines
        prepared = self._load(spec, settings, progress)
        # 1-second bars deciding ambiguous trades (data.resolve_with), checked before any
        # combo runs; every task gets them (`_run_parallel_strategy`).
        self._seconds = self._resolving_seconds(spec, prepared.bars, progress)
        store.prepare(trusted_facts(prepared.bars), prepared.manifest(), fresh=fresh,
                      explain=explain_change)
        prepared = prepared.resumed(store)
        logger.info("%s: %d combos, %d finished earlier", spec.name, spec.size,
                    len(prepared.done))
        # daily and trades rows compacted while the tasks run, where they run in worker
        # processes (research.results.streaming); leaving this block unpublished drops them
        with RowStream(store, prepared.dates,
                       store_trades=prepared.settings.store_trades) as stream:
            try:
                run = self._run_grid(prepared, store, progress, session, stream)
                tail_started = time.perf_counter()
                heatmaps = self._compact(prepared, run.combo_ids, store, progress, stream)
                store.update_manifest(fills=_fills_with_band(store))
            except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (errors.Terminated)
                store.update_manifest(status="interrupted")
                raise
            except ResearchError as exc:  # bad input found late, e.g. an unreachable scheduler
                store.update_manifest(status="failed", reason=str(exc))
                raise
        timings = {"total_s": round(time.perf_counter() - started, 3),
                   **_compaction_timings(time.perf_counter() - tail_started, stream),
                   **{name: round(seconds, 3) for name, seconds in run.timings.items()}}
        parallel = settings.parallel
        store.update_manifest(
            status="complete" if not run.failures else "failed",
            combos_ok=spec.size - len(run.failures), combos_failed=len(run.failures),
            combos_run=run.combos_run, failures=run.failures, heatmaps=heatmaps,
            store_trades=settings.store_trades, timings=timings,
            budget={"max_cpus": parallel.budget, "backend": parallel.backend, **run.plan})
        set_step(store, "sweep", "complete" if not run.failures else "failed")
        if settings.analysis is not None:
            set_step(store, "analysis", "running", analysis={"status": "running"})
            record = _analyze(store, settings.analysis)
            if record["status"] != "done":  # skipped: no analysis of these results exists
                retire_stale_analysis(store, record["reason"])
                set_step(store, "analysis", record["status"], analysis=record)
        else:  # an analysis of other results is never left beside these
            retire_stale_analysis(store, "not asked for (--no-analysis or analysis.enabled "
                                         "false); python -m research.cli.analyze runs it")
        if settings.report:
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

    def _run_grid(self, prepared: PreparedSweep, store: SweepStore, progress: Progress,
                  session: Session, stream: RowStream) -> _GridRun:
        """Every combo not done, chunk after chunk (PreparedSweep.chunks) on one backend
        session: the grid is streamed, never held whole. The first line is said once the
        first chunk is planned. Loky workers get the bars once, as a memory-mapped file
        (research.shared_bars), written when a chunk first plans several processes. Where
        the first chunk runs in worker processes, `stream` compacts beside them."""
        run = _GridRun()
        settings = prepared.settings
        session.data = session.shared = prepared.bars
        with progress, ExitStack() as bars_file:  # the file goes with the grid's last task
            for number, chunk in enumerate(prepared.chunks()):
                run.combo_ids.extend(chunk.combo_ids)
                if number == 0:
                    progress.start(prepared.first_line(chunk))
                    if stream_wanted(chunk.plan.processes):
                        stream.start()
                stream.add_chunk(chunk.combo_ids, {rp.combo_id: task.task_id
                                                   for task in chunk.plan.tasks
                                                   for rp in task.combos})
                if (chunk.plan.processes > 1 and settings.parallel.backend == "loky"
                        and session.shared is session.data):
                    session.shared = bars_file.enter_context(shared_bars(prepared.bars))
                failures, timings = self._run_parallel_strategy(
                    prepared, chunk.plan, store, progress, session, stream)
                run.add(chunk.plan, failures, timings)
            stream.close_grid()
            session.close()  # a warm-up the plan did not need; a dask cluster
            # idle, loky's workers would hold memory through compaction
            if run.plan.get("processes", 1) > 1 or session.started_early:
                release_workers(settings.parallel)
        return run

    def _run_parallel_strategy(self, prepared: PreparedSweep, plan: Plan, store: SweepStore,
                               progress: Progress, session: Session, stream: RowStream,
                               ) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """Fan the plan's tasks out on the backend (docs/architecture.md); publish each result.

        A task that fails as a whole (its worker died, the cluster lost it) marks the
        combos still pending as failed, for a re-run to retry. A store write that fails
        is not a combo's fault: it propagates and stops the sweep. Each published task is
        listed for compaction as it is written (compaction.remember_task: never read back)
        and handed to `stream`, which may be waiting for it; so are the tasks that failed.
        """
        bars, settings = prepared.bars, prepared.settings.parallel
        store_trades = prepared.settings.store_trades
        store.update_manifest(parallel=settings.to_dict(),
                              budget={"max_cpus": settings.budget, "backend": settings.backend,
                                      **plan.to_dict()})
        failures: list[dict[str, Any]] = []
        pending = {task.task_id: task for task in plan.tasks}
        timings = {"engine_s": 0.0, "store_s": 0.0}
        execute_started = time.perf_counter()
        results = session.results(run_task, plan.tasks,
                                  (bars.last_ts_ns, plan.threads, self.stages, store_trades,
                                   self._seconds), plan.processes)
        with closing(results):
            while pending:
                try:
                    result = unspooled(next(results))
                except StopIteration:
                    break
                except (KeyboardInterrupt, ResearchError):
                    raise
                except Exception as exc:  # noqa: BLE001 - a dead worker: its combos failed
                    checkpoint()  # unless a signal stopped it (research.parallel.interrupt)
                    logger.error("workers failed: %s", exc)
                    failures.extend(failure_record(rp, exc) for task in pending.values()
                                    for rp in task.combos)
                    progress.update(0, sum(len(task.combos) for task in pending.values()))
                    break
                store_started = time.perf_counter()
                summary = store.write_task(result.task_id, result.summaries, result.trades,
                                           result.daily)
                stream.task_published(result.task_id, remember_task(
                    store, result.task_id, summary, prepared.dates, store_trades))
                timings["store_s"] += time.perf_counter() - store_started
                timings["engine_s"] += result.engine_seconds
                failures.extend(result.failures)
                del pending[result.task_id]
                progress.update(len(result.summaries), len(result.failures))
        stream.tasks_failed(pending)  # a dead worker's: none of their combos comes
        timings["execute_s"] = time.perf_counter() - execute_started
        return failures, timings

    def _compact(self, prepared: PreparedSweep, combo_ids: list[str], store: SweepStore,
                 progress: Progress, stream: RowStream) -> list[str]:
        """The compacted files, then the shards go. Heatmaps (Pillow, holds the GIL) are
        drawn while the rows are compacted (pyarrow, does not); returns their names. The
        rows `stream` wrote while the tasks ran are published if they are this
        compaction's; otherwise they are written now."""
        spec = prepared.spec
        trades = ", trades" if prepared.settings.store_trades else ""  # can take seconds: say so
        progress.note(f"{spec.name}: writing the summary, daily matrix{trades} and heatmaps")
        begin_compaction(store)
        compaction = prepared.compaction(store, combo_ids)
        summary = compaction.write_summary()
        with ThreadPoolExecutor(1, thread_name_prefix="research-heatmaps") as pool:
            heatmaps = pool.submit(write_heatmaps, summary, spec.axes, store.root)
            if not stream.publish(compaction):
                compaction.write_rows()
            names = [path.name for path in heatmaps.result()]
        finish_compaction(store, names)  # sizes and sha256s; stale heatmaps and analysis go
        if not prepared.settings.keep_shards:
            store.remove_shards()
        return names

    # -- inputs --

    def _resolving_seconds(self, spec: SweepSpec, bars: Bars,
                           progress: Progress | None = None) -> Bars | None:
        """The spec's data.resolve_with 1-second bars, checked against `bars`; or None."""
        path = None if spec.data is None else spec.data.resolve_with
        if path is None:
            return None
        if progress is not None:
            progress.note(f"sweep {spec.name}: loading 1-second bars {path} ...")
        data = spec.data
        seconds = load_seconds(path, bars.instrument.symbol,
                               {"roll": data.load.roll, "start": data.start, "end": data.end})
        check_seconds(seconds, bars)
        return seconds


def _compaction_timings(tail_s: float, stream: RowStream) -> dict[str, float]:
    """The manifest's compaction timings: the tail after the last task (`compact_tail_s`:
    the summary, the heatmaps and the rows not written yet), the time compaction ran
    (`compact_s`: the tail, plus the streaming threads' time not spent waiting for tasks)
    and, when it ran beside the tasks, that part alone (`compact_streamed_s`) and the cpu
    its threads took (`compact_streamed_cpu_s`: less than the former on a busy machine)."""
    streamed = sum(stream.busy_s.values())
    timings = {"compact_s": round(tail_s + streamed, 3), "compact_tail_s": round(tail_s, 3)}
    if stream.started:
        timings["compact_streamed_s"] = round(streamed, 3)
        timings["compact_streamed_cpu_s"] = round(sum(stream.cpu_s.values()), 3)
    return timings


def _fills_with_band(store: SweepStore) -> dict[str, Any]:
    """The manifest's fills, with the winner's fill band and the fill note saying how much
    of its net $ rests on undecided bars (analysis.fill_band)."""
    fills = dict((store.read_manifest() or {}).get("fills") or {})
    summary = pd.read_parquet(store.root / SUMMARY)
    band = winner_band(summary)
    if band is None:
        return fills
    level_note = fills.get("level_note", fills.get("note"))
    notes = [fill_note(summary), pessimistic_winner_sentence(summary), level_note]
    return {**fills, "band": {**dataclasses.asdict(band), "at_stake_usd": band.at_stake_usd},
            "level_note": level_note, "note": "; ".join(n for n in notes if n)}



def _analyze(store: SweepStore, config: AnalysisConfig) -> dict[str, Any]:
    """The robustness analysis of the finished sweep (research.analysis), written beside
    its results; a sweep it cannot analyse (one combo, too few dates) says why instead."""
    from research.analysis import AnalysisError, analyze_folder  # only when run

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

