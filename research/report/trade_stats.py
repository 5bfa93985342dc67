"""What the report derives from one combo's stored trades: the outcome mix and the cost
sensitivity (net $ at 0-3 ticks of slippage), both without re-running the engine.

A trade's cost is ``contracts x (commission + 2 x slippage_ticks x tick value)``
(engine/costs.py), so the net $ at another slippage is the stored gross $ less that cost
for every traded row; NoTrade rows cost nothing.

>>> trades = pd.DataFrame({"result": ["Win", "Loss", "NoTrade"], "slot": ["09:30"] * 3,
...                        "date": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
...                        "gross_usd": [500.0, -250.0, 0.0]})
>>> setting = CostSetting(contracts=1, commission_usd=2.5, slippage_ticks=0)
>>> cost_sensitivity(trades, setting, tick_value_usd=12.5)[["slippage_ticks", "net_usd"]]
   slippage_ticks  net_usd
0               0    245.0
1               1    195.0
2               2    145.0
3               3     95.0
>>> outcome_mix(trades, "weekday").loc["Tue"].tolist()
[1, 0, 0, 0, 0, 0, 1]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from research.engine.params import RunParams

OUTCOMES = ("Win", "BE", "Loss", "TIME", "OPEN", "NoTrade")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SLIPPAGE_TICKS = (0, 1, 2, 3)
_DEFAULTS = {f.name: f.default for f in fields(RunParams)}


@dataclass(frozen=True, slots=True)
class CostSetting:
    """A combo's cost parameters (RunParams' contracts, commission $, slippage ticks)."""

    contracts: int
    commission_usd: float
    slippage_ticks: int

    @classmethod
    def of_combo(cls, axis_values: Mapping[str, Any], base: Mapping[str, Any]) -> CostSetting:
        """From the combo's grid values, else the spec's base, else RunParams' defaults.

        >>> CostSetting.of_combo({"slippage_ticks": 2}, {"commission": 2.25})
        CostSetting(contracts=1, commission_usd=2.25, slippage_ticks=2)
        """
        def value(name: str) -> Any:
            given = axis_values.get(name)
            if given is None or (isinstance(given, float) and math.isnan(given)):
                given = base.get(name, _DEFAULTS[name])
            return given

        return cls(int(value("contracts")), float(value("commission")),
                   int(value("slippage_ticks")))


def cost_sensitivity(trades: pd.DataFrame, setting: CostSetting, tick_value_usd: float,
                     ticks: Sequence[int] = SLIPPAGE_TICKS) -> pd.DataFrame:
    """Per slippage (ticks per fill): costs $, net $, net $ per trade, and whether it is the
    combo's own setting. Sums are in integer cents, exact like the summary's."""
    traded = int((trades["result"].astype(str) != "NoTrade").sum())
    gross_cents = int(np.rint(trades["gross_usd"].to_numpy(np.float64) * 100).sum())
    commission_cents = round(setting.commission_usd * 100)
    tick_cents = round(tick_value_usd * 100)
    rows = []
    for slippage in ticks:
        costs = traded * setting.contracts * (commission_cents + 2 * slippage * tick_cents)
        net = (gross_cents - costs) / 100
        rows.append({"slippage_ticks": slippage, "costs_usd": costs / 100, "net_usd": net,
                     "per_trade_usd": net / traded if traded else 0.0,
                     "own_setting": slippage == setting.slippage_ticks})
    return pd.DataFrame(rows)


def outcome_mix(trades: pd.DataFrame, by: str) -> pd.DataFrame:
    """Counts of each outcome (OUTCOMES, then 'total') per slot or per weekday (`by`)."""
    if by == "weekday":
        codes = pd.DatetimeIndex(trades["date"]).day_of_week.to_numpy()
        present = np.unique(codes)
        names, groups = [WEEKDAYS[d] for d in present], np.searchsorted(present, codes)
    elif by == "slot":
        codes, labels = pd.factorize(trades["slot"].astype(str), sort=True)
        names, groups = [str(label) for label in labels], codes
    else:
        raise ValueError(f"outcome mix by {by!r}: use 'slot' or 'weekday'")
    codes, labels = pd.factorize(trades["result"].astype(str))
    label_outcome = np.array([OUTCOMES.index(v) if v in OUTCOMES else -1 for v in labels] + [-1])
    outcome = label_outcome[codes]
    known = outcome >= 0  # any other label counts only in the total
    counts = np.bincount(groups[known] * len(OUTCOMES) + outcome[known],
                         minlength=len(names) * len(OUTCOMES)).reshape(len(names), -1)
    table = pd.DataFrame(counts, index=pd.Index(names, name=by), columns=list(OUTCOMES))
    table["total"] = np.bincount(groups, minlength=len(names))
    return table.astype(np.int64)
