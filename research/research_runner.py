"""ResearchRunner: a spec -> its bars and plan -> tasks on a backend -> the store -> compaction.

`grid.py` says what to run, `plan.py` how it is cut, `worker.py` what one task does and
`parallel/backends.py` where it runs; this module puts them together. The parent process
is the only writer of the results folder (`store.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from research.compaction import Compaction, find_sources, finished_combos
from research.engine.bars import Bars
from research.engine.clock import utc_to_chicago
from research.engine.fills import fill_check
from research.engine.inputs import BarsInput, to_bars
from research.engine.params import RunParams
from research.engine.pipeline import ENGINE_STAGES, Stages
from research.engine.ranges import weekday_trading_days
from research.engine.synthetic import synthetic_bars
from research.errors import ResearchError, SpecError
from research.grid import SweepSpec, build_spec, check_store_trades
from research.outputs import Sweep
from research.parallel.backends import run_tasks
from research.parallel.settings import ParallelSpec
from research.plan import Plan
from research.progress import Progress, RunFacts
from research.provenance import bars_fingerprint, data_facts, environment
from research.report import write_heatmaps
from research.store import StoreWriteError, SweepStore
from research.worker import failure_record, run_task

logger = logging.getLogger(__name__)


class ResearchRunner:
    """Runs sweeps over one data set.

    `max_cpus`, `backend` and `scheduler` override the spec's ``parallel:`` section where
    given (see ParallelSpec), `store_trades` ("all" or "none") the spec's. `keep_shards`
    keeps the shards after compaction. `stages` swaps engine stages, a seam for tests.

    >>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-03-31"))
    >>> sweep = runner.run(grid={"target": [10, 15]}, base={"instrument": "ES"}, name="demo")
    >>> sweep.summary[["target", "total_profit"]]  # doctest: +SKIP
    """

    def __init__(self, data: BarsInput | None = None, results_dir: str | Path = "results",
                 max_cpus: int | str | None = None, backend: str | None = None,
                 progress: bool = True, scheduler: str | None = None,
                 batch_size: int | None = None, stages: Stages = ENGINE_STAGES,
                 store_trades: str | None = None, keep_shards: bool = False) -> None:
        self.parallel = ParallelSpec(backend=backend, max_cpus=max_cpus, scheduler=scheduler,
                                     batch_size=batch_size)
        self.store_trades = check_store_trades(store_trades)
        self.keep_shards = keep_shards
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
        earlier run of it are skipped. With `progress`, the first line, a bar (or plain
        lines) and the counts go to stderr (research.progress).

        >>> from research.grid import spec_from_dict
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
        store_trades = (self.store_trades or spec.store_trades) == "all"
        combos = list({rp.combo_id: rp for rp in spec.combos()}.values())
        store = SweepStore(self.results_dir / spec.name)
        progress = Progress(self.progress)  # research/progress.py: first line, bar, log lines
        bars = self._bars(spec, combos[0].instrument, progress)
        store.prepare(spec.spec_hash, bars_fingerprint(bars),
                      self._manifest(spec, bars, len(combos)), fresh=fresh)
        dates = weekday_trading_days(bars)
        done = finished_combos(find_sources(store, dates, with_trades=store_trades))
        todo = [rp for rp in combos if rp.combo_id not in done]
        plan = Plan.for_combos(todo, settings.budget, settings.batch_size, n_dates=len(dates))
        logger.info("%s: %d combos, %d already done", spec.name, len(combos), len(done))
        progress.start(self._facts(spec, bars, plan, settings, len(combos), len(todo)))
        try:
            failures, timings = self._run_parallel_strategy(bars, plan, store, settings,
                                                            total=len(combos),
                                                            store_trades=store_trades,
                                                            progress=progress)
            compact_started = time.perf_counter()
            heatmaps = self._compact(spec, combos, store, dates, store_trades, progress)
        except KeyboardInterrupt:
            store.update_manifest(status="interrupted")
            raise
        except ResearchError as exc:  # bad input found late, e.g. an unreachable scheduler
            store.update_manifest(status="failed", reason=str(exc))
            raise
        except OSError as exc:  # the store's own writes: not any combo's fault
            error = StoreWriteError.from_os_error(exc, store.root)
            with suppress(OSError):
                store.update_manifest(status="failed", reason=str(error))
            raise error from exc
        store.update_manifest(
            status="complete" if not failures else "failed",
            combos_ok=len(combos) - len(failures), combos_failed=len(failures),
            failures=failures, heatmaps=heatmaps, store_trades=store_trades,
            timings={"total_s": round(time.perf_counter() - started, 3),
                     "compact_s": round(time.perf_counter() - compact_started, 3), **timings})
        return Sweep(store.root)

    # -- how to run it --

    def _run_parallel_strategy(self, bars: Bars, plan: Plan, store: SweepStore,
                               settings: ParallelSpec, total: int, store_trades: bool,
                               progress: Progress | None = None,
                               ) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """Fan the plan's tasks out on the backend (DESIGN §4); publish each result.

        A task that fails as a whole (its worker died, the cluster lost it) marks the
        combos still pending as failed, for a re-run to retry. A store write that fails
        is not a combo's fault: it propagates and stops the sweep. `progress` (started by
        the caller, its first line written) shows the finished combos while this runs.
        """
        progress = progress or Progress(enabled=False)
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
        with progress, closing(results):
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
        return failures, {name: round(seconds, 3) for name, seconds in timings.items()}

    def _compact(self, spec: SweepSpec, combos: Sequence[RunParams], store: SweepStore,
                 dates: np.ndarray, store_trades: bool,
                 progress: Progress | None = None) -> list[str]:
        """The compacted files, then the shards go. Heatmaps (matplotlib, holds the GIL)
        are drawn while the rows are compacted (pyarrow, does not); returns their names."""
        if progress is not None:  # this can take seconds: say so
            trades = ", trades" if store_trades else ""
            progress.note(f"{spec.name}: writing the summary, daily matrix{trades} and heatmaps")
        compaction = Compaction.of(store, {rp.combo_id: spec.axis_values(rp) for rp in combos},
                                   spec.axes, dates, store_trades=store_trades)
        summary = compaction.write_summary()
        with ThreadPoolExecutor(1, thread_name_prefix="research-heatmaps") as pool:
            heatmaps = pool.submit(write_heatmaps, summary, spec.axes, store.root)
            compaction.write_rows()
            names = [path.name for path in heatmaps.result()]
        if not self.keep_shards:
            store.remove_shards()
        return names

    # -- inputs --

    def plan_for(self, spec: SweepSpec, *, fresh: bool = False,
                 progress: Progress | None = None) -> PlannedSweep:
        """What `run_spec(spec)` would run, read only: the bars, the combos not yet in the
        results folder (all of them with `fresh`) and the plan. Nothing is written.

        >>> from research.grid import build_spec
        >>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-01-31"),
        ...                         max_cpus=1)
        >>> planned = runner.plan_for(build_spec({"target": [10, 15]}, {"instrument": "ES"},
        ...                                      "demo"))
        >>> len(planned.todo), len(planned.plan.tasks), planned.plan.processes
        (2, 1, 1)
        """
        settings = self.parallel.over(spec.parallel).resolved()
        store_trades = (self.store_trades or spec.store_trades) == "all"
        combos = list({rp.combo_id: rp for rp in spec.combos()}.values())
        bars = self._bars(spec, combos[0].instrument, progress)
        dates = weekday_trading_days(bars)
        done = set() if fresh else finished_combos(
            find_sources(SweepStore(self.results_dir / spec.name), dates, store_trades))
        todo = tuple(rp for rp in combos if rp.combo_id not in done)
        plan = Plan.for_combos(todo, settings.budget, settings.batch_size, n_dates=len(dates))
        return PlannedSweep(spec=spec, bars=bars, combos=tuple(combos), todo=todo, dates=dates,
                            plan=plan, settings=settings, store_trades=store_trades,
                            data_label=self.data_label(spec))

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
        # spec_hash and data_fingerprint are added by SweepStore.prepare.
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
