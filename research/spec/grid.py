"""Sweep specs: what to run. Parses, validates and enumerates; never runs anything.

Like scikit-learn's ``ParameterGrid``: a ``base`` of shared ``RunParams`` fields plus
``grid`` axes whose cartesian product gives the combos. Every mistake is a ``SpecError``
naming the key path, the value and what is allowed, raised before any work starts. The
``data:`` section is checked by ``data_source``; ``prepared`` turns a spec into a sweep.

>>> spec = build_spec({"target": [10, 15]}, {"instrument": "ES"}, "demo")
>>> [p.target for p in spec.combos()]
[10, 15]
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from research.analysis.config import AnalysisConfig
from research.engine.instruments import INSTRUMENTS
from research.engine.params import RunParams
from research.engine.sessions import ALL_SLOTS, SLOT_AXIS, session_of_slot
from research.errors import InputTypeError, ParamsError, SpecError, shorten
from research.parallel.settings import ParallelSpec
from research.results.schemas import param_columns_for
from research.spec.arguments import (
    DEFAULT_MAX_COMBOS,
    check_keys,
    check_max_combos,
    check_store_trades,
)
from research.spec.data_source import DataSpec, parse_data
from research.spec.yaml_reader import read_spec_yaml

DEFAULT_SPEC_NAME = "sweep"
TOP_KEYS = ("name", "data", "base", "grid", "parallel", "store_trades", "analysis",
            "max_combos")
PARALLEL_KEYS = tuple(f.name for f in fields(ParallelSpec))
SLOT_CONFLICTS = ("enabled_sessions", "enabled_slots", "range_start")  # a slot sets its session
LIST_FIELDS = ("enabled_sessions", "enabled_slots", "trade_days")
# Fields checked together (issue 20): a range's start and its end or length may come one from
# base and one from the grid; exit_at and trade_until are checked against the range's end.
COMPANION_GROUPS = (("range_start", "range_end", "range_minutes", "trade_until", "exit_at"),
                    ("risk_fraction", "equity_usd"))
PARAM_FIELDS = tuple(f.name for f in fields(RunParams))
AXES = tuple(f for f in (*PARAM_FIELDS, SLOT_AXIS) if f != "instrument")
_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")
# A name is a folder name: 255 bytes on every common file system, less the suffix a --fresh
# start gives the old results' folder (".old-YYYYmmdd-HHMMSS-NNNN", 25 characters).
MAX_NAME_CHARS = 200
Grid = tuple[tuple[str, tuple[Any, ...]], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepSpec:
    """A validated sweep: ``base`` fields shared by all combos, ``grid`` axes in order."""

    name: str
    data: DataSpec | None
    base: Mapping[str, Any]
    grid: Grid
    parallel: ParallelSpec = field(default_factory=ParallelSpec)
    store_trades: str = "all"
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    max_combos: int = DEFAULT_MAX_COMBOS
    source: str = "<dict>"

    def __post_init__(self) -> None:
        _check_axis_values(self.base, self.grid)

    @property
    def axes(self) -> list[str]:
        return [axis for axis, _ in self.grid]

    @property
    def size(self) -> int:
        return math.prod(len(values) for _, values in self.grid)

    def iter_combos(self) -> Iterator[RunParams]:
        """The combos one at a time, first axis slowest (like ``itertools.product``): a
        large grid is never held whole."""
        for chosen in self.iter_values():
            try:
                yield RunParams.from_dict(_expand_slot({**self.base, **chosen}))
            except ParamsError as exc:  # values valid alone may clash (stop cap x target)
                raise SpecError(f"grid combo {shorten(chosen, 120)}: {exc}") from None

    def iter_values(self) -> Iterator[dict[str, Any]]:
        """Each combo's axis values as written (the summary's columns), in grid order,
        without building its RunParams.

        >>> spec = spec_from_dict({"name": "t", "base": {"instrument": "ES"},
        ...                        "data": {"synthetic": {"instrument": "ES"}},
        ...                        "grid": {"target": [10, 15], "t1_fraction": [0.5]}})
        >>> list(spec.iter_values())
        [{'target': 10, 't1_fraction': 0.5}, {'target': 15, 't1_fraction': 0.5}]
        """
        axes = self.axes
        for point in itertools.product(*(values for _, values in self.grid)):
            yield dict(zip(axes, point, strict=True))

    def param_columns(self) -> list[tuple[str, Any]]:
        """The summary's parameter columns and types, from every value of every axis."""
        return [param_columns_for([{axis: v} for v in values], [axis])[0]
                for axis, values in self.grid]

    def combos(self) -> list[RunParams]:
        return list(self.iter_combos())

    @property
    def spec_hash(self) -> str:
        """sha256 of {data, base, grid}, written to the manifest: a new name or parallel
        setting keeps it, another grid changes it.

        >>> build_spec({"target": [10]}, {"instrument": "ES"}, "a").spec_hash == \\
        ...     build_spec({"target": [10]}, {"instrument": "ES"}, "b").spec_hash
        True
        """
        payload = {"data": self.data and self.data.to_dict(), "base": dict(self.base),
                   "grid": {axis: list(values) for axis, values in self.grid}}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The spec as given (dates as ISO text); ``spec_from_dict`` reads it back."""
        return copy.deepcopy({
            "name": self.name, "data": self.data and self.data.to_dict(),
            "base": dict(self.base), "grid": {axis: list(vals) for axis, vals in self.grid},
            "parallel": self.parallel.to_dict(), "store_trades": self.store_trades,
            "analysis": self.analysis.to_dict(), "max_combos": self.max_combos})


def load_spec(path: str | Path) -> SweepSpec:
    """Read a YAML spec; its name defaults to the file stem, data paths may be local to it.

    The file is read within the bounds of ``research.spec.yaml_reader`` (size, aliases, duplicate
    keys). A SpecError starts with the file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"path: expected a spec file path (str or PathLike), got "
                             f"{type(path).__name__}")
    path = Path(path)
    loaded = read_spec_yaml(path)
    if not isinstance(loaded, Mapping):
        raise SpecError(f"{path}: expected a mapping of {', '.join(TOP_KEYS)}, got "
                        f"{shorten(loaded)}")
    try:
        return spec_from_dict({"name": path.stem, **loaded}, source=str(path),
                              base_dir=path.parent)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None


def spec_from_dict(d: Mapping[str, Any], *, source: str = "<dict>",
                   base_dir: str | Path | None = None, data_required: bool = True) -> SweepSpec:
    """Validate a YAML-shaped mapping into a ``SweepSpec``; every section is checked."""
    if not isinstance(d, Mapping):
        raise SpecError(f"spec: expected a mapping of {', '.join(TOP_KEYS)}, got {shorten(d)}")
    check_keys("spec", d, TOP_KEYS)
    name = _check_name(d.get("name", DEFAULT_SPEC_NAME))
    base = _parse_base(_given(d, "base"), _first_values(_given(d, "grid")))
    grid = _parse_grid(_given(d, "grid"), base)
    data = d.get("data")
    if data is None and data_required:
        raise SpecError("data: missing; give data.path (file, glob or folder) or data.synthetic")
    data_spec = None if data is None else parse_data(data, base["instrument"], base_dir)
    return SweepSpec(name=name, data=data_spec, base=MappingProxyType(base), grid=grid,
                     parallel=_parse_parallel(_given(d, "parallel")),
                     store_trades=check_store_trades(d.get("store_trades")) or "all",
                     analysis=AnalysisConfig.from_mapping(_given(d, "analysis")),
                     max_combos=check_max_combos(d.get("max_combos")) or DEFAULT_MAX_COMBOS,
                     source=source)


def build_spec(grid: Mapping[str, Any], base: Mapping[str, Any] | None,
               name: str | None) -> SweepSpec:
    """A data-less spec for ``ResearchRunner.run``, which is handed its data directly."""
    spec = {"name": name or DEFAULT_SPEC_NAME, "base": base, "grid": grid}
    return spec_from_dict(spec, data_required=False)


def check_grid_size(spec: SweepSpec, max_combos: int | None = None) -> None:
    """Refuse, before any work, a grid larger than it was allowed to be."""
    limit = max_combos or spec.max_combos
    if spec.size > limit:
        raise SpecError(f"grid: {spec.size:,} combos, more than the {limit:,} allowed; ask for "
                        f"them with --max-combos {spec.size} (or max_combos: {spec.size} in the "
                        "spec), or make the grid smaller")


def _given(d: Mapping[str, Any], key: str) -> Any:
    """A missing or null section is an empty one; any other non-mapping is refused later."""
    return {} if d.get(key) is None else d[key]


def _key(key: Any) -> str:
    """A key as a message names it: an unknown key may be anything, of any length."""
    # A long one is cut short: the message also lists every allowed field.
    return key if isinstance(key, str) and len(key) <= 40 else shorten(key, 24)


def _check_name(name: Any) -> str:
    """The name is the results folder, so it must not climb out of results_dir."""
    if not isinstance(name, str):
        raise SpecError(f"name: {shorten(name)} is not a string")
    if not _SAFE_NAME.fullmatch(name) or name in (".", ".."):
        raise SpecError(f"name: {shorten(name)} is not a safe folder name ([A-Za-z0-9._-]+)")
    if len(name) > MAX_NAME_CHARS:  # file systems hold 255 bytes a name, less --fresh's suffix
        raise SpecError(f"name: {shorten(name)} is too long for a folder name; use at most "
                        f"{MAX_NAME_CHARS} characters")
    return name


def _parse_base(raw: Any, grid_firsts: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check base alone: known keys, the instrument, each field, then all together."""
    if not isinstance(raw, Mapping):
        raise SpecError(f"base: expected a mapping of RunParams fields, got {shorten(raw)}")
    base = copy.deepcopy(dict(raw))
    for key in base:  # '_' keys are notes, skipped as RunParams.from_dict does
        if key not in (*PARAM_FIELDS, SLOT_AXIS) and not str(key).startswith("_"):
            raise SpecError(f"base.{_key(key)}: unknown field; allowed: {', '.join(PARAM_FIELDS)}, "
                            f"{SLOT_AXIS}")
    if "instrument" not in base:
        raise SpecError(f"base.instrument: missing; one of {', '.join(INSTRUMENTS)}")
    _check_slot_conflicts("base", base)
    firsts = dict(grid_firsts or {})
    for key, value in base.items():
        _build(f"base.{key} = {shorten(value)}",
               {"instrument": base["instrument"], **_companions([key], {**firsts, **base}),
                key: value}, key)
    _build("base", {**_companions(base, firsts), **base}, None)
    return base


def _companions(keys: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `given` checked together with `keys` (issue 20): a range's start needs
    its end or length, which a grid axis may give; sizing by equity needs its pair."""
    groups = [g for g in COMPANION_GROUPS if any(k in g for k in keys)]
    out = {k: v for k, v in given.items() if k not in keys and any(k in g for g in groups)}
    slot = given.get(SLOT_AXIS)
    if "exit_at" in keys and SLOT_AXIS not in keys and isinstance(slot, str) and \
            slot in ALL_SLOTS:  # exit_at must be after the slot an axis gives
        out[SLOT_AXIS] = slot
    return out


def _first_values(raw: Any) -> dict[str, Any]:
    """Each grid axis's first value (a companion for checking base and the other axes)."""
    if not isinstance(raw, Mapping):
        return {}
    return {axis: values[0] for axis, values in raw.items()
            if isinstance(values, (list, tuple)) and values}


def _parse_grid(raw: Any, base: Mapping[str, Any]) -> Grid:
    """Check the grid's shape; each value is checked against base by ``_check_axis_values``."""
    if not isinstance(raw, Mapping):
        raise SpecError(f"grid: expected a mapping of axis -> list of values, got {shorten(raw)}")
    for axis, values in raw.items():
        if axis == "instrument":
            raise SpecError("grid.instrument: a sweep runs one instrument; set "
                            f"base.instrument instead (one of {', '.join(INSTRUMENTS)})")
        if axis not in AXES:
            raise SpecError(f"grid.{_key(axis)}: unknown axis; allowed: {', '.join(AXES)}")
        if axis in base:
            raise SpecError(f"grid.{axis}: also set in base; give it in one place")
        if not isinstance(values, (list, tuple)) or not values:
            raise SpecError(f"grid.{axis}: expected a non-empty list of values, got "
                            f"{shorten(values)}")
    _check_slot_conflicts("grid", {**base, **raw})
    return tuple((axis, tuple(copy.deepcopy(values))) for axis, values in raw.items())


def _check_slot_conflicts(where: str, keys: Mapping[str, Any]) -> None:
    clash = [k for k in SLOT_CONFLICTS if k in keys]
    if SLOT_AXIS in keys and clash:
        raise SpecError(f"{where}: slot conflicts with {', '.join(clash)} (a slot sets its "
                        "session and slot itself); use one or the other")


def _parse_parallel(raw: Any) -> ParallelSpec:
    if isinstance(raw, ParallelSpec):
        return raw
    if not isinstance(raw, Mapping):
        raise SpecError(f"parallel: expected a mapping of {', '.join(PARALLEL_KEYS)}, got "
                        f"{shorten(raw)}")
    check_keys("parallel", raw, PARALLEL_KEYS)
    return ParallelSpec(**raw)


def _expand_slot(merged: dict[str, Any]) -> dict[str, Any]:
    """A slot label stands for its session with only that slot enabled."""
    if SLOT_AXIS not in merged:
        return merged
    out = dict(merged)
    slot = out.pop(SLOT_AXIS)
    out.update(enabled_sessions=[session_of_slot(slot)],
               enabled_slots={session_of_slot(slot): [slot]})
    return out


def _build(where: str, merged: dict[str, Any], key: str | None) -> RunParams:
    """RunParams for one base/axis value; a ParamsError becomes a SpecError at ``where``."""
    if key == SLOT_AXIS and (not isinstance(merged[key], str) or merged[key] not in ALL_SLOTS):
        raise SpecError(f"{where}: not a slot; allowed: {', '.join(ALL_SLOTS)}")
    if key in LIST_FIELDS and not isinstance(merged[key], (list, tuple, Mapping)):
        raise SpecError(f"{where}: {key} takes a list (or mapping), so an axis of it takes "
                        "a list of lists")
    try:
        return RunParams.from_dict(_expand_slot(merged))
    except ParamsError as exc:
        raise SpecError(f"{where}: {exc}") from None


def _axis_key(params: RunParams, axis: str) -> Any:
    return params.enabled_slots if axis == SLOT_AXIS else getattr(params, axis)


def _check_axis_values(base: Mapping[str, Any], grid: Grid) -> None:
    """Check each axis value against base alone (not the product); refuse duplicates."""
    for axis, values in grid:
        seen: dict[Any, Any] = {}
        for i, value in enumerate(values):
            where = f"grid.{axis}[{i}] = {shorten(value)}"
            others = {a: vals[0] for a, vals in grid if a != axis}
            merged = {**_companions([axis, *base], others), **base, axis: value}
            key = _axis_key(_build(where, merged, axis), axis)
            if key in seen:
                raise SpecError(f"{where}: duplicate of {shorten(seen[key])} (the same combo "
                                "twice)")
            seen[key] = value
