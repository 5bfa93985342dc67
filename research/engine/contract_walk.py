"""A trade lives on the contract it entered (docs/data-formats.md, rolls): the bars its walk reads.

Bars hold one contract per trading date. A trade entered on a contract's last date may
still be open after the roll, and the next contract trades hundreds of points away (NQU4 and
NQZ4 differ by 230-300 points in September 2024), so its exit, peak, TIME and OPEN read its
own contract's bars. Bars keep, for each run of one contract, that contract's bars after
the run (its `held` bars, up to the next weekday: the last date a trade entered in the run
can still be open, docs/engine.md §8), appended after the dated bars in one `WalkSeries`. A
trade's window is then two pieces of that series: the dated bars from its entry to the end
of its run (or to E), then the run's held bars before E.

>>> import numpy as np
>>> walk = WalkSeries.of_dated(np.arange(4) * 60, *[np.zeros(4, np.int64)] * 4,
...                            np.array([0, 0, 1, 1], np.int16))
>>> walk.run_start_idx.tolist(), walk.run_end_idx.tolist()
([0, 2], [2, 4])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class WalkSeries:
    """The prices an exit walk reads: the dated bars (walk index = bar index), then each
    run's held bars. A run is a stretch of consecutive dated bars of one contract;
    `held_start_idx`/`held_end_idx` bound its held bars (start == end: none)."""

    ts_ns: np.ndarray
    open_ticks: np.ndarray  # the fill bounds' gap rule reads the open
    high_ticks: np.ndarray
    low_ticks: np.ndarray
    close_ticks: np.ndarray
    contract_code: np.ndarray
    run_start_idx: np.ndarray  # int64, ascending; the first is 0
    run_end_idx: np.ndarray  # int64: the next run's start, or the number of dated bars
    held_start_idx: np.ndarray  # int64 walk indices
    held_end_idx: np.ndarray
    # The exit walk's block extremes of these bars (walk_kernel.BlockExtremes), made on the
    # first walk and kept with the bars they describe: not a constructor argument, and a
    # dataclasses.replace starts without them.
    block_extremes: Any = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def of_dated(cls, ts_ns: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
                 close: np.ndarray, contract_code: np.ndarray) -> WalkSeries:
        """The series of bars with nothing held: the dated arrays themselves (no copy)."""
        starts = run_starts(contract_code)
        ends = np.append(starts[1:], len(ts_ns)).astype(np.int64)
        empty = np.full(len(starts), len(ts_ns), np.int64)
        return cls(ts_ns, open_, high, low, close, contract_code, starts, ends, empty, empty)

    @property
    def has_held(self) -> bool:
        return bool((self.held_end_idx > self.held_start_idx).any())

    def run_of(self, bar_idx: np.ndarray) -> np.ndarray:
        """The run of each dated bar index (a negative index, no entry, gives run 0)."""
        run = np.searchsorted(self.run_start_idx, bar_idx, side="right") - 1
        return np.maximum(run, 0)


def run_starts(contract_code: np.ndarray) -> np.ndarray:
    """Where each stretch of one contract starts: [0] for a single contract.

    >>> run_starts(np.array([0, 0, 1, 1, 0], np.int16)).tolist()
    [0, 2, 4]
    """
    if not len(contract_code):
        return np.zeros(1, np.int64)
    changes = np.flatnonzero(contract_code[1:] != contract_code[:-1]) + 1
    return np.concatenate(([0], changes)).astype(np.int64)


def walk_windows(walk: WalkSeries, entry_idx: np.ndarray, window_end_idx: np.ndarray,
                 window_end_ts_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each trade's window W = [entry, E) on its contract, as walk indices: the dated bars
    [entry, first_end), then the held bars [held_start, held_end). Ranges without an entry
    (index -1) get an empty held piece.

    >>> walk = WalkSeries.of_dated(np.arange(4), *[np.zeros(4, np.int64)] * 4,
    ...                            np.array([0, 0, 1, 1], np.int16))
    >>> [a.tolist() for a in walk_windows(walk, np.array([1]), np.array([4]), np.array([4]))]
    [[2], [4], [4]]
    """
    entry_idx = np.asarray(entry_idx, np.int64)
    window_end_idx = np.asarray(window_end_idx, np.int64)
    if len(walk.run_start_idx) == 1 and not walk.has_held:  # one contract: W as it was
        zeros = np.zeros(len(entry_idx), np.int64)
        return window_end_idx, zeros, zeros.copy()
    run = walk.run_of(entry_idx)
    run_end = walk.run_end_idx[run]
    first_end = np.minimum(window_end_idx, run_end)
    held_start = walk.held_start_idx[run].copy()
    held_end = held_start.copy()
    passes = np.flatnonzero((entry_idx >= 0) & (window_end_idx > run_end))
    for j in passes:  # only trades still open at a roll: a handful per roll
        lo, hi = held_start[j], walk.held_end_idx[run[j]]
        held_end[j] = lo + np.searchsorted(walk.ts_ns[lo:hi], window_end_ts_ns[j])
    return first_end, held_start, held_end


def own_contract_window(walk: WalkSeries, entry_idx: int, window_end_ts_ns: int) -> list[int]:
    """The readable statement: the walk indices of the entry contract's bars from the entry
    bar up to E (exclusive), in time order, wherever the roll went meanwhile.

    >>> walk = WalkSeries.of_dated(np.arange(4), *[np.zeros(4, np.int64)] * 4,
    ...                            np.array([0, 0, 1, 1], np.int16))
    >>> own_contract_window(walk, 1, 4)
    [1]
    """
    contract = walk.contract_code[entry_idx]
    entry_ts = walk.ts_ns[entry_idx]
    mine = np.flatnonzero((walk.contract_code == contract) & (walk.ts_ns >= entry_ts)
                          & (walk.ts_ns < window_end_ts_ns))
    return [int(i) for i in mine[np.argsort(walk.ts_ns[mine], kind="stable")]]


def run_end_of(walk: WalkSeries, bar_idx: np.ndarray) -> np.ndarray:
    """The end (exclusive) of the run holding each dated bar: entries never cross it.

    >>> walk = WalkSeries.of_dated(np.arange(4), *[np.zeros(4, np.int64)] * 4,
    ...                            np.array([0, 0, 1, 1], np.int16))
    >>> run_end_of(walk, np.array([0, 3])).tolist()
    [2, 4]
    """
    return walk.run_end_idx[walk.run_of(np.asarray(bar_idx, np.int64))]


HELD_COLUMN = "after_roll"  # load_bars' marker of held rows (True), present after a roll


def held_until(last_day: int) -> int:
    """The last date a trade entered by `last_day` can still be open: the next weekday
    (docs/engine.md §8; from a weekend label, the Monday after).

    >>> held_until(1) - 1, held_until(5) - 5  # 1970-01-02 a Friday, 01-06 a Tuesday
    (3, 1)
    """
    weekday = (last_day + 3) % 7  # 1970-01-01 was a Thursday; Mon=0
    return last_day + {4: 3, 5: 2}.get(weekday, 1)


def held_rows(trading_day: np.ndarray, contract_code: np.ndarray,
              keep: np.ndarray) -> np.ndarray:
    """The rows to hold besides `keep` (each date's contract): after each roll, the outgoing
    contract's rows up to the next weekday (held_until), for trades still open on it.

    >>> days, codes = np.array([1, 1, 2, 2, 3]), np.array([0, 1, 0, 1, 1])
    >>> held_rows(days, codes, np.array([True, False, False, True, True])).tolist()
    [False, False, True, False, False]
    """
    trading_day = np.asarray(trading_day, np.int64)
    days, first = np.unique(trading_day[keep], return_index=True)
    chosen = np.asarray(contract_code)[keep][first]
    held_day, held_code = [], []
    for end in np.flatnonzero(chosen[1:] != chosen[:-1]):  # each run's last date, a roll next
        for day in range(int(days[end]) + 1, held_until(int(days[end])) + 1):
            held_day.append(day)
            held_code.append(int(chosen[end]))
    if not held_day:
        return np.zeros(len(trading_day), bool)
    lookup_day, at = np.unique(np.array(held_day)[::-1], return_index=True)  # later roll wins
    lookup_code = np.array(held_code)[::-1][at]
    pos = np.clip(np.searchsorted(lookup_day, trading_day), 0, len(lookup_day) - 1)
    target = np.where(lookup_day[pos] == trading_day, lookup_code[pos], -1)
    return ~keep & (contract_code == target)


def with_held(dated: WalkSeries, trading_day: np.ndarray, held: dict[str, np.ndarray],
              held_day: np.ndarray) -> WalkSeries:
    """`dated` with each run's held bars appended: the bars of the run's contract dated
    after the run's last date up to held_until, in time order. `held` holds ts_ns,
    open_ticks, high_ticks, low_ticks, close_ticks and contract_code of the candidate bars."""
    order = np.lexsort((held["ts_ns"], held["contract_code"]))
    ts, code = held["ts_ns"][order], held["contract_code"][order]
    first = np.ones(len(order), bool)  # a bar given twice (a copied file) is held once
    first[1:] = (ts[1:] != ts[:-1]) | (code[1:] != code[:-1])
    held = {name: values[order][first] for name, values in held.items()}
    held_day = np.asarray(held_day, np.int64)[order][first]
    n = len(dated.ts_ns)
    pieces, starts, ends, at = [], [], [], n
    for start, end in zip(dated.run_start_idx, dated.run_end_idx, strict=True):
        last_day = int(trading_day[end - 1]) if end > start else 0
        mine = np.flatnonzero((held["contract_code"] == dated.contract_code[start])
                              & (held_day > last_day) & (held_day <= held_until(last_day)))
        pieces.append(mine)
        starts.append(at)
        at += len(mine)
        ends.append(at)
    taken = np.concatenate(pieces) if pieces else np.empty(0, np.int64)

    def joined(name: str, values: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.concatenate((values, held[name][taken])))

    return WalkSeries(joined("ts_ns", dated.ts_ns), joined("open_ticks", dated.open_ticks),
                      joined("high_ticks", dated.high_ticks),
                      joined("low_ticks", dated.low_ticks),
                      joined("close_ticks", dated.close_ticks),
                      joined("contract_code", dated.contract_code), dated.run_start_idx,
                      dated.run_end_idx, np.array(starts, np.int64), np.array(ends, np.int64))
