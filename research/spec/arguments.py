"""Up-front type checks of the Python API's arguments, so a wrong type is named at the call.

A wrong type fails here with one line naming the argument and what it takes, instead of a
bare ``TypeError`` deep inside a run (or, for a string where a flag belongs, a silent yes).
Values are checked where they are parsed (ParallelSpec, check_store_trades, RunParams).
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from research.engine.bars import Bars
from research.errors import InputTypeError, shorten


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
