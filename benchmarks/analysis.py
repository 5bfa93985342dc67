"""Robustness analysis speed and memory: prints JSON.

    python -m benchmarks.analysis [--repeat 5] [--sizes 1000 10000 100000] [--real]
                                  [--shared 980 10000] [--quick]

Figures: the whole analysis (research.analysis.analyze, default settings: 126/21/21
walk-forward, CSCV with S = 16, i.e. 12,870 splits, 1,000 bootstrap replications) of a
980-combo x 252-date matrix, repeated (median, min, max), and split by stage; with --real
the same on the matrix of the 980-combo grid of sweeps/example_980.yaml as the engine
produces it (one year of synthetic ES); then, each in a fresh process, the growth with
the number of combos: time per stage, and the peak memory the analysis allocates (traced
by tracemalloc, in a second run) next to the size of the input matrix. ``bootstrap_shared``:
SPA, StepM and the intervals from one bootstrap product (``analysis.bootstrap``, what
``analyze`` runs) against the three computed one by one (three products, as before), on
random matrices of each ``--shared`` size, alternating, results checked identical.
``--quick``: two repeats, sizes 1000 and 10000, shared 980.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

GRID_980 = {"slot": ["07:30", "08:00", "09:00", "09:30", "10:00", "10:30", "11:00"],
            "target": [10, 15, 20, 25, 30, 35, 40], "t1_fraction": [0.5, 0.6, 0.65, 0.8],
            "stop_cap_multiple": [1.0, 1.5, 2.0, 3.0, 4.0]}
N_DATES = 252


def random_matrix(axes: dict, n_dates: int = N_DATES, seed: int = 0):
    """Breakout-like daily $: ~70 % of dates traded, multiples of $12.50, sd about $500."""
    import numpy as np
    import pandas as pd

    rows = list(itertools.product(*axes.values()))
    ids = [f"c{i:06d}" for i in range(len(rows))]
    rng = np.random.default_rng(seed)
    usd = np.round(rng.normal(0, 40, (n_dates, len(ids)))) * 12.5
    usd *= rng.random((n_dates, len(ids))) < 0.7
    daily = pd.DataFrame(usd, index=pd.bdate_range("2024-01-01", periods=n_dates, name="date"),
                         columns=ids)
    return daily, pd.DataFrame(rows, columns=list(axes), index=ids), axes


def engine_matrix():
    """The 980 grid's daily $ as the engine makes them (one year of synthetic ES)."""
    import numpy as np
    import pandas as pd

    from research import ResearchRunner, prepare_bars, synthetic_bars
    from research.engine.clock import NS_PER_DAY, weekday_of

    frame = synthetic_bars("ES", "2024-01-01", "2024-12-31", seed=7)
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        sweep = ResearchRunner(data=frame, results_dir=root, backend="sequential",
                               progress=False).run(grid=GRID_980, base={"instrument": "ES"},
                                                   name="grid980")
        trades = sweep.trades()
        summary = sweep.summary
    days = np.unique(prepare_bars(frame, "ES").trading_day).astype(np.int64)
    dates = pd.DatetimeIndex((days[weekday_of(days) < 5] * NS_PER_DAY).view("M8[ns]"),
                             name="date")
    usd = trades.groupby(["date", "combo_id"], observed=True)["profit"].sum().unstack() * 50
    daily = usd.reindex(index=dates, columns=summary["combo_id"], fill_value=0.0).fillna(0.0)
    return daily, summary.set_index("combo_id")[list(GRID_980)], GRID_980


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4)}


def repeated(daily, params, axes, repeat: int) -> dict:
    from research.analysis import analyze

    analyze(daily, params, axes)  # warm: imports, first-call costs
    totals, stages = [], {}
    for _ in range(repeat):
        started = time.perf_counter()
        result = analyze(daily, params, axes)
        totals.append(time.perf_counter() - started)
        for stage, seconds in result.seconds.items():
            stages.setdefault(stage, []).append(seconds)
    return {"combos": daily.shape[1], "dates": daily.shape[0], "repeat": repeat,
            "total_s": spread(totals),
            "stages_s": {stage: spread(values) for stage, values in stages.items()},
            "pbo": result.cscv.pbo, "dsr": result.deflated.dsr, "spa_pvalue": result.spa.pvalue}


def one_size(n_combos: int) -> dict:
    """In this (fresh) process: one timed analysis of n_combos x 252 dates, then one under
    tracemalloc (numpy reports its buffers to it) for the memory the analysis allocates."""
    from research.analysis import analyze

    width = 10
    axes = {"a": list(range(width)), "b": list(range(n_combos // width))}
    daily, params, axes = random_matrix(axes)
    analyze(*random_matrix({"a": [0, 1], "b": [0, 1]}))  # imports and first calls
    started = time.perf_counter()
    result = analyze(daily, params, axes)
    total = time.perf_counter() - started
    tracemalloc.start()
    analyze(daily, params, axes)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"combos": daily.shape[1], "dates": daily.shape[0], "total_s": round(total, 3),
            "stages_s": {stage: round(s, 3) for stage, s in result.seconds.items()},
            "input_mb": round(daily.to_numpy().nbytes / 2**20, 1),
            "analysis_peak_alloc_mb": round(traced_peak / 2**20, 1),
            "process_peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def shared_product(n_combos: int, repeat: int) -> dict:
    """The bootstrap stage with one shared product against three, alternating."""
    import numpy as np

    from research.analysis.bootstrap import bootstrap_tests
    from research.analysis.intervals import bootstrap_intervals
    from research.analysis.resample import stationary_counts
    from research.analysis.spa import spa_test
    from research.analysis.stats import to_cents
    from research.analysis.stepm import stepm

    daily, _, _ = random_matrix({"a": list(range(n_combos))})
    cents = to_cents(daily.to_numpy())
    counts = stationary_counts(len(cents), 3, 1000, seed=0)
    ways = {"shared": lambda: bootstrap_tests(cents, counts, 3),
            "one_by_one": lambda: (spa_test(cents, counts, 3), stepm(cents, counts, 3),
                                   bootstrap_intervals(cents, counts))}
    times: dict[str, list[float]] = {way: [] for way in ways}
    results = {}
    for _ in range(repeat):
        for way, call in ways.items():
            started = time.perf_counter()
            results[way] = call()
            times[way].append(time.perf_counter() - started)
    shared, alone = results["shared"], results["one_by_one"]
    identical = (shared.spa == alone[0] and shared.stepm == alone[1] and all(
        np.array_equal(getattr(shared.intervals, name), getattr(alone[2], name))
        for name in ("mean_low", "mean_high", "sharpe_low", "sharpe_high")))
    ratios = [a / b for a, b in zip(times["shared"], times["one_by_one"], strict=True)]
    return {"combos": n_combos, "dates": len(cents), "reps": 1000, "repeat": repeat,
            "stepm_steps": shared.stepm.steps, "identical": bool(identical),
            **{f"{way}_s": spread(values) for way, values in times.items()},
            "shared_vs_one_by_one": spread(ratios)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--real", action="store_true", help="also the engine's 980 grid")
    parser.add_argument("--shared", type=int, nargs="*", default=[980, 10000],
                        help="combos of the shared-product comparison")
    parser.add_argument("--quick", action="store_true", help="2 repeats, small sizes")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.sizes, args.shared = 2, [1000, 10000], [980]
    if args.one_size:
        print(json.dumps(one_size(args.one_size)))
        return
    out = {"cpu_count": os.cpu_count(), "load_average": os.getloadavg()[0],
           "bootstrap_shared": [shared_product(n, args.repeat) for n in args.shared],
           "grid980_random": repeated(*random_matrix(GRID_980), args.repeat)}
    if args.real:
        started = time.perf_counter()
        matrix = engine_matrix()
        out["grid980_engine"] = {"build_s": round(time.perf_counter() - started, 1),
                                 **repeated(*matrix, args.repeat)}
    out["growth"] = [json.loads(subprocess.run(
        [sys.executable, __file__, "--one-size", str(n)], check=True, capture_output=True,
        text=True).stdout) for n in args.sizes]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
