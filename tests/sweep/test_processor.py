"""ParallelProcessor: same answers as a sequential run, in input order, on real threads."""

from __future__ import annotations

import math
import pickle
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import FrozenInstanceError, dataclass
from typing import Any, overload

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.parallel import ParallelProcessor, ProcessorStats, RangeProcessingError
from research.parallel.processor import SLICES_PER_THREAD, slice_bounds

THREAD_COUNTS = [1, 2, 3, 4, 7]


@dataclass(frozen=True)
class FakeRange:
    """Stands in for the engine's SlotRange: a position, a label and a cost."""

    position: int
    work_estimate: float = 1.0

    @property
    def label(self) -> str:
        return f"2024-01-{self.position + 1:02d} S1 07:30"


class RangeView(Sequence[int]):
    """A sequence whose slices are views over one shared array, never copies."""

    def __init__(self, values: np.ndarray, start: int = 0, stop: int | None = None):
        self.values = values
        self.start = start
        self.stop = len(values) if stop is None else stop
        self.work_estimates = np.ones(self.stop - self.start)
        self.work_estimates[: min(2, len(self))] = 100.0  # the first two ranges are heavy

    def __len__(self) -> int:
        return self.stop - self.start

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> RangeView: ...
    def __getitem__(self, index: int | slice) -> int | RangeView:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            assert step == 1, "the processor only takes contiguous slices"
            return RangeView(self.values, self.start + start, self.start + stop)
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return int(self.values[self.start + index % len(self)])

    def __iter__(self) -> Iterator[int]:
        return iter(int(v) for v in self.values[self.start : self.stop])


def as_list(part: Sequence[Any]) -> list[Any]:
    return list(part)


def concatenated(slices: list[list[Any]]) -> list[Any]:
    return [item for part in slices for item in part]


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(
        st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=1e6)), min_size=0, max_size=120
    ),
    threads=st.sampled_from(THREAD_COUNTS),
)
def test_slices_are_contiguous_cover_everything_once_and_come_back_in_order(
    weights: list[float], threads: int
) -> None:
    ranges = list(range(len(weights)))
    processor = ParallelProcessor(max_workers=threads)
    slices = processor.process(ranges, as_list, weights=weights)
    assert concatenated(slices) == ranges
    assert all(part for part in slices) or len(ranges) == 0
    assert all(part == list(range(part[0], part[-1] + 1)) for part in slices if part)
    assert len(slices) <= max(1, min(len(ranges), SLICES_PER_THREAD * threads))
    assert processor.stats is not None and processor.stats.slices == len(slices)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.integers(min_value=-(10**6), max_value=10**6), max_size=80),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_results_match_sequential_for_every_thread_count(values: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    weights = rng.choice([0.0, 1.0, 5.0, 250.0], size=len(values))
    expected = [value * value - 3 for value in values]
    for threads in THREAD_COUNTS:
        processor = ParallelProcessor(max_workers=threads)
        assert processor.map(values, lambda v: v * v - 3, weights=weights) == expected


@pytest.mark.parametrize("threads", THREAD_COUNTS)
def test_per_range_work_estimates_balance_slices(threads: int) -> None:
    ranges = [FakeRange(i, work_estimate=50.0 if i == 0 else 1.0) for i in range(40)]
    processor = ParallelProcessor(max_workers=threads)
    slices = processor.process(ranges, as_list)
    assert concatenated(slices) == ranges
    if threads > 1:
        assert slices[0] == [ranges[0]], "the heavy range gets a slice of its own"


def test_custom_sequence_is_sliced_as_views_and_its_work_estimates_used() -> None:
    view = RangeView(np.arange(30))
    seen: list[type] = []

    def process_slice(part: Sequence[int]) -> list[int]:
        seen.append(type(part))
        return list(part)

    slices = ParallelProcessor(max_workers=3).process(view, process_slice)
    assert concatenated(slices) == list(range(30))
    assert set(seen) == {RangeView}
    assert slices[0] == [0] and slices[1] == [1], "heavy ranges from work_estimates"


def test_explicit_weights_override_work_estimates() -> None:
    ranges = [FakeRange(i, work_estimate=50.0 if i == 0 else 1.0) for i in range(40)]
    slices = ParallelProcessor(max_workers=2).process(ranges, as_list, weights=np.ones(40))
    assert len(slices[0]) > 1


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.ones(3), "one number per range"),
        ([1.0] * 4 + [-1.0], "non-negative"),
        ([1.0, math.nan, 1.0, 1.0, 1.0], "finite"),
    ],
)
def test_bad_weights_are_rejected(weights: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ParallelProcessor(max_workers=2).process(list(range(5)), as_list, weights=weights)


@pytest.mark.parametrize("bad", [0, -2, True, 1.5, "4"])
def test_max_workers_must_be_a_positive_int(bad: Any) -> None:
    with pytest.raises(ValueError, match=rf"^max_workers must be a positive integer or None, "
                                         rf"got {re.escape(repr(bad))}$"):
        ParallelProcessor(max_workers=bad)


def test_default_max_workers_is_the_cpu_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from research.parallel import budget

    monkeypatch.setattr(budget, "cpu_count", lambda only_physical_cores=False: 11)
    assert ParallelProcessor().max_workers == 8


@pytest.mark.parametrize(
    ("ranges", "kwargs"),
    [
        ([], {"max_workers": 4}),
        ([FakeRange(0)], {"max_workers": 4}),
        ([FakeRange(i) for i in range(10)], {"max_workers": 4, "enable_parallel": False}),
        ([FakeRange(i) for i in range(10)], {"max_workers": 1}),
    ],
    ids=["no-ranges", "one-range", "parallel-off", "one-worker"],
)
def test_sequential_path_is_one_call_in_the_calling_thread(
    ranges: list[FakeRange], kwargs: dict[str, Any]
) -> None:
    calls: list[tuple[int, int]] = []

    def process_slice(part: Sequence[FakeRange]) -> int:
        calls.append((threading.get_ident(), id(part)))
        return len(part)

    processor = ParallelProcessor(**kwargs)
    progressed: list[int] = []
    assert processor.process(ranges, process_slice, progress=progressed.append) == [len(ranges)]
    assert calls == [(threading.get_ident(), id(ranges))], "the input itself, not a copy"
    assert sum(progressed) == len(ranges)
    assert processor.stats == ProcessorStats(
        ranges=len(ranges), slices=1, threads=1, seconds=processor.stats.seconds, parallel=False
    )


@pytest.mark.parametrize("threads", [2, 3, 4, 7])
def test_work_runs_on_several_threads_at_once(threads: int) -> None:
    # The first two slices wait for each other: they only both get past the barrier if two
    # threads run them at the same time (no clock involved; sequential work breaks it).
    meet = threading.Barrier(2, timeout=30)
    workers: list[int] = []
    lock = threading.Lock()

    def process_slice(part: Sequence[int]) -> list[int]:
        with lock:
            workers.append(threading.get_ident())
            first_two = len(workers) <= 2
        if first_two:
            meet.wait()
        return list(part)

    ranges = list(range(4 * threads))
    processor = ParallelProcessor(max_workers=threads)
    assert concatenated(processor.process(ranges, process_slice)) == ranges
    assert processor.stats is not None and processor.stats.parallel
    assert processor.stats.threads == threads
    assert len(set(workers[:2])) == 2 and threading.get_ident() not in workers


@pytest.mark.parametrize("threads", THREAD_COUNTS)
def test_progress_counts_every_range_from_the_calling_thread(threads: int) -> None:
    counts: list[tuple[int, int]] = []
    ranges = list(range(37))
    processor = ParallelProcessor(max_workers=threads)
    processor.process(ranges, as_list, progress=lambda n: counts.append((threading.get_ident(), n)))
    assert sum(n for _, n in counts) == len(ranges)
    assert {ident for ident, _ in counts} == {threading.get_ident()}
    assert len(counts) == processor.stats.slices  # type: ignore[union-attr]


def test_map_is_flat_and_in_input_order() -> None:
    ranges = [FakeRange(i) for i in range(25)]
    assert ParallelProcessor(max_workers=3).map(ranges, lambda r: r.label) == [
        r.label for r in ranges
    ]


class Boom(ValueError):
    pass


@pytest.mark.parametrize("threads", THREAD_COUNTS)
@pytest.mark.parametrize("bad_positions", [{0}, {17}, {39}, {5, 30}])
def test_a_failing_range_is_named_and_no_partial_results_come_back(
    threads: int, bad_positions: set[int]
) -> None:
    ranges = [FakeRange(i) for i in range(40)]

    def process_slice(part: Sequence[FakeRange]) -> list[int]:
        for item in part:
            if item.position in bad_positions:
                raise Boom(f"no bars for {item.position}")
        return [item.position for item in part]

    processor = ParallelProcessor(max_workers=threads)
    with pytest.raises(RangeProcessingError) as caught:
        processor.process(ranges, process_slice)
    first_bad = ranges[min(bad_positions)]
    error = caught.value
    assert first_bad.label in str(error) and f"no bars for {first_bad.position}" in str(error)
    assert (error.index, error.label) == (first_bad.position, first_bad.label)
    assert isinstance(error.__cause__, Boom)
    assert isinstance(error, RuntimeError)
    assert processor.stats is None


def test_error_names_repr_when_ranges_have_no_label() -> None:
    def process_slice(part: Sequence[int]) -> int:
        if 13 in part:
            raise KeyError("missing")
        return len(part)

    with pytest.raises(RangeProcessingError, match=r"range 13 \(index 13\) failed: KeyError"):
        ParallelProcessor(max_workers=2).process(list(range(20)), process_slice)


def test_failure_that_needs_several_ranges_names_the_slice() -> None:
    def process_slice(part: Sequence[int]) -> int:
        if len(part) > 1:
            raise ArithmeticError("only fails in company")
        return part[0]

    with pytest.raises(RangeProcessingError, match="failed together") as caught:
        ParallelProcessor(max_workers=2).process(list(range(20)), process_slice)
    assert caught.value.index is None
    assert isinstance(caught.value.__cause__, ArithmeticError)


def test_pending_slices_are_cancelled_after_a_failure() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def process_slice(part: Sequence[int]) -> list[int]:
        with lock:
            started.append(part[0])
        if part[0] == 0:
            raise Boom("first slice fails at once")
        time.sleep(0.05)
        return list(part)

    processor = ParallelProcessor(max_workers=2)
    n_slices = len(processor.plan(list(range(64))))
    with pytest.raises(RangeProcessingError, match="first slice fails at once"):
        processor.process(list(range(64)), process_slice)
    # re-running to locate the culprit calls process_slice again on range 0 only
    assert len([s for s in started if s != 0]) < n_slices - 1


def test_range_processing_error_survives_pickling() -> None:
    error = RangeProcessingError("range x failed", index=3, label="x")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.index, copy.label) == ("range x failed", 3, "x")


def test_stats_are_frozen() -> None:
    processor = ParallelProcessor(max_workers=2)
    processor.process(list(range(10)), as_list)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'threads'"):
        processor.stats.threads = 5  # type: ignore[misc, union-attr]


def test_slice_bounds_examples() -> None:
    assert slice_bounds(np.ones(0), 4) == [(0, 0)]
    assert slice_bounds(np.ones(3), 1) == [(0, 3)]
    assert slice_bounds(np.ones(3), 10) == [(0, 1), (1, 2), (2, 3)]
    assert slice_bounds(np.zeros(6), 3) == [(0, 2), (2, 4), (4, 6)]
    assert slice_bounds(np.array([1.0, 100.0, 1.0, 1.0, 1.0]), 4) == [(0, 1), (1, 2), (2, 5)]


@pytest.mark.parametrize("kernel", ["_session_windows", "_first_breakouts", "_walk_batch"])
def test_the_engine_kernels_release_the_gil(kernel: str) -> None:
    """Threads only pay off because the kernels run without the GIL (docs/architecture.md); the
    speed-up itself is measured by benchmarks/parallel.py, not asserted here."""
    from research.engine import entry, execution, ranges

    module = {"_session_windows": ranges, "_first_breakouts": entry, "_walk_batch": execution}
    dispatcher = getattr(module[kernel], kernel)
    assert dispatcher.targetoptions["nogil"] is True
