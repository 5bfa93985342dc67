"""What the exit walk reads of a RunParams (its key), and the two touch tests every walk uses.

>>> ExitRules.from_params(RunParams(instrument="ES", target=10)).target_ticks
40
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from research.engine.bars import Bars
from research.engine.codes import LONG
from research.engine.params import RunParams
from research.engine.rule_params import as_fraction


@dataclass(frozen=True, slots=True)
class ExitRules:
    """What the exit walk reads of a RunParams, in exact ticks (docs/engine.md Q15/Q18): its key.
    Combos equal on it and on their RangeRules share the walk.

    >>> ExitRules.from_params(RunParams(instrument="ES", target=10, t1_fraction=0.5)).target_ticks
    40

    With `target_r` (an exact fraction) each trade's target is ceil(target_r x its stop
    distance) ticks, at least one, and its T1 threshold ceil(t1_fraction x that target)
    (docs/engine.md §7.6); the stop cap stays stop_cap_multiple x `target`.
    `max_entries` is max_entries_per_day: the walk is repeated from a later entry after
    an exit (engine.reentry).
    """

    target_ticks: int
    t1_threshold_ticks: int
    stop_cap_ticks: int
    time_mode: bool
    target_r: tuple[int, int] | None = None
    t1_fraction: tuple[int, int] = (13, 20)
    max_entries: int = 1

    @classmethod
    def from_params(cls, rp: RunParams) -> ExitRules:
        return cls(rp.target_ticks, rp.t1_threshold_ticks, rp.stop_cap_ticks,
                   rp.target_mode == "time",
                   None if rp.target_r is None else as_fraction(rp.target_r),
                   as_fraction(rp.t1_fraction), rp.max_entries_per_day)

    def trade_targets(self, distance_ticks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per trade: its target and T1 threshold in ticks, from its stop distance.

        >>> rules = ExitRules(40, 26, 120, False, target_r=(2, 1))
        >>> [a.tolist() for a in rules.trade_targets(np.array([10, 0]))]
        [[20, 1], [13, 1]]
        """
        distance = np.asarray(distance_ticks, np.int64)
        if self.target_r is None:
            return (np.full(len(distance), self.target_ticks, np.int64),
                    np.full(len(distance), self.t1_threshold_ticks, np.int64))
        num, den = self.target_r
        target = np.maximum(1, -((-num * distance) // den))
        t1_num, t1_den = self.t1_fraction
        return target, -((-t1_num * target) // t1_den)

    def for_trade(self, distance_ticks: int) -> ExitRules:
        """These rules with one trade's own target and T1 threshold (the readable path)."""
        if self.target_r is None:
            return self
        target, t1 = self.trade_targets(np.array([distance_ticks]))
        return replace(self, target_ticks=int(target[0]), t1_threshold_ticks=int(t1[0]))


def favourable_ticks(bars: Bars, i: int, side: int, entry_ticks: int) -> int:
    return bars.high_ticks[i] - entry_ticks if side == LONG else entry_ticks - bars.low_ticks[i]


def touches_level(bars: Bars, i: int, side: int, level: int, adverse: bool) -> bool:
    """Does bar i reach `level` on the adverse (stop) or favourable (target) side?"""
    if (side == LONG) == adverse:
        return bool(bars.low_ticks[i] <= level)
    return bool(bars.high_ticks[i] >= level)
