"""The prepared-bars cache: reading files without it, cold, warm and stale: prints JSON.

    python -m benchmarks.bars_cache [--repeat 5] [--quick]

Two data sets, written once into a temporary folder (tests/bar_writers.py): one year of
synthetic ES as a Kibot text file, and seven months of synthetic NQ as one Databento CSV
file per trading date (about 150 files; --quick: one month of ES, ten daily files). Each
is loaded as a sweep loads it (`research.spec.bars_cache.cached_bars`, the spec's
options), four ways, alternating within each repeat so machine noise hits them alike:

- ``files``: the cache off (what every sweep paid before it; the "first read");
- ``cold``: an empty cache folder: the files read, then the entry written;
- ``warm``: the entry there: read from the cache (the goal: <= 10 % of ``files``);
- ``stale``: one file touched (its mtime moved) since the entry was written: read again.

Figures: seconds (median, min, max) per way and data set, and each way's median ratio to
``files`` with the range of the per-repeat ratios. The bars of every way are checked equal
(their data fingerprint).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.bar_writers

import pandas as pd  # noqa: E402

from research import synthetic_bars  # noqa: E402
from research.engine.clock import CHICAGO  # noqa: E402
from research.engine.formats.options import LoadOptions  # noqa: E402
from research.results.provenance import bars_fingerprint  # noqa: E402
from research.spec.bars_cache import CacheSettings, cached_bars  # noqa: E402
from tests import bar_writers as write  # noqa: E402

WAYS = ("files", "cold", "warm", "stale")


def kibot_year(folder: Path, quick: bool) -> tuple[Path, str]:
    end = "2024-01-31" if quick else "2024-12-31"
    frame = synthetic_bars("ES", "2024-01-01", end, seed=7)
    return write.kibot(frame, folder / "ES.txt"), "ES"


def databento_days(folder: Path, quick: bool) -> tuple[Path, str]:
    """One raw Databento OHLCV-1m CSV per trading date, named as Databento names them."""
    end = "2024-06-14" if quick else "2024-12-31"
    frame = synthetic_bars("NQ", "2024-06-03", end, seed=11).assign(contract="NQU4")
    days = frame["timestamp"].dt.tz_convert(CHICAGO)
    label = (days + pd.Timedelta(hours=1)).dt.strftime("%Y%m%d")  # 17:00 opens the next date
    out = folder / "nq-daily"
    out.mkdir()
    for day, rows in frame.groupby(label, sort=True):
        write.databento_csv(rows, out / f"glbx-mdp3-{day}.ohlcv-1m.csv")
    return out, "NQ"


def timed(path: Path, options: LoadOptions, settings: CacheSettings) -> tuple[float, str]:
    started = time.perf_counter()
    bars = cached_bars(path, options, settings)
    return time.perf_counter() - started, bars_fingerprint(bars)


def measure(path: Path, instrument: str, scratch: Path, repeat: int) -> dict:
    options = LoadOptions.checked(str(path), instrument=instrument)
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    prints = set()
    timed(path, options, CacheSettings(enabled=False))  # warm: imports, compiles, page cache
    for rep in range(repeat):
        folder = CacheSettings(folder=str(scratch / f"cache-{rep}"))
        for way in WAYS:
            if way == "stale":
                os.utime(files[len(files) // 2])  # now: another fingerprint for that file
            settings = CacheSettings(enabled=False) if way == "files" else folder
            seconds, fingerprint = timed(path, options, settings)
            times[way].append(seconds)
            prints.add(fingerprint)
    if len(prints) != 1:
        raise RuntimeError("the bars differ between the ways: the cache changed them")
    base = times["files"]
    megabytes = round(sum(file.stat().st_size for file in files) / 1e6, 1)
    out = {"n_files": len(files), "megabytes": megabytes}
    for way, seconds in times.items():
        ratios = [s / b for s, b in zip(seconds, base, strict=True)]
        out[way] = {"median_s": round(statistics.median(seconds), 4),
                    "min_s": round(min(seconds), 4), "max_s": round(max(seconds), 4),
                    "vs_files": round(statistics.median(seconds) / statistics.median(base), 3),
                    "vs_files_range": [round(min(ratios), 3), round(max(ratios), 3)]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="one month of ES, ten daily NQ files, two repeats")
    args = parser.parse_args()
    repeat = 2 if args.quick else args.repeat
    result = {"repeat": repeat, "quick": args.quick, "load_average": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root)
        for name, make in (("kibot_year", kibot_year), ("databento_daily", databento_days)):
            path, instrument = make(folder, args.quick)
            result[name] = measure(path, instrument, folder / f"scratch-{name}", repeat)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
