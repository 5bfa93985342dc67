"""Results folders: robustness.json and combo_stats.parquet, byte for byte; the CLI; bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from research.analysis import (
    COMBO_STATS,
    ROBUSTNESS,
    AnalysisConfig,
    AnalysisError,
    analyze,
    analyze_folder,
)
from research.analysis.combo_stats import COMBO_STATS_SCHEMA
from research.cli.analyze import main
from research.engine.synthetic import synthetic_bars
from research.results.daily import DAILY
from tests.analysis_helpers import engine_daily, write_results_folder

REQUIRED = ("n_trials", "best_combo_id", "best_sharpe", "sr0", "dsr", "pbo", "prob_oos_loss",
            "spa_pvalue", "walk_forward")
WALK_FORWARD = ("train", "test", "step", "anchored", "metric", "oos_net_usd", "oos_sharpe",
                "oos_tstat", "wfe", "distinct_choices", "folds")
FOLD = ("train_start", "train_end", "test_start", "test_end", "combo_id", "params",
        "train_metric", "test_metric")


@pytest.fixture(scope="module")
def matrix():
    frame = synthetic_bars("ES", "2024-01-01", "2024-12-31", seed=5)
    return engine_daily(frame, slots=("08:00", "09:00", "09:30", "10:00"), targets=(10, 20))


@pytest.fixture
def folder(tmp_path, matrix):
    return write_results_folder(tmp_path / "demo", *matrix, combos_failed=2)


def test_analyze_folder_writes_the_documented_layout(folder, matrix):
    result = analyze_folder(folder)
    written = json.loads((folder / ROBUSTNESS).read_text())
    assert all(key in written for key in REQUIRED)
    assert all(key in written["walk_forward"] for key in WALK_FORWARD)
    assert all(key in fold for fold in written["walk_forward"]["folds"] for key in FOLD)
    assert written["n_trials"] == 8 and written["n_failed"] == 2
    assert written["best_combo_id"] == result.best_combo_id
    assert set(written["best_params"]) == {"slot", "target"}
    assert len(written["cscv"]["logits"]) == 12_870
    assert written["verdict"] == result.verdict
    table = pq.read_table(folder / COMBO_STATS)
    assert table.schema.equals(COMBO_STATS_SCHEMA)
    assert table.column("combo_id").to_pylist() == list(matrix[0].columns)


def test_same_inputs_and_seed_give_the_same_bytes(tmp_path, matrix):
    first = write_results_folder(tmp_path / "a", *matrix)
    second = write_results_folder(tmp_path / "b", *matrix)
    analyze_folder(first)
    analyze_folder(second)
    for name in (ROBUSTNESS, COMBO_STATS):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    analyze_folder(second, AnalysisConfig(seed=1))
    assert (first / ROBUSTNESS).read_bytes() != (second / ROBUSTNESS).read_bytes()


def test_the_json_has_no_nan_and_says_why_a_number_is_missing(tmp_path, matrix):
    daily, params, axes = matrix
    losing = daily.clip(upper=0.0)  # nobody makes money: WFE's in-sample net is <= 0
    root = write_results_folder(tmp_path / "losing", losing, params, axes)
    analyze_folder(root)
    text = (root / ROBUSTNESS).read_text()
    assert "NaN" not in text and "Infinity" not in text
    walk_forward = json.loads(text)["walk_forward"]
    assert walk_forward["wfe"] is None
    assert walk_forward["wfe_note"].startswith("undefined: the chosen combos' in-sample net is")


def test_short_data_skip_the_methods_that_need_more_dates(matrix):
    daily, params, axes = matrix
    result = analyze(daily.iloc[:40], params, axes)
    assert result.walk_forward.skipped == ("the data have 40 trading dates, fewer than "
                                           "train + test = 147")
    assert result.cscv.pbo is not None and result.cscv.dropped_dates == 40 % 16
    tiny = analyze(daily.iloc[:10], params, axes)
    assert tiny.cscv.skipped == "the data have 10 trading dates, fewer than the 16 blocks"
    assert "PBO not computed" in tiny.verdict and "walk-forward skipped" in tiny.verdict
    assert tiny.to_dict()["pbo"] is None


def test_the_spec_analysis_section_is_used(tmp_path, matrix):
    root = write_results_folder(tmp_path / "spec", *matrix,
                                analysis={"train": 63, "test": 42, "blocks": 8})
    written = analyze_folder(root).to_dict()
    assert (written["walk_forward"]["train"], written["walk_forward"]["step"]) == (63, 42)
    assert written["cscv"]["splits"] == math.comb(8, 4)


def test_cli_prints_the_numbers_and_the_verdict(folder, capsys):
    assert main([str(folder), "--train", "63", "--anchored", "--blocks", "10", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "walk-forward    63/21/21 anchored" in out
    assert "252 splits of 10 blocks" in out
    assert f"wrote {ROBUSTNESS} and {COMBO_STATS}" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith(("No evidence of an edge.", "Mixed evidence.", "Evidence of an edge."))
    written = json.loads((folder / ROBUSTNESS).read_text())
    assert written["walk_forward"]["anchored"] is True and written["bootstrap"]["seed"] == 3


@pytest.mark.parametrize(("argv", "message"), [
    (["--blocks", "7"], "error: --blocks: 7 is not an even integer from 2 to 20"),
    (["--step", "5"], "error: --step: 5 is shorter than test 21"),
    (["--bootstrap-reps", "10"], "error: --bootstrap-reps: 10 is not an integer >= 100"),
])
def test_cli_bad_options_exit_2_in_one_line(folder, capsys, argv, message):
    assert main([str(folder), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_cli_folder_without_daily_matrix_says_how_to_get_it(folder, capsys):
    (folder / DAILY).unlink()
    assert main([str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder}: no daily.parquet (the daily net $ matrix)")
    assert "python -m research.sweep SPEC.yaml" in err and "Traceback" not in err


def test_cli_not_a_results_folder(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err
    (tmp_path / "bare").mkdir()
    assert main([str(tmp_path / "bare")]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def dates(n):
    return pd.bdate_range("2024-01-01", periods=n, name="date")


@pytest.mark.parametrize(("daily", "message"), [
    (pd.DataFrame({"a": np.zeros(5)}, index=dates(5)),
     r"daily: 1 combo\(s\); the analysis needs at least 2"),
    (pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 1.0]}, index=dates(2)),
     r"daily: 2 trading date\(s\); the analysis needs at least 3"),
    (pd.DataFrame({"a": [1.0, np.nan, 0.0], "b": [0.0, 1.0, 2.0]}, index=dates(3)),
     r"daily: NaN or infinite values in combo\(s\) \['a'\]"),
    (pd.DataFrame({"a": [1.0, 0.0, 0.0], "c": [0.0, 1.0, 2.0]}, index=dates(3)),
     r"params: no parameters for combo\(s\) \['c'\]"),
    (pd.DataFrame({"a": [1.0, 0.0, 0.0], "b": [0.0, 1.0, 2.0]}, index=dates(3)[::-1]),
     "daily: the dates must be unique and in order"),
])
def test_bad_inputs_are_analysis_errors(daily, message):
    params = pd.DataFrame({"target": [10, 15]}, index=["a", "b"])
    with pytest.raises(AnalysisError, match=message):
        analyze(daily, params, {"target": [10, 15]})
