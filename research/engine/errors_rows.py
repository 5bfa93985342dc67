"""The one row-level `DataError` shape: source, column, count, first rows and their values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import numpy as np

from research.errors import DataError

SHOWN_ROWS = 5
SHOWN_CHARS = 60  # a value from a file or spec is cut to this many characters in messages


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


def shorten(value: object, limit: int = SHOWN_CHARS) -> str:
    """`repr` of text (`str` of anything else), cut so that no message prints an unbounded
    value from a file or spec.

    >>> shorten("x" * 100, 12)
    "'xxxxxxx...(100 chars)"
    """
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str) else len(text)
    return f"{text[:limit - 4]}...({size} chars)"
