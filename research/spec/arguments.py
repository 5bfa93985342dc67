"""Up-front type checks of the Python API's arguments, so a wrong type is named at the call.

A wrong type fails here with one line naming the argument and what it takes, instead of a
bare ``TypeError`` deep inside a run (or, for a string where a flag belongs, a silent yes).
Values are checked where they are parsed (ParallelSpec, check_store_trades, RunParams).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from research.engine.bars import Bars
from research.errors import InputTypeError, SpecError, shorten

# A grid above this many combos must be asked for (max_combos: / --max-combos): a typo in a
# spec should not start a sweep of hours, and every combo costs memory while it is planned.
DEFAULT_MAX_COMBOS = 100_000
STORE_TRADES = ("all", "none")  # store every combo's trades, or only summary and daily


def check_runner_arguments(*, data: Any, results_dir: Any, progress: Any,
                           keep_shards: Any) -> None:
    """The arguments of ``ResearchRunner(...)`` that no other check sees, by type.

    >>> check_runner_arguments(data=None, results_dir="results", progress=True,
    ...                        keep_shards=False)
    >>> check_runner_arguments(data=None, results_dir=5, progress=True, keep_shards=False)
    Traceback (most recent call last):
    ...
    research.errors.InputTypeError: results_dir: expected a folder path (str or PathLike), ...
    """
    if data is not None and not isinstance(data, (pd.DataFrame, Bars, str, os.PathLike)):
        raise InputTypeError(f"data: expected a DataFrame of bars, prepared Bars, a path or "
                             f"None, got {type(data).__name__}")
    if not isinstance(results_dir, (str, os.PathLike)):
        raise InputTypeError(f"results_dir: expected a folder path (str or PathLike), got "
                             f"{type(results_dir).__name__}")
    check_flag("progress", progress)
    check_flag("keep_shards", keep_shards)


def check_flag(name: str, value: Any) -> bool:
    """`value` if it is True or False: a string such as "no" would read as yes.

    >>> check_flag("progress", False)
    False
    """
    if not isinstance(value, bool):
        raise InputTypeError(f"{name}: {shorten(value)} is not True or False")
    return value


def check_keys(where: str, given: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """A spec section's keys: an unknown one is named with what is allowed.

    >>> check_keys("data", {"path": "x", "zone": "UTC"}, ("path", "timezone"))
    Traceback (most recent call last):
    ...
    research.errors.SpecError: data: unknown key(s) ['zone']; allowed: path, timezone
    """
    unknown = [k for k in given if k not in allowed]
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {shorten(unknown)}; allowed: "
                        f"{', '.join(allowed)}")


def check_max_combos(value: Any) -> int | None:
    """``max_combos``: the largest grid the sweep may run; None when not given.

    >>> check_max_combos(None), check_max_combos(500)
    (None, 500)
    """
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise SpecError(f"max_combos: {value!r} is not a whole number >= 1")
    return value


def check_store_trades(value: Any) -> str | None:
    """``store_trades``: "all" (every combo's rows in trades.parquet) or "none" (only the
    summary and the daily matrix, for very large grids); None when not given.

    >>> check_store_trades("none")
    'none'
    """
    if value is not None and value not in STORE_TRADES:
        raise SpecError(f"store_trades: {shorten(value)} is not one of {', '.join(STORE_TRADES)}")
    return value
