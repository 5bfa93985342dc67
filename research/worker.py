"""What one task does, inside a worker (like scikit-learn's ``_fit_and_score``).

A task is a batch of combos of one or more RangeRules: each key's shared stages run once,
the exit walk once per ExitRules, the rows stage per combo; then the rows of all its combos become
one set of columns, its metrics and daily series one compiled pass (no per-combo frame).
A combo that raises is recorded with its traceback and the others go on; the worker
returns everything, shards already encoded, to the parent, the only writer. Run in the
parent (one process), a task keeps a Ctrl-C or SIGTERM until its kernels return and
raises it between combos: an interruption is never recorded as a failed combo
(research.parallel.interrupt).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from research.engine.bars import Bars
from research.engine.entry import EntryTable
from research.engine.execution import ExitRules, TradeBatch
from research.engine.params import RunParams
from research.engine.pipeline import ENGINE_STAGES, Pipeline, SharedRanges, Stages
from research.engine.ranges import RangeTable, weekday_trading_days
from research.engine.results import RowPiece, undecided_rows
from research.parallel.interrupt import checkpoint, deferred
from research.parallel.processor import ParallelProcessor
from research.plan import Task
from research.results.daily import daily_table
from research.results.metrics import ComboRows, grouped_metrics
from research.results.schemas import TRADES_SCHEMA, trades_table
from research.results.store import encode_shards
from research.shared_bars import BarsFile, forget_opened, opened_bars

WARM_UP_WAIT_S = 60.0  # the longest a warm worker waits for the others to start
# ExitRules walked in one compiled call: the per-call Python costs about as much as one
# combo's walk (benchmarks/walk.py), and a call stays short enough for a signal to wait.
RULES_PER_CALL = 64


@dataclass(frozen=True, slots=True)
class TaskResult:
    task_id: str
    summaries: list[dict[str, Any]]  # combo_id and its METRIC_COLUMNS, per finished combo
    trades: bytes | None  # parquet bytes of a TRADES_SCHEMA table; None: trades not stored
    daily: bytes  # parquet bytes of the finished combos' daily rows (research.results.daily)
    failures: list[dict[str, Any]]
    engine_seconds: float
    worker: dict[str, Any] = field(default_factory=dict)


def run_task(bars: Bars | BarsFile, task: Task, as_of_ns: int, threads: int,
             stages: Stages = ENGINE_STAGES, store_trades: bool = True,
             seconds: Bars | None = None) -> TaskResult | SpooledResult:
    """Run one task's combos on `threads` engine threads (`seconds`: 1-second bars that
    decide ambiguous trades, data.resolve_with). `bars` may be a research.shared_bars
    BarsFile, mapped once per worker process; the result then comes back spooled in that
    file's folder (`SpooledResult`: read it with `unspooled`)."""
    with deferred():  # kernels run in this thread: a signal waits for a checkpoint
        result = _run_task(opened_bars(bars), task, as_of_ns, threads, stages, store_trades,
                           seconds)
    return _spooled(result, bars) if isinstance(bars, BarsFile) else result


@dataclass(frozen=True, slots=True)
class SpooledResult:
    """A loky worker's TaskResult, left in a file of the sweep's private bars folder: what
    goes back through the pipe is this path, a few hundred bytes.

    Why: loky reads every worker's results from one pipe. A worker killed (SIGKILL, the OOM
    killer) part-way through sending a result larger than the pipe writes in one go leaves
    half a message, and loky's manager thread waits for the rest forever
    (``process_executor.wait_result_broken_or_wakeup`` blocked in ``recv``): the sweep hangs
    instead of failing those combos. A small message is written whole or not at all
    (CPython's ``Connection._send_bytes`` sends up to 16 KiB in one write; a Linux pipe
    takes a write that fits its free space whole).

    >>> SpooledResult("/tmp/research-bars-x/result-t1-42.pickle").path[-6:]
    'pickle'
    """

    path: str


def _spooled(result: TaskResult, bars: BarsFile) -> SpooledResult:
    folder = os.path.dirname(bars.path)  # the parent's mkdtemp folder, mode 0700
    path = os.path.join(folder, f"result-{result.task_id}-{os.getpid()}.pickle")
    with open(path, "wb") as out:
        pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
    return SpooledResult(path)


def unspooled(result: TaskResult | SpooledResult) -> TaskResult:
    """The TaskResult a worker returned, read back (and its file removed) if it was spooled.

    >>> unspooled(TaskResult("t", [], None, b"", [], 0.0)).task_id
    't'
    """
    if not isinstance(result, SpooledResult):
        return result
    # Our own file in our own private folder (mkdtemp, 0700), written by our own worker.
    with open(result.path, "rb") as spool:
        loaded = pickle.load(spool)  # noqa: S301
    os.unlink(result.path)
    return loaded


def warm_up(handle: BarsFile, workers: int = 1, wait_s: float = WARM_UP_WAIT_S) -> int:
    """What a worker started early does once, while the parent loads the data: the imports
    (unpickling this call did them), then one combo on the tiny read-only bars of `handle`
    (research.shared_bars.warm_up_bars), so every kernel the engine calls is loaded from
    numba's cache or compiled. Then it waits (at most `wait_s`) until `workers` processes
    have arrived, so that each of the `workers` calls warms a different worker: a worker
    done early would otherwise take a second call while another has not started yet.
    Returns the worker's pid.

    >>> from research.shared_bars import shared_bars, warm_up_bars
    >>> with shared_bars(warm_up_bars(), "warm") as handle:
    ...     warm_up(handle) == os.getpid()
    True
    """
    bars = opened_bars(handle)
    rp = RunParams(instrument="ES")
    run_task(bars, Task("warm-up", (rp,)), bars.last_ts_ns, 1, ENGINE_STAGES, True)
    forget_opened()  # the sweep's own bars come next
    # the handle's folder is the parent's own (mkdtemp, mode 0700): one empty file a worker
    folder = os.path.dirname(handle.path)
    with open(os.path.join(folder, f"arrived-{os.getpid()}"), "wb"):
        pass
    deadline = time.monotonic() + wait_s
    while (time.monotonic() < deadline and
           sum(name.startswith("arrived-") for name in os.listdir(folder)) < workers):
        time.sleep(0.01)
    return os.getpid()


def _run_task(bars: Bars, task: Task, as_of_ns: int, threads: int, stages: Stages,
              store_trades: bool, seconds: Bars | None) -> TaskResult:
    started = time.perf_counter()
    pipeline = Pipeline(bars, as_of_ns, ParallelProcessor(max_workers=threads), stages,
                        seconds)
    failures: list[dict[str, Any]] = []
    done: list[RunParams] = []
    walks: list[TradeBatch] = []
    pieces: list[RowPiece] = []
    tables: list[SharedRanges] = []  # each key's shared stages, their rows one after another
    offset = 0
    for range_rules, combos in task.groups():
        try:
            shared = pipeline.shared(range_rules)
        except Exception as exc:  # noqa: BLE001 - every combo of the key fails alike
            checkpoint()  # unless a signal caused it
            failures += [failure_record(rp, exc) for rp in combos]
            continue
        rules_of = [_exit_rules(rp) for rp in combos]
        walk_of = _walks(pipeline, shared, rules_of, walks, offset)
        for rp, rules in zip(combos, rules_of, strict=True):
            checkpoint()  # between combos: a signal stops the task here
            walk_no = walk_of[rules] if isinstance(rules, ExitRules) else rules
            if isinstance(walk_no, BaseException):  # its rules or its walk failed
                failures.append(failure_record(rp, walk_no))
                continue
            try:
                pieces.append(RowPiece.of(rp, pipeline.rows(shared, walks[walk_no], rp),
                                          walk_no))
                done.append(rp)
            except Exception as exc:  # noqa: BLE001 - recorded in the manifest
                checkpoint()
                failures.append(failure_record(rp, exc))
        tables.append(shared)
        offset += len(shared)
    shared_all = None
    if tables:
        shared_all = SharedRanges(RangeTable.concat([t.table for t in tables]),
                                  EntryTable.concat([t.entries for t in tables]))
    try:
        summaries, trades, daily = _outputs(pipeline, shared_all, walks, pieces, done,
                                            task.task_id, store_trades)
    except Exception as exc:  # noqa: BLE001 - the task's columns: its combos fail together
        checkpoint()
        failures += [failure_record(rp, exc) for rp in done]
        summaries, trades, daily = _outputs(pipeline, None, [], [], [], task.task_id,
                                            store_trades)
    worker = {"pid": os.getpid(), "threads": threads,
              "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
              "bars_array_type": type(bars.ts_ns).__name__}  # memmap: shared, not copied
    return TaskResult(task.task_id, summaries, trades, daily, failures,
                      time.perf_counter() - started, worker)


def _exit_rules(rp: RunParams) -> ExitRules | Exception:
    try:
        return ExitRules.from_params(rp)
    except Exception as exc:  # noqa: BLE001 - the combo fails, recorded in the manifest
        checkpoint()
        return exc


def _walks(pipeline: Pipeline, shared: SharedRanges, rules_of: list[ExitRules | Exception],
           walks: list[TradeBatch], offset: int) -> dict[ExitRules, int | Exception]:
    """Each distinct ExitRules' walk, appended to `walks` (its range rows moved by `offset`,
    the rows of the task's table before this key's): its number there, or what its walk
    raised. Combos equal on ExitRules share the walk; RULES_PER_CALL rules go to the
    compiled walk at once, and where such a call fails each of its rules is walked alone,
    so only the combos whose own walk fails fail."""
    unique = list(dict.fromkeys(r for r in rules_of if isinstance(r, ExitRules)))
    walk_of: dict[ExitRules, int | Exception] = {}
    for start in range(0, len(unique), RULES_PER_CALL):
        chunk = unique[start:start + RULES_PER_CALL]
        try:
            batches: list[TradeBatch | Exception] = list(pipeline.exits_for(shared, chunk))
        except Exception:  # noqa: BLE001 - found rules by rules below
            checkpoint()
            batches = [_one_walk(pipeline, shared, rules) for rules in chunk]
        for rules, walk in zip(chunk, batches, strict=True):
            if isinstance(walk, Exception):
                walk_of[rules] = walk
                continue
            if offset:  # rows of the task's table: this key's come after the others'
                walk = dataclasses.replace(walk, range_row=walk.range_row + offset)
            walks.append(walk)
            walk_of[rules] = len(walks) - 1
    return walk_of


def _one_walk(pipeline: Pipeline, shared: SharedRanges,
              rules: ExitRules) -> TradeBatch | Exception:
    try:
        return pipeline.exits(shared, rules)
    except Exception as exc:  # noqa: BLE001 - its combos fail, recorded in the manifest
        checkpoint()
        return exc


def _outputs(pipeline: Pipeline, shared: SharedRanges | None, walks: list[TradeBatch],
             pieces: list[RowPiece], done: list[RunParams], task_id: str,
             store_trades: bool) -> tuple[list[dict[str, Any]], bytes | None, bytes]:
    """The finished combos' summary rows, trades shard and daily shard, from one set of
    columns for the whole task."""
    dates = weekday_trading_days(pipeline.bars)
    combo_ids = [rp.combo_id for rp in done]
    lengths = np.array([len(p.rows) for p in pieces], np.int64)
    rows = None if shared is None else pipeline.columns(shared, walks, pieces)
    if rows is None or not pieces:
        metrics, cents = {}, np.zeros((0, len(dates)), np.int64)
    else:
        metrics, cents = grouped_metrics(ComboRows(
            starts=np.concatenate([[0], np.cumsum(lengths)]), result=rows.trades.result,
            profit=rows.columns.values["profit"], peak=rows.columns.values["peak"],
            gross_cents=rows.money.gross_cents, costs_cents=rows.money.costs_cents,
            net_cents=rows.money.net_cents,
            day_index=np.searchsorted(dates, rows.ranges.trading_day),
            pessimistic_cents=rows.pessimistic_cents, optimistic_cents=rows.optimistic_cents,
            ambiguous=rows.columns.values["ambiguous"],
            undecided=undecided_rows(rows.trades)), len(dates))
    names = list(metrics)  # one row per combo from the columns, without indexing each
    per_combo = zip(*metrics.values(), strict=True) if metrics else ((),) * len(combo_ids)
    summaries = [{"combo_id": combo_id, **dict(zip(names, values, strict=True))}
                 for combo_id, values in zip(combo_ids, per_combo, strict=True)]
    trades = None
    if store_trades:
        trades = (TRADES_SCHEMA.empty_table() if rows is None
                  else trades_table(rows.columns, combo_ids, lengths))
    trades_bytes, daily_bytes = encode_shards(task_id, combo_ids, lengths, trades,
                                              daily_table(combo_ids, dates, cents))
    return summaries, trades_bytes, daily_bytes


def failure_record(rp: RunParams, exc: BaseException) -> dict[str, Any]:
    """How the manifest records a failed combo: its id, parameters, error and traceback."""
    return {"combo_id": rp.combo_id, "params": rp.to_dict(),
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(exc))}
