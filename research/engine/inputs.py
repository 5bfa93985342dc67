"""The one way into the engine: any accepted input -> one instrument's Bars.

`run_strategy` and the sweep runner both call `to_bars`, so a DataFrame, prepared Bars and
a path are checked alike: in particular, bars of another instrument than the one asked for
are refused instead of being read with the wrong tick and ladder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from research.engine.bars import Bars
from research.engine.data import load_bars, prepare_bars
from research.errors import DataError, InputTypeError

BarsInput = pd.DataFrame | Bars | str | os.PathLike


def to_bars(data: BarsInput, instrument: str, *, snap_to_tick: bool = False,
            load_options: Mapping[str, Any] | None = None) -> Bars:
    """Bars of `instrument` from a bar DataFrame (see load_bars), prepared Bars or a path.

    A path is read with ``load_bars(path, instrument=instrument, **load_options)``. Bars of
    another instrument are a DataError naming both.

    >>> from research.engine.synthetic import synthetic_bars
    >>> bars = to_bars(synthetic_bars("ES", "2024-01-08", "2024-01-09"), "ES")
    >>> to_bars(bars, "NQ")
    Traceback (most recent call last):
    ...
    research.errors.DataError: instrument: the bars are ES, the parameters ask for NQ
    """
    if isinstance(data, Bars):
        if data.instrument.symbol != instrument:
            raise DataError(f"instrument: the bars are {data.instrument.symbol}, "
                            f"the parameters ask for {instrument}")
        return data
    if isinstance(data, (str, os.PathLike)):
        data = load_bars(data, **{**(load_options or {}), "instrument": instrument})
    if isinstance(data, pd.DataFrame):
        return prepare_bars(data, instrument, snap_to_tick=snap_to_tick)
    raise InputTypeError(f"data: expected a DataFrame of bars, prepared Bars or a path, got "
                         f"{type(data).__name__}")
