"""Faults, in real processes: a damaged results folder, two writers, SIGTERM, orphaned
workers, a full disk. After each, the same command completes byte-identical."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from research.research_runner import ResearchRunner
from research.results.lock import LOCK_FILE, hold
from research.results.store import DAILY_SUFFIX, SUMMARY_SUFFIX, TRADES_SUFFIX
from research.spec.grid import load_spec
from tests.helpers import (
    OUTPUTS,
    cli,
    digests,
    loky_workers,
    seven_slot_spec,
    spec_and_clean_run,
    wait_for_first_shard,
)

# every test here runs the CLI in a subprocess, most of them kill or break it
pytestmark = pytest.mark.slow

SPEC = seven_slot_spec("faults", end="2024-06-30")
COMPACTED = ("summary.parquet", "summary.csv", "trades.parquet", "daily.parquet")


@pytest.fixture(scope="module")
def spec_and_clean(tmp_path_factory):
    return spec_and_clean_run(tmp_path_factory.mktemp("faults"), "faults", SPEC)


def shards_of_a_crashed_run(spec_path: Path, results: Path) -> Path:
    """A run whose compaction never happened: every shard there, no compacted file."""
    sweep = ResearchRunner(results_dir=results, backend="sequential", progress=False,
                           batch_size=24, keep_shards=True).run_spec(load_spec(spec_path))
    for name in COMPACTED:
        (sweep.path / name).unlink()
    return sweep.path


def rerun(spec_path: Path, results: Path) -> subprocess.CompletedProcess:
    proc = cli(spec_path, "--results-dir", results, "--quiet")
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("damage", ["truncated", "empty", "deleted", "swapped"])
def test_a_damaged_shard_is_recomputed_and_said_in_one_line(spec_and_clean, tmp_path, damage):
    spec_path, clean = spec_and_clean
    folder = shards_of_a_crashed_run(spec_path, tmp_path)
    tasks = sorted(p.name[: -len(SUMMARY_SUFFIX)] for p in (folder / "shards").glob(
        "*" + SUMMARY_SUFFIX))
    victim = folder / "shards" / (tasks[0] + TRADES_SUFFIX)
    if damage == "truncated":
        victim.write_bytes(victim.read_bytes()[:-100])
    elif damage == "empty":
        victim.write_bytes(b"")
    elif damage == "deleted":
        victim.unlink()
    else:  # another valid shard under this task's name
        shutil.copy(folder / "shards" / (tasks[1] + TRADES_SUFFIX), victim)
    done = rerun(spec_path, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    warnings = [line for line in done.stderr.splitlines() if "computed again" in line]
    assert len(warnings) == 1 and tasks[0] in warnings[0]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["combos_run"] == 24  # that task's combos, and only those
    assert digests(folder) == digests(clean.path)


def test_a_damaged_daily_shard_is_recomputed(spec_and_clean, tmp_path):
    spec_path, clean = spec_and_clean
    folder = shards_of_a_crashed_run(spec_path, tmp_path)
    victim = next((folder / "shards").glob("*" + DAILY_SUFFIX))
    victim.write_bytes(b"PAR1 not really")
    done = rerun(spec_path, tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert digests(folder, (*OUTPUTS, "daily.parquet")) == \
        digests(clean.path, (*OUTPUTS, "daily.parquet"))


def test_a_second_writer_is_refused_at_once(spec_and_clean, tmp_path):
    spec_path, _ = spec_and_clean
    folder = tmp_path / "faults"
    with hold(folder):  # this test process is the first writer
        second = rerun(spec_path, tmp_path)  # a writer that waited would time out here
    assert second.returncode == 2, second.stderr
    assert f"{folder} is being written by process {os.getpid()} since" in second.stderr
    assert "Traceback" not in second.stderr


def test_a_lock_left_by_a_dead_process_is_taken_over(spec_and_clean, tmp_path):
    spec_path, clean = spec_and_clean
    folder = tmp_path / "faults"
    folder.mkdir()
    (folder / LOCK_FILE).write_text('{"pid": 999999, "since": "2026-01-01T00:00:00"}')
    done = rerun(spec_path, tmp_path)
    assert done.returncode == 0, done.stderr
    assert digests(folder) == digests(clean.path)


def test_sigterm_stops_cleanly_and_a_rerun_completes(spec_and_clean, tmp_path):
    spec_path, clean = spec_and_clean
    proc = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--max-cpus", 2,
               "--batch-size", 4)
    wait_for_first_shard(tmp_path / "faults", proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    manifest = json.loads((tmp_path / "faults" / "manifest.json").read_text())
    # 168 combos in 42 tasks of 4: the first shard is far from the end, so the signal
    # always lands mid-sweep; a handler that let the sweep run on would exit 0 here
    assert proc.returncode == 143, err
    assert err == ("terminated: finished combos are kept; run the same command again to "
                   "continue\n")
    assert manifest["status"] == "interrupted" and not manifest.get("failures")
    assert "combos_ok" not in manifest  # the closing counts were never written
    done = rerun(spec_path, tmp_path)
    assert done.returncode == 0, done.stderr
    assert digests(tmp_path / "faults") == digests(clean.path)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find worker processes")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_exit_within_seconds_when_their_parent_dies(spec_and_clean, tmp_path, sig):
    spec_path, _ = spec_and_clean
    proc = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--max-cpus", 2,
               "--batch-size", 4, start_new_session=True)
    wait_for_first_shard(tmp_path / "faults", proc)
    workers = loky_workers(proc.pid)
    os.kill(proc.pid, sig)  # the parent only: its workers are orphaned
    proc.wait(timeout=60)  # not communicate(): an orphan would hold the pipes open
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.2)
    survivors = [(pid, Path(f"/proc/{pid}/cmdline").read_bytes()[:120]) for pid in workers
                 if alive(pid)]
    assert workers and not survivors, survivors


def fill_disk_and_run(spec_path: Path, mount: Path, free_bytes: int) -> str:
    """A shell script for a private mount namespace: a small tmpfs at `mount`, nearly
    filled, a sweep that runs out of space, the manifest kept, the space freed, a rerun."""
    return f"""
set -u
mount -t tmpfs -o size=64m tmpfs {mount}
head -c $((64*1024*1024 - {free_bytes})) /dev/zero > {mount}/filler 2>/dev/null
"$PY" -m research.sweep {spec_path} --results-dir {mount}/r --quiet; echo "first=$?"
cp {mount}/r/faults/manifest.json {mount}/../first-manifest.json
rm {mount}/filler
"$PY" -m research.sweep {spec_path} --results-dir {mount}/r --quiet; echo "second=$?"
mkdir -p {mount}/../out && cp {mount}/r/faults/*.parquet {mount}/r/faults/summary.csv \\
    {mount}/../out/
"""


def can_mount_a_tmpfs() -> bool:
    unshare = shutil.which("unshare")
    return unshare is not None and subprocess.run(
        [unshare, "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
        capture_output=True).returncode == 0


@pytest.mark.parametrize("disk", ["tmpfs", "file-size-limit"])
def test_a_full_disk_is_one_line_and_the_next_run_completes(spec_and_clean, tmp_path, disk):
    """A small tmpfs in a private mount namespace runs out of space for real (ENOSPC); where
    no namespace can be made, RLIMIT_FSIZE fails the same writes (EFBIG). Both run here."""
    spec_path, clean = spec_and_clean
    mount = tmp_path / "disk"
    mount.mkdir()
    env = {**os.environ, "PY": sys.executable}
    if disk == "tmpfs":
        if not can_mount_a_tmpfs():
            pytest.skip("no user and mount namespace here (unshare -rm); the file-size-limit "
                        "case covers the same path")
        script = fill_disk_and_run(spec_path, mount, free_bytes=360_000)
        done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True,
                              text=True, env=env, cwd=Path(__file__).parents[2], timeout=600)
        first_error = "No space left on device"
    else:
        done = _run_with_file_size_limit(spec_path, tmp_path, env)
        first_error = "File too large"
    assert "first=3" in done.stdout and "second=0" in done.stdout, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and first_error in errors[0] and "Traceback" not in done.stderr
    manifest = json.loads((tmp_path / "first-manifest.json").read_text())
    assert manifest["status"] == "failed" and first_error in manifest["reason"]
    assert digests(tmp_path / "out") == digests(clean.path)


def _run_with_file_size_limit(spec_path: Path, tmp_path: Path, env: dict
                              ) -> subprocess.CompletedProcess:
    limit = 200_000  # bytes per file: the shards outgrow it, the manifest does not

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    results = tmp_path / "disk" / "r"
    first = subprocess.run([env["PY"], "-m", "research.cli.sweep", str(spec_path), "--results-dir",
                            str(results), "--quiet"], capture_output=True, text=True,
                           preexec_fn=small_files, cwd=Path(__file__).parents[2], timeout=600)
    shutil.copy(results / "faults" / "manifest.json", tmp_path / "first-manifest.json")
    second = rerun(spec_path, results)
    (tmp_path / "out").mkdir()
    for name in (*OUTPUTS, "daily.parquet"):
        shutil.copy(results / "faults" / name, tmp_path / "out" / name)
    return subprocess.CompletedProcess(first.args, 0,
                                       f"first={first.returncode}\nsecond={second.returncode}\n",
                                       first.stderr + second.stderr)
