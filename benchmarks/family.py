"""Speed of the number of tries and the rest of the family: prints JSON.

    python benchmarks/family.py [--repeat 5] [--big 100000]

Figures, each the median / min / max of `repeat` runs on a random 980-combo x 252-date
matrix (benchmarks/analysis.py's random_matrix): CPCV with N = 10, k = 2 (9 paths), StepM
(studentized, 1,000 stationary-bootstrap replications), the studentized + raw SPA, and
the effective number of tests; then the whole analysis of `big` combos x 252 dates once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.analysis
from benchmarks.analysis import GRID_980, random_matrix, spread  # noqa: E402


def timed(fn, repeat: int) -> dict:
    fn()  # warm: imports, first calls
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return spread(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--big", type=int, default=100_000)
    args = parser.parse_args()
    from research.analysis import analyze
    from research.analysis.cpcv import cpcv
    from research.analysis.resample import stationary_counts
    from research.analysis.spa import spa_test
    from research.analysis.stats import to_cents
    from research.analysis.stepm import stepm
    from research.analysis.trials import correlation_summary

    daily, params, axes = random_matrix(GRID_980)
    cents = to_cents(daily.to_numpy())
    counts = stationary_counts(len(cents), 3, 1000, seed=0)
    out = {"cpu_count": os.cpu_count(), "combos": cents.shape[1], "dates": cents.shape[0],
           "cpcv_10_2_s": timed(lambda: cpcv(cents, groups=10, test_groups=2, purge=1,
                                             embargo=2, metric="sharpe"), args.repeat),
           "stepm_s": timed(lambda: stepm(cents, counts, 3), args.repeat),
           "spa_both_s": timed(lambda: spa_test(cents, counts, 3), args.repeat),
           "effective_trials_s": timed(lambda: correlation_summary(cents), args.repeat)}
    print(json.dumps(out), flush=True)  # the small figures first: the big run takes a while
    if not args.big:
        return
    width = 10
    big = random_matrix({"a": list(range(width)), "b": list(range(args.big // width))})
    started = time.perf_counter()
    result = analyze(*big)
    out["analysis_big"] = {"combos": args.big, "total_s": round(time.perf_counter() - started, 2),
                           "stages_s": {k: round(v, 2) for k, v in result.seconds.items()}}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
