"""The engine stage against the numba floor on the same grid, in one process, side by side.

    python -m benchmarks.walk [--spec PATH] [--repeat 3] [--quick] [--out FILE]
                              [--parts engine,walk,floor]

The grid is the 5,040-combo one of benchmarks/sweep.py (one year of synthetic ES; --quick:
the 980 grid) unless --spec names a YAML spec with synthetic data. Three figures, each run
once per round and the rounds alternating (engine, walk, floor, engine, walk, floor, ...),
so a busy machine slows all three alike:

- engine_s: every task of the sweep's one-process plan run by the worker exactly as a
  sweep at --max-cpus 1 runs it (research.worker: ranges, entries, exit walks, rows,
  metrics, the trades and daily shards encoded), without the parent's load and compaction;
- walk_s: the compiled exit walk alone (walk_kernel._walk_batch), called as the worker
  calls it (RULES_PER_CALL exit settings a call);
- floor_s: benchmarks/floor.py's plain numba loop of the same grid (range scan, breakout,
  exit walk to the exit).

JSON: median, min and max of each, and the ratios engine/floor and walk/floor (median of
the per-round ratios, with their min and max). CPU seconds of this process (process_time)
beside wall seconds: on a shared machine the CPU figure is the steadier one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402 - after the thread count

from benchmarks.floor import run_floor  # noqa: E402
from benchmarks.sweep import SPECS  # noqa: E402


def grid(spec_path: str | None, quick: bool):
    """Bars, combos and the sweep's one-process plan of the grid."""
    from research import prepare_bars, synthetic_bars
    from research.engine.ranges import weekday_trading_days
    from research.plan import Plan
    from research.spec.grid import load_spec, spec_from_dict

    spec = (load_spec(spec_path) if spec_path
            else spec_from_dict(SPECS["980" if quick else "5040"]))
    bars = prepare_bars(synthetic_bars(**spec.data.synthetic_kwargs()), "ES")
    combos = list(spec.combos())
    plan = Plan.for_combos(combos, budget=1, n_dates=len(weekday_trading_days(bars)))
    return bars, combos, plan


def engine_stage(bars, plan) -> Callable[[], None]:
    from research.engine.pipeline import ENGINE_STAGES
    from research.worker import _run_task

    def run() -> None:
        for task in plan.tasks:
            result = _run_task(bars, task, bars.last_ts_ns, 1, ENGINE_STAGES, True, None)
            if result.failures:
                raise RuntimeError(f"benchmark task failed: {result.failures[0]['error']}")
    return run


def walk_only(bars, combos) -> Callable[[], None]:
    """The kernel's arguments, built once, as the worker makes them: per range table its
    exit rules, RULES_PER_CALL at a time; the calls alone are timed."""
    from research.engine.contract_walk import walk_windows
    from research.engine.entry import detect_entries
    from research.engine.execution import ExitRules, block_extremes
    from research.engine.ranges import RangeRules, build_slot_ranges
    from research.engine.walk_kernel import _walk_batch
    from research.worker import RULES_PER_CALL

    walk = bars.walk
    blocks = block_extremes(walk)
    rules_of: dict[RangeRules, dict[ExitRules, None]] = {}
    for rp in combos:
        rules_of.setdefault(RangeRules.from_params(rp), {})[ExitRules.from_params(rp)] = None
    calls = []
    for range_rules, exits in rules_of.items():
        table = build_slot_ranges(bars, range_rules)
        entries = detect_entries(bars, table, range_rules.entry)
        first_end, held_start, held_end = walk_windows(
            walk, entries.bar_idx, table.window_end_idx, table.window_end_ts_ns)
        exits = list(exits)
        for start in range(0, len(exits), RULES_PER_CALL):
            chunk = exits[start:start + RULES_PER_CALL]
            targets = [r.trade_targets(np.minimum(table.range_size_ticks, r.stop_cap_ticks))
                       for r in chunk]
            calls.append((walk.ts_ns, walk.open_ticks, walk.high_ticks, walk.low_ticks,
                          walk.close_ticks, entries.direction, entries.bar_idx,
                          entries.price_ticks, table.range_size_ticks, first_end,
                          table.expiry_ts_ns, np.int64(bars.last_ts_ns),
                          np.array([t for t, _ in targets]), np.array([t1 for _, t1 in targets]),
                          np.array([r.stop_cap_ticks for r in chunk], np.int64),
                          np.array([r.time_mode for r in chunk], np.bool_), held_start,
                          held_end, blocks.high_max, blocks.low_min, blocks.shift))

    def run() -> None:
        for args in calls:
            _walk_batch(*args)
    return run


def floor(spec_path: str | None, quick: bool) -> Callable[[], None]:
    from benchmarks.floor import grid_arrays

    if spec_path is None:  # floor.grid_arrays reads a file: write the built-in grid once
        import tempfile

        import yaml
        path = Path(tempfile.mkdtemp(prefix="walk-bench-")) / "grid.yaml"
        path.write_text(yaml.safe_dump(SPECS["980" if quick else "5040"]))
        spec_path = str(path)
    bars, combos = grid_arrays(spec_path)
    return lambda: run_floor(bars, combos)


def timed(fn: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", help="a YAML spec with synthetic data (default: 5,040 grid)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the 980 grid, one round")
    parser.add_argument("--out", help="also write the JSON to this file")
    parser.add_argument("--parts", default="engine,walk,floor",
                        help="which figures, comma-separated (engine,walk,floor): an older "
                             "engine without the block walk runs engine,floor")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    bars, combos, plan = grid(args.spec, args.quick)
    parts = args.parts.split(",")
    makers = {"engine": lambda: engine_stage(bars, plan), "walk": lambda: walk_only(bars, combos),
              "floor": lambda: floor(args.spec, args.quick)}
    runs = {name: make() for name, make in makers.items() if name in parts}
    for fn in runs.values():  # warm: kernels from numba's cache, the block extremes made
        fn()
    seen: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            wall, cpu = timed(fn)
            seen[name]["wall"].append(wall)
            seen[name]["cpu"].append(cpu)
    out = {"benchmark": "walk", "spec": args.spec or ("980" if args.quick else "5040"),
           "combos": len(combos), "tasks": len(plan.tasks), "rounds": repeat,
           "load_avg_1m": round(os.getloadavg()[0], 2)}
    for name, figures in seen.items():
        out[f"{name}_s"] = {"wall": spread(figures["wall"]), "cpu": spread(figures["cpu"])}
    for name in [name for name in ("engine", "walk") if name in runs and "floor" in runs]:
        out[f"{name}_over_floor"] = {
            clock: spread([a / b for a, b in zip(seen[name][clock], seen["floor"][clock],
                                                 strict=True)])
            for clock in ("wall", "cpu")}
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
