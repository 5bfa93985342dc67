"""The per-combo table (``combo_stats.parquet``): one row per combo, in the summary's order.

Columns (joined to ``summary.parquet`` on ``combo_id``):

- ``days_traded``: dates with a non-zero net; ``net_usd``: the combo's net $ over the data;
- ``mean_daily_usd`` and its stationary-bootstrap 95 % interval ``mean_ci_low/high``;
- ``sharpe_annualised`` (daily Sharpe x √252) and its interval ``sharpe_ci_low/high``;
- ``metric_value``: the selection metric over the whole data (``sharpe``: per period, the
  unit of robustness.json) and ``metric_rank`` (1 = the in-sample best; ties share);
- ``plateau_score``: the median metric of the combo and its ``plateau_neighbours``
  one-step grid neighbours, and ``plateau_rank`` by it.

>>> COMBO_STATS_SCHEMA.names[:3]
['combo_id', 'days_traded', 'net_usd']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from research.analysis.intervals import Intervals
from research.analysis.plateau import rank_descending
from research.analysis.stats import SQRT_PERIODS_PER_YEAR, Moments, sharpe_daily
from research.results.daily import CENTS_PER_DOLLAR
from research.results.metrics import FLOAT_DECIMALS
from research.results.schemas import to_table

_INT_COLUMNS = ("days_traded", "metric_rank", "plateau_neighbours", "plateau_rank")
_COLUMNS = ("combo_id", "days_traded", "net_usd", "mean_daily_usd", "mean_ci_low",
            "mean_ci_high", "sharpe_annualised", "sharpe_ci_low", "sharpe_ci_high",
            "metric_value", "metric_rank", "plateau_score", "plateau_neighbours",
            "plateau_rank")
COMBO_STATS_SCHEMA = pa.schema(
    [(name, pa.string() if name == "combo_id" else pa.int64() if name in _INT_COLUMNS
      else pa.float64()) for name in _COLUMNS])


def combo_table(combo_ids: Sequence[str], cents: np.ndarray, full: Moments,
                metric_values: np.ndarray, intervals: Intervals, plateau: np.ndarray,
                neighbour_counts: np.ndarray) -> pd.DataFrame:
    """The table's columns from the analysis' per-combo arrays (``analyze`` builds it: its
    result's ``combo_stats``)."""
    sharpe = sharpe_daily(full.n, full.total, full.total_sq) * SQRT_PERIODS_PER_YEAR
    return pd.DataFrame({
        "combo_id": list(combo_ids),
        "days_traded": np.count_nonzero(cents, axis=0),
        "net_usd": full.total / CENTS_PER_DOLLAR,
        "mean_daily_usd": full.total / (full.n * CENTS_PER_DOLLAR),
        "mean_ci_low": intervals.mean_low, "mean_ci_high": intervals.mean_high,
        "sharpe_annualised": sharpe,
        "sharpe_ci_low": intervals.sharpe_low, "sharpe_ci_high": intervals.sharpe_high,
        "metric_value": metric_values, "metric_rank": rank_descending(metric_values),
        "plateau_score": plateau, "plateau_neighbours": neighbour_counts,
        "plateau_rank": rank_descending(plateau),
    }, columns=list(_COLUMNS)).astype({name: np.int64 for name in _INT_COLUMNS})


def combo_stats_table(frame: pd.DataFrame) -> pa.Table:
    """The table as written: COMBO_STATS_SCHEMA, floats rounded to FLOAT_DECIMALS (and
    -0.0 made 0.0) like the summary's, so the same inputs give the same bytes.

    >>> row = {name: [0] for name in _INT_COLUMNS}
    >>> frame = pd.DataFrame({name: row.get(name, [-0.0]) for name in _COLUMNS})
    >>> table = combo_stats_table(frame.assign(combo_id="a", net_usd=1 / 3))
    >>> table.schema == COMBO_STATS_SCHEMA, table.column("net_usd")[0].as_py()
    (True, 0.3333333333)
    """
    floats = [name for name in _COLUMNS if COMBO_STATS_SCHEMA.field(name).type == pa.float64()]
    rounded = frame.assign(**{name: np.round(frame[name].to_numpy(), FLOAT_DECIMALS) + 0.0
                              for name in floats})
    return to_table(rounded, COMBO_STATS_SCHEMA)
