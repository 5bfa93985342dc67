"""Reading a sweep's summary: heatmaps over pairs of numeric axes and a top-combos table.

Plots use matplotlib's object API (``Figure`` + Agg canvas) rather than pyplot: nothing
global changes (a notebook's backend stays as it was) and no figure outlives its call.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from research.files import atomic_write
from research.store import heatmap_name

logger = logging.getLogger(__name__)

TOP_METRICS = ("trades", "win_rate", "net_profit_usd", "profit_factor_usd", "max_drawdown_usd",
               "sharpe")
DEFAULT_RANK = "net_profit_usd"  # dollars after costs: what a combo earns
# Metrics where less is better: ranking by one puts the lowest first.
LOWER_IS_BETTER = ("max_drawdown", "max_drawdown_usd", "max_drawdown_days", "costs_usd")
_FORMATS = {"win_rate": "{:.1%}", "net_profit_usd": "{:,.2f}", "max_drawdown_usd": "{:,.2f}",
            "profit_factor_usd": "{:.2f}", "sharpe": "{:.2f}", "total_profit": "{:.2f}",
            "profit_factor": "{:.2f}", "max_drawdown": "{:.2f}"}


def numeric_axes(summary: pd.DataFrame, axes: Sequence[str]) -> list[str]:
    """The axes with at least two distinct numeric values (bools are not numeric here)."""
    out = []
    for axis in axes:
        column = summary[axis] if axis in summary.columns else None
        if (column is not None and pd.api.types.is_numeric_dtype(column)
                and not pd.api.types.is_bool_dtype(column) and column.nunique() >= 2):
            out.append(axis)
    return out


def write_heatmaps(summary: pd.DataFrame, axes: Sequence[str], out_dir: Path,
                   metric: str = "total_profit") -> list[Path]:
    """One PNG per pair of numeric axes, named by store.heatmap_name
    (``heatmap_<x>_<y>_<metric>.png``).

    Each cell is the best (max) `metric` over the other axes' values. Returns the paths
    written, in axis-pair order; none when fewer than two axes are numeric.
    """
    if metric not in summary.columns:
        raise ValueError(f"metric {metric!r} is not a summary column; have {list(summary)}")
    written = []
    for x, y in itertools.combinations(numeric_axes(summary, axes), 2):
        grid = summary.groupby([y, x])[metric].max().unstack(x).sort_index().sort_index(axis=1)
        path = Path(out_dir) / heatmap_name(x, y, metric)
        _plot_heatmap(grid, x, y, metric, path)
        written.append(path)
    logger.info("wrote %d heatmap(s) to %s", len(written), out_dir)
    return written


def _plot_heatmap(grid: pd.DataFrame, x: str, y: str, metric: str, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    values = grid.to_numpy(dtype=np.float64)
    fig = Figure(figsize=(2.5 + 0.9 * max(len(grid.columns), 3), 2.0 + 0.5 * max(len(grid), 3)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdYlGn", aspect="auto",
                      origin="lower")
    ax.set_xticks(range(len(grid.columns)), [_label(v) for v in grid.columns])
    ax.set_yticks(range(len(grid.index)), [_label(v) for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{metric} by {x} and {y}\n(best over the other axes)", fontsize=10)
    for (row, col), value in np.ndenumerate(values):
        ax.text(col, row, _label(value), ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax, label=metric)
    fig.tight_layout()
    with atomic_write(path) as handle:
        fig.savefig(handle, format="png", dpi=100, metadata={"Software": None})


def _label(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def top_combos(summary: pd.DataFrame, metric: str = DEFAULT_RANK, n: int = 10) -> pd.DataFrame:
    """The `n` best rows by `metric`: highest first, lowest first for LOWER_IS_BETTER
    (drawdowns, costs); ties keep the summary's (grid) order.

    >>> summary = pd.DataFrame({"combo_id": ["a", "b", "c"], "sharpe": [0.5, 1.2, -0.3],
    ...                         "max_drawdown_usd": [900.0, 1500.0, 400.0]})
    >>> top_combos(summary, "sharpe", n=2)["combo_id"].tolist()
    ['b', 'a']
    >>> top_combos(summary, "max_drawdown_usd", n=2)["combo_id"].tolist()
    ['c', 'a']
    """
    if metric not in summary.columns:
        raise ValueError(f"rank by {metric!r}: not a summary column; have {list(summary)}")
    ranked = summary.sort_values(metric, ascending=metric in LOWER_IS_BETTER, kind="stable",
                                 na_position="last")
    return ranked.head(n).reset_index(drop=True)


def format_top(summary: pd.DataFrame, axes: Sequence[str], n: int = 10,
               by: str = DEFAULT_RANK) -> str:
    """A plain-text table of the top `n` combos by `by` (net $ after costs by default), with
    their axes and key metrics (and `by` itself when it is another metric)."""
    if summary.empty:
        return "no finished combos"
    top = top_combos(summary, by, n)
    metrics = [*TOP_METRICS, *([by] if by not in TOP_METRICS else [])]
    columns = ["combo_id", *[a for a in axes if a in top.columns and a != "combo_id"],
               *metrics]
    table = top[columns].copy()
    table.insert(0, "rank", range(1, len(table) + 1))
    for name, pattern in _FORMATS.items():
        if name in table.columns:
            table[name] = [pattern.format(v) for v in table[name]]
    order = " (lowest first)" if by in LOWER_IS_BETTER else ""
    title = f"Top {len(table)} of {len(summary)} combos by {by}{order}"
    return title + "\n" + table.to_string(index=False)
