"""A sweep over a two-contract roll: what each combo makes, and how fast: prints JSON.

    python benchmarks/roll.py [--out DIR] [--repeat 3]

The fixture: four weeks of synthetic NQ written as a Databento file of two contracts, NQZ4
250 points above NQU4 (as in September 2024), with volumes that roll on the session that
opens Sunday 2024-09-15 17:00, so Friday's trades are still open at the roll. The sweep:
every ladder target x stop-cap multiple, all slots. Figures: per combo net $, trades and
the rows dated Friday 2024-09-13 (the ones across the roll), the total, and the best-of
run time of the whole sweep and of one year of single-contract ES (the kernel's speed
where there is no roll). Run it on two checkouts to compare them side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.bar_writers, benchmarks
from benchmarks.engine import best_of  # noqa: E402

SHIFT_POINTS = 250.0
ROLL_EVE = "2024-09-13"  # the old contract's last trade date


def fixture(folder: Path) -> Path:
    from research import synthetic_bars
    from tests import bar_writers as write

    old = synthetic_bars("NQ", "2024-09-02", "2024-09-27", seed=11)
    wall = old["timestamp"].dt.tz_localize(None)
    label = (wall + pd.Timedelta(hours=1)).dt.normalize()  # 23:00 carries the next date
    early = (label <= pd.Timestamp("2024-09-12")).to_numpy()  # votes for the day after
    old = old.assign(contract="NQU4", volume=np.where(early, 1000, 10))
    new = old.assign(contract="NQZ4", volume=np.where(early, 10, 1000),
                     **{name: old[name] + SHIFT_POINTS for name in ("open", "high", "low",
                                                                   "close")})
    return write.databento_csv(pd.concat([old, new], ignore_index=True), folder / "glbx.csv")


def sweep(bars) -> list[dict]:
    from research import RunParams, run_strategy

    rows = []
    for target in bars.instrument.ladder:
        for cap in (1.0, 3.0):
            rp = RunParams(instrument="NQ", target=target, stop_cap_multiple=cap)
            frame = run_strategy(bars, rp, parallel=False)
            traded = frame[frame["result"] != "NoTrade"]
            eve = traded[traded["date"] == pd.Timestamp(ROLL_EVE)]
            rows.append({"target": target, "stop_cap_multiple": cap,
                         "trades": len(traded), "net_usd": round(float(traded["net_usd"].sum()), 2),
                         "roll_eve_exits": [round(float(p), 2) for p in eve["exit_price"]],
                         "roll_eve_net_usd": round(float(eve["net_usd"].sum()), 2)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from research import RunParams, load_bars, prepare_bars, run_strategy, synthetic_bars

    with tempfile.TemporaryDirectory() as folder:
        path = fixture(Path(folder))
        frame = load_bars(path, instrument="NQ")
        bars = prepare_bars(frame, "NQ")
        combos = sweep(bars)
        sweep_s = best_of(args.repeat, lambda: sweep(bars))
    year = synthetic_bars("ES", "2023-01-01", "2023-12-31", seed=7)
    es = prepare_bars(year, "ES")
    run_strategy(es, RunParams(instrument="ES"), parallel=False)  # compiled
    year_s = best_of(args.repeat, lambda: run_strategy(es, RunParams(instrument="ES"),
                                                       parallel=False))
    print(json.dumps({"rows_loaded": len(frame), "bars": len(bars),
                      "held_bars": int(getattr(bars, "held_bars", 0)),
                      "total_net_usd": round(sum(c["net_usd"] for c in combos), 2),
                      "sweep_s": round(sweep_s, 3), "es_year_run_strategy_s": round(year_s, 3),
                      "combos": combos}, indent=1))


if __name__ == "__main__":
    main()
