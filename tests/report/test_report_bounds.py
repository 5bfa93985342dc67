"""Bounded, strict report pages (issue 19): the CSP allows only the page's one script, by its
sha256; the rank scatter of a large grid is sampled, and the page says so."""

from __future__ import annotations

import base64
import hashlib
import re

import numpy as np
import pandas as pd

from research.report.html import build_report
from research.report.page_robust import MAX_SCATTER_POINTS, overfitting_section, scatter_sample
from research.report.results_folder import ReportInputs


def inputs(combos: int, dates: int = 40) -> ReportInputs:
    rng = np.random.default_rng(1)
    ids = [f"c{i:05d}" for i in range(combos)]
    summary = pd.DataFrame({"combo_id": ids, "target": np.arange(combos) % 7 + 1,
                            "trades": 5, "net_profit_usd": rng.normal(0, 100, combos)})
    daily = pd.DataFrame(rng.normal(0, 50, (dates, combos)), columns=pd.Index(ids),
                         index=pd.bdate_range("2024-01-02", periods=dates, name="date"))
    return ReportInputs.from_frames(summary, ["target"], daily)


def test_the_csp_names_the_one_script_by_its_sha256_and_no_unsafe_inline_script():
    page = build_report(inputs(5))
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 1 and "<script" not in page.replace("<script>", "", 1)
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    script_src = re.search(r"script-src ([^;]+);", policy).group(1)
    assert script_src == f"'sha256-{digest}'"
    assert "default-src 'none'" in policy and "unsafe-inline" not in script_src


def test_a_small_grid_draws_every_combo_and_says_nothing_of_sampling():
    html = overfitting_section(inputs(30))
    assert html.count("<circle") == 30 and "Drawn:" not in html


def test_a_large_grid_draws_a_sample_and_says_so():
    big = inputs(MAX_SCATTER_POINTS * 3)
    html = overfitting_section(big)
    assert html.count("<circle") == MAX_SCATTER_POINTS
    assert (f"Drawn: {MAX_SCATTER_POINTS:,} of {MAX_SCATTER_POINTS * 3:,} combos, evenly spread "
            "over the first-half ranks (and the in-sample best); the correlation is over all."
            ) in html


def test_the_sample_spans_the_ranks_evenly_and_keeps_the_best():
    ranks = np.random.default_rng(2).permutation(10_000).astype(float) + 1
    shown = scatter_sample(ranks, 100, keep=1234)
    assert len(shown) == 100 and 1234 in shown and len(set(shown)) == 100
    picked = np.sort(ranks[shown[shown != 1234]])
    assert picked[0] == 1 and picked[-1] == 10_000  # both ends of the ranking
    gaps = np.diff(picked)
    assert gaps.max() - gaps.min() <= 2  # evenly spaced in rank
    assert scatter_sample(ranks[:50], 100, keep=3).tolist() == list(range(50))
