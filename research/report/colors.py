"""The diverging colour scale of every heatmap: centred on zero, limits symmetric.

Losses are red, gains blue, zero a light grey: ColorBrewer's RdBu, which readers with the
common colour-vision deficiencies can still tell apart (unlike red/green). The limit is the
largest absolute value shown, so a cell's colour says its sign at a glance and the same
shade means the same size of gain or loss on either side.

>>> color_limits([63.0, 265.25, 12.0])
(-265.25, 265.25)
>>> diverging_color(0.0, 100.0), diverging_color(100.0, 100.0), diverging_color(-100.0, 100.0)
('#f7f7f7', '#053061', '#67001f')
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

# ColorBrewer RdBu, 11 classes, from the most negative to the most positive.
RDBU = ("#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7", "#d1e5f0",
        "#92c5de", "#4393c3", "#2166ac", "#053061")
EMPTY_CELL = "#e6e6e6"  # no combo in the cell (every one of them failed)


def color_limits(values: Iterable[float]) -> tuple[float, float]:
    """(-L, L) with L the largest |value| among the finite values; (-1, 1) when none."""
    finite = [abs(v) for v in map(float, values) if math.isfinite(v)]
    limit = max(finite, default=0.0)
    return (-limit, limit) if limit > 0 else (-1.0, 1.0)


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


_STOPS = np.array([_rgb(c) for c in RDBU])


def diverging_color(value: float, limit: float) -> str:
    """The hex colour of `value` on the scale [-limit, limit] (clipped); grey if not finite."""
    return diverging_colors(np.array([value], np.float64), limit)[0]


def diverging_colors(values: np.ndarray, limit: float) -> list[str]:
    """diverging_color of every value at once."""
    values = np.asarray(values, np.float64)
    finite = np.isfinite(values)
    share = np.clip(np.where(finite, values, 0.0) / (limit or 1.0), -1.0, 1.0) if limit else \
        np.zeros(values.shape)
    position = (share + 1) / 2 * (len(RDBU) - 1)
    low = np.minimum(position.astype(np.int64), len(RDBU) - 2)
    mixed = _STOPS[low] + (_STOPS[low + 1] - _STOPS[low]) * (position - low)[..., None]
    rgb = np.rint(mixed).astype(np.int64).reshape(-1, 3)
    return [f"#{r:02x}{g:02x}{b:02x}" if ok else EMPTY_CELL
            for (r, g, b), ok in zip(rgb.tolist(), finite.ravel().tolist(), strict=True)]


def text_color(value: float, limit: float) -> str:
    """Dark text on light cells, white on the deep ends of the scale (readable contrast).

    >>> text_color(10.0, 100.0), text_color(-90.0, 100.0)
    ('#222222', '#ffffff')
    """
    if not math.isfinite(value) or not limit:
        return "#222222"
    return "#ffffff" if abs(value) / limit > 0.6 else "#222222"
