"""Compaction beside the tasks vs after them (issue 23, research/results/streaming.py).

    python -m benchmarks.compaction_overlap [--grid 5040] [--budgets 1 2] [--repeat 3] [--quick]

Whole sweeps of the grid (every trade stored, no analysis, no report), each in a fresh
process, at each budget (``--max-cpus``; the process is pinned to that many cores, so a
thread beside the engine gets no core the budget does not give), once with the daily and
trades rows written while the tasks run ("streamed") and once after the last task
("at_end"), alternately (A B A B ...). At budget 1 the runner never streams (the engine
runs in the parent on the one cpu): this measures whether it would pay. Prints JSON per
budget: wall times, the manifests' compaction timings (compact_s, compact_tail_s), the
parent's and the largest worker's peak RSS (ru_maxrss), the ratio at_end / streamed with its
range, and whether both wrote the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.sweep import SPECS, spread

ROOT = Path(__file__).parents[1]
# Runs one sweep in a fresh process: argv = mode, budget, results folder, spec as JSON.
CHILD = """
import hashlib, json, os, resource, sys, time
import research.research_runner as runner
from research.research_runner import ResearchRunner
from research.spec.grid import spec_from_dict

mode, budget, folder, spec = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
cores = sorted(os.sched_getaffinity(0))
os.sched_setaffinity(0, set(cores[:budget]))  # the budget's cores, workers included
runner.stream_wanted = lambda processes: mode == "streamed"
started = time.perf_counter()
sweep = ResearchRunner(results_dir=folder, max_cpus=budget, progress=False, analysis=False,
                       report=False, store_trades="all").run_spec(spec_from_dict(json.loads(spec)))
wall = time.perf_counter() - started
digest = hashlib.sha256()
for name in ("trades.parquet", "daily.parquet", "summary.csv"):
    digest.update((sweep.path / name).read_bytes())
peaks = {"parent_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
         "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
print(json.dumps({"wall_s": wall, "timings": sweep.manifest["timings"], **peaks,
                  "processes": sweep.manifest["budget"]["processes"],
                  "sha256": digest.hexdigest()}))
"""


def run_one(mode: str, budget: int, spec: dict) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run([sys.executable, "-c", CHILD, mode, str(budget), folder,
                              json.dumps(spec)], cwd=ROOT, capture_output=True, text=True,
                             check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(budget: int, spec: dict, repeat: int) -> dict:
    runs: dict[str, list[dict]] = {"streamed": [], "at_end": []}
    for _ in range(repeat):
        for mode in runs:
            runs[mode].append(run_one(mode, budget, spec))
    pairs = list(zip(runs["at_end"], runs["streamed"], strict=True))
    summary = {mode: {"wall_s": spread([r["wall_s"] for r in rs], 2),
                      "compact_s": spread([r["timings"]["compact_s"] for r in rs], 2),
                      "compact_tail_s": spread([r["timings"]["compact_tail_s"] for r in rs], 2),
                      "execute_s": spread([r["timings"]["execute_s"] for r in rs], 2),
                      "parent_peak_mb": spread([r["parent_peak_mb"] for r in rs], 0),
                      "worker_peak_mb": spread([r["worker_peak_mb"] for r in rs], 0),
                      "processes": rs[0]["processes"]} for mode, rs in runs.items()}
    return {**summary, "at_end_over_streamed": spread([a["wall_s"] / s["wall_s"]
                                                       for a, s in pairs], 2),
            "same_bytes": len({r["sha256"] for rs in runs.values() for r in rs}) == 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", default="5040", choices=[k for k, v in SPECS.items() if v])
    parser.add_argument("--budgets", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run of each, the 980 grid")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.grid = 1, "980"
    cores = len(os.sched_getaffinity(0))
    report = {"benchmark": "compaction_overlap", "grid": args.grid, "usable_cores": cores,
              "load_before": os.getloadavg()[0]}
    for budget in args.budgets:
        if budget > cores:
            report[f"budget_{budget}"] = f"skipped: {cores} usable cores"
            continue
        report[f"budget_{budget}"] = measure(budget, SPECS[args.grid], args.repeat)
        print(json.dumps({budget: report[f"budget_{budget}"]}), file=sys.stderr)
    report["load_after"] = os.getloadavg()[0]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
