"""Deterministic synthetic minute bars on the CME week: the embedded default data set.

The frame has the shape `load_bars` returns. Bars are stamped by their open minute from
Sunday 17:00 to Friday 16:00 Chicago with a daily 16:00-17:00 halt; the schedule is built in
Chicago wall time and localised, so it stays fixed across DST changes. A few holidays close a
whole session, a few end it at 12:00, and ~0.5% of minutes are missing at random. Prices are an
integer random walk in ticks with U-shaped intraday volatility that peaks just after 08:30.
Everything is vectorised and derives from `numpy.random.default_rng(seed)` only.

As a test device, ``edge=PlantedEdge(...)`` plants a real edge on one slot (see
``research.engine.planted_edge``); without it the bars are exactly those of the seed.
``tick_walk=True`` makes each minute tick-continuous: its high and low are the extremes of
a ±1-tick walk from its open to its close (so every price between them traded, and a level
order inside the bar's range was reachable), not independent wicks; the default (False)
gives exactly today's bars.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import MappingProxyType

import numpy as np
import pandas as pd

from research.engine.clock import (
    CHICAGO,
    EPOCH,
    MINUTES_PER_DAY,
    NS_PER_MINUTE,
    day_number,
    weekday_of,
)
from research.engine.data import DateLike, day_number_of, tradable_instrument
from research.engine.instruments import Instrument
from research.engine.planted_edge import PlantedEdge, plant_edge
from research.errors import DataError, InputTypeError, shorten

SESSION_OPEN_MINUTE = 17 * 60  # on the evening before the trading day
SESSION_CLOSE_MINUTE = 16 * 60
EARLY_CLOSE_MINUTE = 12 * 60
HALT_MINUTES = 60  # a gap longer than this starts a new session
MISSING_MINUTE_SHARE = 0.005
GAP_SIGMA_MINUTES = 8.0  # a session-opening gap moves like this many average minutes
EXCURSION_SHARE = 0.45  # mean wick beyond the body, as a share of the minute's sigma
PRICE_FLOOR_SHARE = 0.25  # the walk is reflected at this share of the base level
# synthetic_bars' defaults, also the defaults of a sweep spec's data.synthetic (grid.py).
SYNTHETIC_DEFAULTS = MappingProxyType({"start": "2024-01-01", "end": "2024-12-31", "seed": 7})
SYNTHETIC_DATE_RANGE = ("1678-01-01", "2261-12-31")  # inside pandas' ns range, session included
MAX_SYNTHETIC_YEARS = 20  # about 60 MB of frame per year while generating

# Base price level and daily volatility (as a share of price); micros trade like their base.
BASE_LEVEL: dict[str, float] = {"ES": 4800.0, "NQ": 17000.0, "YM": 38000.0, "CL": 75.0,
                                "NG": 2.5, "GC": 2000.0, "RTY": 2000.0}
DAILY_VOLATILITY: dict[str, float] = {"ES": 0.010, "NQ": 0.013, "YM": 0.009, "CL": 0.020,
                                      "NG": 0.030, "GC": 0.009, "RTY": 0.014}


def synthetic_bars(instrument: str = "ES", start: DateLike = SYNTHETIC_DEFAULTS["start"],
                   end: DateLike = SYNTHETIC_DEFAULTS["end"],
                   seed: int = SYNTHETIC_DEFAULTS["seed"], *,
                   edge: PlantedEdge | None = None, tick_walk: bool = False) -> pd.DataFrame:
    """Minute bars of `instrument` whose Chicago dates lie in [start, end]; same args, same frame.

    `edge` (a test device) plants follow-through after one slot's breakouts on a seeded
    share of the dates; None (the default) leaves the walk without any edge. `tick_walk`
    draws each minute's high and low as the extremes of a ±1-tick walk (see the module).

    >>> df = synthetic_bars("ES", "2024-01-08", "2024-01-12", seed=1)
    >>> list(df.columns)
    ['timestamp', 'open', 'high', 'low', 'close', 'instrument']
    >>> planted = synthetic_bars("ES", "2024-01-08", "2024-01-12", seed=1,
    ...                          edge=PlantedEdge(share=1.0))
    >>> bool((planted["close"] != df["close"]).any())
    True
    """
    spec = tradable_instrument(instrument, "synthetic_bars")
    first_day, last_day = check_synthetic_dates(start, end)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputTypeError(f"synthetic_bars: seed {shorten(seed)} is not an integer >= 0")
    if seed < 0:
        raise DataError(f"synthetic_bars: seed {seed} is not an integer >= 0")
    rng = np.random.default_rng(seed)
    wall_minutes = _schedule_wall_minutes(first_day, last_day)
    wall_minutes = wall_minutes[rng.random(wall_minutes.size) >= MISSING_MINUTE_SHARE]
    open_, high, low, close = _price_ticks(wall_minutes, spec, rng, tick_walk)
    stamps = pd.DatetimeIndex((wall_minutes * NS_PER_MINUTE).view("M8[ns]"))
    stamps = stamps.tz_localize(CHICAGO, ambiguous="raise", nonexistent="raise")
    frame = pd.DataFrame({
        "timestamp": stamps,
        **{name: np.round(ticks * spec.tick, spec.decimals)
           for name, ticks in (("open", open_), ("high", high), ("low", low), ("close", close))},
        "instrument": np.full(wall_minutes.size, spec.symbol, dtype=object),
    })
    return frame if edge is None else plant_edge(frame, edge, seed)


def check_synthetic_dates(start: DateLike, end: DateLike) -> tuple[int, int]:
    """Day numbers of [start, end]: inside pandas' nanosecond range (beyond it the stamps would
    wrap around silently) and at most MAX_SYNTHETIC_YEARS long (memory grows with the span).

    >>> check_synthetic_dates("2024-01-01", "2064-01-01")
    Traceback (most recent call last):
    ...
    research.errors.DataError: synthetic bars: '2024-01-01' to '2064-01-01' is more than 20 years...
    """
    first_day, last_day = day_number_of(start, "start"), day_number_of(end, "end")
    if first_day is None or last_day is None or last_day < first_day:
        raise DataError(f"synthetic bars need start <= end, got {shorten(start)} and "
                        f"{shorten(end)}")
    low, high = (day_number(date.fromisoformat(day)) for day in SYNTHETIC_DATE_RANGE)
    if first_day < low or last_day > high:
        raise DataError(f"synthetic bars: {shorten(start)} to {shorten(end)} is outside "
                        f"{SYNTHETIC_DATE_RANGE[0]} to {SYNTHETIC_DATE_RANGE[1]} (pandas' "
                        "nanosecond timestamps)")
    if last_day - first_day >= MAX_SYNTHETIC_YEARS * 366:
        raise DataError(f"synthetic bars: {shorten(start)} to {shorten(end)} is more than "
                        f"{MAX_SYNTHETIC_YEARS} years; make a shorter span")
    return first_day, last_day


# ---------------------------------------------------------------- schedule


def _schedule_wall_minutes(first_day: int, last_day: int) -> np.ndarray:
    """Chicago wall minutes since 1970 of every scheduled bar dated first_day..last_day.

    The session of trading day T runs [T-1 17:00, T 16:00), or to 12:00 on an early close;
    Monday's therefore opens on Sunday evening. The session of last_day+1 opens on last_day.
    """
    days = np.arange(first_day, last_day + 2, dtype=np.int64)
    years = range(_year_of(first_day), _year_of(last_day + 1) + 1)
    closures, early_closes = _holiday_days(years)
    days = days[(weekday_of(days) < 5) & ~np.isin(days, closures)]
    close_minute = np.where(np.isin(days, early_closes), EARLY_CLOSE_MINUTE, SESSION_CLOSE_MINUTE)
    starts = (days - 1) * MINUTES_PER_DAY + SESSION_OPEN_MINUTE
    lengths = days * MINUTES_PER_DAY + close_minute - starts
    firsts = np.cumsum(lengths) - lengths
    minutes = np.repeat(starts - firsts, lengths) + np.arange(lengths.sum(), dtype=np.int64)
    wall_days = minutes // MINUTES_PER_DAY
    return minutes[(wall_days >= first_day) & (wall_days <= last_day)]


def _holiday_days(years: range) -> tuple[np.ndarray, np.ndarray]:
    """Full closures (Jan 1, Jul 4, Thanksgiving, Dec 25) and 12:00 early closes (the day after
    Thanksgiving, Dec 24) as day numbers; weekend dates fall away with the weekends."""
    closures: list[date] = []
    early_closes: list[date] = []
    for year in years:
        thanksgiving = _fourth_thursday_of_november(year)
        closures += [date(year, 1, 1), date(year, 7, 4), thanksgiving, date(year, 12, 25)]
        early_closes += [thanksgiving + timedelta(days=1), date(year, 12, 24)]
    return _day_numbers(closures), _day_numbers(early_closes)


def _fourth_thursday_of_november(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def _day_numbers(days: list[date]) -> np.ndarray:
    return np.array([day_number(day) for day in days], dtype=np.int64)


def _year_of(day: int) -> int:
    return (EPOCH + timedelta(days=int(day))).year


# ---------------------------------------------------------------- prices


def _intraday_volatility_table() -> np.ndarray:
    """Relative volatility per Chicago minute of day: quiet overnight, busier from the European
    open, a peak just after 08:30 that decays into midday and rises again into the close."""
    minute = np.arange(MINUTES_PER_DAY, dtype=np.float64)
    overnight = np.where((minute >= 17 * 60) & (minute < 18 * 60), 0.7, 0.4)
    europe = np.where((minute >= 2 * 60) & (minute < 8 * 60 + 30), 0.7, overnight)
    day = (0.9 + 1.8 * np.exp(-(minute - 510.0) / 40.0)
           + 0.7 * np.exp(-(915.0 - minute) / 30.0))
    table = np.where((minute >= 510) & (minute < 915), day, europe)
    return np.where((minute >= 915) & (minute < 960), 1.1, table)


_VOLATILITY_BY_MINUTE = _intraday_volatility_table()
_SESSION_MINUTES = np.r_[np.arange(SESSION_OPEN_MINUTE, MINUTES_PER_DAY),
                         np.arange(0, SESSION_CLOSE_MINUTE)]
# Scales the per-minute sigma so that a full session's variance is the daily volatility's.
_SESSION_VARIANCE = float(np.sum(_VOLATILITY_BY_MINUTE[_SESSION_MINUTES] ** 2))


def _price_ticks(wall_minutes: np.ndarray, spec: Instrument, rng: np.random.Generator,
                 tick_walk: bool = False) -> tuple[np.ndarray, ...]:
    """Open, high, low, close as int64 ticks: close is a cumsum of tick moves plus session
    gaps, open the previous close (plus the gap), wicks non-negative tick excursions (or,
    with `tick_walk`, the extremes of the minute's ±1-tick walk)."""
    base = spec.base
    level_ticks = round(BASE_LEVEL[base] / spec.tick)
    minute_sigma = level_ticks * DAILY_VOLATILITY[base] / np.sqrt(_SESSION_VARIANCE)
    sigma = minute_sigma * _VOLATILITY_BY_MINUTE[wall_minutes % MINUTES_PER_DAY]
    moves = np.rint(rng.standard_normal(wall_minutes.size) * sigma).astype(np.int64)
    session_starts = np.flatnonzero(np.diff(wall_minutes, prepend=wall_minutes[:1]) > HALT_MINUTES)
    gaps = np.zeros(wall_minutes.size, dtype=np.int64)
    gaps[session_starts] = np.rint(rng.standard_normal(session_starts.size)
                                   * minute_sigma * GAP_SIGMA_MINUTES)
    close_path = level_ticks + np.cumsum(moves + gaps)
    floor_ticks = round(level_ticks * PRICE_FLOOR_SHARE)
    close = _reflect(close_path, floor_ticks)
    open_ = _reflect(close_path - moves, floor_ticks)
    if tick_walk:
        return _walk_extremes(open_, close, sigma, rng)
    wick_scale = EXCURSION_SHARE * sigma
    high = np.maximum(open_, close) + np.rint(rng.exponential(wick_scale)).astype(np.int64)
    low = np.minimum(open_, close) - np.rint(rng.exponential(wick_scale)).astype(np.int64)
    return open_, high, np.maximum(low, 1), close


def _walk_extremes(open_: np.ndarray, close: np.ndarray, sigma: np.ndarray,
                   rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """High and low of a ±1-tick walk of about σ² steps (its variance is the minute's) from
    open to close. The maximum's excess over the path's end points is drawn from the law of
    a random walk bridge's maximum in its Brownian limit, P(max >= h) = exp(−2h(h − m)/n)
    for h >= max(0, m) (m the move, n the steps), by inversion; the minimum likewise."""
    move = (close - open_).astype(np.float64)
    steps = np.maximum(sigma * sigma, 1.0)
    up, down = rng.random((2, open_.size))
    above = (move + np.sqrt(move * move - 2.0 * steps * np.log1p(-up))) / 2.0
    below = (-move + np.sqrt(move * move - 2.0 * steps * np.log1p(-down))) / 2.0
    high = np.maximum(open_ + np.rint(above).astype(np.int64), np.maximum(open_, close))
    low = np.minimum(open_ - np.rint(below).astype(np.int64), np.minimum(open_, close))
    return open_, high, np.maximum(low, 1), close


def _reflect(path_ticks: np.ndarray, floor_ticks: int) -> np.ndarray:
    """Mirror the walk at a floor so a long, volatile run never reaches zero or below."""
    return floor_ticks + np.abs(path_ticks - floor_ticks)
