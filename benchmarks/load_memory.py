"""Peak memory of loading a large canonical CSV, as a multiple of the file's size (issue 19:
no more than ~2x). Prints JSON.

    python benchmarks/load_memory.py [--mb 1000] [--keep PATH]

Synthetic ES minute bars (research.synthetic_bars, from 1990 on, as many years as reach
--mb megabytes) are written once as a canonical CSV (tests/bar_writers.py); a fresh process
then imports research, notes its resident memory, calls ``load_bars`` and reports the peak
(``ru_maxrss``) above that baseline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
MB_PER_YEAR = 22.4  # canonical CSV of one year of synthetic ES minute bars
CHILD = """
import json, resource, sys, time
from research import load_bars
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
started = time.perf_counter()
bars = load_bars(sys.argv[1])
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"rows": len(bars), "baseline_bytes": base, "peak_bytes": peak,
                  "load_s": round(seconds, 2)}))
"""


def write_csv(path: Path, megabytes: float) -> None:
    sys.path.insert(0, str(ROOT))
    from research import synthetic_bars
    from tests.bar_writers import canonical_csv

    years = max(1, round(megabytes / MB_PER_YEAR))
    with path.open("w") as handle:
        for number, year in enumerate(range(1990, 1990 + years)):
            frame = synthetic_bars("ES", f"{year}-01-01", f"{year}-12-31", seed=year)
            part = path.with_suffix(".part")
            canonical_csv(frame, part)
            text = part.read_text()
            handle.write(text if number == 0 else text.split("\n", 1)[1])
            part.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=1000)
    parser.add_argument("--keep", type=Path, help="write (or reuse) the CSV here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "es.csv"
        if not path.exists():
            write_csv(path, args.mb)
        child = subprocess.run([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, check=True,
                               capture_output=True, text=True)
        found = json.loads(child.stdout)
        size = path.stat().st_size
    growth = found["peak_bytes"] - found["baseline_bytes"]
    print(json.dumps({"benchmark": "load_memory", "file_bytes": size, **found,
                      "peak_above_baseline_bytes": growth,
                      "peak_over_file_size": round(growth / size, 2)}, indent=2))


if __name__ == "__main__":
    main()
