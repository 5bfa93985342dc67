"""Section 3, heatmaps: every pair of axes, the median over the other parameters by default
(mean and max selectable, and points or Sharpe instead of net $), colours centred on zero,
the in-sample best and the walk-forward's choices marked.

Every (metric, aggregate) variant is drawn here and the page's script shows one at a time,
so switching needs no computation in the browser and the page stays the same bytes.

The maps of all pairs together hold at most CELL_BUDGET cells (each drawn in every variant),
and no axis takes more than MAX_AXIS_CELLS rows or columns: a longer axis is drawn in bins
of consecutive values (heatmaps.axis_cells), and the map says so. So the section's size is
bounded whatever the grid's shape (issue 19: a 100-value axis made it 12.8 MB).

>>> import pandas as pd
>>> s = pd.DataFrame({"combo_id": list("abcd"), "slot": ["07:30", "07:30", "09:30", "09:30"],
...                   "target": [10, 15, 10, 15], "trades": [9, 9, 8, 8], "total_profit": 0.0,
...                   "sharpe": 0.0, "net_profit_usd": [-50.0, 10.0, 30.0, 70.0]})
>>> page = heatmaps_section(ReportInputs.from_frames(s, ["slot", "target"]))
>>> page.count('class="hm"'), page.count('class="hm" hidden')
(9, 8)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd

from research.report.format import count
from research.report.heatmap_svg import Marks, heatmap_svg
from research.report.heatmaps import (
    AGGREGATES,
    DEFAULT_AGGREGATE,
    DEFAULT_METRIC,
    HeatmapGrid,
    aggregate_word,
    axis_levels,
    axis_pairs,
    heatmap_grids,
    level_cap,
)
from research.report.labels import HEATMAP_METRICS, metric_view
from research.report.markup import esc, note, section
from research.report.results_folder import ReportInputs
from research.report.top import top_combos

SECTION_ID = "heatmaps"
CELL_BUDGET = 1_200  # cells of all pairs' maps together, per variant (~0.4 KB of SVG each)
MAX_AXIS_CELLS = 30  # rows or columns of one map: beyond it, bins of consecutive values


def _marks(grid: HeatmapGrid, best: Mapping[str, Any] | None,
           chosen: list[Mapping[str, Any]]) -> Marks:
    folds = Counter(cell for cell in (grid.cell_of(p) for p in chosen) if cell is not None)
    return Marks(grid.cell_of(best) if best is not None else None, dict(sorted(folds.items())))


def _fold_params(inputs: ReportInputs) -> list[Mapping[str, Any]]:
    """The summary rows (axis values) of the combos the walk-forward chose, once per fold."""
    wf = inputs.robustness.walk_forward if inputs.robustness else None
    if wf is None:
        return []
    rows = inputs.summary.set_index("combo_id", drop=False)
    return [rows.loc[f.combo_id].to_dict() for f in wf.folds if f.combo_id in rows.index]


def _subtitle(grid: HeatmapGrid) -> str:
    hidden = ", ".join(grid.hidden) if grid.hidden else "no other axis"
    per_cell = int(grid.combos.max()) if grid.combos.size else 0
    binned = [f"{name}: {sum(map(len, cells.members))} values in "
              f"{len(cells.labels)} bins of consecutive values"
              for name, cells in ((grid.x, grid.x_cells), (grid.y, grid.y_cells))
              if cells is not None]
    over = f"{hidden} and within each bin ({'; '.join(binned)})" if binned else hidden
    return (f"Each cell: the {aggregate_word(grid.aggregate)} over {over} "
            f"(up to {count(per_cell)} combos); n = median trades per combo.")


def axis_cap(summary: pd.DataFrame, pairs: list[tuple[str, str]]) -> int | None:
    """Rows/columns per axis that keep every pair's maps within CELL_BUDGET cells and
    MAX_AXIS_CELLS per axis (None: every axis drawn whole)."""
    counts = {name: len(axis_levels(summary, name)) for pair in pairs for name in pair}
    cap = level_cap([(counts[x], counts[y]) for x, y in pairs], CELL_BUDGET)
    if max(counts.values(), default=0) > MAX_AXIS_CELLS:
        cap = MAX_AXIS_CELLS if cap is None else min(cap, MAX_AXIS_CELLS)
    return cap


def _variant(grid: HeatmapGrid, marks: Marks) -> str:
    view = metric_view(grid.metric)
    shown = grid.metric == DEFAULT_METRIC and grid.aggregate == DEFAULT_AGGREGATE
    title = f"{aggregate_word(grid.aggregate).capitalize()} {view.label} by {grid.x} and {grid.y}"
    return (f'<div class="hm"{"" if shown else " hidden"} data-metric="{esc(grid.metric)}" '
            f'data-agg="{esc(grid.aggregate)}"><h4>{esc(title)}</h4>'
            f'<p class="muted small">{esc(_subtitle(grid))}</p>{heatmap_svg(grid, marks)}</div>')


def _controls(metrics: list[str]) -> str:
    aggs = "".join(f'<option value="{a}"{" selected" * (a == DEFAULT_AGGREGATE)}>'
                   f"{esc(aggregate_word(a))}</option>" for a in AGGREGATES)
    options = "".join(f'<option value="{m}"{" selected" * (m == DEFAULT_METRIC)}>'
                      f"{esc(metric_view(m).label)}</option>" for m in metrics)
    return ('<div class="controls"><label>Cell value <select id="hm-agg">' + aggs
            + '</select></label> <label>Metric <select id="hm-metric">' + options
            + "</select></label></div>")


def heatmaps_section(inputs: ReportInputs) -> str:
    """Every pair of axes, each in every selectable variant (one shown at a time)."""
    summary = inputs.summary
    pairs = axis_pairs(summary, inputs.axes) if not summary.empty else []
    if not pairs:
        return section(SECTION_ID, "Heatmaps", note(
            "Fewer than two grid axes take two or more values: no heatmap (see the top "
            "table)."))
    metrics = [m for m in HEATMAP_METRICS if m in summary.columns]
    best = top_combos(summary, DEFAULT_METRIC, 1).iloc[0].to_dict()
    chosen = _fold_params(inputs)
    figures, cap = [], axis_cap(summary, pairs)
    for x, y in pairs:
        grids = heatmap_grids(summary, x, y, metrics, AGGREGATES, inputs.axes, cap)
        variants = "".join(_variant(grids[m, a], _marks(grids[m, a], best, chosen))
                           for m in metrics for a in AGGREGATES)
        figures.append(f'<figure class="heatmap" data-pair="{esc(x)}-{esc(y)}">{variants}'
                       "</figure>")
    legend = ("Red: loss, blue: gain; each map's scale is centred on 0 and runs to ± its "
              "largest |value|. Outlined: the cell holding the in-sample best combo (the top "
              "table's first row). Dot: a cell holding a combo chosen by a walk-forward fold"
              + ("" if chosen else " (no walk-forward yet)") + ". Hover a cell for its "
              "numbers." + ("" if cap is None else f" To keep this page small, an axis is "
                            f"drawn in at most {cap} rows or columns: a longer one in bins of "
                            "consecutive values, each cell aggregating its bin."))
    pngs = inputs.manifest.get("heatmaps") or []
    png_note = note(f"PNG copies of the median net $ maps beside this file: {', '.join(pngs)}."
                    ) if pngs else ""
    return section(SECTION_ID, "Heatmaps", _controls(metrics) + f'<p class="small">{esc(legend)}'
                   "</p>" + "".join(figures) + png_note)
