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
from typing import Any

import numpy as np

from research.engine.bars import MARKET_FIELDS, Bars
from research.engine.data import describe_bars

DISTRIBUTIONS = ("research", "numpy", "pandas", "pyarrow", "numba", "joblib")


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
    return digest.hexdigest()


def data_facts(bars: Bars) -> dict[str, Any]:
    """The manifest's data section: where the bars came from, what they span, their format,
    contracts and roll dates."""
    return {"source": bars.source, "instrument": bars.instrument.symbol, "rows": len(bars),
            "first_ts_ns": int(bars.ts_ns[0]) if len(bars) else None,
            "last_ts_ns": bars.last_ts_ns, **describe_bars(bars)}
