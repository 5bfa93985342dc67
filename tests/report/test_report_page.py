"""report.html: written at the end of a sweep, self-contained, deterministic; every section,
with and without trades and robustness files; the numbers it derives; its CLI."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from research import ResearchRunner
from research.analysis import AnalysisConfig, analyze_folder
from research.engine.instruments import INSTRUMENTS
from research.report import ReportInputs, build_report, top_combos, write_report
from research.report.format import pvalue
from research.report.html import SECTIONS
from research.report.results_folder import FAMILY_KEYS
from research.report.series import drawdown, equity_curve, monthly_pnl
from research.report.trade_stats import CostSetting, cost_sensitivity, outcome_mix
from research.results.store import MANIFEST, REPORT, SweepStore
from research.spec.grid import spec_from_dict
from tests.helpers import ROOT, small_spec

# robustness.json's keys the report reads (results_folder.Robustness.from_json)
REPORT_READS = ("n_trials", "best_combo_id", "best_sharpe", "sr0", "dsr", "pbo", "prob_oos_loss",
                "spa_pvalue", "verdict", "walk_forward", "cscv")
GRID = {"slot": ["07:30", "10:00", "10:30"], "target": [10, 15], "t1_fraction": [0.5, 0.65]}


def run_sweep(folder, name="page", **options):
    spec = small_spec(name, **GRID)
    return ResearchRunner(results_dir=folder, backend="sequential", progress=False,
                          **options).run_spec(spec)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    return run_sweep(tmp_path_factory.mktemp("report"))


def section_of(page: str, section_id: str) -> str:
    start = page.index(f'<section id="{section_id}">')
    return page[start:page.index("</section>", start)]


def test_the_sweep_writes_its_report_with_every_section(sweep):
    page = (sweep.path / REPORT).read_text()
    assert "report_error" not in sweep.manifest
    for section_id, _ in SECTIONS:
        assert f'<section id="{section_id}">' in page
    first_row = re.search(r'<table id="combos".*?<tr data-combo="(\w+)"', page, re.S).group(1)
    assert first_row == top_combos(sweep.summary, "net_profit_usd", 1)["combo_id"][0]
    assert section_of(page, "heatmaps").count('<figure class="heatmap"') == 3  # slot drawn too
    assert section_of(page, "top-five").count('class="combo-card"') == 5


def test_the_page_is_self_contained_and_small(sweep):
    page = (sweep.path / REPORT).read_text()
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:|//)""", page, re.I)
    assert not re.search(r"<(link|script)[^>]+(href|src)=[\"'](?!data:|#)", page, re.I)
    assert "@import" not in page and not re.search(r"url\((?!data:)", page)
    assert "default-src 'none'" in page  # the browser refuses any request the page makes
    assert 20_000 < len(page.encode()) < 5_000_000


def test_the_same_folder_gives_the_same_bytes_and_no_clock(sweep, tmp_path):
    first = write_report(sweep.path, tmp_path / "a.html").read_bytes()
    again = write_report(sweep.path, tmp_path / "b.html").read_bytes()
    assert first == again == (sweep.path / REPORT).read_bytes()
    assert dt.date.today().isoformat().encode() not in first


def test_heatmaps_mark_the_best_and_colour_by_net_dollars(sweep):
    part = section_of((sweep.path / REPORT).read_text(), "heatmaps")
    shown = re.findall(r'<div class="hm" data-metric="(\w+)" data-agg="(\w+)">', part)
    assert shown == [("net_profit_usd", "median")] * 3  # one visible variant per pair
    assert part.count('class="hm"') == 3 * 9  # 3 metrics x 3 aggregates per pair
    assert part.count('class="best"') == 27
    assert "Median net P&amp;L ($ after costs) by slot and target" in part
    assert "median trades per combo" in part


def test_without_robustness_files_the_sections_say_how_to_make_them(tmp_path):
    page = (run_sweep(tmp_path, analysis=False).path / REPORT).read_text()
    hint = "robustness analysis not run (python -m research.cli.analyze RESULTS_DIR)"
    assert hint in section_of(page, "walk-forward") and hint in section_of(page, "overfitting")
    assert "In-sample vs out-of-sample rank" in section_of(page, "overfitting")


def test_with_robustness_files_every_part_renders(sweep, tmp_path):
    folder = tmp_path / "robust"
    folder.mkdir()
    for name in ("manifest.json", "summary.parquet", "daily.parquet", "trades.parquet"):
        (folder / name).write_bytes((sweep.path / name).read_bytes())
    result = analyze_folder(folder, AnalysisConfig(train=20, test=8, blocks=4))  # the real one
    written = json.loads((folder / "robustness.json").read_text())
    for key in (*REPORT_READS, *FAMILY_KEYS):  # a renamed key would leave a section empty
        assert key in written, key
    page = build_report(ReportInputs.from_folder(folder))
    wf = section_of(page, "walk-forward")
    folds = written["walk_forward"]["folds"]
    assert wf.count("<tr><td") == len(folds) == len(result.walk_forward.folds) > 0
    assert "Stitched out-of-sample equity" in wf
    over = section_of(page, "overfitting")
    assert f'<p class="verdict">{html.escape(result.verdict)}</p>' in over
    assert f"<td>SPA p-value</td><td>{pvalue(result.spa_pvalue)}</td>" in over.replace(
        ' class="num"', "")
    for label in ("N used", "SPA p-value, studentized", "StepM", "Haircut Sharpe (BHY)",
                  "CPCV median OOS Sharpe"):
        assert f"<td>{label}</td>" in over, label
    assert f"{result.n_trials:,} ({result.trials_used})" in over
    assert "histogram of logit" in over
    assert 'class="wf"' in section_of(page, "heatmaps")
    table = section_of(page, "top-table")
    assert " to " in table and "robustness analysis not run" not in table  # Sharpe intervals


def test_unreadable_robustness_files_leave_a_note_not_a_crash(sweep, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in ("manifest.json", "summary.parquet", "daily.parquet"):
        (folder / name).write_bytes((sweep.path / name).read_bytes())
    (folder / "robustness.json").write_text("{not json")
    (folder / "combo_stats.parquet").write_bytes(b"PAR1 junk")
    page = build_report(ReportInputs.from_folder(folder))
    assert "robustness.json could not be read" in page
    assert "combo_stats.parquet could not be read" in page
    assert "no trades.parquet" in section_of(page, "top-five")


def test_without_trades_the_closeup_keeps_equity_and_drops_trade_tables(tmp_path):
    sweep = run_sweep(tmp_path, name="no-trades", store_trades="none")
    part = section_of((sweep.path / REPORT).read_text(), "top-five")
    assert "no trades.parquet (this sweep ran with store_trades: none)" in part
    assert "Cost sensitivity" not in part and "Outcome mix" not in part
    assert part.count('aria-label="equity, net $') == 5


def test_equity_drawdown_and_months_agree_with_the_summary(sweep):
    daily, summary = sweep.daily(), sweep.summary.set_index("combo_id")
    for combo in summary.index[:5]:
        equity = equity_curve(daily[combo])
        assert -drawdown(equity).min() == pytest.approx(summary.at[combo, "max_drawdown_usd"])
        months = monthly_pnl(daily[combo])
        assert months["year"].sum() == pytest.approx(summary.at[combo, "net_profit_usd"])


def test_outcome_mix_and_cost_sensitivity_from_the_stored_trades(tmp_path):
    spec = spec_from_dict({
        "name": "costs", "base": {"instrument": "ES", "commission": 2.5, "contracts": 2},
        "data": {"synthetic": {"instrument": "ES", "start": "2024-03-01", "end": "2024-04-30",
                               "seed": 3}},
        "grid": {"slot": ["07:30", "10:00"], "slippage_ticks": [0, 2]}})
    sweep = ResearchRunner(results_dir=tmp_path, backend="sequential",
                           progress=False).run_spec(spec)
    tick_value = INSTRUMENTS["ES"].tick_value_cents / 100
    base = sweep.manifest["spec"]["base"]
    for record in sweep.summary.to_dict("records"):
        trades = sweep.trades(record["combo_id"])
        setting = CostSetting.of_combo(record, base)
        assert (setting.contracts, setting.commission_usd) == (2, 2.5)
        table = cost_sensitivity(trades, setting, tick_value).set_index("slippage_ticks")
        assert table.at[setting.slippage_ticks, "net_usd"] == pytest.approx(
            record["net_profit_usd"])
        assert table.at[setting.slippage_ticks, "costs_usd"] == pytest.approx(record["costs_usd"])
        assert np.allclose(np.diff(table["net_usd"]), -2 * 2 * tick_value * record["trades"])
        mix = outcome_mix(trades, "slot")
        assert mix["Win"].sum() == record["wins"] and mix["NoTrade"].sum() == record["no_trade"]
        assert outcome_mix(trades, "weekday")["total"].sum() == record["ranges"]


@pytest.mark.slow
def test_cli_writes_the_report_and_refuses_a_folder_that_is_not_results(sweep, tmp_path):
    out = tmp_path / "copy.html"
    ok = subprocess.run([sys.executable, "-m", "research.report", str(sweep.path), "--out",
                         str(out)], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and ok.stdout.strip() == f"report: {out}"
    assert out.read_bytes() == (sweep.path / REPORT).read_bytes()
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / MANIFEST).write_text(json.dumps({"status": "running"}))
    for folder, message in [(tmp_path / "nowhere", "not a folder"),
                            (tmp_path, "no manifest.json: not a sweep's results folder"),
                            (tmp_path / "half", "no summary.parquet yet (sweep status: running)")]:
        bad = subprocess.run([sys.executable, "-m", "research.report", str(folder)],
                             capture_output=True, text=True, cwd=ROOT)
        assert bad.returncode == 2, bad.stderr
        assert bad.stderr.startswith("error: ") and message in bad.stderr
        assert "Traceback" not in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_a_report_that_fails_is_recorded_and_the_results_stay(tmp_path, monkeypatch):
    def broken(folder):
        raise RuntimeError("chart bug")

    monkeypatch.setattr("research.research_runner.write_report", broken)
    sweep = run_sweep(tmp_path, name="broken-report")
    assert sweep.manifest["status"] == "complete" and len(sweep.summary) == 12
    assert sweep.manifest["report_error"] == "RuntimeError: chart bug"
    assert not (sweep.path / REPORT).exists()
    monkeypatch.undo()
    again = run_sweep(tmp_path, name="broken-report")  # resumes: nothing to run, report made
    assert (again.path / REPORT).exists() and "report_error" not in again.manifest


@pytest.mark.slow
def test_a_sweep_with_its_pictures_and_page_never_imports_matplotlib(tmp_path):
    # (the robustness analysis is left out: arch imports matplotlib when it is installed)
    code = ("import sys; from tests.report.test_report_page import run_sweep; "
            f"sweep = run_sweep({str(tmp_path)!r}, name='imports', analysis=False); "
            "print(len(list(sweep.path.glob('heatmap_*.png'))), 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.split() == ["3", "False"], out.stderr


def test_a_fresh_start_moves_the_old_report_aside(tmp_path):
    store = SweepStore(tmp_path / "x")
    store.prepare({"data_fingerprint": "data"}, {"name": "x"})
    (tmp_path / "x" / REPORT).write_text("old page")
    store.prepare({"data_fingerprint": "other data"}, {"name": "x"}, fresh=True)
    assert not (tmp_path / "x" / REPORT).exists()
    [aside] = tmp_path.glob("x.old-*")
    assert (aside / REPORT).read_text() == "old page"


def test_an_empty_summary_still_gives_a_page():
    summary = pd.DataFrame({"combo_id": pd.Series([], dtype=str), "target": [],
                            "trades": [], "net_profit_usd": []})
    page = build_report(ReportInputs.from_frames(summary, ["target"], manifest={
        "failures": [{"combo_id": "x", "error": "ValueError: bad\nmore"}]}))
    assert all(f'<section id="{sid}">' in page for sid, _ in SECTIONS)
    assert "ValueError: bad" in page and "No combo finished" in page
