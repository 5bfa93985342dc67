"""benchmarks/threshold.py and scaling.py: how they read their measurements and choose modes."""

from __future__ import annotations

from benchmarks.scaling import LIFTED, mode_options
from benchmarks.threshold import pays_from
from research.plan import ROWS_PER_TASK


def _sizes(*pairs: tuple[int, float]) -> dict[str, dict]:
    return {str(work): {"work": work, "speedup": {"median": median}} for work, median in pairs}


def test_pays_from_is_the_smallest_size_from_which_every_larger_one_pays():
    sizes = _sizes((10, 0.5), (20, 1.2), (30, 0.9), (40, 1.1), (50, 1.3))
    assert pays_from(sizes, "work") == 40  # 20 paid, but 30 did not again
    assert pays_from(_sizes((10, 0.5), (20, 0.9)), "work") is None
    assert pays_from(_sizes((10, 1.06), (20, 1.5)), "work") == 10


def test_scaling_modes_force_the_split_they_name():
    _, planned = mode_options("planned", 8, 20_160, 1305)
    assert planned == []  # the plan decides
    thresholds, processes = mode_options("processes", 8, 20_160, 1305)
    assert processes == ["--batch-size", str(ROWS_PER_TASK // 1305)]  # capped by the rows
    assert thresholds[1] == str(LIFTED)
    thresholds, threads = mode_options("threads", 8, 20_160, 1305)
    assert threads == [] and thresholds == [str(LIFTED), "0"]  # one process, every thread
