"""Shared test helpers: bars built straight from tick arrays, and hypothesis settings."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings

from research.engine.bars import Bars
from research.engine.clock import NS_PER_MINUTE, chicago_to_utc_ns
from research.engine.instruments import INSTRUMENTS

GOLDEN_DIR = Path(__file__).parent / "golden"

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def bars_from_ticks(symbol: str, day0: int, minutes: np.ndarray, open_: np.ndarray,
                    high: np.ndarray, low: np.ndarray, close: np.ndarray) -> Bars:
    """Bars at Chicago wall-clock `minutes` counted from midnight of calendar day `day0`."""
    minutes = np.asarray(minutes, dtype=np.int64)
    days = day0 + minutes // 1440
    minute_of_day = minutes % 1440
    ts = chicago_to_utc_ns(days, minute_of_day)
    order = np.argsort(ts, kind="stable")
    # Wall times skipped by a DST change collapse onto one stamp: keep the first.
    order = order[np.concatenate([[True], np.diff(ts[order]) > 0])]
    trading_day = days + (minute_of_day >= 23 * 60)
    minute_of_day = (ts - chicago_to_utc_ns(days, 0)) // NS_PER_MINUTE % 1440
    as_int = [np.asarray(a, dtype=np.int64)[order] for a in (open_, high, low, close)]
    return Bars(INSTRUMENTS[symbol], ts[order], *as_int,
                minute_of_day=minute_of_day[order].astype(np.int16),
                trading_day=trading_day[order].astype(np.int32))


__all__ = ["GOLDEN_DIR", "NS_PER_MINUTE", "bars_from_ticks"]
