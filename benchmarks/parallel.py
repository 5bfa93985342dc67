"""Threads inside one run: sequential vs 2-thread run_strategy on 5 years of synthetic ES.

    python benchmarks/parallel.py [--threads 2] [--repeat 30]

Prints JSON: both times, the speedup, and whether the results were identical. The two
are measured side by side in one process, alternately, best of --repeat, after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from research import RunParams, prepare_bars, run_strategy, synthetic_bars
from research.engine.execution import TradeBatch
from research.engine.ranges import RangeRules, build_slot_ranges
from research.engine.strategy import process_range_batch
from research.parallel.processor import ParallelProcessor

try:
    from benchmarks.compare import compare_sequential_threads
except ImportError:  # run as a script: benchmarks/ is the script's folder
    from compare import compare_sequential_threads


def best_of_interleaved(repeat: int, first, second) -> tuple[float, object, float, object]:
    """Best times of two functions run alternately, so drift on a shared machine hits both."""
    best = [float("inf"), float("inf")]
    results: list[object] = [None, None]
    for _ in range(repeat):
        for i, fn in enumerate((first, second)):
            started = time.perf_counter()
            results[i] = fn()
            best[i] = min(best[i], time.perf_counter() - started)
    return best[0], results[0], best[1], results[1]


def same_trades(left: list[TradeBatch], right: list[TradeBatch]) -> bool:
    a, b = TradeBatch.concat(left), TradeBatch.concat(right)
    names = TradeBatch.__dataclass_fields__
    return all(np.array_equal(getattr(a, n), getattr(b, n)) for n in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    bars = prepare_bars(synthetic_bars("ES", "2020-01-01", "2024-12-31", seed=7), "ES")
    rp = RunParams(instrument="ES")
    run_strategy(bars, rp, threads=args.threads)  # warm-up: load compiled kernels
    sequential_s, sequential, parallel_s, parallel = best_of_interleaved(
        args.repeat, lambda: run_strategy(bars, rp, parallel=False),
        lambda: run_strategy(bars, rp, parallel=True, threads=args.threads))
    table = build_slot_ranges(bars, RangeRules.from_params(rp))
    stage = compare_sequential_threads(
        ParallelProcessor(max_workers=args.threads), table,
        lambda part: process_range_batch(bars, part, rp, bars.last_ts_ns),
        repeat=args.repeat, equal=same_trades)
    print(json.dumps({
        "benchmark": "parallel", "instrument": "ES", "years": 5, "slots": 7,
        "ranges": len(table), "threads": args.threads,
        "run_strategy": {"sequential_s": round(sequential_s, 4),
                         "parallel_s": round(parallel_s, 4),
                         "speedup": round(sequential_s / parallel_s, 2),
                         "identical": bool(sequential.equals(parallel))},
        "range_stage": {k: (round(v, 4) if isinstance(v, float) else v)
                        for k, v in stage.items()},
    }, indent=2))


if __name__ == "__main__":
    main()
