"""§1: walk-forward folds, choices and the stitched series on a tiny matrix, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from research.analysis.walkforward import fold_windows, walk_forward

DATES = pd.bdate_range("2024-01-01", periods=8, name="date")  # Mon 1 Jan .. Wed 10 Jan
# Two combos, net $ per date (rows 0..7):
TINY = np.array([[10, 0], [1, 2], [1, 2], [1, -1], [-3, 5], [2, 5], [4, -1], [4, -2]]) * 100


def run(cents, **settings):
    settings = {"train": 3, "test": 2, "step": 2, "anchored": False, "metric": "net_usd",
                **settings}
    return walk_forward(cents, DATES, ["A", "B"], lambda i: {"combo": "AB"[i]}, **settings)


def test_fold_windows_end_on_the_last_date():
    # 8 dates, train 3, test 2, step 2: 2 folds testing rows 4-5 and 6-7; row 0 unused
    rolling = fold_windows(8, 3, 2, 2, anchored=False)
    assert [(w.train_start, w.train_stop, w.test_start, w.test_stop) for w in rolling] == \
        [(1, 4, 4, 6), (3, 6, 6, 8)]
    anchored = fold_windows(8, 3, 2, 2, anchored=True)
    assert [(w.train_start, w.train_stop) for w in anchored] == [(0, 4), (0, 6)]
    # a step longer than the test window leaves untested gaps, never overlaps
    spaced = fold_windows(12, 3, 2, 4, False)
    assert [(w.test_start, w.test_stop) for w in spaced] == [(6, 8), (10, 12)]
    assert fold_windows(4, 3, 2, 2, False) == []


def test_rolling_folds_by_hand():
    # fold 1: train rows 1-3: A 3, B 3, a tie -> A (grid order); test rows 4-5: A -1
    # fold 2: train rows 3-5: A 0, B 9 -> B; test rows 6-7: B -3
    wf = run(TINY)
    assert [f.combo_id for f in wf.folds] == ["A", "B"]
    assert [f.params for f in wf.folds] == [{"combo": "A"}, {"combo": "B"}]
    assert [(f.train_metric, f.test_metric) for f in wf.folds] == [(3.0, -1.0), (9.0, -3.0)]
    first = wf.folds[0]
    assert (first.train_start, first.train_end, first.test_start, first.test_end) == \
        ("2024-01-02", "2024-01-04", "2024-01-05", "2024-01-08")
    assert wf.oos_daily_usd.tolist() == [-3.0, 2.0, -1.0, -2.0]
    assert list(wf.oos_daily_usd.index) == list(DATES[4:])
    assert wf.oos_net_usd == -4.0
    # stitched -3 2 -1 -2: mean -1, sd √(14/3); t = mean / (sd / √4)
    daily_sharpe = -1 / math.sqrt(14 / 3)
    assert wf.oos_sharpe == pytest.approx(daily_sharpe * math.sqrt(252))
    assert wf.oos_tstat == pytest.approx(daily_sharpe * 2)
    # in-sample net of the chosen combos 3 + 9 = 12 over 6 dates; OOS -4 over 4 dates
    assert wf.is_net_usd == 12.0
    assert wf.wfe == pytest.approx((-4 / 4) / (12 / 6))
    assert (wf.distinct_choices, wf.choice_changes, wf.skipped) == (2, 1, None)


def test_anchored_folds_by_hand():
    # fold 1: rows 0-3: A 13, B 3 -> A; fold 2: rows 0-5: A 12, B 13 -> B
    wf = run(TINY, anchored=True)
    assert [f.combo_id for f in wf.folds] == ["A", "B"]
    assert [f.train_start for f in wf.folds] == ["2024-01-01", "2024-01-01"]
    assert wf.is_net_usd == 26.0
    assert wf.wfe == pytest.approx((-4 / 4) / (26 / 10))


def test_wfe_is_undefined_when_the_in_sample_net_is_not_positive():
    losing = np.array([[0, 0], [-1, -2], [-1, -2], [-1, -3], [1, 0], [1, 0], [-1, -1],
                       [-2, -5]]) * 100
    # fold 1: rows 1-3: A -3, B -7 -> A; fold 2: rows 3-5: A 1, B -3 -> A; IS net -3 + 1
    wf = run(losing)
    assert [f.combo_id for f in wf.folds] == ["A", "A"]
    assert (wf.is_net_usd, wf.oos_net_usd) == (-2.0, 2.0 - 3.0)
    assert wf.wfe is None
    assert wf.wfe_note == "undefined: the chosen combos' in-sample net is -$2.00 (<= 0)"
    assert (wf.distinct_choices, wf.choice_changes) == (1, 0)


def test_too_few_dates_skip_the_walk_forward_with_a_reason():
    wf = run(TINY, train=6, test=3)
    assert wf.folds == () and wf.oos_net_usd is None and wf.wfe is None
    assert wf.skipped == "the data have 8 trading dates, fewer than train + test = 9"
    assert wf.to_dict()["folds"] == [] and wf.to_dict()["oos_dates"] == 0


def test_sharpe_selection_ties_go_to_the_first_combo():
    same = np.repeat(np.array([[1], [-2], [3], [1], [2], [0], [1], [1]]) * 100, 2, axis=1)
    wf = run(same, metric="sharpe")
    assert [f.combo_id for f in wf.folds] == ["A", "A"]
