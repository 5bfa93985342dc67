"""What the data inspector reads of a data path, once, through the prepared-bars cache.

`inspected` loads a path as ``research-data`` shows it: the loader's report (each file's
format, zone, stamps, the files skipped, the warnings) and, for each symbol the files hold,
its prepared `Bars`, the reason it cannot be prepared, or None (not an instrument of the
table). A second inspection of the same files reads all of it from the cache
(research.spec.bars_cache), key for key as a sweep does; the screen is the same.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
>>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
>>> found = inspected(str(path), {})
>>> found.report.files[0].format, [(symbol, len(bars)) for symbol, bars in found.symbols]
('kibot', [('ES', 1)])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from research.engine.bars import Bars
from research.engine.bars_pack import pack_bars, unpack_bars
from research.engine.data import bars_by_symbol
from research.engine.formats.checks import DataWarning
from research.engine.formats.loader import FileReport, LoadReport
from research.engine.formats.options import LoadOptions
from research.spec.bars_cache import CacheSettings, cached

OFF = CacheSettings(enabled=False)


@dataclass(frozen=True, slots=True)
class Inspected:
    """The loader's report, and per symbol (sorted) its Bars, why it has none (text), or
    None when the symbol is no instrument of the table."""

    report: LoadReport
    symbols: tuple[tuple[str, Bars | str | None], ...]
    cache: str = "off"  # hit, miss or off (bars_cache)


def inspected(path: str, keys: Mapping[str, Any], cache: CacheSettings = OFF) -> Inspected:
    """`path` read with the load keys `keys` (as `load_bars` takes them), through `cache`."""
    options = LoadOptions.checked(path, **keys)  # the loader's own check and message
    found, state = cached("inspect", path, options, cache, lambda: _read(path, keys), _pack,
                          _unpack)
    return dataclasses.replace(found, cache=state)


def _read(path: str, keys: Mapping[str, Any]) -> Inspected:
    # from the loader's arrays, as a sweep reads them: no frame beside the Bars (issue 19)
    report, symbols = bars_by_symbol(path, LoadOptions.checked(path, **keys))
    return Inspected(report, symbols)


def _pack(found: Inspected) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    arrays: dict[str, np.ndarray] = {}
    symbols = []
    for index, (symbol, outcome) in enumerate(found.symbols):
        if isinstance(outcome, Bars):
            meta, parts = pack_bars(outcome)
            arrays |= {f"{index}/{name}": values for name, values in parts.items()}
            symbols.append([symbol, "bars", meta])
        else:
            symbols.append([symbol, "error" if isinstance(outcome, str) else "skip", outcome])
    report = found.report
    return {"files": [_plain(file) for file in report.files],
            "warnings": [_plain(warning) for warning in report.warnings],
            "skipped": list(report.skipped), "symbols": symbols}, arrays


def _unpack(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Inspected:
    report = LoadReport(files=[_restored(FileReport, file) for file in meta["files"]],
                        warnings=[_restored(DataWarning, item) for item in meta["warnings"]],
                        skipped=[str(line) for line in meta["skipped"]])
    symbols: list[tuple[str, Bars | str | None]] = []
    for index, (symbol, kind, value) in enumerate(meta["symbols"]):
        if kind == "bars":
            prefix = f"{index}/"
            value = unpack_bars(value, {name[len(prefix):]: values for name, values in
                                        arrays.items() if name.startswith(prefix)})
        elif kind not in ("error", "skip"):
            raise ValueError(f"symbols: {kind[:20]!r} is no outcome")
        symbols.append((str(symbol), value))
    return Inspected(report, tuple(symbols))


def _plain(item: Any) -> dict[str, Any]:
    """A loader dataclass' fields as JSON values (a tuple as a list)."""
    return {field.name: list(value) if isinstance(value := getattr(item, field.name), tuple)
            else value for field in dataclasses.fields(item)}


def _restored(kind: type, values: Any) -> Any:
    """`_plain`'s dict back into its dataclass: every field present, tuples as tuples."""
    if not isinstance(values, dict) or set(values) != {f.name for f in dataclasses.fields(kind)}:
        raise ValueError(f"{kind.__name__}: not the fields it has now")
    return kind(**{field.name: tuple(values[field.name]) if str(field.type).startswith("tuple")
                   else values[field.name] for field in dataclasses.fields(kind)})
