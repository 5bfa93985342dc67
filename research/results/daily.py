"""The daily net $ matrix (docs/reference.md): net $ per trading date x combo, the analysis' input.

On disk, ``daily.parquet`` holds one row per combo, in the summary's (grid) order: its
``combo_id`` and ``net_cents``, a fixed-size list of int64 cents with one value per trading
date of the data (0 where the combo did not trade that date). The dates themselves are the
file's ``research.dates`` metadata, ISO text in order. Integer cents keep every sum exact: a
combo's values add up to its ``net_profit_usd`` to the cent. Rows of combos, not columns,
so that 100,000 combos stay one column and read back as one contiguous array.

>>> import numpy as np, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / DAILY
>>> write_daily(path, ["a1", "b2"], np.array([19724, 19725]), np.array([[150, 0], [-25, 1000]]))
>>> read_daily(path)
combo_id     a1     b2
date
2024-01-02  1.5  -0.25
2024-01-03  0.0  10.00
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from research.engine.clock import EPOCH, NS_PER_DAY

DAILY = "daily.parquet"
DATES_KEY = b"research.dates"
CENTS_PER_DOLLAR = 100


def daily_schema(days: np.ndarray) -> pa.Schema:
    """The schema of a daily file over trading dates `days` (day numbers since 1970-01-01)."""
    dates = [(EPOCH + dt.timedelta(days=int(day))).isoformat() for day in days]
    return pa.schema([("combo_id", pa.string()),
                      ("net_cents", pa.list_(pa.int64(), len(dates)))],
                     metadata={DATES_KEY: json.dumps(dates).encode()})


def daily_table(combo_ids: Sequence[str], days: np.ndarray, cents: np.ndarray) -> pa.Table:
    """Rows of `combo_ids` with their cents, an (n_combos, n_days) int64 array."""
    cents = np.ascontiguousarray(cents, dtype=np.int64).reshape(len(combo_ids), len(days))
    schema = daily_schema(days)
    values = pa.FixedSizeListArray.from_arrays(pa.array(cents.ravel()), len(days))
    return pa.Table.from_arrays([pa.array(list(combo_ids), pa.string()), values], schema=schema)


def write_daily(path: str | Path, combo_ids: Sequence[str], days: np.ndarray,
                cents: np.ndarray) -> None:
    """Write a daily file (not atomically: the store publishes it through a temp file)."""
    pq.write_table(daily_table(combo_ids, days, cents), path, compression="zstd")


def read_daily(path: str | Path, combo_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """The matrix as a DataFrame: index the trading dates, columns combo_id, values net $.

    `combo_ids` keeps only those combos, in that order (all, in file order, by default).
    """
    table = pq.read_table(path, schema=None)
    dates = json.loads((table.schema.metadata or {}).get(DATES_KEY, b"[]"))
    ids = table.column("combo_id").to_pylist()
    values = table.column("net_cents").combine_chunks()
    cents = values.values.to_numpy(zero_copy_only=False).reshape(len(ids), len(dates))
    frame = pd.DataFrame(cents.T / CENTS_PER_DOLLAR,
                         index=pd.DatetimeIndex(np.array(dates, dtype="datetime64[ns]"),
                                                name="date"),
                         columns=pd.Index(ids, name="combo_id"))
    return frame if combo_ids is None else frame[list(combo_ids)]


def day_numbers(index: pd.DatetimeIndex) -> np.ndarray:
    """Day numbers since 1970-01-01 of a DatetimeIndex of dates (midnight stamps)."""
    return np.asarray(index.as_unit("ns").asi8 // NS_PER_DAY, dtype=np.int64)
