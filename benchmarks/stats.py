"""The breakout statistics' speed (research/stats/): prints JSON.

    python -m benchmarks.stats [--repeat 7] [--definitions 20] [--quick]

On one year of synthetic ES (``--quick``: three months, 3 repeats), `--definitions` range
definitions from 08:30 (5, 10, ... minutes): the breakout pass alone (`day_breakouts`: the
engine's `build_slot_ranges` and `breakout_touches` per definition), the whole statistics
on prepared bars (`stats_of_bars`: the pass, the volatility states, the tables), and
``breakout_stats`` as a user calls it (synthetic bars made and prepared included). Side by
side, alternating: all definitions in one call against one call per definition, and the
statistics against the engine's own ranges and entries for the 7 reference slots
(`build_slot_ranges` + `detect_entries`). Each figure is the median with its range; a
fresh process's first call (numba's cache) apart.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def spread(seconds: list[float]) -> dict:
    return {"median_s": round(statistics.median(seconds), 5), "min_s": round(min(seconds), 5),
            "max_s": round(max(seconds), 5), "repeats": len(seconds)}


def ratio(a: list[float], b: list[float]) -> dict:
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    return {"median": round(statistics.median(ratios), 3), "min": round(min(ratios), 3),
            "max": round(max(ratios), 3)}


def alternate(first: Callable[[], object], second: Callable[[], object],
              repeat: int) -> tuple[list[float], list[float]]:
    """A B A B ...: noise on a shared machine hits both alike."""
    a, b = [], []
    for _ in range(repeat):
        for call, out in ((first, a), (second, b)):
            started = time.perf_counter()
            call()
            out.append(time.perf_counter() - started)
    return a, b


def measure(end: str, count: int, repeat: int) -> dict:
    from research import RunParams, breakout_stats, prepare_bars, synthetic_bars
    from research.engine.entry import detect_entries
    from research.engine.ranges import RangeRules, build_slot_ranges
    from research.stats.breakouts import stats_of_bars
    from research.stats.definitions import check_range
    from research.stats.kernel import day_breakouts

    bars = prepare_bars(synthetic_bars("ES", "2024-01-01", end, seed=7), "ES")
    definitions = tuple(check_range("bench", "08:30", range_minutes=5 * (k + 1))
                        for k in range(count))
    rules = RangeRules.from_params(RunParams(instrument="ES"))
    stats_of_bars(bars, definitions)  # warm: kernels loaded or compiled
    detect_entries(bars, build_slot_ranges(bars, rules))

    def one_by_one() -> None:
        for definition in definitions:
            day_breakouts(bars, (definition,))

    together, apart = alternate(lambda: day_breakouts(bars, definitions), one_by_one, repeat)
    stats, engine = alternate(lambda: stats_of_bars(bars, definitions),
                              lambda: detect_entries(bars, build_slot_ranges(bars, rules)),
                              repeat)
    spec = {"base": {"instrument": "ES", "range_start": "08:30"},
            "grid": {"range_minutes": [5 * (k + 1) for k in range(count)]},
            "data": {"synthetic": {"instrument": "ES", "start": "2024-01-01", "end": end,
                                   "seed": 7}}}
    all_in, _ = alternate(lambda: breakout_stats(spec), lambda: None, max(1, repeat // 2))
    return {"bars": len(bars), "definitions": count,
            "days": int(len(day_breakouts(bars, definitions[:1]))),
            "kernel_all_at_once": spread(together), "kernel_one_call_each": spread(apart),
            "one_call_each_vs_all_at_once": ratio(apart, together),
            "stats_of_bars": spread(stats),
            "engine_ranges_and_entries_7_slots": spread(engine),
            "stats_vs_engine_ranges_and_entries": ratio(stats, engine),
            "breakout_stats_all_in": spread(all_in)}


def first_call_seconds() -> float:
    """A fresh process's first statistics on a month (kernels from numba's cache)."""
    code = ("import time; from research import breakout_stats, synthetic_bars;"
            "d = synthetic_bars('ES', '2024-01-01', '2024-01-31');"
            "t = time.perf_counter(); breakout_stats({'base': {'instrument': 'ES'}}, data=d);"
            "print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=600)
    return round(float(done.stdout.strip().splitlines()[-1]), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--definitions", type=int, default=20)
    parser.add_argument("--quick", action="store_true",
                        help="three months, 3 repeats, no fresh process")
    args = parser.parse_args()
    end = "2024-03-31" if args.quick else "2024-12-31"
    repeat = 3 if args.quick else args.repeat
    out = {"span": f"2024-01-01..{end}", "load_1min": round(os.getloadavg()[0], 2),
           **measure(end, args.definitions, repeat)}
    if not args.quick:
        out["first_call_fresh_process_s"] = first_call_seconds()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
