"""What the fill bounds cost: the exit walk and a whole sweep with the bounds (this tree)
against the engine before them (a baseline commit), and 1-second resolution beside them.
Prints JSON.

    python benchmarks/fill_bounds.py [--baseline 3347a35] [--repeat 5] [--spec sweeps/grid.yaml]

The baseline is the tree of `--baseline` (default: the commit before the bounds), unpacked
with `git archive` into a temporary folder. Runs alternate between the two trees, so load
from other processes falls on both alike; each figure is the median of `--repeat` runs with
its min and max, and each ratio (this tree / baseline) is the ratio of medians with the
range of the per-repeat ratios. Each tree runs once untimed first (numba's cache).

- `exits`: the exit walk (Pipeline.exits, compiled, one thread) of every ExitRules of the
  spec's grid for every slot, over the spec's data, per pass (the mean of 20 passes): the
  bounds ride in this walk.
- `sweep`: the whole sweep from the CLI (`--fresh --no-report --no-analysis --max-cpus 1`).
- `resolve` (this tree only): on a 1-second random walk aggregated to minutes, the exit walk
  without and with `resolve_with` (the 1-second replay of the ambiguous trades), and how
  many trades were ambiguous.
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
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "3347a35"  # main before the fill bounds (issue 21)
WALK = ("2024-03-04", "2024-03-29")  # four weeks of 1-second bars
PASSES = 20  # the resolve figures are per pass over the 9 exit rules, averaged over these


def measure_exits(spec_path: str) -> dict:
    """Seconds for the exit walk of every (slot, ExitRules) of the spec, in this process's
    tree (compiled first, outside the timing)."""
    from research.engine.execution import ExitRules
    from research.engine.pipeline import Pipeline
    from research.engine.ranges import RangeRules
    from research.parallel.processor import ParallelProcessor
    from research.research_runner import ResearchRunner
    from research.spec.grid import load_spec

    spec = load_spec(spec_path)
    bars = ResearchRunner(progress=False)._bars(spec, spec.base["instrument"])
    pipeline = Pipeline(bars, bars.last_ts_ns, ParallelProcessor(max_workers=1))
    combos = list(spec.iter_combos())
    groups: dict = {}
    for rp in combos:
        groups.setdefault(RangeRules.from_params(rp), set()).add(ExitRules.from_params(rp))
    shared = {rules: pipeline.shared(rules) for rules in groups}
    first = next(iter(groups))
    pipeline.exits(shared[first], next(iter(groups[first])))  # compile
    started = time.perf_counter()
    walks = 0
    for _ in range(PASSES):
        for range_rules, exit_rules in groups.items():
            for rules in exit_rules:
                pipeline.exits(shared[range_rules], rules)
                walks += 1
    return {"seconds": (time.perf_counter() - started) / PASSES, "walks": walks // PASSES}


def measure_resolve() -> dict:
    """The exit walk of the default grid's exit rules on a 1-second walk's minutes, without
    and with the 1-second replay."""
    import dataclasses

    import numpy as np

    from research.engine.codes import AMBIG_NONE
    from research.engine.data import prepare_bars
    from research.engine.execution import ExitRules
    from research.engine.params import RunParams
    from research.engine.pipeline import Pipeline
    from research.engine.ranges import RangeRules
    from research.engine.synthetic_seconds import synthetic_second_bars
    from research.parallel.processor import ParallelProcessor

    minutes, seconds = synthetic_second_bars("ES", *WALK, seed=7)
    bars, second_bars = prepare_bars(minutes, "ES"), prepare_bars(seconds, "ES")
    plain = Pipeline(bars, bars.last_ts_ns, ParallelProcessor(max_workers=1))
    resolving = dataclasses.replace(plain, seconds=second_bars)
    shared = plain.shared(RangeRules.from_params(RunParams(instrument="ES")))
    rules = [ExitRules.from_params(RunParams(instrument="ES", target=t, t1_fraction=f))
             for t in (2.5, 5, 10) for f in (0.5, 0.65, 0.8)]
    resolving.exits(shared, rules[0])  # compile
    out = {"bars": len(bars), "second_bars": len(second_bars), "walks": len(rules)}
    for name, pipeline in (("bounds_s", plain), ("resolved_s", resolving)):
        started = time.perf_counter()
        for _ in range(PASSES):
            batches = [pipeline.exits(shared, r) for r in rules]
        out[name] = (time.perf_counter() - started) / PASSES
    traded = sum(int((b.direction != 0).sum()) for b in batches)
    ambiguous = sum(int((b.ambiguity != AMBIG_NONE).sum()) for b in batches)
    out.update(trades=traded, ambiguous_trades=ambiguous,
               ambiguous_share=round(ambiguous / max(traded, 1), 4),
               undecided_after=int(sum(int(np.sum(b.decided_by == 2)) for b in batches)))
    return out


def run_in(tree: Path, *args: str) -> dict:
    """This script's measurement mode in a fresh process importing `tree`'s research."""
    env = {**os.environ, "PYTHONPATH": str(tree), "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], cwd=tree,
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sweep_seconds(tree: Path, spec: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "research.sweep", str(spec), "--results-dir",
                    str(out), "--fresh", "--quiet", "--no-report", "--no-analysis",
                    "--max-cpus", "1"], cwd=tree, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def spread(values: list[float]) -> dict:
    return {"median": round(median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4)}


def side_by_side(ours: list[float], base: list[float]) -> dict:
    ratios = [a / b for a, b in zip(ours, base, strict=True)]
    return {"with_bounds_s": spread(ours), "baseline_s": spread(base),
            "ratio": round(median(ours) / median(base), 4),
            "ratio_range": [round(min(ratios), 4), round(max(ratios), 4)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--spec", default="sweeps/grid.yaml")
    parser.add_argument("--no-sweep", action="store_true", help="skip the whole-sweep timing")
    parser.add_argument("--measure", choices=("exits", "resolve"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure == "exits":
        print(json.dumps(measure_exits(args.spec)))
        return
    if args.measure == "resolve":
        print(json.dumps(measure_resolve()))
        return
    with tempfile.TemporaryDirectory(prefix="fill-bounds-") as tmp:
        base = Path(tmp) / "baseline"
        base.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        spec = (ROOT / args.spec).resolve()
        trees = {"ours": ROOT, "base": base}
        for name, tree in trees.items():  # numba's cache and the imports, untimed
            run_in(tree, "--measure", "exits", "--spec", str(spec))
            if not args.no_sweep:
                sweep_seconds(tree, spec, Path(tmp) / name)
        exits: dict[str, list[float]] = {"ours": [], "base": []}
        sweeps: dict[str, list[float]] = {"ours": [], "base": []}
        for i in range(args.repeat):
            order = ("ours", "base") if i % 2 == 0 else ("base", "ours")
            for name in order:
                exits[name].append(run_in(trees[name], "--measure", "exits", "--spec",
                                          str(spec))["seconds"])
                if not args.no_sweep:
                    sweeps[name].append(sweep_seconds(trees[name], spec, Path(tmp) / name))
        report = {"baseline": args.baseline, "spec": args.spec, "repeat": args.repeat,
                  "exits": side_by_side(exits["ours"], exits["base"])}
        if not args.no_sweep:
            report["sweep"] = side_by_side(sweeps["ours"], sweeps["base"])
        resolves = [run_in(ROOT, "--measure", "resolve") for _ in range(args.repeat)]
        report["resolve"] = {**{k: v for k, v in resolves[0].items() if not k.endswith("_s")},
                             "bounds_s": spread([r["bounds_s"] for r in resolves]),
                             "resolved_s": spread([r["resolved_s"] for r in resolves]),
                             "ratio": round(median(r["resolved_s"] / r["bounds_s"]
                                                   for r in resolves), 4)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
