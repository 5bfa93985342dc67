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
from contextlib import suppress
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from research.errors import (  # noqa: F401 - raised here
    ResearchError,
    StoreMismatchError,
    StoreWriteError,
    UnsafeFileError,
    shorten,
)
from research.results.atomic import parquet_bytes, remove_temp_files, write_json, write_parquet
from research.results.daily import DAILY
from research.results.safe_files import (
    file_record,
    folder_or_absent,
    is_regular,
    open_regular,
    read_bounded,
    regular_or_absent,
    unlink_regular,
)
from research.results.schemas import SHARD_SUMMARY_SCHEMA, to_table

logger = logging.getLogger(__name__)

# The results folder's file names (the runner, compaction and report name files by these).
MANIFEST, TRADES, SUMMARY, SUMMARY_CSV = ("manifest.json", "trades.parquet", "summary.parquet",
                                          "summary.csv")
SHARDS = "shards"
REPORT, ROBUSTNESS, COMBO_STATS = "report.html", "robustness.json", "combo_stats.parquet"
# research-stats --out RESULTS_DIR: the breakout statistics of the data (the report shows them)
STATS_JSON, STATS_CSV, STATS_PNG = "stats.json", "stats.csv", "stats.png"
OUR_FILES = (MANIFEST, TRADES, SUMMARY, SUMMARY_CSV, DAILY, REPORT, ROBUSTNESS, COMBO_STATS,
             STATS_JSON, STATS_CSV, STATS_PNG)
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
OUTPUTS = "outputs"  # the manifest's {file name: {"size", "sha256"}}
CARRIED = (OUTPUTS, "analysis")  # kept by a resume: the files they describe stay
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # a manifest with 100,000 failures is ~100 MB
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
        # What was read (or written) of each source's files this sweep, keyed by the files'
        # identity (research.results.compaction.find_sources): resume and compaction read a
        # shard's footers once, and a shard written here is never read back to be listed.
        self.sources_seen: dict[str, tuple[Any, Any]] = {}

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
            folder_or_absent(self.shards)  # a linked shards/ is never followed (issue 19)
            self.shards.mkdir(parents=True, exist_ok=True)
        except UnsafeFileError as exc:
            raise UnsafeFileError(f"{self.root}: cannot be used as a results folder: "
                                  f"{str(exc).partition(';')[0]}; remove it, or choose another "
                                  "sweep name or results folder") from None
        except OSError as exc:  # the folder (or shards/) is a file, or not ours to write
            raise StoreMismatchError(f"{self.root}: cannot be used as a results folder ({exc}); "
                                     f"choose another sweep name or results folder") from exc
        for folder in (self.root, self.shards):  # temp files of a crashed write
            remove_temp_files(folder)
        new = {**manifest, **trusted, "status": "running", "steps": {"sweep": "running"}}
        if fresh:
            self._move_aside()
        else:
            old = self._check_trusted(trusted, new, explain)
            # what the files still here are (checked on reuse) and what they were made from
            new.update({key: old[key] for key in CARRIED if isinstance(old.get(key), dict)})
        self._write_manifest(new)
        self._reserve()

    def _check_trusted(self, trusted: Mapping[str, Any], new: Mapping[str, Any],
                       explain: Callable[[Mapping, Mapping], str] | None) -> dict[str, Any]:
        advice = ("use --fresh (CLI) or fresh=True to start over (the old results are moved "
                  "aside), or choose another sweep name")
        old = self.read_manifest()
        if old is None:
            if any(self.shards.glob("*" + SUMMARY_SUFFIX)) or is_regular(self.root / SUMMARY):
                raise StoreMismatchError(f"{self.root}: holds results but no {MANIFEST}, so "
                                         f"they cannot be matched to this sweep; {advice}")
            return {}
        if any(old.get(key) != value for key, value in trusted.items()):
            changed = explain(old, new) if explain else ", ".join(
                key for key, value in trusted.items() if old.get(key) != value)
            raise StoreMismatchError(f"{self.root}: holds results of other inputs: {changed} "
                                     f"changed; {advice}")
        return old

    def _move_aside(self) -> None:
        """--fresh: our files go to a new sibling folder <name>.old-<time>[-n]; others stay
        put. The folder is made with mkdir, which fails when it exists, so two fresh starts
        within one second never share (and overwrite) one."""
        ours = [self.root / name for name in OUR_FILES if is_regular(self.root / name)]
        ours += [path for path in sorted(self.root.glob(HEATMAP_GLOB)) if is_regular(path)]
        shards = [path for suffix in SHARD_SUFFIXES for path in self.shards.glob("*" + suffix)
                  if is_regular(path)]
        if not ours and not shards:
            return
        aside = self._new_aside_folder()
        (aside / SHARDS).mkdir()
        for path in ours:
            os.replace(path, aside / path.name)
        for path in shards:
            os.replace(path, aside / SHARDS / path.name)
        logger.warning("fresh start: moved the previous results of %s to %s", self.root, aside)

    def _new_aside_folder(self) -> Path:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for number in range(1, 10_000):
            suffix = f".old-{stamp}" if number == 1 else f".old-{stamp}-{number}"
            aside = self.root.with_name(self.root.name + suffix)
            try:
                aside.mkdir()
            except FileExistsError:
                continue
            return aside
        raise StoreMismatchError(f"{self.root}: 10,000 folders {self.root.name}.old-{stamp}-* "
                                 "exist already; move some away")

    def _reserve(self) -> None:
        """Keep RESERVE_BYTES on disk for the manifest's last word if the disk fills up."""
        path = self.root / RESERVE
        info = regular_or_absent(path)
        if info is None or info.st_size < RESERVE_BYTES:
            fd = open_regular(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(RESERVE_BYTES))

    def release_reserve(self) -> None:
        """Free the reserve (the disk is full), so the manifest can still be written; a
        reserve that is not a regular file is left alone."""
        with suppress(UnsafeFileError):
            unlink_regular(self.root / RESERVE)

    # ---- manifest ----
    def read_manifest(self) -> dict[str, Any] | None:
        """manifest.json as a dict; None when there is none. Read without following a link
        and at most MAX_MANIFEST_BYTES (a FIFO or /dev/zero there is refused, never read)."""
        path = self.root / MANIFEST
        if not is_regular(path):
            return None
        return parse_manifest(read_bounded(path, MAX_MANIFEST_BYTES), path, StoreMismatchError,
                              "use --fresh (CLI) or fresh=True to start over")

    def _write_manifest(self, manifest: Mapping[str, Any]) -> None:
        write_json(manifest, self.root / MANIFEST)

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        """Merge `fields` into manifest.json (atomic rewrite); returns the new manifest."""
        manifest = {**(self.read_manifest() or {}), **fields}
        self._write_manifest(manifest)
        return manifest

    # ---- outputs: what each file is (size and sha256), checked before it is trusted ----
    def record_outputs(self, names: Sequence[str], drop: Sequence[str] = (),
                       **fields: Any) -> dict[str, Any]:
        """List `names` (present files) in the manifest's ``outputs`` with their size and
        sha256, remove `drop` from it, merge `fields`; returns the new manifest."""
        outputs = dict((self.read_manifest() or {}).get(OUTPUTS) or {})
        for name in drop:
            outputs.pop(name, None)
        for name in names:
            if is_regular(self.root / name):
                outputs[name] = file_record(self.root / name)
            else:
                outputs.pop(name, None)
        return self.update_manifest(**{OUTPUTS: dict(sorted(outputs.items())), **fields})

    def changed_output(self, name: str, manifest: Mapping[str, Any] | None = None) -> str | None:
        """Why output `name` is not what the manifest lists (None: it is, or it is not
        listed: a folder of an older version lists nothing)."""
        manifest = self.read_manifest() if manifest is None else manifest
        return output_problem(self.root, name, manifest or {})

    # ---- shards ----
    def write_task(self, task_id: str, summaries: Sequence[Mapping[str, Any]],
                   trades: bytes | None, daily: bytes) -> pa.Table:
        """Publish one task: trades shard (unless trades are not stored), daily shard, then
        the summary shard, the commit marker: a task is finished only once it exists.

        `trades` and `daily` are parquet bytes encoded by the worker, tagged with the task and
        its combos (shard_tag); they are published as they are. `summaries`
        holds one row per finished combo: combo_id and METRIC_COLUMNS. Re-running a task id
        overwrites its unfinished shards, never another set of finished combos. Returns the
        summary shard's table (compaction.remember_task lists it without a read).
        """
        if not _TASK_ID.match(task_id):
            raise ValueError(f"task id {task_id!r}: use letters, digits, '_' and '-' only")
        summary = to_table(summaries, SHARD_SUMMARY_SCHEMA)
        combos = summary.column("combo_id").to_pylist()
        if None in combos:
            raise ValueError(f"task {task_id}: a summary row has no combo_id")
        marker = self.shard_path(task_id, SUMMARY_SUFFIX)
        # Only a stat on the hot path: a task's marker exists only when a task is re-run.
        if regular_or_absent(marker) and shard_combos(marker) != combos:
            raise ValueError(f"task {task_id}: {marker} holds other, finished combos")
        if trades is not None:
            write_parquet(trades, self.shard_path(task_id, TRADES_SUFFIX))
        write_parquet(daily, self.shard_path(task_id, DAILY_SUFFIX))
        write_parquet(summary.replace_schema_metadata(shard_tag(task_id, combos)), marker)
        return summary

    def shard_path(self, task_id: str, suffix: str) -> Path:
        return self.shards / (task_id + suffix)

    def committed_tasks(self) -> list[str]:
        """The task ids whose summary shard (commit marker) exists, sorted."""
        return sorted(path.name[: -len(SUMMARY_SUFFIX)]
                      for path in self.shards.glob("*" + SUMMARY_SUFFIX))

    def discard_task(self, task_id: str) -> None:
        """Delete one task's shards (found damaged): its combos will run again."""
        for suffix in SHARD_SUFFIXES:
            unlink_regular(self.shard_path(task_id, suffix))

    def remove_shards(self) -> None:
        """Delete every shard (after a compaction that holds them all)."""
        for suffix in SHARD_SUFFIXES:
            for path in self.shards.glob("*" + suffix):
                unlink_regular(path)


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


# The manifest's fields a reader relies on, with the JSON type each must have.
MANIFEST_TYPES: dict[str, tuple[type, ...]] = {
    "spec": (dict,), "data": (dict,), "versions": (dict,), "status": (str,),
    "grid_size": (int,), "combos_ok": (int,), "combos_failed": (int,), "failures": (list,),
    "heatmaps": (list,), OUTPUTS: (dict,), "analysis": (dict,), "steps": (dict,),
    "timings": (dict,), "git_commit": (str, type(None)), "data_fingerprint": (str,)}
_SPEC_TYPES = {"name": (str,), "grid": (dict,), "base": (dict,), "analysis": (dict, type(None))}


def parse_manifest(raw: bytes, path: Path, error: type[ResearchError],
                   fix: str) -> dict[str, Any]:
    """manifest.json's bytes as a dict whose known fields have their types, else `error`
    naming the file, the field and `fix`.

    >>> parse_manifest(b'{"grid_size": "ten"}', Path("m.json"), ResearchError, "rerun")
    Traceback (most recent call last):
    research.errors.ResearchError: m.json: field grid_size is str 'ten', not int; rerun
    """
    try:
        manifest = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise error(f"{path}: is not a readable manifest ({shorten(str(exc), 80)[1:-1]}); "
                    f"{fix}") from None
    if not isinstance(manifest, dict):
        raise error(f"{path}: holds JSON {type(manifest).__name__}, not a manifest object; "
                    f"{fix}")
    for where, fields, types in (("", manifest, MANIFEST_TYPES),
                                 ("spec.", manifest.get("spec") or {}, _SPEC_TYPES)):
        for key, allowed in types.items():
            value = fields.get(key)
            if key in fields and (not isinstance(value, allowed) or isinstance(value, bool)
                                  and bool not in allowed):
                raise error(f"{path}: field {where}{key} is {type(value).__name__} "
                            f"{shorten(value, 30)}, not {allowed[0].__name__}; {fix}")
    return manifest


def output_problem(root: Path, name: str, manifest: Mapping[str, Any]) -> str | None:
    """Why `root/name` differs from the manifest's record of it (size, then sha256);
    None when it matches or the manifest lists no record (an older version's folder).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()); _ = (root / "a.csv").write_text("x")
    >>> output_problem(root, "a.csv", {"outputs": {"a.csv": {"size": 2, "sha256": "0"}}})
    'a.csv is 1 bytes, the manifest says 2: it changed after the sweep wrote it'
    """
    record = (manifest.get(OUTPUTS) or {}).get(name)
    if not isinstance(record, Mapping):
        return None
    if not is_regular(root / name):
        return f"{name} is missing (the manifest lists it)"
    found = file_record(root / name)
    if found["size"] != record.get("size"):
        return (f"{name} is {found['size']} bytes, the manifest says "
                f"{shorten(record.get('size'), 20)}: it changed after the sweep wrote it")
    if found["sha256"] != record.get("sha256"):
        return (f"{name}'s sha256 is not the manifest's: it changed after the sweep wrote it "
                "(damaged or edited)")
    return None
