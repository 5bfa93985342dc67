"""Range definitions: which opening ranges a spec asks about, read from its base and grid.

A range definition is a range start and end (Chicago wall time on the trading date; the
range holds the bars stamped in [start, end), docs/engine.md §5.6) and `trade_until`, the
last stamp a breakout may have (inclusive, like the reference's 16:00 close, §7.3 and Q30).
A spec names them with the keys ``range_start`` and ``range_end`` (or ``range_minutes`` from
the start) and ``trade_until``, in ``base`` (one value) or ``grid`` (a list of values); the
definitions are the product of those axes, every other axis is ignored. A spec with none of
the keys asks about the reference sessions' ranges: each enabled slot's (``slot`` axis, or
``enabled_sessions`` / ``enabled_slots``), from its session's start (S1 02:00, S2 08:00).

`check_range` checks a definition with the engine's own checks of these RunParams fields
(research/engine/range_params.py: HH:MM on the minute, start before end, within the day
session 00:00-16:00 of the trading date, range_end or range_minutes, trade_until not before
the end), so a spec the statistics accept is one the sweep accepts. A ``market_close`` in the
spec is the cut-off without ``trade_until``, as in the engine (§7.3).

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
from collections.abc import Iterable, Mapping, Sequence
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
AXIS_KEYS = (*RANGE_KEYS, "market_close")  # market_close: the engine's cut-off before trade_until
SESSION_CLOSE = "16:00"  # CME's daily close: the day session ends, maintenance until 17:00
SESSION_CLOSE_MINUTE = minute_of_day(SESSION_CLOSE)
MAX_DEFINITIONS = 1000  # far beyond any study; the product of long lists is refused early


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


def check_range(where: str, range_start: Any = None, range_end: Any = None,
                range_minutes: Any = None, trade_until: Any = None,
                market_close: Any = None) -> RangeDefinition:
    """One range definition checked by the engine's own checks (RunParams: `range_start`,
    `range_end` or `range_minutes`, `trade_until`, `market_close`,
    research/engine/range_params.py); a SpecError names `where`, the key and the value.
    The cut-off is the engine's entry cut-off: `trade_until`, else `market_close`, else 16:00.

    >>> check_range("base", "08:30", range_minutes=15).label
    '08:30-08:45'
    >>> check_range("base", "08:30", "08:15")
    Traceback (most recent call last):
    ...
    research.errors.SpecError: base.range_end: '08:15' is not after range_start '08:30'; ...
    """
    given = {key: value for key, value in (("range_start", range_start),
                                           ("range_end", range_end),
                                           ("range_minutes", range_minutes),
                                           ("trade_until", trade_until),
                                           ("market_close", market_close)) if value is not None}
    try:
        params = RunParams(instrument="ES", **given)
    except ParamsError as exc:  # the engine's message starts with the field's name
        raise SpecError(f"{where}.{exc}" if where == "base" else f"{where}: {exc}") from None
    window = params.range_window
    if window.start_minute is None or window.end_minute is None:
        raise SpecError(f"{where}.range_start: missing; a range is given by range_start and "
                        "range_end (or range_minutes)")
    return RangeDefinition(window.start_minute, window.end_minute, params.entry_cutoff_minute)


def definitions_from_mapping(spec: Mapping[str, Any]) -> tuple[RangeDefinition, ...]:
    """The range definitions of a YAML-shaped spec (its base and grid; see the module).

    >>> [d.trade_until for d in definitions_from_mapping({"base": {"instrument": "ES",
    ...     "range_start": "08:30", "range_end": "09:00", "trade_until": "11:00"}})]
    ['11:00']
    """
    base, grid = _section(spec, "base"), _section(spec, "grid")
    axes = _range_axes(base, grid)
    keys = [key for key in AXIS_KEYS if key in axes]
    count = 1
    for key in keys:
        count *= len(axes[key])
    if not any(key in axes for key in RANGE_KEYS[:3]):  # the reference slots, each cut-off
        references = _reference_definitions(base, grid)
        if not keys:
            return references
        count *= len(references)
        bounded(count)
        return _unique(check_range(_where(keys, chosen), d.range_start, d.range_end,
                                   **_values(keys, chosen))
                       for d in references for chosen in itertools.product(
                           *(axes[key] for key in keys)))
    bounded(count)
    return _unique(check_range(_where(keys, chosen), **_values(keys, chosen))
                   for chosen in itertools.product(*(axes[key] for key in keys)))


def bounded(count: int) -> None:
    """Refuse more than MAX_DEFINITIONS definitions before any work.

    >>> bounded(10)
    """
    if count > MAX_DEFINITIONS:
        raise SpecError(f"grid: {count:,} range definitions, more than the {MAX_DEFINITIONS:,} "
                        "allowed; use shorter lists of range_start, range_end and trade_until")


def _values(keys: Sequence[str], chosen: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    return {key: value for key, (_, value) in zip(keys, chosen, strict=True)}


def _unique(definitions: Iterable[RangeDefinition]) -> tuple[RangeDefinition, ...]:
    """In order, each once: range_end 09:00 and range_minutes 30 are one range."""
    return tuple(dict.fromkeys(definitions))


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
    for key in AXIS_KEYS:
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

