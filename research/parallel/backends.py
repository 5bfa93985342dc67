"""One façade over the backends (like joblib's): loky, sequential or dask behind one call.

Nothing else in the package knows which backend runs: the runner hands tasks to
`run_tasks` and consumes results in completion order; `start_workers` spawns and warms
the worker processes ahead of the first task where that pays.

>>> list(run_tasks(pow, 2, [3, 4], (), ParallelSpec(backend="sequential").resolved(), 1))
[8, 16]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import joblib

from research.parallel.settings import ParallelSpec

T = TypeVar("T")


def run_tasks(fn: Callable[..., T], data: Any, tasks: Sequence[Any], extra_args: tuple,
              settings: ParallelSpec, processes: int) -> Iterator[T]:
    """Yield ``fn(data, task, *extra_args)`` for every task, in completion order.

    `settings` are resolved ParallelSpec settings. `data` (the bars) reaches each worker
    once: loky memory-maps its large arrays, dask scatters it to every worker up front.
    """
    if not tasks:
        return
    if settings.backend == "dask":
        from research.parallel.dask_backend import dask_results

        yield from dask_results(fn, data, tasks, extra_args, scheduler=settings.scheduler,
                                n_workers=processes)
        return
    calls = (joblib.delayed(fn)(data, task, *extra_args) for task in tasks)
    with worker_config(settings.backend):
        yield from joblib.Parallel(n_jobs=processes, return_as="generator_unordered")(calls)


def worker_config(backend: str) -> joblib.parallel_config:
    """joblib's configuration for a local backend. BLAS/OpenMP/numba threads in workers
    are pinned to 1: the engine's own threads are the only inner parallelism (DESIGN §4)."""
    if backend == "sequential":
        return joblib.parallel_config(backend="sequential")
    return joblib.parallel_config(backend="loky", inner_max_num_threads=1)


def start_workers(settings: ParallelSpec, processes: int,
                  warm_up: Callable[[], Any]) -> threading.Thread:
    """Spawn the loky workers and run `warm_up` in each, on a background thread.

    Otherwise workers spawn and import the engine when the first task arrives, on the
    critical path; loky keeps them for the run's own Parallel call. Other backends (or a
    single process) need nothing: the returned thread ends at once.
    """
    def spawn() -> None:
        if settings.backend == "loky" and processes > 1:
            with worker_config("loky"):
                joblib.Parallel(n_jobs=processes)(
                    joblib.delayed(warm_up)() for _ in range(processes))

    thread = threading.Thread(target=spawn, name="research-start-workers", daemon=True)
    thread.start()
    return thread
