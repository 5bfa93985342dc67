"""What `research.stats` reads of a sweep spec: the instrument, the data, the trade days, the
calendar and the range definitions; every other key is the sweep's business and ignored.

The spec is read as the sweep reads it (bounded YAML, research/spec/yaml_reader.py; its
``data:`` section by research/spec/data_source.py, so a path is found the same way) and its
bars are loaded the same way too (`study_bars`).

>>> study = read_study({"base": {"instrument": "ES", "range_start": "08:30"},
...                     "grid": {"range_minutes": [5, 30]},
...                     "data": {"synthetic": {"start": "2024-01-02", "end": "2024-01-05"}}})
>>> study.instrument, [d.label for d in study.definitions], study.data.label("ES")
('ES', ['08:30-08:35', '08:30-09:00'], 'synthetic ES (seed 7)')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from research.engine.bars import Bars
from research.engine.data import bars_from_files
from research.engine.inputs import BarsInput, to_bars
from research.engine.instruments import INSTRUMENTS
from research.engine.params import RunParams
from research.engine.synthetic import synthetic_bars
from research.errors import InputTypeError, ParamsError, SpecError, shorten
from research.spec.data_source import DataSpec, parse_data
from research.spec.yaml_reader import read_spec_yaml
from research.stats.definitions import RangeDefinition, definitions_from_mapping

StudyInput = str | os.PathLike | Mapping


@dataclass(frozen=True, slots=True, kw_only=True)
class Study:
    """A spec as the breakout statistics read it.

    >>> Study(instrument="ES", definitions=()).exchange_calendar
    False
    """

    instrument: str
    definitions: tuple[RangeDefinition, ...]
    data: DataSpec | None = None
    trade_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    exchange_calendar: bool = False  # calendar: exchange: a date's early close ends breakouts
    source: str = "<dict>"


def read_study(spec: StudyInput, *, data_required: bool = True) -> Study:
    """A spec file (path) or its YAML-shaped mapping, checked; a SpecError names the file.

    >>> read_study({"base": {"instrument": "ES"}}, data_required=False).definitions[0].label
    '02:00-07:30'
    """
    if isinstance(spec, Mapping):
        return _study(spec, "<dict>", None, data_required)
    if not isinstance(spec, (str, os.PathLike)):
        raise InputTypeError(f"spec: expected a spec file path or a mapping, got "
                             f"{type(spec).__name__}")
    path = Path(spec)
    loaded = read_spec_yaml(path)
    try:
        if not isinstance(loaded, Mapping):
            raise SpecError(f"expected a mapping with base, grid and data, got {shorten(loaded)}")
        return _study(loaded, str(path), path.parent, data_required)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None


def _study(raw: Mapping[str, Any], source: str, base_dir: Path | None,
           data_required: bool) -> Study:
    base = raw.get("base")
    if not isinstance(base, Mapping):
        raise SpecError(f"base: expected a mapping with base.instrument, got {shorten(base)}")
    if "instrument" not in base:
        raise SpecError(f"base.instrument: missing; one of {', '.join(INSTRUMENTS)}")
    given = {key: base[key] for key in ("instrument", "trade_days", "calendar") if key in base}
    try:  # the engine's own checks of these fields
        params = RunParams(**given)
    except ParamsError as exc:
        raise SpecError(f"base.{exc}") from None
    definitions = definitions_from_mapping(raw)
    data = raw.get("data")
    if data is None and data_required:
        raise SpecError("data: missing; give data.path (file, glob or folder) or data.synthetic")
    data_spec = None if data is None else parse_data(data, params.instrument, base_dir)
    return Study(instrument=params.instrument, definitions=definitions, data=data_spec,
                 trade_days=params.trade_days, exchange_calendar=params.calendar == "exchange",
                 source=source)


def study_bars(study: Study, data: BarsInput | None = None) -> Bars:
    """The caller's `data`, else the spec's data section, as Bars of its instrument (as
    research.spec.prepared.sweep_bars loads a sweep's).

    >>> study = read_study({"base": {"instrument": "ES"}, "data": {"synthetic": {
    ...     "start": "2024-01-02", "end": "2024-01-02"}}})
    >>> len(study_bars(study)) > 0
    True
    """
    if data is not None:
        return to_bars(data, study.instrument)
    if study.data is None:
        raise SpecError("data: missing; give data= or a spec with a data: section")
    if study.data.synthetic is not None:
        return to_bars(synthetic_bars(**study.data.synthetic_kwargs()), study.instrument)
    return bars_from_files(study.data.path, study.data.load)
