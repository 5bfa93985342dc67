"""The results folder of one sweep (docs/reference.md): its file names, manifest, shards and resume.

The parent process is the only writer. Every file is published atomically (files.py) with
an explicit schema (tables.py). A task's summary shard is its commit marker: a task is
finished only if that file exists. Shards hold combo_id + metrics only; the parameter
columns are joined in at compaction (compaction.py), so a shard never depends on how
parameters are typed or named.

>>> import tempfile
>>> store = SweepStore(tempfile.mkdtemp())
>>> store.prepare({"data_fingerprint": "d41d8c"}, {"name": "demo"})
>>> store.read_manifest()["status"], store.committed_tasks()
('running', [])
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from research.errors import ResearchError, StoreMismatchError, StoreWriteError  # noqa: F401 - raised here
from research.results.atomic import parquet_bytes, remove_temp_files, write_json, write_parquet
from research.results.daily import DAILY
from research.results.schemas import SHARD_SUMMARY_SCHEMA, to_table

logger = logging.getLogger(__name__)

# The results folder's file names (the runner, compaction and report name files by these).
MANIFEST, TRADES, SUMMARY, SUMMARY_CSV = ("manifest.json", "trades.parquet", "summary.parquet",
                                          "summary.csv")
SHARDS = "shards"
REPORT, ROBUSTNESS, COMBO_STATS = "report.html", "robustness.json", "combo_stats.parquet"
OUR_FILES = (MANIFEST, TRADES, SUMMARY, SUMMARY_CSV, DAILY, REPORT, ROBUSTNESS, COMBO_STATS)
RESERVE, RESERVE_BYTES = ".reserve", 256 * 1024
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
    def prepare(self, trusted: Mapping[str, Any], manifest: Mapping[str, Any],
                fresh: bool = False, explain: Callable[[Mapping, Mapping], str] | None = None,
                ) -> None:
        """Start or resume. Results are reused while the `trusted` facts (data fingerprint,
        engine version, layout) are the manifest's: a combo's rows depend on nothing else
        than those and its own parameters, so a grid may grow or shrink. Otherwise refuse,
        saying what changed (`explain(old_manifest, new_manifest)`), unless `fresh` moves the
        old results aside."""
        try:
            self.shards.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # the folder (or shards/) is a file, or not ours to write
            raise StoreMismatchError(f"{self.root}: cannot be used as a results folder ({exc}); "
                                     f"choose another sweep name or results folder") from exc
        for folder in (self.root, self.shards):  # temp files of a crashed write
            remove_temp_files(folder)
        new = {**manifest, **trusted, "status": "running"}
        if fresh:
            self._move_aside()
        else:
            self._check_trusted(trusted, new, explain)
        self._write_manifest(new)
        self._reserve()

    def _check_trusted(self, trusted: Mapping[str, Any], new: Mapping[str, Any],
                       explain: Callable[[Mapping, Mapping], str] | None) -> None:
        advice = ("use --fresh (CLI) or fresh=True to start over (the old results are moved "
                  "aside), or choose another sweep name")
        old = self.read_manifest()
        if old is None:
            if any(self.shards.glob("*" + SUMMARY_SUFFIX)) or (self.root / SUMMARY).exists():
                raise StoreMismatchError(f"{self.root}: holds results but no {MANIFEST}, so "
                                         f"they cannot be matched to this sweep; {advice}")
            return
        if any(old.get(key) != value for key, value in trusted.items()):
            changed = explain(old, new) if explain else ", ".join(
                key for key, value in trusted.items() if old.get(key) != value)
            raise StoreMismatchError(f"{self.root}: holds results of other inputs: {changed} "
                                     f"changed; {advice}")

    def _move_aside(self) -> None:
        """--fresh: our files go to a sibling folder <name>.old-<time>; others stay put."""
        ours = [self.root / name for name in OUR_FILES if (self.root / name).exists()]
        ours += sorted(self.root.glob(HEATMAP_GLOB))
        shards = [path for suffix in SHARD_SUFFIXES for path in self.shards.glob("*" + suffix)]
        if not ours and not shards:
            return
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.root.with_name(f"{self.root.name}.old-{stamp}")
        (aside / SHARDS).mkdir(parents=True, exist_ok=True)
        for path in ours:
            os.replace(path, aside / path.name)
        for path in shards:
            os.replace(path, aside / SHARDS / path.name)
        logger.warning("fresh start: moved the previous results of %s to %s", self.root, aside)

    def _reserve(self) -> None:
        """Keep RESERVE_BYTES on disk for the manifest's last word if the disk fills up."""
        path = self.root / RESERVE
        if not path.exists() or path.stat().st_size < RESERVE_BYTES:
            with open(path, "wb") as handle:
                handle.write(bytes(RESERVE_BYTES))

    def release_reserve(self) -> None:
        """Free the reserve (the disk is full), so the manifest can still be written."""
        (self.root / RESERVE).unlink(missing_ok=True)

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
        its combos (shard_tag); they are published as they are. `summaries`
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
        write_parquet(summary.replace_schema_metadata(shard_tag(task_id, combos)), marker)

    def shard_path(self, task_id: str, suffix: str) -> Path:
        return self.shards / (task_id + suffix)

    def committed_tasks(self) -> list[str]:
        """The task ids whose summary shard (commit marker) exists, sorted."""
        return sorted(path.name[: -len(SUMMARY_SUFFIX)]
                      for path in self.shards.glob("*" + SUMMARY_SUFFIX))

    def discard_task(self, task_id: str) -> None:
        """Delete one task's shards (found damaged): its combos will run again."""
        for suffix in SHARD_SUFFIXES:
            self.shard_path(task_id, suffix).unlink(missing_ok=True)

    def remove_shards(self) -> None:
        """Delete every shard (after a compaction that holds them all)."""
        for suffix in SHARD_SUFFIXES:
            for path in self.shards.glob("*" + suffix):
                path.unlink(missing_ok=True)


def shard_tag(task_id: str, combo_ids: Sequence[str]) -> dict[bytes, bytes]:
    """The footer metadata naming a shard's task and combos (what resume checks).

    >>> shard_tag("t1", ["a", "b"])
    {b'research.task': b't1', b'research.combos': b'["a", "b"]'}
    """
    return {SHARD_TASK_KEY: task_id.encode(),
            SHARD_COMBOS_KEY: json.dumps(list(combo_ids)).encode()}


def encode_shards(task_id: str, combo_ids: Sequence[str], rows: Sequence[int],
                  trades: pa.Table | None, daily: pa.Table) -> tuple[bytes | None, bytes]:
    """A task's trades and daily tables as shard bytes, each tagged in its footer with the
    task and its combos (trades also with each combo's row count): what write_task takes.
    Encoding is the heavy part, so workers do it."""
    tag = shard_tag(task_id, combo_ids)
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
