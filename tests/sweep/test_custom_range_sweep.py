"""A sweep over your own ranges (issue 20): tasks that pack several range keys give every
combo the rows run_strategy gives it alone, and the plan packs small keys only."""

from __future__ import annotations

import pytest

from research import RunParams, run_strategy, synthetic_bars
from research.engine.ranges import RangeRules
from research.plan import plan_tasks
from research.research_runner import ResearchRunner
from research.spec.grid import load_spec, spec_from_dict
from tests.helpers import ROOT

GRID = {"range_minutes": [5, 30], "entry": ["stop", "close_confirm"],
        "max_entries_per_day": [1, 2]}
BASE = {"instrument": "ES", "range_start": "08:30", "risk_fraction": 0.02,
        "equity_usd": 50_000, "commission": 2.5, "target_r": 2}


@pytest.fixture(scope="module")
def fortnight():
    return synthetic_bars("ES", "2024-03-04", "2024-03-15", seed=5)


def test_a_sweep_of_custom_ranges_gives_run_strategys_rows(fortnight, tmp_path):
    sweep = ResearchRunner(data=fortnight, results_dir=tmp_path, backend="sequential",
                           progress=False, analysis=False, report=False).run(
        grid=GRID, base=BASE, name="own")
    assert sweep.manifest["budget"]["tasks"] == 1  # four range keys packed into one task
    spec = spec_from_dict({"name": "own", "base": BASE, "grid": GRID}, data_required=False)
    for rp in spec.combos():  # one combo's rows: its own labels, as run_strategy's frame
        rows = sweep.trades(rp.combo_id).drop(columns="combo_id")
        expected = run_strategy(fortnight, rp)
        assert len(expected) > 0
        assert rows.reset_index(drop=True).equals(expected), rp


def test_the_plan_packs_whole_small_keys_and_cuts_large_ones():
    combos = [RunParams(instrument="ES", range_start="08:30", range_minutes=m, target=t)
              for m in (5, 15, 30) for t in (10, 15)]
    tasks = plan_tasks(combos, processes=1, batch_size=4)
    keys = [[RangeRules.from_params(rp).custom_range for rp in task.combos] for task in tasks]
    assert [len(k) for k in keys] == [4, 2]  # two whole keys of 2, then the third
    assert all(len(task.groups()) == len({*k}) for task, k in zip(tasks, keys, strict=True))
    cut = plan_tasks(combos[:2] * 1, processes=1, batch_size=1)
    assert [len(t.combos) for t in cut] == [1, 1]


def test_the_orb_0830_spec_is_valid_and_sweeps_the_range():
    spec = load_spec(ROOT / "sweeps" / "orb_0830.yaml")
    assert spec.size == 18
    labels = {RangeRules.from_params(rp).custom_range for rp in spec.combos()}
    assert labels == {(510, 515), (510, 525), (510, 540)}
