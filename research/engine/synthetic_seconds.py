"""A 1-second random walk and the same walk as minute bars: a known answer for fill bounds.

One price per second, moving one tick up or down, or not trading (no record, like
Databento's ohlcv-1s). Every second is a single price, so no second can be ambiguous and a
replay on these seconds decides every trade; the minute bars are the seconds aggregated
(first, highest, lowest, last), stamped at the minute's start. The walk runs through every
weekday's 24 hours, Chicago time.

>>> minutes, seconds = synthetic_second_bars("ES", "2024-03-05", "2024-03-05", seed=1)
>>> len(minutes), bool((seconds["high"] == seconds["low"]).all())
(1440, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.engine.clock import CHICAGO, NS_PER_MINUTE
from research.engine.instruments import INSTRUMENTS

SECONDS_PER_DAY = 86_400
NO_TRADE_SHARE = 0.3  # seconds without a trade: no record
START_POINTS = {"ES": 5000.0, "MES": 5000.0, "NQ": 18000.0, "CL": 80.0}


def synthetic_second_bars(instrument: str, start: str, end: str,
                          seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(minute bars, 1-second bars) of one walk over the weekdays from `start` to `end`,
    as frames shaped like `load_bars`' (timestamp in Chicago, open/high/low/close,
    instrument)."""
    spec = INSTRUMENTS[instrument]
    days = pd.bdate_range(start, end)
    midnights = np.asarray([pd.Timestamp(day, tz=CHICAGO).value for day in days], np.int64)
    stamps = (midnights[:, None] + np.arange(SECONDS_PER_DAY) * 1_000_000_000).ravel()
    rng = np.random.default_rng(seed)
    traded = rng.random(len(stamps)) >= NO_TRADE_SHARE
    steps = np.where(traded, rng.choice(np.array([-1, 1]), size=len(stamps)), 0)
    start_ticks = round(START_POINTS.get(instrument, 1000.0) / spec.tick)
    ticks = start_ticks + np.cumsum(steps)
    stamps, ticks = stamps[traded], ticks[traded]
    seconds = _frame(instrument, stamps, ticks, ticks, ticks, ticks, spec.tick)
    minute = stamps // NS_PER_MINUTE
    starts = np.flatnonzero(np.concatenate([[True], np.diff(minute) > 0]))
    ends = np.concatenate([starts[1:], [len(stamps)]]) - 1
    minutes = _frame(instrument, minute[starts] * NS_PER_MINUTE, ticks[starts],
                     np.maximum.reduceat(ticks, starts), np.minimum.reduceat(ticks, starts),
                     ticks[ends], spec.tick)
    return minutes, seconds


def _frame(instrument: str, stamps: np.ndarray, *prices_and_tick: np.ndarray | float,
           ) -> pd.DataFrame:
    *prices, tick = prices_and_tick
    frame = pd.DataFrame({"timestamp": pd.to_datetime(stamps, utc=True).tz_convert(CHICAGO)})
    for name, ticks in zip(("open", "high", "low", "close"), prices, strict=True):
        frame[name] = np.round(np.asarray(ticks) * tick, 6)
    frame["instrument"] = instrument
    return frame
