"""Heatmap cells from a summary: one metric over a pair of axes, aggregated over the others.

Shared by the PNGs (png.py) and the page (page_heatmaps.py), so both show the same numbers.
A cell holds every combo with that pair of values; its value is the **median** of the metric
over them by default (the typical combo, not the luckiest one: backtesting.py's
``plot_heatmaps`` takes the max and so paints the best case of every cell); ``mean`` and
``max`` are there to compare. Each cell also counts its combos and their trades.

Every axis with two or more values is drawn, whatever its kind: numbers in ascending order,
text (``slot``, JSON lists such as ``trade_days``) and booleans in grid order (the order of
first appearance in the summary, which is in grid order).

An axis of more values than a map can show (``max_levels``, set by the page's cell budget,
issue 19: the report's size must not grow with the grid) is drawn as bins of consecutive
values in that order, each bin a row or column that aggregates every combo of its values,
labelled by its first and last value (``10–18``).

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


@dataclass(frozen=True, slots=True)
class AxisCells:
    """An axis as a map draws it: `labels[i]` is row/column i (a value, or a bin's
    ``first–last`` text) and `members[i]` the axis values it holds (one unless binned).

    >>> cells = axis_cells(tuple(range(1, 11)), 4)
    >>> cells.labels, cells.members[0], cells.binned
    (('1–3', '4–6', '7–8', '9–10'), (1, 2, 3), True)
    """

    labels: tuple[Any, ...]
    members: tuple[tuple[Any, ...], ...]

    @property
    def binned(self) -> bool:
        return len(self.labels) < sum(len(m) for m in self.members)

    def index_of(self, value: Any) -> int:
        """The row/column holding `value`; ValueError when none does."""
        for index, members in enumerate(self.members):
            if value in members:
                return index
        raise ValueError(value)


def axis_cells(levels: tuple[Any, ...], max_levels: int | None = None) -> AxisCells:
    """`levels` as at most `max_levels` rows/columns: consecutive values split as evenly as
    possible (np.array_split), each bin labelled by its first and last value."""
    if max_levels is None or len(levels) <= max_levels:
        return AxisCells(levels, tuple((level,) for level in levels))
    from research.report.format import axis_value  # format imports nothing from here

    bins = [tuple(levels[i] for i in part)
            for part in np.array_split(np.arange(len(levels)), max_levels)]
    labels = tuple(axis_value(b[0]) if len(b) == 1 else f"{axis_value(b[0])}–{axis_value(b[-1])}"
                   for b in bins)
    return AxisCells(labels, tuple(bins))


def level_cap(level_counts: Sequence[tuple[int, int]], cell_budget: int,
              least: int = 2) -> int | None:
    """The largest number of rows/columns per axis that keeps the maps of every pair
    (`level_counts`: each pair's x and y value counts) within `cell_budget` cells in all;
    None when every axis fits whole, `least` when even that is over the budget.

    >>> level_cap([(100, 10), (100, 10), (10, 10)], 1_000)
    45
    >>> level_cap([(7, 7)], 1_000) is None
    True
    """
    def cells(cap: int) -> int:
        return sum(min(nx, cap) * min(ny, cap) for nx, ny in level_counts)

    longest = max((max(pair) for pair in level_counts), default=0)
    if cells(longest) <= cell_budget:
        return None
    cap = longest
    while cap > least and cells(cap) > cell_budget:
        cap -= 1
    return cap


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
    per combo there, `combos` how many combos; `hidden` the axes aggregated over. A binned
    axis' levels are its bins' labels and `x_cells` / `y_cells` say which values each holds."""

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
    x_cells: AxisCells | None = None
    y_cells: AxisCells | None = None

    @property
    def limits(self) -> tuple[float, float]:
        """The colour scale's symmetric limits (colors.color_limits of the values)."""
        return color_limits(self.values.ravel())

    def cell_of(self, params: Mapping[str, Any]) -> tuple[int, int] | None:
        """(row, column) of the cell a combo with these axis values falls in, if any."""
        try:
            row = self.y_cells.index_of(params[self.y]) if self.y_cells is not None \
                else self.y_levels.index(params[self.y])
            col = self.x_cells.index_of(params[self.x]) if self.x_cells is not None \
                else self.x_levels.index(params[self.x])
        except (KeyError, ValueError):
            return None
        return row, col


def heatmap_grids(summary: pd.DataFrame, x: str, y: str, metrics: Sequence[str],
                  aggregates: Sequence[str] = AGGREGATES, axes: Sequence[str] = (),
                  max_levels: int | None = None) -> dict[tuple[str, str], HeatmapGrid]:
    """The grids of every (metric, aggregate) over axes `x` and `y`, from one grouping; an
    axis of more than `max_levels` values is drawn in bins (axis_cells)."""
    for name in (x, y, *metrics, "trades"):
        if name not in summary.columns:
            raise ValueError(f"{name!r} is not a summary column; have {list(summary)}")
    unknown = sorted(set(aggregates) - set(AGGREGATES))
    if unknown:
        raise ValueError(f"aggregate {unknown[0]!r}: use one of {', '.join(AGGREGATES)}")
    x_all, y_all = axis_levels(summary, x), axis_levels(summary, y)
    x_cells, y_cells = axis_cells(x_all, max_levels), axis_cells(y_all, max_levels)
    x_levels, y_levels = x_cells.labels, y_cells.labels
    shape = (len(y_levels), len(x_levels))
    rows = _cell_codes(summary[y], y_all, y_cells)
    cols = _cell_codes(summary[x], x_all, x_cells)
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
    binned = {"x_cells": x_cells if x_cells.binned else None,
              "y_cells": y_cells if y_cells.binned else None}
    return {key: HeatmapGrid(x, y, key[0], key[1], x_levels, y_levels, grid, trades, combos,
                             hidden, **binned) for key, grid in values.items()}


def _cell_codes(column: pd.Series, levels: tuple[Any, ...], cells: AxisCells) -> np.ndarray:
    """Each summary row's row/column in the map (-1: a value not drawn, e.g. missing)."""
    codes = pd.Categorical(column, categories=list(levels)).codes.astype(np.int64)
    if not cells.binned:
        return codes
    bin_of_level = np.repeat(np.arange(len(cells.members)),
                             [len(members) for members in cells.members])
    return np.where(codes >= 0, bin_of_level[np.maximum(codes, 0)], -1)


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
