"""§5 plateaus: one-step neighbours in the spec's order, slots within their session."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from research.analysis import AnalysisError
from research.analysis.plateau import (
    NO_NEIGHBOUR,
    neighbour_table,
    plateau_scores,
    rank_descending,
)
from research.analysis.positions import grid_positions


def grid_of(axes, drop=()):
    rows = [dict(zip(axes, point, strict=True)) for point in itertools.product(*axes.values())]
    params = pd.DataFrame(rows, index=[f"c{i}" for i in range(len(rows))]).drop(list(drop))
    return params, grid_positions(params, axes)


def neighbours_by_params(params, grid):
    table = neighbour_table(grid)
    labels = [tuple(row) for row in params.itertuples(index=False)]
    return {labels[i]: sorted(labels[j] for j in table[i] if j != NO_NEIGHBOUR)
            for i in range(len(labels))}


def test_slots_neighbour_only_within_their_session():
    params, grid = grid_of({"slot": ["07:30", "08:00", "09:00", "09:30", "10:00"]})
    found = neighbours_by_params(params, grid)
    assert found[("08:00",)] == [("07:30",), ("09:00",)]
    assert found[("09:00",)] == [("08:00",)]  # 09:30 is S2's
    assert found[("09:30",)] == [("10:00",)]


def test_slots_missing_from_the_grid_are_stepped_over_and_order_is_by_time():
    params, grid = grid_of({"slot": ["09:00", "07:30", "11:00", "10:00"]})
    found = neighbours_by_params(params, grid)
    assert found[("07:30",)] == [("09:00",)]
    assert found[("10:00",)] == [("11:00",)]


def test_numeric_axes_step_in_the_written_order_one_axis_at_a_time():
    params, grid = grid_of({"target": [10, 15, 20], "t1_fraction": [0.5, 0.65]})
    found = neighbours_by_params(params, grid)
    assert found[(15, 0.5)] == [(10, 0.5), (15, 0.65), (20, 0.5)]
    assert found[(10, 0.65)] == [(10, 0.5), (15, 0.65)]


def test_a_failed_combo_is_no_ones_neighbour():
    params, grid = grid_of({"target": [10, 15, 20]}, drop=["c1"])
    assert neighbours_by_params(params, grid) == {(10,): [], (20,): []}


def test_plateau_score_is_the_median_of_the_combo_and_its_neighbours():
    # target x t1 grid, metric by hand:      t1 0.5  0.65
    #                                  10      1     2
    #                                  15      9     3
    #                                  20      4     5
    params, grid = grid_of({"target": [10, 15, 20], "t1_fraction": [0.5, 0.65]})
    metric = np.array([1.0, 2.0, 9.0, 3.0, 4.0, 5.0])  # rows in product order
    scores, counts = plateau_scores(metric, neighbour_table(grid))
    # (10, .5): 1 9 2 -> 2     (10, .65): 2 3 1 -> 2     (15, .5): 9 1 4 3 -> 3.5
    # (15, .65): 3 2 5 9 -> 4  (20, .5): 4 9 5 -> 5      (20, .65): 5 3 4 -> 4
    assert scores.tolist() == [2.0, 2.0, 3.5, 4.0, 5.0, 4.0]
    assert counts.tolist() == [2, 2, 3, 3, 2, 2]
    # the lone spike (9, first by metric) is 4th after smoothing; ties share the best rank
    assert rank_descending(scores).tolist() == [5, 5, 4, 2, 1, 2]


def test_values_match_as_numbers_json_text_or_lists():
    params = pd.DataFrame({"target": [10.0, 15.0], "trade_days": ['["Mon","Tue"]', "[0]"]},
                          index=["a", "b"])
    grid = grid_positions(params, {"target": [10, 15], "trade_days": [[0], ["Mon", "Tue"]]})
    assert grid.index.tolist() == [[0, 1], [1, 0]]
    assert grid.params_of(0) == {"target": 10, "trade_days": ["Mon", "Tue"]}


def test_values_outside_the_grid_are_named():
    params = pd.DataFrame({"target": [10, 12]}, index=["a", "b"])
    with pytest.raises(AnalysisError, match=r"combo b: target = 12 is not one of the grid's "
                                            r"values \[10, 15\]"):
        grid_positions(params, {"target": [10, 15]})
    with pytest.raises(AnalysisError, match="no column for grid axis slot"):
        grid_positions(params, {"slot": ["07:30"]})
