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
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import joblib

from research.parallel.interrupt import ignore_interrupts_in_worker
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
        results = joblib.Parallel(n_jobs=processes, return_as="generator_unordered")(calls)
        try:
            for result in results:  # noqa: UP028 - `yield from` would close them unquieted
                yield result
        finally:
            _close_quietly(results)


def _close_quietly(results: Iterator[Any]) -> None:
    """Close joblib's generator without its warning that tasks were cancelled: the runner
    stops early on purpose (a Ctrl-C, a dead worker), and says so in its own words."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*(have been cancelled|but not used)",
                                category=UserWarning)
        results.close()


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
    already re-parented, so it ends at once. The worker ignores SIGINT: a terminal's Ctrl-C
    is the parent's to handle (it stops the workers; interrupt.ignore_interrupts_in_worker)."""
    if _WATCHED:
        return
    _WATCHED.append(parent)
    if os.getpid() != parent:  # a worker, never the parent itself
        ignore_interrupts_in_worker()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="research-parent-watch", daemon=True).start()
