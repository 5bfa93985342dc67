"""The results folder of one sweep (DESIGN §5): shards, compaction, manifest, resume.

The parent process is the only writer. Every file is published atomically (temp file in
the same folder, fsync, ``os.replace``) with an explicit pyarrow schema, so a crash never
leaves a half-written file under a final name and an all-null column never changes a type.
A task's summary shard is its commit marker: a task is finished only if that file exists.
Shards hold combo_id + metrics only; parameter columns are joined in at compaction from
the grid, so a shard never depends on how parameters are typed or named.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import re
import subprocess
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from research.engine.clock import CHICAGO
from research.engine.params import RunParams
from research.engine.results import COLUMNS, TEXT_COLUMNS, TIME_COLUMNS
from research.errors import ResearchError
from research.metrics import COUNT_COLUMNS, METRIC_COLUMNS

logger = logging.getLogger(__name__)

TRADES_SCHEMA = pa.schema(
    [("combo_id", pa.string())]
    + [(name, pa.timestamp("ns") if name == "date"
        else pa.string() if name in TEXT_COLUMNS
        else pa.timestamp("ns", tz=CHICAGO) if name in TIME_COLUMNS
        else pa.float64()) for name in COLUMNS])
# Fixed writer options: the same rows always give the same bytes (parquet stores no clock).
WRITE_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3,
                                 "use_dictionary": True, "write_statistics": True,
                                 "version": "2.6", "data_page_version": "1.0"}
ROW_GROUP_ROWS = 131_072
SHARD_CACHE = 4  # trades shards held in memory at once during compaction
# The results folder's file names (the runner and report name files through these).
MANIFEST, TRADES, SUMMARY, SUMMARY_CSV = ("manifest.json", "trades.parquet", "summary.parquet",
                                          "summary.csv")
_HEATMAP_PREFIX, _HEATMAP_SUFFIX = "heatmap_", ".png"
HEATMAP_GLOB = f"{_HEATMAP_PREFIX}*{_HEATMAP_SUFFIX}"  # every heatmap_name matches it
_TRADES_SUFFIX, _SUMMARY_SUFFIX = ".trades.parquet", ".summary.parquet"
_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")
_TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_COMBO_ID_SCHEMA = pa.schema([("combo_id", pa.string())])
ParamColumns = Sequence[tuple[str, pa.DataType]]


class StoreMismatchError(ResearchError):
    """A results path holds something other than this sweep's results: another spec's or
    data set's, a manifest that cannot be read, or a file where the folder should be."""


class AxisSource(Protocol):
    """What compaction needs of a SweepSpec: the axis names and a combo's axis values."""

    @property
    def axes(self) -> Sequence[str]: ...

    def axis_values(self, params: RunParams) -> Mapping[str, Any]: ...


def summary_schema(param_columns: ParamColumns = ()) -> pa.Schema:
    """combo_id, the parameter columns as given, then METRIC_COLUMNS (counts int64)."""
    metrics = [(m, pa.int64() if m in COUNT_COLUMNS else pa.float64()) for m in METRIC_COLUMNS]
    fields = [("combo_id", pa.string()), *param_columns, *metrics]
    names = [name for name, _ in fields]
    if clashes := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"summary columns {clashes} appear twice (a parameter named as a metric?)")
    return pa.schema(fields)


SHARD_SUMMARY_SCHEMA = summary_schema()


def param_columns_for(rows: Iterable[Mapping[str, Any]],
                      names: Sequence[str]) -> list[tuple[str, pa.DataType]]:
    """Parameter column types from every combo's values (so they never vary by batching):
    all bool -> bool, all int -> int64, all numbers -> float64, anything else -> JSON text."""
    rows = list(rows)

    def kind(values: list[Any]) -> pa.DataType:
        if values and all(isinstance(v, bool) for v in values):
            return pa.bool_()
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if values and len(numbers) == len(values):
            return pa.int64() if all(isinstance(v, int) for v in values) else pa.float64()
        return pa.string()
    return [(n, kind([r[n] for r in rows if r.get(n) is not None])) for n in names]


def task_id_for(combo_ids: Iterable[str]) -> str:
    """A task id naming all of its combos, so no later batch can reuse a finished shard's name."""
    return hashlib.sha256(",".join(sorted(combo_ids)).encode()).hexdigest()[:16]


def to_table(data: pa.Table | pd.DataFrame | Sequence[Mapping[str, Any]],
             schema: pa.Schema) -> pa.Table:
    """Exactly `schema` (extra columns dropped, no pandas metadata in the bytes)."""
    if isinstance(data, pa.Table):
        table = data.select(schema.names).cast(schema)
    elif isinstance(data, pd.DataFrame):
        if missing := [name for name in schema.names if name not in data.columns]:
            raise ValueError(f"columns {missing} are missing (have {list(data.columns)})")
        table = pa.Table.from_pandas(data[schema.names], schema=schema, preserve_index=False)
    else:
        table = pa.Table.from_pylist(list(data), schema=schema)
    return table.replace_schema_metadata(None)


def heatmap_name(x: str, y: str, metric: str) -> str:
    """The file name of the heatmap of `metric` over axes `x` and `y`."""
    return f"{_HEATMAP_PREFIX}{x}_{y}_{metric}{_HEATMAP_SUFFIX}"


def _cell(value: Any, kind: pa.DataType) -> Any:
    """A parameter value for its column; in a text column lists and mappings (trade_days,
    enabled_slots) and stray numbers become canonical JSON text."""
    if kind == pa.string() and value is not None and not isinstance(value, str):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


@contextmanager
def atomic_write(path: Path) -> Iterator[IO[bytes]]:
    """Yield a file in `path`'s folder that replaces `path` only once fully written and synced."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    with suppress(OSError):  # make the rename durable on POSIX; Windows can't open folders
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def parquet_bytes(table: pa.Table) -> bytes:
    """A table encoded with the fixed options and row groups of ROW_GROUP_ROWS: a worker
    encodes its shard (the heavy part), the parent only publishes the bytes."""
    sink = pa.BufferOutputStream()
    pq.write_table(table.combine_chunks(), sink, row_group_size=ROW_GROUP_ROWS, **WRITE_OPTIONS)
    return sink.getvalue().to_pybytes()


def write_parquet(table: pa.Table | bytes, path: Path) -> None:
    """Atomic parquet write of a table or of parquet_bytes."""
    encoded = table if isinstance(table, bytes) else parquet_bytes(table)
    with atomic_write(path) as handle:
        handle.write(encoded)


def manifest_base() -> dict[str, Any]:
    """Versions, git commit and host: what a reader needs to reproduce a sweep."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("research", "numpy", "pandas", "pyarrow", "numba", "joblib"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    try:
        git = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=False)
        commit = git.stdout.strip() if git.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"versions": versions, "git_commit": commit or None,
            "host": {"cpu_count": os.cpu_count(), "platform": platform.platform()}}


class SweepStore:
    """The folder results/<sweep name>/: shards while running, compacted files at the end."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.shards = self.root / "shards"

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
            for path in folder.iterdir():
                if _TEMP_NAME.match(path.name) and path.is_file():
                    path.unlink(missing_ok=True)
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
            if any(self.shards.glob("*" + _SUMMARY_SUFFIX)):
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
        ours += self.shards.glob("*" + _TRADES_SUFFIX)
        ours += self.shards.glob("*" + _SUMMARY_SUFFIX)
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
        text = json.dumps(manifest, sort_keys=True, indent=2, default=_json_default) + "\n"
        with atomic_write(self.root / MANIFEST) as handle:
            handle.write(text.encode())

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
        marker = self.shards / (task_id + _SUMMARY_SUFFIX)
        # Only a stat on the hot path: a task's marker exists only when a task is re-run.
        if marker.exists() and set(pq.read_table(marker, columns=["combo_id"])
                                   .column("combo_id").to_pylist()) != set(combos):
            raise ValueError(f"task {task_id}: {marker} holds other, finished combos")
        write_parquet(encoded, self.shards / (task_id + _TRADES_SUFFIX))
        write_parquet(summary_t, marker)

    def _summaries(self, schema: pa.Schema = SHARD_SUMMARY_SCHEMA,
                   ) -> tuple[pa.Table, dict[str, str]]:
        """Every committed summary row (first shard by name wins), only `schema`'s columns,
        and combo_id -> task_id."""
        tables, where = [], {}
        for path in sorted(self.shards.glob("*" + _SUMMARY_SUFFIX)):
            task_id = path.name[: -len(_SUMMARY_SUFFIX)]
            table = to_table(pq.read_table(path, columns=schema.names), schema)
            ids = table.column("combo_id").to_pylist()
            keep = [i for i, c in enumerate(ids) if c not in where]
            where.update({ids[i]: task_id for i in keep})
            tables.append(table.take(pa.array(keep, pa.int64())))
        return pa.concat_tables(tables or [schema.empty_table()]), where

    def finished(self) -> set[str]:
        """The ids of every finished combo (those with a summary shard row): what a resumed
        sweep skips. Reads only the shards' combo_id column."""
        return set(self._summaries(_COMBO_ID_SCHEMA)[1])

    # ---- compaction ----
    def compact(self, combos: Sequence[RunParams], params: AxisSource) -> pd.DataFrame:
        """compact_summary then compact_trades: all three files; returns the summary."""
        summary, where = self.compact_summary(combos, params)
        self.compact_trades(where)
        return summary

    def compact_summary(self, combos: Sequence[RunParams],
                        params: AxisSource) -> tuple[pd.DataFrame, dict[str, str]]:
        """Write summary.parquet and summary.csv in grid order; return the summary and the
        finished combos' combo_id -> task_id in that order (what compact_trades takes).

        `combos` give the grid order; unfinished ones are left out. `params` (a SweepSpec:
        its ``axes`` and ``axis_values``) gives each combo's parameter columns, typed over
        all `combos` (param_columns_for), so types never depend on which combos finished.
        """
        values = {rp.combo_id: params.axis_values(rp) for rp in combos}
        columns = param_columns_for(values.values(), list(params.axes))
        metrics_t, task_of = self._summaries()
        where = {c: task_of[c] for c in values if c in task_of}
        logger.info("compacting %d of %d combos into %s", len(where), len(values), self.root)
        row_of = {c: i for i, c in enumerate(metrics_t.column("combo_id").to_pylist())}
        metrics_t = metrics_t.take(pa.array([row_of[c] for c in where], pa.int64()))
        params_t = pa.table({name: pa.array([_cell(values[c].get(name), kind) for c in where],
                                            kind)
                             for name, kind in columns}, schema=pa.schema(columns))
        summary_t = pa.Table.from_arrays(
            [metrics_t.column("combo_id"), *params_t.columns, *metrics_t.columns[1:]],
            schema=summary_schema(columns))
        write_parquet(summary_t, self.root / SUMMARY)
        summary = summary_t.to_pandas()
        with atomic_write(self.root / SUMMARY_CSV) as handle:
            handle.write(summary.to_csv(index=False, lineterminator="\n").encode())
        return summary, where

    def compact_trades(self, where: Mapping[str, str]) -> None:
        """Write trades.parquet: each combo's rows from shard `where[combo_id]`, combos in
        `where`'s order (compact_summary's). The bytes depend only on that order and the
        rows, not on batching: trades stream combo by combo through a small LRU of shards
        and are cut into fixed row groups."""
        cache = _ShardCache(self.shards)
        pending: list[pa.Table] = []
        pending_rows = 0
        with (atomic_write(self.root / TRADES) as handle,
              pq.ParquetWriter(handle, TRADES_SCHEMA, **WRITE_OPTIONS) as writer):
            for combo_id, task_id in where.items():
                rows = cache.rows(task_id, combo_id)
                if len(rows):
                    pending.append(rows)
                    pending_rows += len(rows)
                if pending_rows >= ROW_GROUP_ROWS:
                    pending = _flush(writer, pending, final=False)
                    pending_rows = sum(len(t) for t in pending)
            _flush(writer, pending, final=True)


def _flush(writer: pq.ParquetWriter, pending: list[pa.Table], final: bool) -> list[pa.Table]:
    """Write whole row groups (everything when final); return the rows kept for later.

    One contiguous chunk per write, cut at multiples of ROW_GROUP_ROWS, so row groups and
    pages fall at the same rows whatever shards the rows came from."""
    if not pending:
        return []
    rows = pa.concat_tables(pending).combine_chunks()
    cut = len(rows) if final else len(rows) - len(rows) % ROW_GROUP_ROWS
    if cut:
        writer.write_table(rows.slice(0, cut), row_group_size=ROW_GROUP_ROWS)
    rest = rows.slice(cut)
    return [rest] if len(rest) else []


class _ShardCache:
    """The last few trades shards read, each with its combo_id -> row positions."""

    def __init__(self, shards: Path, size: int = SHARD_CACHE) -> None:
        self.shards, self.size = shards, size
        self.loaded: OrderedDict[str, tuple[pa.Table, dict[str, np.ndarray]]] = OrderedDict()

    def rows(self, task_id: str, combo_id: str) -> pa.Table:
        if task_id not in self.loaded:
            if len(self.loaded) >= self.size:
                self.loaded.popitem(last=False)
            self.loaded[task_id] = self._load(task_id)
        self.loaded.move_to_end(task_id)
        table, positions = self.loaded[task_id]
        return table.take(positions.get(combo_id, np.empty(0, dtype=np.int64)))

    def _load(self, task_id: str) -> tuple[pa.Table, dict[str, np.ndarray]]:
        table = to_table(pq.read_table(self.shards / (task_id + _TRADES_SUFFIX)), TRADES_SCHEMA)
        encoded = table.column("combo_id").combine_chunks().dictionary_encode()
        codes = encoded.indices.to_numpy()
        order = np.argsort(codes, kind="stable")  # stable: shard row order within a combo
        ends = np.cumsum(np.bincount(codes, minlength=len(encoded.dictionary)))
        starts = ends - np.diff(ends, prepend=0)
        names = encoded.dictionary.to_pylist()
        return table, {c: order[s:e] for c, s, e in zip(names, starts, ends, strict=True)}


def _json_default(value: Any) -> Any:
    """numpy scalars as numbers; anything else JSON lacks (Path, Timestamp) as its text."""
    return value.item() if isinstance(value, np.generic) else str(value)
