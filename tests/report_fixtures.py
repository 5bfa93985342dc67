"""Robustness files for the report's tests, in the shape research/report/results_folder.py reads.

The real analysis (issue 12, ``python -m research.cli.analyze``) is not in this worktree. These
files are computed here by simple, documented means so the report's robustness sections have
something true to show; they are NOT the analysis' methods:

- walk-forward: rolling folds of a third of the dates (train) then a sixth (test), step =
  test; each fold chooses the combo with the largest net $ sum on its training window
  (ties: grid order);
- CSCV logits: S = 8 contiguous blocks of the dates, every choice of 4 as in-sample (70
  splits); statistic = net $ sum; the in-sample winner's out-of-sample rank ω (1 = worst,
  ties averaged) gives λ = ln(ω / (1 - ω)) with ω = rank / (N + 1); PBO = share of λ <= 0;
- DSR and SR0: the formulas of docs/robustness.md §3 on daily Sharpe ratios (normal skew and
  kurtosis assumed: γ3 = 0, γ4 = 3);
- SPA p-value: a fixed 0.42 (the report only displays it);
- combo_stats.parquet: Sharpe interval = summary Sharpe ± 0.5 (not a bootstrap); plateau =
  the median net $ of the combos that share the combo's first grid axis value.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from research.results.daily import read_daily

EULER_GAMMA = 0.5772156649015329
SPA_PVALUE = 0.42


def walk_forward(daily: pd.DataFrame, summary: pd.DataFrame) -> dict:
    """Rolling folds (train a third of the dates, test a sixth); the choice is the best
    training-window net $ sum (ties: grid order)."""
    train, test = max(len(daily) // 3, 2), max(len(daily) // 6, 1)
    folds, stitched = [], []
    dates = daily.index
    for start in range(0, len(dates) - train - test + 1, test):
        window = daily.iloc[start:start + train].sum()
        chosen = window.index[int(np.argmax(window.to_numpy()))]  # first maximum: grid order
        test_rows = daily.iloc[start + train:start + train + test][chosen]
        stitched.append(test_rows)
        params = summary.set_index("combo_id").loc[chosen]
        folds.append({"train_start": dates[start].date().isoformat(),
                      "train_end": dates[start + train - 1].date().isoformat(),
                      "test_start": dates[start + train].date().isoformat(),
                      "test_end": dates[start + train + test - 1].date().isoformat(),
                      "combo_id": chosen,
                      "params": {k: str(params[k]) for k in ("slot", "target")
                                 if k in params.index},
                      "train_metric": float(window[chosen]), "test_metric": float(test_rows.sum())})
    oos = pd.concat(stitched)
    sharpe = float(oos.mean() / oos.std() * math.sqrt(252)) if oos.std() > 0 else 0.0
    return {"train": train, "test": test, "step": test, "anchored": False, "metric": "net_usd",
            "oos_net_usd": float(oos.sum()), "oos_sharpe": sharpe,
            "oos_tstat": float(oos.mean() / (oos.std() / math.sqrt(len(oos)))),
            "wfe": None, "distinct_choices": len({f["combo_id"] for f in folds}), "folds": folds}


def cscv_logits(daily: pd.DataFrame, blocks: int = 8) -> list[float]:
    """λ of every split: the in-sample winner's out-of-sample relative rank, as a logit."""
    values = daily.to_numpy()
    cut = len(values) - len(values) % blocks
    parts = np.split(values[len(values) - cut:], blocks)
    n = values.shape[1]
    logits = []
    for chosen in itertools.combinations(range(blocks), blocks // 2):
        inside = sum(parts[i].sum(axis=0) for i in chosen)
        outside = sum(parts[i].sum(axis=0) for i in range(blocks) if i not in chosen)
        winner = int(np.argmax(inside))
        rank = pd.Series(outside).rank(method="average").iloc[winner]
        omega = rank / (n + 1)
        logits.append(float(math.log(omega / (1 - omega))))
    return logits


def deflated_sharpe(daily: pd.DataFrame, best: str) -> tuple[float, float, float]:
    """(best's daily Sharpe, SR0, DSR) with γ3 = 0, γ4 = 3."""
    sharpes = daily.mean() / daily.std(ddof=1)
    n, t = len(sharpes), len(daily)
    z = NormalDist().inv_cdf
    sr0 = math.sqrt(float(sharpes.var(ddof=1))) * (
        (1 - EULER_GAMMA) * z(1 - 1 / n) + EULER_GAMMA * z(1 - 1 / (n * math.e)))
    sr = float(sharpes[best])
    dsr = NormalDist().cdf((sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 + 0.5 * sr ** 2))
    return sr, sr0, dsr


def write_robustness(folder: Path) -> dict:
    """robustness.json and combo_stats.parquet in `folder`; returns the JSON written."""
    summary = pd.read_parquet(folder / "summary.parquet")
    daily = read_daily(folder / "daily.parquet")
    sharpes = daily.mean() / daily.std(ddof=1)
    best = str(sharpes.idxmax())
    sr, sr0, dsr = deflated_sharpe(daily, best)
    logits = cscv_logits(daily)
    data = {"n_trials": len(summary), "best_combo_id": best, "best_sharpe": sr, "sr0": sr0,
            "dsr": dsr, "pbo": float(np.mean(np.array(logits) <= 0)),
            "prob_oos_loss": 0.5, "spa_pvalue": SPA_PVALUE, "cscv": {"logits": logits},
            "walk_forward": walk_forward(daily, summary)}
    (folder / "robustness.json").write_text(json.dumps(data, indent=1))
    first_axis = summary.columns[1]
    plateau = summary.groupby(first_axis)["net_profit_usd"].transform("median")
    pd.DataFrame({"combo_id": summary["combo_id"], "sharpe_ci_low": summary["sharpe"] - 0.5,
                  "sharpe_ci_high": summary["sharpe"] + 0.5, "plateau_score": plateau}
                 ).to_parquet(folder / "combo_stats.parquet")
    _record_analysis(folder)
    return data


def _record_analysis(folder: Path) -> None:
    """What the analysis command records in a manifest (research/analysis/folder.py): its
    two files' sizes and sha256s and the daily matrix it read, so the report shows them."""
    from research.results.safe_files import file_record
    from research.results.store import SweepStore

    store = SweepStore(folder)
    manifest = store.read_manifest()
    if manifest is None:
        return
    steps = {**(manifest.get("steps") or {}), "analysis": "done"}
    store.record_outputs(["robustness.json", "combo_stats.parquet"], steps=steps,
                         analysis={"status": "done", "daily_sha256": file_record(
                             folder / "daily.parquet")["sha256"]})
