"""Sweep throughput and memory, whole process, measured side by side in one run.

    python -m benchmarks.sweep [--cases floor default costs split big huge dask memory typed]
                               [--repeat 3] [--quick] [--baseline DIR]

Each sweep runs in a fresh subprocess (`python -m research.sweep SPEC --fresh --quiet
--no-analysis --no-report`, the heatmap PNGs included; the default case also as typed)
while this script samples the RSS of that process and all its children.
Runs of a comparison alternate (A B A B ...), so drift on a shared machine hits both; the
JSON gives median, min and max. The goals (issue 14):

- floor:   the 980 grid x one year at --max-cpus 1, whole process, is at most 2x the
           numba floor's whole process (`python -m benchmarks.floor`: Python, imports,
           data, ranges, one kernel pass); also the engine stage / the kernel pass alone.
- default: the default sweep warm (numba cache filled) is at most 2.5 s.
- costs:   the 980 grid x 5 commission values costs well under 2x the grid alone.
- split:   2 processes vs 1 on 5,040 combos: at least 1.6x.
- big:     20,160 combos at --max-cpus 2: under 90 s with trades, under 40 s without;
           peak RSS of the tree at most 1.2 GB and within 10% of the 980 grid's.
- huge:    100,800 combos without trades: time and memory.
- dask:    the 980 grid on a local dask cluster vs loky, both on 2 processes.
- memory:  memory flat as the grid grows (issue 23): each process's peak RSS on 980,
           5,040, 20,160 and 100,800 combos, within 10 % of the 980 grid's.
- typed:   the 168 grid as typed (robustness analysis and report.html) is at most 1.3x
           its numba floor, the floor timed as a whole process too
           (`python -m benchmarks.floor --spec G --repeat 1`) (issue 23).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]
SLOTS = ["07:30", "08:00", "09:00", "09:30", "10:00", "10:30", "11:00"]
YEAR = {"synthetic": {"instrument": "ES", "start": "2024-01-01", "end": "2024-12-31",
                      "seed": 7}}


def grid_spec(name: str, **grid) -> dict:
    return {"name": name, "data": YEAR, "base": {"instrument": "ES"}, "grid": grid}


def steps(first: float, step: float, count: int) -> list[float]:
    return [round(first + i * step, 4) for i in range(count)]


SPECS = {
    "default": None,  # sweeps/grid.yaml
    # 4 S2 slots x 7 targets x 3 T1 x 2 caps (issue 23's grid; benchmarks.threshold's too)
    "168": grid_spec("t168", slot=SLOTS[:4], target=[10, 15, 20, 25, 30, 35, 40],
                     t1_fraction=[0.5, 0.65, 0.8], stop_cap_multiple=[1.0, 2.0]),
    "980": grid_spec("g980", slot=SLOTS, target=[10, 15, 20, 25, 30, 35, 40],
                     t1_fraction=[0.5, 0.6, 0.65, 0.8],
                     stop_cap_multiple=[1.0, 1.5, 2.0, 3.0, 4.0]),
    "980x5": grid_spec("g4900", slot=SLOTS, target=[10, 15, 20, 25, 30, 35, 40],
                       t1_fraction=[0.5, 0.6, 0.65, 0.8],
                       stop_cap_multiple=[1.0, 1.5, 2.0, 3.0, 4.0],
                       commission=[0, 1.5, 2.5, 4.0, 5.0]),
    "5040": grid_spec("g5040", slot=SLOTS, target=steps(2.5, 2.5, 24),
                      t1_fraction=steps(0.4, 0.1, 6), stop_cap_multiple=steps(1, 1, 5)),
    "20160": grid_spec("g20160", slot=SLOTS, target=steps(2.5, 2.5, 24),
                       t1_fraction=steps(0.3, 0.1, 8), stop_cap_multiple=steps(0.5, 0.5, 15)),
    "100800": grid_spec("g100800", slot=SLOTS, target=steps(2.5, 2.5, 24),
                        t1_fraction=steps(0.05, 0.05, 20), stop_cap_multiple=steps(0.5, 0.25, 30)),
}


def tree_rss_bytes(pid: int) -> int:
    """RSS of pid and every descendant, walking /proc/<pid>/task/*/children (cheap: this
    runs every 20 ms beside the sweep, so scanning all of /proc would steal a core's tenth)."""
    return sum(tree_rss_by_pid(pid).values())


def tree_rss_by_pid(pid: int) -> dict[int, int]:
    """RSS bytes of pid and of every descendant, by pid."""
    out, frontier, page = {}, [pid], os.sysconf("SC_PAGE_SIZE")
    while frontier:
        current = frontier.pop()
        try:
            out[current] = int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
            for task in Path(f"/proc/{current}/task").iterdir():
                frontier.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            continue
    return out


def run_sweep(case: str, folder: Path, *options: str, everything: bool = False,
              code: Path | None = None) -> dict:
    """One whole-process sweep: wall seconds, peak RSS of the tree, the manifest's figures.

    By default the robustness analysis and report.html are left out (the heatmap PNGs are
    kept): they are timed on their own by benchmarks/analysis.py and benchmarks/report.py.
    `everything` runs the command exactly as a user types it; `code` runs another source tree
    (an earlier revision's, for a before/after) instead of this one."""
    if SPECS[case] is None:
        spec = ROOT / "sweeps" / "grid.yaml"
    else:
        spec = folder / f"{case}.yaml"
        spec.write_text(yaml.safe_dump(SPECS[case]))
    lean = () if everything else ("--no-analysis", "--no-report")
    command = [sys.executable, "-m", "research.cli.sweep", str(spec), "--quiet", "--fresh", *lean,
               "--results-dir", str(folder / "results"), *options]
    started = time.perf_counter()
    env = None if code is None else {**os.environ, "PYTHONPATH": str(code)}
    proc = subprocess.Popen(command, cwd=code or ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    peak, peaks = 0, {}  # the tree's peak; each process's own
    while proc.poll() is None:
        sizes = tree_rss_by_pid(proc.pid)
        peak = max(peak, sum(sizes.values()))
        for pid, size in sizes.items():
            peaks[pid] = max(peaks.get(pid, 0), size)
        time.sleep(0.02)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.read().decode()[-2000:])
    manifest = next((folder / "results").glob("*/manifest.json"))
    facts = json.loads(manifest.read_text())
    workers = [size for pid, size in peaks.items() if pid != proc.pid]
    return {"wall_s": wall, "peak_rss_mb": peak / 1e6, "combos": facts["grid_size"],
            "parent_peak_mb": peaks.get(proc.pid, 0) / 1e6,
            "worker_peak_mb": max(workers, default=0) / 1e6,
            "processes": facts["budget"]["processes"], "threads": facts["budget"]["threads"],
            "tasks": facts["budget"]["tasks"], "timings": facts["timings"],
            "analysis_s": (facts.get("analysis") or {}).get("seconds")}


def spread(values: list[float], digits: int = 3) -> dict:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}


def alternate(runs: dict[str, tuple], repeat: int) -> dict[str, list[dict]]:
    """Each named run `repeat` times, alternating between them; a run is (case, options) or
    (case, options, everything)."""
    out: dict[str, list[dict]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, (case, options, *everything) in runs.items():
            with tempfile.TemporaryDirectory() as tmp:
                out[name].append(run_sweep(case, Path(tmp), *options,
                                           everything=bool(everything and everything[0])))
    return out


def summarise(samples: list[dict]) -> dict:
    return {"combos": samples[0]["combos"], "split": f"{samples[0]['processes']} processes x "
            f"{samples[0]['threads']} threads, {samples[0]['tasks']} tasks",
            "wall_s": spread([s["wall_s"] for s in samples], 2),
            "peak_rss_mb": spread([s["peak_rss_mb"] for s in samples], 0),
            "last_timings": samples[-1]["timings"]}


def case_floor(repeat: int) -> dict:
    """The 980 grid at --max-cpus 1 against the numba floor, twice: whole process against
    whole process (`run_floor_process`, the issue's goal: at most 2x), and the sweep's engine
    stage against the floor's kernel pass in this process."""
    # as benchmarks.floor whether this runs as a script or a module: numba's cache pickles
    # the module's name, so one kernel cached under two names would not load under the other
    sys.path.insert(0, str(ROOT))
    from benchmarks.floor import grid_arrays, run_floor

    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "980.yaml"
        spec.write_text(yaml.safe_dump(SPECS["980"]))
        bars, combos = grid_arrays(str(spec))
        run_floor(bars, combos[:1])
        floor_s, process_s, sweep = [], [], []
        for _ in range(repeat):
            started = time.perf_counter()
            run_floor(bars, combos)
            floor_s.append(time.perf_counter() - started)
            process_s.append(run_floor_process(spec))
            with tempfile.TemporaryDirectory() as run_tmp:
                sweep.append(run_sweep("980", Path(run_tmp), "--max-cpus", "1"))
    whole = [s["wall_s"] / f for s, f in zip(sweep, process_s, strict=True)]
    engine = [s["timings"]["engine_s"] / f for s, f in zip(sweep, floor_s, strict=True)]
    return {"floor_process_s": spread(process_s, 2), "floor_kernel_s": spread(floor_s),
            "sweep": summarise(sweep), "whole_over_floor_process": spread(whole, 2),
            "engine_over_floor_kernel": spread(engine, 2),
            "goal": "whole_over_floor_process <= 2"}


def case_default(repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        run_sweep("default", Path(tmp))  # fill numba's cache: "warm"
    runs = alternate({"lean": ("default", ()), "everything": ("default", (), True)}, repeat)
    return {"engine_store_pngs": summarise(runs["lean"]),
            "with_analysis_and_report": summarise(runs["everything"]), "goal": "wall_s <= 2.5"}


def case_costs(repeat: int) -> dict:
    """As typed (every trade stored: x5 writes 5x the trade rows, an output cost no sharing
    removes), and without trades, where what is left is the engine and the summary."""
    none = ("--store-trades", "none")
    runs = alternate({"alone": ("980", ("--max-cpus", "1")),
                      "x5": ("980x5", ("--max-cpus", "1")),
                      "alone_none": ("980", ("--max-cpus", "1", *none)),
                      "x5_none": ("980x5", ("--max-cpus", "1", *none))}, repeat)

    def ratios(alone: str, x5: str) -> dict:
        return spread([b["wall_s"] / a["wall_s"]
                       for a, b in zip(runs[alone], runs[x5], strict=True)], 2)

    return {"alone": summarise(runs["alone"]), "x5_commissions": summarise(runs["x5"]),
            "ratio": ratios("alone", "x5"),
            "alone_without_trades": summarise(runs["alone_none"]),
            "x5_without_trades": summarise(runs["x5_none"]),
            "ratio_without_trades": ratios("alone_none", "x5_none"),
            "goal": "ratio well under 2"}


def case_split(repeat: int) -> dict:
    runs = alternate({"one": ("5040", ("--max-cpus", "1", "--store-trades", "all")),
                      "two": ("5040", ("--max-cpus", "2", "--store-trades", "all"))}, repeat)
    pairs = list(zip(runs["one"], runs["two"], strict=True))
    # the whole process, and the part that runs in parallel (the tasks: execute_s); the
    # rest (start-up, data, planning, compaction) is serial, which bounds the first
    execute = [a["timings"]["execute_s"] / b["timings"]["execute_s"] for a, b in pairs]
    return {"one_process": summarise(runs["one"]), "two_processes": summarise(runs["two"]),
            "speedup": spread([a["wall_s"] / b["wall_s"] for a, b in pairs], 2),
            "execute_speedup": spread(execute, 2), "goal": "speedup >= 1.6"}


def case_big(repeat: int) -> dict:
    """The 980 grid runs in one process at --max-cpus 2 (too little work for a second), so
    its memory is also measured on two (--batch-size 35: 28 tasks), as the 20,160 runs."""
    runs = alternate({"980": ("980", ("--max-cpus", "2")),
                      "980_two": ("980", ("--max-cpus", "2", "--batch-size", "35")),
                      "trades": ("20160", ("--max-cpus", "2")),
                      "no_trades": ("20160", ("--max-cpus", "2", "--store-trades", "none"))},
                     repeat)

    def rss(small: str) -> dict:
        return spread([b["peak_rss_mb"] / a["peak_rss_mb"]
                       for a, b in zip(runs[small], runs["trades"], strict=True)], 2)

    return {"grid_980": summarise(runs["980"]),
            "grid_980_two_processes": summarise(runs["980_two"]),
            "with_trades": summarise(runs["trades"]),
            "without_trades": summarise(runs["no_trades"]), "rss_20160_over_980": rss("980"),
            "rss_20160_over_980_two_processes": rss("980_two"),
            "goal": "with trades < 90 s, without < 40 s, peak RSS <= 1200 MB and <= 1.1x"}


def case_huge(repeat: int) -> dict:
    runs = alternate({"huge": ("100800", ("--max-cpus", "2", "--store-trades", "none",
                                          "--max-combos", "200000"))}, repeat)
    return summarise(runs["huge"])


def case_memory(repeat: int, grids: tuple[str, ...] = ("980", "5040", "20160", "100800"),
                ) -> dict:
    """Memory flat as the grid grows (issue 23): the peak RSS of each process, the parent's
    and the largest worker's, on grids of 980 -> 5,040 -> 20,160 -> 100,800 combos at
    --max-cpus 2, without trades (--store-trades none: 100,800 combos with every trade would
    write ~20 GB). Every grid runs on 2 processes with the tasks the plan cuts for 2 (4 a
    process, at most ROWS_PER_TASK rows): given as --batch-size, so that the 980 grid,
    below the one-process threshold, splits too. Goal: each within 10 % of the 980 grid's."""
    from research.plan import ROWS_PER_TASK

    def options(name: str) -> tuple[str, ...]:
        combos = 1
        for values in SPECS[name]["grid"].values():
            combos *= len(values)
        batch = max(1, min(-(-min(combos, 50_000) // 8), ROWS_PER_TASK // 262))
        return ("--max-cpus", "2", "--batch-size", str(batch), "--store-trades", "none",
                "--max-combos", "200000")

    runs = alternate({name: (name, options(name)) for name in grids}, repeat)
    first = grids[0]

    def peaks(name: str, key: str) -> dict:
        return spread([s[key] for s in runs[name]], 0)

    def ratio(name: str, key: str) -> dict:
        return spread([b[key] / a[key] for a, b in zip(runs[first], runs[name], strict=True)],
                      2)

    return {name: {**summarise(runs[name]), "parent_peak_mb": peaks(name, "parent_peak_mb"),
                   "worker_peak_mb": peaks(name, "worker_peak_mb"),
                   f"parent_over_{first}": ratio(name, "parent_peak_mb"),
                   f"worker_over_{first}": ratio(name, "worker_peak_mb")}
            for name in grids} | {"goal": "each process within 1.10x of the 980 grid's"}


def case_dask(repeat: int) -> dict:
    """The 980 grid on 2 local loky processes vs a local dask cluster of 2 workers (both cut
    into 28 tasks: the grid alone is too little work for a second loky process)."""
    two = ("--max-cpus", "2", "--batch-size", "35")
    runs = alternate({"loky": ("980", two), "dask": ("980", (*two, "--backend", "dask"))},
                     repeat)
    ratios = [b["wall_s"] / a["wall_s"] for a, b in zip(runs["loky"], runs["dask"], strict=True)]
    return {"loky": summarise(runs["loky"]), "dask": summarise(runs["dask"]),
            "dask_over_loky": spread(ratios, 2)}


def run_floor_process(spec: Path) -> float:
    """Wall seconds of ``python -m benchmarks.floor --spec SPEC --repeat 1``, a fresh process
    (its imports, the synthetic year, the ranges, the kernel from numba's cache, one pass)."""
    command = [sys.executable, "-m", "benchmarks.floor", "--spec", str(spec), "--repeat", "1"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return wall


def case_typed(repeat: int, baseline: Path | None = None) -> dict:
    """The 168 grid's numba floor as a whole process, the sweep with the analysis and the
    report off, and the sweep as typed: alternately (floor, off, typed, floor, ...), each in
    a fresh process, numba's caches warmed first. Ratios are taken run by run. `baseline`
    (a source tree, e.g. ``git archive REV | tar -x -C DIR``) adds that revision as typed
    to each round, for a before/after in the same run."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "168.yaml"
        spec.write_text(yaml.safe_dump(SPECS["168"]))
        run_floor_process(spec)  # fill numba's caches: every run below is warm
        for code in (None, baseline) if baseline else (None,):
            with tempfile.TemporaryDirectory() as folder:
                run_sweep("168", Path(folder), everything=True, code=code)
        floor, off, typed, base = [], [], [], []
        for _ in range(repeat):
            floor.append(run_floor_process(spec))
            rounds = [(off, False, None), (typed, True, None)]
            rounds += [(base, True, baseline)] if baseline else []
            for runs, everything, code in rounds:
                with tempfile.TemporaryDirectory() as folder:
                    runs.append(run_sweep("168", Path(folder), everything=everything,
                                          code=code))
    off_s, typed_s = [r["wall_s"] for r in off], [r["wall_s"] for r in typed]
    analysis_s = [r.get("analysis_s") for r in typed]
    out = {"floor_process_s": spread(floor, 2), "both_off": summarise(off),
           "as_typed": summarise(typed),
           "analysis_s": spread(analysis_s, 2) if None not in analysis_s else None,
           "typed_over_floor": spread([t / f for t, f in zip(typed_s, floor, strict=True)], 2),
           "off_over_floor": spread([o / f for o, f in zip(off_s, floor, strict=True)], 2),
           "typed_over_off": spread([t / o for t, o in zip(typed_s, off_s, strict=True)], 2),
           "load": os.getloadavg()[0], "goal": "typed_over_floor <= 1.3"}
    if baseline:
        out["baseline_as_typed"] = summarise(base)
        out["baseline_over_typed"] = spread(
            [b["wall_s"] / t for b, t in zip(base, typed_s, strict=True)], 2)
    return out


CASES = {"floor": case_floor, "default": case_default, "costs": case_costs,
         "split": case_split, "big": case_big, "huge": case_huge, "dask": case_dask,
         "memory": case_memory, "typed": case_typed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=["floor", "default", "costs", "split"],
                        choices=list(CASES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="typed: also run this source tree (an earlier revision) as typed")
    parser.add_argument("--quick", action="store_true",
                        help="one run of each; the memory case on 980 and 5,040 combos only")
    args = parser.parse_args()
    if args.baseline:
        CASES["typed"] = functools.partial(case_typed, baseline=args.baseline.resolve())
    if args.quick:
        args.repeat = 1
        CASES["memory"] = functools.partial(case_memory, grids=("980", "5040"))
    report = {"benchmark": "sweep", "python": sys.version.split()[0],
              "usable_cores": len(os.sched_getaffinity(0))}
    for name in args.cases:
        report[name] = CASES[name](args.repeat)
        print(json.dumps({name: report[name]}), file=sys.stderr)  # progress, case by case
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
