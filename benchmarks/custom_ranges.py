"""Your own ranges against the reference slots, side by side in one run: prints JSON.

    python -m benchmarks.custom_ranges [--repeat 5] [--quick]

Two sweeps on one year of synthetic ES (three months with --quick), one process, one
engine thread, no analysis or report, run alternately so both see the same machine:

- custom: 20 range definitions (range_start 08:30, 09:00, 09:30, 10:00 x range_minutes
  5, 15, 30, 60, 90) x 5 targets x 2 entry rules (stop, close_confirm) = 200 combos;
- reference: today's grid over the reference slots, 7 slots x 5 targets x 3 T1 fractions
  x 2 stop caps = 210 combos.

Figures: per sweep the median, min and max wall seconds and the median per combo; the
ratio of the per-combo medians (custom / reference; the goal is at most 1.5) with its
spread (the ratio of each alternating pair, min and max). Timings depend on the machine's
load: compare runs on one machine only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = [10, 15, 20, 25, 30]
CUSTOM_GRID = {"range_start": ["08:30", "09:00", "09:30", "10:00"],
               "range_minutes": [5, 15, 30, 60, 90], "target": TARGETS,
               "entry": ["stop", "close_confirm"]}
REFERENCE_GRID = {"slot": ["07:30", "08:00", "09:00", "09:30", "10:00", "10:30", "11:00"],
                  "target": TARGETS, "t1_fraction": [0.5, 0.65, 0.8],
                  "stop_cap_multiple": [1.0, 3.0]}


def combos(grid: dict) -> int:
    count = 1
    for values in grid.values():
        count *= len(values)
    return count


def run_sweep(bars, grid: dict, folder: Path, name: str) -> float:
    from research import ResearchRunner

    runner = ResearchRunner(data=bars, results_dir=folder, backend="sequential",
                            max_cpus=1, progress=False, analysis=False, report=False)
    started = time.perf_counter()
    sweep = runner.run(grid=grid, base={"instrument": "ES"}, name=name, fresh=True)
    seconds = time.perf_counter() - started
    if sweep.failed:
        raise RuntimeError(f"{name}: {len(sweep.failed)} combos failed")
    return seconds


def summary(seconds: list[float], n_combos: int) -> dict:
    return {"combos": n_combos, "median_s": round(statistics.median(seconds), 3),
            "min_s": round(min(seconds), 3), "max_s": round(max(seconds), 3),
            "median_ms_per_combo": round(statistics.median(seconds) / n_combos * 1e3, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="three months, two repeats")
    args = parser.parse_args()
    from research import prepare_bars, synthetic_bars

    end = "2024-03-31" if args.quick else "2024-12-31"
    repeat = 2 if args.quick else args.repeat
    bars = prepare_bars(synthetic_bars("ES", "2024-01-01", end, seed=7), "ES")
    n_custom, n_reference = combos(CUSTOM_GRID), combos(REFERENCE_GRID)
    custom, reference = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_sweep(bars, CUSTOM_GRID, folder, "warm-custom")  # compile / load kernels
        run_sweep(bars, REFERENCE_GRID, folder, "warm-reference")
        for _ in range(repeat):  # alternately: both see the same load
            reference.append(run_sweep(bars, REFERENCE_GRID, folder, "reference"))
            custom.append(run_sweep(bars, CUSTOM_GRID, folder, "custom"))
    pair_ratios = [(c / n_custom) / (r / n_reference)
                   for c, r in zip(custom, reference, strict=True)]
    ratio = (statistics.median(custom) / n_custom) / (statistics.median(reference) / n_reference)
    print(json.dumps({
        "bars": len(bars), "span": ["2024-01-01", end], "repeat": repeat,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "custom": summary(custom, n_custom), "reference": summary(reference, n_reference),
        "ratio_per_combo": round(ratio, 3),
        "ratio_spread": [round(min(pair_ratios), 3), round(max(pair_ratios), 3)],
        "goal_ratio": 1.5}, indent=2))


if __name__ == "__main__":
    main()
