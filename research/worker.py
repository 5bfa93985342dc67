"""What one task does, inside a worker (like scikit-learn's ``_fit_and_score``).

A task is a batch of combos sharing their RangeRules: the shared stages run once, the exit
walk once per ExitRules, then each combo's rows and metrics. A combo that raises is
recorded with its traceback and the others go on; the worker returns everything (the
shard already encoded) to the parent, the only writer.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from research.engine.bars import ARRAY_FIELDS, Bars
from research.engine.execution import ExitRules, TradeBatch
from research.engine.params import RunParams
from research.engine.pipeline import ENGINE_STAGES, Pipeline, Stages
from research.files import parquet_bytes
from research.metrics import combo_metrics
from research.parallel.processor import ParallelProcessor
from research.plan import Task
from research.tables import TRADES_SCHEMA, to_table


@dataclass(frozen=True, slots=True)
class TaskResult:
    task_id: str
    trades: bytes  # parquet_bytes of a TRADES_SCHEMA table: encoded here, in the worker
    summaries: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    engine_seconds: float
    worker: dict[str, Any] = field(default_factory=dict)


def run_task(bars: Bars, task: Task, as_of_ns: int, threads: int,
             stages: Stages = ENGINE_STAGES) -> TaskResult:
    """Run one task's combos on `threads` engine threads."""
    started = time.perf_counter()
    pipeline = Pipeline(bars, as_of_ns, ParallelProcessor(max_workers=threads), stages)
    frames, summaries, failures = [], [], []
    try:
        shared = pipeline.shared(task.range_rules)
    except Exception as exc:  # noqa: BLE001 - every combo of the task fails alike
        failures = [failure_record(rp, exc) for rp in task.combos]
    else:
        walks: dict[ExitRules, TradeBatch] = {}  # combos equal on ExitRules share the walk
        for rp in task.combos:
            try:
                rules = ExitRules.from_params(rp)
                if rules not in walks:
                    walks[rules] = pipeline.exits(shared, rules)
                frame = pipeline.rows(shared, walks[rules], rp)
                summaries.append({"combo_id": rp.combo_id, **combo_metrics(frame)})
                frame.insert(0, "combo_id", rp.combo_id)
                frames.append(frame)
            except Exception as exc:  # noqa: BLE001 - recorded in the manifest
                failures.append(failure_record(rp, exc))
    trades = parquet_bytes(to_table(pd.concat(frames, ignore_index=True), TRADES_SCHEMA)
                           if frames else TRADES_SCHEMA.empty_table())
    worker = {"pid": os.getpid(), "threads": threads,
              "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
              "bars_array_type": type(bars.ts_ns).__name__}  # memmap: shared, not copied
    return TaskResult(task.task_id, trades, summaries, failures,
                      time.perf_counter() - started, worker)


def failure_record(rp: RunParams, exc: BaseException) -> dict[str, Any]:
    """How the manifest records a failed combo: its id, parameters, error and traceback."""
    return {"combo_id": rp.combo_id, "params": rp.to_dict(),
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(exc))}


def load_compiled_kernels() -> int:
    """A worker's warm-up before its first task: import the engine and load the compiled
    kernels from numba's cache for read-only bars, the way tasks receive them (memmaps).
    Returns the worker's pid."""
    from research.engine.data import prepare_bars
    from research.engine.synthetic import synthetic_bars

    bars = prepare_bars(synthetic_bars("ES", "2024-01-02", "2024-01-03", seed=0), "ES")
    for name in ARRAY_FIELDS:
        getattr(bars, name).setflags(write=False)
    run_task(bars, Task("warm-up", (RunParams(instrument="ES"),)), bars.last_ts_ns, threads=1)
    return os.getpid()
