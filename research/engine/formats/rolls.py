"""One contract per trading date (docs/data-formats.md): choose it, list the roll dates.

`roll: volume` (the default) takes the contract with the most volume on the previous trading
date of the data (on the first date: that date's), among the contracts that have bars on the
date; ties go to the most volume on the date itself, then to the first name. `roll: none`
refuses a date with bars of several contracts. Prices are never adjusted.

Rules learned from real files (issue 22, docs/data-formats.md, rolls):
- the roll never goes back: once a later expiry is chosen, an earlier one is not chosen again
  (a date with bars of earlier contracts only is left out);
- only bars of exchange sessions vote (`votes`): NinjaTrader's one-lot Saturday bars do not;
- a contract without bars in the date's day part (`in_day`: after midnight, before 16:00
  Chicago: where the ranges are) is not chosen when another contract has them (a
  per-contract file that ends at midnight keeps only the evening before).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from research.engine.clock import iso_day
from research.errors import DataError

ROLL_RULES = ("volume", "none")


@dataclass(frozen=True, slots=True, kw_only=True)
class Roll:
    """The contract changes on `trading_day` (days since 1970-01-01).

    >>> Roll(trading_day=20070, before="ESZ4", after="ESH5").date
    '2024-12-13'
    """

    trading_day: int
    before: str
    after: str

    @property
    def date(self) -> str:
        return iso_day(self.trading_day)


def choose_contracts(trading_day: np.ndarray, contract_code: np.ndarray,
                     contracts: Sequence[str], volume: np.ndarray | None, rule: str,
                     source: str, *, votes: np.ndarray | None = None,
                     in_day: np.ndarray | None = None,
                     expiry_rank: np.ndarray | None = None) -> tuple[np.ndarray | None,
                                                                     list[Roll]]:
    """Rows to keep (None: all) and the rolls, for one instrument's rows. `votes` marks the
    rows whose volume counts (exchange sessions), `in_day` the rows in their date's day part,
    `expiry_rank` orders `contracts` by expiry (None: no order known, rolls may go back).

    >>> days, codes = np.array([1, 1, 2, 2]), np.array([0, 1, 0, 1])
    >>> keep, rolls = choose_contracts(days, codes, ["ESH5", "ESZ4"], np.array([1., 5, 9, 2]),
    ...                                "volume", "f")
    >>> keep.tolist(), rolls
    ([False, True, False, True], [])
    """
    days, day_index = np.unique(trading_day, return_inverse=True)
    cells = day_index * len(contracts) + contract_code
    shape = (len(days), len(contracts))
    present = np.bincount(cells, minlength=shape[0] * shape[1]).reshape(shape) > 0
    several = np.flatnonzero(present.sum(axis=1) > 1)
    if not several.size:
        chosen = present.argmax(axis=1)
        return None, _rolls(days, chosen, contracts)
    if rule == "none" or volume is None:
        _refuse(source, days[several], present[several], contracts, rule, len(several))
    weights = np.nan_to_num(np.asarray(volume, dtype=np.float64))
    if votes is not None:
        weights = np.where(votes, weights, 0.0)
    day_volume = np.bincount(cells, weights=weights,
                             minlength=shape[0] * shape[1]).reshape(shape)
    day_part = present if in_day is None else np.bincount(
        cells[in_day], minlength=shape[0] * shape[1]).reshape(shape) > 0
    rank = np.zeros(len(contracts), np.int64) if expiry_rank is None else expiry_rank
    chosen = _by_previous_volume(present, day_volume, day_part, rank)
    keep = (contract_code == chosen[day_index]) & (chosen[day_index] >= 0)
    taken = chosen >= 0
    return keep, _rolls(days[taken], chosen[taken], contracts)


def _by_previous_volume(present: np.ndarray, day_volume: np.ndarray, day_part: np.ndarray,
                        rank: np.ndarray) -> np.ndarray:
    """Per date the chosen contract's code, -1 for none (only earlier expiries have bars)."""
    chosen = np.full(len(present), -1, dtype=np.int64)
    floor = np.iinfo(np.int64).min  # the expiry rank of the last chosen contract
    previous = 0  # the last date with votes before the one being chosen
    for day in range(len(present)):
        candidates = np.flatnonzero(present[day] & (rank >= floor))
        if candidates.size > 1 and day_part[day][candidates].any():
            candidates = candidates[day_part[day][candidates]]
        if candidates.size:
            before = day_volume[previous][candidates]
            today = day_volume[day][candidates]
            chosen[day] = candidates[np.lexsort((candidates, -today, -before))[0]]
            floor = max(floor, int(rank[chosen[day]]))
        if day_volume[day].any():
            previous = day
    return chosen


def _rolls(days: np.ndarray, chosen: np.ndarray, contracts: Sequence[str]) -> list[Roll]:
    changes = np.flatnonzero(chosen[1:] != chosen[:-1]) + 1
    return [Roll(trading_day=int(days[i]), before=contracts[chosen[i - 1]],
                 after=contracts[chosen[i]]) for i in changes]


def _refuse(source: str, days: np.ndarray, present: np.ndarray, contracts: Sequence[str],
            rule: str, count: int) -> None:
    names = ", ".join(contracts[code] or "(no contract)" for code in np.flatnonzero(present[0]))
    date = iso_day(int(days[0]))
    if rule == "none":
        fix = ("roll: none takes one contract per date: use roll: volume (the default) to "
               "choose one, or load one contract's file")
    else:
        fix = "roll: volume needs a volume column: add one, or load one contract per date"
    raise DataError(f"{source}: {count} trading date(s) hold bars of several contracts; "
                    f"first: {date} ({names}); {fix}")
