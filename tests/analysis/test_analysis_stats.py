"""Exact moments and the metric conventions: Sharpe as numpy computes it, 0 without spread."""

from __future__ import annotations

import numpy as np
import pytest

from research.analysis.stats import (
    check_exact,
    exact_matmul,
    net_usd,
    sharpe_daily,
    to_cents,
    window_moments,
)
from research.errors import AnalysisError


def test_sharpe_is_mean_over_sd_ddof_1():
    rng = np.random.default_rng(1)
    cents = rng.integers(-100_000, 100_000, size=(252, 50))
    m = window_moments(cents, 0, 252)
    expected = cents.mean(axis=0) / cents.std(axis=0, ddof=1)
    np.testing.assert_allclose(sharpe_daily(m.n, m.total, m.total_sq), expected, rtol=1e-12)


def test_no_spread_or_one_date_gives_sharpe_0():
    cents = np.array([[0, 500, 7], [0, 500, -7]])
    m = window_moments(cents, 0, 2)
    assert sharpe_daily(m.n, m.total, m.total_sq).tolist() == [0.0, 0.0, 0.0]
    one = window_moments(cents, 0, 1)
    assert sharpe_daily(one.n, one.total, one.total_sq).tolist() == [0.0, 0.0, 0.0]


def test_huge_values_take_the_float_path_and_agree():
    # n·Σx² is past 2**62 (the float path), Σx² itself is not
    cents = np.array([[10**9, 1], [-9 * 10**8, 2], [105 * 10**7, 4]])
    m = window_moments(cents, 0, 3)
    expected = cents.mean(axis=0) / cents.astype(float).std(axis=0, ddof=1)
    np.testing.assert_allclose(sharpe_daily(m.n, m.total, m.total_sq), expected, rtol=1e-12)


def test_values_too_large_for_exact_sums_are_refused():
    check_exact(np.full((4, 1), 2**30 - 1))  # 4 · (2**30 - 1)**2 < 2**62
    with pytest.raises(AnalysisError, match=r"daily: a daily net of \$10,737,418.24 is too "
                       r"large for exact cents arithmetic over 4 dates"):
        check_exact(np.full((4, 1), 2**30))


def test_identical_columns_get_identical_values():
    rng = np.random.default_rng(2)
    column = rng.integers(-5_000, 5_000, size=(100, 1))
    cents = np.hstack([column, rng.integers(-5_000, 5_000, size=(100, 3)), column])
    m = window_moments(cents, 0, 100)
    values = sharpe_daily(m.n, m.total, m.total_sq)
    assert values[0] == values[-1]


def test_exact_matmul_is_exact_on_both_paths():
    weights = np.array([[1, 2, 0], [3, 0, 1]])
    small = np.array([[1, -2], [3, 4], [5, -6]])
    assert exact_matmul(weights, small).tolist() == [[7.0, 6.0], [8.0, -12.0]]
    big = np.array([[2**52 + 1], [1], [2**52 - 1]])  # past 2**53: the int64 path
    assert exact_matmul(weights, big).tolist() == [[2**52 + 3], [3 * 2**52 + 3 + 2**52 - 1]]


def test_cents_and_dollars():
    assert to_cents(np.array([12.5, -0.01, 1e-9])).tolist() == [1250, -1, 0]
    assert net_usd(3, np.array([1250]), np.array([0])).tolist() == [12.5]


@pytest.mark.parametrize(("start", "stop"), [(0, 4), (1, 3), (3, 4)])
def test_window_moments(start, stop):
    cents = np.array([[1, 10], [2, 20], [3, 30], [4, 40]])
    m = window_moments(cents, start, stop)
    assert m.n == stop - start
    assert m.total.tolist() == cents[start:stop].sum(axis=0).tolist()
    assert m.total_sq.tolist() == (cents[start:stop] ** 2).sum(axis=0).tolist()
