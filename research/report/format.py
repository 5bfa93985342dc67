"""Numbers as the report writes them: one rule per kind of value, used by the page and the PNGs.

Dollars and points always take 2 decimals with thousands separators (265.25, never 265.2),
ratios 2 decimals, shares one decimal of a percent. A missing or non-finite value is a dash,
so a column never mixes "nan" and numbers.

>>> usd(-14875), points(265.25), ratio(1.149), pct(0.4978), count(21672)
('-14,875.00', '265.25', '1.15', '49.8%', '21,672')
>>> usd(float("nan")), ratio(float("inf"))
('–', '∞')
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from research.engine.clock import CHICAGO

MISSING = "–"  # en dash: no value


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fixed(value: Any, decimals: int) -> str:
    number = _finite(value)
    if number is None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                not math.isnan(value):
            return "∞" if value > 0 else "-∞"
        return MISSING
    text = f"{number:,.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def usd(value: Any) -> str:
    """Dollars: 2 decimals, thousands separators (the unit goes in the header or title)."""
    return _fixed(value, 2)


def points(value: Any) -> str:
    """Points of price: 2 decimals, thousands separators."""
    return _fixed(value, 2)


def ratio(value: Any) -> str:
    """A ratio or statistic (profit factor, Sharpe, t, DSR, PBO): 2 decimals."""
    return _fixed(value, 2)


def pct(value: Any) -> str:
    """A share (0.4978) as a percent with one decimal (49.8%)."""
    number = _finite(value)
    return MISSING if number is None else f"{number * 100:.1f}%"


def count(value: Any) -> str:
    """A whole number with thousands separators."""
    number = _finite(value)
    return MISSING if number is None else f"{round(number):,}"


def pvalue(value: Any) -> str:
    """A probability or p-value: 3 decimals (0.031), '< 0.001' below that."""
    number = _finite(value)
    if number is None:
        return MISSING
    return "< 0.001" if 0 < number < 0.001 else f"{number:.3f}"


def day(value: Any) -> str:
    """A trading date as ISO text (2024-01-02).

    >>> day(pd.Timestamp("2024-01-02 17:00"))
    '2024-01-02'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def stamp_ns(value: Any) -> str:
    """A UTC nanosecond stamp as Chicago wall time (the engine's clock).

    >>> stamp_ns(1704150000000000000)
    '2024-01-01 17:00 CST'
    """
    if value is None:
        return MISSING
    return pd.Timestamp(int(value), tz="UTC").tz_convert(CHICAGO).strftime("%Y-%m-%d %H:%M %Z")


def axis_value(value: Any) -> str:
    """A parameter value as written in the grid: 0.65, 10, 07:30; JSON lists without quotes.

    >>> axis_value(0.65), axis_value(10.0), axis_value('["Mon","Tue"]'), axis_value(True)
    ('0.65', '10', 'Mon,Tue', 'True')
    >>> axis_value('{"S1":["07:30","08:00"]}')
    'S1: 07:30,08:00'
    """
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ",".join(axis_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else MISSING
    if isinstance(value, str) and value[:1] in "[{":
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, list):
            return axis_value(decoded)
        if isinstance(decoded, dict):
            return "; ".join(f"{k}: {axis_value(v)}" for k, v in decoded.items())
    return str(value)
