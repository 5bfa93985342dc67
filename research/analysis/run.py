"""analyze(): every method of ROBUSTNESS.md on one daily matrix, in one call.

check the inputs -> int64 cents -> walk-forward, CSCV, deflated Sharpe, one shared set of
stationary-bootstrap resamples for SPA and the intervals, plateaus -> Robustness.

>>> import pandas as pd, numpy as np
>>> dates = pd.bdate_range("2024-01-01", periods=40, name="date")
>>> rng = np.random.default_rng(0)
>>> daily = pd.DataFrame(rng.integers(-300, 300, (40, 3)) * 1.0, index=dates,
...                      columns=["a", "b", "c"])
>>> params = pd.DataFrame({"target": [10, 15, 20]}, index=["a", "b", "c"])
>>> config = AnalysisConfig(train=20, test=10, blocks=4, bootstrap_reps=200)
>>> result = analyze(daily, params, {"target": [10, 15, 20]}, config)
>>> result.n_trials, len(result.walk_forward.folds), result.cscv.splits
(3, 2, 6)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from research.analysis.combo_stats import combo_table
from research.analysis.config import AnalysisConfig
from research.analysis.cscv import cscv
from research.analysis.errors import AnalysisError
from research.analysis.intervals import bootstrap_intervals
from research.analysis.plateau import neighbour_table, plateau_scores, rank_descending
from research.analysis.positions import grid_positions
from research.analysis.resample import choose_block_length, stationary_counts
from research.analysis.robustness import BootstrapSettings, Robustness
from research.analysis.sharpe import deflate_best
from research.analysis.spa import spa_test
from research.analysis.stats import (
    METRICS,
    check_exact,
    sharpe_daily,
    to_cents,
    window_moments,
)
from research.analysis.verdict import evidence_of, verdict_text
from research.analysis.walkforward import walk_forward
from research.daily import CENTS_PER_DOLLAR

logger = logging.getLogger(__name__)
MIN_COMBOS = 2  # selection needs a choice
MIN_DATES = 3  # a Sharpe needs two dates, SPA's ln ln T a third


def analyze(daily: pd.DataFrame, params: pd.DataFrame, axes: Mapping[str, Sequence[Any]],
            config: AnalysisConfig | None = None, n_failed: int = 0) -> Robustness:
    """Analyse a (dates x combos) matrix of daily net $ (``research.daily.read_daily``).

    `params` is indexed by combo_id with a column per grid axis (values as written in the
    spec); `axes` maps each axis to its values in the spec's order; `n_failed` counts the
    sweep's combos that did not finish (reported next to DSR's N).
    """
    config = config or AnalysisConfig()
    _check_inputs(daily, params)
    combo_ids = [str(combo) for combo in daily.columns]
    cents = to_cents(daily.to_numpy())
    check_exact(cents)
    dates = pd.DatetimeIndex(daily.index)
    grid = grid_positions(params.loc[daily.columns], axes)
    full = window_moments(cents, 0, len(dates))
    metric_values = METRICS[config.metric](full.n, full.total, full.total_sq)
    sharpes = sharpe_daily(full.n, full.total, full.total_sq)
    best = int(np.argmax(metric_values))  # ties: the lowest index, in grid order
    deflated = deflate_best(cents[:, best] / CENTS_PER_DOLLAR, sharpes, float(sharpes[best]))
    wf = walk_forward(cents, dates, combo_ids, grid.params_of, train=config.train,
                      test=config.test, step=config.step_dates, anchored=config.anchored,
                      metric=config.metric)
    splits = cscv(cents, blocks=config.blocks, metric=config.metric)
    block_length, source = choose_block_length(cents, config.block_length)
    counts = stationary_counts(len(dates), block_length, config.bootstrap_reps, config.seed)
    spa = spa_test(cents, counts, block_length)
    intervals = bootstrap_intervals(cents, counts)
    plateau, neighbours = plateau_scores(metric_values, neighbour_table(grid))
    evidence = evidence_of(deflated, spa.pvalue, splits.pbo, wf.oos_net_usd)
    return Robustness(
        n_trials=len(combo_ids), n_failed=n_failed, n_dates=len(dates),
        first_date=dates[0].date().isoformat(), last_date=dates[-1].date().isoformat(),
        metric=config.metric, best_combo_id=combo_ids[best], best_params=grid.params_of(best),
        best_metric=float(metric_values[best]),
        best_net_usd=int(full.total[best]) / CENTS_PER_DOLLAR, deflated=deflated, spa=spa,
        bootstrap=BootstrapSettings(reps=config.bootstrap_reps, block_length=block_length,
                                    block_length_source=source, seed=config.seed),
        walk_forward=wf, cscv=splits, best_plateau_score=float(plateau[best]),
        best_plateau_rank=int(rank_descending(plateau)[best]), evidence=evidence,
        verdict=verdict_text(evidence, wf, splits, deflated, spa),
        combo_stats=combo_table(combo_ids, cents, full, metric_values, intervals, plateau,
                                neighbours))


def _check_inputs(daily: pd.DataFrame, params: pd.DataFrame) -> None:
    """The matrix's shape and values, and that every combo has its parameters."""
    if not isinstance(daily, pd.DataFrame) or not isinstance(daily.index, pd.DatetimeIndex):
        raise AnalysisError("daily: expected a DataFrame indexed by trading date "
                            "(research.daily.read_daily gives one)")
    n_dates, n_combos = daily.shape
    if n_combos < MIN_COMBOS:
        raise AnalysisError(f"daily: {n_combos} combo(s); the analysis needs at least "
                            f"{MIN_COMBOS} to choose from")
    if n_dates < MIN_DATES:
        raise AnalysisError(f"daily: {n_dates} trading date(s); the analysis needs at least "
                            f"{MIN_DATES}")
    if not daily.index.is_monotonic_increasing or not daily.index.is_unique:
        raise AnalysisError("daily: the dates must be unique and in order")
    if not daily.columns.is_unique:
        raise AnalysisError("daily: a combo_id appears twice")
    values = daily.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(values).all():
        bad = daily.columns[~np.isfinite(values).all(axis=0)][:3].tolist()
        raise AnalysisError(f"daily: NaN or infinite values in combo(s) {bad}; a date "
                            "without a trade is 0")
    if missing := [combo for combo in daily.columns if combo not in params.index][:3]:
        raise AnalysisError(f"params: no parameters for combo(s) {missing} of the daily "
                            "matrix")
