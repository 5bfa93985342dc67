"""Heatmap PNGs for people who paste pictures: the same cells, colours and labels as the page.

One PNG per pair of axes (slot and text axes included), named by store.heatmap_name. The
colour scale is centred on zero with symmetric limits (colors.py); the title gives the
aggregate, the metric and its unit; each cell shows its value (formatted like the page) and
the median trades per combo; the in-sample best combo's cell is outlined.

Drawn with Pillow rather than matplotlib: a heatmap is rectangles and text, and Pillow
draws three of them in well under 0.1 s, where importing matplotlib alone takes about a
second at the end of every sweep. Pillow's bundled font (``ImageFont.load_default``) makes
the pictures the same on every machine.

>>> import pandas as pd, tempfile
>>> s = pd.DataFrame({"combo_id": ["a", "b", "c", "d"], "slot": ["07:30", "07:30", "09:30",
...                   "09:30"], "target": [10, 15, 10, 15], "trades": [20, 20, 18, 18],
...                   "net_profit_usd": [-50.0, 10.0, 30.0, 70.0]})
>>> [p.name for p in write_heatmaps(s, ["slot", "target"], tempfile.mkdtemp())]
['heatmap_slot_target_net_profit_usd.png']
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research.report.colors import diverging_colors, text_color
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
from research.results.atomic import atomic_write
from research.results.store import heatmap_name

logger = logging.getLogger(__name__)

CELL_HEIGHT, MIN_CELL_WIDTH, PAD = 46, 84, 14
KEY_WIDTH, KEY_STEPS = 16, 64
TITLE_SIZE, TEXT_SIZE, SMALL_SIZE = 16, 13, 11


@cache
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


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
    best = top_combos(summary, metric, 1).iloc[0].to_dict() if not summary.empty else None
    written = []
    for x, y in axis_pairs(summary, axes):
        path = Path(out_dir) / heatmap_name(x, y, metric)
        picture = heatmap_png(heatmap_grid(summary, x, y, metric, aggregate, axes), best)
        with atomic_write(path) as handle:
            handle.write(picture)
        written.append(path)
    logger.info("wrote %d heatmap(s) to %s", len(written), out_dir)
    return written


def heatmap_title(grid: HeatmapGrid) -> tuple[str, str]:
    """The title (aggregate, metric, unit, axes) and what a cell holds.

    >>> g = HeatmapGrid("slot", "target", "net_profit_usd", "median", (), (), np.zeros((0, 0)),
    ...                 np.zeros((0, 0)), np.zeros((0, 0)), ("t1_fraction",))
    >>> print("\\n".join(heatmap_title(g)))
    Median net P&L ($ after costs) by slot and target
    cell: median over t1_fraction; n = median trades per combo; outlined: the best combo
    """
    view, word = metric_view(grid.metric), aggregate_word(grid.aggregate)
    over = ", ".join(grid.hidden) if grid.hidden else "no other axis"
    return (f"{word.capitalize()} {view.label} by {grid.x} and {grid.y}",
            f"cell: {word} over {over}; n = median trades per combo; outlined: the best combo")


def cell_labels(grid: HeatmapGrid) -> list[list[tuple[str, str] | None]]:
    """Each cell's two lines, (value, 'n=trades'), formatted like the page; None if empty.

    >>> g = HeatmapGrid("a", "b", "net_profit_usd", "median", (1,), (1,), np.array([[265.25]]),
    ...                 np.array([[12.0]]), np.array([[3]]))
    >>> cell_labels(g)
    [[('265.25', 'n=12')]]
    """
    view = metric_view(grid.metric)
    return [[(view.format(v), f"n={count(grid.trades[r, c])}") if math.isfinite(v) else None
             for c, v in enumerate(row)] for r, row in enumerate(grid.values)]


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things go in the picture, in pixels: the cells' origin and size, the key's."""

    width: int
    height: int
    left: int
    top: int
    cell_width: int
    key_left: int

    def cell_box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of a cell."""
        x0, y0 = self.left + col * self.cell_width, self.top + row * CELL_HEIGHT
        return x0, y0, x0 + self.cell_width, y0 + CELL_HEIGHT


def layout(grid: HeatmapGrid) -> Layout:
    """The picture's geometry: cells wide enough for their longest label."""
    n_rows, n_cols = grid.values.shape
    text, small = _font(TEXT_SIZE), _font(SMALL_SIZE)
    labels = [line for row in cell_labels(grid) for cell in row if cell for line in cell]
    cell_width = int(max([MIN_CELL_WIDTH, *(text.getlength(t) + 18 for t in labels)]))
    y_width = max([small.getlength(axis_value(v)) for v in grid.y_levels] or [0])
    left = int(PAD + TEXT_SIZE + 10 + y_width + 10)
    top = PAD + TITLE_SIZE + SMALL_SIZE + 22
    key_left = left + cell_width * n_cols + 20
    key_text = max(small.getlength(metric_view(grid.metric).format(v)) for v in grid.limits)
    title_width = max(_font(TITLE_SIZE).getlength(heatmap_title(grid)[0]),
                      small.getlength(heatmap_title(grid)[1])) + 2 * PAD
    width = int(max(key_left + KEY_WIDTH + 8 + key_text + PAD, title_width))
    height = top + CELL_HEIGHT * n_rows + SMALL_SIZE + TEXT_SIZE + 30
    return Layout(width, height, left, top, cell_width, key_left)


def heatmap_png(grid: HeatmapGrid, best: Mapping[str, Any] | None = None) -> bytes:
    """The PNG of one grid: title, cells with labels, axis labels, a centred colour key,
    the best combo's cell outlined."""
    from PIL import Image, ImageDraw

    where = layout(grid)
    image = Image.new("RGB", (where.width, where.height), "white")
    draw = ImageDraw.Draw(image)
    title, subtitle = heatmap_title(grid)
    draw.text((PAD, PAD), title, font=_font(TITLE_SIZE), fill="#1f2328")
    draw.text((PAD, PAD + TITLE_SIZE + 6), subtitle, font=_font(SMALL_SIZE), fill="#555555")
    _cells(draw, grid, where)
    _axes(image, draw, grid, where)
    _key(draw, grid, where)
    cell = grid.cell_of(best) if best is not None else None
    if cell is not None:
        x0, y0, x1, y1 = where.cell_box(*cell)
        draw.rectangle((x0 + 1, y0 + 1, x1 - 2, y1 - 2), outline="#111111", width=3)
    out = io.BytesIO()
    image.save(out, format="png", optimize=False, compress_level=6)
    return out.getvalue()


def _cells(draw, grid: HeatmapGrid, where: Layout) -> None:
    limit = grid.limits[1]
    fills = diverging_colors(grid.values.ravel(), limit)
    labels = cell_labels(grid)
    for (row, col), value in np.ndenumerate(grid.values):
        x0, y0, x1, y1 = where.cell_box(row, col)
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fills[row * grid.values.shape[1] + col],
                       outline="#ffffff")
        if labels[row][col] is None:
            continue
        ink = text_color(value, limit)
        middle = (x0 + x1) / 2
        draw.text((middle, y0 + 17), labels[row][col][0], font=_font(TEXT_SIZE), fill=ink,
                  anchor="mm")
        draw.text((middle, y0 + 33), labels[row][col][1], font=_font(SMALL_SIZE), fill=ink,
                  anchor="mm")


def _axes(image, draw, grid: HeatmapGrid, where: Layout) -> None:
    from PIL import Image, ImageDraw

    n_rows, n_cols = grid.values.shape
    small, text = _font(SMALL_SIZE), _font(TEXT_SIZE)
    for row, level in enumerate(grid.y_levels):
        draw.text((where.left - 8, where.top + row * CELL_HEIGHT + CELL_HEIGHT / 2),
                  axis_value(level), font=small, fill="#333333", anchor="rm")
    bottom = where.top + n_rows * CELL_HEIGHT
    for col, level in enumerate(grid.x_levels):
        draw.text((where.left + (col + 0.5) * where.cell_width, bottom + 6), axis_value(level),
                  font=small, fill="#333333", anchor="mt")
    draw.text((where.left + n_cols * where.cell_width / 2, bottom + SMALL_SIZE + 14), grid.x,
              font=text, fill="#333333", anchor="mt")
    label = Image.new("RGB", (int(text.getlength(grid.y)) + 4, TEXT_SIZE + 6), "white")
    ImageDraw.Draw(label).text((2, 2), grid.y, font=text, fill="#333333")
    turned = label.rotate(90, expand=True)
    image.paste(turned, (PAD, int(where.top + n_rows * CELL_HEIGHT / 2 - turned.height / 2)))


def _key(draw, grid: HeatmapGrid, where: Layout) -> None:
    """The colour key: +limit at the top, 0 in the middle, -limit at the bottom."""
    n_rows = grid.values.shape[0]
    height = n_rows * CELL_HEIGHT
    limit = grid.limits[1]
    values = limit - (np.arange(KEY_STEPS) + 0.5) * 2 * limit / KEY_STEPS
    for i, fill in enumerate(diverging_colors(values, limit)):
        y0 = where.top + height * i / KEY_STEPS
        draw.rectangle((where.key_left, y0, where.key_left + KEY_WIDTH,
                        where.top + height * (i + 1) / KEY_STEPS), fill=fill)
    fmt, small = metric_view(grid.metric).format, _font(SMALL_SIZE)
    x = where.key_left + KEY_WIDTH + 6
    for value, y, anchor in ((limit, where.top, "lt"), (0.0, where.top + height / 2, "lm"),
                             (-limit, where.top + height, "lb")):
        draw.text((x, y), fmt(value), font=small, fill="#333333", anchor=anchor)
