"""One heatmap grid as inline SVG: coloured cells with their value and trade count, hover
text per cell, marks on the in-sample best and the walk-forward's choices, a colour key.

Colours come from colors.py, the same scale as the PNGs: centred on zero, symmetric limits.

>>> import pandas as pd
>>> from research.report.heatmaps import heatmap_grid
>>> s = pd.DataFrame({"slot": ["07:30", "09:30"], "target": [10, 10], "trades": [20, 18],
...                   "net_profit_usd": [-50.0, 30.0]})
>>> svg = heatmap_svg(heatmap_grid(s, "slot", "target"), Marks(best=(0, 1)))
>>> svg.count('class="cell"'), 'class="best"' in svg
(2, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from research.report.charts import px, svg_document, svg_text
from research.report.colors import diverging_colors, text_color
from research.report.format import axis_value, count
from research.report.heatmaps import HeatmapGrid, aggregate_word
from research.report.labels import metric_view
from research.report.markup import esc

CELL_HEIGHT = 42
KEY_STEPS = 21


@dataclass(frozen=True, slots=True)
class Marks:
    """Cells to mark: the in-sample best's (row, column) and how many walk-forward folds
    chose a combo in each cell."""

    best: tuple[int, int] | None = None
    folds: Mapping[tuple[int, int], int] = field(default_factory=dict)


def _width(texts: list[str], per_char: float = 6.8, least: float = 0) -> float:
    return max([least, *(len(t) * per_char for t in texts)])


def heatmap_svg(grid: HeatmapGrid, marks: Marks = Marks()) -> str:
    """The SVG of `grid`: x levels as columns, y levels as rows (first value on top)."""
    view = metric_view(grid.metric)
    n_rows, n_cols = grid.values.shape
    texts = [view.format(v) for v in grid.values.ravel() if math.isfinite(v)]
    cell_w = max(64.0, _width(texts, 7.0) + 14)
    y_labels = [axis_value(v) for v in grid.y_levels]
    left = 34 + _width(y_labels, 7.0, 24)
    top = 8
    width = left + cell_w * n_cols + 112
    height = top + CELL_HEIGHT * n_rows + 44
    limit = grid.limits[1]
    fills = diverging_colors(grid.values.ravel(), limit)
    parts = []
    for (row, col), value in np.ndenumerate(grid.values):
        parts.append(_cell(grid, row, col, value, left + col * cell_w, top + row * CELL_HEIGHT,
                           cell_w, limit, fills[row * n_cols + col], marks))
    for row, label in enumerate(y_labels):
        parts.append(svg_text(left - 8, top + row * CELL_HEIGHT + CELL_HEIGHT / 2 + 4, label,
                           "end", "tick"))
    for col, level in enumerate(grid.x_levels):
        parts.append(svg_text(left + col * cell_w + cell_w / 2, top + n_rows * CELL_HEIGHT + 16,
                           axis_value(level), cls="tick"))
    parts.append(svg_text(left + cell_w * n_cols / 2, height - 6, grid.x, cls="axis"))
    parts.append(svg_text(14, top + n_rows * CELL_HEIGHT / 2, grid.y, cls="axis", rotate=True))
    parts.append(_key(left + cell_w * n_cols + 18, top, n_rows * CELL_HEIGHT, limit, view))
    return svg_document(width, height, "".join(parts),
                f"{aggregate_word(grid.aggregate)} {view.label} by {grid.x} and {grid.y}")


def _cell(grid: HeatmapGrid, row: int, col: int, value: float, x: float, y: float,
          cell_w: float, limit: float, fill: str, marks: Marks) -> str:
    view = metric_view(grid.metric)
    where = f"{grid.x} {axis_value(grid.x_levels[col])}, {grid.y} {axis_value(grid.y_levels[row])}"
    combos = int(grid.combos[row, col])
    lines = [where]
    if combos:
        lines += [f"{aggregate_word(grid.aggregate)} {view.label}: {view.format(value)}",
                  f"{combos} combo{'s' * (combos != 1)}, median trades per combo "
                  f"{count(grid.trades[row, col])}"]
    else:
        lines.append("no finished combo")
    extra = ""
    if marks.best == (row, col):
        lines.append("outlined: holds the in-sample best combo")
        extra += (f'<rect class="best" x="{px(x + 1.5)}" y="{px(y + 1.5)}" '
                  f'width="{px(cell_w - 3)}" height="{CELL_HEIGHT - 3}"/>')
    chosen = marks.folds.get((row, col), 0)
    if chosen:
        lines.append(f"dot: chosen by {chosen} walk-forward fold{'s' * (chosen != 1)}")
        extra += (f'<circle class="wf" cx="{px(x + cell_w - 8)}" cy="{px(y + 8)}" r="4.5">'
                  "</circle>")
    ink = text_color(value, limit)
    body = (f'<rect x="{px(x)}" y="{px(y)}" width="{px(cell_w)}" height="{CELL_HEIGHT}" '
            f'fill="{fill}"/>')
    if combos:
        body += (f'<text x="{px(x + cell_w / 2)}" y="{px(y + 19)}" text-anchor="middle" '
                 f'class="hm-v" fill="{ink}">{esc(view.format(value))}</text>'
                 f'<text x="{px(x + cell_w / 2)}" y="{px(y + 33)}" text-anchor="middle" '
                 f'class="hm-n" fill="{ink}">n {esc(count(grid.trades[row, col]))}</text>')
    title = esc("\n".join(lines))
    return f'<g class="cell"><title>{title}</title>{body}{extra}</g>'


def _key(x: float, y: float, height: float, limit: float, view) -> str:
    """The colour key: limit at the top, 0 in the middle, -limit at the bottom."""
    step = height / KEY_STEPS
    values = limit - (np.arange(KEY_STEPS) + 0.5) * 2 * limit / KEY_STEPS
    parts = [f'<rect x="{px(x)}" y="{px(y + i * step)}" width="12" height="{px(step + 0.6)}" '
             f'fill="{fill}"/>' for i, fill in enumerate(diverging_colors(values, limit))]
    for value, at in ((limit, y + 4), (0.0, y + height / 2 + 4), (-limit, y + height)):
        parts.append(svg_text(x + 16, at, view.format(value), "start", "tick"))
    return "".join(parts)
