"""Daily net $ matrices built from engine rows, and results folders made from them.

Until every sweep stores its daily matrix, the analysis tests build it themselves: each
combo (one slot x one target) runs through ``run_strategy``; its ``profit`` (points) x $50
(ES) summed per ``date`` over the data's weekday trading dates, 0 where it did not trade.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research import RunParams, prepare_bars, run_strategy
from research.engine.clock import NS_PER_DAY, weekday_of
from research.engine.sessions import ALL_SLOTS, session_of_slot
from research.results.daily import CENTS_PER_DOLLAR, DAILY, day_numbers, write_daily
from research.results.store import MANIFEST, SUMMARY

ES_USD_PER_POINT = 50.0


def engine_daily(frame: pd.DataFrame, slots: Sequence[str] = ALL_SLOTS,
                 targets: Sequence[int] = (10, 15, 20)
                 ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[Any]]]:
    """(daily, params, axes) of the grid slot x target on ES bars `frame`."""
    bars = prepare_bars(frame, "ES")
    days = np.unique(bars.trading_day).astype(np.int64)
    days = days[weekday_of(days) < 5]
    dates = pd.DatetimeIndex((days * NS_PER_DAY).view("M8[ns]"), name="date")
    columns, rows = {}, []
    for slot, target in itertools.product(slots, targets):
        session = session_of_slot(slot)
        params = RunParams(instrument="ES", enabled_sessions=[session],
                           enabled_slots={session: [slot]}, target=target)
        trades = run_strategy(bars, params, parallel=False)
        usd = trades.groupby("date")["profit"].sum() * ES_USD_PER_POINT
        columns[params.combo_id] = usd.reindex(dates, fill_value=0.0).to_numpy()
        rows.append({"combo_id": params.combo_id, "slot": slot, "target": target})
    daily = pd.DataFrame(columns, index=dates)
    daily.columns.name = "combo_id"
    table = pd.DataFrame(rows).set_index("combo_id")
    return daily, table, {"slot": list(slots), "target": list(targets)}


def write_results_folder(root: Path, daily: pd.DataFrame, params: pd.DataFrame,
                         axes: Mapping[str, Sequence[Any]], *, combos_failed: int = 0,
                         analysis: Mapping[str, Any] | None = None) -> Path:
    """A results folder as a sweep leaves it: summary.parquet, daily.parquet, manifest."""
    root.mkdir(parents=True, exist_ok=True)
    summary = params.reset_index().rename(columns={"index": "combo_id"})
    summary["total_profit"] = daily.sum().to_numpy() / ES_USD_PER_POINT
    summary.to_parquet(root / SUMMARY, index=False)
    cents = np.rint(daily.to_numpy().T * CENTS_PER_DOLLAR).astype(np.int64)
    write_daily(root / DAILY, list(daily.columns), day_numbers(daily.index), cents)
    spec: dict[str, Any] = {"name": root.name, "grid": {k: list(v) for k, v in axes.items()}}
    if analysis is not None:
        spec["analysis"] = dict(analysis)
    manifest = {"spec": spec, "combos_ok": daily.shape[1], "combos_failed": combos_failed}
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return root
