"""Sweep specs: what to run. Parses, validates and enumerates; never runs anything.

Like scikit-learn's ``ParameterGrid``: a ``base`` of shared ``RunParams`` fields plus
``grid`` axes whose cartesian product gives the combos. Every mistake is a ``SpecError``
naming the key path, the value and what is allowed, raised before any work starts.

>>> spec = build_spec({"target": [10, 15]}, {"instrument": "ES"}, "demo")
>>> [p.target for p in spec.combos()]
[10, 15]
"""

from __future__ import annotations

import copy
import datetime as dt
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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from research.analysis.config import AnalysisConfig
from research.engine.clock import CHICAGO
from research.engine.data import BAR_FILE_SUFFIXES, ScanLimitError, bar_files, check_load_keys
from research.engine.instruments import INSTRUMENTS
from research.engine.params import RunParams
from research.engine.sessions import ALL_SLOTS, SLOT_AXIS, session_of_slot
from research.engine.synthetic import SYNTHETIC_DEFAULTS, check_synthetic_dates
from research.errors import DataError, InputTypeError, ParamsError, SpecError, shorten
from research.parallel.settings import ParallelSpec
from research.results.schemas import param_columns_for
from research.spec.yaml_reader import read_spec_yaml

DEFAULT_SPEC_NAME = "sweep"
TOP_KEYS = ("name", "data", "base", "grid", "parallel", "store_trades", "analysis",
            "max_combos")
# A grid above this many combos must be asked for (max_combos: / --max-combos): a typo in a
# spec should not start a sweep of hours, and every combo costs memory while it is planned.
DEFAULT_MAX_COMBOS = 100_000
STORE_TRADES = ("all", "none")  # store every combo's trades, or only summary and daily
DATA_KEYS = ("path", "synthetic", "format", "columns", "instrument", "timezone", "timestamps",
             "roll", "start", "end", "snap_to_tick")
# The load keys a spec may leave out, and their defaults: left out, they are not in the spec's
# dict (so specs written before these keys keep their spec hash).
LOAD_DEFAULTS = MappingProxyType({"format": "auto", "columns": None, "timestamps": None,
                                  "roll": "volume", "snap_to_tick": False})
SYNTHETIC_KEYS = ("instrument", *SYNTHETIC_DEFAULTS)
PARALLEL_KEYS = tuple(f.name for f in fields(ParallelSpec))
SLOT_CONFLICTS = ("enabled_sessions", "enabled_slots")  # what a slot sets by itself
LIST_FIELDS = ("enabled_sessions", "enabled_slots", "trade_days")
PARAM_FIELDS = tuple(f.name for f in fields(RunParams))
AXES = tuple(f for f in (*PARAM_FIELDS, SLOT_AXIS) if f != "instrument")
_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")
# A name is a folder name: 255 bytes on every common file system, less the suffix a --fresh
# start gives the old results' folder (".old-YYYYmmdd-HHMMSS-NNNN", 25 characters).
MAX_NAME_CHARS = 200
MAX_PATH_CHARS = 4096  # Linux's PATH_MAX; a longer data.path names nothing
Grid = tuple[tuple[str, tuple[Any, ...]], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSpec:
    """Bars from a file/glob/folder ``path`` (absolute) or ``synthetic`` bars, and how to
    read them (``load_bars``' keys; ``instrument`` defaults to ``base.instrument``).

    ``path_as_written`` keeps the spec's text so the spec hash ignores the working dir.

    >>> DataSpec(path="ES.txt", format="kibot", instrument="ES").load_kwargs()["format"]
    'kibot'
    """

    path: str | None = None
    synthetic: tuple[tuple[str, Any], ...] | None = None
    format: str = "auto"
    columns: tuple[tuple[str, Any], ...] | None = None
    instrument: str | None = None
    timezone: str | None = None  # None: the format's zone (America/Chicago for canonical)
    timestamps: str | None = None  # None: the format's stamp convention
    roll: str = "volume"
    start: str | None = None
    end: str | None = None
    snap_to_tick: bool = False
    path_as_written: str | None = None

    def __post_init__(self) -> None:
        _check_data_source(self.path, self.synthetic, self.timezone, self.start, self.end,
                           **self._load_keys())

    def synthetic_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``synthetic_bars``: instrument, start, end, seed."""
        if self.synthetic is None:
            raise ValueError("data: not a synthetic data spec")
        return dict(self.synthetic)

    def load_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``load_bars(self.path, **...)``."""
        return {**self._load_keys(), "instrument": self.instrument, "timezone": self.timezone,
                "start": self.start, "end": self.end}

    def _load_keys(self) -> dict[str, Any]:
        columns = None if self.columns is None else dict(self.columns)
        return {"format": self.format, "columns": columns, "timestamps": self.timestamps,
                "roll": self.roll, "snap_to_tick": self.snap_to_tick}

    def to_dict(self) -> dict[str, Any]:
        """The data section as given. Load keys at their default are left out, and an unset
        timezone is written as America/Chicago (what it means for canonical files), so a spec
        written before the vendor formats keeps its spec hash."""
        synthetic = None if self.synthetic is None else dict(self.synthetic)
        timezone = self.timezone
        if timezone is None and self.format in ("auto", "canonical"):
            timezone = CHICAGO
        out = {"path": self.path_as_written or self.path, "synthetic": synthetic,
               "timezone": timezone, "start": self.start, "end": self.end}
        out.update({key: value for key, value in self._load_keys().items()
                    if value != LOAD_DEFAULTS[key]})
        return out


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
    # axis -> {normalised RunParams value: value as written}; building it checks each value
    _lookup: dict[str, dict[Any, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lookup", _axis_lookup(self.base, self.grid))

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

    def axis_values(self, params: RunParams) -> dict[str, Any]:
        """A combo's grid-axis values as written in the spec: the summary's columns."""
        try:
            return {axis: self._lookup[axis][_axis_key(params, axis)] for axis in self.axes}
        except KeyError:
            raise ValueError(f"{params.to_json()} is not a combo of sweep {self.name!r}") from None

    @property
    def spec_hash(self) -> str:
        """sha256 of {data, base, grid}: a new name or parallel setting never blocks resume."""
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
    _check_keys("spec", d, TOP_KEYS)
    name = _check_name(d.get("name", DEFAULT_SPEC_NAME))
    base = _parse_base(_given(d, "base"))
    grid = _parse_grid(_given(d, "grid"), base)
    data = d.get("data")
    if data is None and data_required:
        raise SpecError("data: missing; give data.path (file, glob or folder) or data.synthetic")
    data_spec = None if data is None else _parse_data(data, base["instrument"], base_dir)
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


def check_max_combos(value: Any) -> int | None:
    """``max_combos``: the largest grid the sweep may run; None when not given."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise SpecError(f"max_combos: {value!r} is not a whole number >= 1")
    return value


def check_grid_size(spec: SweepSpec, max_combos: int | None = None) -> None:
    """Refuse, before any work, a grid larger than it was allowed to be."""
    limit = max_combos or spec.max_combos
    if spec.size > limit:
        raise SpecError(f"grid: {spec.size:,} combos, more than the {limit:,} allowed; ask for "
                        f"them with --max-combos {spec.size} (or max_combos: {spec.size} in the "
                        "spec), or make the grid smaller")


def check_store_trades(value: Any) -> str | None:
    """``store_trades``: "all" (every combo's rows in trades.parquet) or "none" (only the
    summary and the daily matrix, for very large grids); None when not given."""
    if value is not None and value not in STORE_TRADES:
        raise SpecError(f"store_trades: {shorten(value)} is not one of {', '.join(STORE_TRADES)}")
    return value


def _given(d: Mapping[str, Any], key: str) -> Any:
    """A missing or null section is an empty one; any other non-mapping is refused later."""
    return {} if d.get(key) is None else d[key]


def _check_keys(where: str, d: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = [k for k in d if k not in allowed]
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {shorten(unknown)}; allowed: "
                        f"{', '.join(allowed)}")


def _key(key: Any) -> str:
    """A key as a message names it: an unknown key may be anything, of any length."""
    return key if isinstance(key, str) and len(key) <= 40 else shorten(key, 40)


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


def _parse_base(raw: Any) -> dict[str, Any]:
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
    for key, value in base.items():
        _build(f"base.{key} = {shorten(value)}", {"instrument": base["instrument"], key: value},
               key)
    _build("base", base, None)
    return base


def _parse_grid(raw: Any, base: Mapping[str, Any]) -> Grid:
    """Check the grid's shape; each value is checked against base by ``_axis_lookup``."""
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


def _parse_data(raw: Any, instrument: str, base_dir: str | Path | None) -> DataSpec:
    if not isinstance(raw, Mapping):
        raise SpecError(f"data: expected a mapping of {', '.join(DATA_KEYS)}, got {shorten(raw)}")
    _check_keys("data", raw, DATA_KEYS)
    path, synthetic = raw.get("path"), raw.get("synthetic")
    timezone = raw.get("timezone")
    load_keys = {key: raw.get(key, default) for key, default in LOAD_DEFAULTS.items()}
    _check_data_source(path, synthetic, timezone, raw.get("start"), raw.get("end"),
                       **load_keys)
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: too long
            raise SpecError(f"data.timezone: {shorten(timezone)} is not an IANA time zone "
                            "(e.g. America/Chicago)") from None
    start, end = _date_range("data", raw.get("start"), raw.get("end"))
    if synthetic is not None:
        return DataSpec(synthetic=_parse_synthetic(synthetic, instrument), start=start, end=end)
    _check_load_keys(load_keys)
    columns = load_keys.pop("columns")
    return DataSpec(path=_resolve_path(path, base_dir, "delimited" if columns
                                       else load_keys["format"]),
                    path_as_written=path, timezone=timezone, start=start, end=end,
                    instrument=_data_instrument(raw.get("instrument"), instrument),
                    columns=None if columns is None else tuple(columns.items()), **load_keys)


def _check_load_keys(load_keys: Mapping[str, Any]) -> None:
    """format, columns, timestamps, roll, snap_to_tick: the checks load_bars makes."""
    try:
        check_load_keys("data", **load_keys)
    except DataError as exc:
        raise SpecError(str(exc).replace("data: ", "data.", 1)) from None


def _data_instrument(written: Any, instrument: str) -> str:
    """data.instrument names the instrument of files without an instrument column; the sweep
    trades base.instrument, so it must be that one (left out, it follows base)."""
    if written is None:
        return instrument
    name = written.strip().upper() if isinstance(written, str) else written
    if name != instrument:
        raise SpecError(f"data.instrument: {shorten(written)} is not base.instrument "
                        f"{instrument!r}; the sweep trades base.instrument, so the data's "
                        "instrument is that one (leave data.instrument out to follow "
                        "base.instrument)")
    return instrument


def _check_data_source(path: Any, synthetic: Any, timezone: Any, start: Any, end: Any,
                       **load_keys: Any) -> None:
    """Exactly one source; synthetic data has its dates inside synthetic and is Chicago bars
    by construction, so data.start/end, a timezone other than Chicago or a load key would be
    ignored."""
    if (path is None) == (synthetic is None):
        raise SpecError("data: give exactly one of path (file, glob or folder) or synthetic")
    if synthetic is None:
        return
    given = [key for key, value in (("start", start), ("end", end)) if value is not None]
    given += ["timezone"] if timezone not in (None, CHICAGO) else []
    given += [key for key, value in load_keys.items() if value != LOAD_DEFAULTS[key]]
    if given:
        raise SpecError(f"data.{', data.'.join(given)}: not used with synthetic data; synthetic "
                        "data takes start/end inside synthetic: (data.synthetic.start, "
                        "data.synthetic.end) and needs no timezone")


def _parse_synthetic(raw: Any, instrument: str) -> tuple[tuple[str, Any], ...]:
    if not isinstance(raw, Mapping):
        raise SpecError(f"data.synthetic: expected a mapping of {', '.join(SYNTHETIC_KEYS)}, "
                        f"got {shorten(raw)}")
    _check_keys("data.synthetic", raw, SYNTHETIC_KEYS)
    out = {"instrument": instrument, **SYNTHETIC_DEFAULTS, **raw}
    written = out["instrument"]
    out["instrument"] = written.strip().upper() if isinstance(written, str) else written
    if not isinstance(out["instrument"], str) or out["instrument"] not in INSTRUMENTS:
        raise SpecError(f"data.synthetic.instrument: {shorten(written)} is not one of "
                        f"{', '.join(INSTRUMENTS)}")
    if out["instrument"] != instrument:
        raise SpecError(f"data.synthetic.instrument: {shorten(written)} is not base.instrument "
                        f"{instrument!r}; synthetic data is made for the instrument the sweep "
                        "trades (leave it out to follow base.instrument)")
    seed = out["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError(f"data.synthetic.seed: {shorten(seed)} is not an integer >= 0")
    out["start"], out["end"] = _date_range("data.synthetic", out["start"], out["end"])
    try:
        check_synthetic_dates(out["start"], out["end"])
    except DataError as exc:
        raise SpecError(f"data.synthetic: {exc}") from None
    return tuple(sorted(out.items()))


def _date_range(where: str, *dates: Any) -> list[str | None]:
    """YAML reads 2024-01-01 as a date and '2024-01-01' as text; both become ISO text."""
    out = []
    for key, value in zip(("start", "end"), dates, strict=True):
        why = ""
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError as exc:  # 2024-02-30: "day is out of range for month"
                why = f": {exc}"
        if value is not None and type(value) is not dt.date:
            raise SpecError(f"{where}.{key}: {shorten(value)} is not an ISO date (YYYY-MM-DD)"
                            f"{why}")
        out.append(value and value.isoformat())
    if None not in out and out[1] < out[0]:
        raise SpecError(f"{where}.end: {out[1]!r} is before {where}.start {out[0]!r}")
    return out


def _resolve_path(raw: Any, base_dir: str | Path | None, format: str = "auto") -> str:
    """As written from the CWD first, then next to the spec; it must match some data."""
    if not isinstance(raw, str) or not raw:
        raise SpecError(f"data.path: {shorten(raw)} is not a path string")
    if len(raw) > MAX_PATH_CHARS or "\0" in raw:
        raise SpecError(f"data.path: {shorten(raw)} is not a usable path (a NUL character, or "
                        f"longer than {MAX_PATH_CHARS:,} characters)")
    candidates = [Path(raw)]
    if base_dir is not None and not Path(raw).is_absolute():
        candidates.append(Path(base_dir) / raw)
    problems = []
    for candidate in candidates:
        try:
            bar_files(candidate, format=format)  # as load_bars reads it: file, folder or glob
        except ScanLimitError as exc:
            raise SpecError(f"data.path: {exc}") from None
        except DataError as exc:
            problems.append(str(exc))
            continue
        except OSError as exc:  # e.g. a folder name past the file system's limit
            problems.append(f"{shorten(str(candidate))}: {exc.strerror or exc}")
            continue
        return os.path.abspath(candidate)  # absolute, so that a later chdir cannot break it
    raise SpecError(f"data.path: {shorten(raw)} matches no {' or '.join(BAR_FILE_SUFFIXES)} file "
                    f"(looked at {'; '.join(problems)})")


def _parse_parallel(raw: Any) -> ParallelSpec:
    if isinstance(raw, ParallelSpec):
        return raw
    if not isinstance(raw, Mapping):
        raise SpecError(f"parallel: expected a mapping of {', '.join(PARALLEL_KEYS)}, got "
                        f"{shorten(raw)}")
    _check_keys("parallel", raw, PARALLEL_KEYS)
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


def _axis_lookup(base: Mapping[str, Any], grid: Grid) -> dict[str, dict[Any, Any]]:
    """Check each axis value against base alone (not the product); refuse duplicates."""
    lookup: dict[str, dict[Any, Any]] = {}
    for axis, values in grid:
        seen: dict[Any, Any] = {}
        for i, value in enumerate(values):
            where = f"grid.{axis}[{i}] = {shorten(value)}"
            key = _axis_key(_build(where, {**base, axis: value}, axis), axis)
            if key in seen:
                raise SpecError(f"{where}: duplicate of {shorten(seen[key])} (the same combo "
                                "twice)")
            seen[key] = value
        lookup[axis] = seen
    return lookup
