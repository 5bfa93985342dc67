"""The one row-level `DataError` shape: source, column, count, first rows and their values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import numpy as np

from research.errors import SHOWN_CHARS, DataError, shorten

SHOWN_ROWS = 5
# shorten and SHOWN_CHARS live in research.errors (one helper for every message); kept here
# for the formats' imports.
__all__ = ["SHOWN_CHARS", "SHOWN_ROWS", "fail_rows", "shorten"]


def fail_rows(source: str, column: str, problem: str, rows: np.ndarray,
              values: Sequence[object], *, described: bool = False) -> NoReturn:
    """Raise the one row-level error shape: source, column, count, first rows and values.
    Raw values are shown as repr for text; `described` values are shown as they are."""
    shown = ", ".join(f"row {int(row)}: {value if described else _show(value)}"
                      for row, value in zip(rows[:SHOWN_ROWS], values[:SHOWN_ROWS], strict=False))
    more = f" (and {len(rows) - SHOWN_ROWS} more)" if len(rows) > SHOWN_ROWS else ""
    raise DataError(f"{source}: column '{column}': {len(rows)} row(s) {problem}; "
                    f"first: {shown}{more}")


def _show(value: object) -> str:
    return shorten(value)
