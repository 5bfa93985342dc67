"""What the exit walk reads of a RunParams (its key), and the two touch tests every walk uses.

>>> ExitRules.from_params(RunParams(instrument="ES", target=10)).target_ticks
40
"""

from __future__ import annotations

from dataclasses import dataclass

from research.engine.bars import Bars
from research.engine.codes import LONG
from research.engine.params import RunParams


@dataclass(frozen=True, slots=True)
class ExitRules:
    """What the exit walk reads of a RunParams, in exact ticks (docs/engine.md Q15/Q18): its key.
    Combos equal on it and on their RangeRules share the walk.

    >>> ExitRules.from_params(RunParams(instrument="ES", target=10, t1_fraction=0.5))
    ExitRules(target_ticks=40, t1_threshold_ticks=20, stop_cap_ticks=120, time_mode=False)
    """

    target_ticks: int
    t1_threshold_ticks: int
    stop_cap_ticks: int
    time_mode: bool

    @classmethod
    def from_params(cls, rp: RunParams) -> ExitRules:
        return cls(rp.target_ticks, rp.t1_threshold_ticks, rp.stop_cap_ticks,
                   rp.target_mode == "time")


def favourable_ticks(bars: Bars, i: int, side: int, entry_ticks: int) -> int:
    return bars.high_ticks[i] - entry_ticks if side == LONG else entry_ticks - bars.low_ticks[i]


def touches_level(bars: Bars, i: int, side: int, level: int, adverse: bool) -> bool:
    """Does bar i reach `level` on the adverse (stop) or favourable (target) side?"""
    if (side == LONG) == adverse:
        return bool(bars.low_ticks[i] <= level)
    return bool(bars.high_ticks[i] >= level)
