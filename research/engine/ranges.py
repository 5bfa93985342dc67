"""Ranges (docs/engine.md §4-§6): one per (trading date, session, slot) with bars in its window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import overload

import numba
import numpy as np

from research.engine.bars import Bars
from research.engine.calendar import session_closes
from research.engine.clock import (
    EPOCH,
    NS_PER_SECOND,
    next_weekday,
    noon_offsets_ns,
    weekday_of,
    weekday_to_utc_ns,
)
from research.engine.entry_rules import DEFAULT_ENTRY_RULES, EntryRules
from research.engine.params import RunParams
from research.engine.range_params import range_label
from research.engine.sessions import SESSION_START, SESSIONS, minute_of_day

CUSTOM_SESSION = len(SESSIONS)  # the session code of your own range (range_params.py)


@dataclass(frozen=True, slots=True)
class RangeRules:
    """What the range and entry stages read of a RunParams: their key. Combos equal on it
    share their ranges and entries (docs/architecture.md), so a sweep computes those once per key.

    >>> a = RangeRules.from_params(RunParams(instrument="ES", target=10))
    >>> a == RangeRules.from_params(RunParams(instrument="ES", target=20))
    True
    """

    sessions: tuple[tuple[str, tuple[str, ...]], ...]  # each enabled session and its slots
    trade_days: tuple[int, ...]
    market_close_minute: int  # §7.3: the last valid breakout stamp's wall minute (Q30)
    time_mode: bool  # Q8: the window ends at the session start instead of the slot
    exchange_calendar: bool = False  # calendar: exchange bounds entries and E by the close
    # Issue 20 (range_params.py, rule_params.py): your own range (start, end minutes; it
    # replaces `sessions`), an exit time on D that ends every window, and the entry rule.
    custom_range: tuple[int, int] | None = None
    exit_at_minute: int | None = None
    entry: EntryRules = DEFAULT_ENTRY_RULES

    @classmethod
    def from_params(cls, rp: RunParams) -> RangeRules:
        window = rp.range_window
        custom = (window.start_minute, window.end_minute) if window.is_custom else None
        return cls(sessions=() if custom else tuple((s, rp.slots_for(s))
                                                    for s in rp.enabled_sessions),
                   trade_days=rp.trade_days,
                   market_close_minute=rp.entry_cutoff_minute,
                   time_mode=rp.target_mode == "time",
                   exchange_calendar=rp.calendar == "exchange",
                   custom_range=custom, exit_at_minute=rp.exit_at_minute,
                   entry=EntryRules.from_params(rp))

    def windows(self) -> list[tuple[int, int, np.ndarray]]:
        """(session code, start minute, ascending slot minutes) of each range family: the
        enabled reference sessions, or the one custom range (code CUSTOM_SESSION)."""
        if self.custom_range is not None:
            start, end = self.custom_range
            return [(CUSTOM_SESSION, start, np.array([end]))]
        return [(SESSIONS.index(session), minute_of_day(SESSION_START[session]),
                 np.array([minute_of_day(slot) for slot in slots]))
                for session, slots in self.sessions]


@dataclass(frozen=True, slots=True)
class SlotRange:
    """One range and the stamps that bound its trade (all ns are UTC, indexes into Bars)."""

    trading_day: int  # days since 1970-01-01
    session_code: int  # index into SESSIONS, or CUSTOM_SESSION for your own range
    slot_minute: int  # Chicago minute of day of the slot label (a custom range's end)
    range_start_minute: int  # Chicago minute of day the range window starts
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
        if self.session_code == CUSTOM_SESSION:
            return range_label(self.range_start_minute, self.slot_minute)
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
    range_start_minute: np.ndarray
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
    def concat(cls, tables: Sequence[RangeTable]) -> RangeTable:
        return cls(*(np.concatenate([getattr(t, name) for t in tables]) if tables
                     else np.empty(0, np.int64) for name in _FIELDS))


DAYS_PER_PART = 128  # range building is cut into (session, block of days) parts for threads


def build_slot_ranges(bars: Bars, rules: RangeRules,
                      map_parts: Callable[[Callable, list], Iterable] = map, *,
                      days_per_part: int = DAYS_PER_PART) -> RangeTable:
    """Every (D, session, slot) whose window [D session start, D slot) holds a bar (§5).

    D runs over the trading-date labels present in the data whose weekday is a trade day;
    there is no holiday calendar (Q19). Sorted by date, then slot time. The work is cut
    into (session, block of `days_per_part` days) parts that `map_parts` may run on
    threads: each part is one GIL-free kernel call; the cut never changes the ranges.
    """
    days = trading_days(bars)
    days = days[np.isin(weekday_of(days), rules.trade_days)]
    expiry_days = next_weekday(days)
    # Trade days and their next weekdays are Mon-Fri: one UTC offset per day.
    day_offsets, expiry_offsets = noon_offsets_ns(days), noon_offsets_ns(expiry_days)
    cutoff_ns = weekday_to_utc_ns(days, _cutoff_minutes(bars, days, rules), day_offsets)
    expiry_close_ns = _scheduled_close_ns(bars, expiry_days, expiry_offsets, rules)
    if rules.exit_at_minute is not None:  # exit_at: E is D exit_at, bounded by D's close
        exit_close_ns = _scheduled_close_ns(bars, days, day_offsets, rules)
    fixed_mode = not rules.time_mode
    # Per range family: its code, start minute and slot minutes (ascending), every block.
    family = {code: (start, slots) for code, start, slots in rules.windows()}

    def one_part(part: tuple[int, slice]) -> RangeTable:
        code, block = part
        part_days, offsets = days[block], day_offsets[block]
        start_minute, slot_minutes = family[code]
        window_minutes = slot_minutes if fixed_mode else np.full_like(slot_minutes, start_minute)
        if rules.exit_at_minute is None:
            window_end_ns = np.minimum(  # calendar: exchange: E no later than E's date's close
                weekday_to_utc_ns(expiry_days[block, None], window_minutes,
                                  expiry_offsets[block, None]), expiry_close_ns[block, None])
        else:
            window_end_ns = np.minimum(
                weekday_to_utc_ns(part_days[:, None], np.full_like(slot_minutes,
                                                                   rules.exit_at_minute),
                                  offsets[:, None]), exit_close_ns[block, None])
        end_ns = weekday_to_utc_ns(part_days[:, None], slot_minutes, offsets[:, None])
        start_idx, end_idx, high, low, window_end_idx = _session_windows(
            bars.ts_ns, bars.high_ticks, bars.low_ticks,
            weekday_to_utc_ns(part_days, start_minute, offsets), end_ns, window_end_ns)
        day, slot = np.nonzero(end_idx > start_idx[:, None])  # §5.4: no bars, no range
        return RangeTable(
            trading_day=part_days[day],
            session_code=np.full(len(day), code, np.int64),
            slot_minute=slot_minutes[slot].astype(np.int64),
            range_start_minute=np.full(len(day), start_minute, np.int64),
            start_idx=start_idx[day],
            end_idx=end_idx[day, slot],
            range_high_ticks=high[day, slot],
            range_low_ticks=low[day, slot],
            end_ts_ns=end_ns[day, slot],
            cutoff_ts_ns=cutoff_ns[block][day],
            window_end_ts_ns=window_end_ns[day, slot],
            # docs/engine.md Q8: X = E - 1 s in fixed mode (prints slot - 1 min, Q21), E in time.
            expiry_ts_ns=window_end_ns[day, slot] - (NS_PER_SECOND if fixed_mode else 0),
            window_end_idx=window_end_idx[day, slot],
        )

    blocks = [slice(start, start + days_per_part) for start in range(0, len(days), days_per_part)]
    parts = [(code, block) for code in family for block in blocks]
    table = RangeTable.concat(list(map_parts(one_part, parts)))
    order = np.lexsort((table.slot_minute, table.trading_day))
    return table[order] if len(order) else table


def _cutoff_minutes(bars: Bars, days: np.ndarray, rules: RangeRules) -> np.ndarray | int:
    """§7.3's market_close, or with calendar: exchange the earlier of it and the date's
    scheduled close (an early close or halt: calendar.py)."""
    if not rules.exchange_calendar:
        return rules.market_close_minute
    closes, _ = session_closes(bars.instrument.symbol, days)
    return np.where(closes >= 0, np.minimum(closes, rules.market_close_minute),
                    rules.market_close_minute)


def _scheduled_close_ns(bars: Bars, days: np.ndarray, offsets: np.ndarray,
                        rules: RangeRules) -> np.ndarray:
    """UTC ns of each date's early close (calendar: exchange), else the int64 maximum."""
    never = np.full(len(days), np.iinfo(np.int64).max, np.int64)
    if not rules.exchange_calendar:
        return never
    closes, _ = session_closes(bars.instrument.symbol, days)
    early = closes >= 0
    return np.where(early, weekday_to_utc_ns(days, np.where(early, closes, 0), offsets), never)


def trading_days(bars: Bars) -> np.ndarray:
    """The distinct trading-date labels (§5.2), day numbers: binary searches over the
    sorted labels instead of a pass over every bar."""
    labels = bars.trading_day  # non-decreasing, as the bars are sorted by time
    if not len(labels):
        return np.empty(0, np.int64)
    candidates = np.arange(labels[0], labels[-1] + 1, dtype=labels.dtype)
    present = (np.searchsorted(labels, candidates, side="right")
               > np.searchsorted(labels, candidates, side="left"))
    return candidates[present].astype(np.int64)


def weekday_trading_days(bars: Bars) -> np.ndarray:
    """The trading dates a range can fall on (Mon-Fri labels, §5.3): the dates of the daily
    P&L series, one value per date whether or not a combo traded."""
    days = trading_days(bars)
    return days[weekday_of(days) < 5]


@numba.njit(nogil=True, cache=True)
def _session_windows(ts, high, low, start_ns, end_ns, window_end_ns):  # pragma: no cover
    """§6 for one session's slots on every day: the windows share the session start and
    end in slot order, so each day's bars are read once, with the running range high and
    low recorded at every slot end. Also the first bar at or after each window end E."""
    n_days, n_slots = end_ns.shape
    start_idx = np.empty(n_days, np.int64)
    end_idx = np.empty((n_days, n_slots), np.int64)
    window_end_idx = np.empty((n_days, n_slots), np.int64)
    range_high = np.zeros((n_days, n_slots), np.int64)
    range_low = np.zeros((n_days, n_slots), np.int64)
    for d in range(n_days):
        i = np.searchsorted(ts, start_ns[d])
        start_idx[d] = i
        high_so_far = np.iinfo(np.int64).min
        low_so_far = np.iinfo(np.int64).max
        for k in range(n_slots):
            end = np.searchsorted(ts, end_ns[d, k])
            while i < end:
                high_so_far = max(high_so_far, high[i])
                low_so_far = min(low_so_far, low[i])
                i += 1
            end_idx[d, k] = end
            range_high[d, k] = high_so_far
            range_low[d, k] = low_so_far
            window_end_idx[d, k] = np.searchsorted(ts, window_end_ns[d, k])
    return start_idx, end_idx, range_high, range_low, window_end_idx
