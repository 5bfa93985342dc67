"""The manifest as a record of what the folder holds: each output's size and sha256, the
steps (sweep, compaction, analysis, report) each with its own status, and no output that
no longer matches the run (issue 19).

Compaction rewrites summary, daily and trades: their records are dropped before (a kill
mid-way leaves files no record vouches for, which resume checks combo by combo as before)
and written after; the report of the earlier files is deleted, so are heatmaps of another
grid. The analysis' two files are kept only while the daily matrix they were computed from
is the folder's: otherwise they are deleted and the manifest says the analysis was not run
on these results.

>>> import tempfile
>>> from research.results.store import SweepStore
>>> store = SweepStore(tempfile.mkdtemp()); store.prepare({"data_fingerprint": "d"}, {})
>>> set_step(store, "report", "running")["steps"]
{'report': 'running', 'sweep': 'running'}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from research.results.daily import DAILY
from research.results.safe_files import is_regular, unlink_regular
from research.results.store import (
    COMBO_STATS,
    HEATMAP_GLOB,
    OUTPUTS,
    REPORT,
    ROBUSTNESS,
    SUMMARY,
    SUMMARY_CSV,
    TRADES,
    SweepStore,
)

logger = logging.getLogger(__name__)
COMPACTED = (SUMMARY, SUMMARY_CSV, DAILY, TRADES)
ANALYSIS_FILES = (ROBUSTNESS, COMBO_STATS)


def set_step(store: SweepStore, step: str, status: str, **fields: Any) -> dict[str, Any]:
    """Record `step`'s `status` in the manifest's ``steps`` (and merge `fields`)."""
    manifest = store.read_manifest() or {}
    steps = {**(manifest.get("steps") or {}), step: status}
    return store.update_manifest(steps=dict(sorted(steps.items())), **fields)


def begin_compaction(store: SweepStore) -> None:
    """The compacted files are about to change: no record vouches for them meanwhile, and
    the report of the earlier files goes (the report step writes the new one)."""
    manifest = store.read_manifest() or {}
    steps = {**(manifest.get("steps") or {}), "compaction": "running"}
    steps.pop("report", None)
    unlink_regular(store.root / REPORT)
    store.record_outputs([], drop=(*COMPACTED, REPORT), steps=dict(sorted(steps.items())))


def finish_compaction(store: SweepStore, heatmaps: Sequence[str]) -> dict[str, Any]:
    """Delete heatmaps this run did not draw (another grid's), list every compacted file and
    heatmap with its size and sha256, then retire an analysis of other results."""
    drawn = set(heatmaps)
    stale = [path.name for path in sorted(store.root.glob(HEATMAP_GLOB))
             if path.name not in drawn and is_regular(path)]
    for name in stale:
        unlink_regular(store.root / name)
    if stale:
        logger.info("%s: removed %d heatmap(s) of an earlier grid", store.root, len(stale))
    manifest = store.read_manifest() or {}
    steps = {**(manifest.get("steps") or {}), "compaction": "done"}
    listed = [name for name in manifest.get(OUTPUTS) or {} if name.startswith("heatmap_")]
    store.record_outputs([*COMPACTED, *heatmaps], drop=[n for n in listed if n not in drawn],
                         steps=dict(sorted(steps.items())))
    return retire_stale_analysis(store)


def analysis_is_current(manifest: Mapping[str, Any]) -> bool:
    """Whether the manifest says the analysis was done on the daily matrix it lists.

    >>> analysis_is_current({"analysis": {"status": "done", "daily_sha256": "ab"},
    ...                      "outputs": {"daily.parquet": {"sha256": "ab"}}})
    True
    >>> analysis_is_current({"analysis": {"status": "running"}})
    False
    """
    record = manifest.get("analysis")
    daily = (manifest.get(OUTPUTS) or {}).get(DAILY)
    if not isinstance(record, Mapping) or record.get("status") != "done":
        return False
    if not isinstance(daily, Mapping):  # an older folder lists no outputs: nothing to compare
        return True
    return record.get("daily_sha256") == daily.get("sha256")


def retire_stale_analysis(store: SweepStore,
                          reason: str = "the results changed since it ran") -> dict[str, Any]:
    """Delete robustness.json and combo_stats.parquet unless they are of the folder's daily
    matrix; the manifest's analysis then says why there is none. Returns the manifest."""
    manifest = store.read_manifest() or {}
    present = [name for name in ANALYSIS_FILES if is_regular(store.root / name)]
    if analysis_is_current(manifest) or not present and "analysis" not in manifest:
        return manifest
    for name in present:
        unlink_regular(store.root / name)
    if present:
        logger.info("%s: removed the robustness analysis of earlier results", store.root)
    steps = {**(manifest.get("steps") or {}), "analysis": "not run"}
    return store.record_outputs([], drop=ANALYSIS_FILES, steps=dict(sorted(steps.items())),
                                analysis={"status": "not run", "reason": reason})


def record_report(store: SweepStore, status: str, error: str | None = None) -> None:
    """The report step's outcome; report.html's size and sha256 when it was written."""
    manifest = store.read_manifest() or {}
    steps = {**(manifest.get("steps") or {}), "report": status}
    fields: dict[str, Any] = {"steps": dict(sorted(steps.items()))}
    if error is not None:
        fields["report_error"] = error
    if status == "failed":  # a half-made page is never left, nor an earlier one
        unlink_regular(store.root / REPORT)
    store.record_outputs([REPORT] if status == "done" else [],
                         drop=() if status == "done" else (REPORT,), **fields)
