import itertools
from fnmatch import fnmatch

import numpy as np
import pandas as pd
import pytest

from research.metrics import METRIC_COLUMNS
from research.report import format_top, numeric_axes, top_combos, write_heatmaps
from research.store import HEATMAP_GLOB, heatmap_name


def summary(**axes) -> pd.DataFrame:
    """A summary in grid order (first axis slowest); total_profit cycles 0..6."""
    names = list(axes)
    points = list(itertools.product(*axes.values()))
    frame = pd.DataFrame(points, columns=names)
    frame.insert(0, "combo_id", [f"c{i:02d}" for i in range(len(points))])
    for metric in METRIC_COLUMNS:
        frame[metric] = 0.0
    frame["trades"] = 10
    frame["total_profit"] = [float(i % 7) for i in range(len(points))]
    return frame


def test_heatmap_per_pair_of_numeric_axes(tmp_path):
    s = summary(target=[10, 15], t1_fraction=[0.5, 0.65, 0.8], slot=["08:30", "09:00"])
    paths = write_heatmaps(s, ["target", "t1_fraction", "slot"], tmp_path)
    assert [p.name for p in paths] == ["heatmap_target_t1_fraction_total_profit.png"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [paths[0].name]  # no temp file left


def test_three_numeric_axes_give_three_heatmaps(tmp_path):
    s = summary(a=[1, 2], b=[0.1, 0.2], c=[5, 6, 7])
    paths = write_heatmaps(s, ["a", "b", "c"], tmp_path, metric="win_rate")
    assert [p.name for p in paths] == ["heatmap_a_b_win_rate.png", "heatmap_a_c_win_rate.png",
                                       "heatmap_b_c_win_rate.png"]
    assert all(p.exists() for p in paths)
    assert [p.name for p in paths] == [heatmap_name(x, y, "win_rate")
                                       for x, y in itertools.combinations("abc", 2)]
    assert all(fnmatch(p.name, HEATMAP_GLOB) for p in paths)  # what a fresh start wipes


@pytest.mark.parametrize("axes", [{"target": [10, 15]},
                                  {"target": [10, 15], "slot": ["08:30", "09:00"]},
                                  {"target": [10, 15], "fixed": [3]},
                                  {"target": [10, 15], "flag": [True, False]}])
def test_no_heatmap_with_fewer_than_two_numeric_axes(tmp_path, axes):
    assert write_heatmaps(summary(**axes), list(axes), tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_heatmap_cells_take_the_best_over_other_axes(tmp_path):
    s = summary(a=[1, 2], b=[1, 2], c=["x", "y"])
    s["total_profit"] = np.arange(len(s), dtype=float)
    assert numeric_axes(s, ["a", "b", "c"]) == ["a", "b"]
    grid = s.groupby(["b", "a"])["total_profit"].max().unstack("a")
    assert grid.loc[1, 1] == 1.0 and grid.loc[2, 2] == 7.0  # what write_heatmaps plots
    with pytest.raises(ValueError, match="not a summary column"):
        write_heatmaps(s, ["a", "b"], tmp_path, metric="nope")


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
                                "win_rate", "net_profit_usd", "profit_factor_usd",
                                "max_drawdown_usd", "sharpe"]
    assert lines[2].split()[:7] == ["1", "c01", "10", "0.65", "10", "25.0%", "2,000.00"]
    assert lines[3].split()[:2] == ["2", "c02"]
    assert len(lines) == 4
    by_points = format_top(s.assign(total_profit=[9.0, 1.0, 2.0, 3.0]), ["target"], n=1,
                           by="total_profit").splitlines()
    assert by_points[0] == "Top 1 of 4 combos by total_profit"
    assert by_points[1].split()[-1] == "total_profit" and by_points[2].split()[1] == "c00"
    assert format_top(s.iloc[:0], ["target"]) == "no finished combos"
