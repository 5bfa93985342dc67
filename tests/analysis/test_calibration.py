"""The published calibration holds on a subset (docs/calibration.md): 20 seeds of
tick-continuous noise through the whole sweep + analysis (benchmarks/calibration.py)."""

from __future__ import annotations

import pytest

from benchmarks.calibration import FPR_CEILING, clopper_pearson, one_run, summarise

SEEDS = range(1000, 1020)  # apart from the published runs' seeds 0..499


@pytest.mark.slow
def test_evidence_on_noise_stays_within_its_published_rate():
    runs = [one_run("noise", seed) for seed in SEEDS]
    evidence = sum(run["evidence"] == "evidence" for run in runs)
    low, _ = clopper_pearson(evidence, len(runs))
    # fails when 20 seeds show a rate whose whole 95% interval lies above the 5% ceiling
    assert low <= FPR_CEILING, f"Evidence on {evidence} of {len(runs)} noise seeds"
    assert not any(run["asserts_edge"] and run["evidence"] != "evidence" for run in runs)
    summary = summarise(runs)["scenarios"]["noise"]
    assert summary["runs"] == 20 and summary["levels"]["evidence"]["count"] == evidence


def test_clopper_pearson_matches_the_known_intervals():
    assert clopper_pearson(0, 100) == pytest.approx((0.0, 0.03621669), abs=1e-6)
    assert clopper_pearson(4, 20) == pytest.approx((0.05733, 0.43661), abs=1e-4)
    assert clopper_pearson(20, 20)[1] == 1.0
