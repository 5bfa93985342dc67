"""§3: PSR, SR0 and DSR against the paper's worked example and hand computations."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from research.analysis import (
    AnalysisError,
    deflated_sharpe,
    expected_max_sharpe,
    probabilistic_sharpe,
)
from research.analysis.sharpe import EULER_GAMMA, deflate_best, skew_and_kurtosis

PHI, PHI_INV = NormalDist().cdf, NormalDist().inv_cdf  # the standard library's, not scipy's


def test_the_papers_worked_example():
    """Bailey & López de Prado (2014): annualised SR 2.5 over 1,250 daily returns (250 a
    year), skew -3, kurtosis 10, N = 100 trials of annualised variance 0.5."""
    sharpe, variance = 2.5 / math.sqrt(250), 0.5 / 250
    assert round(sharpe, 4) == 0.1581
    assert round(expected_max_sharpe(100, variance), 4) == 0.1132
    assert round(deflated_sharpe(sharpe, 1250, -3.0, 10.0, 100, variance), 4) == 0.9004


def test_expected_max_sharpe_by_hand():
    # SR0 = √V ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e))), N = 10, V = 0.04
    gamma = 0.5772156649
    by_hand = 0.2 * ((1 - gamma) * PHI_INV(0.9) + gamma * PHI_INV(1 - 1 / (10 * math.e)))
    assert expected_max_sharpe(10, 0.04) == pytest.approx(by_hand, abs=1e-9)
    assert pytest.approx(gamma, abs=1e-10) == EULER_GAMMA


def test_expected_max_sharpe_grows_with_trials_and_spread_and_is_0_for_one_trial():
    assert expected_max_sharpe(1, 0.5) == 0.0
    assert expected_max_sharpe(2, 0.0) == 0.0
    assert expected_max_sharpe(100, 0.01) < expected_max_sharpe(1000, 0.01)
    assert expected_max_sharpe(100, 0.01) == pytest.approx(2 * expected_max_sharpe(100, 0.0025))


def test_probabilistic_sharpe_by_hand():
    # normal returns: z = 0.1 · √100 / √(1 + 2/4 · 0.01) = 1 / √1.005
    assert probabilistic_sharpe(0.1, 101, 0.0, 3.0) == pytest.approx(PHI(1 / math.sqrt(1.005)))
    # skew -1, kurtosis 6: 1 − (−1)(0.2) + 5/4 · 0.04 = 1.25; z = 0.2 · √50 / √1.25 = √1.6
    assert probabilistic_sharpe(0.2, 51, -1.0, 6.0) == pytest.approx(PHI(math.sqrt(1.6)))
    # at the threshold itself the probability is one half
    assert probabilistic_sharpe(0.3, 200, 0.5, 4.0, threshold=0.3) == pytest.approx(0.5)


def test_probabilistic_sharpe_is_nan_where_the_formula_does_not_apply():
    # 1 − γ3·SR + (γ4 − 1)/4·SR² = 1 − 10 + 0.5 < 0
    assert math.isnan(probabilistic_sharpe(1.0, 100, 10.0, 3.0))


def test_deflated_sharpe_is_psr_at_sr0():
    sr0 = expected_max_sharpe(50, 0.003)
    assert deflated_sharpe(0.2, 252, -0.5, 5.0, 50, 0.003) == \
        probabilistic_sharpe(0.2, 252, -0.5, 5.0, threshold=sr0)


def test_skew_and_kurtosis_are_the_moment_estimators():
    values = np.array([0.0, 0.0, 3.0])  # mean 1, central moments m2 = 2, m3 = 2, m4 = 6
    skew, kurtosis = skew_and_kurtosis(values)
    assert skew == pytest.approx(2 / 2**1.5)
    assert kurtosis == pytest.approx(6 / 2**2)
    assert skew_and_kurtosis(np.array([5.0, 5.0, 5.0])) == (0.0, 3.0)


def test_deflate_best_uses_the_variance_of_the_trials_sharpes():
    best = np.array([1.0, 2.0, -1.0, 3.0, 0.0])
    result = deflate_best(best, np.array([0.1, 0.3, 0.5]), 0.5)
    assert result.n_trials == 3 and result.n_obs == 5
    assert result.sharpe_variance == pytest.approx(0.04)  # ddof 1: (0.04 + 0 + 0.04) / 2
    assert result.sr0 == expected_max_sharpe(3, 0.04)
    skew, kurtosis = skew_and_kurtosis(best)
    assert result.dsr == pytest.approx(deflated_sharpe(0.5, 5, skew, kurtosis, 3, 0.04))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: probabilistic_sharpe(0.1, 1, 0.0, 3.0), "n_obs 1 is less than 2"),
    (lambda: expected_max_sharpe(0, 0.1), "n_trials 0 is less than 1"),
    (lambda: expected_max_sharpe(5, -0.1), "sharpe_variance -0.1 is not >= 0"),
])
def test_bad_arguments_are_analysis_errors(call, message):
    with pytest.raises(AnalysisError, match=message):
        call()
