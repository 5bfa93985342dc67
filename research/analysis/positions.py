"""Where each combo sits in the grid: its position along every axis, in the spec's order.

A sweep's grid is a cartesian product of axes written in the spec (``manifest.json``'s
``spec.grid``), and its summary holds each combo's axis values as written: numbers, slot
labels, booleans, or JSON text for list-valued axes (``trade_days``). Positions make the
plateau's neighbours and the walk-forward's parameters plain index arithmetic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Number
from typing import Any

import numpy as np
import pandas as pd

from research.errors import AnalysisError


@dataclass(frozen=True, slots=True, eq=False)
class GridPositions:
    """Axis names, their values as written, and each combo's position on each axis."""

    axes: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    index: np.ndarray  # (combos x axes) int64

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(values) for values in self.values)

    def params_of(self, combo: int) -> dict[str, Any]:
        """A combo's axis values as written in the spec."""
        return {axis: values[position] for axis, values, position
                in zip(self.axes, self.values, self.index[combo].tolist(), strict=True)}


def grid_positions(params: pd.DataFrame, axes: Mapping[str, Sequence[Any]]) -> GridPositions:
    """Match every combo's values (rows of `params`, one column per axis) to the axes'.

    Numbers match by value (10 == 10.0), text exactly, lists and mappings by canonical JSON
    (so the summary's '["Mon","Tue"]' matches the spec's [Mon, Tue]).

    >>> params = pd.DataFrame({"slot": ["07:30", "08:00"], "target": [10, 10]}, index=["a", "b"])
    >>> grid = grid_positions(params, {"slot": ["07:30", "08:00"], "target": [10, 15]})
    >>> grid.index.tolist(), grid.params_of(1)
    ([[0, 0], [1, 0]], {'slot': '08:00', 'target': 10})
    """
    names = tuple(axes)
    if missing := [name for name in names if name not in params.columns]:
        have = ", ".join(map(str, params.columns))
        raise AnalysisError(f"the parameter table has no column for grid axis "
                            f"{', '.join(missing)} (columns: {have})")
    columns = []
    for name in names:
        lookup = {_match_key(value): i for i, value in enumerate(axes[name])}
        if len(lookup) != len(axes[name]):
            raise AnalysisError(f"grid axis {name}: {list(axes[name])!r} lists a value twice")
        positions = []
        for combo, value in zip(params.index, params[name].tolist(), strict=True):
            position = lookup.get(_match_key(value))
            if position is None:
                raise AnalysisError(f"combo {combo}: {name} = {value!r} is not one of the "
                                    f"grid's values {list(axes[name])!r}")
            positions.append(position)
        columns.append(positions)
    index = np.array(columns, dtype=np.int64).T.reshape(len(params), len(names))
    return GridPositions(names, tuple(tuple(axes[name]) for name in names), index)


def _match_key(value: Any) -> tuple[str, Any]:
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, Number):
        return ("number", float(value))  # type: ignore[arg-type]
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("[", "{"):
            try:
                return ("json", _canonical(json.loads(stripped)))
            except ValueError:
                pass
        return ("text", value)
    if isinstance(value, (list, tuple, Mapping)):
        return ("json", _canonical(value))
    return ("other", repr(value))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
