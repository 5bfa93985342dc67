"""Per-combo metrics (DESIGN §5): one typed result frame -> one summary row.

The names in ``METRIC_COLUMNS`` are the summary's stable column names (STYLE: predictable
names, like scikit-learn's ``cv_results_``). Floats are rounded to 10 decimals so the CSV
is byte-stable across platforms and batchings.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from research.engine.codes import NO_TRADE, RESULT_NAMES

METRIC_COLUMNS = ("ranges", "trades", "wins", "be", "losses", "time", "open", "no_trade",
                  "win_rate", "total_profit", "avg_profit", "profit_factor", "max_drawdown",
                  "avg_peak")
COUNT_COLUMNS = METRIC_COLUMNS[:8]  # int64 in the summary; the rest are float64
# result label -> count metric, in the engine's code order (a label's index is its code);
# any other label (the engine has none) counts only in `ranges` and `trades`.
_RESULT_COUNTS = dict(zip(RESULT_NAMES, ("no_trade", "wins", "be", "losses", "time", "open"),
                          strict=True))
_RESULT_LABELS = pa.array(RESULT_NAMES, type=pa.string())
_RESULT_INDEX = pd.Index(RESULT_NAMES)
_UNKNOWN = len(RESULT_NAMES)  # the code of any other label, and of a missing one
FLOAT_DECIMALS = 10


def combo_metrics(frame: pd.DataFrame) -> dict[str, float | int]:
    """Summary metrics of one combo's typed frame, rows in time order.

    Profits and drawdown are in points. Conventions where a ratio has no denominator:
    ``win_rate``/``avg_profit``/``avg_peak`` are 0.0 without trades; ``profit_factor`` is
    gross profit / |gross loss| over trades, ``inf`` when there is profit but no loss, and 0.0
    when there is neither. ``max_drawdown`` is the largest fall of the cumulative profit
    (row order, starting from 0) below its running peak, so it is >= 0.

    >>> f = pd.DataFrame({"result": ["Win", "Loss", "NoTrade"], "profit": [2.0, -1.0, 0.0],
    ...                   "peak": [2.0, 0.5, 0.0]})
    >>> m = combo_metrics(f)
    >>> m["trades"], m["profit_factor"], m["max_drawdown"]
    (2, 2.0, 1.0)
    """
    codes = _result_codes(frame["result"])
    per_label = np.bincount(codes, minlength=_UNKNOWN + 1)
    counts = {name: int(n) for name, n in zip(_RESULT_COUNTS.values(), per_label, strict=False)}
    traded = codes != NO_TRADE
    trades = len(frame) - counts["no_trade"]
    profit = frame["profit"].to_numpy(dtype=np.float64)[traded]
    peak = frame["peak"].to_numpy(dtype=np.float64)[traded]
    gross_profit = float(profit[profit > 0].sum())
    gross_loss = float(-profit[profit < 0].sum())
    total_profit = float(profit.sum())
    metrics: dict[str, float | int] = {
        "ranges": len(frame),
        "trades": trades,
        **counts,
        "win_rate": counts["wins"] / trades if trades else 0.0,
        "total_profit": total_profit,
        "avg_profit": total_profit / trades if trades else 0.0,
        "profit_factor": _profit_factor(gross_profit, gross_loss),
        "max_drawdown": _max_drawdown(profit),
        "avg_peak": float(peak.mean()) if trades else 0.0,
    }
    return {name: _rounded(metrics[name]) for name in METRIC_COLUMNS}


def _result_codes(result: pd.Series) -> np.ndarray:
    """Each label's engine code, its index in RESULT_NAMES (unknown or missing -> _UNKNOWN).

    The engine's categorical (categories RESULT_NAMES in order) already holds the codes;
    any other column takes one Arrow hash pass, which is several times faster than
    comparing a Python-object array once per label."""
    if isinstance(result.dtype, pd.CategoricalDtype) and \
            result.cat.categories.equals(_RESULT_INDEX):
        codes = result.cat.codes.to_numpy()
        return np.where(codes < 0, _UNKNOWN, codes)  # -1: missing
    labels = pa.array(result)
    if not (pa.types.is_string(labels.type) or pa.types.is_large_string(labels.type)):
        labels = labels.cast(pa.string())  # other categoricals, or all-null/empty objects
    codes = pc.index_in(labels, value_set=_RESULT_LABELS).fill_null(_UNKNOWN)
    return codes.to_numpy()


def _profit_factor(gross_profit: float, gross_loss: float) -> float:
    if gross_loss > 0:
        return gross_profit / gross_loss
    return math.inf if gross_profit > 0 else 0.0


def _max_drawdown(profit: np.ndarray) -> float:
    """Peak-to-trough of the equity curve; NoTrade rows add 0, so trades alone suffice."""
    if not len(profit):
        return 0.0
    equity = np.concatenate(([0.0], np.cumsum(profit)))
    return float((np.maximum.accumulate(equity) - equity).max())


def _rounded(value: float | int) -> float | int:
    if isinstance(value, float):
        # + 0.0 turns -0.0 into 0.0 so the CSV never shows "-0.0"
        return round(value, FLOAT_DECIMALS) + 0.0 if math.isfinite(value) else value
    return int(value)
