"""Per-combo metrics (docs/reference.md) and each combo's daily net $ series, in one compiled pass.

The names in ``METRIC_COLUMNS`` are the summary's stable column names (predictable
names, like scikit-learn's ``cv_results_``). A sweep's task computes every combo's metrics
from its rows at once (`grouped_metrics`); `combo_metrics` is the same for one frame.
Floats are rounded to 10 decimals so the CSV is byte-stable across platforms and batchings.

Conventions where a ratio has no denominator: ``win_rate``, ``avg_profit``, ``avg_peak`` and
``avg_trade_usd`` are 0.0 without trades; a profit factor is gross profit / |gross loss|
over trades, ``inf`` with profit but no loss, 0.0 with neither; ``sharpe`` is 0.0 when the
daily series has fewer than 2 dates or does not vary; ``sortino`` is ``inf`` when no date
loses but the mean is positive, 0.0 when neither.

The daily series has one value per trading date of the data (0 where the combo did not
trade); a trade counts on its range's trading date. ``max_drawdown`` (points) falls on the
cumulative profit of the trades in row order; ``max_drawdown_usd`` and
``max_drawdown_days`` (the longest run of dates below a previous peak) on the daily net $
equity; both curves start at 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from research.engine.clock import NS_PER_DAY
from research.engine.codes import DECIDED_BY_SECONDS, DECIDED_NAMES, NO_TRADE, RESULT_NAMES

POINT_METRICS = ("ranges", "trades", "wins", "be", "losses", "time", "open", "no_trade",
                 "win_rate", "total_profit", "avg_profit", "profit_factor", "max_drawdown",
                 "avg_peak")
USD_METRICS = ("net_profit_usd", "gross_profit_usd", "costs_usd", "avg_trade_usd",
               "profit_factor_usd", "max_drawdown_usd", "max_drawdown_days", "sharpe",
               "sortino", "trades_per_year", "best_day_usd", "worst_day_usd")
# The fill band (research.engine.fill_bounds): trades the minute bars cannot decide, trades
# whose result still rests on a convention (all of those, unless 1-second bars decided
# them), and net $ and Sharpe with every undecided bar against / for the trade.
FILL_METRICS = ("ambiguous_trades", "undecided_trades", "net_usd_pessimistic",
                "net_usd_optimistic", "sharpe_pessimistic", "sharpe_optimistic")
METRIC_COLUMNS = POINT_METRICS + USD_METRICS + FILL_METRICS
COUNT_COLUMNS = POINT_METRICS[:8]
INT_COLUMNS = (*COUNT_COLUMNS, "max_drawdown_days", "ambiguous_trades",
               "undecided_trades")  # int64 in the summary; the rest float64
TRADING_DATES_PER_YEAR = 252
# result label -> count metric, in the engine's code order (a label's index is its code);
# any other label (the engine has none) counts only in `ranges` and `trades`.
_RESULT_COUNTS = dict(zip(RESULT_NAMES, ("no_trade", "wins", "be", "losses", "time", "open"),
                          strict=True))
_RESULT_LABELS = pa.array(RESULT_NAMES, type=pa.string())
_RESULT_INDEX = pd.Index(RESULT_NAMES)
_UNKNOWN = len(RESULT_NAMES)  # the code of any other label, and of a missing one
FLOAT_DECIMALS = 10


@dataclass(frozen=True, slots=True)
class ComboRows:
    """The rows of several combos, combo after combo: combo c owns rows starts[c]:starts[c+1].

    `day_index` is each row's position among the trading dates of the daily series.
    """

    starts: np.ndarray  # int64, n_combos + 1
    result: np.ndarray  # int8 codes (_UNKNOWN for any other label)
    profit: np.ndarray  # float64 points
    peak: np.ndarray  # float64 points
    gross_cents: np.ndarray
    costs_cents: np.ndarray
    net_cents: np.ndarray
    day_index: np.ndarray  # int64
    # The fill band, row for row; None: no band (each bound is the row's net, nothing
    # ambiguous).
    pessimistic_cents: np.ndarray | None = None
    optimistic_cents: np.ndarray | None = None
    ambiguous: np.ndarray | None = None  # bool
    undecided: np.ndarray | None = None  # bool


def grouped_metrics(rows: ComboRows, n_dates: int) -> tuple[dict[str, list], np.ndarray]:
    """Every combo's METRIC_COLUMNS (name -> one value per combo) and its daily net cents,
    an (n_combos, n_dates) int64 array."""
    ints, floats, daily = _grouped_stats(
        rows.starts, rows.result, rows.profit, rows.peak, rows.gross_cents, rows.costs_cents,
        rows.net_cents, rows.day_index, n_dates)
    counts = {name: ints[:, code] for code, name in enumerate(_RESULT_COUNTS.values())}
    ranges = np.diff(rows.starts)
    trades = ranges - counts["no_trade"]
    per_trade = np.maximum(trades, 1)
    columns: dict[str, np.ndarray] = {
        "ranges": ranges, "trades": trades, **counts,
        "win_rate": np.where(trades > 0, counts["wins"] / per_trade, 0.0),
        "total_profit": floats[:, _TOTAL],
        "avg_profit": np.where(trades > 0, floats[:, _TOTAL] / per_trade, 0.0),
        "profit_factor": _profit_factor(floats[:, _GAIN], floats[:, _LOSS]),
        "max_drawdown": floats[:, _DRAWDOWN],
        "avg_peak": np.where(trades > 0, floats[:, _PEAK] / per_trade, 0.0),
        "net_profit_usd": ints[:, _NET] / 100,
        "gross_profit_usd": ints[:, _GROSS] / 100,
        "costs_usd": ints[:, _COSTS] / 100,
        "avg_trade_usd": np.where(trades > 0, ints[:, _NET] / 100 / per_trade, 0.0),
        "profit_factor_usd": _profit_factor(ints[:, _NET_GAIN] / 100, ints[:, _NET_LOSS] / 100),
        "max_drawdown_usd": ints[:, _DD_CENTS] / 100,
        "max_drawdown_days": ints[:, _DD_DAYS],
        "sharpe": floats[:, _SHARPE],
        "sortino": floats[:, _SORTINO],
        "trades_per_year": trades * TRADING_DATES_PER_YEAR / n_dates if n_dates
        else np.zeros(len(trades)),
        "best_day_usd": ints[:, _BEST] / 100,
        "worst_day_usd": ints[:, _WORST] / 100,
        **_band_columns(rows, n_dates),
    }
    return {name: _rounded_list(name, columns[name]) for name in METRIC_COLUMNS}, daily


def _band_columns(rows: ComboRows, n_dates: int) -> dict[str, np.ndarray]:
    """FILL_METRICS of every combo: counts, and the net $ and Sharpe of the bounds' daily
    series (the Sharpe of those series: Sharpe is not monotone in a day's net, so the
    reference's Sharpe need not lie between them)."""
    flags = np.zeros(len(rows.result), bool)
    worst = rows.net_cents if rows.pessimistic_cents is None else rows.pessimistic_cents
    best = rows.net_cents if rows.optimistic_cents is None else rows.optimistic_cents
    ambiguous = flags if rows.ambiguous is None else rows.ambiguous
    undecided = ambiguous if rows.undecided is None else rows.undecided
    counts, cents, sharpe = _grouped_band(rows.starts, rows.result, worst, best, ambiguous,
                                          undecided, rows.day_index, n_dates)
    return {"ambiguous_trades": counts[:, 0], "undecided_trades": counts[:, 1],
            "net_usd_pessimistic": cents[:, 0] / 100, "net_usd_optimistic": cents[:, 1] / 100,
            "sharpe_pessimistic": sharpe[:, 0], "sharpe_optimistic": sharpe[:, 1]}


def combo_metrics(frame: pd.DataFrame, trading_dates: pd.DatetimeIndex | Sequence | None = None,
                  ) -> dict[str, float | int]:
    """Summary metrics of one combo's typed frame, rows in time order.

    The daily series runs over `trading_dates` (default: the frame's own dates). Profits
    and drawdown are in points, the ``_usd`` metrics in dollars after costs; a frame
    without the dollar columns counts them as 0.

    >>> f = pd.DataFrame({"result": ["Win", "Loss", "NoTrade"], "profit": [2.0, -1.0, 0.0],
    ...                   "peak": [2.0, 0.5, 0.0]})
    >>> m = combo_metrics(f)
    >>> m["trades"], m["profit_factor"], m["max_drawdown"]
    (2, 2.0, 1.0)
    """
    n = len(frame)
    days = (_day_numbers(frame["date"]) if "date" in frame.columns
            else np.zeros(n, np.int64))
    dates = np.unique(days) if trading_dates is None else _day_numbers(trading_dates)
    day_index = np.searchsorted(dates, days)
    if n and (day_index.max() >= len(dates) or not np.array_equal(dates[day_index], days)):
        raise ValueError("combo_metrics: some rows' dates are not among trading_dates")

    def cents(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.zeros(n, np.int64)
        return np.rint(frame[name].to_numpy(np.float64) * 100).astype(np.int64)

    def flags(name: str) -> np.ndarray | None:
        return frame[name].to_numpy(bool) if name in frame.columns else None

    band = {}
    if "net_usd_pessimistic" in frame.columns:
        band = {"pessimistic_cents": cents("net_usd_pessimistic"),
                "optimistic_cents": cents("net_usd_optimistic"),
                "ambiguous": flags("ambiguous"), "undecided": _undecided(frame)}
    rows = ComboRows(np.array([0, n]), _result_codes(frame["result"]).astype(np.int8),
                     frame["profit"].to_numpy(np.float64), frame["peak"].to_numpy(np.float64),
                     cents("gross_usd"), cents("costs_usd"), cents("net_usd"), day_index,
                     **band)
    columns, _ = grouped_metrics(rows, len(dates))
    return {name: values[0] for name, values in columns.items()}


def _undecided(frame: pd.DataFrame) -> np.ndarray | None:
    """Ambiguous rows that 1-second bars did not decide (research.engine.codes)."""
    if "ambiguous" not in frame.columns or "decided_by" not in frame.columns:
        return None
    decided = frame["decided_by"].astype(str).to_numpy() == DECIDED_NAMES[DECIDED_BY_SECONDS]
    return frame["ambiguous"].to_numpy(bool) & ~decided


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


def _day_numbers(dates: pd.Series | pd.DatetimeIndex | Sequence) -> np.ndarray:
    stamps = pd.DatetimeIndex(dates).as_unit("ns")
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    return np.asarray(stamps.asi8 // NS_PER_DAY, np.int64)


def _profit_factor(gain: np.ndarray, loss: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(loss > 0, gain / np.where(loss > 0, loss, 1),
                        np.where(gain > 0, math.inf, 0.0))


def _rounded_list(name: str, values: np.ndarray) -> list:
    if name in INT_COLUMNS:
        return [int(v) for v in values]
    # Python's round is the correctly rounded decimal one; + 0.0 turns -0.0 into 0.0
    return [round(v, FLOAT_DECIMALS) + 0.0 if math.isfinite(v) else v
            for v in map(float, values)]


# Columns of the kernel's outputs.
_NET, _GROSS, _COSTS, _NET_GAIN, _NET_LOSS, _DD_CENTS, _DD_DAYS, _BEST, _WORST = range(
    _UNKNOWN + 1, _UNKNOWN + 10)
_TOTAL, _GAIN, _LOSS, _PEAK, _DRAWDOWN, _SHARPE, _SORTINO = range(7)


@numba.njit(nogil=True, cache=True)
def _grouped_stats(starts, result, profit, peak, gross, costs, net, day_index,
                   n_dates):  # pragma: no cover - compiled
    """Per combo: result counts and cent sums (ints), point sums and ratios (floats), and
    the daily net cents; rows in time order within each combo."""
    n_combos = len(starts) - 1
    ints = np.zeros((n_combos, _WORST + 1), np.int64)
    floats = np.zeros((n_combos, _SORTINO + 1), np.float64)
    daily = np.zeros((n_combos, n_dates), np.int64)
    for c in range(n_combos):
        equity = 0.0
        equity_peak = 0.0
        for i in range(starts[c], starts[c + 1]):
            code = result[i]
            ints[c, code] += 1
            if code == NO_TRADE:
                continue
            p = profit[i]
            floats[c, _TOTAL] += p
            if p > 0:
                floats[c, _GAIN] += p
            elif p < 0:
                floats[c, _LOSS] -= p
            floats[c, _PEAK] += peak[i]
            equity += p
            equity_peak = max(equity_peak, equity)
            floats[c, _DRAWDOWN] = max(floats[c, _DRAWDOWN], equity_peak - equity)
            ints[c, _NET] += net[i]
            ints[c, _GROSS] += gross[i]
            ints[c, _COSTS] += costs[i]
            if net[i] > 0:
                ints[c, _NET_GAIN] += net[i]
            elif net[i] < 0:
                ints[c, _NET_LOSS] -= net[i]
            daily[c, day_index[i]] += net[i]
        _daily_stats(daily[c], ints[c], floats[c])
    return ints, floats, daily


@numba.njit(nogil=True, cache=True)
def _daily_stats(day_cents, ints, floats):  # pragma: no cover - compiled
    """Best/worst date, drawdown in cents and dates, Sharpe and Sortino (annualised)."""
    n = len(day_cents)
    if n == 0:
        return
    equity = 0
    equity_peak = 0
    under = 0
    best = day_cents[0]
    worst = day_cents[0]
    total = 0.0
    for d in range(n):
        cents = day_cents[d]
        best, worst = max(best, cents), min(worst, cents)
        total += cents / 100
        equity += cents
        equity_peak = max(equity_peak, equity)
        ints[_DD_CENTS] = max(ints[_DD_CENTS], equity_peak - equity)
        under = under + 1 if equity < equity_peak else 0
        ints[_DD_DAYS] = max(ints[_DD_DAYS], under)
    ints[_BEST], ints[_WORST] = best, worst
    mean = total / n
    squares = 0.0
    downside = 0.0
    for d in range(n):
        x = day_cents[d] / 100
        squares += (x - mean) ** 2
        downside += min(x, 0.0) ** 2
    annual = math.sqrt(TRADING_DATES_PER_YEAR)
    if n > 1 and best != worst:  # a constant series has no Sharpe, whatever float noise says
        floats[_SHARPE] = mean / math.sqrt(squares / (n - 1)) * annual
    if downside > 0:
        floats[_SORTINO] = mean / math.sqrt(downside / n) * annual
    elif mean > 0:
        floats[_SORTINO] = math.inf


@numba.njit(nogil=True, cache=True)
def _grouped_band(starts, result, worst, best, ambiguous, undecided, day_index,
                  n_dates):  # pragma: no cover - compiled
    """Per combo: (ambiguous, undecided) trade counts, (pessimistic, optimistic) net cents
    and the Sharpe of each bound's daily net series."""
    n_combos = len(starts) - 1
    counts = np.zeros((n_combos, 2), np.int64)
    cents = np.zeros((n_combos, 2), np.int64)
    sharpe = np.zeros((n_combos, 2), np.float64)
    scratch_ints = np.zeros(_WORST + 1, np.int64)
    scratch_floats = np.zeros(_SORTINO + 1, np.float64)
    for c in range(n_combos):
        daily = np.zeros((2, n_dates), np.int64)
        for i in range(starts[c], starts[c + 1]):
            if result[i] == NO_TRADE:
                continue
            counts[c, 0] += ambiguous[i]
            counts[c, 1] += undecided[i]
            cents[c, 0] += worst[i]
            cents[c, 1] += best[i]
            daily[0, day_index[i]] += worst[i]
            daily[1, day_index[i]] += best[i]
        for bound in range(2):
            scratch_ints[:] = 0
            scratch_floats[:] = 0.0
            _daily_stats(daily[bound], scratch_ints, scratch_floats)
            sharpe[c, bound] = scratch_floats[_SHARPE]
    return counts, cents, sharpe
