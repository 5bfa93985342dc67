"""The manifest as a record (issue 19): every output listed with its size and sha256 and
checked before it is trusted; outputs of other results removed, never shown as current;
the analysis and the report recorded as steps of their own."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from research import ResearchRunner, synthetic_bars
from research.cli.analyze import main as analyze_main
from research.cli.report import main as report_main
from research.errors import ReportError
from research.outputs import Sweep
from research.report.results_folder import ReportInputs
from research.results.record import analysis_is_current
from research.results.safe_files import file_record
from research.results.store import MANIFEST, OUTPUTS
from tests.helpers import digests

GRID = {"target": [10, 15], "t1_fraction": [0.5, 0.65]}
BASE = {"instrument": "ES"}
COMPACTED = ("summary.parquet", "summary.csv", "daily.parquet", "trades.parquet")


def runner(results, **kwargs) -> ResearchRunner:
    return ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-03-29", seed=4),
                          results_dir=results, backend="sequential", progress=False, **kwargs)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """A finished sweep of 4 combos with its analysis and report (copied by each test)."""
    results = tmp_path_factory.mktemp("record")
    return runner(results).run(grid=GRID, base=BASE, name="rec").path


@pytest.fixture
def folder(analysed, tmp_path):
    copy = tmp_path / "results" / "rec"
    shutil.copytree(analysed, copy)
    return copy


def manifest(folder) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def flip_a_byte(path, at: int = -200) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_manifest_lists_every_output_with_its_size_and_sha256(folder):
    listed = manifest(folder)[OUTPUTS]
    present = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in
                     (MANIFEST, ".lock", ".reserve"))
    assert sorted(listed) == present
    assert {"robustness.json", "combo_stats.parquet", "report.html",
            *COMPACTED} <= set(listed)
    assert all(listed[name] == file_record(folder / name) for name in listed)


def test_steps_and_the_analysis_inputs_are_recorded(folder):
    record = manifest(folder)
    assert record["steps"] == {"analysis": "done", "compaction": "done", "report": "done",
                               "sweep": "complete"}
    analysis = record["analysis"]
    assert analysis["daily_sha256"] == file_record(folder / "daily.parquet")["sha256"]
    assert analysis["settings"]["train"] == 126 and analysis_is_current(record)


def test_a_resume_recomputes_a_changed_file_instead_of_carrying_it(folder, tmp_path, caplog):
    clean = digests(folder, COMPACTED)
    flip_a_byte(folder / "summary.parquet")
    with caplog.at_level(logging.WARNING):
        runner(folder.parent, analysis=False, report=False).run(grid=GRID, base=BASE,
                                                                 name="rec")
    assert ("summary.parquet's sha256 is not the manifest's: it changed after the sweep wrote "
            "it (damaged or edited); its combos will be computed again") in caplog.text
    assert digests(folder, COMPACTED) == clean


@pytest.mark.parametrize("name", ["daily.parquet", "summary.parquet", "trades.parquet"])
def test_report_refuses_a_changed_file_in_one_line(folder, capsys, name):
    flip_a_byte(folder / name)
    assert report_main([str(folder)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {folder}: {name}'s sha256 is not the manifest's: it changed after "
                   "the sweep wrote it (damaged or edited); run the sweep again (python -m "
                   "research.sweep SPEC.yaml) to rewrite it from its results\n")


def test_analyze_refuses_a_truncated_daily_matrix(folder, capsys):
    path = folder / "daily.parquet"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size // 2])
    assert analyze_main([str(folder)]) == 2
    assert capsys.readouterr().err == (f"error: {folder}: daily.parquet is {size // 2} bytes, "
                                       f"the manifest says {size}: it changed after the sweep "
                                       "wrote it; run the sweep again (python -m research.sweep "
                                       "SPEC.yaml) to rewrite it from its results\n")


def unlisted(folder) -> None:
    """The folder as an older version wrote it: no outputs listed, nothing to compare."""
    record = manifest(folder)
    del record[OUTPUTS]
    (folder / MANIFEST).write_text(json.dumps(record))


def test_damaged_files_without_a_record_are_one_line_errors(folder, capsys):
    unlisted(folder)
    path = folder / "daily.parquet"
    path.write_bytes(path.read_bytes()[:300])
    assert analyze_main([str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: cannot be read, damaged or truncated (")
    assert err.endswith("); run the sweep again to rewrite it\n") and err.count("\n") == 1
    with pytest.raises(ReportError, match=r"daily\.parquet: cannot be read, damaged or "
                                          r"truncated \(.*\); run the sweep again"):
        Sweep(folder).daily()


def test_a_truncated_trades_file_is_one_line_from_the_report(folder, capsys):
    unlisted(folder)
    path = folder / "trades.parquet"
    path.write_bytes(path.read_bytes()[:-100])
    assert report_main([str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: cannot be read, damaged or truncated (")
    assert err.count("\n") == 1


@pytest.mark.parametrize(("field", "value", "words"), [
    ("grid_size", "many", "field grid_size is str 'many', not int"),
    ("spec", ["a"], "field spec is list ['a'], not dict"),
    ("status", 3, "field status is int 3, not str"),
    ("heatmaps", True, "field heatmaps is bool True, not list")])
def test_a_mistyped_manifest_is_one_line_everywhere(folder, capsys, field, value, words):
    record = manifest(folder)
    record[field] = value
    (folder / MANIFEST).write_text(json.dumps(record))
    line = f"{folder / MANIFEST}: {words}; run the sweep again to rewrite it"
    assert report_main([str(folder)]) == 2
    assert capsys.readouterr().err == f"error: {line}\n"
    assert analyze_main([str(folder)]) == 2
    assert capsys.readouterr().err == f"error: {line}\n"
    with pytest.raises(ReportError, match=f"^{line}$".replace("[", r"\[").replace("]", r"\]")):
        Sweep(folder).manifest  # noqa: B018 - the property reads the file


def test_no_analysis_on_a_changed_grid_removes_the_old_analysis(folder):
    sweep = runner(folder.parent, analysis=False).run(grid={"target": [10, 15, 20]}, base=BASE,
                                                      name="rec")
    record = sweep.manifest
    assert not (folder / "robustness.json").exists()
    assert not (folder / "combo_stats.parquet").exists()
    assert record["analysis"] == {"status": "not run", "reason": "not asked for (--no-analysis "
                                  "or analysis.enabled false); python -m research.cli.analyze "
                                  "runs it"}
    assert "robustness.json" not in record[OUTPUTS]
    assert ReportInputs.from_folder(folder).robustness is None


def test_a_skipped_analysis_leaves_no_analysis_of_other_results(folder):
    sweep = runner(folder.parent).run(grid={"target": [10]}, base=BASE, name="rec")
    record = sweep.manifest
    assert record["steps"]["analysis"] == "skipped"
    assert record["analysis"]["status"] == "skipped"
    assert record["analysis"]["reason"] == ("daily: 1 combo(s); the analysis needs at least 2 "
                                           "to choose from")
    assert not (folder / "robustness.json").exists()


def test_heatmaps_of_an_earlier_grid_are_removed(folder):
    old = sorted(p.name for p in folder.glob("heatmap_*.png"))
    assert old == ["heatmap_target_t1_fraction_net_profit_usd.png"]
    sweep = runner(folder.parent, analysis=False, report=False).run(
        grid={"target": [10, 15], "stop_cap_multiple": [1.0, 3.0]}, base=BASE, name="rec")
    now = [p.name for p in sweep.heatmaps]
    assert now == ["heatmap_target_stop_cap_multiple_net_profit_usd.png"]
    assert sorted(n for n in sweep.manifest[OUTPUTS] if n.startswith("heatmap_")) == now
    assert not (folder / "report.html").exists()  # the earlier grid's page went too


def test_a_kill_during_the_analysis_is_visible_and_its_files_not_shown(folder, monkeypatch):
    import research.analysis as analysis

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(analysis, "analyze_folder", killed)
    with pytest.raises(KeyboardInterrupt):
        runner(folder.parent).run(grid=GRID, base=BASE, name="rec")
    record = manifest(folder)
    assert record["status"] == "complete" and record["steps"]["analysis"] == "running"
    assert "report" not in record["steps"]
    inputs = ReportInputs.from_folder(folder)
    assert inputs.robustness is None and inputs.combo_stats is None
    assert inputs.notes == ("robustness.json is not of these results (the manifest's analysis "
                            "is running): stale, left out; python -m research.cli.analyze "
                            "RESULTS_DIR analyses them",)


def test_the_analyze_command_records_its_outputs_and_step(folder, capsys):
    assert analyze_main([str(folder), "--blocks", "4"]) == 0
    capsys.readouterr()
    record = manifest(folder)
    assert record["analysis"]["settings"]["blocks"] == 4
    assert record[OUTPUTS]["robustness.json"] == file_record(folder / "robustness.json")
    assert ReportInputs.from_folder(folder).robustness is not None
