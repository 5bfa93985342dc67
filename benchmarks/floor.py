"""The numba floor: a plain single-threaded numba loop of the rules, for a whole grid.

No sharing, no rows, no storage: for every combo, for every range, the range scan
(docs/engine.md §6), the first breakout (§7), the exit walk with T1 / break-even, target,
stop and window end (§8-§9), and the profit, summed per combo. It is the least a sweep of
that grid can cost in this language, so `benchmarks/sweep.py` reports the whole sweep as
a multiple of it. The calendar (each range's bar index bounds) is computed once, outside
the timed loop, with the engine's own range building.

    python -m benchmarks.floor [--spec sweeps/example_980.yaml] [--repeat 3]

(as a module: run as a script, numba cannot rebuild a cached kernel of `benchmarks.floor`)
"""

from __future__ import annotations

import argparse
import json
import time

import numba
import numpy as np

from research import prepare_bars, synthetic_bars
from research.engine.codes import BE, LOSS, OPEN, TIME, WIN
from research.engine.ranges import RangeRules, build_slot_ranges
from research.spec.grid import load_spec


def grid_arrays(spec_path: str):
    """Bars, and per combo its ranges' bounds and its exit parameters in ticks."""
    spec = load_spec(spec_path)
    bars = prepare_bars(synthetic_bars(**spec.data.synthetic_kwargs()), "ES")
    tables = {}
    combos = []
    for rp in spec.combos():
        rules = RangeRules.from_params(rp)
        if rules not in tables:
            tables[rules] = build_slot_ranges(bars, rules)
        table = tables[rules]
        combos.append((table, rp.target_ticks, rp.t1_threshold_ticks, rp.stop_cap_ticks))
    return bars, combos


def run_floor(bars, combos) -> np.ndarray:
    """Total profit ticks per combo."""
    out = np.zeros(len(combos), np.int64)
    for c, (table, target, t1, cap) in enumerate(combos):
        scan_end = np.searchsorted(bars.ts_ns, table.cutoff_ts_ns, side="right")
        out[c] = _combo(bars.high_ticks, bars.low_ticks, bars.close_ticks, bars.ts_ns,
                        table.start_idx, table.end_idx, scan_end, table.window_end_idx,
                        table.expiry_ts_ns, bars.last_ts_ns, target, t1, cap)
    return out


@numba.njit(nogil=True, cache=True)
def _combo(high, low, close, ts, start, end, scan_end, window_end, expiry, as_of, target_ticks,
           t1_ticks, cap_ticks):  # pragma: no cover - compiled
    total = 0
    for r in range(len(start)):
        range_high, range_low = high[start[r]], low[start[r]]
        for i in range(start[r], end[r]):
            range_high = max(range_high, high[i])
            range_low = min(range_low, low[i])
        long_level, short_level = range_high + 1, range_low - 1
        side, entry_idx, entry = 0, -1, 0
        for i in range(end[r], scan_end[r]):
            up, down = high[i] >= long_level, low[i] <= short_level
            if up and down:
                break
            if up or down:
                side = 1 if up else -1
                entry_idx, entry = i, (long_level if up else short_level)
                break
        if side == 0:
            continue
        tgt = entry + side * target_ticks
        stop = entry - side * min(range_high - range_low, cap_ticks)
        t1_fired, code, exit_px = False, 0, 0
        for i in range(entry_idx, window_end[r]):
            fav = high[i] - entry if side > 0 else entry - low[i]
            t1_bar = False
            if not t1_fired and fav >= t1_ticks:
                t1_fired, stop, t1_bar = True, entry - side, True
            hit_t = high[i] >= tgt if side > 0 else low[i] <= tgt
            hit_s = low[i] <= stop if side > 0 else high[i] >= stop
            if hit_s and t1_bar:
                hit_s = False
            if hit_t and hit_s:
                if abs(close[i] - tgt) < abs(close[i] - stop):
                    hit_s = False
                else:
                    hit_t = False
            if hit_t:
                code, exit_px = WIN, tgt
                break
            if hit_s:
                code, exit_px = (BE if t1_fired else LOSS), stop
                break
        if code == 0:
            exit_px = close[window_end[r] - 1]
            code = OPEN if expiry[r] > as_of else TIME
        total += (exit_px - entry) * side
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", default="sweeps/example_980.yaml")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bars, combos = grid_arrays(args.spec)
    run_floor(bars, combos[:1])  # compile (or load from numba's cache)
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        run_floor(bars, combos)
        times.append(time.perf_counter() - started)
    print(json.dumps({"benchmark": "floor", "spec": args.spec, "combos": len(combos),
                      "floor_s": {"median": round(float(np.median(times)), 3),
                                  "min": round(min(times), 3), "max": round(max(times), 3)}},
                     indent=2))


if __name__ == "__main__":
    main()
