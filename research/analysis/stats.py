"""Exact moments of the daily matrix, and the metrics computed from them.

The daily matrix is whole cents (``daily.parquet`` stores int64 cents), so the analysis
works on int64 cents. Sums and sums of squares of cents over any window, block or bootstrap
resample are exact integers whatever the order they are added in, and every metric is a
function of those exact moments (n, Σx, Σx²) alone. So a metric is deterministic, and two
combos with the same P&L on a window get the same value bit for bit: ties stay ties.

Conventions (applied everywhere, vectorised over combos):
``sharpe`` is the per-period (daily) Sharpe ratio, mean / standard deviation (ddof 1), as
docs/robustness.md defines it; it is 0 when the standard deviation is 0 (a combo that never
trades, or one date) rather than undefined. ``net_usd`` is the sum in dollars.

>>> cents = to_cents(np.array([[1.5, 0.0], [-0.5, 0.0], [2.0, 0.0]]))
>>> m = window_moments(cents, 0, 3)
>>> m.total.tolist(), m.total_sq.tolist()
([300, 0], [65000, 0])
>>> sharpe_daily(m.n, m.total, m.total_sq).round(4).tolist()
[0.7559, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from research.errors import AnalysisError
from research.results.daily import CENTS_PER_DOLLAR

PERIODS_PER_YEAR = 252  # trading dates per year: annualised = per period x sqrt(252)
SQRT_PERIODS_PER_YEAR = math.sqrt(PERIODS_PER_YEAR)
_FLOAT_EXACT = 2**53  # integers below this are exact in float64, and so are their sums
_INT64_SAFE = 2**62


@dataclass(frozen=True, slots=True)
class Moments:
    """n dates and, per combo, Σx and Σx² of its cents over them (int64, exact)."""

    n: int
    total: np.ndarray
    total_sq: np.ndarray


def to_cents(daily_usd: np.ndarray) -> np.ndarray:
    """Net dollars as int64 whole cents (a daily file holds whole cents already), in C
    order: a DataFrame's values come column-major, and row windows and blocks of a
    column-major matrix made BLAS several times slower here.

    >>> to_cents(np.array([1.25, -0.1])).tolist()
    [125, -10]
    """
    cents = np.rint(np.asarray(daily_usd, dtype=np.float64) * CENTS_PER_DOLLAR)
    return np.ascontiguousarray(cents, dtype=np.int64)


def check_exact(cents: np.ndarray) -> None:
    """Refuse a matrix whose sums of squares could overflow int64 (over all its dates).

    >>> check_exact(np.array([[10**12], [0]]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    research.errors.AnalysisError: daily: ... over 2 dates (the limit is $15,185,002.49)
    """
    if not cents.size:
        return
    largest = int(np.abs(cents).max())
    if len(cents) * largest**2 >= _INT64_SAFE:
        limit = math.isqrt(_INT64_SAFE // len(cents)) / CENTS_PER_DOLLAR
        raise AnalysisError(f"daily: a daily net of ${largest / CENTS_PER_DOLLAR:,.2f} is too "
                            f"large for exact cents arithmetic over {len(cents)} dates (the "
                            f"limit is ${limit:,.2f})")


def window_moments(cents: np.ndarray, start: int, stop: int) -> Moments:
    """Moments of rows [start, stop) of a (dates x combos) cents matrix.

    >>> window_moments(np.array([[1], [2], [3]]), 1, 3).total_sq.tolist()
    [13]
    """
    window = cents[start:stop]
    return Moments(stop - start, window.sum(axis=0),
                   np.einsum("ij,ij->j", window, window))  # no squared copy of the window


def exact_matmul(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``weights @ values`` for non-negative integer weights and integer values, exactly.

    Through float64 BLAS when no partial sum can reach 2**53 (integers are exact below
    it, so the order BLAS adds them in does not matter): the result is then integer-valued
    float64. Otherwise in int64 (slower, as exact).

    >>> exact_matmul(np.array([[1, 1, 0]]), np.array([[2**40], [3], [5]])).tolist()
    [[1099511627779.0]]
    """
    weights = np.asarray(weights)
    if not values.size or not weights.size:
        return np.zeros((weights.shape[0], values.shape[1]))
    bound = int(weights.sum(axis=1).max()) * int(np.abs(values).max())
    if bound < _FLOAT_EXACT:
        return weights.astype(np.float64) @ values.astype(np.float64)
    return weights.astype(np.int64) @ values.astype(np.int64)


def sharpe_daily(n: int, total: np.ndarray, total_sq: np.ndarray) -> np.ndarray:
    """Per-period Sharpe (mean / sd, ddof 1) from exact moments; 0 where sd = 0 or n < 2.

    mean / sd = Σx · √((n − 1) / n) / √(n·Σx² − (Σx)²), the term under the root taken
    exactly while it can be (see _variance_numerator).

    >>> sharpe_daily(4, np.array([4, 8]), np.array([6, 16])).round(6).tolist()
    [1.224745, 0.0]
    """
    total = np.asarray(total)
    if n < 2:
        return np.zeros(total.shape)
    spread = _variance_numerator(n, total, np.asarray(total_sq))
    root = np.sqrt(spread)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = total * math.sqrt((n - 1) / n) / root
    return np.where(spread > 0, ratio, 0.0)


def net_usd(n: int, total: np.ndarray, total_sq: np.ndarray) -> np.ndarray:
    """Net dollars over the window (n and Σx² are not needed; the signature is a metric's).

    >>> net_usd(2, np.array([150, -25]), np.array([0, 0])).tolist()
    [1.5, -0.25]
    """
    return np.asarray(total) / CENTS_PER_DOLLAR


def _variance_numerator(n: int, total: np.ndarray, total_sq: np.ndarray) -> np.ndarray:
    """n·Σx² − (Σx)² >= 0 from integer moments (int64 or integer-valued float64): exact in
    float64 while both terms are below 2**53 (the usual case), else in int64 while they
    cannot overflow, else rounded in float64."""
    if total.size == 0:
        return np.zeros(total.shape)
    largest = max(n * int(total_sq.max()), int(np.abs(total).max()) ** 2)
    if largest < _FLOAT_EXACT:
        return n * total_sq.astype(np.float64, copy=False) - \
            np.square(total.astype(np.float64, copy=False))
    if largest < _INT64_SAFE:
        return (n * total_sq.astype(np.int64) - total.astype(np.int64) ** 2).astype(np.float64)
    rounded = n * total_sq.astype(np.float64) - total.astype(np.float64) ** 2
    return np.maximum(rounded, 0.0)


Metric = Callable[[int, np.ndarray, np.ndarray], np.ndarray]
# The metrics a combo can be chosen by: higher is better; each maps moments to values.
METRICS: Mapping[str, Metric] = MappingProxyType({"sharpe": sharpe_daily, "net_usd": net_usd})
