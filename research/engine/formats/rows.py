"""Row selection and price columns, shared by the loader and `prepare_bars`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.engine.errors_rows import fail_rows
from research.engine.formats.base import shorten
from research.engine.formats.symbols import KIND_CONTRACT, KIND_INSTRUMENT, Symbol
from research.engine.instruments import ALIASES, INSTRUMENTS, Instrument
from research.errors import DataError


def tradable_instrument(symbol: str, source: str) -> Instrument:
    """The table row of an instrument argument (stripped, upper-cased); an alias or unknown
    name is a DataError that starts with `source`.

    >>> tradable_instrument(" es ", "here").tick
    0.25
    """
    wanted = str(symbol).strip().upper()
    if wanted in INSTRUMENTS:
        return INSTRUMENTS[wanted]
    hint = f" ({wanted} is {ALIASES[wanted]} in bar files: ask for {ALIASES[wanted]})" \
        if wanted in ALIASES else ""
    raise DataError(f"{source}: instrument argument: unknown instrument {shorten(symbol)}"
                    f"{hint}; known: {', '.join(INSTRUMENTS)}")


def rows_of(codes: np.ndarray, symbols: list[Symbol], wanted: str) -> np.ndarray:
    """Positions of the rows of instrument `wanted`: its own name, aliases, its contracts."""
    chosen = [code for code, symbol in enumerate(symbols) if symbol.root == wanted
              and symbol.kind in (KIND_INSTRUMENT, KIND_CONTRACT)]
    if len(chosen) == 1:
        return np.flatnonzero(codes == chosen[0])
    return np.flatnonzero(np.isin(codes, chosen))


def float_prices(column: pd.Series, rows: np.ndarray, name: str, source: str) -> np.ndarray:
    """The selected rows' prices as float64; text that is not a number is an error (NaN passes)."""
    if pd.api.types.is_numeric_dtype(column.dtype):
        prices = column.to_numpy(dtype=np.float64, na_value=np.nan)
        return prices if rows.size == len(prices) else prices[rows]
    raw = column.to_numpy(dtype=object)
    raw = raw if rows.size == len(raw) else raw[rows]
    prices = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(np.float64, na_value=np.nan)
    bad = np.flatnonzero(np.isnan(prices) & ~pd.isna(raw))
    if bad.size:
        fail_rows(source, name, "with a non-numeric value", rows[bad],
                  [shorten(value) if isinstance(value, str) else value for value in raw[bad]],
                  described=True)
    return prices


def take(column: pd.Series, rows: np.ndarray) -> pd.Series:
    return column if rows.size == len(column) else column.iloc[rows]
