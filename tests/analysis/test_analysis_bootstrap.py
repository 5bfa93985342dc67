"""§4-5: SPA p-values and bootstrap intervals equal arch's own, whatever the chunking."""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import SPA, StationaryBootstrap

from research.analysis import intervals as intervals_module
from research.analysis import spa as spa_module
from research.analysis.intervals import bootstrap_intervals
from research.analysis.resample import choose_block_length, stationary_counts
from research.analysis.spa import spa_test


def pnl_cents(seed: int, n_dates: int = 120, n_combos: int = 25, drift: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cents = rng.integers(-50_000, 50_000, size=(n_dates, n_combos)) * \
        (rng.random((n_dates, n_combos)) < 0.6)
    cents[:, 0] += drift  # one combo with an edge when drift > 0
    return cents


@pytest.mark.parametrize(("seed", "block_length", "drift"), [(1, 1, 0), (2, 5, 0), (3, 3, 9000)])
def test_spa_pvalues_are_arch_spas(seed, block_length, drift):
    cents = pnl_cents(seed, drift=drift)
    reps, n_dates = 500, len(cents)
    ours = spa_test(cents, stationary_counts(n_dates, block_length, reps, seed=seed),
                    block_length)
    arch = SPA(np.zeros(n_dates), -cents / 100, block_size=block_length, reps=reps,
               bootstrap="stationary", seed=seed)
    arch.compute()
    assert ours.to_dict() == arch.pvalues.to_dict()
    assert ours.pvalue == ours.to_dict()["consistent"]


def test_a_real_edge_has_a_small_spa_pvalue():
    cents = pnl_cents(4, n_dates=250, drift=20_000)
    spa = spa_test(cents, stationary_counts(250, 2, 1000, seed=0), 2)
    assert spa.pvalue < 0.01


def test_intervals_are_arch_conf_int_percentile():
    cents = pnl_cents(5, n_combos=12)
    cents[:, 3] = 0  # a combo that never trades: a zero interval
    n_dates, n_combos = cents.shape

    def mean_and_sharpe(x):
        sd = x.std(axis=0, ddof=1)
        sharpe = np.where(sd > 0, x.mean(axis=0) / np.where(sd > 0, sd, 1.0), 0.0)
        return np.concatenate([x.mean(axis=0), sharpe * np.sqrt(252)])

    expected = StationaryBootstrap(4, cents / 100, seed=9).conf_int(mean_and_sharpe, 400,
                                                                   method="percentile")
    ours = bootstrap_intervals(cents, stationary_counts(n_dates, 4, 400, seed=9))
    np.testing.assert_allclose(ours.mean_low, expected[0, :n_combos], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ours.mean_high, expected[1, :n_combos], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ours.sharpe_low, expected[0, n_combos:], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.sharpe_high, expected[1, n_combos:], rtol=1e-9, atol=1e-9)
    assert (ours.mean_low[3], ours.mean_high[3], ours.sharpe_high[3]) == (0.0, 0.0, 0.0)


def test_chunking_over_combos_changes_nothing(monkeypatch):
    cents = pnl_cents(6, n_combos=40)
    counts = stationary_counts(len(cents), 3, 300, seed=1)
    spa, ci = spa_test(cents, counts, 3), bootstrap_intervals(cents, counts)
    monkeypatch.setattr(spa_module, "CHUNK_BYTES", 1)
    monkeypatch.setattr(intervals_module, "CHUNK_BYTES", 1)
    assert spa_test(cents, counts, 3) == spa
    chunked = bootstrap_intervals(cents, counts)
    for name in ("mean_low", "mean_high", "sharpe_low", "sharpe_high"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(ci, name))


def test_resamples_are_seeded():
    first = stationary_counts(50, 4, 20, seed=3)
    np.testing.assert_array_equal(first, stationary_counts(50, 4, 20, seed=3))
    assert not np.array_equal(first, stationary_counts(50, 4, 20, seed=4))
    assert (first.sum(axis=1) == 50).all()


def test_block_length_follows_the_data_unless_configured():
    rng = np.random.default_rng(0)
    noise = rng.integers(-1000, 1000, size=(500, 3))
    persistent = np.cumsum(rng.integers(-1000, 1000, size=(500, 1)), axis=0) + noise
    short, source = choose_block_length(noise, None)
    assert source == "optimal_block_length" and short <= 3
    long, _ = choose_block_length(persistent, None)
    assert long > 10
    assert choose_block_length(noise, 7) == (7, "config")
