"""The stationary bootstrap's optimal mean block length (Politis & White 2004, corrected).

Politis & White, "Automatic Block-Length Selection for the Dependent Bootstrap",
Econometric Reviews 23(1), 2004, with the correction of Patton, Politis & White,
Econometric Reviews 28(4), 2009 (the stationary bootstrap's constant D is 2·σ̂⁴, the
flat-top spectral estimate at 0 squared, twice). The tuning follows
``arch.bootstrap.optimal_block_length`` (arch 8.0, its "stationary" column), which this
module reproduces operation for operation so that the lengths agree to the last bit
(the tests hold them within 1e-9 and their ceilings equal on many series):

- m̂: the first lag m such that the K_N = max(5, ⌊log10 n⌋) autocorrelations after it are
  all inside ±2·√(log10 n / n); the bandwidth M = 2·max(m̂, 1), capped at
  m_max = ⌈√n⌉ + K_N (m_max itself when no lag qualifies);
- flat-top weights λ(k/M) = 1 up to k/M = ½, then 2·(1 − k/M);
- Ĝ = Σ 2·λ·k·γ̂_k, σ̂² = γ̂_0 + Σ 2·λ·γ̂_k, b = (2·Ĝ² / (2·σ̂⁴))^⅓ · n^⅓, capped at
  ⌈min(3√n, n/3)⌉.

Autocovariances divide by n and use every overlapping pair. Why our own: importing
``arch.bootstrap`` costs ~3.4 s of a sweep's start (it pulls arch.univariate and
statsmodels), for this and the resample draws (research.analysis.resample).

A series shorter than 8 dates makes arch's lags run past its end (its slices then
mismatch and it raises); here a lag with no pair of dates has autocovariance 0, which
is the same formula wherever arch gives a value.

>>> round(optimal_block_length(np.sin(np.arange(200) ** 1.5)), 6)   # arch 8.0: 1.149491
1.149491
"""

from __future__ import annotations

import numpy as np


def optimal_block_length(series: np.ndarray) -> float:
    """The stationary bootstrap's optimal mean block length of a 1-D series (a float, not
    rounded; NaN where the spectral estimate is 0, as arch's). Example: the module."""
    values = np.asarray(series, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # short, sparse series: 0/0 inside
        return _block_length(values)


def _block_length(values: np.ndarray) -> float:
    n_obs = values.shape[0]
    deviations = values - values.mean(0)
    b_max = np.ceil(min(3 * np.sqrt(n_obs), n_obs / 3))
    lags_insignificant = max(5, int(np.log10(n_obs)))  # K_N
    m_max = int(np.ceil(np.sqrt(n_obs))) + lags_insignificant
    autocovariance, first_quiet = _autocovariances(deviations, m_max, lags_insignificant)
    bandwidth = min(2 * max(first_quiet, 1) if first_quiet is not None else m_max, m_max)
    g_hat, long_run = 0.0, autocovariance[0]
    for lag in range(1, bandwidth + 1):
        weight = 1 if lag / bandwidth <= 1 / 2 else 2 * (1 - lag / bandwidth)  # flat top
        g_hat += 2 * weight * lag * autocovariance[lag]
        long_run += 2 * weight * autocovariance[lag]
    d_stationary = 2 * long_run**2  # Patton, Politis & White (2009): 2·σ̂⁴
    length = ((2 * g_hat**2) / d_stationary) ** (1 / 3) * n_obs ** (1 / 3)
    return float(min(length, b_max))


def _autocovariances(deviations: np.ndarray, m_max: int,
                     lags_insignificant: int) -> tuple[np.ndarray, int | None]:
    """γ̂_0..γ̂_m_max, and m̂: the first lag after which `lags_insignificant` absolute
    autocorrelations all lie inside the band (None if none does). Products in arch's order
    (one dot product per lag), so the sums round as arch's do."""
    n_obs = deviations.shape[0]
    band = 2 * np.sqrt(np.log10(n_obs) / n_obs)
    autocovariance = np.zeros(m_max + 1)
    abs_correlation = np.zeros(m_max + 1)
    first_quiet: int | None = None
    for lag in range(m_max + 1):
        later, earlier = deviations[lag + 1:], deviations[:max(n_obs - lag - 1, 0)]
        cross = deviations[lag:] @ deviations[:n_obs - lag] if lag < n_obs else 0.0
        autocovariance[lag] = cross / n_obs
        abs_correlation[lag] = np.abs(cross) / np.sqrt((later @ later) * (earlier @ earlier))
        if (lag >= lags_insignificant and first_quiet is None
                and np.all(abs_correlation[lag - lags_insignificant:lag] < band)):
            first_quiet = lag - lags_insignificant
    return autocovariance, first_quiet
