"""Ranges (ENGINE_SPEC §4-§6): one per (trading date, session, slot) with bars in its window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import overload

import numba
import numpy as np

from research.engine.bars import Bars
from research.engine.clock import (
    EPOCH,
    NS_PER_SECOND,
    next_weekday,
    noon_offsets_ns,
    weekday_of,
    weekday_to_utc_ns,
)
from research.engine.params import RunParams
from research.engine.sessions import SESSION_SLOTS, SESSION_START, minute_of_day

SESSIONS: tuple[str, ...] = tuple(SESSION_SLOTS)


@dataclass(frozen=True, slots=True)
class SlotRange:
    """One range and the stamps that bound its trade (all ns are UTC, indexes into Bars)."""

    trading_day: int  # days since 1970-01-01
    session_code: int  # index into SESSIONS
    slot_minute: int  # Chicago minute of day of the slot label
    start_idx: int  # first bar of the range window [D start, D slot)
    end_idx: int  # first bar at or after D slot: the first breakout candidate
    range_high_ticks: int
    range_low_ticks: int
    end_ts_ns: int  # D slot
    cutoff_ts_ns: int  # D market_close: last valid breakout stamp (inclusive, Q30)
    window_end_ts_ns: int  # E: next weekday at the slot (time mode: session start)
    expiry_ts_ns: int  # X: E - 1 s (time mode: E)
    window_end_idx: int  # first bar at or after E

    @property
    def date(self) -> dt.date:
        return EPOCH + dt.timedelta(days=self.trading_day)

    @property
    def session(self) -> str:
        return SESSIONS[self.session_code]

    @property
    def slot(self) -> str:
        return f"{self.slot_minute // 60:02d}:{self.slot_minute % 60:02d}"

    @property
    def label(self) -> str:
        return f"{self.date.isoformat()} {self.session} {self.slot}"

    @property
    def range_size_ticks(self) -> int:
        return self.range_high_ticks - self.range_low_ticks

    @property
    def work_estimate(self) -> int:
        return max(1, self.window_end_idx - self.end_idx)


_FIELDS = tuple(f.name for f in fields(SlotRange))


@dataclass(frozen=True, slots=True, eq=False)
class RangeTable(Sequence[SlotRange]):
    """Ranges as parallel int64 arrays; a Sequence of SlotRange whose slices are cheap views."""

    trading_day: np.ndarray
    session_code: np.ndarray
    slot_minute: np.ndarray
    start_idx: np.ndarray
    end_idx: np.ndarray
    range_high_ticks: np.ndarray
    range_low_ticks: np.ndarray
    end_ts_ns: np.ndarray
    cutoff_ts_ns: np.ndarray
    window_end_ts_ns: np.ndarray
    expiry_ts_ns: np.ndarray
    window_end_idx: np.ndarray

    def __len__(self) -> int:
        return len(self.trading_day)

    @overload
    def __getitem__(self, index: int) -> SlotRange: ...
    @overload
    def __getitem__(self, index: slice | np.ndarray) -> RangeTable: ...
    def __getitem__(self, index: int | slice | np.ndarray) -> SlotRange | RangeTable:
        if isinstance(index, (slice, np.ndarray)):  # a view, or a selection by mask/order
            return RangeTable(*(getattr(self, name)[index] for name in _FIELDS))
        return SlotRange(*(int(getattr(self, name)[index]) for name in _FIELDS))

    def __iter__(self) -> Iterator[SlotRange]:
        return (self[i] for i in range(len(self)))

    @property
    def range_size_ticks(self) -> np.ndarray:
        return self.range_high_ticks - self.range_low_ticks

    @property
    def work_estimates(self) -> np.ndarray:
        return np.maximum(1, self.window_end_idx - self.end_idx)

    @classmethod
    def from_ranges(cls, ranges: Sequence[SlotRange]) -> RangeTable:
        if isinstance(ranges, RangeTable):
            return ranges
        columns = {name: [getattr(r, name) for r in ranges] for name in _FIELDS}
        return cls(**{name: np.asarray(v, dtype=np.int64) for name, v in columns.items()})

    @classmethod
    def concat(cls, tables: Sequence[RangeTable]) -> RangeTable:
        return cls(*(np.concatenate([getattr(t, name) for t in tables]) if tables
                     else np.empty(0, np.int64) for name in _FIELDS))


def build_slot_ranges(bars: Bars, rp: RunParams,
                      map_slots: Callable[[Callable, list], Iterable] = map) -> RangeTable:
    """Every (D, session, slot) whose window [D session start, D slot) holds a bar (§5).

    D runs over the trading-date labels present in the data whose weekday is a trade day;
    there is no holiday calendar (Q19). Sorted by date, then slot time. `map_slots` may run
    the slots on threads (the work is GIL-free numpy and numba).
    """
    days = _trading_days(bars)
    days = days[np.isin(weekday_of(days), rp.trade_days)]
    expiry_days = next_weekday(days)
    # Trade days and their next weekdays are Mon-Fri: one UTC offset per day.
    day_offsets, expiry_offsets = noon_offsets_ns(days), noon_offsets_ns(expiry_days)
    cutoff_ns = weekday_to_utc_ns(days, minute_of_day(rp.market_close), day_offsets)

    def one_slot(session_slot: tuple[str, str]) -> RangeTable:
        session, slot = session_slot
        start_minute = minute_of_day(SESSION_START[session])
        slot_minute = minute_of_day(slot)
        window_minute = slot_minute if rp.target_mode == "fixed" else start_minute
        window_end_ns = weekday_to_utc_ns(expiry_days, window_minute, expiry_offsets)
        # DECISIONS Q8: X = E - 1 s in fixed mode (prints slot - 1 min, Q21); X = E in time.
        expiry_ns = window_end_ns - (NS_PER_SECOND if rp.target_mode == "fixed" else 0)
        return _slot_ranges(bars, days, SESSIONS.index(session), slot_minute,
                            weekday_to_utc_ns(days, start_minute, day_offsets),
                            weekday_to_utc_ns(days, slot_minute, day_offsets),
                            cutoff_ns, window_end_ns, expiry_ns)

    slots = [(session, slot) for session in rp.enabled_sessions
             for slot in rp.slots_for(session)]
    table = RangeTable.concat(list(map_slots(one_slot, slots)))
    order = np.lexsort((table.slot_minute, table.trading_day))
    return table[order] if len(order) else table


def _trading_days(bars: Bars) -> np.ndarray:
    """The distinct trading-date labels (§5.2): binary searches over the sorted labels
    instead of a pass over every bar."""
    labels = bars.trading_day  # non-decreasing, as the bars are sorted by time
    if not len(labels):
        return np.empty(0, np.int64)
    candidates = np.arange(labels[0], labels[-1] + 1, dtype=labels.dtype)
    present = (np.searchsorted(labels, candidates, side="right")
               > np.searchsorted(labels, candidates, side="left"))
    return candidates[present].astype(np.int64)


def _slot_ranges(bars: Bars, days: np.ndarray, session_code: int, slot_minute: int,
                 start_ns: np.ndarray, end_ns: np.ndarray, cutoff_ns: np.ndarray,
                 window_end_ns: np.ndarray, expiry_ns: np.ndarray) -> RangeTable:
    start_idx = np.searchsorted(bars.ts_ns, start_ns, side="left")
    end_idx = np.searchsorted(bars.ts_ns, end_ns, side="left")
    has_bars = end_idx > start_idx  # §5.4: an empty window is no range at all
    start_idx, end_idx = start_idx[has_bars], end_idx[has_bars]
    high, low = _window_extremes(bars.high_ticks, bars.low_ticks, start_idx, end_idx)
    n = len(start_idx)
    return RangeTable(
        trading_day=days[has_bars],
        session_code=np.full(n, session_code, np.int64),
        slot_minute=np.full(n, slot_minute, np.int64),
        start_idx=start_idx.astype(np.int64),
        end_idx=end_idx.astype(np.int64),
        range_high_ticks=high,
        range_low_ticks=low,
        end_ts_ns=end_ns[has_bars],
        cutoff_ts_ns=cutoff_ns[has_bars],
        window_end_ts_ns=window_end_ns[has_bars],
        expiry_ts_ns=expiry_ns[has_bars],
        window_end_idx=np.searchsorted(bars.ts_ns, window_end_ns[has_bars]).astype(np.int64),
    )


@numba.njit(nogil=True, cache=True)
def _window_extremes(high, low, start_idx, end_idx):  # pragma: no cover - compiled
    """§6: range_high = max(high), range_low = min(low) over each window [start, end)."""
    n = len(start_idx)
    range_high = np.empty(n, np.int64)
    range_low = np.empty(n, np.int64)
    for r in range(n):
        hi = high[start_idx[r]]
        lo = low[start_idx[r]]
        for i in range(start_idx[r] + 1, end_idx[r]):
            hi = max(hi, high[i])
            lo = min(lo, low[i])
        range_high[r] = hi
        range_low[r] = lo
    return range_high, range_low
