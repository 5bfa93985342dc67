"""The verdict in plain words: what the numbers say about the judged combo (§6, §7).

The judged combo is the in-sample best by the analysis' metric; the verdict names it and
the metric. The call rests on the two tests that correct for the N tries (the ledger's N by
default): the deflated Sharpe (DSR >= 0.95, its threshold from the null spread of the
Sharpe ratios) and Hansen's studentized SPA test (p <= 0.05, scaled up to the ledger's N).

- **Evidence of an edge**: both significant, PBO below 0.5, and an out-of-sample gain: the
  walk-forward's, or the median CPCV path's when the walk-forward has fewer than
  MIN_FOLDS folds (then it says too little).
- **No evidence of an edge**: neither test significant, unless the out-of-sample checks
  are strong on their own (PBO below 0.1 and a walk-forward t of 2 or more over enough
  folds): that is mixed evidence, said as such.
- **Mixed evidence**: anything else. Its words never claim an edge: a single test below 5%
  is what noise gives on 5-8% of grids (docs/calibration.md measures it: the studentized
  SPA and StepM reject on 7.6% of noise grids, above their nominal 5%), so it is reported
  as a reading of that test, not as a finding.
- **Nothing to judge**: every combo is flat (no trades, or all at exactly 0).

The calibration (benchmarks/calibration.py, docs/calibration.md) measures how often each
level appears on data with no edge and with planted edges of graded strength.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from research.analysis.cpcv import Cpcv
from research.analysis.cscv import Cscv
from research.analysis.haircut import Haircut
from research.analysis.robustness import Robustness
from research.analysis.sharpe import DeflatedSharpe
from research.analysis.stats import SQRT_PERIODS_PER_YEAR
from research.analysis.stepm import StepM
from research.analysis.walkforward import WalkForward

DSR_SIGNIFICANT = 0.95
SPA_SIGNIFICANT = 0.05
PBO_RANDOM = 0.5  # at or above: the selection is no better than a random pick
PBO_LOW = 0.1  # below: worded as how often the winner stays in the top half
STRONG_TSTAT = 2.0  # a walk-forward t this high over enough folds is strong on its own
MIN_FOLDS = 4  # fewer walk-forward folds say too little (seven months give one)
EVIDENCE, MIXED, NO_EVIDENCE, NOTHING = "evidence", "mixed", "no evidence", "nothing to judge"
LEVELS = (EVIDENCE, MIXED, NO_EVIDENCE, NOTHING)
HEADLINES = {EVIDENCE: "Evidence of an edge", MIXED: "Mixed evidence",
             NO_EVIDENCE: "No evidence of an edge", NOTHING: "Nothing to judge"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Judged:
    """What the verdict weighs. ``deflated`` and ``spa_pvalue`` are at the N used
    (``trials_used``); ``dsr_sweep`` / ``spa_pvalue_sweep`` at this sweep's own N, to say
    when the ledger changes the answer. ``notes`` are further sentences from other checks
    (the hook for e.g. the fill-bounds analysis), appended as given."""

    metric: str
    combo_id: str
    params: Mapping[str, Any]
    trials_used: str
    n_sweep: int
    n_ledger: int
    n_effective: float
    deflated: DeflatedSharpe
    dsr_sweep: float | None
    spa_pvalue: float
    spa_pvalue_raw: float
    spa_pvalue_sweep: float
    walk_forward: WalkForward
    cscv: Cscv
    cpcv: Cpcv
    stepm: StepM
    haircut: Haircut
    flat: bool
    notes: Sequence[str] = field(default=())


def evidence_of(judged: Judged, *, dsr: float | None = None,
                spa_pvalue: float | None = None) -> str:
    """The level (the module's rule); `dsr` / `spa_pvalue` override the judged ones (to ask
    what another N would have said)."""
    if judged.flat:
        return NOTHING
    dsr = judged.deflated.dsr if dsr is None else dsr
    spa_pvalue = judged.spa_pvalue if spa_pvalue is None else spa_pvalue
    dsr_ok = dsr is not None and dsr >= DSR_SIGNIFICANT
    spa_ok = spa_pvalue <= SPA_SIGNIFICANT
    if not dsr_ok and not spa_ok:
        return MIXED if _strong_out_of_sample(judged) else NO_EVIDENCE
    pbo = judged.cscv.pbo
    supported = pbo is not None and pbo < PBO_RANDOM and _out_of_sample_gain(judged)
    return EVIDENCE if dsr_ok and spa_ok and supported else MIXED


def enough_folds(wf: WalkForward) -> bool:
    """Whether the walk-forward has MIN_FOLDS folds or more."""
    return wf.oos_net_usd is not None and len(wf.folds) >= MIN_FOLDS


def _out_of_sample_gain(judged: Judged) -> bool:
    wf, paths = judged.walk_forward, judged.cpcv
    if enough_folds(wf):
        return wf.oos_net_usd > 0
    return paths.median_sharpe is not None and paths.median_sharpe > 0


def _strong_out_of_sample(judged: Judged) -> bool:
    wf, pbo = judged.walk_forward, judged.cscv.pbo
    return (pbo is not None and pbo < PBO_LOW and enough_folds(wf)
            and wf.oos_tstat is not None and wf.oos_tstat >= STRONG_TSTAT)


def verdict_text(evidence: str, judged: Judged) -> str:
    """One paragraph: the headline, the judged combo and N, then a sentence per method."""
    if evidence == NOTHING:
        return (f"{HEADLINES[NOTHING]}: every one of the {judged.n_sweep:,} combos is flat "
                "(no trade, or a net of exactly $0 on every date), so there is no winner to "
                "test.")
    sentences = [HEADLINES[evidence], _judged_words(judged), _trials_words(judged, evidence),
                 f"{_pbo_words(judged.cscv)}; {_walk_forward_words(judged.walk_forward)}",
                 _cpcv_words(judged.cpcv), _dsr_words(judged.deflated),
                 _spa_words(judged, evidence), _stepm_words(judged.stepm),
                 _haircut_words(judged.haircut), *judged.notes]
    return ". ".join(sentence for sentence in sentences if sentence) + "."


def _judged_words(judged: Judged) -> str:
    params = ", ".join(f"{axis} {value}" for axis, value in judged.params.items())
    return (f"Judged: {judged.combo_id} ({params}), the in-sample best by {judged.metric}, "
            f"Sharpe {judged.deflated.sharpe:.3f} a day")


def _trials_words(judged: Judged, evidence: str) -> str:
    used = {"ledger": judged.n_ledger, "sweep": judged.n_sweep,
            "effective": judged.deflated.n_trials}[judged.trials_used]
    text = (f"N = {used:,} tries ({judged.trials_used}): {judged.n_sweep:,} in this sweep, "
            f"{judged.n_ledger:,} on these data in the ledger, {judged.n_effective:,.1f} "
            "effective (Li & Ji 2005)")
    if judged.trials_used != "sweep":
        own = evidence_of(judged, dsr=judged.dsr_sweep, spa_pvalue=judged.spa_pvalue_sweep)
        if own != evidence:
            text += (f"; with this sweep's N = {judged.n_sweep:,} alone it would read "
                     f"\"{HEADLINES[own]}\": the {judged.trials_used}'s N changes the answer")
    return text


def _pbo_words(cscv: Cscv) -> str:
    if cscv.pbo is None:
        return f"PBO not computed ({cscv.skipped})"
    if cscv.pbo >= PBO_RANDOM:
        return (f"PBO {cscv.pbo:.2f}: the in-sample winner is no better than a random pick "
                "out of sample")
    if cscv.pbo < PBO_LOW:
        return (f"PBO {cscv.pbo:.2f}: the in-sample winner stays in the top half out of "
                f"sample in {1 - cscv.pbo:.0%} of the {cscv.splits:,} splits")
    return (f"PBO {cscv.pbo:.2f}: the in-sample winner ends in the bottom half out of sample "
            f"in {cscv.pbo:.0%} of the {cscv.splits:,} splits")


def _walk_forward_words(wf: WalkForward) -> str:
    if wf.oos_net_usd is None:
        return f"walk-forward skipped ({wf.skipped})"
    earned = "earned" if wf.oos_net_usd > 0 else "lost"
    choices = "1 combo chosen" if wf.distinct_choices == 1 else \
        f"{wf.distinct_choices} distinct combos chosen"
    folds = "1 fold" if len(wf.folds) == 1 else f"{len(wf.folds)} folds"
    text = (f"walk-forward {earned} ${abs(wf.oos_net_usd):,.0f} out of sample (t = "
            f"{wf.oos_tstat:.2f} over {folds}, {choices})")
    if not enough_folds(wf):
        text += (f", too few folds to mean much (fewer than {MIN_FOLDS}; CPCV's paths "
                 "stand in for it)")
    return text


def _cpcv_words(paths: Cpcv) -> str:
    if paths.median_sharpe is None:
        return f"CPCV not computed ({paths.skipped})"
    return (f"CPCV ({paths.groups} groups, {paths.test_groups} tested, {paths.paths} paths): "
            f"picking the best combo gave a median out-of-sample Sharpe of "
            f"{paths.median_sharpe:.3f} a day, a loss on {paths.prob_loss:.0%} of the paths")


def _dsr_words(deflated: DeflatedSharpe) -> str:
    trials = f"{deflated.n_trials:,} tries"
    if deflated.dsr is None:
        return f"DSR undefined: the winner's returns are too skewed for the formula at {trials}"
    level = ("above" if deflated.dsr >= DSR_SIGNIFICANT else "not clearly above")
    return (f"DSR {deflated.dsr:.2f}: the winner's Sharpe is {level} the {deflated.sr0:.3f} a "
            f"day that the best of {trials} would show if none had an edge")


def _spa_words(judged: Judged, evidence: str) -> str:
    p, raw = judged.spa_pvalue, judged.spa_pvalue_raw
    numbers = f"SPA p-value {p:.3f} (studentized, for {_n_used(judged):,} tries; raw {raw:.3f})"
    if p > SPA_SIGNIFICANT:
        return f"{numbers}: a winner this good is not unusual among that many combos with no edge"
    if evidence == EVIDENCE:
        return f"{numbers}: the best combo beats not trading even allowing for that many combos"
    return (f"{numbers}: below 5%, which noise alone reaches on 5-8% of grids "
            "(docs/calibration.md); without the other checks agreeing it is not evidence of "
            "an edge")


def _n_used(judged: Judged) -> int:
    return max(judged.n_ledger, judged.n_sweep) if judged.trials_used == "ledger" \
        else judged.n_sweep


def _stepm_words(stepm: StepM) -> str:
    if not stepm.superior:
        return (f"StepM (Romano & Wolf, {stepm.size:.0%} family-wise error): no combo beats "
                "not trading")
    count = "1 combo beats" if len(stepm.superior) == 1 else \
        f"{len(stepm.superior):,} combos beat"
    return (f"StepM (Romano & Wolf, {stepm.size:.0%} family-wise error, this sweep's combos): "
            f"{count} not trading")


def _haircut_words(cut: Haircut) -> str:
    if cut.sharpe <= 0:
        return ""
    bhy = cut.bhy
    return (f"Harvey & Liu haircut (BHY, {cut.n_tests:,} tests): Sharpe {cut.sharpe:.3f} a day "
            f"-> {bhy.sharpe:.3f} ({bhy.haircut:.0%} off)")


def key_numbers(result: Robustness) -> str:
    """The analysis' main figures, one method a line, for a terminal.

    >>> import numpy as np, pandas as pd
    >>> from research.analysis import AnalysisConfig, analyze
    >>> rng = np.random.default_rng(3)
    >>> daily = pd.DataFrame(rng.integers(-300, 300, (60, 2)) * 1.0, columns=["a", "b"],
    ...                      index=pd.bdate_range("2024-01-01", periods=60, name="date"))
    >>> result = analyze(daily, pd.DataFrame({"target": [10, 15]}, index=["a", "b"]),
    ...                  {"target": [10, 15]}, AnalysisConfig(train=30, test=10, blocks=4))
    >>> print(key_numbers(result).splitlines()[0])
    2 combos (0 failed), 60 trading dates 2024-01-01..2024-03-22, chosen by sharpe
    >>> result.verdict.split(".")[0] in ("No evidence of an edge", "Mixed evidence")
    True
    """
    wf, splits, d, spa = result.walk_forward, result.cscv, result.deflated, result.spa
    params = ", ".join(f"{axis} {value}" for axis, value in result.best_params.items())
    lines = [f"{result.n_trials:,} combos ({result.n_failed} failed), {result.n_dates} trading "
             f"dates {result.first_date}..{result.last_date}, chosen by {result.metric}",
             f"  in-sample best  {result.best_combo_id} ({params}): Sharpe {d.sharpe:.3f} a day "
             f"({d.sharpe * SQRT_PERIODS_PER_YEAR:.2f} annualised), "
             f"net {_usd(result.best_net_usd)}",
             f"  tries           N used {d.n_trials:,} ({result.trials_used}); sweep "
             f"{result.n_trials:,}, ledger {result.n_ledger:,}, effective "
             f"{result.n_effective:.1f}"]
    if wf.oos_net_usd is None:
        lines.append(f"  walk-forward    skipped: {wf.skipped}")
    else:
        wfe = f"{wf.wfe:.2f}" if wf.wfe is not None else f"n/a ({wf.wfe_note})"
        lines.append(f"  walk-forward    {wf.train}/{wf.test}/{wf.step} "
                     f"{'anchored' if wf.anchored else 'rolling'}: OOS net "
                     f"{_usd(wf.oos_net_usd)}, Sharpe {wf.oos_sharpe:.2f}, "
                     f"t {wf.oos_tstat:.2f}, WFE {wfe}, "
                     f"{wf.distinct_choices} distinct of {len(wf.folds)} folds")
    if splits.pbo is None:
        lines.append(f"  PBO (CSCV)      skipped: {splits.skipped}")
    else:
        lines.append(f"  PBO (CSCV)      {splits.pbo:.3f} over {splits.splits:,} splits of "
                     f"{splits.blocks} blocks ({splits.dropped_dates} earliest dates dropped), "
                     f"P(OOS loss) {splits.prob_oos_loss:.3f}")
    paths = result.cpcv
    lines.append(f"  CPCV            skipped: {paths.skipped}" if paths.median_sharpe is None
                 else f"  CPCV            {paths.paths} paths of {paths.groups} groups / "
                      f"{paths.test_groups}: median OOS Sharpe {paths.median_sharpe:.3f} a "
                      f"day, P(loss) {paths.prob_loss:.2f}")
    dsr = "undefined" if d.dsr is None else f"{d.dsr:.3f}"
    cut = result.haircut
    lines += [f"  deflated Sharpe DSR {dsr} (SR0 {d.sr0:.3f} a day for N = {d.n_trials:,}, "
              f"V = {d.sharpe_variance:.3g} {d.variance_estimator}, sample "
              f"{d.sharpe_variance_sample:.3g})",
              f"  SPA             p {result.spa_pvalue:.3f} studentized for N used (this "
              f"sweep: studentized {spa.pvalue_studentized:.3f}, raw {spa.pvalue:.3f}; "
              f"{spa.reps} reps, block {spa.block_length})",
              f"  StepM           {len(result.stepm.superior):,} combos beat not trading "
              f"({result.stepm.size:.0%} FWER)",
              f"  haircut         BHY {cut.bhy.pvalue:.3f}, Holm {cut.holm.pvalue:.3f}, "
              f"Bonferroni {cut.bonferroni.pvalue:.3f} -> Sharpe {cut.bhy.sharpe:.3f} (BHY)",
              f"  plateau         the best's score {result.best_plateau_score:.3g}, rank "
              f"{result.best_plateau_rank:,} of {result.n_trials:,} after smoothing"]
    return "\n".join(lines)


def _usd(amount: float) -> str:
    return f"-${-amount:,.0f}" if amount < 0 else f"${amount:,.0f}"
