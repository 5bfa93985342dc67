"""The default sweep's report.html in a real headless Chromium, from disk, network off.

Skipped, with the reason, only where Chromium and its driver cannot be found or started.
``REPORT_SCREENSHOTS=docs pytest tests/test_report_browser.py`` also saves the screenshots
the README shows (docs/report.png, docs/report-heatmaps.png).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from research.analysis import AnalysisConfig, analyze_folder
from research.analysis.walkforward import fold_windows
from research.report import ReportInputs, top_combos, write_report
from research.report.html import SECTIONS
from research.research_runner import ResearchRunner
from research.results.daily import read_daily
from research.results.store import REPORT
from research.spec.grid import load_spec
from tests import browser
from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # a real chromium

MIN_COLOURS = 200  # a blank or unstyled page has a handful


@pytest.fixture(scope="module")
def session():
    found = browser.find_browser()
    if isinstance(found, str):
        pytest.skip(found)
    try:
        driver = browser.start(*found)
    except Exception as exc:  # noqa: BLE001 - any failure to start is a reason to skip
        pytest.skip(f"chromium could not start: {str(exc).strip().splitlines()[0]}")
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def default_sweep(tmp_path_factory):
    """sweeps/grid.yaml as the README runs it (84 combos, one year of synthetic ES)."""
    spec = load_spec(os.path.relpath(ROOT / "sweeps" / "grid.yaml"))  # as the page shows it
    return ResearchRunner(results_dir=tmp_path_factory.mktemp("browser"),
                          progress=False).run_spec(spec)


def check_offline_and_clean(visit: browser.Visit) -> None:
    assert visit.console_errors == []
    outside = [u for u in visit.requests if u != visit.url and not u.startswith("data:")]
    assert outside == [] and visit.resources == []


def first_row(session) -> str:
    return session.execute_script(
        "return document.querySelector('#combos tbody tr:not([hidden])').dataset.combo")


def test_the_default_sweeps_report_in_chromium_offline(session, default_sweep):
    visit = browser.visit(session, default_sweep.path / REPORT)
    check_offline_and_clean(visit)
    best = top_combos(default_sweep.summary, "net_profit_usd", 1)["combo_id"][0]
    assert first_row(session) == best
    for section_id, _ in SECTIONS:
        assert session.find_element("id", section_id).is_displayed()
    top = browser.screenshot(session)
    heatmaps = browser.screenshot(session, "heatmaps")
    assert browser.distinct_colours(top) > MIN_COLOURS
    assert browser.distinct_colours(heatmaps) > MIN_COLOURS
    if os.environ.get("REPORT_SCREENSHOTS"):
        out = Path(os.environ["REPORT_SCREENSHOTS"])
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.png").write_bytes(top)
        (out / "report-heatmaps.png").write_bytes(heatmaps)


def test_the_page_script_sorts_filters_and_switches_heatmaps(session, default_sweep):
    browser.visit(session, default_sweep.path / REPORT)
    summary = default_sweep.summary
    session.find_element("css selector", '#combos th[data-key="net"]').click()  # ascending
    worst = summary.sort_values("net_profit_usd", kind="stable")["combo_id"].iloc[0]
    assert first_row(session) == worst
    box = session.find_element("id", "combos-filter")
    box.send_keys("slot=10:30 trades>0")
    shown = session.find_element("id", "combos-count").text
    assert shown == f"showing {int((summary['slot'] == '10:30').sum())} of {len(summary)}"
    visible = "return [...document.querySelectorAll('.hm:not([hidden])')].map(e => e.dataset.agg)"
    assert set(session.execute_script(visible)) == {"median"}
    session.execute_script("var s = document.getElementById('hm-agg'); s.value = 'max';"
                           "s.dispatchEvent(new Event('change'));")
    assert session.execute_script(visible) == ["max"] * 3


def test_robustness_sections_render_in_chromium(session, default_sweep, tmp_path):
    for name in ("manifest.json", "summary.parquet", "daily.parquet", "trades.parquet"):
        shutil.copy(default_sweep.path / name, tmp_path / name)
    analyze_folder(tmp_path)  # the analysis' real files, not a stand-in
    page = write_report(tmp_path)
    visit = browser.visit(session, page)
    check_offline_and_clean(visit)
    assert session.find_element("css selector", "#overfitting .verdict").text
    folds = len(ReportInputs.from_folder(tmp_path).robustness.walk_forward.folds)
    rows = session.find_elements("css selector", "#walk-forward table tbody tr")
    config, n_dates = AnalysisConfig(), len(read_daily(tmp_path / "daily.parquet"))
    expected = len(fold_windows(n_dates, config.train, config.test, config.step_dates,
                                config.anchored))
    assert expected >= 2 and len(rows) == folds == expected


def test_the_breakouts_section_and_its_picture_render_in_chromium(session, default_sweep,
                                                                  tmp_path):
    """research-stats --out on the sweep's folder: the section shows, its inline PNG decodes
    under the page's policy, and nothing is fetched."""
    from research.cli.stats import main as stats_main

    folder = Path(shutil.copytree(default_sweep.path, tmp_path / "default"))
    assert stats_main([str(ROOT / "sweeps" / "grid.yaml"), "--out", str(folder)]) == 0
    visit = browser.visit(session, folder / REPORT)
    check_offline_and_clean(visit)
    assert session.find_element("id", "breakouts").is_displayed()
    width = session.execute_script("return document.querySelector('#breakouts img').naturalWidth")
    assert width > 300
    rows = session.find_elements("css selector", "#breakouts table tbody tr")
    assert len(rows) == 7  # the seven reference slots of sweeps/grid.yaml
