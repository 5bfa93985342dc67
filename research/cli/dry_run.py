"""``--dry-run``: check a spec, load its data, plan it and time a short calibration run;
nothing is written to the results folder. It goes through the runner's own preparation
(`ResearchRunner.prepare`, research.spec.prepared): the same settings, bars, finished combos
and chunked plan the run would use, so it takes every spec the run takes.

How the estimate is made: one task of the plan (its largest, cut to CALIBRATION_COMBOS
combos) runs in this process on the plan's threads, after a one-combo warm-up (numba
loads its kernels). Timing that task with 1 and with k combos splits its cost into the
shared stages (ranges and entries, once per task; a task packing several range keys runs
them once per key, which the per-combo cost then carries) and the cost per combo; the
engine time is ``tasks x shared + combos x per combo``, divided by
``processes x PARALLEL_EFFICIENCY`` when there are several. The calibration task's shard
is stored and compacted in a temporary folder, with 1 and with k combos too (the parent
does this alone, so it is not divided), and the first pair's heatmap is drawn twice (the
first draw also starts loads the drawing code). The estimate adds the process's start-up
and the load time measured here and, with several processes, WORKER_START_S. It is rough:
the machine's other work, and a
first run after installing compiles the kernels (seconds).

>>> from research.spec.grid import build_spec
>>> from research import ResearchRunner, synthetic_bars
>>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-01-31"),
...                         max_cpus=1, progress=False)
>>> result = dry_run(runner, build_spec({"target": [10, 15]}, {"instrument": "ES"}, "demo"))
>>> result.estimate().total_s > 0, Path("results/demo").exists()
(True, False)
>>> print(result.report())  # doctest: +ELLIPSIS
dry run of sweep demo: nothing is written
combos: 2 in the grid (target 2), 0 already done, 2 to run
data: the runner's DataFrame: ES, 2024-01-01 .. 2024-01-31, ... bars, ... trading dates ...
...
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from research.engine.fills import fill_check
from research.engine.params import RunParams
from research.plan import Task, task_id_for
from research.progress import Progress, clock, count
from research.report import write_heatmaps
from research.report.heatmaps import axis_pairs
from research.research_runner import ResearchRunner
from research.results.provenance import bars_fingerprint
from research.results.store import SweepStore
from research.spec.grid import SweepSpec
from research.spec.prepared import PreparedSweep, bar_dates
from research.worker import TaskResult, run_task

CALIBRATION_COMBOS = 32  # at most this many combos of one task are timed
WORKER_START_S = 1.5  # a loky worker's start and imports, paid once when processes > 1
# Processes share cores, caches and memory bandwidth: 2 processes ran the 980 grid 1.26-1.33x
# faster than 1 on the 2-core development machine (docs/benchmarks.md), not 2x.
PARALLEL_EFFICIENCY = 0.65


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """One task timed in this process, split into what is paid once and per combo: the
    engine (`shared_s` once per task: ranges and entries), storing and compacting (in the
    parent), and heatmaps (the first also loads the drawing code)."""

    combos: int
    threads: int
    shared_s: float
    per_combo_s: float
    write_fixed_s: float
    write_per_combo_s: float
    first_heatmap_s: float
    heatmap_s: float

    @property
    def combos_per_s(self) -> float:
        """The engine's rate on tasks of `combos` combos."""
        return self.combos / (self.shared_s + self.combos * self.per_combo_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """The parts of an estimated run, in seconds."""

    startup_s: float
    load_s: float
    engine_s: float
    write_s: float
    heatmaps_s: float
    workers_s: float

    @property
    def total_s(self) -> float:
        # Heatmaps are drawn on a thread while the rows are compacted, but both want the
        # GIL much of the time: their sum matched measured runs better than their maximum.
        return (self.startup_s + self.load_s + self.workers_s + self.engine_s + self.write_s
                + self.heatmaps_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """The prepared sweep's chunks, planned and added up as the run adds them: every
    combo's id (grid order), how many run, the tasks' sizes, the widest chunk's split and
    the largest task (the one calibrated)."""

    combo_ids: list[str]
    todo: int
    task_sizes: list[int]
    processes: int
    threads: int
    budget: int
    largest: Task | None

    @classmethod
    def of(cls, prepared: PreparedSweep) -> Planned:
        combo_ids, sizes, todo, largest, widest = [], [], 0, None, None
        for chunk in prepared.chunks():
            combo_ids.extend(chunk.combo_ids)
            todo += len(chunk.todo)
            sizes.extend(len(task.combos) for task in chunk.plan.tasks)
            for task in chunk.plan.tasks:
                if largest is None or len(task.combos) > len(largest.combos):
                    largest = task
            if widest is None or chunk.plan.processes >= widest.processes:
                widest = chunk.plan
        return cls(combo_ids=combo_ids, todo=todo, task_sizes=sizes, processes=widest.processes,
                   threads=widest.threads, budget=widest.budget, largest=largest)


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRun:
    """What ``--dry-run`` found: the prepared sweep and its plan, the load time, the
    calibration."""

    prepared: PreparedSweep
    planned: Planned
    results: Path
    load_s: float
    calibration: Calibration | None  # None: nothing to run
    heatmaps: int
    startup_s: float = 0.0  # the process's start and imports (the CLI measures them)
    after: tuple[str, ...] = ()  # what the run does next, not estimated (analysis, page)

    def estimate(self) -> Estimate:
        """The run's time from the calibration (the module docstring says how)."""
        cal, plan = self.calibration, self.planned
        if cal is None:
            return Estimate(startup_s=self.startup_s, load_s=self.load_s, engine_s=0.0,
                            write_s=0.0, heatmaps_s=0.0, workers_s=0.0)
        n_todo = plan.todo
        serial_s = len(plan.task_sizes) * cal.shared_s + n_todo * cal.per_combo_s
        engine_s = serial_s if plan.processes == 1 else \
            serial_s / (plan.processes * PARALLEL_EFFICIENCY)
        workers_s = WORKER_START_S if plan.processes > 1 \
            and self.prepared.settings.parallel.backend != "sequential" else 0.0
        heatmaps_s = cal.first_heatmap_s + (self.heatmaps - 1) * cal.heatmap_s \
            if self.heatmaps else 0.0
        return Estimate(startup_s=self.startup_s, load_s=self.load_s, engine_s=engine_s,
                        write_s=cal.write_fixed_s + n_todo * cal.write_per_combo_s,
                        heatmaps_s=heatmaps_s, workers_s=workers_s)

    def report(self) -> str:
        """The plan and the estimate, as the CLI prints them."""
        prepared, plan = self.prepared, self.planned
        spec, bars = prepared.spec, prepared.bars
        n_combos = len(plan.combo_ids)
        axes = " x ".join(f"{axis} {len(values)}" for axis, values in spec.grid) or "no axes"
        first, last = bar_dates(bars)
        loaded = f"loaded and checked in {clock(self.load_s)}"
        lines = [
            f"dry run of sweep {spec.name}: nothing is written",
            f"combos: {n_combos} in the grid ({axes}), {n_combos - plan.todo} already done, "
            f"{plan.todo} to run",
            f"data: {prepared.data_label}: {bars.instrument.symbol}, {first} .. {last}, "
            f"{len(bars):,} bars, {len(prepared.dates)} trading dates ({loaded})",
            f"plan: {count(len(plan.task_sizes), 'task')} of {_range(plan.task_sizes)} combos "
            f"on {count(plan.processes, 'process')} x {count(plan.threads, 'thread')} "
            f"({prepared.settings.parallel.backend}, CPU budget {plan.budget})"
            if plan.task_sizes else
            "plan: nothing to run, every combo is done (--fresh runs them all again)",
            f"outputs: {self.results}/ (summary, daily"
            f"{', trades' if prepared.settings.store_trades else ''}, "
            f"{count(self.heatmaps, 'heatmap')})",
        ]
        lines += self._estimate_lines()
        return "\n".join(lines)

    def _estimate_lines(self) -> list[str]:
        cal, estimate = self.calibration, self.estimate()
        after = [f"  then, not counted: {' and '.join(self.after)} (--no-analysis, "
                 "--no-report leave them out)"] if self.after else []
        if cal is None:
            return ["estimate: nothing to run; the run only compacts and draws", *after]
        parts = [("start-up", estimate.startup_s), ("load", estimate.load_s),
                 ("worker start", estimate.workers_s), ("engine", estimate.engine_s),
                 ("store and compact", estimate.write_s), ("heatmaps", estimate.heatmaps_s)]
        heatmaps = (f"; heatmaps {cal.first_heatmap_s:.2f} s, then {cal.heatmap_s:.2f} s each"
                    if self.heatmaps else "")
        return [
            f"calibration: {cal.combos} combos of one task on {count(cal.threads, 'thread')}: "
            f"{cal.combos_per_s:,.0f} combos/s ({cal.shared_s * 1e3:.0f} ms per task + "
            f"{cal.per_combo_s * 1e3:.1f} ms per combo); storing and compacting "
            f"{cal.write_fixed_s * 1e3:.0f} ms + {cal.write_per_combo_s * 1e3:.1f} ms per "
            f"combo{heatmaps}",
            f"estimate: about {clock(estimate.total_s)} in all: "
            + ", ".join(f"{name} {clock(seconds)}" for name, seconds in parts if seconds),
            "  rough: processes that share cores run slower than one alone, and the first "
            "run after installing also compiles the kernels",
            *after,
        ]


def dry_run(runner: ResearchRunner, spec: SweepSpec, *, fresh: bool = False,
            quiet: bool = True, startup_s: float = 0.0) -> DryRun:
    """Prepare `spec` on `runner` as its run would, plan it and time a calibration;
    nothing is written to its results.

    `quiet=False` says which data file is being loaded (on stderr) before reading it;
    `startup_s` (the process's start and imports so far) is added to the estimate.
    See the module docstring for an example.
    """
    started_s = time.perf_counter()
    prepared = runner.prepare(spec, fresh=fresh, progress=Progress(not quiet))
    bars_fingerprint(prepared.bars)  # what the run's parent does before its first task
    fill_check(prepared.bars)
    load_s = time.perf_counter() - started_s
    planned = Planned.of(prepared)
    frame = prepared.axis_frame()
    pairs = axis_pairs(frame, spec.axes)
    drawn = (frame, list(pairs[0])) if pairs else None
    calibration = calibrate(runner, prepared, planned, drawn) if planned.largest else None
    after = (("the robustness analysis",) if prepared.settings.analysis is not None
             else ()) + (("report.html",) if prepared.settings.report else ())
    return DryRun(prepared=prepared, planned=planned, results=runner.results_dir / spec.name,
                  load_s=load_s, calibration=calibration, heatmaps=len(pairs),
                  startup_s=startup_s, after=after)


def calibrate(runner: ResearchRunner, prepared: PreparedSweep, planned: Planned,
              drawn: tuple[pd.DataFrame, list[str]] | None = None) -> Calibration:
    """Time the plan's largest task (at most CALIBRATION_COMBOS of its combos) in this
    process: its engine and its storing and compacting, each with 1 and with all of its
    combos (a part per task and a part per combo); and, given `drawn` (the combos' axis
    values and one pair of axes), two heatmaps (the first loads the drawing code)."""
    bars, threads = prepared.bars, planned.threads
    combos = planned.largest.combos[:CALIBRATION_COMBOS]

    def timed(chosen: tuple[RunParams, ...]) -> tuple[float, TaskResult]:
        task = Task(task_id_for(rp.combo_id for rp in chosen), chosen)
        began = time.perf_counter()
        result = run_task(bars, task, bars.last_ts_ns, threads, runner.stages,
                          prepared.settings.store_trades)
        return time.perf_counter() - began, result

    timed(combos[:1])  # warm-up: numba loads (or compiles) its kernels
    one_s, one = timed(combos[:1])
    all_s, every = timed(combos)
    with tempfile.TemporaryDirectory(prefix="research-dry-run-") as folder:
        write_one_s = _store_and_compact(prepared, planned, one, Path(folder) / "one")
        write_all_s = _store_and_compact(prepared, planned, every, Path(folder) / "all")
        first_s, later_s = _two_heatmaps(*drawn, Path(folder)) if drawn else (0.0, 0.0)
    shared_s, per_combo_s = _split(one_s, all_s, len(combos))
    write_fixed_s, write_per_combo_s = _split(write_one_s, write_all_s, len(combos))
    return Calibration(combos=len(combos), threads=threads, shared_s=shared_s,
                       per_combo_s=per_combo_s, write_fixed_s=write_fixed_s,
                       write_per_combo_s=write_per_combo_s, first_heatmap_s=first_s,
                       heatmap_s=later_s)


def _split(one_s: float, all_s: float, n: int) -> tuple[float, float]:
    """(once, per item) from the time of 1 item and of n items. When noise makes n items
    look no slower than one, all of it counts per item (an estimate errs on the long side)."""
    if n < 2:
        return 0.0, one_s
    if all_s <= one_s:
        return 0.0, all_s / n
    per_item_s = max(all_s - one_s, 0.0) / (n - 1)
    return max(one_s - per_item_s, 0.0), per_item_s


def _store_and_compact(prepared: PreparedSweep, planned: Planned, result: TaskResult,
                       folder: Path) -> float:
    """Seconds to publish a task's shard and compact it, in a scratch store, as the run
    does (PreparedSweep.compaction over the whole grid picks the task's combos)."""
    store = SweepStore(folder)
    store.shards.mkdir(parents=True)
    began = time.perf_counter()
    store.write_task(result.task_id, result.summaries, result.trades, result.daily)
    compaction = prepared.compaction(store, planned.combo_ids)
    compaction.write_summary()
    compaction.write_rows()
    return time.perf_counter() - began


def _two_heatmaps(axis_frame: pd.DataFrame, pair: list[str],
                  folder: Path) -> tuple[float, float]:
    """Seconds to draw one pair's heatmap twice: the first draw also loads the drawing
    code, the second is what each further pair costs."""
    frame = axis_frame.assign(net_profit_usd=0.0, trades=0)
    times = []
    for _ in range(2):
        began = time.perf_counter()
        write_heatmaps(frame, pair, folder)
        times.append(time.perf_counter() - began)
    return times[0], times[1]


def _range(sizes: list[int]) -> str:
    low, high = min(sizes, default=0), max(sizes, default=0)
    return str(low) if low == high else f"{low}-{high}"
