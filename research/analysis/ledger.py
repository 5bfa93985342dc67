"""The trial ledger: every distinct combo ever evaluated on the same data, across sweeps.

Every correction for data snooping depends on the number of tries N (Bailey & López de
Prado 2014: "very few ... disclose the number of trials"). A sweep's own matrix counts only
its combos; a researcher who ran five sweeps on the same bars before this one has tried
more. The ledger counts them: one JSON line per (data fingerprint, combo_id) the first time
that combo is analysed on those bars, in ``<results root>/trial_ledger.jsonl`` (the folder
that holds the sweeps' folders) or in the file an ``analysis: {ledger: PATH}`` names, so
several roots can share one. combo_id is the hash of every parameter (``RunParams``), so
re-running a sub-grid adds nothing and a new axis value adds exactly its combos.

Append-only and safe with two writers: each update holds ``fcntl.flock`` on the file,
reads what is there, appends only the new lines in one write and fsyncs before releasing.
A torn last line (a writer killed mid-write) is skipped when read and closed with a newline
before the next append, so it never merges with a new line.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / LEDGER
>>> record_trials(path, "d41d", ["a", "b"], sweep="first")
2
>>> record_trials(path, "d41d", ["b", "c"], sweep="second")  # b was tried already
3
>>> record_trials(path, "other-data", ["a"], sweep="third")  # other bars: other tries
1
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from research.errors import AnalysisError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one writer at a time is then the user's care
    fcntl = None  # type: ignore[assignment]

LEDGER = "trial_ledger.jsonl"
OFF = "off"  # analysis.ledger: off keeps no ledger (N is the sweep's own)


def ledger_path(results_root: Path, configured: str | None) -> Path | None:
    """Where the ledger of a sweep in `results_root` lives: `configured` (relative to the
    results root) or the root's own file; None when configured "off".

    >>> ledger_path(Path("results"), None).as_posix()
    'results/trial_ledger.jsonl'
    >>> ledger_path(Path("results"), "off") is None
    True
    """
    if configured is None:
        return results_root / LEDGER
    if configured.strip().lower() == OFF:
        return None
    return results_root / Path(configured).expanduser()


def record_trials(path: Path, fingerprint: str, combo_ids: Iterable[str], sweep: str) -> int:
    """Add the combos not yet in the ledger for `fingerprint`; the number of distinct combos
    it now holds for those data (this sweep's included). Examples: the module."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot open the trial ledger ({exc.strerror}); give "
                            "analysis.ledger a writable file, or 'off'") from None
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by close, however the process ends
        text = _read_all(fd)
        known = _combos_of(text, fingerprint)
        new = [combo for combo in dict.fromkeys(str(c) for c in combo_ids) if combo not in known]
        if new:
            lines = "".join(json.dumps({"data": fingerprint, "combo_id": combo, "sweep": sweep},
                                       separators=(",", ":")) + "\n" for combo in new)
            torn = bool(text) and not text.endswith("\n")
            os.write(fd, (("\n" if torn else "") + lines).encode("utf-8"))
            os.fsync(fd)
        return len(known) + len(new)
    finally:
        os.close(fd)


def count_trials(path: Path, fingerprint: str) -> int:
    """Distinct combos the ledger holds for `fingerprint` (0 without a ledger file).

    >>> count_trials(Path("no/such/ledger.jsonl"), "d41d")
    0
    """
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return 0
    return len(_combos_of(text, fingerprint))


def _read_all(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


def _combos_of(text: str, fingerprint: str) -> set[str]:
    """The combo_ids of `fingerprint`'s lines; a torn or foreign line is skipped."""
    combos = set()
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a writer killed mid-line: that combo is recorded again next time
        if isinstance(entry, dict) and entry.get("data") == fingerprint \
                and isinstance(entry.get("combo_id"), str):
            combos.add(entry["combo_id"])
    return combos

