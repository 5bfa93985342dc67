"""Engine speed on synthetic ES, one thread: prints JSON.

    python benchmarks/engine.py [--years 1 4 5] [--repeat 5]

Figures: prepare time, ranges/s of the execution stage once compiled, all-in run_strategy
time (prepare included) per span, the per-range cost ratio against 1 year, first-call
compile time (fresh process: cached by numba across processes), and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def measure_span(years: int, repeat: int) -> dict:
    from research import RunParams, prepare_bars, run_strategy, synthetic_bars
    from research.engine.entry import detect_entries
    from research.engine.execution import ExitRules, execute_trades
    from research.engine.ranges import RangeRules, build_slot_ranges

    frame = synthetic_bars("ES", "2021-01-01", f"{2020 + years}-12-31", seed=7)
    rp = RunParams(instrument="ES")
    bars = prepare_bars(frame, "ES")
    table = build_slot_ranges(bars, RangeRules.from_params(rp))
    entries = detect_entries(bars, table)
    rules = ExitRules.from_params(rp)
    run_strategy(frame, rp, parallel=False)  # warm: compile/load kernels
    prepare_s = best_of(repeat, lambda: prepare_bars(frame, "ES"))
    execution_s = best_of(repeat, lambda: execute_trades(bars, table, entries, rules,
                                                         bars.last_ts_ns))
    all_in_s = best_of(repeat, lambda: run_strategy(frame, rp, parallel=False))
    return {"years": years, "bars": len(bars), "ranges": len(table),
            "bars_mb": round(bars.nbytes / 1e6, 2), "prepare_s": round(prepare_s, 4),
            "execution_ranges_per_s": round(len(table) / execution_s),
            "run_strategy_s": round(all_in_s, 4),
            "run_strategy_us_per_range": round(all_in_s / len(table) * 1e6, 2)}


def first_call_seconds() -> float:
    """A fresh process's first run_strategy on a small frame (kernels from numba's cache)."""
    code = ("import time; from research import RunParams, run_strategy, synthetic_bars;"
            "f = synthetic_bars('ES', '2024-01-01', '2024-01-31');"
            "t = time.perf_counter(); run_strategy(f, RunParams(instrument='ES'), parallel=False);"
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return round(float(out.stdout.strip()), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, nargs="+", default=[1, 4, 5])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    spans = [measure_span(years, args.repeat) for years in args.years]
    one_year = next((s for s in spans if s["years"] == 1), spans[0])
    for span in spans:
        span["cost_per_range_vs_1y"] = round(
            span["run_strategy_us_per_range"] / one_year["run_strategy_us_per_range"], 3)
    print(json.dumps({
        "benchmark": "engine", "instrument": "ES", "slots": 7, "threads": 1,
        "first_call_s_cached_compile": first_call_seconds(),
        "spans": spans,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
