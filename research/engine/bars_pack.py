"""Bars as plain parts and back: a JSON-able description and named numpy arrays.

What a stored copy of prepared bars needs (the prepared-bars cache, research.spec.bars_cache):
every field of `Bars` round-trips, the held bars of `WalkSeries` included, so bars read
back are the same arrays, value for value and dtype for dtype, as the bars packed. Parts
read from a file are checked (`unpack_bars`: each array's dtype and length, the instrument
in the table) before any Bars is made of them: a part that does not fit is a `ValueError`,
never bars that differ.

>>> from research.engine.data import prepare_bars
>>> from research.engine.synthetic import synthetic_bars
>>> bars = prepare_bars(synthetic_bars("ES", "2024-01-02", "2024-01-03"), "ES")
>>> meta, arrays = pack_bars(bars)
>>> again = unpack_bars(meta, arrays)
>>> bool((again.close_ticks == bars.close_ticks).all()), again.instrument.symbol
(True, 'ES')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from research.engine.bars import Bars
from research.engine.contract_walk import WalkSeries
from research.engine.instruments import INSTRUMENTS

# Each per-bar array of Bars and its dtype (what data._bars makes: docs/architecture.md).
BAR_ARRAYS = {"ts_ns": np.int64, "open_ticks": np.int64, "high_ticks": np.int64,
              "low_ticks": np.int64, "close_ticks": np.int64, "minute_of_day": np.int16,
              "trading_day": np.int32, "contract_code": np.int16}
# WalkSeries' arrays: the walk's bars (dated, then held) and the run bounds (int64).
WALK_ARRAYS = {"ts_ns": np.int64, "open_ticks": np.int64, "high_ticks": np.int64,
               "low_ticks": np.int64, "close_ticks": np.int64, "contract_code": np.int16,
               "run_start_idx": np.int64, "run_end_idx": np.int64,
               "held_start_idx": np.int64, "held_end_idx": np.int64}
BAR_TEXT = ("source", "source_format")
# Every field of Bars this module writes; a field added to Bars without being added here
# is refused by pack_bars (and a test), so nothing is silently left out of a stored copy.
PACKED_FIELDS = frozenset({*BAR_ARRAYS, *BAR_TEXT, "instrument", "contracts", "walk",
                           "load_warnings", "dropped_bars", "cache"})
WALK_PREFIX = "walk."


def pack_bars(bars: Bars) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """`bars` as (a JSON-able description, arrays by name). The walk's arrays are kept only
    when the walk holds bars past a roll; otherwise it is rebuilt from the dated bars, as
    `Bars` builds it.

    >>> from research.engine.data import prepare_bars
    >>> from research.engine.synthetic import synthetic_bars
    >>> meta, arrays = pack_bars(prepare_bars(synthetic_bars("ES", "2024-01-02",
    ...                                                      "2024-01-02"), "ES"))
    >>> meta["instrument"], sorted(arrays)[:2], meta["walk"]
    ('ES', ['close_ticks', 'contract_code'], False)
    """
    unknown = {field.name for field in dataclasses.fields(Bars)} - PACKED_FIELDS
    if unknown:
        raise TypeError(f"pack_bars: Bars field(s) {sorted(unknown)} are not packed; add "
                        "them to research.engine.bars_pack")
    arrays = {name: np.ascontiguousarray(getattr(bars, name)) for name in BAR_ARRAYS}
    walk = bars.walk
    own_walk = walk is not None and walk.ts_ns is not bars.ts_ns  # held bars appended
    if own_walk:
        arrays |= {WALK_PREFIX + name: np.ascontiguousarray(getattr(walk, name))
                   for name in WALK_ARRAYS}
    meta = {"instrument": bars.instrument.symbol, "source": bars.source,
            "source_format": bars.source_format, "contracts": list(bars.contracts),
            "load_warnings": list(bars.load_warnings), "dropped_bars": int(bars.dropped_bars),
            "walk": own_walk, "bars": len(bars)}
    return meta, arrays


def unpack_bars(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Bars:
    """The Bars `pack_bars` described, checked part by part (ValueError when one does not
    fit: a damaged or foreign copy)."""
    symbol = meta.get("instrument")
    if symbol not in INSTRUMENTS:
        raise ValueError(f"instrument {str(symbol)[:20]!r} is not in the table")
    n_bars = _count(meta.get("bars"), "bars")
    bar_arrays = {name: _array(arrays, name, dtype, n_bars) for name, dtype in
                  BAR_ARRAYS.items()}
    contracts = _texts(meta.get("contracts"), "contracts")
    if not contracts:
        raise ValueError("contracts: empty (bars without contracts hold one, \"\")")
    walk = _walk(arrays, bar_arrays) if meta.get("walk") is True else None
    return Bars(instrument=INSTRUMENTS[symbol], **bar_arrays,
                source=_text(meta.get("source"), "source"),
                source_format=_text(meta.get("source_format"), "source_format"),
                contracts=contracts, walk=walk,
                load_warnings=_texts(meta.get("load_warnings"), "load_warnings"),
                dropped_bars=_count(meta.get("dropped_bars"), "dropped_bars"))


def _walk(arrays: Mapping[str, np.ndarray], dated: Mapping[str, np.ndarray]) -> WalkSeries:
    """The stored walk: its first bars are the dated bars themselves (contract_walk)."""
    n_walk = len(arrays.get(WALK_PREFIX + "ts_ns", ()))
    n_runs = len(arrays.get(WALK_PREFIX + "run_start_idx", ()))
    parts = {name: _array(arrays, WALK_PREFIX + name, dtype,
                          n_runs if name.endswith("_idx") else n_walk)
             for name, dtype in WALK_ARRAYS.items()}
    n_dated = len(dated["ts_ns"])
    if n_walk < n_dated or not all(np.array_equal(parts[name][:n_dated], dated[name])
                                   for name in WALK_ARRAYS if not name.endswith("_idx")):
        raise ValueError("walk: its first bars are not the dated bars")
    bounds = np.concatenate([parts[name] for name in WALK_ARRAYS if name.endswith("_idx")])
    if bounds.size and (bounds.min() < 0 or bounds.max() > n_walk):
        raise ValueError("walk: an index outside its bars")
    return WalkSeries(**parts)


def _array(arrays: Mapping[str, np.ndarray], name: str, dtype: type, length: int
           ) -> np.ndarray:
    values = arrays.get(name)
    if not isinstance(values, np.ndarray) or values.dtype != np.dtype(dtype) \
            or values.shape != (length,):
        raise ValueError(f"{name}: expected {length} values of {np.dtype(dtype)}")
    return values


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: not a count")
    return value


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name}: not text")
    return value


def _texts(values: object, name: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ValueError(f"{name}: not a list of text")
    return tuple(values)
