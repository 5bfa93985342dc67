"""The heatmaps section stays small whatever the grid's shape (issue 19: a 100-value axis
made it 12.8 MB): a long axis is drawn in bins of consecutive values, each cell aggregating
its bin, the page says so, and all maps together hold at most the cell budget."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from research.report.heatmaps import AGGREGATES, axis_cells, heatmap_grids, level_cap
from research.report.labels import HEATMAP_METRICS
from research.report.page_heatmaps import CELL_BUDGET, MAX_AXIS_CELLS, heatmaps_section
from research.report.results_folder import ReportInputs

AXES = ("target", "stop_ticks", "t1_fraction")


def summary_of(sizes: tuple[int, ...], seed: int = 0) -> pd.DataFrame:
    """Every combo of axes 1..n (len(sizes) of AXES or more), random net $ and trades."""
    names = [*AXES, *(f"axis{i}" for i in range(len(AXES), len(sizes)))][:len(sizes)]
    values = np.array(np.meshgrid(*[np.arange(1, n + 1) for n in sizes], indexing="ij"))
    rng = np.random.default_rng(seed)
    combos = values[0].size
    frame = pd.DataFrame(dict(zip(names, values.reshape(len(sizes), -1), strict=True)))
    return frame.assign(combo_id=[f"c{i}" for i in range(combos)],
                        net_profit_usd=rng.normal(0, 1000, combos).round(2),
                        trades=rng.integers(10, 90, combos), total_profit=0.0, sharpe=0.0)


def figure(page: str, pair: str) -> str:
    start = page.index(f'data-pair="{pair}"')
    return page[start:page.index("</figure>", start)]


def test_a_hundred_value_axis_is_drawn_in_bins_and_the_page_says_so():
    summary = summary_of((100, 10, 10))
    page = heatmaps_section(ReportInputs.from_frames(summary, list(AXES)))
    shown = figure(page, "target-stop_ticks").split('data-agg="mean"')[0]  # the median map
    assert shown.count('class="cell"') == MAX_AXIS_CELLS * 10
    assert "target: 100 values in 30 bins of consecutive values" in shown
    assert f"drawn in at most {MAX_AXIS_CELLS} rows or columns" in page
    # 100 values in 30 bins: ten bins of 4 values, then twenty of 3, first to last
    assert ">1–4</text>" in shown and ">5–8</text>" in shown and ">98–100</text>" in shown
    short = figure(page, "stop_ticks-t1_fraction")  # two axes of 10: drawn whole
    assert "bins" not in short and short.split('data-agg="mean"')[0].count('class="cell"') == 100


def test_a_bin_holds_the_aggregate_of_every_combo_of_its_values():
    summary = summary_of((100, 10, 10), seed=4)
    grids = heatmap_grids(summary, "target", "stop_ticks", ["net_profit_usd"], AGGREGATES,
                          AXES, max_levels=MAX_AXIS_CELLS)
    in_bin = summary[summary["target"].between(5, 8) & (summary["stop_ticks"] == 3)]
    assert len(in_bin) == 4 * 10
    expected = {"median": np.median(in_bin["net_profit_usd"]),
                "mean": np.mean(in_bin["net_profit_usd"]), "max": in_bin["net_profit_usd"].max()}
    for aggregate, value in expected.items():
        grid = grids["net_profit_usd", aggregate]
        assert grid.values[2, 1] == pytest.approx(value, rel=1e-12)
        assert grid.combos[2, 1] == 40
    assert grids["net_profit_usd", "median"].cell_of({"target": 7, "stop_ticks": 3}) == (2, 1)
    assert grids["net_profit_usd", "median"].cell_of({"target": 101, "stop_ticks": 3}) is None


def sampled(sizes: tuple[int, ...], combos: int = 3000) -> pd.DataFrame:
    """`combos` random combos of axes of these sizes (every value drawn, not every combo)."""
    rng = np.random.default_rng(1)
    frame = summary_of((combos,)).drop(columns=AXES[0])
    for index, size in enumerate(sizes):
        frame[f"axis{index}"] = np.r_[np.arange(1, size + 1),
                                      rng.integers(1, size + 1, combos - size)]
    return frame


@pytest.mark.slow  # ~10,000 cells drawn per case
@pytest.mark.parametrize("sizes", [(100, 10, 10), (60, 60, 60), (7,) * 9])
def test_all_maps_together_stay_within_the_cell_budget(sizes):
    summary = sampled(sizes)
    axes = [f"axis{index}" for index in range(len(sizes))]
    page = heatmaps_section(ReportInputs.from_frames(summary, axes))
    variants = len(AGGREGATES) * len([m for m in HEATMAP_METRICS if m in summary.columns])
    assert page.count('class="cell"') <= CELL_BUDGET * variants
    widest = max(len(re.findall(r'class="cell"', part)) for part in
                 page.split('<div class="hm"')[1:])
    assert widest <= MAX_AXIS_CELLS ** 2


def test_bins_split_an_axis_evenly_and_keep_short_axes_whole():
    cells = axis_cells(tuple(range(10, 110, 10)), 3)
    assert cells.members == ((10, 20, 30, 40), (50, 60, 70), (80, 90, 100))
    assert cells.labels == ("10–40", "50–70", "80–100") and cells.binned
    assert not axis_cells(("07:30", "08:00"), 3).binned
    assert level_cap([(100, 10), (100, 10), (10, 10)], 700) == 30  # 2 x 30 x 10 + 100 cells
    assert level_cap([(5, 5)] * 3, 10) == 2  # never fewer than two rows a map
