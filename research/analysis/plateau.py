"""Plateau scores (§5): a combo's metric smoothed with its one-step grid neighbours.

A combo's neighbours differ from it on exactly one axis, by one step in the spec's order
of that axis' values (the previous or next value as written: for numbers, write them in
order). On the ``slot`` axis the steps are between the grid's slots of the same session,
in time order (``SESSION_SLOTS``): 08:00's neighbours are 07:30 and 09:00, never 09:30. A
neighbour that is not in the results (a failed combo) is left out. The plateau score is
the median metric of the combo and its neighbours: a lone good cell scores low, a plateau
near its own value.
"""

from __future__ import annotations

import numpy as np

from research.analysis.positions import GridPositions
from research.engine.sessions import ALL_SLOTS, SLOT_AXIS, session_of_slot
from research.errors import AnalysisError

NO_NEIGHBOUR = -1


def neighbour_table(grid: GridPositions) -> np.ndarray:
    """(combos x 2·axes) int64: each combo's previous and next neighbour on every axis, as
    a combo index, or NO_NEIGHBOUR.

    >>> import pandas as pd
    >>> from research.analysis.positions import grid_positions
    >>> slots = {"slot": ["08:00", "09:00", "09:30"]}
    >>> neighbour_table(grid_positions(pd.DataFrame(slots), slots)).tolist()
    [[-1, 1], [0, -1], [-1, -1]]
    """
    codes = np.ravel_multi_index(tuple(grid.index.T), grid.shape) if grid.axes else \
        np.zeros(len(grid.index), dtype=np.int64)
    combo_at = np.full(int(np.prod(grid.shape)), NO_NEIGHBOUR, dtype=np.int64)
    combo_at[codes] = np.arange(len(codes))
    if np.count_nonzero(combo_at != NO_NEIGHBOUR) != len(codes):
        raise AnalysisError("two combos sit at the same grid point (a value listed twice?)")
    columns = []
    for axis, (name, values) in enumerate(zip(grid.axes, grid.values, strict=True)):
        for step_to in _steps(name, values):
            moved = grid.index.copy()
            moved[:, axis] = step_to[grid.index[:, axis]]
            inside = moved[:, axis] != NO_NEIGHBOUR
            neighbour = np.full(len(codes), NO_NEIGHBOUR, dtype=np.int64)
            neighbour[inside] = combo_at[np.ravel_multi_index(tuple(moved[inside].T),
                                                              grid.shape)]
            columns.append(neighbour)
    return np.column_stack(columns) if columns else np.empty((len(codes), 0), np.int64)


def plateau_scores(metric_values: np.ndarray,
                   neighbours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median metric over each combo and its neighbours, and how many neighbours it had.

    >>> import pandas as pd
    >>> from research.analysis.positions import grid_positions
    >>> targets = {"target": [10, 15, 20, 25, 30]}
    >>> grid = grid_positions(pd.DataFrame(targets), targets)
    >>> spike, _ = plateau_scores(np.array([0.0, 0.0, 3.0, 0.0, 0.0]), neighbour_table(grid))
    >>> ridge, _ = plateau_scores(np.array([0.0, 3.0, 3.0, 3.0, 0.0]), neighbour_table(grid))
    >>> spike.tolist(), ridge.tolist()
    ([0.0, 0.0, 0.0, 0.0, 0.0], [1.5, 3.0, 3.0, 3.0, 1.5])
    """
    present = neighbours != NO_NEIGHBOUR
    around = np.where(present, metric_values[np.where(present, neighbours, 0)], np.nan)
    cells = np.column_stack([metric_values, around])
    return np.nanmedian(cells, axis=1), present.sum(axis=1)


def rank_descending(values: np.ndarray) -> np.ndarray:
    """1 for the highest value; equal values share the best of their ranks.

    >>> rank_descending(np.array([0.5, 2.0, 0.5, -1.0])).tolist()
    [2, 1, 2, 4]
    """
    ascending = np.sort(values)
    return len(values) - np.searchsorted(ascending, values, side="right") + 1


def _steps(name: str, values: tuple) -> tuple[np.ndarray, np.ndarray]:
    """For each position on an axis: the position one step back, and one step forward."""
    count = len(values)
    if name != SLOT_AXIS:
        back = np.arange(count) - 1
        forward = np.where(np.arange(count) + 1 < count, np.arange(count) + 1, NO_NEIGHBOUR)
        return back, forward
    if unknown := [value for value in values if value not in ALL_SLOTS]:
        raise AnalysisError(f"grid axis {SLOT_AXIS}: {unknown!r} are not slots; "
                            f"allowed: {', '.join(ALL_SLOTS)}")
    order = sorted(range(count), key=lambda i: ALL_SLOTS.index(values[i]))
    back = np.full(count, NO_NEIGHBOUR, dtype=np.int64)
    forward = np.full(count, NO_NEIGHBOUR, dtype=np.int64)
    for earlier, later in zip(order, order[1:], strict=False):
        if session_of_slot(values[earlier]) == session_of_slot(values[later]):
            back[later], forward[earlier] = earlier, later
    return back, forward
