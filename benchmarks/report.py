"""The report's cost: report.html build time and size, the PNG heatmaps, the whole sweep.

    python benchmarks/report.py [--grids default 980] [--repeats 7] [--baseline DIR]

For each grid the sweep runs once (``python -m research.sweep --fresh --quiet``), then:
``write_report`` is timed in this process (warm: imports done, files in the page cache) and
in a fresh process (cold: imports included); ``write_heatmaps`` (the PNGs, Pillow) in
this process, its first call (Pillow's import and fonts) reported apart. ``--baseline DIR`` also
times the whole default sweep process with the package in DIR (an earlier revision, e.g.
``git archive 686f016 | tar -x -C /tmp/base``) alternately with this one, so the difference
is measured side by side on a noisy machine. Prints JSON: median, min and max of each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).parents[1]
GRIDS = {"default": ROOT / "sweeps" / "grid.yaml", "980": ROOT / "sweeps" / "example_980.yaml"}


def spread(seconds: list[float]) -> dict:
    return {"median_s": round(statistics.median(seconds), 4), "min_s": round(min(seconds), 4),
            "max_s": round(max(seconds), 4), "repeats": len(seconds)}


def timed(call: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def sweep_process(spec: Path, results: Path, package: Path | None = None) -> float:
    env = dict(os.environ)
    if package is not None:
        env["PYTHONPATH"] = str(package)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "research.cli.sweep", str(spec), "--quiet", "--fresh",
                    "--results-dir", str(results)], cwd=package or ROOT, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def measure_grid(spec: Path, results: Path, repeats: int) -> dict:
    from research.report import ReportInputs, write_heatmaps, write_report

    sweep_process(spec, results)
    folder = next(p for p in results.iterdir() if (p / "manifest.json").exists())
    inputs = ReportInputs.from_folder(folder)
    page = write_report(folder)
    cold_code = f"from research.report import write_report; write_report({str(folder)!r})"
    first_png = timed(lambda: write_heatmaps(inputs.summary, inputs.axes, folder), 1)
    return {
        "combos": len(inputs.summary),
        "report_bytes": page.stat().st_size,
        "report_warm": spread(timed(lambda: write_report(folder), repeats)),
        "report_cold_process": spread(timed(lambda: subprocess.run(
            [sys.executable, "-c", cold_code], cwd=ROOT, check=True), max(3, repeats // 2))),
        "pngs": len(write_heatmaps(inputs.summary, inputs.axes, folder)),
        "pngs_first_call_s": round(first_png[0], 4),
        "pngs_warm": spread(timed(lambda: write_heatmaps(inputs.summary, inputs.axes, folder),
                                  repeats)),
    }


def compare_sweeps(baseline: Path, repeats: int, tmp: Path) -> dict:
    """The default sweep's whole process, this revision and `baseline` alternately."""
    spec = GRIDS["default"]
    sweep_process(spec, tmp / "warm-new")  # numba caches and the page cache, both sides
    sweep_process(spec, tmp / "warm-old", baseline)
    new, old = [], []
    for _ in range(repeats):
        new.append(sweep_process(spec, tmp / "new"))
        old.append(sweep_process(spec, tmp / "old", baseline))
    return {"this_revision": spread(new), "baseline": spread(old),
            "median_difference_s": round(statistics.median(new) - statistics.median(old), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grids", nargs="+", default=["default", "980"], choices=list(GRIDS))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="an earlier revision's source tree")
    args = parser.parse_args()
    report: dict = {"benchmark": "report", "cpu_count": os.cpu_count(), "grids": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for grid in args.grids:
            report["grids"][grid] = measure_grid(GRIDS[grid], Path(tmp) / grid, args.repeats)
        if args.baseline is not None:
            report["default_sweep_process"] = compare_sweeps(args.baseline.resolve(),
                                                             args.repeats, Path(tmp))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
