"""How honest level fills are on a data set: how far past a level the crossing bar closes.

The engine fills a breakout and a stop exactly at their level (docs/engine.md §7.3 Q3, §9.1):
a price the market offered only if prices move tick by tick. On coarse or fast bars the
first bar beyond a level often closes well past it, and a fill at the level is then better
than what a trader would get. This measures, once per data set, the distance in ticks
from each level to the close of the bar that first crosses it (positive: the bar closed
beyond the level, so the level fill was optimistic), for breakouts and for initial stops.
On a tick-by-tick random walk it is about 0.

>>> from research.engine.data import prepare_bars
>>> from research.engine.synthetic import synthetic_bars
>>> check = fill_check(prepare_bars(synthetic_bars("ES", "2024-01-08", "2024-02-09"), "ES"))
>>> check.breakouts.count > 0 and check.stops.count > 0
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numba
import numpy as np

from research.engine.bars import Bars
from research.engine.codes import LONG, NO_ENTRY
from research.engine.entry import detect_entries
from research.engine.execution import ExitRules
from research.engine.params import RunParams
from research.engine.ranges import RangeRules, build_slot_ranges

MATERIAL_TICKS = 1.0  # a mean distance from here up is worth a word next to the results


@dataclass(frozen=True, slots=True)
class Distances:
    """Level-to-close distances in ticks of one kind of fill."""

    count: int
    mean_ticks: float
    median_ticks: float

    @classmethod
    def of(cls, ticks: np.ndarray) -> Distances:
        if not len(ticks):
            return cls(0, 0.0, 0.0)
        return cls(len(ticks), round(float(ticks.mean()), 4), float(np.median(ticks)))


@dataclass(frozen=True, slots=True)
class FillCheck:
    """Breakout and stop fills of the instrument's default parameters on this data."""

    breakouts: Distances
    stops: Distances

    def to_dict(self) -> dict[str, Any]:
        return {"breakouts": asdict(self.breakouts), "stops": asdict(self.stops),
                "note": self.note()}

    def note(self) -> str | None:
        """A plain-words warning when level fills look optimistic here, else None."""
        worst = max((self.breakouts, "breakouts"), (self.stops, "stops"),
                    key=lambda kind: kind[0].mean_ticks)
        if worst[0].mean_ticks < MATERIAL_TICKS:
            return None
        ticks = worst[0].mean_ticks
        return (f"{worst[1]} close {ticks:.1f} ticks past the level on average: level fills "
                "may be optimistic here; net_usd_pessimistic fills a stop or breakout that a "
                "bar opens beyond at the open and sends every undecided bar against the trade")


def fill_check(bars: Bars, rp: RunParams | None = None) -> FillCheck:
    """Measure on `bars` with `rp` (default: the instrument's defaults, every slot)."""
    rp = rp or RunParams(instrument=bars.instrument.symbol)
    table = build_slot_ranges(bars, RangeRules.from_params(rp))
    entries = detect_entries(bars, table)
    traded = entries.direction != NO_ENTRY
    side = entries.direction.astype(np.int64)
    breakouts = ((bars.close_ticks[entries.bar_idx] - entries.price_ticks) * side)[traded]
    distance = np.minimum(table.range_size_ticks, ExitRules.from_params(rp).stop_cap_ticks)
    stop_level = entries.price_ticks - side * distance
    stops = _stop_crossings(bars.low_ticks, bars.high_ticks, bars.close_ticks,
                            entries.direction, entries.bar_idx, stop_level,
                            table.window_end_idx)
    return FillCheck(Distances.of(breakouts), Distances.of(stops[~np.isnan(stops)]))


@numba.njit(nogil=True, cache=True)
def _stop_crossings(low, high, close, direction, entry_idx, stop_level,
                    window_end_idx):  # pragma: no cover - compiled
    """Per range: (stop - close) x side at the first bar of the window reaching the initial
    stop, NaN where none does (or no entry)."""
    out = np.full(len(direction), np.nan)
    for r in range(len(direction)):
        side = direction[r]
        if side == NO_ENTRY:
            continue
        for i in range(entry_idx[r], window_end_idx[r]):
            reached = low[i] <= stop_level[r] if side == LONG else high[i] >= stop_level[r]
            if reached:
                out[r] = (stop_level[r] - close[i]) * side
                break
    return out
