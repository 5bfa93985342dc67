"""Sections 4 and 5, walk-forward and overfitting, from the robustness analysis' files when
they are there (inputs.py says what is read), else a note saying how to make them.

The two-halves rank scatter needs only the daily matrix, so it is always drawn: each combo's
rank by net $ on the first half of the dates against its rank on the second half.

>>> import pandas as pd
>>> s = pd.DataFrame({"combo_id": ["a", "b"], "target": [10, 15], "trades": [3, 3],
...                   "net_profit_usd": [1.0, 2.0]})
>>> inputs = ReportInputs.from_frames(s, ["target"])
>>> "robustness analysis not run" in walk_forward_section(inputs)
True
>>> overfitting_section(inputs).startswith('<section id="overfitting">')
True
"""

from __future__ import annotations

import math

import numpy as np

from research.report.charts import BLUE, ORANGE, Line, Span, histogram, line_chart, scatter
from research.report.charts import timeline as timeline_svg
from research.report.format import MISSING, axis_value, count, day, pvalue, ratio, usd
from research.report.markup import Cell, definition_list, esc, note, section, table
from research.report.results_folder import ANALYZE_HINT, ReportInputs, Robustness, WalkForward
from research.report.series import half_ranks, stitched_out_of_sample
from research.report.top import DEFAULT_RANK, top_combos
from research.results.metrics import TRADING_DATES_PER_YEAR

WALK_FORWARD_ID, OVERFITTING_ID = "walk-forward", "overfitting"
ANNUAL = math.sqrt(TRADING_DATES_PER_YEAR)
MAX_SCATTER_POINTS = 2000  # rank-scatter dots drawn; a larger grid is sampled (said so)


def _best_id(inputs: ReportInputs) -> str | None:
    if inputs.summary.empty:
        return None
    return str(top_combos(inputs.summary, DEFAULT_RANK, 1).iloc[0]["combo_id"])


def _params_text(inputs: ReportInputs, combo_id: str, given: dict) -> str:
    rows = inputs.summary.set_index("combo_id")
    if combo_id in rows.index:  # the grid axes say it; the fold's params name every field
        given = {a: rows.at[combo_id, a] for a in inputs.axes}
    return ", ".join(f"{k} {axis_value(v)}" for k, v in given.items()) or MISSING


def _wf_facts(wf: WalkForward) -> str:
    mode = {True: "anchored", False: "rolling", None: MISSING}[wf.anchored]
    wfe = (ratio(wf.wfe) if wf.wfe is not None else
           "undefined: the chosen combos' in-sample net $ is not above 0")
    return definition_list([
        ("windows", esc(f"train {count(wf.train)}, test {count(wf.test)}, step "
                        f"{count(wf.step)} trading dates; {mode}")),
        ("chosen by", esc(wf.metric or MISSING)),
        ("out-of-sample net $", esc(usd(wf.oos_net_usd))),
        ("out-of-sample Sharpe", esc(f"{ratio(wf.oos_sharpe)} (annualised), t-stat "
                                     f"{ratio(wf.oos_tstat)}")),
        ("walk-forward efficiency", esc(wfe)),
        ("distinct choices", esc(f"{count(wf.distinct_choices)} combos over "
                                 f"{count(len(wf.folds))} folds")),
    ])


def _timeline(wf: WalkForward) -> str:
    spans = []
    for i, fold in enumerate(wf.folds):
        spans.append(Span(i, fold.train_start, fold.train_end, "#92c5de",
                          f"fold {i + 1} train: {day(fold.train_start)} to {day(fold.train_end)}"))
        spans.append(Span(i, fold.test_start, fold.test_end, ORANGE,
                          f"fold {i + 1} test: {day(fold.test_start)} to {day(fold.test_end)}; "
                          f"chosen {fold.combo_id}"))
    return timeline_svg(spans, [f"fold {i + 1}" for i in range(len(wf.folds))])


def _folds_table(inputs: ReportInputs, wf: WalkForward) -> str:
    rows = [[Cell(str(i), i), f"{day(f.train_start)} to {day(f.train_end)}",
             f"{day(f.test_start)} to {day(f.test_end)}", f.combo_id,
             _params_text(inputs, f.combo_id, dict(f.params)),
             Cell(ratio(f.train_metric), f.train_metric), Cell(ratio(f.test_metric), f.test_metric)]
            for i, f in enumerate(wf.folds, 1)]
    metric = wf.metric or "metric"
    return table(["fold", "train", "test", "chosen combo", "its parameters",
                  f"train {metric}", f"test {metric}"], rows, numeric=[0, 5, 6],
                 attrs='class="compact"')


def _wf_equity(inputs: ReportInputs, wf: WalkForward) -> str:
    best = _best_id(inputs)
    stitched = stitched_out_of_sample(inputs.daily, wf.folds, best or "")
    if stitched.walk_forward_usd.empty:
        return note("No fold's test window falls on the daily matrix' dates: no equity.")
    lines = [Line("walk-forward, out of sample", stitched.walk_forward_usd.cumsum().to_numpy(),
                  ORANGE),
             Line("in-sample best (hindsight)", stitched.in_sample_best_usd.cumsum().to_numpy(),
                  BLUE)]
    skipped = (note(f"Folds {', '.join(map(str, stitched.skipped))} name combos the daily "
                    "matrix lacks: left out.", "warn") if stitched.skipped else "")
    return ("<h3>Stitched out-of-sample equity</h3><p class=\"muted small\">Cumulative net $ "
            "over the test windows only: what re-choosing each fold would have earned, beside "
            "the in-sample best combo (the top table's first row) on the same dates.</p>"
            + line_chart(stitched.walk_forward_usd.index, lines, y_label="net $ (cumulative)")
            + skipped)


def walk_forward_section(inputs: ReportInputs) -> str:
    """Fold timeline, the choice per fold, stitched out-of-sample equity; or a note."""
    robust = inputs.robustness
    wf = robust.walk_forward if robust else None
    if wf is None or not wf.folds:
        why = ANALYZE_HINT if robust is None else "robustness.json holds no walk-forward folds"
        return section(WALK_FORWARD_ID, "Walk-forward", note(why + "."))
    body = (_wf_facts(wf) + "<h3>Folds</h3>" + _timeline(wf)
            + '<p class="muted small">Blue: training window; orange: test window.</p>'
            + _folds_table(inputs, wf) + _wf_equity(inputs, wf))
    return section(WALK_FORWARD_ID, "Walk-forward", body)


def plain_verdict(robust: Robustness) -> str | None:
    """One line in plain words from PBO, DSR and the SPA p-value (robustness.json's own
    ``verdict`` wins when it has one).

    >>> r = Robustness(84, "a", 0.05, 0.08, 0.3, 0.6, 0.5, 0.4, None, (), None)
    >>> print(plain_verdict(r))
    Likely luck: the in-sample winner lands in the bottom half out of sample in 60% of
    splits (PBO 0.60); DSR 0.30; SPA p-value 0.400.
    """
    if robust.verdict:
        return robust.verdict
    pbo, dsr, spa = robust.pbo, robust.dsr, robust.spa_pvalue
    if pbo is None and dsr is None and spa is None:
        return None
    luck = (pbo is not None and pbo >= 0.5) or (dsr is not None and dsr < 0.5) or \
        (spa is not None and spa >= 0.2)
    holds = (pbo is None or pbo < 0.25) and (dsr is None or dsr >= 0.95) and \
        (spa is None or spa < 0.05)
    word = "Likely luck" if luck else "Holds up" if holds else "Mixed evidence"
    parts = []
    if pbo is not None:
        parts.append(f"the in-sample winner lands in the bottom half out of sample in "
                     f"{pbo:.0%} of splits (PBO {ratio(pbo)})")
    if dsr is not None:
        parts.append(f"DSR {ratio(dsr)}")
    if spa is not None:
        parts.append(f"SPA p-value {pvalue(spa)}")
    return f"{word}: {'; '.join(parts)}."


def _numbers(robust: Robustness) -> str:
    def sharpe(per_day: float | None) -> str:
        return MISSING if per_day is None else f"{ratio(per_day * ANNUAL)} ({per_day:.4f}/day)"

    trials = count(robust.n_trials)
    rows = [
        ["PBO", ratio(robust.pbo), "how often the in-sample winner ends up in the bottom half "
         "out of sample"],
        ["P(out-of-sample loss)", ratio(robust.prob_oos_loss),
         "how often the in-sample winner loses money out of sample"],
        [f"Sharpe of {robust.best_combo_id or 'the best'}", sharpe(robust.best_sharpe),
         "the raw number, annualised (per trading date)"],
        ["SR0", sharpe(robust.sr0), f"what the best of {trials} lucky tries would show"],
        ["DSR", ratio(robust.dsr), "the probability that the winner's true Sharpe is above SR0"],
        ["SPA p-value", pvalue(robust.spa_pvalue), f"the chance of a winner this good among "
         f"{trials} combos if none beats not trading"],
    ]
    return table(["number", "value", "says"], rows + _family_rows(robust), numeric=[1],
                 attrs='class="compact"')


def _family_rows(robust: Robustness) -> list[list[str]]:
    """The number of tries and the rest of the family (robustness.json layout 2), the rows
    whose section is there."""
    family, rows = robust.family, []

    def get(section: str, *keys: str) -> object:
        value: object = family.get(section, {})
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    if "trials" in family:
        rows.append(["N used", f"{count(get('trials', 'n_used'))} ({get('trials', 'used')})",
                     f"tries the corrections deflate by: this sweep "
                     f"{count(get('trials', 'sweep'))}, the ledger (every combo tried on "
                     f"these data) {count(get('trials', 'ledger'))}, effective "
                     f"{ratio(get('trials', 'effective'))} "
                     f"({get('trials', 'effective_estimator')})"])
    if "spa_studentized_pvalues" in family:
        rows.append(["SPA p-value, studentized", pvalue(get("spa_studentized_pvalues",
                                                            "consistent")),
                     "Hansen's statistic (each combo's mean over its standard error), this "
                     "sweep's combos"])
    if "stepm" in family:
        rows.append(["StepM", count(get("stepm", "count")),
                     f"combos that beat not trading with the family-wise error held at "
                     f"{ratio(get('stepm', 'size'))} (Romano & Wolf)"])
    if "haircut" in family:
        bhy = get("haircut", "bhy", "sharpe")
        rows.append(["Haircut Sharpe (BHY)",
                     MISSING if not isinstance(bhy, (int, float)) else
                     f"{ratio(bhy * ANNUAL)} ({bhy:.4f}/day)",
                     f"the winner's Sharpe after Harvey & Liu's adjustment for "
                     f"{count(get('haircut', 'n_tests'))} tests (Holm p "
                     f"{pvalue(get('haircut', 'holm', 'pvalue'))}, Bonferroni p "
                     f"{pvalue(get('haircut', 'bonferroni', 'pvalue'))})"])
    if "cpcv" in family:
        rows.append(["CPCV median OOS Sharpe", ratio(get("cpcv", "median_sharpe_annualised")),
                     f"picking the best combo, over {count(get('cpcv', 'paths'))} purged "
                     f"paths; a loss on {pvalue(get('cpcv', 'prob_loss'))} of them"])
    return rows


def scatter_sample(first_ranks: np.ndarray, most: int, keep: int | None = None) -> np.ndarray:
    """Positions of at most `most` points spread evenly over the first-half ranks (every
    k-th combo by rank, so the cloud keeps its shape), always with position `keep`.

    >>> scatter_sample(np.arange(10.0, 0, -1), 4, keep=2).tolist()  # ranks 10, 9, ..., 1
    [0, 2, 5, 9]
    >>> shown = scatter_sample(np.arange(100.0), 10, keep=55)
    >>> len(shown), 55 in shown
    (10, True)
    """
    n = len(first_ranks)
    if n <= most:
        return np.arange(n)
    by_rank = np.argsort(first_ranks, kind="stable")
    picked = by_rank[np.linspace(0, n - 1, most - (keep is not None)).round().astype(int)]
    if keep is not None and keep not in picked:
        picked = np.append(picked, keep)
    return np.sort(np.unique(picked))


def _rank_scatter(inputs: ReportInputs) -> str:
    daily = inputs.daily
    if daily.shape[0] < 4 or daily.shape[1] < 3:
        return note("Too few dates or combos for the two-halves rank comparison.")
    ranks = half_ranks(daily)
    best = _best_id(inputs)
    ids = list(ranks.first.index)
    first, second = ranks.first.to_numpy(), ranks.second.to_numpy()
    # beyond a few thousand dots the page grows and paints slowly and the cloud says no more
    shown = scatter_sample(first, MAX_SCATTER_POINTS, ids.index(best) if best in ids else None)
    titles = [f"{ids[i]}: rank {first[i]:g} in the first half, {second[i]:g} in the second"
              for i in shown]
    svg = scatter(first[shown], second[shown], titles,
                  x_label="rank by net $, first half (1 = best)",
                  y_label="rank, second half", highlight=[ids[i] == best for i in shown])
    sampled = ("" if len(shown) == len(ids) else
               f" Drawn: {count(len(shown))} of {count(len(ids))} combos, evenly spread over "
               "the first-half ranks (and the in-sample best); the correlation is over all.")
    return ('<figure class="inline"><h3>In-sample vs out-of-sample rank</h3>'
            f'<p class="muted small">Each dot a combo, split at {esc(day(ranks.split_date))}. '
            "On the dashed diagonal a combo ranks the same in both halves; a shapeless cloud "
            "means this period's ranking says little about the next one's. Orange: the "
            f"in-sample best. Spearman correlation {esc(ratio(ranks.spearman))}.{esc(sampled)}"
            f"</p>{svg}</figure>")


def _logits(robust: Robustness) -> str:
    if not robust.logits:
        return note("robustness.json holds no CSCV logits: no histogram.")
    svg = histogram(robust.logits, x_label="logit of the in-sample winner's out-of-sample rank")
    share = float(np.mean(np.asarray(robust.logits) <= 0))
    return ('<figure class="inline"><h3>PBO: logits of the winner\'s out-of-sample rank</h3>'
            f'<p class="muted small">{count(len(robust.logits))} splits; red at or below 0 (the '
            f"winner fell to the bottom half): {share:.0%} of them.</p>{svg}</figure>")


def overfitting_section(inputs: ReportInputs) -> str:
    """PBO and its logits, DSR beside the raw Sharpe, SPA, a verdict; the rank scatter."""
    robust = inputs.robustness
    scatter_html = _rank_scatter(inputs)
    if robust is None:
        return section(OVERFITTING_ID, "Overfitting", note(ANALYZE_HINT + ".")
                       + f'<div class="figures">{scatter_html}</div>')
    verdict = plain_verdict(robust)
    head = f'<p class="verdict">{esc(verdict)}</p>' if verdict else ""
    body = (head + _numbers(robust) + f'<div class="figures">{_logits(robust)}{scatter_html}'
            "</div>")
    return section(OVERFITTING_ID, "Overfitting", body)

