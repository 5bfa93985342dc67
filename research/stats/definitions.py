"""Range definitions: which opening ranges a spec asks about, read from its base and grid.

A range definition is a range start and end (Chicago wall time on the trading date; the
range holds the bars stamped in [start, end), docs/engine.md §5.6) and `trade_until`, the
last stamp a breakout may have (inclusive, like the reference's 16:00 close, §7.3 and Q30).
A spec names them with the keys ``range_start`` and ``range_end`` (or ``range_minutes`` from
the start) and ``trade_until``, in ``base`` (one value) or ``grid`` (a list of values); the
definitions are the product of those axes, every other axis is ignored. A spec with none of
the keys asks about the reference sessions' ranges: each enabled slot's (``slot`` axis, or
``enabled_sessions`` / ``enabled_slots``), from its session's start (S1 02:00, S2 08:00).

`check_range` is the one place a definition is checked: until the engine takes these keys as
`RunParams` fields it is a small checker of its own (HH:MM on the minute, start before end,
within the day session 00:00-16:00 of the trading date, range_end or range_minutes).

>>> [d.label for d in definitions_from_mapping(
...     {"base": {"instrument": "ES", "range_start": "08:30"},
...      "grid": {"range_minutes": [5, 15, 30], "target": [10, 20]}})]
['08:30-08:35', '08:30-08:45', '08:30-09:00']
>>> [d.label for d in definitions_from_mapping(
...     {"base": {"instrument": "ES"}, "grid": {"slot": ["07:30", "10:00"]}})]
['02:00-07:30', '08:00-10:00']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from research.engine.params import RunParams
from research.engine.sessions import (
    ALL_SLOTS,
    SESSION_START,
    SLOT_AXIS,
    minute_of_day,
    session_of_slot,
)
from research.errors import ParamsError, SpecError, shorten

RANGE_KEYS = ("range_start", "range_end", "range_minutes", "trade_until")
SESSION_CLOSE = "16:00"  # CME's daily close: the day session ends, maintenance until 17:00
SESSION_CLOSE_MINUTE = minute_of_day(SESSION_CLOSE)
MAX_DEFINITIONS = 1000  # far beyond any study; the product of long lists is refused early
_WITH_SECONDS = re.compile(r"\d{2}:\d{2}:\d{2}")


@dataclass(frozen=True, slots=True)
class RangeDefinition:
    """One opening range and its breakout window, Chicago minutes of the trading date.

    >>> d = RangeDefinition(range_start_minute=510, range_end_minute=515,
    ...                     trade_until_minute=960)
    >>> d.label, d.range_start, d.range_end, d.trade_until, d.range_minutes
    ('08:30-08:35', '08:30', '08:35', '16:00', 5)
    """

    range_start_minute: int
    range_end_minute: int
    trade_until_minute: int = SESSION_CLOSE_MINUTE

    @property
    def range_start(self) -> str:
        return hhmm(self.range_start_minute)

    @property
    def range_end(self) -> str:
        return hhmm(self.range_end_minute)

    @property
    def trade_until(self) -> str:
        return hhmm(self.trade_until_minute)

    @property
    def range_minutes(self) -> int:
        return self.range_end_minute - self.range_start_minute

    @property
    def label(self) -> str:
        return f"{self.range_start}-{self.range_end}"


def hhmm(minute: int) -> str:
    """A minute of the day as HH:MM text.

    >>> hhmm(510)
    '08:30'
    """
    return f"{minute // 60:02d}:{minute % 60:02d}"


def check_range(where: str, range_start: Any, range_end: Any = None,
                range_minutes: Any = None, trade_until: Any = None) -> RangeDefinition:
    """One range definition checked; a SpecError names `where`, the key and the value.

    The one checker of the range keys (after the engine takes them as RunParams fields,
    this becomes a call to its checker).

    >>> check_range("base", "08:30", range_minutes=15).label
    '08:30-08:45'
    >>> check_range("base", "08:30", "08:15")
    Traceback (most recent call last):
    ...
    research.errors.SpecError: base.range_end: '08:15' is not after range_start '08:30'; ...
    """
    start = _minute(where, "range_start", range_start)
    if (range_end is None) == (range_minutes is None):
        raise SpecError(f"{where}: give range_end or range_minutes (one of the two) with "
                        f"range_start {range_start!r}")
    if range_end is not None:
        end = _minute(where, "range_end", range_end)
        if end <= start:
            raise SpecError(f"{where}.range_end: {shorten(range_end)} is not after range_start "
                            f"{range_start!r}; a range runs forward within one day session")
    else:
        if isinstance(range_minutes, bool) or not isinstance(range_minutes, int) \
                or range_minutes < 1:
            raise SpecError(f"{where}.range_minutes: {shorten(range_minutes)} is not a whole "
                            "number of minutes >= 1")
        end = start + range_minutes
    if end > SESSION_CLOSE_MINUTE:
        raise SpecError(f"{where}: the range {hhmm(start)}-{hhmm(min(end, 1439))} ends after "
                        f"the session close {SESSION_CLOSE}; a range lies within one day "
                        "session (00:00-16:00 Chicago of its trading date)")
    until = SESSION_CLOSE_MINUTE if trade_until is None else \
        _minute(where, "trade_until", trade_until)
    if not end <= until <= SESSION_CLOSE_MINUTE:
        raise SpecError(f"{where}.trade_until: {shorten(trade_until)} is not between the range "
                        f"end {hhmm(end)} and the session close {SESSION_CLOSE}")
    return RangeDefinition(start, end, until)


def _minute(where: str, key: str, value: Any) -> int:
    if isinstance(value, str) and _WITH_SECONDS.fullmatch(value):
        raise SpecError(f"{where}.{key}: {shorten(value)} is not on the minute; give HH:MM")
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return minute_of_day(value)
    except ValueError:
        raise SpecError(f"{where}.{key}: {shorten(value)} is not an HH:MM time (Chicago, "
                        "e.g. '08:30')") from None


def definitions_from_mapping(spec: Mapping[str, Any]) -> tuple[RangeDefinition, ...]:
    """The range definitions of a YAML-shaped spec (its base and grid; see the module).

    >>> [d.trade_until for d in definitions_from_mapping({"base": {"instrument": "ES",
    ...     "range_start": "08:30", "range_end": "09:00", "trade_until": "11:00"}})]
    ['11:00']
    """
    base, grid = _section(spec, "base"), _section(spec, "grid")
    axes = _range_axes(base, grid)
    if not axes:
        return _reference_definitions(base, grid)
    if "range_start" not in axes:
        if set(axes) == {"trade_until"}:
            return tuple(check_range(where, d.range_start, d.range_end, trade_until=until)
                         for d in _reference_definitions(base, grid)
                         for where, until in axes["trade_until"])
        raise SpecError("base.range_start: missing; a range is given by range_start and "
                        "range_end (or range_minutes)")
    end_key = "range_end" if "range_end" in axes else "range_minutes"
    keys = [key for key in ("range_start", end_key, "trade_until") if key in axes]
    count = 1
    for key in keys:
        count *= len(axes[key])
    if count > MAX_DEFINITIONS:
        raise SpecError(f"grid: {count:,} range definitions, more than the {MAX_DEFINITIONS:,} "
                        "allowed; use shorter lists of range_start, range_end and trade_until")
    found: list[RangeDefinition] = []
    for chosen in itertools.product(*(axes[key] for key in keys)):
        values = {key: value for key, (_, value) in zip(keys, chosen, strict=True)}
        where = _where(keys, chosen)
        definition = check_range(where, values["range_start"], values.get("range_end"),
                                 values.get("range_minutes"), values.get("trade_until"))
        if definition not in found:  # range_end 09:00 and range_minutes 30 are one range
            found.append(definition)
    return tuple(found)


def _section(spec: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = spec.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"{key}: expected a mapping, got {shorten(value)}")
    return value


def _range_axes(base: Mapping[str, Any], grid: Mapping[str, Any],
                ) -> dict[str, list[tuple[str, Any]]]:
    """Each range key given: its values, each with where it was written."""
    axes: dict[str, list[tuple[str, Any]]] = {}
    for key in RANGE_KEYS:
        if key in base and key in grid:
            raise SpecError(f"grid.{key}: also set in base; give it in one place")
        if key in base:
            axes[key] = [("base", base[key])]
        elif key in grid:
            values = grid[key]
            if not isinstance(values, (list, tuple)) or not values:
                raise SpecError(f"grid.{key}: expected a non-empty list of values, got "
                                f"{shorten(values)}")
            if len(set(map(repr, values))) < len(values):
                raise SpecError(f"grid.{key}: {shorten(values)} gives a value twice")
            axes[key] = [(f"grid.{key}[{i}]", value) for i, value in enumerate(values)]
    if "range_end" in axes and "range_minutes" in axes:
        raise SpecError("range_end and range_minutes: give one of the two (range_minutes counts "
                        "from range_start)")
    return axes


def _where(keys: Sequence[str], chosen: Sequence[tuple[str, Any]]) -> str:
    """Where one combination of values was written: 'base' or the grid values involved."""
    places = [f"{key} {shorten(value)}" for key, (where, value) in zip(keys, chosen, strict=True)
              if where != "base"]
    return f"grid ({', '.join(places)})" if places else "base"


def _reference_definitions(base: Mapping[str, Any], grid: Mapping[str, Any],
                           ) -> tuple[RangeDefinition, ...]:
    """The reference slots a spec enables (docs/engine.md §4): slot axis, else sessions."""
    if SLOT_AXIS in base or SLOT_AXIS in grid:
        given = [("base.slot", base[SLOT_AXIS])] if SLOT_AXIS in base else \
            [(f"grid.slot[{i}]", v) for i, v in enumerate(_listed(grid, SLOT_AXIS))]
        for where, slot in given:
            if not isinstance(slot, str) or slot not in ALL_SLOTS:
                raise SpecError(f"{where}: {shorten(slot)} is not a slot; allowed: "
                                f"{', '.join(ALL_SLOTS)}")
        slots = {slot for _, slot in given}
    else:
        slots = set()
        for chosen in _session_choices(base, grid):
            try:
                params = RunParams(instrument=_instrument(base), **chosen)
            except ParamsError as exc:
                raise SpecError(f"base: {exc}") from None
            slots.update(s for session in params.enabled_sessions
                         for s in params.slots_for(session))
    return tuple(RangeDefinition(minute_of_day(SESSION_START[session_of_slot(slot)]),
                                 minute_of_day(slot))
                 for slot in ALL_SLOTS if slot in slots)


def _session_choices(base: Mapping[str, Any], grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    keys = ("enabled_sessions", "enabled_slots")
    options = [[base[key]] if key in base else _listed(grid, key) if key in grid else [None]
               for key in keys]
    return [{key: value for key, value in zip(keys, chosen, strict=True) if value is not None}
            for chosen in itertools.product(*options)]


def _listed(grid: Mapping[str, Any], key: str) -> list[Any]:
    values = grid[key]
    if not isinstance(values, (list, tuple)) or not values:
        raise SpecError(f"grid.{key}: expected a non-empty list of values, got {shorten(values)}")
    return list(values)


def _instrument(base: Mapping[str, Any]) -> Any:
    return base.get("instrument", "ES")

