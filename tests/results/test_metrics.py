import math

import numpy as np
import pandas as pd
import pytest

from research.engine.codes import NO_TRADE, RESULT_NAMES
from research.results.metrics import (
    _RESULT_COUNTS,
    INT_COLUMNS,
    METRIC_COLUMNS,
    ComboRows,
    _result_codes,
    combo_metrics,
    grouped_metrics,
)


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
    assert all(isinstance(m[k], int) for k in INT_COLUMNS)
    assert all(isinstance(m[k], float) for k in METRIC_COLUMNS if k not in INT_COLUMNS)


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


def dollar_frame(days, nets, results=None, costs=None):
    """One row per (date, net $); gross = net + costs."""
    n = len(nets)
    results = results or ["Win" if v > 0 else "Loss" if v < 0 else "BE" for v in nets]
    costs = costs if costs is not None else [0.0] * n
    return pd.DataFrame({
        "date": pd.to_datetime(days), "result": results, "profit": [0.0] * n,
        "peak": [0.0] * n, "net_usd": nets, "costs_usd": costs,
        "gross_usd": [v + c for v, c in zip(nets, costs, strict=True)]})


def test_dollar_metrics_by_hand():
    # Four trading dates; two trades on the 3rd; nothing on the 4th.
    dates = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
    f = dollar_frame(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-04"],
                     [100.0, -250.0, 50.0, -25.0], costs=[4.5, 4.5, 4.5, 4.5])
    m = combo_metrics(f, dates)
    assert (m["net_profit_usd"], m["costs_usd"], m["gross_profit_usd"]) == (-125.0, 18.0, -107.0)
    assert m["avg_trade_usd"] == -31.25
    assert m["profit_factor_usd"] == round(150 / 275, 10)
    # daily: 100, -250, 25, 0; equity 100, -150, -125, -125: peak 100, so 3 dates under it
    assert (m["best_day_usd"], m["worst_day_usd"]) == (100.0, -250.0)
    assert m["max_drawdown_usd"] == 250.0 and m["max_drawdown_days"] == 3
    daily = np.array([100.0, -250.0, 25.0, 0.0])
    mean, sd = daily.mean(), daily.std(ddof=1)
    assert m["sharpe"] == round(mean / sd * math.sqrt(252), 10)
    downside = math.sqrt((250.0 ** 2) / 4)
    assert m["sortino"] == round(mean / downside * math.sqrt(252), 10)
    assert m["trades_per_year"] == round(4 / 4 * 252, 10)


def test_sharpe_and_sortino_conventions():
    dates = pd.to_datetime(["2024-01-02", "2024-01-03"])
    flat = combo_metrics(dollar_frame(["2024-01-02", "2024-01-03"], [10.0, 10.0]), dates)
    assert flat["sharpe"] == 0.0 and math.isinf(flat["sortino"])  # constant: no Sharpe
    nothing = combo_metrics(dollar_frame([], []).astype({"date": "datetime64[ns]"}), dates)
    assert (nothing["sharpe"], nothing["sortino"], nothing["max_drawdown_days"]) == (0.0, 0.0, 0)
    one_date = combo_metrics(dollar_frame(["2024-01-02"], [5.0]))
    assert one_date["sharpe"] == 0.0  # fewer than two dates


def test_the_daily_series_sums_to_the_net_profit():
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2024-01-01", periods=60)
    pick = np.sort(rng.choice(60, 90))
    nets = list(np.round(rng.normal(0, 200, 90), 2))
    f = dollar_frame(list(days[pick]), nets)
    rows = ComboRows(np.array([0, 90]), _result_codes(f["result"]).astype(np.int8),
                     f["profit"].to_numpy(), f["peak"].to_numpy(),
                     np.rint(f["gross_usd"].to_numpy() * 100).astype(np.int64),
                     np.zeros(90, np.int64),
                     np.rint(f["net_usd"].to_numpy() * 100).astype(np.int64), pick.astype(np.int64))
    columns, daily = grouped_metrics(rows, 60)
    assert daily.shape == (1, 60) and daily.sum() == round(sum(nets) * 100)
    assert columns["net_profit_usd"][0] == round(daily.sum() / 100, 10)
    assert columns["best_day_usd"][0] == daily.max() / 100


def test_grouped_metrics_equal_one_combo_at_a_time():
    rng = np.random.default_rng(5)
    frames = []
    for _ in range(4):
        n = int(rng.integers(0, 30))
        frames.append(dollar_frame(list(pd.bdate_range("2024-03-01", periods=n)),
                                   list(np.round(rng.normal(0, 50, n), 2))))
    dates = pd.bdate_range("2024-03-01", periods=30)
    one_by_one = [combo_metrics(f, dates) for f in frames]
    together = pd.concat(frames, ignore_index=True)
    starts = np.cumsum([0] + [len(f) for f in frames])
    rows = ComboRows(starts, _result_codes(together["result"]).astype(np.int8),
                     together["profit"].to_numpy(), together["peak"].to_numpy(),
                     np.rint(together["gross_usd"].to_numpy() * 100).astype(np.int64),
                     np.rint(together["costs_usd"].to_numpy() * 100).astype(np.int64),
                     np.rint(together["net_usd"].to_numpy() * 100).astype(np.int64),
                     np.searchsorted(dates.asi8, pd.DatetimeIndex(together["date"]).asi8))
    columns, _ = grouped_metrics(rows, len(dates))
    assert [{k: columns[k][c] for k in METRIC_COLUMNS} for c in range(4)] == one_by_one
