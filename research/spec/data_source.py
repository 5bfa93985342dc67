"""A sweep spec's ``data:`` section: one source (a path or synthetic bars) and how to read it.

Checked once, at parse: the keys, the one source, the dates and every load option (into the
engine's frozen `LoadOptions`, research.engine.formats.options), so loading never checks them
again. Every mistake is a SpecError naming ``data.<key>``.

>>> data = parse_data({"synthetic": {"seed": 3}}, "ES", None)
>>> data.synthetic_kwargs()["seed"], data.to_dict()["timezone"]
(3, 'America/Chicago')
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from research.engine.clock import CHICAGO
from research.engine.data import ScanLimitError, bar_files
from research.engine.formats.options import FILE_KEY_DEFAULTS, LOAD_KEYS, LoadOptions
from research.engine.instruments import INSTRUMENTS
from research.engine.synthetic import SYNTHETIC_DEFAULTS, check_synthetic_dates
from research.errors import DataError, SpecError, shorten
from research.spec.arguments import check_keys
from research.spec.bars_cache import CacheSettings

CACHE_KEYS = ("cache_dir", "cache_max_bytes")  # the prepared-bars cache (bars_cache.py)
DATA_KEYS = ("path", "synthetic", *LOAD_KEYS, "resolve_with", *CACHE_KEYS)
SYNTHETIC_KEYS = ("instrument", *SYNTHETIC_DEFAULTS)
MAX_PATH_CHARS = 4096  # Linux's PATH_MAX; a longer data.path names nothing


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSpec:
    """Bars from a file/glob/folder ``path`` (absolute) read with the checked ``load``
    options, or ``synthetic`` bars. Built by `parse_data` (a spec's ``data:`` section).

    ``path_as_written`` keeps the spec's text so the spec hash ignores the working dir.

    >>> DataSpec(path="ES.txt", load=LoadOptions(format="kibot")).load_kwargs()["format"]
    'kibot'
    """

    path: str | None = None
    synthetic: tuple[tuple[str, Any], ...] | None = None
    load: LoadOptions = field(default_factory=LoadOptions)
    path_as_written: str | None = None
    # 1-second bars deciding the trades minute bars cannot (engine.resolve): absolute path,
    # and as written (for the spec hash).
    resolve_with: str | None = None
    resolve_with_as_written: str | None = None
    # Where prepared bars are cached (data.cache_dir, cache_max_bytes; --cache-dir,
    # --no-cache): a machine's setting, never part of the spec's hash or its dict.
    cache: CacheSettings = field(default_factory=CacheSettings, compare=False)

    @property
    def start(self) -> str | None:
        return self.load.start

    @property
    def end(self) -> str | None:
        return self.load.end

    def synthetic_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``synthetic_bars``: instrument, start, end, seed."""
        if self.synthetic is None:
            raise ValueError("data: not a synthetic data spec")
        return dict(self.synthetic)

    def with_cache(self, folder: str | None = None, *, enabled: bool = True) -> DataSpec:
        """This source with the command line's cache flags over the spec's keys.

        >>> parse_data({"synthetic": {}}, "ES", None).with_cache(enabled=False).cache.on
        False
        """
        folder = self.cache.folder if folder is None else os.path.abspath(
            os.path.expanduser(folder))
        return replace(self, cache=replace(self.cache, folder=folder,
                                           enabled=self.cache.enabled and enabled))

    def load_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``load_bars(self.path, **...)``."""
        return self.load.keywords()

    def label(self, instrument: str) -> str:
        """Where the bars come from, in a few words (the first line, the dry run).

        >>> parse_data({"synthetic": {"seed": 3}}, "ES", None).label("ES")
        'synthetic ES (seed 3)'
        """
        if self.synthetic is not None:
            synthetic = self.synthetic_kwargs()
            seed = f" (seed {synthetic['seed']})" if "seed" in synthetic else ""
            return f"synthetic {synthetic.get('instrument', instrument)}{seed}"
        return self.path_as_written or self.path or "?"

    def to_dict(self) -> dict[str, Any]:
        """The data section as given. Load keys at their default are left out, and an unset
        timezone is written as America/Chicago (what it means for canonical files), so a spec
        written before the vendor formats keeps its spec hash."""
        synthetic = None if self.synthetic is None else dict(self.synthetic)
        out = {"path": self.path_as_written or self.path, "synthetic": synthetic,
               "timezone": self.load.written_timezone(), "start": self.start,
               "end": self.end, **self.load.changed_file_keys()}
        if self.resolve_with is not None:  # left out when unset: older spec hashes hold
            out["resolve_with"] = self.resolve_with_as_written or self.resolve_with
        return out


def parse_data(raw: Any, instrument: str, base_dir: str | Path | None) -> DataSpec:
    """The ``data:`` section checked: one source, dates, load options; `instrument` is the
    spec's base.instrument; a relative path is looked for from the CWD, then `base_dir`."""
    if not isinstance(raw, Mapping):
        raise SpecError(f"data: expected a mapping of {', '.join(DATA_KEYS)}, got {shorten(raw)}")
    check_keys("data", raw, DATA_KEYS)
    _check_one_source(raw)
    start, end = date_range("data", raw.get("start"), raw.get("end"))
    cache = CacheSettings.parsed(raw.get("cache_dir"), raw.get("cache_max_bytes"))
    written = raw.get("resolve_with")
    resolve = {} if written is None else {
        "resolve_with": _resolve_path(written, base_dir, key="data.resolve_with"),
        "resolve_with_as_written": written}
    if raw.get("synthetic") is not None:
        return DataSpec(synthetic=_parse_synthetic(raw["synthetic"], instrument), cache=cache,
                        **resolve)
    keys = {key: raw.get(key, default) for key, default in FILE_KEY_DEFAULTS.items()}
    try:
        load = LoadOptions.checked("data", **keys, timezone=raw.get("timezone"),
                                   start=start, end=end,
                                   instrument=_data_instrument(raw.get("instrument"), instrument))
    except DataError as exc:
        raise SpecError(str(exc).replace("data: ", "data.", 1)) from None
    path = raw["path"]
    return DataSpec(path=_resolve_path(path, base_dir, load.file_format), path_as_written=path,
                    load=load, cache=cache, **resolve)


def _check_one_source(raw: Mapping[str, Any]) -> None:
    """Exactly one source; synthetic data has its dates inside synthetic and is Chicago bars
    by construction, so data.start/end, a timezone other than Chicago or a load key would be
    ignored."""
    if (raw.get("path") is None) == (raw.get("synthetic") is None):
        raise SpecError("data: give exactly one of path (file, glob or folder) or synthetic")
    if raw.get("synthetic") is None:
        return
    given = [key for key in ("start", "end") if raw.get(key) is not None]
    given += ["timezone"] if raw.get("timezone") not in (None, CHICAGO) else []
    given += [key for key, default in FILE_KEY_DEFAULTS.items()
              if raw.get(key, default) != default]
    if given:
        raise SpecError(f"data.{', data.'.join(given)}: not used with synthetic data; synthetic "
                        "data takes start/end inside synthetic: (data.synthetic.start, "
                        "data.synthetic.end) and needs no timezone")


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


def _parse_synthetic(raw: Any, instrument: str) -> tuple[tuple[str, Any], ...]:
    if not isinstance(raw, Mapping):
        raise SpecError(f"data.synthetic: expected a mapping of {', '.join(SYNTHETIC_KEYS)}, "
                        f"got {shorten(raw)}")
    check_keys("data.synthetic", raw, SYNTHETIC_KEYS)
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
    out["start"], out["end"] = date_range("data.synthetic", out["start"], out["end"])
    try:
        check_synthetic_dates(out["start"], out["end"])
    except DataError as exc:
        raise SpecError(f"data.synthetic: {exc}") from None
    return tuple(sorted(out.items()))


def date_range(where: str, *dates: Any) -> list[str | None]:
    """YAML reads 2024-01-01 as a date and '2024-01-01' as text; both become ISO text.

    >>> date_range("data", "2024-01-02", None)
    ['2024-01-02', None]
    """
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


def _resolve_path(raw: Any, base_dir: str | Path | None, format: str = "auto",
                  key: str = "data.path") -> str:
    """As written from the CWD first, then next to the spec; it must match some data."""
    if not isinstance(raw, str) or not raw:
        raise SpecError(f"{key}: {shorten(raw)} is not a path string")
    if len(raw) > MAX_PATH_CHARS or "\0" in raw:
        raise SpecError(f"{key}: {shorten(raw)} is not a usable path (a NUL character, or "
                        f"longer than {MAX_PATH_CHARS:,} characters)")
    candidates = [Path(raw)]
    if base_dir is not None and not Path(raw).is_absolute():
        candidates.append(Path(base_dir) / raw)
    problems = []
    for candidate in candidates:
        try:
            bar_files(candidate, format=format)  # as load_bars reads it: file, folder or glob
        except ScanLimitError as exc:
            raise SpecError(f"{key}: {exc}") from None
        except DataError as exc:
            problems.append(_why(candidate, str(exc), as_written=candidate is candidates[0]))
            continue
        except OSError as exc:  # e.g. a folder name past the file system's limit
            problems.append(_why(candidate, f"{candidate}: {exc.strerror or exc}",
                                 as_written=candidate is candidates[0]))
            continue
        return os.path.abspath(candidate)  # absolute, so that a later chdir cannot break it
    # the path once, then why each place it was looked for holds no bars (issue 22)
    raise SpecError(f"{key}: {shorten(raw)}: {'; '.join(problems)}")


def _why(candidate: Path, message: str, *, as_written: bool) -> str:
    """The loader's reason for one place a path was looked for: without the path itself
    for the path as written (the message names it once), else said as next to the spec."""
    reason = message
    for prefix in (f"{candidate}: ", f"{shorten(str(candidate))}: "):  # as the loader names it
        if message.startswith(prefix):
            reason = message[len(prefix):]
    return reason if as_written else f"next to the spec, {shorten(str(candidate), 120)}: {reason}"
