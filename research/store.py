"""The results folder of one sweep (DESIGN §5): its file names, manifest, shards and resume.

The parent process is the only writer. Every file is published atomically (files.py) with
an explicit schema (tables.py). A task's summary shard is its commit marker: a task is
finished only if that file exists. Shards hold combo_id + metrics only; the parameter
columns are joined in at compaction (compaction.py), so a shard never depends on how
parameters are typed or named.

>>> import tempfile
>>> store = SweepStore(tempfile.mkdtemp())
>>> store.prepare("spec-hash", "data-fingerprint", {"name": "demo"})
>>> store.read_manifest()["status"], store.finished()
('running', set())
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from research.errors import ResearchError
from research.files import parquet_bytes, remove_temp_files, write_json, write_parquet
from research.tables import COMBO_ID_SCHEMA, SHARD_SUMMARY_SCHEMA, TRADES_SCHEMA, to_table

logger = logging.getLogger(__name__)

# The results folder's file names (the runner, compaction and report name files by these).
MANIFEST, TRADES, SUMMARY, SUMMARY_CSV = ("manifest.json", "trades.parquet", "summary.parquet",
                                          "summary.csv")
SHARDS = "shards"
TRADES_SUFFIX, SUMMARY_SUFFIX = ".trades.parquet", ".summary.parquet"
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
        ours = [self.root / name for name in (MANIFEST, TRADES, SUMMARY, SUMMARY_CSV)]
        ours += self.root.glob(HEATMAP_GLOB)
        ours += self.shards.glob("*" + TRADES_SUFFIX)
        ours += self.shards.glob("*" + SUMMARY_SUFFIX)
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
    def write_task(self, task_id: str, trades: pa.Table | pd.DataFrame | bytes,
                   summary: pd.DataFrame | pa.Table | Sequence[Mapping[str, Any]]) -> None:
        """Publish one task: trades shard, then summary shard (the commit marker).

        `trades` may be parquet_bytes of a TRADES_SCHEMA table, published as they are (the
        parent does not parse them: the worker built them from the same frames as `summary`).
        A table or frame is checked: every trades row names a combo of `summary`.
        `summary` has one row per finished combo: combo_id and METRIC_COLUMNS (other columns
        are ignored). Re-running a task id overwrites its unfinished shards, never another
        set of finished combos.
        """
        if not _TASK_ID.match(task_id):
            raise ValueError(f"task id {task_id!r}: use letters, digits, '_' and '-' only")
        summary_t = to_table(summary, SHARD_SUMMARY_SCHEMA)
        combos = summary_t.column("combo_id").to_pylist()
        if None in combos:
            raise ValueError(f"task {task_id}: a summary row has no combo_id")
        if isinstance(trades, bytes):
            encoded = trades
        else:
            trades_t = to_table(trades, TRADES_SCHEMA)
            trade_ids = trades_t.column("combo_id")
            if trade_ids.null_count:
                raise ValueError(f"task {task_id}: a trades row has no combo_id")
            if strays := set(trade_ids.unique().to_pylist()) - set(combos):
                raise ValueError(f"task {task_id}: trades of combos {sorted(strays)} "
                                 "have no summary")
            encoded = parquet_bytes(trades_t)
        marker = self.shards / (task_id + SUMMARY_SUFFIX)
        # Only a stat on the hot path: a task's marker exists only when a task is re-run.
        if marker.exists() and set(pq.read_table(marker, columns=["combo_id"])
                                   .column("combo_id").to_pylist()) != set(combos):
            raise ValueError(f"task {task_id}: {marker} holds other, finished combos")
        write_parquet(encoded, self.shards / (task_id + TRADES_SUFFIX))
        write_parquet(summary_t, marker)

    def summaries(self, schema: pa.Schema = SHARD_SUMMARY_SCHEMA,
                  ) -> tuple[pa.Table, dict[str, str]]:
        """Every committed summary row (first shard by name wins), only `schema`'s columns,
        and combo_id -> task_id."""
        tables, where = [], {}
        for path in sorted(self.shards.glob("*" + SUMMARY_SUFFIX)):
            task_id = path.name[: -len(SUMMARY_SUFFIX)]
            table = to_table(pq.read_table(path, columns=schema.names), schema)
            ids = table.column("combo_id").to_pylist()
            keep = [i for i, c in enumerate(ids) if c not in where]
            where.update({ids[i]: task_id for i in keep})
            tables.append(table.take(pa.array(keep, pa.int64())))
        return pa.concat_tables(tables or [schema.empty_table()]), where

    def finished(self) -> set[str]:
        """The ids of every finished combo (those with a summary shard row): what a resumed
        sweep skips. Reads only the shards' combo_id column."""
        return set(self.summaries(COMBO_ID_SCHEMA)[1])
