"""Probabilistic and deflated Sharpe ratios (docs/robustness.md §3; Bailey & López de Prado 2014).

All inputs are per period (daily): the Sharpe ratio, the number of returns, their skewness
and their kurtosis (not excess: 3 for a normal distribution), and the variance of the
trials' per-period Sharpe ratios. The paper's worked example (annualised SR 2.5 over five
years of 250 days, skew -3, kurtosis 10, 100 trials with annualised variance 0.5):

>>> sr0 = expected_max_sharpe(100, 0.5 / 250)
>>> round(sr0, 4)
0.1132
>>> round(deflated_sharpe(2.5 / 250 ** 0.5, 1250, -3.0, 10.0, 100, 0.5 / 250), 4)
0.9004
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from research.analysis.normal import normal_cdf, normal_ppf
from research.errors import AnalysisError

EULER_GAMMA = 0.5772156649015329  # Euler-Mascheroni: the paper's γ
NORMAL_SKEW, NORMAL_KURTOSIS = 0.0, 3.0  # used for a series with no spread
SAMPLE_VARIANCE, NULL_VARIANCE = "sample", "null"  # how V was estimated (deflate_best)


def probabilistic_sharpe(sharpe: float, n_obs: int, skew: float, kurtosis: float,
                         threshold: float = 0.0) -> float:
    """PSR(SR*) = Φ((SR − SR*)·√(T − 1) / √(1 − γ3·SR + (γ4 − 1)/4·SR²)).

    The probability that the true Sharpe exceeds `threshold` given the observed one. NaN
    when the term under the root is not positive (a very skewed, very high Sharpe), where
    the formula does not apply.

    >>> round(probabilistic_sharpe(0.1, 101, 0.0, 3.0), 4)   # Φ(0.1·10 / √1.005)
    0.8407
    """
    if n_obs < 2:
        raise AnalysisError(f"probabilistic_sharpe: n_obs {n_obs} is less than 2")
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not spread > 0:
        return math.nan
    z = (sharpe - threshold) * math.sqrt(n_obs - 1) / math.sqrt(spread)
    return normal_cdf(z)


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """SR0 = √V·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e))): the expected best of N
    independent trials with no skill whose Sharpe ratios have variance V. One trial's
    expected maximum is its expected value, 0.

    >>> round(expected_max_sharpe(10, 1.0), 4)
    1.5746
    """
    if n_trials < 1:
        raise AnalysisError(f"expected_max_sharpe: n_trials {n_trials} is less than 1")
    if not sharpe_variance >= 0:
        raise AnalysisError(f"expected_max_sharpe: sharpe_variance {sharpe_variance} is "
                            "not >= 0")
    if n_trials == 1:
        return 0.0
    quantiles = (normal_ppf(1.0 - 1.0 / n_trials), normal_ppf(1.0 - 1.0 / (n_trials * math.e)))
    return math.sqrt(sharpe_variance) * ((1.0 - EULER_GAMMA) * quantiles[0]
                                         + EULER_GAMMA * quantiles[1])


def deflated_sharpe(sharpe: float, n_obs: int, skew: float, kurtosis: float, n_trials: int,
                    sharpe_variance: float) -> float:
    """DSR = PSR(SR0): the probability that the best of `n_trials` has a true Sharpe above
    what the best of that many lucky tries would show (NaN where PSR is).

    >>> round(deflated_sharpe(0.1, 101, 0.0, 3.0, 1, 0.01), 4)   # one trial: PSR(0)
    0.8407
    """
    threshold = expected_max_sharpe(n_trials, sharpe_variance)
    return probabilistic_sharpe(sharpe, n_obs, skew, kurtosis, threshold)


def skew_and_kurtosis(values: np.ndarray) -> tuple[float, float]:
    """Sample skewness and (non-excess) kurtosis, the moment estimators the paper uses
    (scipy's biased ones); a normal's (0, 3) for a series with no spread.

    The same operations as ``scipy.stats.skew(bias=True)`` and ``kurtosis(fisher=False,
    bias=True)`` (scipy 1.17, ``_moment``: deviations from the mean, m3 the mean of d²·d,
    m4 the mean of (d²)², then m3 / m2^1.5 and m4 / m2²), so the values are scipy's bit for
    bit (tested), NaN where scipy calls the spread zero (m2 <= (ε·mean)²).

    >>> skew_and_kurtosis(np.array([0.0, 0.0, 3.0]))
    (0.7071067811865475, 1.5)
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2 or np.all(values == values[0]):
        return NORMAL_SKEW, NORMAL_KURTOSIS
    mean = values.mean()
    deviations = values - mean
    squares = deviations**2
    m2 = squares.mean()
    if m2 <= (np.finfo(np.float64).eps * mean) ** 2:  # scipy's test for no spread
        return math.nan, math.nan
    m3 = (squares * deviations).mean()
    m4 = (squares**2).mean()
    return float(m3 / m2**1.5), float(m4 / m2**2.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeflatedSharpe:
    """§3 for the in-sample best: its per-period Sharpe, moments and both PSR and DSR."""

    sharpe: float  # per period
    n_obs: int
    skew: float
    kurtosis: float
    n_trials: int
    sharpe_variance: float  # the V behind SR0 (see variance_estimator)
    sr0: float
    psr: float | None  # PSR(0); None where the formula does not apply
    dsr: float | None
    variance_estimator: str = SAMPLE_VARIANCE
    sharpe_variance_sample: float | None = None  # ddof 1 over the trials, for comparison


def deflate_best(best_usd: np.ndarray, sharpe_of_trials: np.ndarray, best_sharpe: float,
                 *, n_trials: int | None = None,
                 null_variance: float | None = None) -> DeflatedSharpe:
    """DSR of the combo whose daily $ are `best_usd`, among trials with these Sharpes.

    `n_trials` None: one trial per Sharpe given (the paper's N; a ledger's N may be larger).
    `null_variance` None: V is the trials' sample variance (ddof 1, the paper's); else V is
    that value, the spread the trials would have with no edge (``trials.py``), which the
    edge under test cannot widen (an edge in some combos widens the sample variance and so
    raises SR0 against itself).

    >>> d = deflate_best(np.array([1.0, 2.0, 0.0, 3.0]), np.array([0.0, 0.5, 1.0]), 1.0)
    >>> d.n_trials, d.sharpe_variance
    (3, 0.25)
    >>> deflate_best(np.array([1.0, 2.0, 0.0, 3.0]), np.array([0.0, 0.5, 1.0]), 1.0,
    ...              n_trials=50, null_variance=0.1).variance_estimator
    'null'
    """
    skew, kurtosis = skew_and_kurtosis(best_usd)
    n_obs = len(best_usd)
    sample = float(np.var(sharpe_of_trials, ddof=1)) if len(sharpe_of_trials) > 1 else 0.0
    n_trials = len(sharpe_of_trials) if n_trials is None else n_trials
    use_null = null_variance is not None and math.isfinite(null_variance)
    variance = float(null_variance) if use_null else sample
    sr0 = expected_max_sharpe(n_trials, variance)
    psr = probabilistic_sharpe(best_sharpe, n_obs, skew, kurtosis)
    dsr = probabilistic_sharpe(best_sharpe, n_obs, skew, kurtosis, sr0)
    return DeflatedSharpe(sharpe=best_sharpe, n_obs=n_obs, skew=skew, kurtosis=kurtosis,
                          n_trials=n_trials, sharpe_variance=variance, sr0=sr0,
                          psr=None if math.isnan(psr) else psr,
                          dsr=None if math.isnan(dsr) else dsr,
                          variance_estimator=NULL_VARIANCE if use_null else SAMPLE_VARIANCE,
                          sharpe_variance_sample=sample)
