"""Provenance: what a reader needs to trust and reproduce a sweep (versions, commit, data).

The data fingerprint is what resume compares: equal fingerprints mean equal bars.

>>> sorted(environment())
['git_commit', 'host', 'versions']
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Mapping
from typing import Any

import numpy as np

from research.engine.bars import MARKET_FIELDS, Bars
from research.engine.clock import utc_to_chicago
from research.engine.data import describe_bars
from research.errors import shorten as _short

DISTRIBUTIONS = ("research", "numpy", "pandas", "pyarrow", "numba", "joblib")
# What the results folder trusts besides each combo's parameters (its combo_id): the same
# data and the same engine give the same rows. ENGINE_VERSION changes whenever a change of
# the engine changes rows for the same parameters and data; LAYOUT whenever the folder's
# files change shape. Results of another data set, engine or layout are never mixed.
ENGINE_VERSION = "3"  # 3: trades across a roll stay on their contract (issue 22)
LAYOUT = 3  # 3: trades gain session_close and special_session


def environment() -> dict[str, Any]:
    """Versions, git commit and host."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for dist in DISTRIBUTIONS:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {"versions": versions, "git_commit": git_commit(),
            "host": {"cpu_count": os.cpu_count(), "platform": platform.platform()}}


def git_commit() -> str | None:
    """HEAD of the git checkout the process runs in, if any."""
    try:
        git = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if git.returncode != 0:
        return None
    return git.stdout.strip() or None


def bars_fingerprint(bars: Bars) -> str:
    """sha256 of the symbol and the market arrays' bytes: equal fingerprints mean equal data.

    Contract symbols are left out on purpose (`MARKET_FIELDS`): the same bars give the same
    fingerprint whichever file they came from (a Databento file names contracts, a Kibot one
    does not), so resume works across them; a results folder's trades then name the
    contracts of the run that wrote each shard.
    """
    digest = hashlib.sha256(bars.instrument.symbol.encode())
    for name in MARKET_FIELDS:
        values = np.ascontiguousarray(getattr(bars, name))
        digest.update(f"|{name}:{values.dtype.str}:{values.size}|".encode())
        digest.update(memoryview(values).cast("B"))
    if bars.held_bars:  # bars kept after a roll change rows: they count (none: as before)
        walk = bars.walk
        for name in ("ts_ns", "high_ticks", "low_ticks", "close_ticks", "held_start_idx"):
            values = np.ascontiguousarray(getattr(walk, name))
            digest.update(f"|held {name}:{values.dtype.str}:{values.size}|".encode())
            digest.update(memoryview(values).cast("B"))
    return digest.hexdigest()


def data_facts(bars: Bars) -> dict[str, Any]:
    """The manifest's data section: where the bars came from, what they span, their format,
    contracts and roll dates; for file data a sweep read, whether the bars came from the
    prepared-bars cache (``bars_cache``: hit, miss or off; the fingerprint is the same)."""
    cache = {"bars_cache": bars.cache} if bars.cache else {}
    return {"source": bars.source, "instrument": bars.instrument.symbol, "rows": len(bars),
            "first_ts_ns": int(bars.ts_ns[0]) if len(bars) else None,
            "last_ts_ns": bars.last_ts_ns, **describe_bars(bars), **cache}


def trusted_facts(bars: Bars) -> dict[str, Any]:
    """The facts a resumed sweep must share with the results it reuses."""
    return {"data_fingerprint": bars_fingerprint(bars), "engine_version": ENGINE_VERSION,
            "layout": LAYOUT}


def explain_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """What changed between two manifests' trusted facts, in words (never raw hashes)."""
    said = []
    if old.get("layout") != new.get("layout"):
        said.append(f"the results folder's layout (written by another version of research: "
                    f"layout {old.get('layout', 1)} -> {new.get('layout')})")
    if old.get("engine_version") != new.get("engine_version"):
        said.append(f"the engine (version {old.get('engine_version')} -> "
                    f"{new.get('engine_version')})")
    if old.get("data_fingerprint") != new.get("data_fingerprint"):
        said.append("the data (" + (_data_change(old, new) or "same span and rows, other "
                                    "prices") + ")")
    return "; ".join(said)


def _data_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    before, after = old.get("data") or {}, new.get("data") or {}
    parts = [f"spec data.{key}: {_short(a)} -> {_short(b)}" for key, a, b in
             _changed((old.get("spec") or {}).get("data") or {},
                      (new.get("spec") or {}).get("data") or {})]
    for key, label in (("instrument", "instrument"), ("rows", "bars"),
                       ("first_ts_ns", "first bar"), ("last_ts_ns", "last bar")):
        if before.get(key) != after.get(key):
            parts.append(f"{label} {_fact(key, before.get(key))} -> {_fact(key, after.get(key))}")
    return ", ".join(parts)


def _changed(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(key, a.get(key), b.get(key)) for key in sorted({*a, *b}) if a.get(key) != b.get(key)]


def _fact(key: str, value: Any) -> str:
    if value is None:
        return "none"
    if key.endswith("_ts_ns"):
        return str(utc_to_chicago(np.array([value]))[0])[:16]
    return f"{value:,}" if isinstance(value, int) else _short(value)
