"""ResearchRunner: a spec -> its bars and plan -> tasks on a backend -> the store -> compaction.

`grid.py` says what to run, `plan.py` how it is cut, `worker.py` what one task does and
`parallel/backends.py` where it runs; this module puts them together. The parent process
is the only writer of the results folder (`store.py`).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import numpy as np

from research.compaction import Compaction, find_sources, finished_combos
from research.engine.bars import Bars
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
from research.provenance import bars_fingerprint, data_facts, environment
from research.report import write_heatmaps, write_report
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
        """Expand `grid` over `base` and run every combo on this runner's data."""
        return self.run_spec(build_spec(grid or {}, base, name), fresh=fresh)

    def run_spec(self, spec: SweepSpec, *, fresh: bool = False) -> Sweep:
        """Run a validated spec; finished combos of an earlier run of it are skipped."""
        started = time.perf_counter()
        settings = self.parallel.over(spec.parallel).resolved()
        store_trades = (self.store_trades or spec.store_trades) == "all"
        combos = list({rp.combo_id: rp for rp in spec.combos()}.values())
        store = SweepStore(self.results_dir / spec.name)
        bars = self._bars(spec, combos[0].instrument)
        store.prepare(spec.spec_hash, bars_fingerprint(bars),
                      self._manifest(spec, bars, len(combos)), fresh=fresh)
        dates = weekday_trading_days(bars)
        done = finished_combos(find_sources(store, dates, with_trades=store_trades))
        todo = [rp for rp in combos if rp.combo_id not in done]
        plan = Plan.for_combos(todo, settings.budget, settings.batch_size, n_dates=len(dates))
        logger.info("%s: %d combos, %d already done", spec.name, len(combos), len(done))
        try:
            failures, timings = self._run_parallel_strategy(bars, plan, store, settings,
                                                            total=len(combos),
                                                            store_trades=store_trades)
            compact_started = time.perf_counter()
            heatmaps = self._compact(spec, combos, store, dates, store_trades)
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
        self._write_report(store)
        return Sweep(store.root)

    @staticmethod
    def _write_report(store: SweepStore) -> None:
        """report.html from the finished folder (issue 13). The results are already final:
        a report that fails is logged and recorded in the manifest (``report_error``; the
        next run's manifest starts without it), never fatal."""
        try:
            write_report(store.root)
        except Exception as exc:  # noqa: BLE001 - any bug in the page must not lose a sweep
            logger.error("report.html not written: %s: %s", type(exc).__name__, exc)
            with suppress(OSError):
                store.update_manifest(report_error=f"{type(exc).__name__}: {exc}")

    # -- how to run it --

    def _run_parallel_strategy(self, bars: Bars, plan: Plan, store: SweepStore,
                               settings: ParallelSpec, total: int, store_trades: bool,
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
        with self._progress(total, total - sum(len(t.combos) for t in plan.tasks)) as bar, \
                closing(results):
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
        return failures, {name: round(seconds, 3) for name, seconds in timings.items()}

    def _compact(self, spec: SweepSpec, combos: Sequence[RunParams], store: SweepStore,
                 dates: np.ndarray, store_trades: bool) -> list[str]:
        """The compacted files, then the shards go. Heatmaps (Pillow, holds the GIL)
        are drawn while the rows are compacted (pyarrow, does not); returns their names."""
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
        # spec_hash and data_fingerprint are added by SweepStore.prepare.
        return {**environment(), "spec": spec.to_dict(), "source": spec.source,
                "grid_size": n_combos, "data": data_facts(bars),
                "fills": fill_check(bars).to_dict()}

    def _progress(self, total: int, initial: int):
        from tqdm import tqdm

        enabled = self.progress and sys.stderr.isatty()
        return tqdm(total=total, initial=initial, unit="combo", disable=not enabled,
                    file=sys.stderr, dynamic_ncols=True)
