"""The sweep CLI as a user meets it: the first line, progress with and without a terminal,
the closing block, --quiet, --dry-run, --rank-by / --top, --help; and Sweep.top."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from research import Sweep
from research.cli.dry_run import dry_run
from research.cli.sweep import main
from research.engine.pipeline import Stages
from research.engine.results import select_rows
from research.research_runner import ResearchRunner
from research.spec.grid import load_spec
from tests.helpers import ROOT, cli

SPEC = """\
name: tiny
data:
  synthetic: {instrument: ES, start: 2024-03-01, end: 2024-03-31, seed: 3}
base: {instrument: ES, enabled_slots: {S1: ["07:30"], S2: ["10:00"]}}
grid:
  target: [10, 15, 20]
  t1_fraction: [0.5, 0.65]
"""
FIRST_LINE = ("sweep tiny: 6 combos to run (6 in the grid, 0 already done); 1 task on "
              "1 process x 1 thread (loky); data: synthetic ES (seed 3), "
              "2024-03-01 .. 2024-03-31, ")


@pytest.fixture
def spec_path(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC)
    return path


def table_rows(out: str) -> list[list[str]]:
    """The rows of the top table printed on stdout (rank first)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Top ")) + 2
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


@pytest.mark.slow
def test_piped_run_prints_the_first_line_plain_progress_and_the_closing_block(spec_path,
                                                                             tmp_path):
    proc = cli(spec_path, "--results-dir", tmp_path / "out", "--max-cpus", 1,
               "--rank-by", "win_rate", "--top", 4)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    lines = err.splitlines()
    assert lines[0] == "sweep tiny: loading synthetic ES (seed 3) ..."  # before the data
    assert lines[1].startswith(FIRST_LINE) and lines[1].endswith(" bars")
    assert re.fullmatch(r"tiny: 6/6 combos, 0 failed, [\d.]+ combos/s, .* elapsed", lines[-2])
    assert lines[-1] == "tiny: writing the summary, daily matrix, trades and heatmaps"
    assert "\r" not in err  # no bar: plain lines for a log
    # stdout: the table ranked as asked, then the closing block.
    folder = tmp_path / "out" / "tiny"
    assert "Top 4 of 6 combos by win_rate" in out
    expected = Sweep(folder).top(4, by="win_rate")["combo_id"].tolist()
    rows = table_rows(out)
    assert [row[1] for row in rows] == expected and [row[0] for row in rows] == list("1234")
    assert re.search(r"^tiny: 6 combos ok, 0 failed, in [\d.:]+( s)?$", out, re.M)
    for name in ("report.html", "summary.csv", "trades.parquet", "daily.parquet",
                 "heatmap_target_t1_fraction_net_profit_usd.png"):
        assert re.search(rf"^  \w+ +\S*{re.escape(name)}$", out, re.M), name
    assert out.splitlines()[-1] == f"results: {folder}"


def read_terminal(master: int, proc: subprocess.Popen, timeout_s: float = 120) -> str:
    """Everything the child writes to its terminal until it exits."""
    chunks, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_terminal_run_draws_a_tqdm_bar(spec_path, tmp_path):
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "research.cli.sweep", str(spec_path), "--results-dir",
         str(tmp_path / "out"), "--max-cpus", "1"],
        stdin=terminal, stdout=terminal, stderr=terminal, cwd=ROOT, close_fds=True)
    os.close(terminal)
    try:
        text = read_terminal(master, proc)
    finally:
        os.close(master)
    assert proc.wait(timeout=30) == 0, text
    assert FIRST_LINE in text
    assert re.search(r"tiny: 100%\|.*\| 6/6 \[.*combo/s, 0 failed\]", text), text
    assert "Top 6 of 6 combos by net_profit_usd" in text
    assert "tiny: 6 combos ok, 0 failed, in " in text
    assert f"results: {tmp_path / 'out' / 'tiny'}" in text


@pytest.mark.slow
def test_quiet_prints_only_the_results_line(spec_path, tmp_path):
    proc = cli(spec_path, "--results-dir", tmp_path, "--quiet", "--max-cpus", 1)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert err == "" and out == f"results: {tmp_path / 'tiny'}\n"


@pytest.mark.slow
def test_dry_run_prints_the_plan_and_an_estimate_and_writes_nothing(spec_path, tmp_path):
    results = tmp_path / "never"
    proc = cli(spec_path, "--results-dir", results, "--dry-run", "--max-cpus", 1)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert not results.exists()
    lines = out.splitlines()
    assert lines[0] == "dry run of sweep tiny: nothing is written"
    assert lines[1] == ("combos: 6 in the grid (target 3 x t1_fraction 2), 0 already done, "
                        "6 to run")
    assert lines[2].startswith("data: synthetic ES (seed 3): ES, 2024-03-01 .. 2024-03-31, ")
    assert lines[3] == "plan: 1 task of 6 combos on 1 process x 1 thread (loky, CPU budget 1)"
    assert lines[4] == f"outputs: {results / 'tiny'}/ (summary, daily, trades, 1 heatmap)"
    assert lines[5].startswith("calibration: 6 combos of one task on 1 thread: ")
    assert re.match(r"estimate: about [\d.:]+( s)? in all: start-up ", lines[6])
    assert lines[8] == ("  then, not counted: the robustness analysis and report.html "
                        "(--no-analysis, --no-report leave them out)")


def test_dry_run_says_what_follows_the_estimated_part(spec_path, tmp_path):
    spec = load_spec(spec_path)
    lean = ResearchRunner(results_dir=tmp_path, max_cpus=1, progress=False, analysis=False,
                          report=False)
    assert "not counted" not in dry_run(lean, spec).report()
    page_only = ResearchRunner(results_dir=tmp_path, max_cpus=1, progress=False,
                               analysis=False)
    assert dry_run(page_only, spec).report().splitlines()[-1] == (
        "  then, not counted: report.html (--no-analysis, --no-report leave them out)")


def test_dry_run_counts_the_combos_already_done(spec_path, tmp_path):
    spec = load_spec(spec_path)
    runner = ResearchRunner(results_dir=tmp_path, max_cpus=1, progress=False)
    runner.run_spec(spec)
    again = dry_run(runner, spec)
    assert "6 already done, 0 to run" in again.report()
    assert "estimate: nothing to run" in again.report()
    assert "0 already done, 6 to run" in dry_run(runner, spec, fresh=True).report()


def test_a_re_run_says_how_many_combos_are_already_done(spec_path, tmp_path, capsys):
    spec = load_spec(spec_path)
    for _ in range(2):
        ResearchRunner(results_dir=tmp_path, max_cpus=1).run_spec(spec)
    err = capsys.readouterr().err.splitlines()
    assert err[-3].startswith("sweep tiny: 0 combos to run (6 in the grid, 6 already done); "
                              "0 tasks on 1 process")
    assert err[-2].startswith("tiny: 6/6 combos, 0 failed")


@pytest.mark.parametrize(("args", "message"), [
    (["--rank-by", "profit"], "argument --rank-by: invalid choice: 'profit'"),
    (["--top", "0"], "argument --top: '0' is not a whole number of at least 1"),
])
def test_bad_rank_or_top_exits_2_before_any_work(spec_path, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exited:
        main([str(spec_path), "--results-dir", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and message in err and "Traceback" not in err
    if "--rank-by" in args:
        assert "net_profit_usd" in err and "sharpe" in err  # the allowed names
    assert not (tmp_path / "out").exists()


def test_help_shows_examples_metrics_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "examples:" in out and "--dry-run" in out and "--rank-by sharpe --top 20" in out
    assert "max_drawdown_usd" in out and "exit codes:" in out


def test_sweep_top_ranks_by_any_metric(spec_path, tmp_path):
    sweep = ResearchRunner(results_dir=tmp_path, max_cpus=1,
                           progress=False).run_spec(load_spec(spec_path))
    summary = sweep.summary
    top = sweep.top(3, by="win_rate")
    assert len(top) == 3
    assert top["win_rate"].tolist() == sorted(summary["win_rate"], reverse=True)[:3]
    assert sweep.top()["combo_id"].tolist() == summary.sort_values(
        "net_profit_usd", ascending=False, kind="stable")["combo_id"].tolist()
    # Less is better for a drawdown: the lowest first.
    assert sweep.top(2, by="max_drawdown_usd")["max_drawdown_usd"].tolist() == sorted(
        summary["max_drawdown_usd"])[:2]
    with pytest.raises(ValueError, match="not a summary column"):
        sweep.top(by="profit")


def rows_failing_for_target_15(bars, table, batch, rp):
    if rp.target == 15:
        raise RuntimeError("boom")
    return select_rows(bars, table, batch, rp)


def test_failed_combos_show_in_the_progress_the_closing_block_and_the_exit_code(
        spec_path, tmp_path, capsys):
    code = main([str(spec_path), "--results-dir", str(tmp_path), "--backend", "sequential"],
                stages=Stages(rows=rows_failing_for_target_15))
    out, err = capsys.readouterr()
    assert code == 1
    assert re.search(r"^tiny: 6/6 combos, 2 failed, ", err, re.M)
    assert "tiny: 4 combos ok, 2 failed, in " in out
    assert "Top 4 of 4 combos by net_profit_usd" in out
    assert err.splitlines()[-1] == f"2 combo(s) failed; see {tmp_path / 'tiny' / 'manifest.json'}"
    assert "Traceback" not in out + err
