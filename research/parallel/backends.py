"""One façade over the backends (like joblib's): loky, sequential or dask behind one call.

Nothing else in the package knows which backend runs: the runner hands tasks to
`run_tasks` and consumes results in completion order.

>>> list(run_tasks(pow, 2, [3, 4], (), ParallelSpec(backend="sequential").resolved(), 1))
[8, 16]
"""

from __future__ import annotations

import os
import threading
import time
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


def release_workers(settings: ParallelSpec) -> None:
    """Stop the idle local worker processes once a sweep has no more tasks for them.

    loky keeps its workers for reuse, waiting 300 s for more work, each holding its memory
    (~300 MB here) through the compaction and after; the next sweep starts fresh ones
    (about a second). The shutdown is the one joblib's maintainers give (joblib#945).

    >>> release_workers(ParallelSpec(backend="sequential").resolved())  # nothing to stop
    """
    if settings.backend != "loky":
        return
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor(reuse=True).shutdown(wait=True)


def worker_config(backend: str) -> joblib.parallel_config:
    """joblib's configuration for a local backend. BLAS/OpenMP/numba threads in workers
    are pinned to 1: the engine's own threads are the only inner parallelism (docs/architecture.md).
    Each loky worker watches its parent from its start (the executor's initializer, which
    joblib hands to loky's reusable executor)."""
    if backend == "sequential":
        return joblib.parallel_config(backend="sequential")
    return joblib.parallel_config(backend="loky", inner_max_num_threads=1,
                                  initializer=watch_parent, initargs=(os.getpid(),))


_WATCHED: list[int] = []  # the parent pid this worker process watches, once started
PARENT_CHECK_S = 1.0


def watch_parent(parent: int) -> None:
    """Exit this worker within PARENT_CHECK_S of its parent's death (SIGKILL, OOM): loky
    workers otherwise wait on their queue for minutes, holding their memory. `parent` is the
    pid that started the pool: a worker whose parent died while it was still starting is
    already re-parented, so it ends at once."""
    if _WATCHED:
        return
    _WATCHED.append(parent)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="research-parent-watch", daemon=True).start()
