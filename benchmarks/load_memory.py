"""Peak memory of loading a large CSV, as a multiple of the file's size (issue 19: no more
than ~2x). Prints JSON.

    python -m benchmarks.load_memory [--mb 100 500 1000] [--layouts canonical kibot]
                                     [--paths frame bars inspector] [--keep-dir DIR]
                                     [--code DIR] [--quick]

Synthetic ES minute bars (research.synthetic_bars, from 1990 on, as many years as reach
each --mb size) are written once per layout and size: the canonical CSV with Chicago
offsets, and Kibot's ``MM/DD/YYYY,HH:MM,...`` in US/Eastern as ``ES.txt``. They go into a
temporary folder deleted at the end (``--keep-dir`` keeps and reuses them). For each file
and load path a fresh process imports research, resets its peak
(``/proc/self/clear_refs``), loads, and reads its peak resident memory (``VmHWM``); the
figure is that peak above the memory right after the imports, over the file's size.

The paths: ``frame`` is ``load_bars``, ``bars`` ``bars_from_files`` (a sweep's load),
``inspector`` the data inspector's screen (``research-data``: the loader's arrays,
then each instrument's Bars, as ``data.bars_by_symbol`` makes them). ``--code DIR`` runs
the child in another checkout of the repository (a before/after comparison).

Linux only (``/proc``): elsewhere the peak is ``ru_maxrss``, which a child inherits from
its parent at fork and so reads high.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).parents[1]
MB_PER_YEAR = {"canonical": 22.4, "kibot": 18.6}  # one year of synthetic ES minute bars
FILE_NAMES = {"canonical": "es.csv", "kibot": "ES.txt"}
CHILD = """
import json, os, resource, sys, time
def memory():
    try:
        with open("/proc/self/status") as status:
            found = dict(line.split(":", 1) for line in status)
        return (int(found["VmRSS"].split()[0]) * 1024, int(found["VmHWM"].split()[0]) * 1024)
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return peak, peak
import research
from research.engine.data import bars_from_files
from research.engine.formats.options import LoadOptions
from research.cli.data_inspector import inspect
path, how = sys.argv[1], sys.argv[2]
try:
    with open("/proc/self/clear_refs", "w") as reset:
        reset.write("5")  # the peak so far becomes the memory now
except OSError:
    pass
base, _ = memory()
started = time.perf_counter()
if how == "frame":
    rows = len(research.load_bars(path))
elif how == "bars":
    rows = len(bars_from_files(path, LoadOptions.checked(path, instrument="ES")))
else:
    rows = len(inspect(path).splitlines())
seconds = time.perf_counter() - started
_, peak = memory()
print(json.dumps({"rows": rows, "baseline_bytes": base, "peak_bytes": peak,
                  "load_s": round(seconds, 2)}))
"""


def layout_table(frame: pd.DataFrame, layout: str, seed: int) -> pd.DataFrame:
    """One year of bars in `layout`'s columns, text stamps made by numpy (as
    tests/bar_writers.py writes them, but fast enough for a gigabyte)."""
    stamps = frame["timestamp"]
    prices = {name: frame[name] for name in ("open", "high", "low", "close")}
    volume = np.random.default_rng(seed).integers(1, 2000, len(frame))
    if layout == "canonical":  # 2024-01-09 08:30:00-06:00 (Chicago, with its offset)
        wall = stamps.dt.tz_localize(None)
        offset = (wall - stamps.dt.tz_convert(None)).dt.total_seconds().to_numpy() // 60
        text = pd.Series(np.datetime_as_string(wall.to_numpy("datetime64[s]"), unit="s"))
        text = text.str.replace("T", " ") + np.where(offset == -360, "-06:00", "-05:00")
        return pd.DataFrame({"timestamp": text, **prices, "instrument": "ES",
                             "volume": volume})
    eastern = stamps.dt.tz_convert("America/New_York").dt.tz_localize(None)  # Kibot's clock
    text = pd.Series(np.datetime_as_string(eastern.to_numpy("datetime64[m]"), unit="m"))
    dates = text.str.slice(5, 7) + "/" + text.str.slice(8, 10) + "/" + text.str.slice(0, 4)
    return pd.DataFrame({"date": dates, "time": text.str.slice(11, 16), **prices,
                         "volume": volume})


def write_file(path: Path, layout: str, megabytes: float) -> None:
    """Synthetic ES bars of about `megabytes` in `layout`, a year at a time."""
    from research import synthetic_bars

    years = max(1, round(megabytes / MB_PER_YEAR[layout]))
    with path.open("w") as handle:
        for number, year in enumerate(range(1990, 1990 + years)):
            frame = synthetic_bars("ES", f"{year}-01-01", f"{year}-12-31", seed=year)
            layout_table(frame, layout, year).to_csv(
                handle, index=False, header=layout == "canonical" and number == 0)


def write_prefix(source: Path, path: Path, size_bytes: float) -> None:
    """The lines of `source` that fit in about `size_bytes` (whole lines, header kept)."""
    with source.open("rb") as big, path.open("wb") as small:
        small.write(big.read(int(size_bytes)))
        small.write(big.readline())  # to the end of the line cut


def measure(path: Path, how: str, code: Path) -> dict:
    child = subprocess.run([sys.executable, "-c", CHILD, str(path), how], cwd=code,
                           capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(code)})
    if child.returncode:
        raise SystemExit(f"{how} of {path} failed: {child.stderr[-2000:]}")
    found = json.loads(child.stdout.strip().splitlines()[-1])
    size = path.stat().st_size
    growth = found["peak_bytes"] - found["baseline_bytes"]
    return {"path": how, "file_bytes": size, **found, "peak_above_baseline_bytes": growth,
            "peak_over_file_size": round(growth / size, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--layouts", nargs="+", default=["canonical", "kibot"],
                        choices=sorted(FILE_NAMES))
    parser.add_argument("--paths", nargs="+", default=["frame", "bars", "inspector"],
                        choices=["frame", "bars", "inspector"])
    parser.add_argument("--keep-dir", type=Path, help="write (or reuse) the files here")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="the checkout whose research package loads (default: this one)")
    parser.add_argument("--quick", action="store_true", help="a 25 MB canonical CSV, frame only")
    args = parser.parse_args()
    if args.quick:
        args.mb, args.layouts, args.paths = [25], ["canonical"], ["frame"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep_dir or Path(tmp)
        for layout in args.layouts:
            files = {megabytes: folder / f"{layout}-{megabytes:g}mb" / FILE_NAMES[layout]
                     for megabytes in sorted(args.mb, reverse=True)}
            largest = None
            for megabytes, path in files.items():
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    if largest is None:
                        write_file(path, layout, megabytes)
                    else:  # the first years of the largest file: no second generation
                        write_prefix(largest, path, megabytes / max(files) * largest.stat().st_size)
                largest = largest or path
            for megabytes, path in sorted(files.items()):
                for how in args.paths:
                    results.append({"layout": layout, "mb": megabytes,
                                    **measure(path, how, args.code.resolve())})
                    print(json.dumps(results[-1]), file=sys.stderr, flush=True)  # progress
    print(json.dumps({"benchmark": "load_memory", "cpu_count": os.cpu_count(),
                      "load_average": os.getloadavg(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
