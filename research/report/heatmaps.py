"""Heatmap cells from a summary: one metric over a pair of axes, aggregated over the others.

Shared by the PNGs (png.py) and the page (page_heatmaps.py), so both show the same numbers.
A cell holds every combo with that pair of values; its value is the **median** of the metric
over them by default (the typical combo, not the luckiest one: backtesting.py's
``plot_heatmaps`` takes the max and so paints the best case of every cell); ``mean`` and
``max`` are there to compare. Each cell also counts its combos and their trades.

Every axis with two or more values is drawn, whatever its kind: numbers in ascending order,
text (``slot``, JSON lists such as ``trade_days``) and booleans in grid order (the order of
first appearance in the summary, which is in grid order).

>>> import pandas as pd
>>> s = pd.DataFrame({"slot": ["07:30", "07:30", "09:30", "09:30"], "target": [10, 15, 10, 15],
...                   "net_profit_usd": [-50.0, 10.0, 30.0, 70.0], "trades": [20, 20, 18, 18]})
>>> grid = heatmap_grid(s, "slot", "target")
>>> grid.x_levels, grid.y_levels
(('07:30', '09:30'), (10, 15))
>>> grid.values.tolist(), grid.trades.tolist()
([[-50.0, 30.0], [10.0, 70.0]], [[20.0, 18.0], [20.0, 18.0]])
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from research.report.colors import color_limits

AGGREGATES = ("median", "mean", "max")
DEFAULT_AGGREGATE = "median"
DEFAULT_METRIC = "net_profit_usd"  # dollars after costs, what a combo earns
_AGGREGATE_WORDS = {"median": "median", "mean": "mean", "max": "best (max)"}


def aggregate_word(aggregate: str) -> str:
    """How a title says the aggregate: 'median', 'mean', 'best (max)'."""
    return _AGGREGATE_WORDS[aggregate]


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def heatmap_axes(summary: pd.DataFrame, axes: Sequence[str]) -> list[str]:
    """The axes, in grid order, that the summary holds with at least two distinct values
    (the axes heatmaps are drawn for)."""
    return [a for a in axes if a in summary.columns and summary[a].nunique(dropna=True) >= 2]


def numeric_axes(summary: pd.DataFrame, axes: Sequence[str]) -> list[str]:
    """The axes with at least two distinct numeric values (bools are not numeric here)."""
    return [a for a in heatmap_axes(summary, axes) if _is_number(summary[a])]


def axis_pairs(summary: pd.DataFrame, axes: Sequence[str]) -> list[tuple[str, str]]:
    """Every pair of heatmap axes (x before y in grid order)."""
    return list(itertools.combinations(heatmap_axes(summary, axes), 2))


def axis_levels(summary: pd.DataFrame, axis: str) -> tuple[Any, ...]:
    """An axis' values in drawing order: numbers ascending, anything else in grid order."""
    column = summary[axis].dropna()
    if _is_number(column):
        return tuple(v.item() if hasattr(v, "item") else v for v in np.sort(column.unique()))
    return tuple(dict.fromkeys(column.tolist()))


@dataclass(frozen=True, slots=True, eq=False)
class HeatmapGrid:
    """One heatmap: `values[i, j]` is the `aggregate` of `metric` over the combos with
    `y_levels[i]` and `x_levels[j]` (NaN where none finished); `trades` the median trades
    per combo there, `combos` how many combos; `hidden` the axes aggregated over."""

    x: str
    y: str
    metric: str
    aggregate: str
    x_levels: tuple[Any, ...]
    y_levels: tuple[Any, ...]
    values: np.ndarray
    trades: np.ndarray
    combos: np.ndarray
    hidden: tuple[str, ...] = ()

    @property
    def limits(self) -> tuple[float, float]:
        """The colour scale's symmetric limits (colors.color_limits of the values)."""
        return color_limits(self.values.ravel())

    def cell_of(self, params: Mapping[str, Any]) -> tuple[int, int] | None:
        """(row, column) of the cell a combo with these axis values falls in, if any."""
        try:
            return self.y_levels.index(params[self.y]), self.x_levels.index(params[self.x])
        except (KeyError, ValueError):
            return None


def heatmap_grids(summary: pd.DataFrame, x: str, y: str, metrics: Sequence[str],
                  aggregates: Sequence[str] = AGGREGATES, axes: Sequence[str] = (),
                  ) -> dict[tuple[str, str], HeatmapGrid]:
    """The grids of every (metric, aggregate) over axes `x` and `y`, from one grouping."""
    for name in (x, y, *metrics, "trades"):
        if name not in summary.columns:
            raise ValueError(f"{name!r} is not a summary column; have {list(summary)}")
    unknown = sorted(set(aggregates) - set(AGGREGATES))
    if unknown:
        raise ValueError(f"aggregate {unknown[0]!r}: use one of {', '.join(AGGREGATES)}")
    x_levels, y_levels = axis_levels(summary, x), axis_levels(summary, y)
    shape = (len(y_levels), len(x_levels))
    rows = pd.Categorical(summary[y], categories=list(y_levels)).codes.astype(np.int64)
    cols = pd.Categorical(summary[x], categories=list(x_levels)).codes.astype(np.int64)
    cell = np.where((rows >= 0) & (cols >= 0), rows * shape[1] + cols, -1)
    order = np.argsort(cell, kind="stable")
    order = order[cell[order] >= 0]
    starts = np.flatnonzero(np.diff(cell[order], prepend=-1))
    groups = np.split(order, starts[1:]) if len(order) else []
    cells = [int(cell[g[0]]) for g in groups]
    trades, combos = np.full(shape, np.nan), np.zeros(shape, np.int64)
    columns = {m: summary[m].to_numpy(np.float64) for m in metrics}
    values = {(m, a): np.full(shape, np.nan) for m in metrics for a in aggregates}
    trade_counts = summary["trades"].to_numpy(np.float64)
    for where, members in zip(cells, groups, strict=True):
        at = divmod(where, shape[1])
        combos[at], trades[at] = len(members), _aggregate(trade_counts[members], "median")
        for metric in metrics:
            for aggregate in aggregates:
                values[metric, aggregate][at] = _aggregate(columns[metric][members], aggregate)
    hidden = tuple(a for a in axes if a not in (x, y))
    return {key: HeatmapGrid(x, y, key[0], key[1], x_levels, y_levels, grid, trades, combos,
                             hidden) for key, grid in values.items()}


def _aggregate(values: np.ndarray, aggregate: str) -> float:
    """The aggregate of a cell's values, NaNs left out (NaN when none is left)."""
    values = values[~np.isnan(values)]
    if not values.size:
        return float("nan")
    if aggregate == "median":
        return float(np.median(values))
    return float(values.mean() if aggregate == "mean" else values.max())


def heatmap_grid(summary: pd.DataFrame, x: str, y: str, metric: str = DEFAULT_METRIC,
                 aggregate: str = DEFAULT_AGGREGATE, axes: Sequence[str] = ()) -> HeatmapGrid:
    """One grid: `metric` over `x` (columns) and `y` (rows), `aggregate` over the rest."""
    return heatmap_grids(summary, x, y, [metric], [aggregate], axes)[metric, aggregate]
