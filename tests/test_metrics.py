import math
import time

import numpy as np
import pandas as pd
import pytest

from research.engine.codes import NO_TRADE, RESULT_NAMES
from research.metrics import _RESULT_COUNTS, METRIC_COLUMNS, _result_codes, combo_metrics


def frame(results, profits, peaks=None):
    n = len(results)
    return pd.DataFrame({
        "result": pd.Series(results, dtype="str"),
        "profit": pd.Series(profits, dtype="float64"),
        "peak": pd.Series(peaks if peaks is not None else [0.0] * n, dtype="float64"),
    })


def test_every_metric_by_hand():
    f = frame(["Win", "Loss", "NoTrade", "BE", "TIME", "Win", "OPEN", "Loss"],
              [4.0, -2.0, 0.0, 0.0, 1.5, 4.0, -0.5, -3.0],
              [5.0, 1.0, 0.0, 2.0, 2.5, 4.0, 0.5, 0.0])
    m = combo_metrics(f)
    assert tuple(m) == METRIC_COLUMNS
    assert (m["ranges"], m["trades"], m["wins"], m["be"], m["losses"], m["time"], m["open"],
            m["no_trade"]) == (8, 7, 2, 1, 2, 1, 1, 1)
    assert m["win_rate"] == round(2 / 7, 10)
    assert m["total_profit"] == 4.0
    assert m["avg_profit"] == round(4.0 / 7, 10)
    assert m["profit_factor"] == round(9.5 / 5.5, 10)
    # equity 0, 4, 2, 2, 2, 3.5, 7.5, 7, 4: worst fall is 7.5 -> 4
    assert m["max_drawdown"] == 3.5
    assert m["avg_peak"] == round(15.0 / 7, 10)
    assert all(isinstance(m[k], int) for k in METRIC_COLUMNS[:8])
    assert all(isinstance(m[k], float) for k in METRIC_COLUMNS[8:])


def test_drawdown_counts_from_zero_and_in_row_order():
    # equity 0, -1, -3, 2, -2: first trough below the start (3), then 2 -> -2 (4)
    m = combo_metrics(frame(["Loss", "Loss", "Win", "Loss"], [-1.0, -2.0, 5.0, -4.0]))
    assert m["max_drawdown"] == 4.0
    assert combo_metrics(frame(["Loss"], [-1.25]))["max_drawdown"] == 1.25
    assert combo_metrics(frame(["Win", "Win"], [1.0, 2.0]))["max_drawdown"] == 0.0


@pytest.mark.parametrize("results, profits", [([], []), (["NoTrade"] * 3, [0.0] * 3)])
def test_no_trades(results, profits):
    m = combo_metrics(frame(results, profits))
    assert m["ranges"] == len(results) and m["no_trade"] == len(results)
    assert m["trades"] == 0
    for name in ("win_rate", "total_profit", "avg_profit", "profit_factor", "max_drawdown",
                 "avg_peak"):
        assert m[name] == 0.0


def test_profit_factor_conventions():
    assert math.isinf(combo_metrics(frame(["Win", "BE"], [2.0, 0.0]))["profit_factor"])
    assert combo_metrics(frame(["BE", "BE"], [0.0, 0.0]))["profit_factor"] == 0.0
    assert combo_metrics(frame(["Loss"], [-2.0]))["profit_factor"] == 0.0


def test_rounding_hides_float_noise():
    m = combo_metrics(frame(["Win"] * 3, [0.1, 0.2, 0.3]))
    assert m["total_profit"] == 0.6
    assert str(combo_metrics(frame(["Loss", "Win"], [-0.1, 0.1]))["total_profit"]) == "0.0"


def test_accepts_object_and_categorical_labels():
    plain = combo_metrics(frame(["Win", "NoTrade", "Loss"], [1.0, 0.0, -1.0]))
    f = frame(["Win", "NoTrade", "Loss"], [1.0, 0.0, -1.0])
    assert combo_metrics(f.astype({"result": object})) == plain
    assert combo_metrics(f.astype({"result": "category"})) == plain


def test_engine_categorical_matches_plain_labels():
    results = ["Win", "NoTrade", "Loss", "BE", "TIME", "OPEN", "Win"]
    profits = [1.0, 0.0, -1.0, 0.0, 0.5, -0.25, 2.0]
    plain = combo_metrics(frame(results, profits))
    engine = frame(results, profits).astype({"result": pd.CategoricalDtype(RESULT_NAMES)})
    assert combo_metrics(engine) == plain
    # same labels, other category order: codes must not be taken as they are
    reordered = engine.astype({"result": pd.CategoricalDtype(RESULT_NAMES[::-1])})
    assert combo_metrics(reordered) == plain
    # a missing label counts like an unknown one: in ranges and trades only
    missing = engine.copy()
    missing.loc[0, "result"] = None
    m = combo_metrics(missing)
    assert (m["ranges"], m["trades"], m["wins"]) == (7, 6, plain["wins"] - 1)
    assert m == combo_metrics(missing.astype({"result": object}))


def test_result_counts_follow_the_engine_codes():
    assert list(_RESULT_COUNTS) == list(RESULT_NAMES)
    assert RESULT_NAMES[NO_TRADE] == "NoTrade" and _RESULT_COUNTS["NoTrade"] == "no_trade"
    codes = pd.Series(pd.Categorical.from_codes(range(len(RESULT_NAMES)), RESULT_NAMES))
    assert list(_result_codes(codes)) == list(range(len(RESULT_NAMES)))
    assert list(_result_codes(codes.astype(str))) == list(range(len(RESULT_NAMES)))


def test_fast_for_1800_rows():
    rng = np.random.default_rng(0)
    labels = ["NoTrade", "Win", "BE", "Loss", "TIME", "OPEN"]
    f = frame(list(rng.choice(labels, 1800)), rng.normal(size=1800), rng.random(1800))
    combo_metrics(f)
    start = time.perf_counter()
    for _ in range(50):
        combo_metrics(f)
    per_call = (time.perf_counter() - start) / 50
    assert per_call < 2e-3  # ~0.3 ms here; slack for loaded CI machines
