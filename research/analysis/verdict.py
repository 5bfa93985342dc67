"""The verdict in plain words: what the numbers say about the in-sample winner (§6).

The overall call rests on the two tests that correct for having tried N combos: the
deflated Sharpe (significant at DSR >= 0.95) and the SPA test (p <= 0.05). Both significant,
with PBO below 0.5 and a profitable walk-forward: evidence of an edge. Neither significant:
no evidence. Anything else, a PBO or walk-forward left out for too few dates included:
mixed evidence (an edge is never claimed without its out-of-sample checks).
"""

from __future__ import annotations

from research.analysis.cscv import Cscv
from research.analysis.robustness import Robustness
from research.analysis.sharpe import DeflatedSharpe
from research.analysis.spa import Spa
from research.analysis.stats import SQRT_PERIODS_PER_YEAR
from research.analysis.walkforward import WalkForward

DSR_SIGNIFICANT = 0.95
SPA_SIGNIFICANT = 0.05
PBO_RANDOM = 0.5  # at or above: the selection is no better than a random pick
PBO_LOW = 0.1  # below: worded as how often the winner stays in the top half
EVIDENCE, MIXED, NO_EVIDENCE = "evidence", "mixed", "no evidence"
_HEADLINE = {EVIDENCE: "Evidence of an edge", MIXED: "Mixed evidence",
             NO_EVIDENCE: "No evidence of an edge"}


def evidence_of(deflated: DeflatedSharpe, spa_pvalue: float, pbo: float | None,
                oos_net_usd: float | None) -> str:
    """EVIDENCE, MIXED or NO_EVIDENCE (the module's rule).

    >>> from research.analysis.sharpe import DeflatedSharpe
    >>> deflated = DeflatedSharpe(sharpe=0.05, n_obs=252, skew=0.0, kurtosis=3.0, n_trials=980,
    ...                           sharpe_variance=0.001, sr0=0.1, psr=0.79, dsr=0.2)
    >>> evidence_of(deflated, spa_pvalue=0.4, pbo=0.6, oos_net_usd=-3120.0)
    'no evidence'
    """
    dsr_ok = deflated.dsr is not None and deflated.dsr >= DSR_SIGNIFICANT
    spa_ok = spa_pvalue <= SPA_SIGNIFICANT
    if not dsr_ok and not spa_ok:
        return NO_EVIDENCE
    supports = [pbo is not None and pbo < PBO_RANDOM, oos_net_usd is not None and oos_net_usd > 0]
    return EVIDENCE if dsr_ok and spa_ok and all(supports) else MIXED


def verdict_text(evidence: str, walk_forward: WalkForward, cscv: Cscv,
                 deflated: DeflatedSharpe, spa: Spa) -> str:
    """One paragraph: the headline, then a sentence per method (see ``key_numbers``'
    example for a whole analysis)."""
    sentences = [_HEADLINE[evidence], f"{_pbo_words(cscv)}; {_walk_forward_words(walk_forward)}",
                 _dsr_words(deflated), _spa_words(spa, deflated.n_trials)]
    return ". ".join(sentences) + "."


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
    return (f"walk-forward {earned} ${abs(wf.oos_net_usd):,.0f} out of sample (t = "
            f"{wf.oos_tstat:.2f} over {len(wf.folds)} folds, {choices})")


def _dsr_words(deflated: DeflatedSharpe) -> str:
    trials = f"{deflated.n_trials:,} tries"
    if deflated.dsr is None:
        return f"DSR undefined: the winner's returns are too skewed for the formula at {trials}"
    level = ("above" if deflated.dsr >= DSR_SIGNIFICANT else "not clearly above")
    return (f"DSR {deflated.dsr:.2f}: the winner's Sharpe ({deflated.sharpe:.3f} a day) is "
            f"{level} what the best of {trials} with no edge would show "
            f"({deflated.sr0:.3f})")


def _spa_words(spa: Spa, n_trials: int) -> str:
    if spa.pvalue <= SPA_SIGNIFICANT:
        return (f"SPA p-value {spa.pvalue:.3f}: the best combo beats not trading even "
                f"allowing for {n_trials:,} combos")
    return (f"SPA p-value {spa.pvalue:.3f}: a winner this good is not unusual among "
            f"{n_trials:,} combos even if none beats not trading")


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
             f"net {_usd(result.best_net_usd)}"]
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
    dsr = "undefined" if d.dsr is None else f"{d.dsr:.3f}"
    lines += [f"  deflated Sharpe DSR {dsr} (SR0 {d.sr0:.3f} a day for N = {d.n_trials:,}, "
              f"V = {d.sharpe_variance:.3g})",
              f"  SPA             p {spa.pvalue:.3f} (lower {spa.pvalue_lower:.3f}, upper "
              f"{spa.pvalue_upper:.3f}; {spa.reps} reps, block {spa.block_length})",
              f"  plateau         the best's score {result.best_plateau_score:.3g}, rank "
              f"{result.best_plateau_rank:,} of {result.n_trials:,} after smoothing"]
    return "\n".join(lines)


def _usd(amount: float) -> str:
    return f"-${-amount:,.0f}" if amount < 0 else f"${amount:,.0f}"
