"""The trial ledger: every distinct combo tried on the same data, across sweeps; append-only,
safe with two writers, a torn last line tolerated; the N it gives reaches the analysis."""

from __future__ import annotations

import json
import multiprocessing

import numpy as np
import pytest

from research.analysis import AnalysisConfig, analyze_folder
from research.analysis.ledger import LEDGER, count_trials, ledger_path, record_trials
from research.errors import SpecError
from research.results.store import MANIFEST
from tests.analysis_helpers import write_results_folder


def test_a_sub_grid_adds_nothing_and_a_new_axis_value_adds_its_combos(tmp_path):
    path = tmp_path / LEDGER
    grid = [f"t{target}-s{slot}" for target in (10, 15, 20) for slot in ("a", "b")]
    assert record_trials(path, "fp", grid, "first") == 6
    assert record_trials(path, "fp", grid[:3], "sub-grid") == 6
    with_25 = grid + [f"t25-s{slot}" for slot in ("a", "b")]
    assert record_trials(path, "fp", with_25, "new value") == 8
    assert len(path.read_text().splitlines()) == 8  # append-only: one line per new combo
    assert count_trials(path, "fp") == 8 and count_trials(path, "other") == 0


def test_a_torn_last_line_is_skipped_and_closed_before_the_next_append(tmp_path):
    path = tmp_path / LEDGER
    record_trials(path, "fp", ["a", "b"], "first")
    with path.open("a") as handle:
        handle.write('{"data":"fp","combo_id":"c","swe')  # a writer killed mid-line
    assert count_trials(path, "fp") == 2
    assert record_trials(path, "fp", ["c", "d"], "second") == 4
    lines = path.read_text().splitlines()
    assert [json.loads(line)["combo_id"] for line in lines[-2:]] == ["c", "d"]


def _writer(args):
    path, start = args
    total = 0
    for i in range(start, start + 40):
        total = record_trials(path, "fp", [f"c{i}", f"c{i + 1}"], f"w{start}")
    return total


@pytest.mark.slow
def test_two_writers_at_once_lose_and_duplicate_nothing(tmp_path):
    path = tmp_path / LEDGER
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_writer, [(path, 0), (path, 20)])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    ids = [line["combo_id"] for line in lines]
    assert sorted(ids) == sorted({f"c{i}" for i in range(61)}) and len(ids) == 61


def test_ledger_paths_and_the_setting(tmp_path):
    assert ledger_path(tmp_path, None) == tmp_path / LEDGER
    assert ledger_path(tmp_path, "shared/all.jsonl") == tmp_path / "shared" / "all.jsonl"
    assert ledger_path(tmp_path, "OFF") is None
    with pytest.raises(SpecError, match=r"^analysis\.ledger: 3 is not a file path or 'off'$"):
        AnalysisConfig.from_mapping({"ledger": 3})
    with pytest.raises(SpecError, match=r"^analysis\.trials: 'all' is not one of ledger, "
                                        r"sweep, effective$"):
        AnalysisConfig.from_mapping({"trials": "all"})
    with pytest.raises(SpecError, match=r"^analysis\.cpcv_test_groups: 10 is not below "
                                        r"cpcv_groups 10 \(training needs a group\)$"):
        AnalysisConfig.from_mapping({"cpcv_test_groups": 10})


def _folder(root, name, n_combos, fingerprint="fp-1"):
    import pandas as pd

    rng = np.random.default_rng(n_combos)
    ids = [f"c{i}" for i in range(n_combos)]
    daily = pd.DataFrame(rng.integers(-300, 300, (60, n_combos)) * 1.0, columns=ids,
                         index=pd.bdate_range("2024-01-01", periods=60, name="date"))
    params = pd.DataFrame({"k": range(n_combos)}, index=ids)
    folder = write_results_folder(root / name, daily, params, {"k": list(range(n_combos))},
                                  analysis={"train": 30, "test": 10, "blocks": 4,
                                            "bootstrap_reps": 200})
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps({**manifest, "data_fingerprint": fingerprint,
                                               "name": name}))
    return folder


def test_sweeps_in_one_results_root_share_their_tries(tmp_path):
    first = analyze_folder(_folder(tmp_path, "first", 4))
    second = analyze_folder(_folder(tmp_path, "second", 6))  # c0..c3 again, c4 and c5 new
    other = analyze_folder(_folder(tmp_path, "other-data", 3, fingerprint="fp-2"))
    assert (first.n_ledger, second.n_ledger, other.n_ledger) == (4, 6, 3)
    again = analyze_folder(tmp_path / "first")
    assert again.n_ledger == 6 and again.deflated.n_trials == 6 and again.n_trials == 4
    assert "N = 6 tries (ledger): 4 in this sweep, 6 on these data in the ledger" in \
        again.verdict
    written = json.loads((tmp_path / "first" / "robustness.json").read_text())
    assert written["trials"]["ledger"] == 6 and written["trials"]["sweep"] == 4
    off = analyze_folder(tmp_path / "first", AnalysisConfig(train=30, test=10, blocks=4,
                                                            bootstrap_reps=200, ledger="off"))
    assert off.n_ledger == 4
