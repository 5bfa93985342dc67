"""analyze(): every method of docs/robustness.md on one daily matrix, in one call.

check the inputs -> int64 cents -> the number of tries (this sweep's, the ledger's, the
effective one) -> walk-forward, CSCV, CPCV, deflated Sharpe, one shared set of
stationary-bootstrap resamples for SPA, StepM and the intervals (their product computed
once: ``bootstrap``), the haircut, plateaus -> the verdict -> Robustness.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from research.analysis.bootstrap import bootstrap_tests
from research.analysis.combo_stats import combo_table
from research.analysis.config import AnalysisConfig
from research.analysis.cpcv import cpcv
from research.analysis.cscv import cscv
from research.analysis.haircut import Haircut, haircut
from research.analysis.plateau import neighbour_table, plateau_scores, rank_descending
from research.analysis.positions import GridPositions, grid_positions
from research.analysis.resample import choose_block_length, stationary_counts
from research.analysis.robustness import BootstrapSettings, Robustness
from research.analysis.sharpe import DeflatedSharpe, deflate_best
from research.analysis.spa import Spa
from research.analysis.stats import (
    METRICS,
    Moments,
    check_exact,
    sharpe_daily,
    to_cents,
    window_moments,
)
from research.analysis.trials import CorrelationSummary, correlation_summary
from research.analysis.verdict import Judged, evidence_of, verdict_text
from research.analysis.walkforward import walk_forward
from research.errors import AnalysisError
from research.results.daily import CENTS_PER_DOLLAR

logger = logging.getLogger(__name__)
MIN_COMBOS = 2  # selection needs a choice
MIN_DATES = 3  # a Sharpe needs two dates, SPA's ln ln T a third


def analyze(daily: pd.DataFrame, params: pd.DataFrame, axes: Mapping[str, Sequence[Any]],
            config: AnalysisConfig | None = None, n_failed: int = 0, *,
            n_ledger: int | None = None, notes: Sequence[str] = ()) -> Robustness:
    """Analyse a (dates x combos) matrix of daily net $ (``research.results.daily.read_daily``).

    `params` is indexed by combo_id with a column per grid axis (values as written in the
    spec); `axes` maps each axis to its values in the spec's order; `n_failed` counts the
    sweep's combos that did not finish (reported next to DSR's N); `n_ledger` is the number
    of distinct combos ever tried on these data (``ledger.record_trials``; None: this
    sweep's); `notes` are further sentences for the verdict (other checks' findings). The
    result's ``seconds`` says how long each stage took.

    >>> import pandas as pd, numpy as np
    >>> dates = pd.bdate_range("2024-01-01", periods=40, name="date")
    >>> rng = np.random.default_rng(0)
    >>> daily = pd.DataFrame(rng.integers(-300, 300, (40, 3)) * 1.0, index=dates,
    ...                      columns=["a", "b", "c"])
    >>> params = pd.DataFrame({"target": [10, 15, 20]}, index=["a", "b", "c"])
    >>> config = AnalysisConfig(train=20, test=10, blocks=4, bootstrap_reps=200)
    >>> result = analyze(daily, params, {"target": [10, 15, 20]}, config, n_ledger=30)
    >>> result.n_trials, result.deflated.n_trials, len(result.walk_forward.folds)
    (3, 30, 2)
    """
    config = config or AnalysisConfig()
    clock = _Stopwatch()
    data = clock("prepare", _prepare, daily, params, axes, config.metric)
    correlation = clock("trials", correlation_summary, data.cents)
    counts_of_trials = _trial_counts(len(data.combo_ids), n_ledger, correlation)
    n_used = counts_of_trials[config.trials]
    null_variance = correlation.null_sharpe_variance(len(data.dates))
    by_trials = clock("dsr", _deflate_all, data, counts_of_trials, null_variance)
    wf = clock("walk_forward", walk_forward, data.cents, data.dates, data.combo_ids,
               data.grid.params_of, train=config.train, test=config.test,
               step=config.step_dates, anchored=config.anchored, metric=config.metric)
    splits = clock("cscv", cscv, data.cents, blocks=config.blocks, metric=config.metric)
    paths = clock("cpcv", cpcv, data.cents, groups=config.cpcv_groups,
                  test_groups=config.cpcv_test_groups, purge=config.purge_dates,
                  embargo=config.embargo_dates, metric=config.metric)
    block_length, source = clock("resample", choose_block_length, data.cents,
                                 config.block_length)
    counts = clock("resample", stationary_counts, len(data.dates), block_length,
                   config.bootstrap_reps, config.seed)
    tests = clock("bootstrap", bootstrap_tests, data.cents, counts, block_length)
    spa, superior, intervals = tests.spa, tests.stepm, tests.intervals
    cuts = clock("haircut", _haircuts, data, counts_of_trials)
    plateau, neighbours = clock("plateau", plateau_scores, data.metric_values,
                                neighbour_table(data.grid))
    best = data.best
    n_sweep = len(data.combo_ids)
    judged = Judged(
        metric=config.metric, combo_id=data.combo_ids[best], params=data.grid.params_of(best),
        trials_used=config.trials, n_sweep=n_sweep, n_ledger=counts_of_trials["ledger"],
        n_effective=correlation.effective_trials, deflated=by_trials[config.trials],
        dsr_sweep=by_trials["sweep"].dsr, spa_pvalue=_family_pvalue(spa, n_used, n_sweep),
        spa_pvalue_raw=_family_pvalue(spa, n_used, n_sweep, raw=True),
        spa_pvalue_sweep=spa.pvalue_studentized, walk_forward=wf, cscv=splits, cpcv=paths,
        stepm=superior, haircut=cuts[config.trials], flat=not data.cents.any(), notes=notes)
    evidence = evidence_of(judged)
    return Robustness(
        n_trials=n_sweep, n_ledger=counts_of_trials["ledger"],
        n_effective=correlation.effective_trials,
        mean_correlation=correlation.mean_correlation, trials_used=config.trials,
        n_failed=n_failed, n_dates=len(data.dates),
        first_date=data.dates[0].date().isoformat(),
        last_date=data.dates[-1].date().isoformat(), metric=config.metric,
        best_combo_id=data.combo_ids[best], best_params=data.grid.params_of(best),
        best_metric=float(data.metric_values[best]),
        best_net_usd=int(data.full.total[best]) / CENTS_PER_DOLLAR,
        deflated=by_trials[config.trials], spa=spa, spa_pvalue=judged.spa_pvalue,
        bootstrap=BootstrapSettings(reps=config.bootstrap_reps, block_length=block_length,
                                    block_length_source=source, seed=config.seed),
        walk_forward=wf, cscv=splits, cpcv=paths, stepm=superior,
        haircut=cuts[config.trials], deflated_by_trials=by_trials, haircut_by_trials=cuts,
        best_plateau_score=float(plateau[best]),
        best_plateau_rank=int(rank_descending(plateau)[best]), evidence=evidence,
        verdict=verdict_text(evidence, judged),
        combo_stats=combo_table(data.combo_ids, data.cents, data.full, data.metric_values,
                                intervals, plateau, neighbours),
        seconds=dict(clock.seconds))


def _trial_counts(n_sweep: int, n_ledger: int | None,
                  correlation: CorrelationSummary) -> dict[str, int]:
    """N for each reading: this sweep's combos, the ledger's (never fewer than this
    sweep's), and the effective number rounded (at least 1)."""
    return {"ledger": max(n_sweep, n_ledger or 0), "sweep": n_sweep,
            "effective": max(1, round(correlation.effective_trials))}


def _family_pvalue(spa: Spa, n_used: int, n_sweep: int, raw: bool = False) -> float:
    """SPA's p-value for N used tries. The bootstrap covers this sweep's combos only; the
    tries of earlier sweeps enter by a union bound over n_used / n_sweep families of this
    size (conservative: min(1, p·n_used / n_sweep)); fewer (effective) tries leave it as
    it is, since the bootstrap already accounts for the combos' correlation."""
    p = spa.pvalue if raw else spa.pvalue_studentized
    return min(1.0, p * max(n_used, n_sweep) / n_sweep)


def _deflate_all(data: _Prepared, counts: Mapping[str, int],
                 null_variance: float) -> dict[str, DeflatedSharpe]:
    """§3 for the in-sample best at each N, with V the null spread of the trials' Sharpes
    (``trials.py``: it cannot be widened by the edge it tests)."""
    best = data.best
    usd = data.cents[:, best] / CENTS_PER_DOLLAR
    return {name: deflate_best(usd, data.sharpes, float(data.sharpes[best]), n_trials=n,
                               null_variance=null_variance)
            for name, n in counts.items()}


def _haircuts(data: _Prepared, counts: Mapping[str, int]) -> dict[str, Haircut]:
    return {name: haircut(data.sharpes, data.best, len(data.dates), n)
            for name, n in counts.items()}


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The checked inputs in the form every method takes, and the whole-sample figures."""

    combo_ids: list[str]
    cents: np.ndarray  # (dates x combos) int64
    dates: pd.DatetimeIndex
    grid: GridPositions
    full: Moments
    metric_values: np.ndarray
    sharpes: np.ndarray  # per period
    best: int  # the in-sample best by the metric; ties: the lowest index, in grid order


def _prepare(daily: pd.DataFrame, params: pd.DataFrame, axes: Mapping[str, Sequence[Any]],
             metric: str) -> _Prepared:
    values = _checked_values(daily, params)
    cents = to_cents(values)
    del values  # at 100,000 combos a copy of the matrix is 200 MB
    check_exact(cents)
    full = window_moments(cents, 0, len(cents))
    metric_values = METRICS[metric](full.n, full.total, full.total_sq)
    return _Prepared([str(combo) for combo in daily.columns], cents,
                     pd.DatetimeIndex(daily.index), grid_positions(params.loc[daily.columns], axes),
                     full, metric_values, sharpe_daily(full.n, full.total, full.total_sq),
                     int(np.argmax(metric_values)))


class _Stopwatch:
    """Calls a stage and adds its wall time to ``seconds[stage]``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, stage: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started
        return result


def _checked_values(daily: pd.DataFrame, params: pd.DataFrame) -> np.ndarray:
    """The matrix's values, once its shape and values are checked and every combo has its
    parameters."""
    if not isinstance(daily, pd.DataFrame) or not isinstance(daily.index, pd.DatetimeIndex):
        raise AnalysisError("daily: expected a DataFrame indexed by trading date "
                            "(research.results.daily.read_daily gives one)")
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
    return values
