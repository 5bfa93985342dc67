"""benchmarks/compare.py: the sequential-vs-threads helper the benchmarks use."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from benchmarks.compare import compare_sequential_threads, identical
from research.parallel import ParallelProcessor


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_benchmark_reports_identical_results(threads: int) -> None:
    def process_slice(part: Sequence[int]) -> np.ndarray:
        values = np.asarray(list(part), dtype=float)
        return np.where(values % 5 == 0, np.nan, np.sqrt(values))

    report = compare_sequential_threads(ParallelProcessor(max_workers=threads), list(range(50)),
                                        process_slice, repeat=2)
    assert report["identical"] is True
    assert report["ranges"] == 50 and report["threads"] == threads
    assert report["sequential_s"] > 0 and report["parallel_s"] > 0
    assert report["speedup"] == pytest.approx(report["sequential_s"] / report["parallel_s"])


def test_benchmark_raises_when_results_differ() -> None:
    calls = iter(range(10**6))

    def nondeterministic(part: Sequence[int]) -> int:
        return next(calls)

    with pytest.raises(RuntimeError, match=r"^parallel results differ from sequential ones"):
        compare_sequential_threads(ParallelProcessor(max_workers=2), list(range(10)),
                                   nondeterministic)


def test_benchmark_uses_the_given_equality() -> None:
    report = compare_sequential_threads(ParallelProcessor(max_workers=2), list(range(10)),
                                        lambda part: object(),
                                        equal=lambda a, b: len(a) == len(b))
    assert report["identical"] is True


def test_identical_treats_nan_as_equal_and_compares_types():
    assert identical([np.array([np.nan, 1.0])], [np.array([np.nan, 1.0])])
    assert not identical([np.array([1.0])], [np.array([1])])
    assert not identical((1, 2), [1, 2])
    assert identical({"a": float("nan")}, {"a": float("nan")})
