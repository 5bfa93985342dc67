"""The one CLI shell, in real processes: a user's mistake (2), a write error (3), Ctrl-C
(130) and SIGTERM (143) while a kernel runs, the closing block's wall time under a parent
shell, and analyze rebuilding report.html. Exit codes: research/cli/shell.py."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from research.research_runner import ResearchRunner
from research.spec.grid import load_spec
from tests.helpers import ROOT, cli, seven_slot_spec, wait_for_first_shard

pytestmark = pytest.mark.slow

TINY = """\
name: tiny
data:
  synthetic: {instrument: ES, start: 2024-01-01, end: 2024-06-30, seed: 3}
base: {instrument: ES, enabled_slots: {S1: ["07:30"], S2: ["10:00"]}}
grid:
  target: [10, 15, 20]
  t1_fraction: [0.5, 0.65]
"""
KIBOT_ROWS = "12/02/2024,09:31,6045.25,6046,6045,6045.75,812\n"
# 168 combos in 21 tasks of 8 on four years: kernels long enough that a signal often lands
# inside one (before the fix, about half of such runs recorded a failed combo and ran on)
SIGNAL_SPEC = seven_slot_spec("signals", end="2027-12-31")
SIGNAL_TASKS = 21
SETTLE_S = 0.5  # after the first shard: into the next task, more likely inside a kernel
KEPT = ": finished combos are kept; run the same command again to continue\n"


def command(*args, stdout=subprocess.PIPE, preexec_fn=None) -> subprocess.Popen:
    """``python -m research.cli ARGS`` in the repository root."""
    return subprocess.Popen([sys.executable, "-m", "research.cli", *map(str, args)],
                            stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            preexec_fn=preexec_fn)


def tiny_files() -> None:
    """No file the process writes may pass 1 KB (a full disk, as root sees one: root writes
    where permissions would stop others). Python ignores SIGXFSZ: the write fails, EFBIG."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


def finished(proc: subprocess.Popen, timeout: float = 300) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A spec, a bar file, a finished results folder with its report, and a plain file."""
    root = tmp_path_factory.mktemp("shell")
    (root / "tiny.yaml").write_text(TINY)
    (root / "ES.txt").write_text(KIBOT_ROWS)
    (root / "a_file").write_text("not a folder")
    sweep = ResearchRunner(results_dir=root / "results", progress=False,
                           max_cpus=1).run_spec(load_spec(root / "tiny.yaml"))
    assert (sweep.path / "report.html").is_file()
    return {"spec": root / "tiny.yaml", "bars": root / "ES.txt", "folder": sweep.path,
            "file": root / "a_file"}


def copied_folder(files, tmp_path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(files["folder"], folder)
    return folder


@pytest.mark.parametrize(("args", "line"), [
    (["sweep", "{missing}.yaml"], "error: {missing}.yaml: cannot read the spec (No such file "
                                  "or directory)"),
    (["data", "{missing}.csv"], "error: {missing}.csv: no such file or folder"),
    (["analyze", "{missing}"], "error: {missing}: not a folder; give a sweep's results folder "
                               "(results/<name>/)"),
    (["report", "{missing}"], "error: {missing}: not a folder; give a sweep's results folder "
                              "(results/<sweep name>)"),
], ids=["sweep", "data", "analyze", "report"])
def test_a_users_mistake_exits_2_with_one_line(tmp_path, args, line):
    missing = tmp_path / "missing"
    done = finished(command(*(arg.format(missing=missing) for arg in args)))
    assert done.returncode == 2
    assert done.stderr == line.format(missing=missing) + "\n"


@pytest.mark.parametrize("which", ["sweep", "data", "analyze", "report"])
def test_a_write_error_exits_3_with_one_line(files, tmp_path, which):
    """A file where a folder should be (root writes where permissions would stop others),
    a full device for stdout, a file-size limit (a folder where a results file should be is
    refused as unsafe instead: exit 2, tests/results/test_folder_boundary.py)."""
    if which == "sweep":
        proc = command("sweep", files["spec"], "--results-dir", files["file"], "--quiet")
        expected = rf"error: cannot write {re.escape(str(files['file']))}/tiny: Not a directory;"
    elif which == "data":
        if not Path("/dev/full").exists():
            pytest.skip("needs /dev/full")
        with open("/dev/full", "w") as full:
            proc = command("data", files["bars"], stdout=full)
        expected = "error: cannot write stdout: No space left on device;"
    elif which == "analyze":
        folder = copied_folder(files, tmp_path)
        proc = command("analyze", folder, preexec_fn=tiny_files)
        expected = rf"error: cannot write {re.escape(str(folder))}/robustness.json: File too large;"
    else:
        proc = command("report", files["folder"], "--out", files["file"] / "report.html")
        expected = rf"error: cannot write {re.escape(str(files['file']))}/report.html: Not a dir"
    done = finished(proc)
    assert done.returncode == 3, done.stderr
    assert len(done.stderr.splitlines()) == 1 and re.match(expected, done.stderr), done.stderr


def signalled_sweep(tmp_path: Path, sig: int, max_cpus: int, whole_group: bool):
    """The signal sweep, `sig` sent as its first shard appears: to the sweep alone, or to
    its whole process group as a terminal's Ctrl-C is. Returns the finished process and
    the seconds from the signal to the exit."""
    spec = tmp_path / "signals.yaml"
    spec.write_text(SIGNAL_SPEC)
    # SIGINT must reach the CLI even when this test runs with SIGINT ignored (background).
    proc = cli(spec, "--results-dir", tmp_path, "--quiet", "--max-cpus", max_cpus,
               "--batch-size", 8, start_new_session=whole_group,
               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_for_first_shard(tmp_path / "signals", proc)
    time.sleep(SETTLE_S)  # into the next task's kernels, not the store's Python code
    sent = time.monotonic()
    if whole_group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    done = finished(proc, timeout=60)  # honoured within a second, on an idle machine
    return done, time.monotonic() - sent


@pytest.mark.parametrize(("sig", "max_cpus", "whole_group"), [
    (signal.SIGINT, 1, False),  # the kernels run in the sweep's own main thread
    (signal.SIGTERM, 1, False),
    (signal.SIGINT, 2, True),  # Ctrl-C in a terminal: the loky workers get it too
], ids=["sigint-in-process", "sigterm-in-process", "ctrl-c-with-workers"])
def test_a_signal_mid_kernel_stops_the_sweep_and_fails_no_combo(tmp_path, sig, max_cpus,
                                                                whole_group):
    done, seconds = signalled_sweep(tmp_path, sig, max_cpus, whole_group)
    word, code = ("interrupted", 130) if sig == signal.SIGINT else ("terminated", 143)
    assert done.returncode == code, done.stderr
    assert done.stderr == word + KEPT  # one line, no traceback
    print(f"{word} after {seconds:.2f} s")
    folder = tmp_path / "signals"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert not manifest.get("failures") and not manifest.get("combos_failed")
    shards = list((folder / "shards").glob("*.summary.parquet"))
    assert 1 <= len(shards) < SIGNAL_TASKS  # stopped early, not after running on


def closing_seconds(out: str) -> float:
    """The wall time of the closing block's count line, in seconds (progress.clock)."""
    text = re.search(r"^tiny: \d+ combos ok, \d+ failed, in (.+)$", out, re.M).group(1)
    if text.endswith(" s"):
        return float(text[:-2])
    parts = [int(part) for part in text.split(":")]
    return sum(value * 60 ** power for power, value in enumerate(reversed(parts)))


def test_the_wall_time_counts_the_sweep_not_its_parent_shell(files, tmp_path):
    """bash runs the last command of ``-c`` in its own process (exec): that process began
    before the sleep, so a wall time from the process's start would count it."""
    sleep_s = 3
    # no analysis, no report: the manifest's total_s is then nearly all the sweep does
    sweep = (f"{sys.executable} -m research.sweep {files['spec']} --results-dir {tmp_path} "
             "--no-analysis --no-report")
    done = subprocess.run(["bash", "-c", f"sleep {sleep_s} && {sweep}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    run_s = json.loads((tmp_path / "tiny" / "manifest.json").read_text())["timings"]["total_s"]
    shown = closing_seconds(done.stdout)
    # from main(): the run plus reading the spec and printing, well under the sleep
    assert run_s - 1 <= shown < run_s + sleep_s, (shown, run_s)


def test_analyze_rebuilds_the_report(files, tmp_path):
    folder = copied_folder(files, tmp_path)
    report = folder / "report.html"
    report.write_text("an old page")
    done = finished(command("analyze", folder, "--seed", 7))
    assert done.returncode == 0, done.stderr
    assert f"report: {report}\n" in done.stdout
    page = report.read_text()
    assert page != "an old page" and page.startswith("<!DOCTYPE html>")


def test_analyze_says_the_report_is_stale_when_it_cannot_rebuild_it(files, tmp_path):
    folder = copied_folder(files, tmp_path)
    (folder / "report.html").unlink()
    (folder / "report.html").mkdir()  # cannot be replaced by a page
    done = finished(command("analyze", folder))
    assert done.returncode == 0, done.stderr  # the analysis itself is written
    assert (folder / "robustness.json").is_file()
    # a folder where the page goes is refused, never replaced (the folder is the boundary)
    assert re.fullmatch(rf"warning: {re.escape(str(folder))}/report\.html is stale: it predates "
                        r"robustness\.json and could not be rebuilt \(UnsafeFileError: .*"
                        r"report\.html: is a folder, not a file; .*\); rebuild it with: python "
                        rf"-m research\.report {re.escape(str(folder))}\n",
                        done.stderr), done.stderr


def test_one_entry_point_lists_the_five_commands():
    done = finished(command("--help"))
    assert done.returncode == 0
    assert re.findall(r"^  (\w+) ", done.stdout, re.M) == ["sweep", "data", "analyze", "report",
                                                           "stats"]
