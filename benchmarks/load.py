"""Loading one year of ES in every vendor layout, against today's canonical CSV: prints JSON.

    python benchmarks/load.py [--repeat 5] [--year 2024]

The same synthetic bars are written once per layout (tests/bar_writers.py) into a temporary
folder; each file is then loaded with `load_bars` (format auto) `--repeat` times, the layouts
interleaved so machine noise hits them alike. Figures: seconds (median, min, max) per layout,
and the median's ratio to the canonical CSV's median (the goal: every layout within 2x).
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

from research import load_bars, synthetic_bars  # noqa: E402
from tests import bar_writers as write  # noqa: E402

LAYOUTS = {
    "canonical.csv": write.canonical_csv,
    "canonical.parquet": write.canonical_parquet,
    "databento-raw.csv": write.databento_csv,
    "databento-pretty.csv": lambda df, path: write.databento_csv(df, path, raw=False),
    "databento-raw.parquet": write.databento_parquet,
    "glbx.dbn.zst": lambda df, path: write.databento_dbn(df, path, zstd=True),
    "ES 12-24.Last.txt": write.ninjatrader,
    "ESZ24.txt": write.sierrachart,
    "ES.txt": write.kibot,
    "ES_Z24_1min.txt": write.firstrate,
    "ES_generic.csv.gz": write.generic_semicolon,
}
KEYS = {"ES_generic.csv.gz": {"columns": write.GENERIC_COLUMNS}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args()
    frame = synthetic_bars("ES", f"{args.year}-01-01", f"{args.year}-12-31", seed=7)
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for name, writer in LAYOUTS.items():
            try:
                files[name] = writer(frame, Path(folder) / name)
            except ImportError:  # the DBN writer needs the databento extra
                continue
        timings = {name: [] for name in files}
        for name, path in files.items():  # warm: imports, page cache
            load_bars(path, **KEYS.get(name, {}))
        for _ in range(args.repeat):
            for name, path in files.items():
                started = time.perf_counter()
                load_bars(path, **KEYS.get(name, {}))
                timings[name].append(time.perf_counter() - started)
    base = statistics.median(timings["canonical.csv"])
    print(json.dumps({"bars": len(frame), "repeat": args.repeat, "layouts": {
        name: {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
               "max_s": round(max(times), 4),
               "vs_canonical_csv": round(statistics.median(times) / base, 2)}
        for name, times in timings.items()}}, indent=1))


if __name__ == "__main__":
    main()
