"""The report's size and first paint as the grid grows (issue 19: <= 10 MB, <= 2 s at 100,000).

    python -m benchmarks.report_scale [--combos 980 20160 100000] [--long-axis] [--repeats 3]
                                      [--no-browser] [--quick]

For each size a synthetic results folder is built without running the engine: a summary
with five numeric grid axes and random metrics, a daily matrix of 252 trading dates of
random net $, then the real robustness analysis (``analyze_folder``, its own time reported),
no trades.parquet (``store_trades: none``: the close-up's trade tables are per top combo,
so bounded anyway). ``--long-axis`` adds a grid of 100 x 10 x 10 (10,000 combos): one axis
of 100 values, the shape that grows the heatmaps (issue 19). Then ``write_report`` is
timed and the page opened in headless Chromium (tests/browser.py, network off):
``first_contentful_paint_s`` is the browser's own paint entry, ``load_s`` the wall time
until ``session.get`` returns (the load event). Prints JSON: sizes, and median, min and
max of each time.
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

import numpy as np
import pandas as pd

ROOT = Path(__file__).parents[1]
# Five numeric axes of realistic lengths (no axis of hundreds of values: the heatmaps draw
# every pair of axes, |x| * |y| cells each, whatever the number of combos).
AXES = {980: (7, 7, 4, 5, 1), 20160: (7, 8, 9, 10, 4), 100000: (10, 10, 10, 10, 10),
        10000: (100, 10, 10, 1, 1)}  # 10,000: the --long-axis grid
AXIS_NAMES = ("target", "stop_ticks", "t1_fraction", "range_minutes", "entry_offset")
N_DATES = 252


def axis_sizes(combos: int) -> tuple[int, ...]:
    """Five axis sizes whose product is `combos` (the table above, else combos x 1 ...)."""
    return AXES.get(combos, (combos, 1, 1, 1, 1))


def build_folder(folder: Path, combos: int, seed: int = 0) -> None:
    """A results folder of `combos` combos that the report reads (no engine run)."""
    from research.results.daily import write_daily
    from research.results.metrics import INT_COLUMNS, METRIC_COLUMNS

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    sizes = axis_sizes(combos)
    grid = {name: [float(v) for v in range(1, size + 1)] for name, size in
            zip(AXIS_NAMES, sizes, strict=True)}
    values = np.array(np.meshgrid(*grid.values(), indexing="ij")).reshape(len(sizes), -1)
    ids = [f"c{i:07x}" for i in range(combos)]
    days = np.busday_offset("2023-01-02", np.arange(N_DATES)).astype("datetime64[D]")
    day_numbers = days.astype(np.int64)
    cents = rng.normal(0, 20_000, (combos, N_DATES)).round().astype(np.int64)
    summary = {"combo_id": ids, **dict(zip(grid, values, strict=True))}
    for column in METRIC_COLUMNS:
        summary[column] = (rng.integers(0, 250, combos) if column in INT_COLUMNS
                           else rng.normal(0, 1000, combos))
    summary["net_profit_usd"] = cents.sum(axis=1) / 100
    pd.DataFrame(summary).to_parquet(folder / "summary.parquet")
    write_daily(folder / "daily.parquet", ids, day_numbers, cents)
    manifest = {"spec": {"name": f"scale{combos}", "grid": grid,
                         "base": {"instrument": "ES"}},
                "status": "complete", "grid_size": combos, "combos_ok": combos,
                "combos_failed": 0, "store_trades": False, "data": {"instrument": "ES"}}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def analyse(folder: Path) -> None:
    """The real robustness analysis, with a walk-forward that fits 252 dates."""
    from research.analysis import AnalysisConfig, analyze_folder

    analyze_folder(folder, AnalysisConfig(train=126, test=21, blocks=4, ledger="off"))


def spread(seconds: list[float]) -> dict:
    return {"median_s": round(statistics.median(seconds), 3), "min_s": round(min(seconds), 3),
            "max_s": round(max(seconds), 3), "repeats": len(seconds)}


def paint(session, page: Path) -> tuple[float, float]:
    """(first contentful paint, load) in seconds, of `page` opened afresh."""
    session.get("about:blank")
    started = time.perf_counter()
    session.get(page.resolve().as_uri())
    load = time.perf_counter() - started
    fcp = session.execute_script(
        "var e = performance.getEntriesByName('first-contentful-paint');"
        "return e.length ? e[0].startTime : null;")
    return (float("nan") if fcp is None else fcp / 1000), load


def measure(combos: int, tmp: Path, repeats: int, session) -> dict:
    from research.report import write_report

    folder = tmp / f"scale{combos}"
    started = time.perf_counter()
    build_folder(folder, combos)
    built = time.perf_counter() - started
    started = time.perf_counter()
    analyse(folder)
    analysed = time.perf_counter() - started
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        page = write_report(folder)
        times.append(time.perf_counter() - started)
    out = {"combos": combos, "axes": dict(zip(AXIS_NAMES, axis_sizes(combos), strict=True)),
           "folder_build_s": round(built, 2), "analysis_s": round(analysed, 2),
           "report_bytes": page.stat().st_size,
           "report_mb": round(page.stat().st_size / 1e6, 2), "write_report": spread(times)}
    if session is not None:
        paints, loads = zip(*(paint(session, page) for _ in range(repeats)), strict=True)
        out["first_contentful_paint"] = spread(list(paints))
        out["load"] = spread(list(loads))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--combos", nargs="+", type=int, default=[980, 20160, 100000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long-axis", action="store_true",
                        help="also a 10,000-combo grid with one axis of 100 values")
    parser.add_argument("--no-browser", action="store_true", help="sizes and build times only")
    parser.add_argument("--quick", action="store_true", help="980 combos once, no browser")
    args = parser.parse_args()
    if args.quick:
        args.combos, args.repeats, args.no_browser, args.long_axis = [980], 1, True, False
    if args.long_axis and 10000 not in args.combos:
        args.combos = [*args.combos, 10000]
    sys.path.insert(0, str(ROOT))
    session = None
    if not args.no_browser:
        from tests.browser import find_browser, start

        found = find_browser()
        if isinstance(found, str):
            raise SystemExit(f"no browser: {found}")
        session = start(*found)
    report: dict = {"benchmark": "report_scale", "cpu_count": os.cpu_count(), "sizes": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for combos in args.combos:
                report["sizes"].append(measure(combos, Path(tmp), args.repeats, session))
                print(json.dumps(report["sizes"][-1]), file=sys.stderr, flush=True)  # progress
    finally:
        if session is not None:
            session.quit()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
