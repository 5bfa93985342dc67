"""The number of tries and the rest of the data-snooping family (issue 25): the effective
number of tests, the null variance behind DSR, StepM, studentized SPA, the Harvey–Liu
haircut and CPCV, each against arch or a hand computation; the N that analyze() uses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import StepM as ArchStepM
from scipy import stats

from research.analysis import AnalysisConfig, analyze, deflated_sharpe, expected_max_sharpe
from research.analysis.cpcv import cpcv, group_bounds, path_splits, train_mask
from research.analysis.haircut import haircut, pvalues_of
from research.analysis.resample import stationary_counts
from research.analysis.spa import spa_test
from research.analysis.stepm import stepm
from research.analysis.trials import correlation_summary
from research.results.daily import CENTS_PER_DOLLAR

CONFIG = AnalysisConfig(train=60, test=20, blocks=8, bootstrap_reps=300)


def noise_matrix(seed: int, n_dates: int = 252, n_combos: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    usd = np.round(rng.normal(0, 40, (n_dates, n_combos))) * 12.5
    return pd.DataFrame(usd, index=pd.bdate_range("2024-01-01", periods=n_dates, name="date"),
                        columns=[f"c{i:03d}" for i in range(n_combos)])


def grid_of(daily: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    axes = {"k": list(range(daily.shape[1]))}
    return pd.DataFrame({"k": axes["k"]}, index=daily.columns), axes


# ---------------------------------------------------------------- DSR and N


def test_the_papers_worked_example():
    assert expected_max_sharpe(100, 0.5 / 250) == pytest.approx(0.1132, abs=5e-5)
    assert deflated_sharpe(2.5 / math.sqrt(250), 1250, -3.0, 10.0, 100, 0.5 / 250) == \
        pytest.approx(0.9004, abs=5e-5)


@pytest.mark.parametrize("seed", range(3))
def test_dsr_deflates_by_every_try_a_dsr_with_n_1_fails_widely(seed):
    # the best of 200 noise combos: PSR (N = 1, SR0 = 0) calls it skill, DSR must not; the
    # threshold of 200 tries is about 0.17 a day, N = 1's is 0
    daily = noise_matrix(seed)
    result = analyze(daily, *grid_of(daily), CONFIG)
    d = result.deflated
    assert result.n_trials == d.n_trials == 200
    assert d.sr0 == pytest.approx(expected_max_sharpe(200, d.sharpe_variance))
    assert d.sr0 > 0.12
    assert d.dsr < 0.95 < d.psr


def test_n_trials_and_sr0_after_analyze_are_the_ledgers_and_the_null_variance():
    daily = noise_matrix(1, n_combos=40)
    result = analyze(daily, *grid_of(daily), CONFIG, n_ledger=500)
    d = result.deflated
    assert (result.n_trials, result.n_ledger, d.n_trials, result.trials_used) == \
        (40, 500, 500, "ledger")
    corr = np.corrcoef(daily.to_numpy().T)
    mean_corr = (corr.sum() - 40) / (40 * 39)
    null = (1 - mean_corr) / (len(daily) - 1)
    assert d.sharpe_variance == pytest.approx(null, rel=1e-9)
    assert d.sr0 == pytest.approx(expected_max_sharpe(500, null), rel=1e-9)
    sweep = result.deflated_by_trials["sweep"]
    assert sweep.n_trials == 40 and sweep.sr0 == pytest.approx(expected_max_sharpe(40, null))
    floor = 1 / result.spa.reps  # the bootstrap's resolution, before the union bound
    assert result.spa_pvalue == pytest.approx(
        min(1.0, max(result.spa.pvalue_studentized, floor) * 500 / 40))
    as_sweep = analyze(daily, *grid_of(daily), AnalysisConfig(**{**CONFIG.to_dict(),
                                                                 "trials": "sweep"}))
    assert as_sweep.deflated.n_trials == 40 and as_sweep.n_ledger == 40


def test_the_null_variance_is_not_widened_by_an_edge():
    daily = noise_matrix(2, n_combos=60)
    edged = daily.copy()
    edged.iloc[:, :6] += 150.0  # six combos earn $150 a day more: their Sharpes jump
    plain = analyze(daily, *grid_of(daily), CONFIG).deflated
    with_edge = analyze(edged, *grid_of(edged), CONFIG).deflated
    assert with_edge.sharpe_variance_sample > 2 * plain.sharpe_variance_sample  # the paper's V
    assert with_edge.sharpe_variance == pytest.approx(plain.sharpe_variance)  # ours: unmoved


def test_effective_trials_match_li_and_ji_on_the_eigenvalues():
    rng = np.random.default_rng(4)
    base = rng.integers(-500, 500, (120, 3))
    cents = np.hstack([base, base[:, :1] * 2, base + rng.integers(-50, 50, (120, 3)),
                       np.zeros((120, 1), dtype=np.int64)])  # copies, near copies, a flat one
    eigen = np.abs(np.linalg.eigvalsh(np.corrcoef(cents[:, :-1].T)))
    by_hand = float(np.sum((eigen >= 1) + (eigen - np.floor(eigen))))
    summary = correlation_summary(cents)
    assert summary.varying == 7
    assert summary.effective_trials == pytest.approx(by_hand, abs=1e-6)
    assert 3 <= summary.effective_trials < summary.varying  # copies are not new tries


# ---------------------------------------------------------------- SPA, StepM


def matrix_with_winners(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cents = rng.integers(-5000, 5000, (200, 25))
    cents[:, 3] += 900
    cents[:, 7] += 700
    cents[:, 11] += 450  # near the border
    cents[:, 12] *= 4  # wide: raw means favour it, studentized ones do not
    return cents


@pytest.mark.parametrize("seed", range(4))
def test_stepm_raw_and_consistent_is_arch_exactly(seed):
    cents = matrix_with_winners(seed)
    usd = cents / CENTS_PER_DOLLAR
    theirs = ArchStepM(np.zeros(len(usd)), -usd, block_size=4, reps=400, seed=seed)
    theirs.compute()
    ours = stepm(cents, stationary_counts(len(usd), 4, 400, seed), 4, studentize=False,
                 centre="consistent")
    assert list(ours.superior) == sorted(theirs.superior_models)


def readable_stepm(cents: np.ndarray, counts: np.ndarray, block: int, size: float) -> list[int]:
    """Romano & Wolf's studentized StepM written out, one combo and one step at a time."""
    n = len(cents)
    usd = cents / CENTS_PER_DOLLAR
    p = 1 / block
    se = []
    for j in range(usd.shape[1]):
        d = usd[:, j] - usd[:, j].mean()
        var = d @ d / n
        for i in range(1, n):
            kappa = (1 - i / n) * (1 - p) ** i + (i / n) * (1 - p) ** (n - i)
            var += 2 * kappa * (d[:n - i] @ d[i:]) / n
        se.append(math.sqrt(var / n))
    means = usd.mean(axis=0)
    boot = (counts @ usd) / n
    active, found = set(range(usd.shape[1])), []
    while active:
        maxima = [max((boot[r, j] - means[j]) / se[j] for j in active) for r in range(len(boot))]
        critical = np.percentile(maxima, 100 * (1 - size))
        new = [j for j in active if means[j] / se[j] > critical]
        if not new:
            break
        found += new
        active -= set(new)
    return sorted(found)


@pytest.mark.parametrize("seed", range(3))
def test_stepm_studentized_is_romano_and_wolf_written_out(seed):
    cents = matrix_with_winners(seed)
    counts = stationary_counts(len(cents), 4, 300, seed)
    assert list(stepm(cents, counts, 4).superior) == readable_stepm(cents, counts, 4, 0.05)


def test_stepm_finds_nothing_in_noise_and_leaves_flat_combos_out():
    cents = noise_matrix(3, n_combos=30).to_numpy().astype(np.int64) * 100
    cents[:, 5] = 0
    assert stepm(cents, stationary_counts(len(cents), 3, 300, 0), 3).superior == ()


def test_spa_studentized_against_a_hand_computation():
    cents = matrix_with_winners(5)
    cents[:, 3] -= 800  # no clear winner left: a p-value inside (0, 1)
    counts = stationary_counts(len(cents), 4, 500, 1)
    spa = spa_test(cents, counts, 4)
    usd = cents / CENTS_PER_DOLLAR
    n = len(usd)
    means = usd.mean(axis=0)
    se = np.array([math.sqrt(v) for v in _kernel_variances(usd, 4) / n])
    statistic = max(0.0, float(np.max(means / se)))
    threshold = -np.sqrt(_kernel_variances(usd, 4) / n * 2 * np.log(np.log(n)))
    centre = np.where(means >= threshold, means, 0.0)
    boot = (counts @ usd) / n
    replicated = np.maximum(((boot - centre) / se).max(axis=1), 0.0)
    assert spa.pvalue_studentized == pytest.approx(float(np.mean(replicated > statistic)))
    assert 0 < spa.pvalue_studentized < 1


def _kernel_variances(usd: np.ndarray, block: int) -> np.ndarray:
    n, p = len(usd), 1 / block
    d = usd - usd.mean(axis=0)
    var = (d * d).sum(axis=0) / n
    for i in range(1, n):
        kappa = (1 - i / n) * (1 - p) ** i + (i / n) * (1 - p) ** (n - i)
        var += 2 * kappa * (d[:n - i] * d[i:]).sum(axis=0) / n
    return var


# ---------------------------------------------------------------- haircut


def test_haircut_bonferroni_holm_bhy_by_hand():
    n_dates = 100
    sharpes = np.array([0.30, 0.25, 0.10, -0.05])  # t = 3.0, 2.5, 1.0, -0.5
    p = [2 * stats.norm.sf(t) for t in (3.0, 2.5, 1.0)] + [1.0]
    cut = haircut(sharpes, winner=1, n_dates=n_dates, n_tests=10)
    assert cut.pvalue == pytest.approx(p[1])
    assert cut.bonferroni.pvalue == pytest.approx(10 * p[1])
    assert cut.holm.pvalue == pytest.approx(max(10 * p[0], 9 * p[1]))
    c_m = sum(1 / i for i in range(1, 11))
    assert cut.bhy.pvalue == pytest.approx(min(10 * c_m * p[1] / 2, 10 * c_m * p[2] / 3, 1.0))
    left = stats.norm.isf(cut.bhy.pvalue / 2) / math.sqrt(n_dates)
    assert cut.bhy.sharpe == pytest.approx(left)
    assert cut.bhy.haircut == pytest.approx(1 - left / 0.25)
    assert pvalues_of(np.array([-0.2]), 100).tolist() == [1.0]


def test_more_tries_cut_deeper():
    sharpes = np.array([0.3, 0.1, 0.0])
    few, many = (haircut(sharpes, 0, 100, n) for n in (3, 300))
    assert many.bhy.sharpe < few.bhy.sharpe < 0.3 and many.bonferroni.pvalue == 1.0 or \
        many.bonferroni.pvalue > few.bonferroni.pvalue


# ---------------------------------------------------------------- CPCV


@pytest.mark.parametrize(("groups", "k", "paths"), [(10, 2, 9), (20, 2, 19), (6, 3, 10)])
def test_cpcv_path_count_is_k_over_n_times_n_choose_k(groups, k, paths):
    assert len(path_splits(groups, k)) == paths == k * math.comb(groups, k) // groups
    cents = np.random.default_rng(0).integers(-100, 100, (groups * 5, 3))
    result = cpcv(cents, groups=groups, test_groups=k, purge=1, embargo=1, metric="sharpe")
    assert (result.paths, result.splits) == (paths, math.comb(groups, k))


def test_every_path_tests_every_group_once():
    for path in path_splits(6, 2):
        assert sorted(path) == list(range(6))


def test_purge_and_embargo_on_a_tiny_matrix():
    assert group_bounds(12, 4) == [(0, 3), (3, 6), (6, 9), (9, 12)]
    mask = train_mask(12, groups=4, test=(1,), purge=2, embargo=1)
    assert mask.astype(int).tolist() == [1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    mask = train_mask(12, groups=4, test=(0, 3), purge=1, embargo=2)
    assert mask.astype(int).tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]


def test_cpcv_chooses_on_purged_training_and_scores_the_test_groups():
    # combo 0 earns only on the dates just before group 1, which the purge removes when
    # group 1 is tested; then combo 1 (a small steady earner) is chosen there
    cents = np.zeros((12, 2), dtype=np.int64)
    cents[:, 1] = 1
    cents[1:3, 0] = 100
    purged = cpcv(cents, groups=4, test_groups=1, purge=2, embargo=0, metric="net_usd")
    kept = cpcv(cents, groups=4, test_groups=1, purge=0, embargo=0, metric="net_usd")
    assert purged.paths == kept.paths == 1
    # groups: dates 0-2, 3-5, 6-8, 9-11. Without the purge every split but the first trains
    # on dates 1-2 and picks combo 0 (0 on the test); the first picks combo 1 (3 cents)
    assert kept.path_net_usd[0] == pytest.approx((3 + 0 + 0 + 0) / 100)
    # purging 2 dates before group 1 removes dates 1-2 there: combo 1, 3 cents more
    assert purged.path_net_usd[0] == pytest.approx((3 + 3 + 0 + 0) / 100)
