"""RunParams: the frozen, validated, JSON-round-trippable parameters of one engine run."""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from research.engine.instruments import ALIASES, INSTRUMENTS, Instrument
from research.engine.range_params import RangeWindow, check_range_fields
from research.engine.rule_params import check_rules
from research.engine.sessions import SESSION_SLOTS, WEEKDAY_NAMES, minute_of_day
from research.errors import InputTypeError, ParamsError, shorten

TARGET_MODES = ("fixed", "time")
CALENDARS = ("fixed", "exchange")  # fixed: the reference's 16:00 close every date
MAX_TARGET_TICKS = 10_000_000  # far beyond any price move, far below int64 overflow
MAX_CONTRACTS = 100_000
MAX_COMMISSION_USD = 100_000
MAX_SLIPPAGE_TICKS = 10_000
# Fields added after combo ids were first published: the canonical JSON names them only when
# they differ from their defaults, so the id of every combo that does not use them is kept.
LATER_FIELDS = ("contracts", "commission", "slippage_ticks", "calendar",
                # Issue 20: your own range, entry, exit and sizing rules (range_params.py,
                # rule_params.py); each defaults to today's behaviour.
                "range_start", "range_end", "range_minutes", "trade_until", "entry",
                "direction", "max_entries_per_day", "target_r", "exit_at", "risk_usd",
                "risk_fraction", "equity_usd")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunParams:
    """One engine run. Field names are those of the golden JSON files.

    >>> RunParams(instrument="ES", target=15).target_ticks
    60
    """

    instrument: str
    enabled_sessions: tuple[str, ...] = ("S1", "S2")
    # session -> slot labels; a missing or empty list means all of the session's slots (Q17)
    enabled_slots: tuple[tuple[str, tuple[str, ...]], ...] = ()
    trade_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    target: int | float | None = None  # None: the instrument's base target (ladder[0])
    t1_fraction: float = 0.65
    stop_cap_multiple: float = 3.0
    market_close: str = "16:00"
    target_mode: str = "fixed"
    write_no_trade_rows: bool = True
    # Costs (docs/engine.md §10.3: a stage after the exit walk): none by default, rows unchanged.
    contracts: int = 1
    commission: int | float = 0  # dollars per contract per round turn, exchange fees included
    slippage_ticks: int = 0  # ticks lost on each fill, entry and exit
    # exchange: each date's scheduled CME close (calendar.py) also bounds entries and time
    # exits: a deliberate difference from the reference (docs/engine-dates.md).
    calendar: str = "fixed"
    # Your own range (range_params.py): [D range_start, D range_end) Chicago, or
    # range_minutes from range_start; replaces the reference sessions. trade_until: the
    # last stamp an entry may take (None: market_close, today's rule).
    range_start: str | None = None
    range_end: str | None = None
    range_minutes: int | None = None
    trade_until: str | None = None
    # Entry rules (docs/engine.md §7.5): stop (the reference's) or close_confirm (a close
    # beyond the range, entry at the next bar's open); which sides; entries per range.
    entry: str = "stop"
    direction: str = "both"
    max_entries_per_day: int = 1
    # Exit rules (§7.6): a target in multiples of the initial risk; an exit time on D.
    target_r: int | float | None = None
    exit_at: str | None = None
    # Sizing by risk (§10.4): whole contracts from risk_usd, or risk_fraction of an
    # equity_usd compounding with the combo's own net P&L; None: the fixed `contracts`.
    risk_usd: int | float | None = None
    risk_fraction: float | None = None
    equity_usd: int | float | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "instrument", _check_instrument(self.instrument))
        set_(self, "enabled_sessions", _check_sessions(self.enabled_sessions))
        set_(self, "enabled_slots", _check_slots(self.enabled_slots))
        set_(self, "trade_days", _check_trade_days(self.trade_days))
        spec = INSTRUMENTS[self.instrument]
        set_(self, "target", _check_target(self.target, spec))
        set_(self, "t1_fraction", _check_number("t1_fraction", self.t1_fraction, 0, 1))
        set_(self, "stop_cap_multiple",
             _check_number("stop_cap_multiple", self.stop_cap_multiple, 0, math.inf))
        _check_market_close(self.market_close)
        if not isinstance(self.target_mode, str) or self.target_mode not in TARGET_MODES:
            raise ParamsError(
                f"target_mode: {shorten(self.target_mode)} is not one of {TARGET_MODES}")
        if not isinstance(self.calendar, str) or self.calendar not in CALENDARS:
            raise ParamsError(f"calendar: {shorten(self.calendar)} is not one of "
                              f"{', '.join(CALENDARS)} (exchange: each date's scheduled CME "
                              "close bounds entries and time exits)")
        if not isinstance(self.write_no_trade_rows, bool):
            raise ParamsError(
                f"write_no_trade_rows: {shorten(self.write_no_trade_rows)} is not true or false")
        set_(self, "contracts", _check_count("contracts", self.contracts, 1, MAX_CONTRACTS))
        set_(self, "commission", _check_commission(self.commission))
        set_(self, "slippage_ticks",
             _check_count("slippage_ticks", self.slippage_ticks, 0, MAX_SLIPPAGE_TICKS))
        check_rules(self)
        if self.stop_cap_ticks < 1:
            raise ParamsError(
                f"stop_cap_multiple: {self.stop_cap_multiple} x target {self.target} is less "
                f"than one tick ({spec.tick})")

    # ---- derived, exact tick arithmetic (docs/engine.md Q15) ----
    @property
    def spec(self) -> Instrument:
        """The instrument's row of the table: tick, ladder, micro scale, $ per point.

        >>> RunParams(instrument="MES").spec.tick, RunParams(instrument="MES").target
        (0.25, 10)
        """
        return INSTRUMENTS[self.instrument]

    @property
    def target_ticks(self) -> int:
        """The target in ticks (exact: the target is a multiple of the tick).

        >>> RunParams(instrument="CL", target=0.5).target_ticks
        50
        """
        return _ticks(self.target, self.instrument)

    @property
    def t1_threshold_ticks(self) -> int:
        """The favourable move, in ticks, that fires T1 and moves the stop to break-even:
        ceil(t1_fraction x target ticks), in decimal arithmetic (Q15).

        >>> RunParams(instrument="ES", target=10).t1_threshold_ticks  # ceil(0.65 x 40)
        26
        """
        return _times_ticks(self.t1_fraction, self.target_ticks, ceil=True)

    @property
    def stop_cap_ticks(self) -> int:
        """The most the initial stop may lie from the entry, in ticks:
        floor(stop_cap_multiple x target ticks).

        >>> RunParams(instrument="ES", target=10).stop_cap_ticks  # 3 x 40 ticks = 30 points
        120
        """
        return _times_ticks(self.stop_cap_multiple, self.target_ticks, ceil=False)

    @property
    def commission_cents(self) -> int:
        """The commission per contract per round turn, in whole cents.

        >>> RunParams(instrument="ES", commission=2.5).commission_cents
        250
        """
        return int(Decimal(repr(self.commission)) * 100)

    @property
    def range_window(self) -> RangeWindow:
        """The checked range definition (range_params.py); not custom by default.

        >>> RunParams(instrument="ES", range_start="08:30", range_minutes=5).range_window.label
        'R0830-0835'
        """
        return check_range_fields(self.range_start, self.range_end, self.range_minutes,
                                  self.trade_until)

    @property
    def entry_cutoff_minute(self) -> int:
        """The last Chicago minute of D an entry may take: trade_until, else market_close.

        >>> RunParams(instrument="ES", trade_until="11:00").entry_cutoff_minute
        660
        """
        cutoff = self.range_window.cutoff_minute
        return minute_of_day(self.market_close) if cutoff is None else cutoff

    @property
    def exit_at_minute(self) -> int | None:
        """exit_at as a Chicago minute of D (None: today's window end, §8).

        >>> RunParams(instrument="ES", exit_at="15:00").exit_at_minute
        900
        """
        return None if self.exit_at is None else minute_of_day(self.exit_at)

    def slots_for(self, session: str) -> tuple[str, ...]:
        """The slot labels that run for a session (Q17: empty or missing means all).

        >>> RunParams(instrument="ES", enabled_slots={"S2": ["10:00"]}).slots_for("S2")
        ('10:00',)
        >>> RunParams(instrument="ES").slots_for("S1")
        ('07:30', '08:00', '09:00')
        """
        chosen = dict(self.enabled_slots).get(session, ())
        return chosen if chosen else SESSION_SLOTS[session]

    # ---- canonical form ----
    def to_dict(self) -> dict[str, Any]:
        """Every field, lists for tuples (JSON-ready); `from_dict` reads it back.

        >>> rp = RunParams(instrument="ES", target=15)
        >>> rp.to_dict()["target"], RunParams.from_dict(rp.to_dict()) == rp
        (15, True)
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "enabled_slots":
                value = {session: list(labels) for session, labels in value}
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def to_json(self) -> str:
        """The canonical JSON behind combo_id (LATER_FIELDS only where not at default).

        >>> RunParams(instrument="ES").to_json()[:40]
        '{"enabled_sessions":["S1","S2"],"enabled'
        """
        canonical = self.to_dict()
        for name in LATER_FIELDS:
            if canonical[name] == _DEFAULTS[name]:
                del canonical[name]
        return json.dumps(canonical, sort_keys=True, separators=(",", ":"))

    @property
    def combo_id(self) -> str:
        """A short stable id: the first 12 hex digits of the canonical JSON's sha256.

        >>> RunParams(instrument="ES", target=15).combo_id
        'e80ef1ef90c8'
        """
        return _combo_id(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunParams:
        """Build from a mapping; keys starting with '_' are documentation and skipped.

        >>> RunParams.from_dict({"instrument": "MES", "target": 12.5, "_note": "x"}).target
        12.5
        """
        if not isinstance(data, Mapping):
            raise InputTypeError(f"RunParams.from_dict: expected a mapping of fields, got "
                                 f"{type(data).__name__}")
        known = {f.name for f in fields(cls)}
        clean = {k: v for k, v in data.items() if not str(k).startswith("_")}
        unknown = sorted(set(clean) - known)
        if unknown:
            raise ParamsError(f"unknown field(s) {shorten(unknown)}; allowed: {sorted(known)}")
        if "instrument" not in clean:
            raise ParamsError("instrument: missing (one of " + ", ".join(INSTRUMENTS) + ")")
        return cls(**clean)


_DEFAULTS = {f.name: f.default for f in fields(RunParams)}


# A sweep asks each combo's ticks several times (plan, tasks, the walk's key) and a grid holds
# few distinct values: the exact decimal arithmetic (Q15) runs once per value. typed=True: a
# cached 1 never answers for 1.0 (their reprs differ, though their ticks do not).
@functools.lru_cache(maxsize=1 << 12, typed=True)
def _ticks(target: int | float, instrument: str) -> int:
    return int(Decimal(repr(target)) / INSTRUMENTS[instrument].tick_decimal)


@functools.lru_cache(maxsize=1 << 14, typed=True)
def _times_ticks(factor: int | float, ticks: int, ceil: bool) -> int:
    """ceil (or floor) of factor x ticks, in decimal arithmetic."""
    product = Decimal(repr(factor)) * ticks
    return math.ceil(product) if ceil else math.floor(product)


@functools.lru_cache(maxsize=1 << 16)
def _combo_id(rp: RunParams) -> str:
    # A sweep asks for the same combos' ids many times (plan, tasks, compaction): hashing
    # the frozen params is ~10x cheaper than their canonical JSON and its sha256.
    return hashlib.sha256(rp.to_json().encode()).hexdigest()[:12]


def _check_instrument(value: Any) -> str:
    if isinstance(value, str) and value in INSTRUMENTS:
        return value
    alias = isinstance(value, str) and value in ALIASES
    hint = " (a data-file alias, not tradable)" if alias else ""
    raise ParamsError(f"instrument: {shorten(value)}{hint} is not one of "
                      f"{', '.join(INSTRUMENTS)}")


def _as_sequence(name: str, value: Any) -> tuple:
    """A list (tuple, set, ...) as a tuple; text and a mapping, whose keys a loop would read
    silently ({Mon: 1} as [Mon]), are refused."""
    if isinstance(value, Mapping):
        raise ParamsError(f"{name}: {shorten(value)} is a mapping, not a list")
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ParamsError(f"{name}: {shorten(value)} is not a list")
    return tuple(value)


def _check_sessions(value: Any) -> tuple[str, ...]:
    sessions = _as_sequence("enabled_sessions", value)
    for session in sessions:
        if not isinstance(session, str) or session not in SESSION_SLOTS:
            raise ParamsError(
                f"enabled_sessions: {shorten(session)} is not one of {', '.join(SESSION_SLOTS)}")
    return tuple(sorted(set(sessions)))


def _check_slots(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    items = value.items() if isinstance(value, Mapping) else _as_sequence("enabled_slots", value)
    checked = {}
    for item in items:
        try:
            if not isinstance(item, (list, tuple)):  # text would unpack letter by letter
                raise TypeError
            session, labels = item
        except (TypeError, ValueError):
            raise ParamsError(f"enabled_slots: {shorten(item)} is not a session: [slots] "
                              "entry") from None
        if not isinstance(session, str) or session not in SESSION_SLOTS:
            raise ParamsError(f"enabled_slots: session {shorten(session)} is not one of "
                              f"{', '.join(SESSION_SLOTS)}")
        for label in _as_sequence(f"enabled_slots[{session}]", labels):
            if not isinstance(label, str) or label not in SESSION_SLOTS[session]:
                raise ParamsError(
                    f"enabled_slots[{session}]: {shorten(label)} is not one of "
                    f"{', '.join(SESSION_SLOTS[session])}")
        ordered = tuple(s for s in SESSION_SLOTS[session] if s in set(labels))
        if ordered:  # an empty list means all slots, the same as no entry (Q17)
            checked[session] = ordered
    return tuple(sorted(checked.items()))


def _check_trade_days(value: Any) -> tuple[int, ...]:
    days = []
    for day in _as_sequence("trade_days", value):
        if isinstance(day, str) and day.title() in WEEKDAY_NAMES:
            day = WEEKDAY_NAMES.index(day.title())
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 4:
            raise ParamsError(
                f"trade_days: {shorten(day)} is not a weekday 0-4 (Mon=0) or one of "
                f"{', '.join(WEEKDAY_NAMES)}")
        days.append(day)
    return tuple(sorted(set(days)))


def _is_number(value: Any) -> bool:
    """An int (of any size: never converted here) or a finite float; not a bool."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and not (
        isinstance(value, float) and not math.isfinite(value))


def _check_number(name: str, value: Any, low: float, high: float) -> float:
    """A finite int or float in (low, high]; an int of any size compares exactly."""
    if not _is_number(value):
        raise ParamsError(f"{name}: {_shown(value)} is not a number")
    if not low < value <= high:
        allowed = f"> {low}" if high == math.inf else f"in ({low}, {high}]"
        raise ParamsError(f"{name}: {shorten(value)} is not {allowed}")
    try:
        return float(value)
    except OverflowError:  # an int past float's range
        raise ParamsError(f"{name}: {shorten(value)} is too large a number") from None


def _check_target(value: Any, spec: Instrument) -> int | float:
    if value is None:
        return spec.base_target
    _check_number("target", value, 0, math.inf)
    if value > MAX_TARGET_TICKS * spec.tick:  # before any arithmetic on a huge number
        raise ParamsError(f"target: {shorten(value)} is more than {MAX_TARGET_TICKS:,} "
                          f"{spec.symbol} ticks ({spec.tick}); no price moves that far")
    ticks = Decimal(repr(value)) / spec.tick_decimal
    if ticks != ticks.to_integral_value():
        raise ParamsError(
            f"target: {value!r} is not a multiple of the {spec.symbol} tick ({spec.tick})")
    # An integral target is an int so 10 and 10.0 are the same combo and print as "10".
    return int(value) if float(value).is_integer() else float(value)


def _check_count(name: str, value: Any, low: int, high: int) -> int:
    """A whole number in [low, high]; an integral float (2.0, from YAML) counts as one."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamsError(f"{name}: {_shown(value)} is not a whole number")
    if not low <= value <= high:
        raise ParamsError(f"{name}: {shorten(value)} is not in [{low}, {high}]")
    return value


def _check_commission(value: Any) -> int | float:
    """Dollars >= 0 in whole cents, so every cost is an exact number of cents."""
    if not _is_number(value):
        raise ParamsError(f"commission: {_shown(value)} is not a number of dollars")
    if not 0 <= value <= MAX_COMMISSION_USD:
        raise ParamsError(
            f"commission: {shorten(value)} is not in [0, {MAX_COMMISSION_USD}] dollars")
    cents = Decimal(repr(value)) * 100
    if cents != cents.to_integral_value():
        raise ParamsError(f"commission: {value!r} is not a whole number of cents")
    return int(value) if float(value).is_integer() else float(value)


def _shown(value: Any) -> str:
    """The value as messages show it, with its type where the text alone would mislead
    (Decimal('0.5') prints as 0.5, numpy's int64 as 2)."""
    if type(value) in _PLAIN_TYPES:
        return shorten(value)
    return f"{shorten(value)} ({type(value).__name__})"


_PLAIN_TYPES = (str, int, float, bool, type(None), list, tuple, dict)


def _check_market_close(value: Any) -> None:
    if not isinstance(value, str):  # YAML reads market_close: 1600 as a number
        raise ParamsError(f"market_close: {shorten(value)} is not an HH:MM time (text such as "
                          "'16:00')")
    try:
        minute_of_day(value)
    except ValueError:
        raise ParamsError(f"market_close: {shorten(value)} is not an HH:MM time") from None

