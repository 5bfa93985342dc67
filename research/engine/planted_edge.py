"""A planted edge: a test device that gives one slot's breakouts real follow-through.

Synthetic bars are a driftless random walk, so no combo has an edge and a robustness
analysis must say so. To test that it also finds an edge where there is one,
``synthetic_bars(..., edge=PlantedEdge(...))`` plants one: on a seeded share of the trading
dates, once the edge slot's opening range breaks out (docs/engine.md §6-7, found by the
engine's own range and entry stages: one tick beyond the range of [session start, slot),
the first touch up to the market close, a bar touching both sides is no breakout), the
walk drifts in the breakout's direction for the next `minutes` bars. The walk stays
continuous (each bar opens where the previous one closed), so every later bar carries the
drift added so far: on each date the bars up to its breakout bar differ from the edge-free
walk by one constant, so the edge slot's ranges, breakout bars and directions, and every
range that ends before the edge slot, are exactly the edge-free walk's (nothing after a
breakout leaks into its range; ranges of later slots contain the drift, which came first).
Bars before the first planted breakout are untouched. Combos trading
the edge slot have a real edge; the others only what overlaps with its drift. Not a model
of any market. The defaults (80 % of the dates, 3 ticks a bar for 20 bars on 09:30) make an
edge that a year of ES shows clearly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.engine.data import prepare_bars
from research.engine.entry import detect_entries
from research.engine.params import RunParams
from research.engine.ranges import RangeRules, build_slot_ranges
from research.engine.sessions import ALL_SLOTS, session_of_slot
from research.errors import DataError

EDGE_STREAM = 0xED6E  # the edge's random draws: a stream apart from the bars' own
MAX_DRIFT_MINUTES = 360  # so the drift ends before the next trading date's ranges begin


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantedEdge:
    """Where and how strong the planted edge is (a test device, see the module).

    - ``slot``: the slot whose breakouts are followed through (one of ALL_SLOTS);
    - ``share``: the share of trading dates that get the drift, drawn from the seed;
    - ``drift_ticks_per_minute``: the drift, in ticks per bar, in the breakout's direction;
    - ``minutes``: how many bars after the breakout bar it lasts (1..MAX_DRIFT_MINUTES).

    >>> PlantedEdge(slot="09:30", share=0.5).minutes
    20
    """

    slot: str = "09:30"
    share: float = 0.8
    drift_ticks_per_minute: float = 3.0
    # Short: a drift still running at the next slot's start leaks the edge into its trades.
    minutes: int = 20

    def __post_init__(self) -> None:
        if self.slot not in ALL_SLOTS:
            raise DataError(f"edge.slot: {self.slot!r} is not one of {', '.join(ALL_SLOTS)}")
        if isinstance(self.share, bool) or not isinstance(self.share, (int, float)) \
                or not 0 <= self.share <= 1:
            raise DataError(f"edge.share: {self.share!r} is not a number from 0 to 1")
        drift = self.drift_ticks_per_minute
        if isinstance(drift, bool) or not isinstance(drift, (int, float)) \
                or not math.isfinite(drift) or drift < 0:
            raise DataError(f"edge.drift_ticks_per_minute: {drift!r} is not a number >= 0")
        if isinstance(self.minutes, bool) or not isinstance(self.minutes, int) \
                or not 1 <= self.minutes <= MAX_DRIFT_MINUTES:
            raise DataError(f"edge.minutes: {self.minutes!r} is not an integer from 1 to "
                            f"{MAX_DRIFT_MINUTES}")


def plant_edge(frame: pd.DataFrame, edge: PlantedEdge, seed: int) -> pd.DataFrame:
    """`frame` (one instrument's bars in time order, as synthetic_bars makes them) with the
    edge planted; the same frame, edge and seed give the same bars.

    >>> from research.engine.synthetic import synthetic_bars
    >>> plain = synthetic_bars("ES", "2024-03-04", "2024-03-08", seed=2)
    >>> planted = plant_edge(plain, PlantedEdge(share=1.0), seed=2)
    >>> planted.shape == plain.shape, bool(planted["timestamp"].equals(plain["timestamp"]))
    (True, True)
    """
    instrument = str(frame["instrument"].iloc[0])
    bars = prepare_bars(frame, instrument)
    if len(bars) != len(frame):
        raise DataError("plant_edge: needs one instrument's bars in time order, without "
                        "duplicates (as synthetic_bars makes them)")
    start, direction = _drift_starts(bars, instrument, edge, seed)
    close_shift = _cumulative_drift(len(bars), start, direction, edge)
    open_shift = np.concatenate(([0], close_shift[:-1]))  # a bar opens at the last close
    ticks = {"open": bars.open_ticks + open_shift, "close": bars.close_ticks + close_shift,
             "high": bars.high_ticks + np.maximum(open_shift, close_shift),
             "low": np.maximum(bars.low_ticks + np.minimum(open_shift, close_shift), 1)}
    spec = bars.instrument
    return frame.assign(**{name: np.round(values * spec.tick, spec.decimals)
                           for name, values in ticks.items()})


def _drift_starts(bars, instrument: str, edge: PlantedEdge,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The first bar after each chosen date's breakout, and the breakout's direction."""
    session = session_of_slot(edge.slot)
    params = RunParams(instrument=instrument, enabled_sessions=(session,),
                       enabled_slots={session: (edge.slot,)})
    ranges = build_slot_ranges(bars, RangeRules.from_params(params))
    entries = detect_entries(bars, ranges)
    rng = np.random.default_rng(np.random.SeedSequence([seed, EDGE_STREAM]))
    chosen = (rng.random(len(ranges)) < edge.share) & (entries.direction != 0)
    return entries.bar_idx[chosen] + 1, entries.direction[chosen].astype(np.float64)


def _cumulative_drift(n_bars: int, start: np.ndarray, direction: np.ndarray,
                      edge: PlantedEdge) -> np.ndarray:
    """int64 ticks added to each bar's close: the drift so far, ramps of `minutes` bars."""
    slope = np.zeros(n_bars + 1)
    np.add.at(slope, np.minimum(start, n_bars), direction * edge.drift_ticks_per_minute)
    np.add.at(slope, np.minimum(start + edge.minutes, n_bars),
              -direction * edge.drift_ticks_per_minute)
    return np.rint(np.cumsum(np.cumsum(slope)[:n_bars])).astype(np.int64)
