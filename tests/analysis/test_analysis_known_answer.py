"""Data with a known answer: no edge must read as no evidence, a planted edge must be found.

The daily matrices come from the engine itself (tests/analysis_helpers.py): 7 slots x 3
targets on a year of synthetic ES. The thresholds were checked on five seeds (7, 11, 23,
42, 99) before being written down here. Without an edge: DSR 0.05-0.52, SPA p 0.24-0.97,
PBO 0.32-0.74 (mean 0.48). With the default PlantedEdge on 09:30: the walk-forward chose
09:30 in 6 of 6 folds, PBO <= 0.002, DSR >= 0.98, SPA p 0.000.
"""

from __future__ import annotations

import collections
import functools

import pytest

from research.analysis import AnalysisConfig, analyze
from research.analysis.verdict import EVIDENCE, NO_EVIDENCE
from research.engine.planted_edge import PlantedEdge
from research.engine.synthetic import synthetic_bars
from tests.analysis_helpers import engine_daily

PLAIN_SEEDS = (7, 11, 23, 42, 99)
PLANTED_SEEDS = (7, 42)
CONFIG = AnalysisConfig()  # the defaults: 126/21/21 rolling by Sharpe, S = 16


@functools.cache  # one engine year and one analysis per seed, shared by the tests below
def analysis_of(seed: int, edge: bool):
    frame = synthetic_bars("ES", "2024-01-01", "2024-12-31", seed=seed,
                           edge=PlantedEdge() if edge else None)
    return analyze(*engine_daily(frame), CONFIG)


def seeds(values: tuple[int, ...]) -> list:
    """The first seed in the fast loop, the others only in the full suite (each costs a year
    of engine runs and an analysis)."""
    return [values[0], *(pytest.param(seed, marks=pytest.mark.slow) for seed in values[1:])]


@pytest.mark.parametrize("seed", seeds(PLAIN_SEEDS))
def test_no_edge_says_no_evidence(seed):
    result = analysis_of(seed, edge=False)
    assert result.n_trials == 21
    assert result.evidence == NO_EVIDENCE
    assert result.verdict.startswith("No evidence of an edge.")
    assert result.deflated.dsr < 0.95  # not significant
    assert result.spa.pvalue > 0.1  # a winner this good is common by luck
    assert result.cscv.pbo > 0.25


@pytest.mark.slow  # all five seeds
def test_no_edge_pbo_is_a_coin_flip_on_average():
    """PBO near 0.5: the in-sample winner is no better than a random pick out of sample."""
    mean_pbo = sum(analysis_of(seed, edge=False).cscv.pbo for seed in PLAIN_SEEDS) / len(
        PLAIN_SEEDS)
    assert 0.4 <= mean_pbo <= 0.6


@pytest.mark.parametrize("seed", seeds(PLANTED_SEEDS))
def test_a_planted_edge_is_found_out_of_sample(seed):
    result = analysis_of(seed, edge=True)
    chosen = collections.Counter(fold.params["slot"] for fold in result.walk_forward.folds)
    assert chosen["09:30"] >= len(result.walk_forward.folds) - 1  # most folds, all but one
    assert result.walk_forward.oos_net_usd > 0 and result.walk_forward.oos_tstat > 2
    assert result.best_params["slot"] == "09:30"
    assert result.cscv.pbo < 0.05
    assert result.deflated.dsr >= 0.95  # significant after 21 tries
    assert result.spa.pvalue <= 0.01
    assert result.evidence == EVIDENCE
    assert result.verdict.startswith("Evidence of an edge.")


def test_the_planted_slot_is_a_plateau_not_a_spike():
    planted = analysis_of(PLANTED_SEEDS[0], edge=True)
    stats = planted.combo_stats.set_index("combo_id")
    best = planted.best_combo_id
    assert planted.best_plateau_rank <= 3  # its 09:30 neighbours (other targets) agree
    assert stats.loc[best, "sharpe_ci_low"] > 0  # the interval excludes no edge
