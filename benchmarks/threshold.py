"""Where a second process, and a second engine thread, pay on this machine (issue 23).

    python -m benchmarks.threshold [--quick] [--repeat 3] [--parts processes threads]
                                   [--sizes 168 980 2520 5040 10080]

Processes: whole-process sweeps (`research.cli.sweep SPEC --fresh --quiet --no-analysis
--no-report`, heatmap PNGs included) on grids of growing work (combos x ranges), each at
``--max-cpus 1`` and at ``--max-cpus 2`` with the one-process threshold lifted (so the plan
splits the grid over 2 processes as it would above the threshold: its workers start while
the data loads), alternately (A B A B ...). Threads: one task (combos sharing their
ranges) run in this process on 1 and on 2 engine threads, alternately, on range tables of
growing size (dates x slots). Prints JSON: per size the wall times' median and range, the
speedup's, and the smallest size from which 2 beat 1 at every larger size measured
(`pays_from`), the figure research/plan.py's thresholds cite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.sweep import SLOTS, SPECS, grid_spec, spread, steps, tree_rss_bytes

ROOT = Path(__file__).parents[1]
# Grids of growing work, one year of synthetic ES (262 trading dates), one slot a combo.
PROCESS_GRIDS = {
    "168": SPECS["168"],
    "980": SPECS["980"],
    "2520": grid_spec("t2520", slot=SLOTS, target=steps(2.5, 2.5, 24),
                      t1_fraction=steps(0.4, 0.1, 3), stop_cap_multiple=steps(1, 1, 5)),
    "5040": grid_spec("t5040", slot=SLOTS, target=steps(2.5, 2.5, 24),
                      t1_fraction=steps(0.4, 0.1, 6), stop_cap_multiple=steps(1, 1, 5)),
    "10080": grid_spec("t10080", slot=SLOTS, target=steps(2.5, 2.5, 24),
                       t1_fraction=steps(0.4, 0.1, 6), stop_cap_multiple=steps(1, 0.5, 10)),
}
# The sweep command with research.plan's one-process threshold set from argv[1].
WRAPPER = ("import sys, research.plan as plan; "
           "plan.SECOND_PROCESS_MIN_WORK = int(sys.argv.pop(1)); "
           "from research.cli.sweep import main; sys.exit(main())")
THREAD_YEARS = {"1 year": ("2024-01-01", "2024-12-31"), "2 years": ("2023-01-01", "2024-12-31"),
                "5 years": ("2020-01-01", "2024-12-31"), "10 years": ("2015-01-01", "2024-12-31")}


def whole_sweep(spec: dict, folder: Path, max_cpus: int, threshold: int) -> dict:
    """One sweep in a fresh process: wall seconds, peak RSS of the tree, the plan."""
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    command = [sys.executable, "-c", WRAPPER, str(threshold), str(path), "--quiet", "--fresh",
               "--no-analysis", "--no-report", "--results-dir", str(folder / "results"),
               "--max-cpus", str(max_cpus)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_bytes(proc.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.read().decode()[-2000:])
    facts = json.loads(next((folder / "results").glob("*/manifest.json")).read_text())
    return {"wall_s": wall, "peak_rss_mb": peak / 1e6, "budget": facts["budget"],
            "execute_s": facts["timings"].get("execute_s")}


def part_processes(names: list[str], repeat: int) -> dict:
    out = {}
    for name in names:
        spec = PROCESS_GRIDS[name]
        one, two = [], []
        for _ in range(repeat):
            for runs, cpus, threshold in ((one, 1, 2**62), (two, 2, 0)):
                with tempfile.TemporaryDirectory() as tmp:
                    runs.append(whole_sweep(spec, Path(tmp), cpus, threshold))
        work = two[0]["budget"]["work"]
        out[name] = {"work": work, "one_process_s": spread([r["wall_s"] for r in one], 2),
                     "two_processes_s": spread([r["wall_s"] for r in two], 2),
                     "speedup": spread([a["wall_s"] / b["wall_s"]
                                        for a, b in zip(one, two, strict=True)], 2),
                     "two": f"{two[0]['budget']['processes']} x {two[0]['budget']['threads']}, "
                            f"{two[0]['budget']['tasks']} tasks"}
        print(json.dumps({name: out[name]}), file=sys.stderr)
    return {"sizes": out, "pays_from_work": pays_from(out, "work")}


def part_threads(names: list[str], repeat: int, combos: int) -> dict:
    """One task of `combos` combos (one slot, targets x T1 fractions: one RangeRules) on
    1 and 2 threads, alternately, in this process after a warm-up."""
    from research import RunParams, prepare_bars, synthetic_bars
    from research.engine.pipeline import ENGINE_STAGES
    from research.engine.ranges import weekday_trading_days
    from research.plan import Task
    from research.worker import run_task

    out = {}
    for name in names:
        start, end = THREAD_YEARS[name]
        bars = prepare_bars(synthetic_bars("ES", start, end, seed=7), "ES")
        task = Task("t", tuple(RunParams(
            instrument="ES", target=10 + 2.5 * (i % 12), t1_fraction=0.4 + 0.05 * (i // 12),
            enabled_sessions=("S2",), enabled_slots=(("S2", ("09:30",)),))
            for i in range(combos)))
        for threads in (1, 2):  # warm-up: the kernels, the thread pool's first start
            run_task(bars, task, bars.last_ts_ns, threads, ENGINE_STAGES, False)
        times: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(repeat):
            for threads in (1, 2):
                started = time.perf_counter()
                result = run_task(bars, task, bars.last_ts_ns, threads, ENGINE_STAGES, False)
                times[threads].append(time.perf_counter() - started)
                assert not result.failures
        ranges = int(result.summaries[0]["ranges"]) if result.summaries else 0
        table = len(weekday_trading_days(bars))  # dates x 1 slot: the plan's range table
        out[name] = {"ranges": table, "trades_per_combo": ranges, "combos": combos,
                     "one_thread_s": spread(times[1], 4), "two_threads_s": spread(times[2], 4),
                     "speedup": spread([a / b for a, b in zip(times[1], times[2], strict=True)],
                                       2)}
        print(json.dumps({name: out[name]}), file=sys.stderr)
    return {"sizes": out, "pays_from_ranges": pays_from(out, "ranges")}


def pays_from(sizes: dict[str, dict], key: str, at_least: float = 1.05) -> int | None:
    """The smallest `key` from which the median speedup is at least `at_least` at every
    larger size measured (None: never)."""
    ordered = sorted(sizes.values(), key=lambda s: s[key])
    found = None
    for size in reversed(ordered):
        if size["speedup"]["median"] < at_least:
            break
        found = size[key]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["processes", "threads"],
                        choices=["processes", "threads"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="the two smallest sizes of each part, 2 runs each")
    parser.add_argument("--combos", type=int, default=24, help="combos of the threads' task")
    parser.add_argument("--sizes", nargs="+", choices=list(PROCESS_GRIDS),
                        default=list(PROCESS_GRIDS), help="the process part's grids")
    args = parser.parse_args()
    grids, years, repeat = list(args.sizes), list(THREAD_YEARS), args.repeat
    if args.quick:
        grids, years, repeat = grids[:2], years[:2], 2
    report = {"benchmark": "threshold", "python": sys.version.split()[0],
              "usable_cores": len(os.sched_getaffinity(0)), "load_average": os.getloadavg(),
              "repeat": repeat}
    if "processes" in args.parts:
        report["processes"] = part_processes(grids, repeat)
    if "threads" in args.parts:
        report["threads"] = part_threads(years, max(repeat, 5), args.combos)
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
