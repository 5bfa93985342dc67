"""Heatmap PNGs for people who paste pictures: the same cells and colours as the page.

One PNG per pair of axes (slot and text axes included), named by store.heatmap_name. The
colour scale is centred on zero with symmetric limits (colors.py); the title gives the
metric, its unit and the aggregate; each cell shows its value (formatted like the page) and
the median trades per combo; the in-sample best combo's cell is outlined.

matplotlib is imported only here, inside the functions that draw, and through its object
API (``Figure`` + Agg canvas) rather than pyplot: nothing global changes (a notebook's
backend stays as it was) and no figure outlives its call.

>>> import pandas as pd, tempfile
>>> s = pd.DataFrame({"combo_id": ["a", "b", "c", "d"], "slot": ["07:30", "07:30", "09:30",
...                   "09:30"], "target": [10, 15, 10, 15], "trades": [20, 20, 18, 18],
...                   "net_profit_usd": [-50.0, 10.0, 30.0, 70.0]})
>>> [p.name for p in write_heatmaps(s, ["slot", "target"], tempfile.mkdtemp())]
['heatmap_slot_target_net_profit_usd.png']
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from research.files import atomic_write
from research.report.colors import EMPTY_CELL, RDBU
from research.report.format import axis_value, count
from research.report.heatmaps import (
    DEFAULT_AGGREGATE,
    DEFAULT_METRIC,
    HeatmapGrid,
    aggregate_word,
    axis_pairs,
    heatmap_grid,
)
from research.report.labels import metric_view
from research.report.top import top_combos
from research.store import heatmap_name

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)


def write_heatmaps(summary: pd.DataFrame, axes: Sequence[str], out_dir: Path | str,
                   metric: str = DEFAULT_METRIC, aggregate: str = DEFAULT_AGGREGATE,
                   ) -> list[Path]:
    """One PNG per pair of axes with two or more values, ``heatmap_<x>_<y>_<metric>.png``.

    Each cell is the `aggregate` (median by default) of `metric` (net $ by default) over the
    other axes' values. Returns the paths written, in axis-pair order; none when fewer than
    two axes vary.
    """
    if metric not in summary.columns:
        raise ValueError(f"metric {metric!r} is not a summary column; have {list(summary)}")
    pairs = axis_pairs(summary, axes)
    best = _best_params(summary, metric)
    written = []
    for x, y in pairs:
        grid = heatmap_grid(summary, x, y, metric, aggregate, axes)
        path = Path(out_dir) / heatmap_name(x, y, metric)
        figure = heatmap_figure(grid, best)
        with atomic_write(path) as handle:
            figure.savefig(handle, format="png", dpi=100, metadata={"Software": None})
        written.append(path)
    logger.info("wrote %d heatmap(s) to %s", len(written), out_dir)
    return written


def _best_params(summary: pd.DataFrame, metric: str) -> Mapping[str, Any] | None:
    if summary.empty:
        return None
    return top_combos(summary, metric, 1).iloc[0].to_dict()


def heatmap_figure(grid: HeatmapGrid, best: Mapping[str, Any] | None = None) -> Figure:
    """The figure of one grid (not saved): cells, labels, a centred colour bar, the best
    combo's cell outlined."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LinearSegmentedColormap, Normalize
    from matplotlib.figure import Figure

    view = metric_view(grid.metric)
    n_rows, n_cols = grid.values.shape
    figure = Figure(figsize=(2.6 + 1.0 * max(n_cols, 3), 2.2 + 0.55 * max(n_rows, 3)))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    vmin, vmax = grid.limits
    cmap = LinearSegmentedColormap.from_list("research_rdbu", RDBU).with_extremes(bad=EMPTY_CELL)
    image = ax.imshow(np.ma.masked_invalid(grid.values), cmap=cmap,
                      norm=Normalize(vmin=vmin, vmax=vmax), aspect="auto")
    ax.set_xticks(range(n_cols), [axis_value(v) for v in grid.x_levels])
    ax.set_yticks(range(n_rows), [axis_value(v) for v in grid.y_levels])
    ax.set_xlabel(grid.x)
    ax.set_ylabel(grid.y)
    ax.set_title(heatmap_title(grid), fontsize=10)
    for (row, col), value in np.ndenumerate(grid.values):
        if math.isfinite(value):
            dark = abs(value) / vmax > 0.6
            ax.text(col, row, f"{view.format(value)}\nn={count(grid.trades[row, col])}",
                    ha="center", va="center", fontsize=7.5, color="white" if dark else "#222")
    cell = grid.cell_of(best) if best is not None else None
    if cell is not None:
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((cell[1] - 0.5, cell[0] - 0.5), 1, 1, fill=False,
                               edgecolor="black", linewidth=2.5))
    figure.colorbar(image, ax=ax, label=view.label)
    figure.tight_layout()
    return figure


def heatmap_title(grid: HeatmapGrid) -> str:
    """'Median net P&L ($ after costs) by slot and target' and what a cell aggregates.

    >>> g = HeatmapGrid("slot", "target", "net_profit_usd", "median", (), (), np.zeros((0, 0)),
    ...                 np.zeros((0, 0)), np.zeros((0, 0)), ("t1_fraction",))
    >>> print(heatmap_title(g))
    median net P&L ($ after costs) by slot and target
    cell: median over t1_fraction; n = median trades per combo; outlined: the best combo
    """
    view = metric_view(grid.metric)
    over = ", ".join(grid.hidden) if grid.hidden else "no other axis"
    return (f"{aggregate_word(grid.aggregate)} {view.label} by {grid.x} and {grid.y}\n"
            f"cell: {aggregate_word(grid.aggregate)} over {over}; "
            "n = median trades per combo; outlined: the best combo")
