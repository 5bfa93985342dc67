"""Heatmap cells (median by default, every pair of axes), the PNGs, the colour scale, number
formats and the top table."""

import io
import itertools
from fnmatch import fnmatch

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from research.report import format_top, numeric_axes, top_combos, write_heatmaps
from research.report.colors import color_limits, diverging_color
from research.report.format import axis_value, count, pct, points, usd
from research.report.heatmaps import axis_levels, axis_pairs, heatmap_grid, heatmap_grids
from research.report.png import CELL_HEIGHT, cell_labels, heatmap_png, heatmap_title, layout
from research.results.metrics import METRIC_COLUMNS
from research.results.store import HEATMAP_GLOB, heatmap_name


def summary(**axes) -> pd.DataFrame:
    """A summary in grid order (first axis slowest); net $ and points cycle 0..6."""
    names = list(axes)
    points_ = list(itertools.product(*axes.values()))
    frame = pd.DataFrame(points_, columns=names)
    frame.insert(0, "combo_id", [f"c{i:02d}" for i in range(len(points_))])
    for metric in METRIC_COLUMNS:
        frame[metric] = 0.0
    frame["trades"] = 10
    frame["total_profit"] = [float(i % 7) for i in range(len(points_))]
    frame["net_profit_usd"] = frame["total_profit"] * 50
    return frame


def test_heatmap_per_pair_of_axes_slot_included(tmp_path):
    s = summary(target=[10, 15], t1_fraction=[0.5, 0.65, 0.8], slot=["08:30", "09:00"])
    paths = write_heatmaps(s, ["target", "t1_fraction", "slot"], tmp_path)
    assert [p.name for p in paths] == ["heatmap_target_t1_fraction_net_profit_usd.png",
                                       "heatmap_target_slot_net_profit_usd.png",
                                       "heatmap_t1_fraction_slot_net_profit_usd.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_three_numeric_axes_give_three_heatmaps(tmp_path):
    s = summary(a=[1, 2], b=[0.1, 0.2], c=[5, 6, 7])
    paths = write_heatmaps(s, ["a", "b", "c"], tmp_path, metric="win_rate")
    assert [p.name for p in paths] == [heatmap_name(x, y, "win_rate")
                                       for x, y in itertools.combinations("abc", 2)]
    assert all(fnmatch(p.name, HEATMAP_GLOB) for p in paths)  # what a fresh start wipes


@pytest.mark.parametrize("axes", [{"target": [10, 15]}, {"target": [10, 15], "fixed": [3]}])
def test_no_heatmap_with_fewer_than_two_varying_axes(tmp_path, axes):
    assert write_heatmaps(summary(**axes), list(axes), tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_text_and_bool_axes_are_drawn_in_grid_order_numbers_ascending():
    s = summary(target=[20, 10], slot=["09:30", "07:30"], trade_days=['["Tue"]', '["Mon"]'],
                flag=[True, False])
    assert axis_levels(s, "target") == (10, 20)
    assert axis_levels(s, "slot") == ("09:30", "07:30")
    assert axis_levels(s, "trade_days") == ('["Tue"]', '["Mon"]')
    assert axis_levels(s, "flag") == (True, False)
    assert len(axis_pairs(s, list(s.columns[1:5]))) == 6
    assert numeric_axes(s, ["target", "slot", "flag"]) == ["target"]
    assert axis_value('["Tue","Wed"]') == "Tue,Wed"


def cell_summary() -> pd.DataFrame:
    """a x b with three hidden combos (c) per cell; cell (a=1, b=1) holds 1, 2 and 9."""
    s = summary(a=[1, 2], b=[1, 2], c=["x", "y", "z"])
    s["net_profit_usd"] = [1.0, 2.0, 9.0, 0, 0, 0, -5.0, -1.0, -3.0, 4.0, 4.0, 4.0]
    s["trades"] = [10, 20, 60, 1, 1, 1, 5, 5, 5, 7, 8, 9]
    return s


def test_heatmap_cells_are_the_median_by_default_with_mean_and_max_selectable():
    s = cell_summary()
    median = heatmap_grid(s, "a", "b")  # rows b, columns a
    assert (median.metric, median.aggregate, median.hidden) == ("net_profit_usd", "median", ())
    assert median.values.tolist() == [[2.0, -3.0], [0.0, 4.0]]
    assert median.trades.tolist() == [[20.0, 5.0], [1.0, 8.0]]
    assert median.combos.tolist() == [[3, 3], [3, 3]]
    grids = heatmap_grids(s, "a", "b", ["net_profit_usd"], axes=["a", "b", "c"])
    assert grids["net_profit_usd", "mean"].values[0, 0] == 4.0
    assert grids["net_profit_usd", "max"].values[0, 0] == 9.0
    assert grids["net_profit_usd", "median"].hidden == ("c",)
    with pytest.raises(ValueError, match="aggregate 'sum'"):
        heatmap_grid(s, "a", "b", aggregate="sum")
    with pytest.raises(ValueError, match="not a summary column"):
        heatmap_grid(s, "a", "b", metric="nope")


def test_a_cell_without_finished_combos_is_empty_and_nan_values_are_left_out():
    s = cell_summary()
    s.loc[s["a"].eq(2) & s["b"].eq(2), "net_profit_usd"] = np.nan  # all three NaN
    s = s[~(s["a"].eq(2) & s["b"].eq(1))]  # every combo of that cell failed
    s.loc[0, "net_profit_usd"] = np.nan
    grid = heatmap_grid(s, "a", "b")
    assert np.isnan(grid.values[0, 1]) and grid.combos[0, 1] == 0
    assert np.isnan(grid.values[1, 1]) and grid.combos[1, 1] == 3
    assert grid.values[0, 0] == 5.5  # median of 2 and 9


def rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


def picture(grid, best=None) -> Image.Image:
    return Image.open(io.BytesIO(heatmap_png(grid, best))).convert("RGB")


def test_colour_scale_is_centred_on_zero_with_symmetric_limits():
    # Every cell profitable: the scale still runs from -max to +max, so +63 is light blue.
    assert color_limits([63.0, 265.25, 980.0]) == (-980.0, 980.0)
    assert color_limits([-5.0, 2.0]) == (-5.0, 5.0)
    assert color_limits([float("nan")]) == (-1.0, 1.0)
    assert diverging_color(0.0, 980.0) == "#f7f7f7"
    red, _, blue = rgb(diverging_color(63.0, 980.0))
    assert blue > red  # a gain is never painted red
    s = summary(a=[1, 2], b=[1, 2])
    s["net_profit_usd"] = [63.0, 265.25, 500.0, 980.0]
    grid = heatmap_grid(s, "a", "b")
    assert grid.limits == (-980.0, 980.0)
    image, where = picture(grid), layout(grid)
    x0, y0, _, _ = where.cell_box(0, 0)  # a=1, b=1: +63
    assert image.getpixel((x0 + 4, y0 + 4)) == rgb(diverging_color(63.0, 980.0))
    key_middle = (where.key_left + 8, where.top + CELL_HEIGHT)  # half of two rows: value 0
    near_white = zip(image.getpixel(key_middle), rgb("#f7f7f7"), strict=True)
    assert max(abs(a - b) for a, b in near_white) <= 8


def test_png_title_has_units_cells_have_consistent_decimals_and_trades_best_outlined():
    s = summary(slot=["07:30", "09:30"], target=[10, 15])
    s["net_profit_usd"] = [265.25, 1000.0, -12.5, 3.0]
    s["trades"] = [12, 14, 9, 11]
    grid = heatmap_grid(s, "slot", "target", axes=["slot", "target"])
    assert heatmap_title(grid)[0] == "Median net P&L ($ after costs) by slot and target"
    assert cell_labels(grid) == [[("265.25", "n=12"), ("-12.50", "n=9")],
                                 [("1,000.00", "n=14"), ("3.00", "n=11")]]
    assert (grid.x_levels, grid.y_levels) == (("07:30", "09:30"), (10, 15))
    best = top_combos(s, n=1).iloc[0].to_dict()
    image, where = picture(grid, best), layout(grid)
    x0, y0, _, _ = where.cell_box(1, 0)  # slot 07:30, target 15: 1,000.00
    assert image.getpixel((x0 + 2, y0 + 2)) == (17, 17, 17)  # the outline
    plain = picture(grid)
    assert plain.getpixel((x0 + 2, y0 + 2)) == rgb(diverging_color(1000.0, 1000.0))
    assert image.size == (where.width, where.height) and image.width > where.key_left


def test_number_formats_are_consistent():
    assert [usd(265.25), usd(265.2), usd(-1234567.891), usd(-0.001)] == \
        ["265.25", "265.20", "-1,234,567.89", "0.00"]
    assert points(12.5) == "12.50" and pct(0.5) == "50.0%" and count(1234.0) == "1,234"
    assert usd(float("nan")) == "–" and usd(None) == "–" and usd(float("-inf")) == "-∞"


def test_top_order_and_ties_follow_grid_order():
    s = summary(target=[10, 15, 20, 25])
    s["total_profit"] = [5.0, 9.0, 5.0, np.nan]
    top = top_combos(s, "total_profit", n=3)
    assert list(top["combo_id"]) == ["c01", "c00", "c02"]  # tie 5.0: grid order
    assert list(top_combos(s, "total_profit", n=10)["combo_id"]) == ["c01", "c00", "c02", "c03"]
    with pytest.raises(ValueError, match="rank by 'nope': not a summary column"):
        top_combos(s, "nope")


def test_format_top_is_a_plain_table_ranked_by_net_dollars():
    s = summary(target=[10, 15], t1_fraction=[0.5, 0.65])
    s["net_profit_usd"] = [50.0, 2000.0, 1500.5, 100.0]
    s["win_rate"] = [0.5, 0.25, 0.125, 1.0]
    text = format_top(s, ["target", "t1_fraction"], n=2)
    lines = text.splitlines()
    assert lines[0] == "Top 2 of 4 combos by net_profit_usd"
    assert lines[1].split() == ["rank", "combo_id", "target", "t1_fraction", "trades",
                                "win_rate", "net_profit_usd", "net_usd_pessimistic",
                                "net_usd_optimistic", "ambiguous_trades", "profit_factor_usd",
                                "max_drawdown_usd", "sharpe"]
    assert lines[2].split()[:7] == ["1", "c01", "10", "0.65", "10", "25.0%", "2,000.00"]
    assert lines[3].split()[:2] == ["2", "c02"]
    assert len(lines) == 4
    by_points = format_top(s.assign(total_profit=[9.0, 1.0, 2.0, 3.0]), ["target"], n=1,
                           by="total_profit").splitlines()
    assert by_points[0] == "Top 1 of 4 combos by total_profit"
    assert by_points[1].split()[-1] == "total_profit" and by_points[2].split()[1] == "c00"
    assert format_top(s.iloc[:0], ["target"]) == "no finished combos"
