"""Shared test helpers: bars built from tick arrays, random bars and params for property
tests, small sweep specs, output digests and the CLI in a subprocess."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from research.engine.bars import Bars
from research.engine.clock import NS_PER_MINUTE, chicago_to_utc_ns
from research.engine.instruments import INSTRUMENTS
from research.engine.params import RunParams
from research.research_runner import ResearchRunner
from research.spec.grid import load_spec, spec_from_dict

ROOT = Path(__file__).parents[1]
GOLDEN_DIR = Path(__file__).parent / "golden"
OUTPUTS = ("summary.csv", "trades.parquet")


def bars_from_ticks(symbol: str, day0: int, minutes: np.ndarray, open_: np.ndarray,
                    high: np.ndarray, low: np.ndarray, close: np.ndarray) -> Bars:
    """Bars at Chicago wall-clock `minutes` counted from midnight of calendar day `day0`."""
    minutes = np.asarray(minutes, dtype=np.int64)
    days = day0 + minutes // 1440
    minute_of_day = minutes % 1440
    ts = chicago_to_utc_ns(days, minute_of_day)
    order = np.argsort(ts, kind="stable")
    # Wall times skipped by a DST change collapse onto one stamp: keep the first.
    order = order[np.concatenate([[True], np.diff(ts[order]) > 0])]
    trading_day = days + (minute_of_day >= 23 * 60)
    minute_of_day = (ts - chicago_to_utc_ns(days, 0)) // NS_PER_MINUTE % 1440
    as_int = [np.asarray(a, dtype=np.int64)[order] for a in (open_, high, low, close)]
    return Bars(INSTRUMENTS[symbol], ts[order], *as_int,
                minute_of_day=minute_of_day[order].astype(np.int16),
                trading_day=trading_day[order].astype(np.int32))


MONDAY = (dt.date(2024, 3, 4) - dt.date(1970, 1, 1)).days  # the week of the March DST change


@st.composite
def random_bars(draw):
    """A few days of minute bars: random gaps, a small-step walk that often touches levels
    exactly, ties between high/low and levels, and instruments with decimal ticks."""
    symbol = draw(st.sampled_from(["ES", "MES", "CL", "NG", "GC", "YM", "M2K"]))
    n_days = draw(st.integers(1, 6))
    n = draw(st.integers(20, 400))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    start = draw(st.integers(0, 1440))
    gaps = rng.choice([1, 1, 1, 2, 5, 30, 120], size=n)
    minutes = start + np.cumsum(gaps) * max(1, (n_days * 1440) // (n * 3))
    step = draw(st.integers(1, 4))
    mid = 10_000 + np.cumsum(rng.integers(-step, step + 1, size=n))
    up = rng.integers(0, 2 * step + 1, size=n)
    down = rng.integers(0, 2 * step + 1, size=n)
    high, low = mid + up, mid - down
    open_ = np.clip(mid + rng.integers(-step, step + 1, size=n), low, high)
    close = np.clip(mid + rng.integers(-step, step + 1, size=n), low, high)
    return bars_from_ticks(symbol, MONDAY, minutes, open_, high, low, close)


@st.composite
def random_params(draw, symbol: str):
    target_ticks = draw(st.integers(1, 12))
    return RunParams(
        instrument=symbol,
        target=float(np.round(target_ticks * RunParams(instrument=symbol).spec.tick, 6)),
        t1_fraction=draw(st.sampled_from([0.05, 0.3, 0.5, 0.65, 0.99, 1.0])),
        stop_cap_multiple=draw(st.sampled_from([0.5, 1.0, 3.0, 20.0] if target_ticks > 1
                                               else [1.0, 3.0])),
        market_close=draw(st.sampled_from(["16:00", "09:45", "23:59", "12:00"])),
        target_mode=draw(st.sampled_from(["fixed", "time"])),
        trade_days=draw(st.sampled_from([(0, 1, 2, 3, 4), (1, 3), (4,)])),
        write_no_trade_rows=draw(st.booleans()),
    )


def small_spec(name="small", **grid):
    """Two months of synthetic ES and 16 combos (or the `grid` given)."""
    return spec_from_dict({
        "name": name,
        "data": {"synthetic": {"instrument": "ES", "start": "2024-03-01", "end": "2024-04-30",
                               "seed": 3}},
        "base": {"instrument": "ES"},
        "grid": grid or {"slot": ["07:30", "10:00"], "target": [10, 15],
                         "t1_fraction": [0.5, 0.65], "target_mode": ["fixed", "time"]},
    })


def digests(path: Path, names=OUTPUTS) -> dict[str, str]:
    """sha256 of a results folder's compacted files."""
    return {name: hashlib.sha256((path / name).read_bytes()).hexdigest() for name in names}


def cli(*args, module="research.cli.sweep", **kwargs) -> subprocess.Popen:
    """`python -m research.sweep ARGS` (or another module) in the repository root."""
    return subprocess.Popen([sys.executable, "-m", module, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, **kwargs)


def children_of(pid: int) -> list[int]:
    """The pids whose parent is `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def loky_workers(parent: int) -> list[int]:
    """`parent`'s loky worker processes (not its resource trackers), from /proc."""
    found = []
    for pid in children_of(parent):
        try:
            if b"LokyProcess" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:  # ended meanwhile
            continue
    return found


def seven_slot_spec(name: str, end: str) -> str:
    """The fault and crash tests' sweep: 168 combos, 7 slots, synthetic ES from 2024-01-01."""
    return f"""
name: {name}
data:
  synthetic: {{instrument: ES, start: 2024-01-01, end: {end}, seed: 7}}
base: {{instrument: ES}}
grid:
  slot: ["07:30", "08:00", "09:00", "09:30", "10:00", "10:30", "11:00"]
  target: [10, 15, 20, 25]
  t1_fraction: [0.5, 0.65, 0.8]
  stop_cap_multiple: [1.0, 3.0]
"""


def spec_and_clean_run(folder: Path, name: str, spec_text: str):
    """The spec written to `folder`, and its run in-process, sequentially: the reference."""
    spec_path = folder / f"{name}.yaml"
    spec_path.write_text(spec_text)
    clean = ResearchRunner(results_dir=folder / "clean", backend="sequential",
                           progress=False).run_spec(load_spec(spec_path))
    return spec_path, clean


def wait_for_first_shard(folder: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Block until a sweep writing `folder` has published a shard (or fail the test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if any(folder.glob("shards/*.summary.parquet")):
            return
        time.sleep(0.01)
    raise AssertionError("no shard appeared: " + (proc.communicate()[1] if proc.poll() else ""))
