"""The results folder of one sweep (DESIGN §5): its file names, manifest, shards and resume.

The parent process is the only writer. Every file is published atomically (files.py) with
an explicit schema (tables.py). A task's summary shard is its commit marker: a task is
finished only if that file exists. Shards hold combo_id + metrics only; the parameter
columns are joined in at compaction (compaction.py), so a shard never depends on how
parameters are typed or named.

>>> import tempfile
>>> store = SweepStore(tempfile.mkdtemp())
>>> store.prepare("spec-hash", "data-fingerprint", {"name": "demo"})
>>> store.read_manifest()["status"], store.committed_tasks()
('running', [])
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from research.daily import DAILY
from research.errors import ResearchError
from research.files import parquet_bytes, remove_temp_files, write_json, write_parquet
from research.tables import SHARD_SUMMARY_SCHEMA, to_table

logger = logging.getLogger(__name__)

# The results folder's file names (the runner, compaction and report name files by these).
MANIFEST, TRADES, SUMMARY, SUMMARY_CSV = ("manifest.json", "trades.parquet", "summary.parquet",
                                          "summary.csv")
REPORT = "report.html"  # research.report's page
SHARDS = "shards"
TRADES_SUFFIX, DAILY_SUFFIX, SUMMARY_SUFFIX = (".trades.parquet", ".daily.parquet",
                                              ".summary.parquet")
SHARD_SUFFIXES = (TRADES_SUFFIX, DAILY_SUFFIX, SUMMARY_SUFFIX)
# Footer metadata that makes each shard say what it holds: its task, its combos (in file
# order), and in trades files each combo's row count ([[combo_id, rows], ...]).
SHARD_TASK_KEY, SHARD_COMBOS_KEY, TRADE_ROWS_KEY = (b"research.task", b"research.combos",
                                                    b"research.rows")
_HEATMAP_PREFIX, _HEATMAP_SUFFIX = "heatmap_", ".png"
HEATMAP_GLOB = f"{_HEATMAP_PREFIX}*{_HEATMAP_SUFFIX}"  # every heatmap_name matches it
_TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class StoreMismatchError(ResearchError):
    """A results path holds something other than this sweep's results: another spec's or
    data set's, a manifest that cannot be read, or a file where the folder should be."""


class StoreWriteError(ResearchError):
    """A results file could not be written (disk full, no permission): the sweep stops,
    keeping every shard already published."""

    @classmethod
    def from_os_error(cls, exc: OSError, root: Path) -> StoreWriteError:
        """One line: the file, the reason, the space left, and what to do."""
        try:
            free = f"; {shutil.disk_usage(root).free / 1e6:.1f} MB free there"
        except OSError:
            free = ""
        return cls(f"cannot write {exc.filename or root}: {exc.strerror or exc}{free}; finished "
                   "combos are kept: fix this and run the same command again")


def heatmap_name(x: str, y: str, metric: str) -> str:
    """The file name of the heatmap of `metric` over axes `x` and `y`.

    >>> heatmap_name("target", "t1_fraction", "total_profit")
    'heatmap_target_t1_fraction_total_profit.png'
    """
    return f"{_HEATMAP_PREFIX}{x}_{y}_{metric}{_HEATMAP_SUFFIX}"


class SweepStore:
    """The folder results/<sweep name>/: shards while running, compacted files at the end."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.shards = self.root / SHARDS

    # ---- lifecycle ----
    def prepare(self, spec_hash: str, data_fingerprint: str, manifest: Mapping[str, Any],
                fresh: bool = False) -> None:
        """Start or resume: refuse results of another spec or data unless `fresh` wipes them."""
        try:
            self.shards.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # the folder (or shards/) is a file, or not ours to write
            raise StoreMismatchError(f"{self.root}: cannot be used as a results folder ({exc}); "
                                     f"choose another sweep name or results folder") from exc
        for folder in (self.root, self.shards):  # temp files of a crashed write
            remove_temp_files(folder)
        if fresh:
            self._wipe()
        else:
            self._check_same_inputs(spec_hash, data_fingerprint)
        self._write_manifest({**manifest, "spec_hash": spec_hash,
                              "data_fingerprint": data_fingerprint, "status": "running"})

    def _check_same_inputs(self, spec_hash: str, data_fingerprint: str) -> None:
        advice = ("use --fresh (CLI) or fresh=True to start over, or choose another sweep name")
        old = self.read_manifest()
        if old is None:
            if any(self.shards.glob("*" + SUMMARY_SUFFIX)):
                raise StoreMismatchError(f"{self.root}: holds result shards but no {MANIFEST}, "
                                         f"so they cannot be matched to this sweep; {advice}")
            return
        changed = [what for what, key, new in (("spec", "spec_hash", spec_hash),
                                                ("data", "data_fingerprint", data_fingerprint))
                   if old.get(key) != new]
        if changed:
            raise StoreMismatchError(
                f"{self.root}: holds results of a different {' and '.join(changed)} "
                f"(spec hash {old.get('spec_hash')!r} -> {spec_hash!r}, data fingerprint "
                f"{old.get('data_fingerprint')!r} -> {data_fingerprint!r}); {advice}")

    def _wipe(self) -> None:
        """Delete only the files of this layout; anything else in the folder stays."""
        ours = [self.root / name for name in (MANIFEST, TRADES, SUMMARY, SUMMARY_CSV, DAILY,
                                              REPORT)]
        ours += self.root.glob(HEATMAP_GLOB)
        for suffix in SHARD_SUFFIXES:
            ours += self.shards.glob("*" + suffix)
        for path in ours:
            path.unlink(missing_ok=True)
        logger.info("fresh start: removed previous results in %s", self.root)

    # ---- manifest ----
    def read_manifest(self) -> dict[str, Any] | None:
        """manifest.json as a dict; None when there is none."""
        path = self.root / MANIFEST
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_text())
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise StoreMismatchError(f"{path}: is not a readable manifest ({exc}); use --fresh "
                                     "(CLI) or fresh=True to start over") from exc
        if not isinstance(manifest, dict):
            raise StoreMismatchError(f"{path}: holds JSON {type(manifest).__name__}, not a "
                                     "manifest object; use --fresh (CLI) or fresh=True to "
                                     "start over")
        return manifest

    def _write_manifest(self, manifest: Mapping[str, Any]) -> None:
        write_json(manifest, self.root / MANIFEST)

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        """Merge `fields` into manifest.json (atomic rewrite); returns the new manifest."""
        manifest = {**(self.read_manifest() or {}), **fields}
        self._write_manifest(manifest)
        return manifest

    # ---- shards ----
    def write_task(self, task_id: str, summaries: Sequence[Mapping[str, Any]],
                   trades: bytes | None, daily: bytes) -> None:
        """Publish one task: trades shard (unless trades are not stored), daily shard, then
        the summary shard, the commit marker: a task is finished only once it exists.

        `trades` and `daily` are parquet bytes encoded by the worker, tagged with the task and
        its combos (worker.SHARD_COMBOS_KEY); they are published as they are. `summaries`
        holds one row per finished combo: combo_id and METRIC_COLUMNS. Re-running a task id
        overwrites its unfinished shards, never another set of finished combos.
        """
        if not _TASK_ID.match(task_id):
            raise ValueError(f"task id {task_id!r}: use letters, digits, '_' and '-' only")
        summary = to_table(summaries, SHARD_SUMMARY_SCHEMA)
        combos = summary.column("combo_id").to_pylist()
        if None in combos:
            raise ValueError(f"task {task_id}: a summary row has no combo_id")
        marker = self.shard_path(task_id, SUMMARY_SUFFIX)
        # Only a stat on the hot path: a task's marker exists only when a task is re-run.
        if marker.exists() and shard_combos(marker) != combos:
            raise ValueError(f"task {task_id}: {marker} holds other, finished combos")
        if trades is not None:
            write_parquet(trades, self.shard_path(task_id, TRADES_SUFFIX))
        write_parquet(daily, self.shard_path(task_id, DAILY_SUFFIX))
        write_parquet(summary.replace_schema_metadata(
            {SHARD_TASK_KEY: task_id.encode(), SHARD_COMBOS_KEY: json.dumps(combos).encode()}),
            marker)

    def shard_path(self, task_id: str, suffix: str) -> Path:
        return self.shards / (task_id + suffix)

    def committed_tasks(self) -> list[str]:
        """The task ids whose summary shard (commit marker) exists, sorted."""
        return sorted(path.name[: -len(SUMMARY_SUFFIX)]
                      for path in self.shards.glob("*" + SUMMARY_SUFFIX))

    def remove_shards(self) -> None:
        """Delete every shard (after a compaction that holds them all)."""
        for suffix in SHARD_SUFFIXES:
            for path in self.shards.glob("*" + suffix):
                path.unlink(missing_ok=True)


def encode_shards(task_id: str, combo_ids: Sequence[str], rows: Sequence[int],
                  trades: pa.Table | None, daily: pa.Table) -> tuple[bytes | None, bytes]:
    """A task's trades and daily tables as shard bytes, each tagged in its footer with the
    task and its combos (trades also with each combo's row count): what write_task takes.
    Encoding is the heavy part, so workers do it."""
    tag = {SHARD_TASK_KEY: task_id.encode(), SHARD_COMBOS_KEY: json.dumps(list(combo_ids)).encode()}
    counts = json.dumps([[c, int(n)] for c, n in zip(combo_ids, rows, strict=True)]).encode()
    trades_bytes = None if trades is None else parquet_bytes(
        trades.replace_schema_metadata({**tag, TRADE_ROWS_KEY: counts}))
    daily_bytes = parquet_bytes(daily.replace_schema_metadata({**(daily.schema.metadata or {}),
                                                               **tag}))
    return trades_bytes, daily_bytes


def shard_combos(marker: Path) -> list[str]:
    """The combo ids a summary shard names in its footer (no data read)."""
    metadata = pq.read_schema(marker).metadata or {}
    return json.loads(metadata.get(SHARD_COMBOS_KEY, b"[]"))
