"""The analysis at the end of a sweep: on by default, set or turned off by the spec's
``analysis:`` section, on demand from Python and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from research import ResearchRunner, synthetic_bars
from research.errors import SpecError
from research.spec.grid import spec_from_dict
from tests.analysis_helpers import engine_daily
from tests.helpers import cli

GRID = {"slot": ["07:30", "09:30", "10:30"], "target": [10, 15]}
ANALYSIS = {"train": 60, "test": 20, "blocks": 4, "bootstrap_reps": 200}


@pytest.fixture(scope="module")
def half_year():
    return synthetic_bars("ES", "2024-01-01", "2024-06-30", seed=7)


@pytest.fixture(scope="module")
def sweep(half_year, tmp_path_factory):
    spec = spec_from_dict({"name": "robust", "base": {"instrument": "ES"}, "grid": GRID,
                           "analysis": ANALYSIS}, data_required=False)
    runner = ResearchRunner(data=half_year, results_dir=tmp_path_factory.mktemp("robust"),
                            backend="sequential", progress=False)
    return runner.run_spec(spec)


def test_a_sweep_ends_with_its_robustness(sweep):
    robustness = json.loads((sweep.path / "robustness.json").read_text())
    assert robustness["n_trials"] == 6 and robustness["walk_forward"]["train"] == 60
    assert robustness["cscv"]["blocks"] == 4
    stats = pd.read_parquet(sweep.path / "combo_stats.parquet")
    assert list(stats["combo_id"]) == list(sweep.summary["combo_id"])
    analysis = sweep.manifest["analysis"]
    assert analysis["status"] == "done" and analysis["verdict"] == robustness["verdict"]


def test_the_sweeps_daily_matrix_is_the_one_the_analysis_tests_build(sweep, half_year):
    daily, _, _ = engine_daily(half_year, slots=GRID["slot"], targets=GRID["target"])
    stored = sweep.daily()
    assert list(stored.index) == list(daily.index)
    assert np.allclose(stored[daily.columns].to_numpy(), daily.to_numpy())


def test_robustness_on_demand_is_the_same_bytes(sweep):
    before = (sweep.path / "robustness.json").read_bytes()
    result = sweep.robustness()
    assert (sweep.path / "robustness.json").read_bytes() == before
    assert result.n_trials == 6


@pytest.mark.slow
def test_the_cli_recomputes_and_prints_the_verdict(sweep):
    proc = cli(sweep.path, "--train", 40, "--test", 20, "--blocks", 4,
               module="research.cli.analyze")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads((sweep.path / "robustness.json").read_text())["walk_forward"]["train"] == 40
    assert json.loads((sweep.path / "robustness.json").read_text())["verdict"] in out


def test_analysis_can_be_turned_off(half_year, tmp_path):
    spec = spec_from_dict({"name": "off", "base": {"instrument": "ES"}, "grid": GRID,
                           "analysis": {"enabled": False}}, data_required=False)
    sweep = ResearchRunner(data=half_year, results_dir=tmp_path, backend="sequential",
                           progress=False).run_spec(spec)
    assert not (sweep.path / "robustness.json").exists() and "analysis" not in sweep.manifest


def test_a_sweep_too_small_to_analyse_says_why(half_year, tmp_path):
    sweep = ResearchRunner(data=half_year, results_dir=tmp_path, backend="sequential",
                           progress=False).run(grid={"target": [10]}, base={"instrument": "ES"})
    analysis = sweep.manifest["analysis"]
    assert analysis["status"] == "skipped" and "combo" in analysis["reason"]
    assert sweep.manifest["status"] == "complete"


def test_a_bad_analysis_section_is_a_spec_error():
    with pytest.raises(SpecError, match=r"analysis\.blocks"):
        spec_from_dict({"name": "bad", "base": {"instrument": "ES"}, "grid": GRID,
                        "analysis": {"blocks": 5}}, data_required=False)
