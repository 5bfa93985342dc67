"""Files to Bars two ways, side by side: prints JSON.

    python benchmarks/bars_path.py [--repeat 5] [--year 2024]

`prepare_bars(load_bars(path, instrument="ES"), "ES")` (the public way: a Chicago-time
frame, then back to UTC arrays) against `bars_from_files(path, options)` (the sweep's way:
the loader's arrays straight into Bars), on one year of synthetic ES written as a canonical
parquet file and as a Kibot text file. The two ways alternate, so machine noise hits them
alike. Figures: seconds (median, min, max) per way and layout, and the median ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.bar_writers

from research import load_bars, prepare_bars, synthetic_bars  # noqa: E402
from research.engine.data import LoadOptions, bars_from_files  # noqa: E402
from tests import bar_writers as write  # noqa: E402

LAYOUTS = {"canonical.parquet": write.canonical_parquet, "ES.txt": write.kibot}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args()
    frame = synthetic_bars("ES", f"{args.year}-01-01", f"{args.year}-12-31", seed=7)
    ways = {"frame": lambda path: prepare_bars(load_bars(path, instrument="ES"), "ES"),
            "direct": lambda path: bars_from_files(
                path, LoadOptions.checked(str(path), instrument="ES"))}
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, writer in LAYOUTS.items():
            path = writer(frame, Path(folder) / name)
            times = {way: [] for way in ways}
            for way in ways.values():  # warm: imports, page cache
                way(path)
            for _ in range(args.repeat):
                for way, load in ways.items():
                    started = time.perf_counter()
                    load(path)
                    times[way].append(time.perf_counter() - started)
            out[name] = {way: {"median_s": round(statistics.median(t), 4),
                               "min_s": round(min(t), 4), "max_s": round(max(t), 4)}
                         for way, t in times.items()}
            out[name]["direct_vs_frame"] = round(statistics.median(times["direct"])
                                                 / statistics.median(times["frame"]), 2)
    print(json.dumps({"bars": len(frame), "repeat": args.repeat, "layouts": out}, indent=1))


if __name__ == "__main__":
    main()
