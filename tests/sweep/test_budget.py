"""CPU budget and process/thread split: the arithmetic that keeps nesting from oversubscribing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from research.parallel import budget
from research.parallel.budget import cpu_budget, resolve_budget, split_budget, usable_cores


@pytest.mark.parametrize(
    ("cores", "expected"),
    [(1, 1), (2, 1), (3, 2), (4, 3), (8, 6), (11, 8), (16, 8), (64, 8)],
)
def test_cpu_budget_is_three_quarters_capped_at_eight(cores: int, expected: int) -> None:
    assert cpu_budget(cores) == expected


@pytest.mark.parametrize(("limited_cores", "expected"), [(1, 1), (2, 1), (3, 2), (6, 4), (32, 8)])
def test_cpu_budget_follows_affinity_and_cgroup_limits(
    monkeypatch: pytest.MonkeyPatch, limited_cores: int, expected: int
) -> None:
    calls: list[bool] = []

    def fake_cpu_count(only_physical_cores: bool = False) -> int:
        calls.append(only_physical_cores)
        return limited_cores

    monkeypatch.setattr(budget, "cpu_count", fake_cpu_count)
    assert usable_cores() == limited_cores
    assert cpu_budget() == expected
    assert calls and not any(calls), "logical cores, not physical ones"


def test_usable_cores_is_at_least_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "cpu_count", lambda only_physical_cores=False: 0)
    assert usable_cores() == 1
    assert cpu_budget() == 1


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux CPU affinity")
def test_usable_cores_honours_real_cpu_affinity() -> None:
    # in a child process, so the pinning cannot leak into this one
    code = (
        "import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); "
        "from research.parallel.budget import usable_cores, cpu_budget; "
        "print(usable_cores(), cpu_budget())"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert output == ["1", "1"]


@pytest.mark.parametrize("auto", [None, "auto", "AUTO", " auto "])
def test_resolve_budget_auto(monkeypatch: pytest.MonkeyPatch, auto: str | None) -> None:
    monkeypatch.setattr(budget, "cpu_count", lambda only_physical_cores=False: 16)
    assert resolve_budget(auto) == 8


@pytest.mark.parametrize(("max_cpus", "expected"), [(1, 1), (3, 3), (8, 8), (12, 12), ("4", 4)])
def test_resolve_budget_explicit_may_exceed_the_default_cap(
    max_cpus: int | str, expected: int
) -> None:
    assert resolve_budget(max_cpus) == expected


@pytest.mark.parametrize("bad", [0, -1, True, False, 2.0, 1.5, "", "0", "-2", "many", "2.5", [2]])
def test_resolve_budget_rejects_anything_else(bad: object) -> None:
    with pytest.raises(ValueError, match="max_cpus must be a positive integer or 'auto'"):
        resolve_budget(bad)  # type: ignore[arg-type]


# The domain the 8 x 100 parametrize covered (1-8 CPUs, 1-100 tasks), as one property; the
# corners and both sides of n_tasks == cpus are always tried.
@settings(max_examples=200, deadline=None)
@given(cpus=st.integers(1, 8), n_tasks=st.integers(1, 100))
@example(cpus=1, n_tasks=1)
@example(cpus=8, n_tasks=100)
@example(cpus=8, n_tasks=1)
@example(cpus=1, n_tasks=100)
@example(cpus=5, n_tasks=4)
@example(cpus=5, n_tasks=5)
@example(cpus=5, n_tasks=6)
def test_split_budget_invariants(cpus: int, n_tasks: int) -> None:
    processes, threads = split_budget(cpus, n_tasks)
    assert processes >= 1 and threads >= 1
    assert processes * threads <= cpus
    assert processes <= n_tasks
    assert processes == min(cpus, n_tasks), "processes first: they scale best"
    if n_tasks >= cpus:
        assert (processes, threads) == (cpus, 1)
    if n_tasks == 1:
        assert (processes, threads) == (1, cpus)


@pytest.mark.parametrize(
    ("cpus", "n_tasks", "expected"),
    [(8, 100, (8, 1)), (8, 1, (1, 8)), (8, 3, (3, 2)), (6, 4, (4, 1)), (1, 50, (1, 1))],
)
def test_split_budget_examples(cpus: int, n_tasks: int, expected: tuple[int, int]) -> None:
    assert split_budget(cpus, n_tasks) == expected


@pytest.mark.parametrize(
    ("cpus", "n_tasks", "expected"), [(0, 5, (1, 1)), (0, 0, (1, 1)), (4, 0, (1, 4))]
)
def test_split_budget_degenerate_inputs_still_give_at_least_one_each(
    cpus: int, n_tasks: int, expected: tuple[int, int]
) -> None:
    assert split_budget(cpus, n_tasks) == expected
