"""The verdict's error rates, measured end to end (sweep + analysis): prints JSON.

    python benchmarks/calibration.py [--noise-seeds 500] [--edge-seeds 100] [--jobs N]
                                     [--runs runs.jsonl] [--out docs/calibration.json]
                                     [--png docs/calibration.png] [--summarise-only]

Every run: one year (two for the ``2y`` scenarios) of synthetic ES whose minutes are
tick-continuous (``synthetic_bars(..., tick_walk=True)``: a ±1-tick walk inside each
minute, so a level fill is honest), the 84-combo grid of the issue (7 slots x 4 targets x
3 T1 fractions), the engine in process (``research.worker.run_task``, no results folder),
then ``research.analysis.analyze`` with the default settings and the run's seed.

Scenarios: ``noise`` (no edge) and planted edges (``research.engine.planted_edge``) on the
09:30 slot of `drift` points over the 20 minutes after the breakout on a `share` of the
dates: drift 2, 4, 6, 10 at share 0.6, share 0.2 and 0.4 at drift 10, and drift 10 / share
0.6 on two years. Each run appends one JSON line to `--runs` (so a long calibration can be
stopped and summarised with what finished: ``--summarise-only``); the summary gives, per
scenario, the rate of each verdict level and of each method's own rejection with
Clopper–Pearson 95% intervals, the KS tests of the SPA and 1 − DSR p-values against the
uniform on noise, the power curve, and the seconds a run took.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

GRID_84 = {"slot": ["07:30", "08:00", "09:00", "09:30", "10:00", "10:30", "11:00"],
           "target": [10, 15, 20, 25], "t1_fraction": [0.5, 0.65, 0.8]}
TICKS_PER_POINT = 4  # ES
EDGE_MINUTES = 20
START = "2024-01-01"
LEVELS = ("evidence", "mixed", "no evidence", "nothing to judge")
FPR_CEILING = 0.05


@dataclass(frozen=True, slots=True)
class Scenario:
    """A data-generating setting: no edge (drift 0) or a planted one; 1 or 2 years."""

    name: str
    drift_points: float = 0.0
    share: float = 0.0
    years: int = 1

    @property
    def end(self) -> str:
        return f"{2023 + self.years}-12-31"


SCENARIOS = (Scenario("noise"),
             *(Scenario(f"drift{d}_share0.6", d, 0.6) for d in (2, 4, 6, 10)),
             Scenario("drift10_share0.2", 10, 0.2), Scenario("drift10_share0.4", 10, 0.4),
             Scenario("drift10_share0.6_2y", 10, 0.6, years=2))
BY_NAME = {s.name: s for s in SCENARIOS}


def daily_matrix(scenario: Scenario, seed: int):
    """(daily, params, axes) of the 84 grid on this scenario's bars, in process."""
    import pandas as pd

    from research.engine.inputs import to_bars
    from research.engine.planted_edge import PlantedEdge
    from research.engine.ranges import weekday_trading_days
    from research.engine.synthetic import synthetic_bars
    from research.plan import Plan
    from research.results.daily import read_daily
    from research.spec.grid import spec_from_dict
    from research.worker import run_task

    edge = None if scenario.drift_points == 0 else PlantedEdge(
        slot="09:30", share=scenario.share, minutes=EDGE_MINUTES,
        drift_ticks_per_minute=scenario.drift_points * TICKS_PER_POINT / EDGE_MINUTES)
    frame = synthetic_bars("ES", START, scenario.end, seed, edge=edge, tick_walk=True)
    bars = to_bars(frame, "ES")
    spec = spec_from_dict({"name": "calibration", "base": {"instrument": "ES"},
                           "grid": GRID_84, "data": {"synthetic": {"instrument": "ES"}}})
    combos = list(spec.iter_combos())
    plan = Plan.for_combos(combos, 1, n_dates=len(weekday_trading_days(bars)))
    parts = []
    for task in plan.tasks:
        result = run_task(bars, task, bars.last_ts_ns, 1, store_trades=False)
        if result.failures:
            raise RuntimeError(f"{scenario.name} seed {seed}: {result.failures[0]}")
        parts.append(read_daily(io.BytesIO(result.daily)))
    daily = pd.concat(parts, axis=1)[[rp.combo_id for rp in combos]]
    params = pd.DataFrame([{axis: _axis_value(rp, axis) for axis in GRID_84} for rp in combos],
                          index=[rp.combo_id for rp in combos])
    return daily, params, GRID_84


def _axis_value(rp: Any, axis: str) -> Any:
    if axis == "slot":
        return next(slot for _, slots in rp.enabled_slots for slot in slots)
    return getattr(rp, axis)


def one_run(scenario_name: str, seed: int) -> dict[str, Any]:
    """One sweep + analysis; the figures the summary counts."""
    from research.analysis import AnalysisConfig, analyze

    scenario = BY_NAME[scenario_name]
    started = time.perf_counter()
    daily, params, axes = daily_matrix(scenario, seed)
    engine_s = time.perf_counter() - started
    result = analyze(daily, params, axes, AnalysisConfig(seed=seed))
    wf = result.walk_forward
    return {"scenario": scenario_name, "seed": seed, "evidence": result.evidence,
            "dsr": result.deflated.dsr, "dsr_sample_variance": _dsr_sample(result),
            "spa_studentized": result.spa.pvalue_studentized, "spa_raw": result.spa.pvalue,
            "pbo": result.cscv.pbo, "wf_net_usd": wf.oos_net_usd, "wf_tstat": wf.oos_tstat,
            "wf_0930_share": _slot_share(wf, "09:30"),
            "stepm_count": len(result.stepm.superior),
            "haircut_bhy_p": result.haircut.bhy.pvalue,
            "cpcv_median_sharpe": result.cpcv.median_sharpe,
            "best_slot": result.best_params.get("slot"),
            "sharpe_variance_null": result.deflated.sharpe_variance,
            "sharpe_variance_sample": result.deflated.sharpe_variance_sample,
            "n_effective": result.n_effective,
            "asserts_edge": "beats not trading even allowing" in result.verdict,
            "engine_s": round(engine_s, 3),
            "total_s": round(time.perf_counter() - started, 3)}


def _dsr_sample(result: Any) -> float | None:
    """DSR with the paper's sample variance, for comparison with the null one."""
    from research.analysis.sharpe import deflated_sharpe

    d = result.deflated
    value = deflated_sharpe(d.sharpe, d.n_obs, d.skew, d.kurtosis, d.n_trials,
                            d.sharpe_variance_sample)
    return None if math.isnan(value) else value


def _slot_share(wf: Any, slot: str) -> float | None:
    if not wf.folds:
        return None
    return sum(fold.params.get("slot") == slot for fold in wf.folds) / len(wf.folds)


# ---------------------------------------------------------------- summary


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact binomial interval of k successes in n trials.

    >>> [round(x, 4) for x in clopper_pearson(0, 100)]
    [0.0, 0.0362]
    """
    from scipy import stats

    alpha = 1 - level
    low = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def rate(k: int, n: int) -> dict[str, Any]:
    low, high = clopper_pearson(k, n)
    return {"count": k, "n": n, "rate": round(k / n, 4) if n else None,
            "ci95": [round(low, 4), round(high, 4)]}


METHOD_REJECTS = {
    "dsr >= 0.95": lambda r: r["dsr"] is not None and r["dsr"] >= 0.95,
    "dsr (sample variance) >= 0.95": lambda r: r["dsr_sample_variance"] is not None
    and r["dsr_sample_variance"] >= 0.95,
    "spa studentized p <= 0.05": lambda r: r["spa_studentized"] <= 0.05,
    "spa raw p <= 0.05": lambda r: r["spa_raw"] <= 0.05,
    "stepm finds a combo": lambda r: r["stepm_count"] > 0,
    "haircut bhy p <= 0.05": lambda r: r["haircut_bhy_p"] <= 0.05,
    "pbo < 0.5": lambda r: r["pbo"] is not None and r["pbo"] < 0.5,
    "walk-forward net > 0": lambda r: r["wf_net_usd"] is not None and r["wf_net_usd"] > 0,
}


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Rates per scenario, KS tests on noise, the power curve."""
    from scipy import stats

    out: dict[str, Any] = {"scenarios": {}}
    for scenario in SCENARIOS:
        mine = [r for r in runs if r["scenario"] == scenario.name]
        if not mine:
            continue
        n = len(mine)
        out["scenarios"][scenario.name] = {
            "drift_points": scenario.drift_points, "share": scenario.share,
            "years": scenario.years, "runs": n,
            "levels": {level: rate(sum(r["evidence"] == level for r in mine), n)
                       for level in LEVELS},
            "methods": {name: rate(sum(bool(test(r)) for r in mine), n)
                        for name, test in METHOD_REJECTS.items()},
            "asserts_edge_without_evidence": sum(r["asserts_edge"] and r["evidence"] != "evidence"
                                                 for r in mine),
            "median_sharpe_variance": {
                "null": _median([r["sharpe_variance_null"] for r in mine]),
                "sample": _median([r["sharpe_variance_sample"] for r in mine])},
            "wf_picks_0930_in_60pct_of_folds": rate(
                sum((r["wf_0930_share"] or 0) >= 0.6 for r in mine), n),
            "seconds_per_run": _median([r["total_s"] for r in mine]),
        }
    noise = [r for r in runs if r["scenario"] == "noise"]
    if noise:
        out["ks_uniform_on_noise"] = {
            name: _ks([r[key] for r in noise if r[key] is not None], flip)
            for name, key, flip in (("spa studentized p", "spa_studentized", False),
                                    ("spa raw p", "spa_raw", False),
                                    ("1 - dsr", "dsr", True),
                                    ("1 - dsr (sample variance)", "dsr_sample_variance", True))}
        out["ks_note"] = ("scipy.stats.kstest against U(0, 1); a small p means the p-values "
                          "are not uniform under the null (the test is not exact there)")
        evidence = out["scenarios"]["noise"]["levels"]["evidence"]
        out["fpr_evidence_within_ceiling"] = evidence["ci95"][1] <= FPR_CEILING or \
            evidence["rate"] <= FPR_CEILING
    out["power_curve"] = [
        {"scenario": name, "drift_points": s["drift_points"], "share": s["share"],
         "years": s["years"], **s["levels"]["evidence"]}
        for name, s in out["scenarios"].items() if name != "noise"]
    del stats
    return out


def _median(values: Iterable[float | None]) -> float | None:
    import statistics

    kept = [v for v in values if v is not None]
    return round(statistics.median(kept), 6) if kept else None


def _ks(values: list[float], flip: bool) -> dict[str, Any]:
    from scipy import stats

    if not values:
        return {"n": 0}
    sample = [1 - v for v in values] if flip else values
    result = stats.kstest(sample, "uniform")
    return {"n": len(sample), "statistic": round(float(result.statistic), 4),
            "pvalue": round(float(result.pvalue), 4)}


def draw_power_curve(summary: dict[str, Any], path: Path) -> None:
    """The rate of "Evidence" against drift (share 0.6, one year), with its intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = summary["scenarios"]
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=110)
    series = [("share 0.6, 1 year", [n for n in scenarios if n.endswith("share0.6")
                                      or n == "noise"], "o-"),
              ("drift 10, 1 year", [n for n in scenarios if n.startswith("drift10_share")
                                    and not n.endswith("2y")], "s--")]
    for label, names, style in series:
        xs, ys, lows, highs = [], [], [], []
        for name in names:
            s = scenarios[name]
            x = s["drift_points"] if label.startswith("share") else s["share"] * 10
            rate_ = s["levels"]["evidence"]
            xs.append(x)
            ys.append(rate_["rate"])
            lows.append(rate_["rate"] - rate_["ci95"][0])
            highs.append(rate_["ci95"][1] - rate_["rate"])
        if xs:
            order = sorted(range(len(xs)), key=xs.__getitem__)
            ax.errorbar([xs[i] for i in order], [ys[i] for i in order],
                        yerr=[[lows[i] for i in order], [highs[i] for i in order]],
                        fmt=style, capsize=3, label=label)
    if "drift10_share0.6_2y" in scenarios:
        two = scenarios["drift10_share0.6_2y"]["levels"]["evidence"]
        ax.errorbar([10.3], [two["rate"]], yerr=[[two["rate"] - two["ci95"][0]],
                                                 [two["ci95"][1] - two["rate"]]],
                    fmt="D", capsize=3, label="drift 10, share 0.6, 2 years")
    ax.axhline(FPR_CEILING, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("planted drift, points (share-0.6 curve); share x 10 (drift-10 curve)")
    ax.set_ylabel('rate of "Evidence of an edge"')
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Power of the verdict (95% Clopper-Pearson intervals)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def markdown_tables(summary: dict[str, Any]) -> str:
    """The docs' tables: verdict levels per scenario, each method's own rejection rate, the
    KS tests on noise (docs/calibration.md is written from them)."""
    def cell(r: dict[str, Any]) -> str:
        low, high = r["ci95"]
        return f"{r['count']}/{r['n']} = {r['rate']:.1%} [{low:.1%}, {high:.1%}]"

    scenarios = summary["scenarios"]
    lines = ["| scenario | runs | Evidence | Mixed | No evidence |", "|---|---|---|---|---|"]
    for name, s in scenarios.items():
        levels = s["levels"]
        lines.append(f"| {name} | {s['runs']} | {cell(levels['evidence'])} | "
                     f"{cell(levels['mixed'])} | {cell(levels['no evidence'])} |")
    lines += ["", "| method rejects (alone) | " + " | ".join(scenarios) + " |",
              "|---|" + "---|" * len(scenarios)]
    for method in METHOD_REJECTS:
        lines.append(f"| {method} | " + " | ".join(
            f"{s['methods'][method]['rate']:.1%}" for s in scenarios.values()) + " |")
    if "ks_uniform_on_noise" in summary:
        lines += ["", "| p-value on noise vs U(0, 1) | n | KS statistic | KS p |",
                  "|---|---|---|---|"]
        for name, ks in summary["ks_uniform_on_noise"].items():
            lines.append(f"| {name} | {ks['n']} | {ks.get('statistic', '-')} | "
                         f"{ks.get('pvalue', '-')} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- running


def jobs_of(noise_seeds: int, edge_seeds: int, scenarios: Sequence[str]) -> list[tuple[str, int]]:
    """(scenario, seed) pairs, seed by seed across the scenarios (so a calibration stopped
    early has every scenario at a similar count).

    >>> jobs_of(2, 1, ["noise", "drift2_share0.6"])
    [('noise', 0), ('drift2_share0.6', 0), ('noise', 1)]
    """
    out = []
    for seed in range(max(noise_seeds, edge_seeds)):
        out += [(name, seed) for name in scenarios
                if seed < (noise_seeds if name == "noise" else edge_seeds)]
    return out


def read_runs(path: Path) -> list[dict[str, Any]]:
    """The runs recorded in `path`, one per (scenario, seed): the first line wins (two
    calibrations may share the file, e.g. one going up the seeds and one going down)."""
    if not path.exists():
        return []
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        try:
            run = json.loads(line)
        except ValueError:
            continue  # a line cut by a stop
        runs.setdefault((run["scenario"], run["seed"]), run)
    return list(runs.values())


def run_all(pairs: Sequence[tuple[str, int]], runs_path: Path, n_jobs: int) -> None:
    """Run the pairs not yet in `runs_path`, appending each result as it finishes."""
    from joblib import Parallel, delayed

    done = {(r["scenario"], r["seed"]) for r in read_runs(runs_path)}
    todo = [pair for pair in pairs if pair not in done]
    with runs_path.open("a") as handle:
        for result in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
                delayed(one_run)(name, seed) for name, seed in todo):
            handle.write(json.dumps(result) + "\n")
            handle.flush()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise-seeds", type=int, default=500)
    parser.add_argument("--edge-seeds", type=int, default=100)
    parser.add_argument("--scenarios", nargs="*", default=[s.name for s in SCENARIOS],
                        choices=[s.name for s in SCENARIOS])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=Path, default=Path("calibration_runs.jsonl"))
    parser.add_argument("--out", type=Path, help="also write the summary JSON here")
    parser.add_argument("--png", type=Path, help="draw the power curve here")
    parser.add_argument("--tables", type=Path, help="write the markdown tables here")
    parser.add_argument("--summarise-only", action="store_true")
    parser.add_argument("--reverse", action="store_true",
                        help="run the seeds from the last down (a second process sharing --runs)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if not args.summarise_only:
        pairs = jobs_of(args.noise_seeds, args.edge_seeds, args.scenarios)
        run_all(pairs[::-1] if args.reverse else pairs, args.runs, args.jobs)
    runs = read_runs(args.runs)
    summary = {"cpu_count": os.cpu_count(), "jobs": args.jobs,
               "wall_s": round(time.perf_counter() - started, 1),
               "cpu_s_all_runs": round(sum(r["total_s"] for r in runs), 1),
               "grid": GRID_84, **summarise(runs)}
    text = json.dumps(summary, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    if args.png:
        draw_power_curve(summary, args.png)
    if args.tables:
        args.tables.write_text(markdown_tables(summary))
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
