"""Inner parallel layer: one worker's ranges, cut into contiguous slices, run on threads.

Threads pay off because the engine's per-slice work is numba code compiled with
``nogil=True``; pure-Python work would serialise on the GIL and gain nothing. The
processor is generic: it knows nothing about bars or trades, only that ``process_slice``
maps a contiguous slice of ranges to one result, shares no mutable state with other slices
and gives the same answer however the ranges are sliced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from research.parallel.budget import cpu_budget
from research.parallel.interrupt import checkpoint, deferred

R = TypeVar("R")
T = TypeVar("T")
U = TypeVar("U")

SLICES_PER_THREAD = 4
"""Several slices per thread, so a thread that drew cheap slices takes more instead of idling."""

Bounds = list[tuple[int, int]]


class RangeProcessingError(RuntimeError):
    """A range made ``process_slice`` raise; names the range so the user can find it.

    ``index`` is the range's position in the input (None when no single range fails on its
    own) and ``label`` its label. Picklable, so it survives the trip back from a worker
    process.
    """

    def __init__(self, message: str, index: int | None = None, label: str | None = None):
        super().__init__(message)
        self.index = index
        self.label = label


@dataclass(frozen=True, slots=True)
class ProcessorStats:
    """What the last run did: enough to tell whether threads were used and how long it took."""

    ranges: int
    slices: int
    threads: int
    seconds: float
    parallel: bool


def range_label(item: object) -> str:
    """How an error names a range: its ``label`` (SlotRange: "2024-01-09 S1 07:30") or repr."""
    return str(getattr(item, "label", repr(item)))


def work_weights(ranges: Sequence[Any], weights: Any = None) -> np.ndarray:
    """Expected work per range, used to balance slices.

    Taken from ``weights`` if given, else ``ranges.work_estimates`` (a sequence type that
    knows its costs in bulk), else each item's ``work_estimate`` (default 1).
    """
    if weights is not None:
        source = "weights"
        values = np.asarray(weights, dtype=float)
    elif getattr(ranges, "work_estimates", None) is not None:
        source = "ranges.work_estimates"
        values = np.asarray(ranges.work_estimates, dtype=float)  # type: ignore[attr-defined]
    else:
        source = "work_estimate"
        values = np.fromiter(
            (getattr(item, "work_estimate", 1) for item in ranges), dtype=float, count=len(ranges)
        )
    if values.shape != (len(ranges),):
        raise ValueError(
            f"{source} must hold one number per range: shape {values.shape}, {len(ranges)} ranges"
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{source} must be finite and non-negative")
    return values


def slice_bounds(weights: np.ndarray, n_slices: int) -> Bounds:
    """Contiguous, non-empty ``(start, stop)`` slices covering every range exactly once.

    Boundaries sit where the cumulative weight is nearest to equal shares, so slices carry
    about the same work. Boundaries that coincide (heavy ranges, zero weights) merge, so
    there may be fewer slices than asked. No ranges still gives one (empty) slice, so every
    run yields at least one result.

    >>> slice_bounds(np.ones(10), 4)
    [(0, 2), (2, 5), (5, 7), (7, 10)]
    """
    n_ranges = len(weights)
    n_slices = max(1, min(n_slices, n_ranges))
    if n_slices == 1:
        return [(0, n_ranges)]
    weights = np.asarray(weights, dtype=float)
    if weights.sum() <= 0:
        weights = np.ones(n_ranges)
    cumulative = np.cumsum(weights)  # cumulative[i]: work of ranges 0..i
    targets = cumulative[-1] * np.arange(1, n_slices) / n_slices
    after = np.searchsorted(cumulative, targets, side="left")  # first i with cum[i] >= target
    before_work = np.where(after > 0, cumulative[np.maximum(after - 1, 0)], 0.0)
    # cut before range `after` or after it, whichever lands nearer the target share
    cut_after = (cumulative[after] - targets) < (targets - before_work)
    cuts = np.clip(np.where(cut_after, after + 1, after), 1, n_ranges - 1)
    edges = [0, *sorted({int(cut) for cut in cuts}), n_ranges]
    return list(zip(edges[:-1], edges[1:], strict=True))


class ParallelProcessor:
    """Runs a slice function over contiguous slices of ranges on a thread pool.

    Results come back per slice, in input order, so the caller can concatenate them and get
    exactly what a sequential run gives. Not meant to be shared by concurrent callers:
    ``stats`` describes the instance's last run.

    >>> processor = ParallelProcessor(max_workers=2)
    >>> processor.map(range(6), lambda r: r * r)
    [0, 1, 4, 9, 16, 25]
    >>> processor.stats.threads, processor.stats.ranges
    (2, 6)
    """

    def __init__(self, max_workers: int | None = None, enable_parallel: bool = True):
        if max_workers is None:
            max_workers = cpu_budget()
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(f"max_workers must be a positive integer or None, got {max_workers!r}")
        self.max_workers = max_workers
        self.enable_parallel = enable_parallel
        self.stats: ProcessorStats | None = None

    def plan(self, ranges: Sequence[Any], weights: Any = None) -> Bounds:
        """The slices a parallel run would use: a few per thread, balanced by work.

        >>> ParallelProcessor(max_workers=2).plan(range(16))  # 4 slices per thread
        [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14), (14, 16)]
        """
        return slice_bounds(
            work_weights(ranges, weights), min(len(ranges), SLICES_PER_THREAD * self.max_workers)
        )

    def process(
        self,
        ranges: Sequence[R],
        process_slice: Callable[[Sequence[R]], T],
        *,
        weights: Any = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[T]:
        """``process_slice`` of each contiguous slice of ``ranges``, in input order.

        Sequential (one ``process_slice(ranges)`` call in this thread, so a single result)
        when parallelism is off, there are fewer than 2 ranges or one worker. ``progress``
        gets the number of ranges each finished slice held; it is only ever called from
        this thread, so it needs no lock. Raises RangeProcessingError naming the first
        failing range; never returns partial results. A Ctrl-C or SIGTERM is raised
        between slices, never inside one (research.parallel.interrupt).

        >>> ParallelProcessor(max_workers=2).process(list(range(16)), sum)  # a sum per slice
        [1, 5, 9, 13, 17, 21, 25, 29]
        """
        self.stats = None
        started = time.perf_counter()
        n_ranges = len(ranges)
        if not self.enable_parallel or n_ranges < 2 or self.max_workers == 1:
            if weights is not None:
                work_weights(ranges, weights)  # reject bad weights on every path alike
            results = self._run_sequential(ranges, process_slice, [(0, n_ranges)], progress)
            bounds, threads, parallel = [(0, n_ranges)], 1, False
        else:
            bounds = self.plan(ranges, weights)
            threads = min(self.max_workers, len(bounds))
            results = self._run_threads(ranges, process_slice, bounds, threads, progress)
            parallel = True
        self.stats = ProcessorStats(
            ranges=n_ranges,
            slices=len(bounds),
            threads=threads,
            seconds=time.perf_counter() - started,
            parallel=parallel,
        )
        return results

    def map(
        self,
        ranges: Sequence[R],
        fn: Callable[[R], U],
        *,
        weights: Any = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[U]:
        """``[fn(r) for r in ranges]``, computed slice-wise on threads.

        >>> ParallelProcessor(max_workers=2).map(["a", "bb", "ccc"], len)
        [1, 2, 3]
        """

        def process_slice(part: Sequence[R]) -> list[U]:
            return [fn(item) for item in part]

        slices = self.process(ranges, process_slice, weights=weights, progress=progress)
        return [value for part in slices for value in part]

    @staticmethod
    def _run_sequential(
        ranges: Sequence[R],
        process_slice: Callable[[Sequence[R]], T],
        bounds: Bounds,
        progress: Callable[[int], None] | None,
    ) -> list[T]:
        """Each slice in turn in this thread; the whole input is passed as is, not copied."""
        results: list[T] = []
        for start, stop in bounds:
            part = ranges if (start, stop) == (0, len(ranges)) else ranges[start:stop]
            try:
                with deferred():  # a signal waits for the kernel to return (interrupt.py)
                    results.append(process_slice(part))
            except Exception as exc:
                failure, cause = _locate_failure(ranges, process_slice, start, stop, exc)
                raise failure from cause
            checkpoint()  # between slices: stopping here leaves nothing half done
            if progress is not None:
                progress(stop - start)
        return results

    @staticmethod
    def _run_threads(
        ranges: Sequence[R],
        process_slice: Callable[[Sequence[R]], T],
        bounds: Bounds,
        threads: int,
        progress: Callable[[int], None] | None,
    ) -> list[T]:
        """Slices on a thread pool; on the first failure, cancel what has not started."""
        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="research-slice")
        try:
            futures: list[Future[T]] = [
                pool.submit(process_slice, ranges[start:stop]) for start, stop in bounds
            ]
            slice_of = {future: index for index, future in enumerate(futures)}
            for future in as_completed(futures):
                checkpoint()  # a signal kept while a slice ran (interrupt.deferred)
                if future.exception() is not None:
                    break
                if progress is not None:
                    start, stop = bounds[slice_of[future]]
                    progress(stop - start)
        finally:
            # cancels queued slices and waits for running ones, also on KeyboardInterrupt
            pool.shutdown(wait=True, cancel_futures=True)
        checkpoint()  # a slice's error while a signal is pending is the signal's doing
        for (start, stop), future in zip(bounds, futures, strict=True):
            # the pool runs slices in submission order, so every slice before the first
            # cancelled one has run: the first failure found here is the first in the input
            if future.cancelled():
                continue
            exc = future.exception()
            if exc is None:
                continue
            if not isinstance(exc, Exception):
                raise exc
            failure, cause = _locate_failure(ranges, process_slice, start, stop, exc)
            raise failure from cause
        return [future.result() for future in futures]


def _first_failing_range(
    ranges: Sequence[Any], process_slice: Callable[[Sequence[Any]], Any], start: int, stop: int
) -> tuple[int, Exception] | None:
    """Re-run a failed slice's ranges one at a time in this thread to find the culprit."""
    for index in range(start, stop):
        try:
            process_slice(ranges[index : index + 1])
        except Exception as exc:
            return index, exc
    return None


def _locate_failure(
    ranges: Sequence[Any],
    process_slice: Callable[[Sequence[Any]], Any],
    start: int,
    stop: int,
    exc: Exception,
) -> tuple[RangeProcessingError, Exception]:
    """The error to raise for a failed slice, and its cause.

    Names the first range that fails on its own (cause: that range's own error); if none
    does, the slice as a whole (cause: the slice's error).
    """
    if start == stop:
        return RangeProcessingError(
            f"process_slice failed on no ranges: {type(exc).__name__}: {exc}"
        ), exc
    found = _first_failing_range(ranges, process_slice, start, stop)
    if found is None:
        first, last = range_label(ranges[start]), range_label(ranges[stop - 1])
        return RangeProcessingError(
            f"ranges {start}..{stop - 1} ({first} .. {last}) failed together but none fails "
            f"on its own: {type(exc).__name__}: {exc}"
        ), exc
    index, single_exc = found
    label = range_label(ranges[index])
    return RangeProcessingError(
        f"range {label} (index {index}) failed: {type(single_exc).__name__}: {single_exc}",
        index=index,
        label=label,
    ), single_exc
