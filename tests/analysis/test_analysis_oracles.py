"""Our stand-ins for arch and scipy.stats equal them: arch's stationary-bootstrap draws index
for index, its optimal block length to the last digits, scipy's normal functions to 1e-12
relative and its biased skew and kurtosis bit for bit. arch and scipy are the oracles here;
the library imports neither (tests/analysis/test_analysis_imports.py)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from arch.bootstrap import StationaryBootstrap
from arch.bootstrap import optimal_block_length as arch_block_length
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import special, stats

from research.analysis.block_length import optimal_block_length
from research.analysis.normal import (
    normal_cdf,
    normal_isf,
    normal_ppf,
    normal_sf,
    normal_sf_array,
)
from research.analysis.resample import choose_block_length, stationary_counts, stationary_indices
from research.analysis.sharpe import skew_and_kurtosis

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RELATIVE = 1e-12


def arch_indices(n_dates: int, block_length: int, reps: int, seed: int) -> np.ndarray:
    bootstrap = StationaryBootstrap(block_length, np.arange(n_dates), seed=seed)
    return np.array([positional[0] for positional, _ in bootstrap.bootstrap(reps)])


@FAST
@given(n_dates=st.integers(1, 80), block_length=st.integers(1, 30), reps=st.integers(1, 6),
       seed=st.integers(0, 2**63 - 1))
def test_resample_indices_are_arch_stationary_bootstrap_indices(n_dates, block_length, reps,
                                                               seed):
    ours = stationary_indices(n_dates, block_length, reps, seed)
    np.testing.assert_array_equal(ours, arch_indices(n_dates, block_length, reps, seed))


def test_counts_are_arch_resamples_counted_on_a_sweep_sized_draw():
    ours = stationary_counts(262, 3, 200, seed=12345)
    expected = np.array([np.bincount(row, minlength=262)
                         for row in arch_indices(262, 3, 200, 12345)])
    np.testing.assert_array_equal(ours, expected)
    assert ours.dtype == np.int64


def arch_length(series: np.ndarray) -> float:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(arch_block_length(series)["stationary"].iloc[0])


def assert_same_length(series: np.ndarray) -> None:
    ours, theirs = optimal_block_length(series), arch_length(series)
    if math.isnan(theirs):
        assert math.isnan(ours)
        return
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-9)
    assert math.ceil(ours) == math.ceil(theirs)


@FAST
@given(values=st.lists(st.integers(-10**6, 10**6), min_size=8, max_size=300))
def test_block_length_is_archs_on_cents(values):
    assert_same_length(np.array(values, dtype=np.float64) / 100)


@FAST
@given(n_obs=st.integers(8, 600), phi=st.floats(-0.95, 0.95), seed=st.integers(0, 2**32),
       sparse=st.booleans())
def test_block_length_is_archs_on_dependent_series(n_obs, phi, seed, sparse):
    """AR(1) series of every persistence, and sparse ones (most days flat), as sweeps give."""
    rng = np.random.default_rng(seed)
    shocks = rng.normal(size=n_obs) * (rng.random(n_obs) < 0.2 if sparse else 1.0)
    series = np.empty(n_obs)
    series[0] = shocks[0]
    for t in range(1, n_obs):
        series[t] = phi * series[t - 1] + shocks[t]
    assert_same_length(np.round(series * 100) / 100)


@pytest.mark.parametrize("n_dates", range(3, 8))
def test_a_series_too_short_for_arch_still_gets_a_length(n_dates):
    """arch 8 raises below 8 observations (its lag slices stop matching); ours treats a lag
    with no pair of dates as 0 and the analysis gets a length in [1, T]."""
    cents = np.arange(n_dates, dtype=np.int64).reshape(-1, 1) ** 2 * np.array([[1, 2]])
    with pytest.raises(ValueError, match="mismatch"), np.errstate(all="ignore"):
        arch_block_length(cents.mean(axis=1))
    length, _ = choose_block_length(cents, None)
    assert 1 <= length <= n_dates


def test_the_block_length_a_sweep_gets_is_archs():
    rng = np.random.default_rng(5)
    persistent = np.cumsum(rng.integers(-1000, 1000, size=(500, 4)), axis=0)
    expected = min(max(1, math.ceil(arch_length(persistent.mean(axis=1)))), 500)
    assert choose_block_length(persistent, None) == (expected, "optimal_block_length")


def relative_error(ours: float, theirs: float) -> float:
    if ours == theirs:  # also the infinities
        return 0.0
    return abs(ours - theirs) / abs(theirs)


@FAST
@given(x=st.floats(-37.5, 37.5))  # beyond, Φ's tail is below the smallest normal float
def test_normal_cdf_and_sf_are_scipys(x):
    assert relative_error(normal_cdf(x), float(special.ndtr(x))) < RELATIVE
    assert relative_error(normal_sf(x), float(stats.norm.sf(x))) < RELATIVE


@FAST
@given(q=st.one_of(st.floats(1e-300, 1.0, exclude_max=True),
                   st.floats(-300, -1e-3).map(lambda e: 10.0**e)))
def test_normal_ppf_and_isf_are_scipys(q):
    assume(0 < q < 1)
    assert relative_error(normal_ppf(q), float(stats.norm.ppf(q))) < RELATIVE
    assert relative_error(normal_isf(q), float(stats.norm.isf(q))) < RELATIVE


def test_normal_edges_are_scipys():
    for q in (0.0, 1.0, -0.5, 1.5, math.nan):
        pairs = ((normal_ppf(q), stats.norm.ppf(q)), (normal_isf(q), stats.norm.isf(q)))
        for ours, theirs in pairs:
            assert ours == theirs or (math.isnan(ours) and math.isnan(theirs)), q
    for x in (math.inf, -math.inf, 40.0, -40.0):
        assert normal_cdf(x) == special.ndtr(x) and normal_sf(x) == stats.norm.sf(x)
    assert math.isnan(normal_cdf(math.nan))


def test_normal_sf_array_is_scipys_elementwise():
    tstats = np.linspace(-8, 8, 401).reshape(1, -1)
    ours, theirs = normal_sf_array(tstats), stats.norm.sf(tstats)
    assert ours.shape == tstats.shape
    np.testing.assert_allclose(ours, theirs, rtol=RELATIVE, atol=0)


@FAST
@given(values=st.lists(st.integers(-10**7, 10**7), min_size=2, max_size=300))
def test_skew_and_kurtosis_are_scipys_bit_for_bit(values):
    usd = np.array(values, dtype=np.float64) / 100
    assume(not np.all(usd == usd[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's own catastrophic-cancellation warning
        expected = (float(stats.skew(usd, bias=True)),
                    float(stats.kurtosis(usd, fisher=False, bias=True)))
    ours = skew_and_kurtosis(usd)
    assert ours == expected or (np.isnan(ours).all() and np.isnan(expected).all())


def test_skew_and_kurtosis_of_no_spread_is_a_normals():
    assert skew_and_kurtosis(np.full(9, 2.5)) == (0.0, 3.0)
    assert skew_and_kurtosis(np.array([4.0])) == (0.0, 3.0)
