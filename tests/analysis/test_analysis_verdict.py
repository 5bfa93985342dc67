"""The verdict's words match its numbers (issue 25): it names the combo it judges, the metric
and the N; a flat grid is nothing to judge; too few folds are said; the ledger's N changing
the answer is said; an edge is claimed only with "Evidence"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.analysis import AnalysisConfig, analyze
from research.analysis.verdict import (
    EVIDENCE,
    HEADLINES,
    MIN_FOLDS,
    MIXED,
    NO_EVIDENCE,
    NOTHING,
    Judged,
    evidence_of,
)

DATES = pd.bdate_range("2024-01-01", periods=252, name="date")
CONFIG = AnalysisConfig(bootstrap_reps=300)


def matrix(seed: int, n_combos: int = 12, edge_usd: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    usd = np.round(rng.normal(0, 40, (len(DATES), n_combos))) * 12.5
    usd[:, 0] += edge_usd
    return pd.DataFrame(usd, index=DATES, columns=[f"c{i}" for i in range(n_combos)])


def run(daily: pd.DataFrame, config: AnalysisConfig = CONFIG, **kwargs):
    params = pd.DataFrame({"target": range(daily.shape[1])}, index=daily.columns)
    return analyze(daily, params, {"target": list(range(daily.shape[1]))}, config, **kwargs)


def test_a_grid_that_never_trades_is_nothing_to_judge():
    result = run(pd.DataFrame(0.0, index=DATES, columns=["a", "b", "c"]))
    assert result.evidence == NOTHING
    assert result.verdict == ("Nothing to judge: every one of the 3 combos is flat (no trade, "
                              "or a net of exactly $0 on every date), so there is no winner "
                              "to test.")
    assert "SPA" not in result.verdict and "beats not trading" not in result.verdict


def test_the_verdict_names_the_combo_the_metric_and_the_n():
    result = run(matrix(1), n_ledger=40)
    best = result.best_combo_id
    assert f"Judged: {best} (target {result.best_params['target']}), the in-sample best by " \
           "sharpe" in result.verdict
    assert "N = 40 tries (ledger): 12 in this sweep, 40 on these data in the ledger" in \
        result.verdict
    assert f"the best of {result.deflated.n_trials:,} tries" in result.verdict


def test_a_clear_edge_is_evidence_and_says_so():
    result = run(matrix(2, edge_usd=150.0))
    assert result.evidence == EVIDENCE and result.best_combo_id == "c0"
    assert result.verdict.startswith(HEADLINES[EVIDENCE] + ". Judged: c0")
    assert "beats not trading even allowing for that many combos" in result.verdict
    assert result.stepm.superior == (0,)


def test_the_ledgers_n_changing_the_answer_is_said():
    daily = matrix(2, edge_usd=150.0)
    alone = run(daily)
    many = run(daily, n_ledger=1_000_000)
    assert alone.evidence != many.evidence
    assert (f'with this sweep\'s N = 12 alone it would read "{HEADLINES[alone.evidence]}": '
            "the ledger's N changes the answer") in many.verdict
    assert "changes the answer" not in alone.verdict


def test_too_few_folds_are_said_and_never_count_as_support():
    short = matrix(3, edge_usd=150.0).iloc[:150]  # 126 + 21: one fold
    result = run(short)
    assert len(result.walk_forward.folds) == 1 < MIN_FOLDS
    assert f"over 1 fold, 1 combo chosen), too few folds to mean much (fewer than {MIN_FOLDS}" \
        in result.verdict


@pytest.mark.parametrize("seed", range(8))
def test_no_verdict_claims_an_edge_without_evidence(seed):
    result = run(matrix(seed + 10))
    if result.evidence != EVIDENCE:
        assert "beats not trading even" not in result.verdict
    assert result.evidence in (MIXED, NO_EVIDENCE, EVIDENCE)


def test_strong_out_of_sample_checks_make_a_miss_mixed_not_no_evidence():
    result = run(matrix(2, edge_usd=150.0))
    judged_like = dict(dsr=0.5, spa_pvalue=0.5)  # both tests missing; PBO and walk-forward not
    assert result.cscv.pbo < 0.1 and result.walk_forward.oos_tstat >= 2

    judged = Judged(metric="sharpe", combo_id="c0", params={}, trials_used="sweep",
                    n_sweep=12, n_ledger=12, n_effective=12.0, deflated=result.deflated,
                    dsr_sweep=result.deflated.dsr, spa_pvalue=0.5, spa_pvalue_raw=0.5,
                    spa_pvalue_sweep=0.5, walk_forward=result.walk_forward, cscv=result.cscv,
                    cpcv=result.cpcv, stepm=result.stepm, haircut=result.haircut, flat=False)
    assert evidence_of(judged, **judged_like) == MIXED
