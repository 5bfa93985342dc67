"""The results folder is the boundary (issue 19): no link, FIFO or device in it is followed,
read or written through; old results moved aside are never overwritten.

The subprocess tests run the real commands on a folder with a planted link or FIFO and check
the exit code, the one-line message and that the file outside the folder is untouched.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys

import pytest

from research.errors import UnsafeFileError
from research.results import store as store_module
from research.results.atomic import atomic_write, write_json
from research.results.lock import hold
from research.results.safe_files import file_record, read_bounded
from research.results.store import MANIFEST, SweepStore
from tests.helpers import ROOT

TRUSTED = {"data_fingerprint": "d41d8c", "engine_version": "2", "layout": 2}
SPEC = """
name: edge
data:
  synthetic: {instrument: ES, start: 2024-03-01, end: 2024-03-29, seed: 3}
base: {instrument: ES}
grid: {target: [10, 15]}
analysis: {enabled: false}
parallel: {backend: sequential}
"""
FIFO = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


def run_module(module: str, *args, timeout: float = 240) -> subprocess.CompletedProcess:
    """`python -m module ARGS` in the repository root; it must end within `timeout`."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def spec_path(tmp_path):
    path = tmp_path / "edge.yaml"
    path.write_text(SPEC)
    return path


def sweep(spec_path, results, *extra) -> subprocess.CompletedProcess:
    return run_module("research.cli.sweep", spec_path, "--results-dir", results, "--quiet",
                      *extra)


def outside_file(tmp_path):
    victim = tmp_path / "outside" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("keep me\n")
    return victim


# ---- real commands (subprocesses) ----

@pytest.mark.slow
@pytest.mark.parametrize("name", [".lock", ".reserve", MANIFEST])
def test_a_linked_results_file_is_refused_and_its_target_untouched(tmp_path, spec_path, name):
    victim = outside_file(tmp_path)
    folder = tmp_path / "results" / "edge"
    folder.mkdir(parents=True)
    (folder / name).symlink_to(victim)
    done = sweep(spec_path, tmp_path / "results")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"{name}: is a symbolic link, not a file;" in done.stderr
    assert victim.read_text() == "keep me\n" and (folder / name).is_symlink()


@pytest.mark.slow
def test_a_linked_shards_folder_is_never_followed(tmp_path, spec_path):
    elsewhere = tmp_path / "outside"
    elsewhere.mkdir()
    bait = elsewhere / "t0001.summary.parquet"  # a shard-like name, damaged on purpose
    bait.write_bytes(b"not parquet")
    folder = tmp_path / "results" / "edge"
    folder.mkdir(parents=True)
    (folder / "shards").symlink_to(elsewhere, target_is_directory=True)
    done = sweep(spec_path, tmp_path / "results")
    assert done.returncode == 2, done.stderr
    assert ("cannot be used as a results folder: " in done.stderr
            and "shards: is a symbolic link, not a folder; remove it" in done.stderr)
    assert bait.read_bytes() == b"not parquet"


@pytest.mark.slow
def test_a_linked_shard_file_is_refused(tmp_path, spec_path):
    victim = outside_file(tmp_path)
    assert sweep(spec_path, tmp_path / "results").returncode == 0
    (tmp_path / "results" / "edge" / "shards" / "t0001.summary.parquet").symlink_to(victim)
    done = sweep(spec_path, tmp_path / "results")
    assert done.returncode == 2, done.stderr
    assert "t0001.summary.parquet: is a symbolic link, not a file;" in done.stderr
    assert victim.read_text() == "keep me\n"


@pytest.mark.slow
@FIFO
def test_a_fifo_manifest_never_blocks_the_sweep(tmp_path, spec_path):
    folder = tmp_path / "results" / "edge"
    folder.mkdir(parents=True)
    os.mkfifo(folder / MANIFEST)
    done = sweep(spec_path, tmp_path / "results")  # the timeout fails a hang
    assert done.returncode == 2, done.stderr
    assert "manifest.json: is a FIFO (named pipe), not a file;" in done.stderr


@pytest.mark.slow
@FIFO
@pytest.mark.parametrize("module", ["research.report", "research.cli.analyze"])
def test_readers_refuse_a_fifo_or_device_manifest_in_one_line(tmp_path, module):
    folder = tmp_path / "edge"
    folder.mkdir()
    os.mkfifo(folder / MANIFEST)
    done = run_module(module, folder, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "manifest.json: is a FIFO (named pipe), not a file;" in done.stderr
    (folder / MANIFEST).unlink()
    (folder / MANIFEST).symlink_to("/dev/zero")
    done = run_module(module, folder, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "manifest.json: is a symbolic link, not a file;" in done.stderr


@pytest.mark.slow
def test_two_fresh_starts_in_one_second_keep_both_old_results(tmp_path, spec_path):
    results = tmp_path / "results"
    assert sweep(spec_path, results).returncode == 0
    first = file_record(results / "edge" / "summary.csv")
    for _ in range(2):
        done = sweep(spec_path, results, "--fresh")
        assert done.returncode == 0, done.stderr
    asides = sorted(p for p in results.iterdir() if p.name.startswith("edge.old-"))
    assert len(asides) == 2
    assert all(file_record(p / "summary.csv") == first for p in asides)


# ---- in process ----

class _FrozenClock(dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2026, 1, 2, 3, 4, 5)


def test_aside_folders_get_unique_names_within_one_second(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module.dt, "datetime", _FrozenClock)
    root = tmp_path / "sweep"
    names = []
    for number in range(3):
        store = SweepStore(root)
        store.prepare(TRUSTED, {"run": number}, fresh=True)
        (root / "summary.csv").write_text(f"run {number}\n")
    names = sorted(p.name for p in tmp_path.iterdir() if p.name != "sweep")
    assert names == ["sweep.old-20260102-030405", "sweep.old-20260102-030405-2"]
    assert (tmp_path / names[0] / "summary.csv").read_text() == "run 0\n"
    assert (tmp_path / names[1] / "summary.csv").read_text() == "run 1\n"


def test_the_lock_is_never_a_link(tmp_path):
    victim = outside_file(tmp_path)
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / ".lock").symlink_to(victim)
    refused = pytest.raises(UnsafeFileError, match=r"\.lock: is a symbolic link, not a file; "
                                                   "the results folder only holds files a "
                                                   "sweep wrote")
    with refused, hold(folder):
        pass
    assert victim.read_text() == "keep me\n"


def test_atomic_write_refuses_a_link_at_the_final_name(tmp_path):
    victim = outside_file(tmp_path)
    (tmp_path / "summary.csv").symlink_to(victim)
    refused = pytest.raises(UnsafeFileError, match=r"summary\.csv: is a symbolic link, not a file")
    with refused, atomic_write(tmp_path / "summary.csv") as handle:
        handle.write(b"x")
    assert victim.read_text() == "keep me\n" and (tmp_path / "summary.csv").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "summary.csv"]


def test_a_manifest_over_the_bound_is_refused_unread(tmp_path, monkeypatch):
    store = SweepStore(tmp_path)
    write_json({"status": "complete", "note": "x" * 500}, tmp_path / MANIFEST)
    monkeypatch.setattr(store_module, "MAX_MANIFEST_BYTES", 100)
    with pytest.raises(UnsafeFileError, match=r"manifest\.json: is over 100 bytes, too large"):
        store.read_manifest()


def test_read_bounded_reads_a_regular_file_whole(tmp_path):
    (tmp_path / "a").write_bytes(b"0123456789")
    assert read_bounded(tmp_path / "a", 10) == b"0123456789"
    with pytest.raises(UnsafeFileError, match="is over 9 bytes"):
        read_bounded(tmp_path / "a", 9)


def test_removing_shards_deletes_regular_files_only(tmp_path):
    store = SweepStore(tmp_path / "sweep")
    store.prepare(TRUSTED, {})
    victim = outside_file(tmp_path)
    (store.shards / "t1.daily.parquet").symlink_to(victim)
    with pytest.raises(UnsafeFileError, match=r"t1\.daily\.parquet: is a symbolic link"):
        store.remove_shards()
    assert victim.exists()
    shutil.rmtree(store.root)
