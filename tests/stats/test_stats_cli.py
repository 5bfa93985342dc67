"""research-stats: its output, its files, the report's Breakouts section, its errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from research import ResearchRunner, synthetic_bars
from research.cli.stats import main
from research.report import write_report
from research.report.breakouts import STATS_CSV, STATS_JSON, STATS_PNG, read_breakouts
from research.results.store import REPORT
from research.stats.breakouts import breakout_stats
from tests.bar_writers import canonical_csv
from tests.helpers import ROOT

SPEC = """\
name: orb
data:
  synthetic: {instrument: ES, start: 2024-03-01, end: 2024-04-30, seed: 3}
base:
  instrument: ES
  range_start: "08:30"
grid:
  range_minutes: [5, 15, 30]
  target: [10, 15]
"""
KEYS = ("range_start", "range_end", "trade_until", "days", "up", "down", "both", "neither")


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    """A small sweep's results folder with its report (no analysis: the page is enough)."""
    runner = ResearchRunner(data=synthetic_bars("ES", "2024-03-01", "2024-03-15", seed=3),
                            results_dir=tmp_path_factory.mktemp("results"), progress=False,
                            analysis=False)
    folder = runner.run(grid={"target": [10, 15]}, base={"instrument": "ES"}, name="s").path
    write_report(folder)
    return folder


@pytest.fixture
def results(swept, tmp_path) -> Path:
    return Path(shutil.copytree(swept, tmp_path / "s"))


@pytest.fixture
def spec(tmp_path) -> Path:
    path = tmp_path / "orb.yaml"
    path.write_text(SPEC)
    return path


def test_json_prints_one_object_per_definition(spec, capsys):
    assert main([str(spec), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["range_start"], r["range_end"], r["trade_until"]) for r in records] == \
        [("08:30", "08:35", "16:00"), ("08:30", "08:45", "16:00"), ("08:30", "09:00", "16:00")]
    for record in records:
        assert all(key in record for key in KEYS)
        assert record["days"] > 30
        assert record["up"] + record["down"] - record["both"] + record["neither"] == \
            pytest.approx(1.0)
        assert set(record["by_volatility"]) == {"low", "mid", "high"}


def test_the_table_names_each_definition(spec, capsys):
    assert main([str(spec), "--after-minutes", "60"]) == 0
    out = capsys.readouterr().out
    assert "the share whose close 60 minutes later is beyond the break level" in out
    assert re.search(r"^08:30-08:45  16:00 +\d+ ", out, re.M)


def test_out_writes_json_csv_and_png(spec, tmp_path, capsys):
    out = tmp_path / "stats"
    assert main([str(spec), "--json", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert all(line.startswith("{") for line in captured.out.splitlines())  # stdout: JSON only
    assert f"wrote {STATS_JSON}, {STATS_CSV}, {STATS_PNG} in {out}" in captured.err
    written = read_breakouts(out)
    assert [row.label for row in written.rows] == ["08:30-08:35", "08:30-08:45", "08:30-09:00"]
    assert written.facts["after_minutes"] == 30 and written.facts["instrument"] == "ES"
    table = pd.read_csv(out / STATS_CSV)
    assert table["volatility"].tolist() == ["all", "low", "mid", "high"] * 3
    assert (out / STATS_PNG).read_bytes().startswith(b"\x89PNG")


def test_a_results_folders_report_gains_a_breakouts_section(spec, results, capsys):
    folder = results
    before = (folder / REPORT).read_text()
    assert 'id="breakouts"' not in before and 'href="#breakouts"' not in before
    assert main([str(spec), "--out", str(folder)]) == 0
    assert f"report: {folder / REPORT}" in capsys.readouterr().out
    page = (folder / REPORT).read_text()
    assert 'href="#breakouts"' in page
    section = page[page.index('<section id="breakouts">'):]
    assert "08:30-08:45" in section and 'src="data:image/png;base64,' in section
    assert "Content-Security-Policy" in page and "img-src data:" in page


def test_a_damaged_stats_file_is_noted_and_left_out(results):
    folder = results
    (folder / STATS_JSON).write_text('{"definitions": 3}')
    page = write_report(folder).read_text()
    assert 'id="breakouts"' not in page
    assert "stats.json could not be read (ValueError: not breakout statistics" in page


@pytest.mark.parametrize(("args", "match"), [
    (["--after-minutes", "0"], r"^error: --after-minutes: 0 is not a whole number of minutes"),
    (["--out", "{spec}"], r"^error: .*orb\.yaml: is not a folder; --out names a folder"),
])
def test_a_mistake_is_one_error_line(spec, capsys, args, match):
    code = main([str(spec), *(a.replace("{spec}", str(spec)) for a in args)])
    err = capsys.readouterr().err
    assert code in (2, 3) and len(err.splitlines()) == 1
    assert re.search(match, err), err


def test_a_link_where_a_stats_file_goes_is_refused(spec, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere.json").write_text("{}")
    (out / STATS_JSON).symlink_to(tmp_path / "elsewhere.json")
    assert main([str(spec), "--json", "--out", str(out)]) == 2
    assert "stats.json: is a symbolic link, not a file" in capsys.readouterr().err
    assert (tmp_path / "elsewhere.json").read_text() == "{}"


@pytest.mark.slow
def test_the_module_and_the_cli_entry_run_the_command(spec):
    for command in (["-m", "research.stats"], ["-m", "research.cli", "stats"]):
        done = subprocess.run([sys.executable, *command, str(spec), "--json"], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert len(done.stdout.splitlines()) == 3


def test_statistics_of_another_instrument_are_left_out(spec, results, capsys):
    spec.write_text(SPEC.replace("ES", "NQ"))
    assert main([str(spec), "--out", str(results)]) == 0
    page = (results / REPORT).read_text()
    assert 'id="breakouts"' not in page
    assert "stats.json holds statistics of &#x27;NQ&#x27; bars, not of this sweep&#x27;s " \
           "&#x27;ES&#x27;" in page


def test_a_data_path_is_read_as_the_sweep_reads_it(tmp_path):
    """The same bars from a vendor file (found next to the spec) give the same statistics as
    the built-in synthetic ones."""
    canonical_csv(synthetic_bars("ES", "2024-03-04", "2024-03-08", seed=3), tmp_path / "es.csv")
    base = {"instrument": "ES", "range_start": "08:30", "range_minutes": 15}
    from_file = breakout_stats(
        _write(tmp_path / "f.yaml", {"base": base, "data": {"path": "es.csv"}}))
    built_in = breakout_stats({"base": base, "data": {"synthetic": {
        "start": "2024-03-04", "end": "2024-03-08", "seed": 3}}})
    pd.testing.assert_frame_equal(from_file.table, built_in.table)
    assert from_file.data_label == "es.csv" and built_in.data_label == "synthetic ES (seed 3)"


def _write(path: Path, spec: dict) -> Path:
    path.write_text(json.dumps(spec))  # JSON is YAML
    return path
