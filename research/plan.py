"""The plan of a sweep: which combos run together (tasks) and on how many processes x threads.

Combos that share a RangeRules share ranges and entries, so a key's combos stay together;
within a key, combos sharing an ExitRules (differing only in costs) come together, so they
share the walk. Keys with fewer combos than a batch are packed, whole, into one task (a
grid over many range definitions would otherwise pay a task's fixed cost, its shards and
their fsyncs, per definition). The plan only changes how work is spread, never the
results.

>>> from research.engine.params import RunParams
>>> combos = [RunParams(instrument="ES", target=t) for t in (10, 15, 20)]
>>> plan = Plan.for_combos(combos, budget=2, batch_size=2)
>>> [len(task.combos) for task in plan.tasks], plan.processes, plan.threads
([2, 1], 2, 1)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from research.engine.execution import ExitRules
from research.engine.params import RunParams
from research.engine.ranges import RangeRules
from research.parallel.budget import split_budget

TASKS_PER_PROCESS = 4  # a few tasks per process keeps the processes evenly loaded
ROWS_PER_TASK = 131_072  # caps a task by its rows, so memory stays flat as the grid grows
# Below this much work (combos x ranges) a second process costs more than it saves: its
# start-up (now overlapping the data's load: research_runner), the bars' trip (once, a
# memory-mapped file: research.shared_bars) and the merge of its shards outweigh the split.
# Measured by `python -m benchmarks.threshold` (whole process, --max-cpus 1 vs 2 processes,
# alternately, 3 runs each, on the quiet 2-core machine, load 0.8-2.2): 2 processes vs 1
# were 0.52x (0.49-0.59) at 44,016 combos x ranges, 0.61x (0.60-0.66) at 256,760, 0.80x
# (0.75-0.82) at 660,240, 0.99x (0.96-1.13) and 1.04x (0.91-1.05) in two runs at 1,320,480,
# and 1.22x (1.12-1.22) at 2,640,960: a second process breaks even near 1,300,000 and pays
# above it, so below that a sweep stays in one process (the manifest records the value).
SECOND_PROCESS_MIN_WORK = 1_300_000
# Engine threads split one range table (a task's dates x slots) into slices on a thread
# pool started per call; below this many ranges a call is too short for a second thread to
# pay its start and the slices' merge, and a split would be slower than one thread
# (issue 23: 168 combos, one year, 1 x 2 threads 0.43-0.50 s vs 0.27-0.31 s on one).
# Measured by `python -m benchmarks.threshold --parts threads` (one task of 24 combos, 1 vs
# 2 threads alternately, 5 runs, the quiet 2-core machine, load 0.8-2.2): 2 threads vs 1
# were 0.61x (0.45-0.64) at 262 ranges, 0.76x (0.60-1.23) at 522, 0.97x (0.81-1.31) at
# 1,303 and 1.35x (1.26-1.48) at 2,605; a second thread is planned from 2,605 ranges up
# (10 years of one slot, or 2 years of 5 slots), never below.
SECOND_THREAD_MIN_RANGES = 2_605


@dataclass(frozen=True, slots=True)
class Task:
    """A batch of combos that share their ranges and entries."""

    task_id: str
    combos: tuple[RunParams, ...]

    @property
    def range_rules(self) -> RangeRules:
        """The key of its first combo (a task may hold several: `groups`)."""
        return RangeRules.from_params(self.combos[0])

    def groups(self) -> list[tuple[RangeRules, list[RunParams]]]:
        """Its combos by RangeRules, in order: each key's shared stages run once."""
        out: dict[RangeRules, list[RunParams]] = {}
        for rp in self.combos:
            out.setdefault(RangeRules.from_params(rp), []).append(rp)
        return list(out.items())


@dataclass(frozen=True, slots=True)
class Plan:
    """Tasks and the split of the CPU budget into processes x threads (docs/architecture.md).

    `work` is the plan's combos x ranges (None when the data's dates were not given) and
    `split` says in words why the budget was split so; both, with the thresholds, go to the
    manifest (`to_dict`).
    """

    tasks: tuple[Task, ...]
    processes: int
    threads: int
    budget: int
    work: int | None = None
    split: str = "the budget over the tasks"

    @classmethod
    def for_combos(cls, combos: Sequence[RunParams], budget: int,
                   batch_size: int | None = None, *, n_dates: int | None = None,
                   single_process_below: int | None = None,
                   second_thread_from: int | None = None) -> Plan:
        """Cut `combos` into tasks, then split `budget` for that many tasks.

        With `n_dates` (the data's trading dates) a task holds at most ROWS_PER_TASK rows
        (a combo writes at most one row per date and slot), a sweep whose work (combos x
        ranges) is below `single_process_below` stays in one process, and that process
        takes a second engine thread only where a task's range table (dates x slots) holds
        `second_thread_from` ranges or more: the plan never picks a split that measured
        slower than one worker (benchmarks/threshold.py). A given `batch_size` is a cut the
        caller chose: used as it is, the budget spread over its tasks as usual. The two
        thresholds default to SECOND_PROCESS_MIN_WORK and SECOND_THREAD_MIN_RANGES.

        >>> one_slot = {"enabled_sessions": ("S2",), "enabled_slots": (("S2", ("09:30",)),)}
        >>> combos = [RunParams(instrument="ES", target=t, **one_slot) for t in range(10, 178)]
        >>> plan = Plan.for_combos(combos, budget=2, n_dates=262)  # 168 combos, one year
        >>> plan.processes, plan.threads, plan.work  # 262 ranges a task: one thread pays more
        (1, 1, 44016)
        """
        if single_process_below is None:
            single_process_below = SECOND_PROCESS_MIN_WORK
        if second_thread_from is None:
            second_thread_from = SECOND_THREAD_MIN_RANGES
        rows = [n_dates * slots_of(rp) for rp in combos] if n_dates is not None else None
        work = sum(rows) if rows is not None else None
        few = batch_size is None and work is not None and work < single_process_below
        processes, _ = split_budget(1 if few else budget, max(1, len(combos)))
        chosen = batch_size
        if batch_size is None and rows:
            batch_size = min(_even_batch(len(combos), processes),
                             max(1, ROWS_PER_TASK // max(1, max(rows))))
        tasks = plan_tasks(combos, processes, batch_size)
        processes, threads = split_budget(budget, max(1, len(tasks)))
        split = "the budget over the tasks"
        if few:
            processes, threads = 1, budget
            split = (f"one process: {work:,} combos x ranges, below the "
                     f"{single_process_below:,} a second process needs to pay")
        if chosen is None and rows and threads > 1 and max(rows) < second_thread_from:
            threads = 1
            split += (f"; one thread: a task's {max(rows):,} ranges are below the "
                      f"{second_thread_from:,} a second thread needs to pay")
        return cls(tuple(tasks), processes, threads, budget, work, split)

    def to_dict(self) -> dict[str, Any]:
        """The manifest's word on the plan (its ``budget``), with the thresholds it used."""
        return {"processes": self.processes, "threads": self.threads, "tasks": len(self.tasks),
                "work": self.work, "split": self.split,
                "second_process_min_work": SECOND_PROCESS_MIN_WORK,
                "second_thread_min_ranges": SECOND_THREAD_MIN_RANGES}


def early_processes(n_combos: int, slots: int, n_dates: int | None, budget: int,
                    batch_size: int | None = None) -> int:
    """How many worker processes the plan will likely want, before the data is loaded (its
    trading dates guessed from the spec's start and end, else assumed many): what the runner
    starts early, so that their start-up overlaps the load. 1: none worth starting. A given
    `batch_size` cuts the tasks whatever the work (Plan.for_combos).

    >>> early_processes(168, 1, 262, budget=2), early_processes(20_160, 1, 262, budget=2)
    (1, 2)
    >>> early_processes(168, 1, 262, budget=2, batch_size=21)  # 8 tasks
    2
    """
    if batch_size is not None:
        return split_budget(budget, max(1, math.ceil(n_combos / batch_size)))[0]
    if n_dates is not None and n_combos * slots * n_dates < SECOND_PROCESS_MIN_WORK:
        return 1
    return split_budget(budget, max(1, n_combos))[0]


def plan_tasks(combos: Sequence[RunParams], processes: int,
               batch_size: int | None = None) -> list[Task]:
    """Group combos by RangeRules, then by ExitRules (both in order of first appearance,
    combos in grid order within), and cut each group into batches; whole groups smaller
    than a batch share a task while they fit."""
    if batch_size is None:
        batch_size = _even_batch(len(combos), processes)
    groups: dict[RangeRules, dict[ExitRules, list[RunParams]]] = {}
    for rp in combos:
        walks = groups.setdefault(RangeRules.from_params(rp), {})
        walks.setdefault(ExitRules.from_params(rp), []).append(rp)
    batches: list[list[RunParams]] = []
    packing: list[RunParams] = []  # whole small groups, packed while they fit
    for walks in groups.values():
        members = [rp for same_walk in walks.values() for rp in same_walk]
        if len(members) < batch_size:
            if len(packing) + len(members) > batch_size:
                batches.append(packing)
                packing = []
            packing += members
            continue
        batches += [members[start:start + batch_size]
                    for start in range(0, len(members), batch_size)]
    if packing:
        batches.append(packing)
    return [Task(task_id_for(rp.combo_id for rp in batch), tuple(batch)) for batch in batches]


def _even_batch(n_combos: int, processes: int) -> int:
    """A few tasks per process, so processes stay evenly loaded; one process needs one."""
    tasks = processes * TASKS_PER_PROCESS if processes > 1 else 1
    return max(1, math.ceil(n_combos / tasks))


def slots_of(rp: RunParams) -> int:
    """The ranges a combo trades per date: one for your own range, else one per enabled
    slot; times the entries a range may take (max_entries_per_day).

    >>> slots_of(RunParams(instrument="ES"))  # every slot of the default session
    7
    """
    per_date = (1 if rp.range_start is not None
                else sum(len(rp.slots_for(session)) for session in rp.enabled_sessions))
    return per_date * rp.max_entries_per_day


def task_id_for(combo_ids: Iterable[str]) -> str:
    """A task id naming all of its combos, so no later batch can reuse a finished shard's name."""
    return hashlib.sha256(",".join(sorted(combo_ids)).encode()).hexdigest()[:16]
