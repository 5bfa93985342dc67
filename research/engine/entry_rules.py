"""What the entry stage reads of a RunParams (docs/engine.md §7.5): the entry rule and the
sides allowed. Part of RangeRules, so combos equal on it share their entries.

>>> EntryRules.from_params(RunParams(instrument="ES", entry="close_confirm", direction="long"))
EntryRules(mode=1, allow_long=True, allow_short=False)
"""

from __future__ import annotations

from dataclasses import dataclass

from research.engine.codes import ENTRY_CLOSE_CONFIRM, ENTRY_STOP
from research.engine.params import RunParams


@dataclass(frozen=True, slots=True)
class EntryRules:
    """`mode` ENTRY_STOP or ENTRY_CLOSE_CONFIRM; the sides `direction` allows."""

    mode: int = ENTRY_STOP
    allow_long: bool = True
    allow_short: bool = True

    @classmethod
    def from_params(cls, rp: RunParams) -> EntryRules:
        mode = ENTRY_CLOSE_CONFIRM if rp.entry == "close_confirm" else ENTRY_STOP
        return cls(mode, rp.direction in ("both", "long"), rp.direction in ("both", "short"))


DEFAULT_ENTRY_RULES = EntryRules()
