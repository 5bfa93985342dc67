"""Scaling on a big machine: the 20,160-combo grid x 5 years at CPU budgets 1, 2, 4, 8, 16.

    python -m benchmarks.scaling [--budgets 1 2 4 8 16] [--modes planned processes threads]
                                 [--quick] [--deadline-s 450] [--store-trades none]

Each run is a whole sweep in a fresh process (`research.cli.sweep SPEC --fresh --quiet
--no-analysis --no-report`), in three modes: `planned` (processes x threads as the plan
splits the budget), `processes` (the budget's processes, one thread each: the grid cut into
4 tasks per process) and `threads` (one process, the budget's engine threads: both plan
thresholds lifted). Budget 1 is the same run in every mode and is run once: it is the
baseline of the efficiency, T(1) / (budget x T(budget)). Prints JSON with, per run, the
wall time, the CPU time of the process tree (user + system, from wait4: the sweep's reaped
workers included), the peak RSS of the tree (sampled every 20 ms) and the efficiency.
Budgets above this machine's usable cores are reported as skipped.

Sizing (issue 23: under 8 minutes on 16 cores): 20,160 combos of one slot each over 5 years
of synthetic ES are 20,160 x 1,305 ranges = 26.3 million combo-ranges, about 5x the 20,160 x 1
year sweep (15-18 s at --max-cpus 2 on the 2-core machine, docs/benchmarks.md), so about 60-80 s
on one core of a current server, and every mode's budgets 2-16 together add about 1x that
at full efficiency. Trades are not stored by default (`--store-trades none`): the curve is
about the engine and the merge, not the disk; `--store-trades all` writes ~5 GB. A run that
would start after `--deadline-s` (projected from the baseline at 50 % efficiency) is skipped
and said so. `--quick`: the 980 grid x 1 year, for a small machine or CI.
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

import numpy as np
import yaml

from benchmarks.sweep import SPECS, tree_rss_bytes

ROOT = Path(__file__).parents[1]
FIVE_YEARS = {"synthetic": {"instrument": "ES", "start": "2020-01-01", "end": "2024-12-31",
                            "seed": 7}}
FULL = {"name": "scaling", "data": FIVE_YEARS, "base": {"instrument": "ES"},
        "grid": SPECS["20160"]["grid"]}
QUICK = {**SPECS["980"], "name": "scaling-quick"}
# The sweep command with research.plan's thresholds set from argv[1:3].
WRAPPER = ("import sys, research.plan as plan; "
           "plan.SECOND_PROCESS_MIN_WORK = int(sys.argv.pop(1)); "
           "plan.SECOND_THREAD_MIN_RANGES = int(sys.argv.pop(1)); "
           "from research.cli.sweep import main; sys.exit(main())")
LIFTED = 2**62  # a threshold nothing reaches


def mode_options(mode: str, budget: int, combos: int, dates: int,
                 ) -> tuple[list[str], list[str]]:
    """(the thresholds' values, the CLI options) of a mode at a budget."""
    from research.plan import ROWS_PER_TASK, SECOND_PROCESS_MIN_WORK, SECOND_THREAD_MIN_RANGES

    if mode == "planned" or budget == 1:
        return [str(SECOND_PROCESS_MIN_WORK), str(SECOND_THREAD_MIN_RANGES)], []
    if mode == "processes":  # 4 tasks a process (at most the plan's rows), one thread each
        batch = max(1, min(-(-combos // (4 * budget)), ROWS_PER_TASK // dates))
        return [str(SECOND_PROCESS_MIN_WORK), str(LIFTED)], ["--batch-size", str(batch)]
    return [str(LIFTED), "0"], []  # threads: one process, every thread


def run_sweep(spec: dict, folder: Path, budget: int, thresholds: list[str],
              options: list[str], store_trades: str) -> dict:
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    command = [sys.executable, "-c", WRAPPER, *thresholds, str(path), "--quiet", "--fresh",
               "--no-analysis", "--no-report", "--results-dir", str(folder / "results"),
               "--max-cpus", str(budget), "--store-trades", store_trades,
               "--max-combos", "200000", *options]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    peak, usage, status = 0, None, 0
    while usage is None:
        peak = max(peak, tree_rss_bytes(proc.pid))
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            usage = rusage
        else:
            time.sleep(0.02)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.read().decode()[-2000:])
    facts = json.loads(next((folder / "results").glob("*/manifest.json")).read_text())
    budget_facts = facts["budget"]
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(peak / 1e6), "processes": budget_facts["processes"],
            "threads": budget_facts["threads"], "tasks": budget_facts["tasks"],
            "execute_s": facts["timings"].get("execute_s"),
            "compact_s": facts["timings"].get("compact_s")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", nargs="+", type=int, default=[1, 2, 4, 8, 16])
    parser.add_argument("--modes", nargs="+", default=["planned", "processes", "threads"],
                        choices=["planned", "processes", "threads"])
    parser.add_argument("--quick", action="store_true", help="the 980 grid x 1 year")
    parser.add_argument("--deadline-s", type=float, default=450.0)
    parser.add_argument("--store-trades", choices=["all", "none"], default="none")
    args = parser.parse_args()
    spec = QUICK if args.quick else FULL
    combos = 1
    for values in spec["grid"].values():
        combos *= len(values)
    cores = len(os.sched_getaffinity(0))
    span = spec["data"]["synthetic"]  # one slot a combo: a combo's rows are its dates
    dates = int(np.busday_count(span["start"], np.datetime64(span["end"]) + 1))
    report: dict = {"benchmark": "scaling", "python": sys.version.split()[0],
                    "usable_cores": cores, "load_average": os.getloadavg(),
                    "grid": {"combos": combos, "data": spec["data"]["synthetic"]},
                    "store_trades": args.store_trades, "runs": {}}
    started = time.perf_counter()
    baseline = None
    for budget in sorted(set(args.budgets)):
        for mode in (["all"] if budget == 1 else args.modes):
            name = f"{mode}@{budget}"
            if budget > cores:
                report["runs"][name] = {"skipped": f"budget {budget} > {cores} usable cores"}
                continue
            projected = 0.0 if baseline is None else baseline / (0.5 * budget)
            if time.perf_counter() - started + projected > args.deadline_s:
                report["runs"][name] = {"skipped": f"past --deadline-s {args.deadline_s:g}"}
                continue
            thresholds, options = mode_options(mode, budget, combos, dates)
            with tempfile.TemporaryDirectory() as tmp:
                run = run_sweep(spec, Path(tmp), budget, thresholds, options, args.store_trades)
            if budget == 1:
                baseline = run["wall_s"]
            run["efficiency"] = (None if baseline is None else
                                 round(baseline / (budget * run["wall_s"]), 2))
            report["runs"][name] = run
            print(json.dumps({name: run}), file=sys.stderr)
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
