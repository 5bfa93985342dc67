"""Bad bars a vendor file can hold, found per file before any sweep (issue 22, docs/vendors.md,
bad bars): bars that are not one minute apart (an error: other results, not worse
ones), and bars that are wrong one by one (a warning by default, `bad_bars: drop | error`).

Bars wrong one by one:
- a price at or below zero for an instrument that has never traded there (all but CL and NG:
  WTI crude settled at -$37.63 on 2020-04-20; the others never went below zero);
- a spike: a bar whose close jumps more than SPIKE_MEDIAN_RANGES times the day's median bar
  range away and straight back (a sign flip, a fat-fingered print, a bad tick);
- a price level 10x or 100x off the instrument's plausible range (prices in cents, or a
  fixed-point scale such as Databento's 1e-9 read with the wrong divisor).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.engine.clock import NS_PER_MINUTE
from research.engine.errors_rows import SHOWN_ROWS
from research.engine.timestamps import chicago_text
from research.errors import DataError

BAD_BARS = ("warn", "drop", "error")
NEGATIVE_PRICES_TRADED = ("CL", "MCL", "NG", "MNG")  # the roots allowed at or below zero
SPIKE_MEDIAN_RANGES = 50  # a jump of this many median bar ranges and back is no market move
MIN_STEPS_FOR_SPACING = 20  # fewer steps say too little about the bar interval
MINUTE_STEP_SHARE = 0.05  # k-minute bars: fewer than this share of steps is one minute
# Plausible price levels in points, generous (2000-2026 and room to move): a level 10x off
# one end is prices in cents or a fixed-point scale, not a market.
PLAUSIBLE_POINTS = {"ES": (300.0, 30_000.0), "NQ": (700.0, 100_000.0),
                    "YM": (3_000.0, 150_000.0), "RTY": (200.0, 10_000.0),
                    "CL": (-100.0, 400.0), "NG": (0.5, 50.0), "GC": (200.0, 20_000.0)}
MICRO_BASES = {"MES": "ES", "MNQ": "NQ", "MYM": "YM", "M2K": "RTY", "MCL": "CL", "MNG": "NG",
               "MGC": "GC"}


@dataclass(frozen=True, slots=True, kw_only=True)
class BadBars:
    """One kind of bad bar found in a file: which rows (positions in the arrays) and what
    the message says about them.

    >>> BadBars(kind="spike", positions=np.array([3]), message="...").count
    1
    """

    kind: str  # "price<=0", "spike" or "level"
    positions: np.ndarray
    message: str

    @property
    def count(self) -> int:
        return int(self.positions.size)


def check_spacing(utc_ns: np.ndarray, contracts: np.ndarray, rows: np.ndarray,
                  source: str) -> None:
    """Refuse bars that are not one minute apart: stamps inside a minute (second bars,
    ticks) or a usual step of k > 1 minutes (5-minute bars), with the first rows and counts.

    >>> check_spacing(np.arange(0, 40 * 300, 300) * 10**9, np.full(40, ""), np.arange(40), "f")
    Traceback (most recent call last):
    ...
    research.errors.DataError: f: the bars are 5 minutes apart (39 of 39 steps; 0 one-minute \
steps): these are 5-minute bars, not 1-minute bars; load 1-minute bars (the strategy's \
ranges, stops and exits are read minute by minute)
    """
    inside = np.concatenate([np.flatnonzero(utc_ns[start:start + SPIKE_BLOCK_ROWS]
                                            % NS_PER_MINUTE != 0) + start
                             for start in range(0, utc_ns.size, SPIKE_BLOCK_ROWS)]
                            or [np.array([], dtype=np.int64)])
    if inside.size:
        shown = ", ".join(f"row {int(rows[i])} ({stamp})" for i, stamp in
                          zip(inside[:SHOWN_ROWS], chicago_text(utc_ns[inside[:SHOWN_ROWS]]),
                              strict=True))
        raise DataError(f"{source}: {inside.size} bar(s) stamped inside a minute (first: "
                        f"{shown}): these are not 1-minute bars (second bars or ticks?); "
                        "resample them to 1-minute bars first")
    steps = _steps_minutes(utc_ns, contracts)
    if steps.size < MIN_STEPS_FOR_SPACING:
        return
    if np.count_nonzero(steps == 1) >= MINUTE_STEP_SHARE * steps.size:
        return  # enough one-minute steps: no sort of every step to find the usual one
    values, counts = np.unique(steps, return_counts=True)
    usual = int(values[np.argmax(counts)])
    ones = int(counts[values == 1].sum())
    if usual > 1 and ones < MINUTE_STEP_SHARE * steps.size:
        raise DataError(f"{source}: the bars are {usual} minutes apart ({counts.max()} of "
                        f"{steps.size} steps; {ones} one-minute steps): these are {usual}-minute"
                        " bars, not 1-minute bars; load 1-minute bars (the strategy's ranges, "
                        "stops and exits are read minute by minute)")


def _steps_minutes(utc_ns: np.ndarray, contracts: np.ndarray) -> np.ndarray:
    """Positive steps between consecutive bars of the same contract, in minutes."""
    codes = pd.factorize(contracts)[0]
    if codes.size and codes.max() == 0:  # one contract: only the time order matters
        ordered = utc_ns if bool((utc_ns[1:] >= utc_ns[:-1]).all()) else np.sort(utc_ns)
        steps = np.diff(ordered)
        steps //= NS_PER_MINUTE  # in place: one array per bar, not two
        return steps[steps > 0]
    order = np.lexsort((utc_ns, codes))
    same = codes[order][1:] == codes[order][:-1]
    steps = np.diff(utc_ns[order])[same] // NS_PER_MINUTE
    return steps[steps > 0]


def find_bad_bars(prices: dict[str, np.ndarray], utc_ns: np.ndarray, trading_day: np.ndarray,
                  names: np.ndarray, contracts: np.ndarray, rows: np.ndarray,
                  source: str) -> list[BadBars]:
    """Every kind of bad bar in one file's rows, each with its message (first rows, count,
    the key that handles them)."""
    found = []
    distinct = pd.unique(names)  # a hash pass, not a Python set over every row
    for root in sorted(name for name in distinct if isinstance(name, str)):
        base = MICRO_BASES.get(root, root)
        if len(distinct) > 1:
            mine = np.flatnonzero(names == root)
            sub = {key: values[mine] for key, values in prices.items()}
            checks = _checks(base, sub, utc_ns[mine], trading_day[mine], contracts[mine])
        else:  # one instrument: no copies
            mine = None
            checks = _checks(base, prices, utc_ns, trading_day, contracts)
        for kind, flagged, what in checks:
            if flagged.size:
                positions = flagged if mine is None else mine[flagged]
                found.append(BadBars(kind=kind, positions=positions, message=_message(
                    source, root, what, positions, prices, utc_ns, rows)))
    return found


def _checks(base: str, prices: dict[str, np.ndarray], utc_ns: np.ndarray,
            trading_day: np.ndarray, contracts: np.ndarray) -> list[tuple[str, np.ndarray, str]]:
    low, close = prices["low"], prices["close"]
    out = []
    if base not in NEGATIVE_PRICES_TRADED:
        out.append(("price<=0", np.flatnonzero(low <= 0),
                    f"a price at or below zero, where {base} has never traded"))
    out.append(("spike", _spikes(close, utc_ns, trading_day, contracts, prices),
                f"a spike: the close jumps more than {SPIKE_MEDIAN_RANGES}x the day's median "
                "bar range and straight back"))
    level = PLAUSIBLE_POINTS.get(base)
    if level is not None:
        lo, hi = level
        off = np.flatnonzero((close > 10 * hi) | ((close < lo / 10) & (lo > 0) & (close > 0)))
        if off.size:
            # the range's middle on a log scale; crude's range starts below zero (April 2020)
            middle = math.sqrt(lo * hi) if lo > 0 else hi
            factor = 10 ** round(math.log10(abs(float(np.median(close[off]))) / middle))
            out.append(("level", off, f"a price level about {factor:g}x off the plausible "
                        f"{base} range ({lo:g} .. {hi:g} points: prices in cents or a fixed-point"
                        " scale?)"))
    return out


SPIKE_BLOCK_ROWS = 1 << 18  # bars compared at a time (bounds the check's memory)


def _spikes(close: np.ndarray, utc_ns: np.ndarray, trading_day: np.ndarray,
            contracts: np.ndarray, prices: dict[str, np.ndarray]) -> np.ndarray:
    """Positions of bars whose close leaves and returns by more than the multiple of the
    day's median bar range, within one contract in time order.

    The bars are put in (contract, time) order (none moved when they already are: the usual
    file of one contract), each (date, contract)'s median range taken once, and the
    neighbours compared SPIKE_BLOCK_ROWS bars at a time, so the check holds a few arrays of
    one number per bar, not a dozen (issue 19: a large file's peak memory).
    """
    if close.size < 3:
        return np.array([], dtype=np.int64)
    codes = pd.factorize(contracts)[0]
    if codes.max() == 0 and bool((utc_ns[1:] >= utc_ns[:-1]).all()):
        order = None  # np.lexsort((utc_ns, codes)) would keep every bar where it is
        day_key = trading_day
        spans = prices["high"] - prices["low"]
        ordered, same = close, codes
    else:
        order = np.lexsort((utc_ns, codes))
        day_key = trading_day[order].astype(np.int64) * (codes.max() + 1) + codes[order]
        spans = (prices["high"] - prices["low"])[order]
        ordered, same = close[order], codes[order]
    limit = _spike_limits(spans, day_key)
    del spans
    last = close.size - 1  # the last bar has no bar after it
    found = [_spikes_in(ordered, same, limit, start, min(start + SPIKE_BLOCK_ROWS, last))
             for start in range(1, last, SPIKE_BLOCK_ROWS)]
    positions = np.concatenate(found)
    return positions if order is None else np.sort(order[positions])


def _spike_limits(spans: np.ndarray, day_key: np.ndarray) -> np.ndarray:
    """SPIKE_MEDIAN_RANGES x each bar's (date, contract) median range (NaNs left out; at
    least the smallest positive range), per bar; `day_key` runs in blocks of equal keys
    (bars in contract and time order). A key that comes back after another is grouped whole
    all the same (pandas' groupby), like the check always did."""
    starts = np.r_[0, np.flatnonzero(day_key[1:] != day_key[:-1]) + 1]
    keys = day_key[starts]
    if np.unique(keys).size != keys.size:  # a key in two runs: group by value
        median = pd.Series(spans).groupby(day_key).transform("median").to_numpy()
    else:
        bounds = np.r_[starts, spans.size]
        medians = np.array([_median(spans[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:],
                                                                     strict=True)])
        median = np.repeat(medians, np.diff(bounds))
    positive = [block[block > 0] for block in (spans[i:i + SPIKE_BLOCK_ROWS]
                                               for i in range(0, spans.size, SPIKE_BLOCK_ROWS))]
    positive = [block.min() for block in positive if block.size]
    floor = min(positive) if positive else 1.0
    np.maximum(median, floor, out=median)  # in place: no second array per bar
    median *= SPIKE_MEDIAN_RANGES
    return median


def _median(values: np.ndarray) -> float:
    """The median without NaNs (NaN when none is left), as pandas' groupby median."""
    values = values[~np.isnan(values)] if np.isnan(values).any() else values
    return float(np.median(values)) if values.size else float("nan")


def _spikes_in(ordered: np.ndarray, same: np.ndarray, limit: np.ndarray, start: int,
               stop: int) -> np.ndarray:
    """Ordered positions in [start, stop) that leave and come back by more than their limit,
    with both neighbours on the same contract."""
    before, here = ordered[start - 1:stop - 1], ordered[start:stop]
    after = ordered[start + 1:stop + 1]
    bound = limit[start:stop]
    into, back = here - before, after - here
    spike = ((np.abs(into) > bound) & (np.abs(back) > bound) & (np.sign(into) != np.sign(back))
             & (np.abs(after - before) <= bound)
             & (same[start:stop] == same[start - 1:stop - 1])
             & (same[start + 1:stop + 1] == same[start:stop]))
    return np.flatnonzero(spike) + start


def _message(source: str, root: str, what: str, positions: np.ndarray,
             prices: dict[str, np.ndarray], utc_ns: np.ndarray, rows: np.ndarray) -> str:
    first = positions[:SHOWN_ROWS]
    stamps = chicago_text(utc_ns[first])
    shown = "; ".join(f"row {int(rows[i])} {stamp} close={prices['close'][i]:g}"
                      for i, stamp in zip(first, stamps, strict=True))
    return (f"{source}: {positions.size} {root} bar(s) with {what} (first: {shown}); "
            "bad_bars: drop leaves them out, bad_bars: error refuses the data")


def apply_policy(found: Sequence[BadBars], policy: str, size: int) -> tuple[np.ndarray | None,
                                                                             int]:
    """`bad_bars`: the rows to keep (None: all) and how many were dropped; `error` raises
    the first finding's message."""
    if not found or policy == "warn":
        return None, 0
    if policy == "error":
        raise DataError(found[0].message)
    keep = np.ones(size, dtype=bool)
    for finding in found:
        keep[finding.positions] = False
    return keep, int(size - keep.sum())
