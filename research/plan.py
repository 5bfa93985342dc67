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

from research.engine.execution import ExitRules
from research.engine.params import RunParams
from research.engine.ranges import RangeRules
from research.parallel.budget import split_budget

TASKS_PER_PROCESS = 4  # a few tasks per process keeps the processes evenly loaded
ROWS_PER_TASK = 131_072  # caps a task by its rows, so memory stays flat as the grid grows
# Below this much work (combos x ranges) a second process costs more than it saves: its
# start-up, imports and the bars' trip outweigh the split (measured: benchmarks/sweep.py).
SECOND_PROCESS_MIN_WORK = 1_000_000


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
    """Tasks and the split of the CPU budget into processes x threads (docs/architecture.md)."""

    tasks: tuple[Task, ...]
    processes: int
    threads: int
    budget: int

    @classmethod
    def for_combos(cls, combos: Sequence[RunParams], budget: int,
                   batch_size: int | None = None, *, n_dates: int | None = None,
                   single_process_below: int = SECOND_PROCESS_MIN_WORK) -> Plan:
        """Cut `combos` into tasks, then split `budget` for that many tasks.

        With `n_dates` (the data's trading dates) a task holds at most ROWS_PER_TASK rows
        (a combo writes at most one row per date and slot), and a sweep whose work (combos
        x ranges) is below `single_process_below` stays in one process, its threads taking
        the whole budget. A given `batch_size` is a cut the caller chose: used as it is,
        spread over processes as usual.
        """
        rows = [n_dates * _slots(rp) for rp in combos] if n_dates is not None else None
        few = batch_size is None and rows is not None and sum(rows) < single_process_below
        processes, _ = split_budget(1 if few else budget, max(1, len(combos)))
        if batch_size is None and rows:
            batch_size = min(_even_batch(len(combos), processes),
                             max(1, ROWS_PER_TASK // max(1, max(rows))))
        tasks = plan_tasks(combos, processes, batch_size)
        processes, threads = split_budget(budget, max(1, len(tasks)))
        if few:
            processes, threads = 1, budget
        return cls(tuple(tasks), processes, threads, budget)

    def to_dict(self) -> dict[str, int]:
        return {"processes": self.processes, "threads": self.threads, "tasks": len(self.tasks)}


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


def _slots(rp: RunParams) -> int:
    """Ranges per date: one for your own range, else one per enabled slot; times the
    entries a range may take (max_entries_per_day)."""
    per_date = (1 if rp.range_start is not None
                else sum(len(rp.slots_for(session)) for session in rp.enabled_sessions))
    return per_date * rp.max_entries_per_day


def task_id_for(combo_ids: Iterable[str]) -> str:
    """A task id naming all of its combos, so no later batch can reuse a finished shard's name."""
    return hashlib.sha256(",".join(sorted(combo_ids)).encode()).hexdigest()[:16]
