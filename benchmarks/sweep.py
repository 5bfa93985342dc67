"""Sweep throughput: combos/s, peak RSS of the whole process tree, time outside the engine.

    python benchmarks/sweep.py [--grids default 980] [--max-cpus 1 2] [--backend loky]

Each (grid, max_cpus) runs in a fresh subprocess (`python -m research.sweep --fresh`)
while this script samples the RSS of that process and all its children. Prints JSON;
the 2-vs-1 ratio is measured side by side in one run. Also checks that every setting
wrote byte-identical summary.csv and trades.parquet.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
GRIDS = {"default": ROOT / "sweeps" / "grid.yaml", "980": ROOT / "sweeps" / "example_980.yaml"}


def tree_rss_bytes(pid: int) -> int:
    """RSS of pid and every descendant, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(stat[1])
            rss[int(entry.name)] = int(stat[21]) * 4096
        except (OSError, IndexError, ValueError):
            continue
    family, frontier = {pid}, [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        family.update(children)
        frontier.extend(children)
    return sum(rss.get(p, 0) for p in family)


def run_one(spec: Path, max_cpus: int, backend: str, results: Path) -> dict:
    command = [sys.executable, "-m", "research.sweep", str(spec), "--quiet", "--fresh",
               "--max-cpus", str(max_cpus), "--backend", backend, "--results-dir", str(results)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_bytes(proc.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.read().decode())
    folder = next(p for p in results.iterdir() if (p / "manifest.json").exists())
    manifest = json.loads((folder / "manifest.json").read_text())
    timings, budget = manifest["timings"], manifest["budget"]
    engine_wall = timings["engine_s"] / max(1, budget["processes"])
    return {
        "max_cpus": max_cpus, "backend": backend, "processes": budget["processes"],
        "threads": budget["threads"], "combos": manifest["grid_size"],
        "wall_s": round(wall, 2), "combos_per_s": round(manifest["grid_size"] / wall, 1),
        "peak_rss_tree_mb": round(peak / 1e6, 1),
        "outside_engine_share": round(1 - engine_wall / wall, 3),
        "timings": timings,
        "digest": {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()[:16]
                   for name in ("summary.csv", "trades.parquet")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grids", nargs="+", default=["default", "980"], choices=list(GRIDS))
    parser.add_argument("--max-cpus", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--backend", default="loky", choices=("loky", "sequential", "dask"))
    args = parser.parse_args()
    report = {"benchmark": "sweep", "backend": args.backend, "grids": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for grid in args.grids:
            runs = [run_one(GRIDS[grid], n, args.backend, Path(tmp) / f"{grid}-{n}")
                    for n in args.max_cpus]
            base = runs[0]["wall_s"]
            for run in runs:
                run["speedup_vs_first"] = round(base / run["wall_s"], 2)
            report["grids"][grid] = {
                "runs": runs,
                "identical_outputs": len({json.dumps(r["digest"]) for r in runs}) == 1}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
