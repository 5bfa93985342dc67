"""One façade over the backends (like joblib's): loky, sequential or dask behind one call.

Nothing else in the package knows which backend runs: the runner opens one `Session` per
sweep, hands it each chunk's tasks and consumes results in completion order. A session is
the one backend of a sweep: one loky executor (its workers may be started early, while the
data loads: `start_workers`), one dask client and cluster with the bars scattered once,
whatever the number of chunks.

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
    """Yield ``fn(data, task, *extra_args)`` for every task, in completion order, on a
    session of its own (`Session`: one chunk of tasks).

    `settings` are resolved ParallelSpec settings. `data` (the bars) reaches each worker
    once: loky memory-maps its large arrays, dask scatters it to every worker up front.
    """
    if not tasks:
        return
    with Session(settings, data) as session:
        yield from session.results(fn, tasks, extra_args, processes)


class Session:
    """The backend of one sweep, opened once and used for every chunk of its tasks.

    `data` is what `fn` gets as its first argument; `shared`, where given, is what loky
    workers get instead (a small handle that opens the same data once per worker, such as
    research.shared_bars.BarsFile: nothing large is pickled per task). Dask scatters `data`
    to every worker once, on the first chunk, whose `processes` size a local cluster.

    >>> with Session(ParallelSpec(backend="sequential").resolved(), 2) as session:
    ...     [sorted(session.results(pow, [3, 4], (), 1)) for _ in range(2)]  # two chunks
    [[8, 16], [8, 16]]
    """

    def __init__(self, settings: ParallelSpec, data: Any, *, shared: Any = None) -> None:
        self.settings = settings
        self.data = data
        self.shared = data if shared is None else shared
        self._dask: Any = None  # research.parallel.dask_backend.DaskSession, once opened
        self._warm: Iterator[Any] | None = None  # loky workers starting (start_workers)
        self.started_early = 0  # how many workers start_workers started

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_workers(self, processes: int, fn: Callable[..., Any], args: tuple = ()) -> bool:
        """Start `processes` loky workers now, each calling ``fn(*args)`` once (imports,
        the compiled kernels from numba's cache), so that their start-up overlaps whatever
        the parent does next (loading the data, planning). Returns whether any started:
        only loky, and only with 2 processes or more, has workers to start early."""
        if self.settings.backend != "loky" or processes < 2 or self._warm is not None:
            return False
        calls = (joblib.delayed(fn)(*args) for _ in range(processes))
        with worker_config("loky"):
            # A generator returns at once, its first calls already dispatched (joblib); the
            # executor it starts is the reusable one the chunks' calls get again, as long as
            # n_jobs and the configuration match (joblib.executor.get_memmapping_executor).
            self._warm = joblib.Parallel(n_jobs=processes,
                                         return_as="generator_unordered")(calls)
        self.started_early = processes
        return True

    def results(self, fn: Callable[..., T], tasks: Sequence[Any], extra_args: tuple,
                processes: int) -> Iterator[T]:
        """Yield ``fn(data, task, *extra_args)`` for every task, in completion order."""
        if not tasks:
            return
        if self.settings.backend == "dask":
            yield from self._dask_session(processes, fn).results(fn, tasks, extra_args)
            return
        if processes > 1:
            self._finish_warm_up()  # one joblib call at a time on the reusable executor
        elif self._warm is not None:  # a plan of one process: the early workers are not needed
            _close_quietly(self._warm)
            self._warm = None
        data = self.shared if self.settings.backend == "loky" and processes > 1 else self.data
        calls = (joblib.delayed(fn)(data, task, *extra_args) for task in tasks)
        with worker_config(self.settings.backend):
            results = joblib.Parallel(n_jobs=processes, return_as="generator_unordered")(calls)
            try:
                for result in results:  # noqa: UP028 - `yield from` would close them unquieted
                    yield result
            finally:
                _close_quietly(results)

    def close(self) -> None:
        """Close the warm-up (if still running) and any dask client and cluster."""
        if self._warm is not None:
            _close_quietly(self._warm)
            self._warm = None
        if self._dask is not None:
            dask, self._dask = self._dask, None
            dask.close()

    def _finish_warm_up(self) -> None:
        if self._warm is not None:
            warm, self._warm = self._warm, None
            try:
                for _ in warm:
                    pass
            finally:
                _close_quietly(warm)

    def _dask_session(self, processes: int, fn: Callable[..., Any]) -> Any:
        if self._dask is None:
            from research.parallel.dask_backend import DaskSession

            self._dask = DaskSession(self.data, scheduler=self.settings.scheduler,
                                     n_workers=processes,
                                     modules=(getattr(fn, "__module__", None),))
        return self._dask


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
