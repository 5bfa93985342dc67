"""SPA, StepM and the intervals share one bootstrap product (research.analysis.bootstrap):
the same bits as each computed alone, and the product computed once per chunk of combos."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from research.analysis import AnalysisConfig, analyze
from research.analysis import bootstrap as bootstrap_module
from research.analysis import intervals as intervals_module
from research.analysis import run as run_module
from research.analysis import spa as spa_module
from research.analysis import stepm as stepm_module
from research.analysis.bootstrap import BootstrapTests, bootstrap_tests
from research.analysis.intervals import bootstrap_intervals
from research.analysis.resample import stationary_counts
from research.analysis.spa import spa_test
from research.analysis.stepm import stepm


def one_by_one(cents: np.ndarray, counts: np.ndarray, block_length: int) -> BootstrapTests:
    """The readable way, as analyze() did it before: three products."""
    return BootstrapTests(spa=spa_test(cents, counts, block_length),
                          stepm=stepm(cents, counts, block_length),
                          intervals=bootstrap_intervals(cents, counts))


def assert_same(got: BootstrapTests, expected: BootstrapTests) -> None:
    assert got.spa == expected.spa
    assert got.stepm == expected.stepm
    for name in ("mean_low", "mean_high", "sharpe_low", "sharpe_high"):
        assert getattr(got.intervals, name).tobytes() == \
            getattr(expected.intervals, name).tobytes(), name


@given(seed=st.integers(0, 2**32 - 1), n_dates=st.integers(3, 40),
       n_combos=st.integers(1, 12), block_length=st.integers(1, 5),
       chunk_bytes=st.sampled_from([1, 2_000, 16 * 2**20]), edge=st.integers(0, 3),
       flat=st.booleans())
def test_one_product_gives_the_bits_of_three(seed, n_dates, n_combos, block_length,
                                             chunk_bytes, edge, flat):
    rng = np.random.default_rng(seed)
    cents = rng.integers(-50_000, 50_000, size=(n_dates, n_combos)) * \
        (rng.random((n_dates, n_combos)) < 0.6)
    cents[:, :min(edge, n_combos)] += 20_000  # combos StepM may find, in several steps
    if flat:
        cents[:, -1] = 0  # never trades: out of the studentized tests
    counts = stationary_counts(n_dates, min(block_length, n_dates), 60, seed=seed % 1000)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spa_module, "CHUNK_BYTES", chunk_bytes)  # one or many chunks
        expected = one_by_one(cents, counts, block_length)
        assert_same(bootstrap_tests(cents, counts, block_length), expected)


class ProductCount:
    """Counts the shared product, and every other product each module computes."""

    def __init__(self, monkeypatch):
        self.shared = 0
        self.others = {"spa": 0, "stepm": 0, "intervals": 0}
        original = bootstrap_module.bootstrap_sums

        def shared(*args):
            self.shared += 1
            return original(*args)

        monkeypatch.setattr(bootstrap_module, "bootstrap_sums", shared)
        for name, module in (("spa", spa_module), ("stepm", stepm_module),
                             ("intervals", intervals_module)):
            monkeypatch.setattr(module, "exact_matmul", self._counted(name, module.exact_matmul))

    def _counted(self, name, original):
        def counted(*args):
            self.others[name] += 1
            return original(*args)
        return counted


def analysis_inputs(edge_usd: float):
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2024-01-01", periods=120, name="date")
    usd = np.round(rng.normal(0, 40, (120, 6))) * 12.5
    usd[:, 4] += edge_usd
    ids = [f"c{i}" for i in range(6)]
    params = pd.DataFrame({"target": [10, 15, 20, 25, 30, 35]}, index=ids)
    return (pd.DataFrame(usd, index=dates, columns=ids), params,
            {"target": [10, 15, 20, 25, 30, 35]})


CONFIG = AnalysisConfig(train=60, test=20, blocks=4, bootstrap_reps=200, cpcv_groups=4,
                        cpcv_test_groups=2)


@pytest.mark.parametrize("edge_usd", [0.0, 200.0])
def test_the_analysis_computes_the_product_once_and_writes_the_same_json(monkeypatch,
                                                                         edge_usd):
    daily, params, axes = analysis_inputs(edge_usd)
    with monkeypatch.context() as patch:  # the analysis as it was: three products
        patch.setattr(run_module, "bootstrap_tests", one_by_one)
        before = analyze(daily, params, axes, CONFIG)
    count = ProductCount(monkeypatch)
    after = analyze(daily, params, axes, CONFIG)
    assert after.to_json() == before.to_json()
    assert after.combo_stats.equals(before.combo_stats)
    assert count.shared == 1  # one chunk of six combos: one product
    assert count.others["spa"] == 0  # SPA reads the shared product only
    assert count.others["intervals"] == 1  # its sums of squares: another product
    # StepM's later steps multiply only the combos still untested; its first, none
    assert count.others["stepm"] == after.stepm.steps - 1
    assert (after.stepm.steps > 1) == (edge_usd > 0)


@pytest.mark.slow  # a year of engine runs
def test_a_planted_edge_gives_the_same_json_as_three_products(monkeypatch):
    from research.engine.planted_edge import PlantedEdge
    from research.engine.synthetic import synthetic_bars
    from tests.analysis_helpers import engine_daily

    frame = synthetic_bars("ES", "2024-01-01", "2024-12-31", seed=7, edge=PlantedEdge())
    inputs = engine_daily(frame)
    with monkeypatch.context() as patch:
        patch.setattr(run_module, "bootstrap_tests", one_by_one)
        before = analyze(*inputs, AnalysisConfig())
    after = analyze(*inputs, AnalysisConfig())
    assert after.stepm.superior and after.to_json() == before.to_json()
    assert after.combo_stats.equals(before.combo_stats)
