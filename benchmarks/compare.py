"""Sequential vs threaded runs of one slice function, results checked: benchmark helpers.

Not part of the library: a speed-up is measured here and printed, never asserted in tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from research.parallel.processor import ParallelProcessor

R = TypeVar("R")
T = TypeVar("T")


def compare_sequential_threads(processor: ParallelProcessor, ranges: Sequence[R],
                               process_slice: Callable[[Sequence[R]], T], *, repeat: int = 1,
                               weights: Any = None,
                               equal: Callable[[list[T], list[T]], bool] | None = None,
                               ) -> dict[str, Any]:
    """Sequential vs threaded time on the same slices, best of `repeat`, results checked.

    Both runs use the processor's slices (sequential: one after another in this thread), so
    their per-slice results must match one for one; `equal` compares the two lists
    (default: deep equality, numpy arrays element-wise). Raises RuntimeError if they
    differ, since a speed-up that changes the answer is a bug.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat!r}")
    same = equal if equal is not None else identical
    threaded = processor.max_workers > 1 and len(ranges) >= 2  # as processor.process decides
    bounds = processor.plan(ranges, weights) if threaded else [(0, len(ranges))]
    threads = min(processor.max_workers, len(bounds))
    sequential_s = parallel_s = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        sequential = [process_slice(ranges[start:stop]) for start, stop in bounds]
        sequential_s = min(sequential_s, time.perf_counter() - started)
        started = time.perf_counter()
        parallel = processor.process(ranges, process_slice, weights=weights)
        parallel_s = min(parallel_s, time.perf_counter() - started)
        if not same(sequential, parallel):
            raise RuntimeError(
                f"parallel results differ from sequential ones ({len(bounds)} slices, "
                f"{threads} threads); pass `equal` if the default comparison is too strict")
    return {"ranges": len(ranges), "slices": len(bounds), "threads": threads,
            "sequential_s": sequential_s, "parallel_s": parallel_s,
            "speedup": sequential_s / parallel_s if parallel_s > 0 else math.inf,
            "identical": True}


def identical(left: Any, right: Any) -> bool:
    """Deep equality that treats NaN as equal to NaN and compares numpy arrays element-wise."""
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        if not (isinstance(left, np.ndarray) and isinstance(right, np.ndarray)):
            return False
        if left.shape != right.shape or left.dtype != right.dtype:
            return False
        if left.dtype.kind == "O":
            return all(identical(a, b) for a, b in zip(left.flat, right.flat, strict=True))
        return bool(np.array_equal(left, right, equal_nan=left.dtype.kind in "fc"))
    if isinstance(left, list | tuple):
        return (type(left) is type(right) and len(left) == len(right)
                and all(identical(a, b) for a, b in zip(left, right, strict=True)))
    if isinstance(left, dict):
        return (isinstance(right, dict) and list(left) == list(right)
                and all(identical(left[key], right[key]) for key in left))
    if callable(getattr(left, "equals", None)):  # pandas objects: == is element-wise
        return bool(left.equals(right))
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    try:
        return bool(left == right)
    except (TypeError, ValueError):
        return False
