"""Futures economics: point and tick values, costs, dollar rows and metrics, fill honesty."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from research import ResearchRunner, RunParams, prepare_bars, run_strategy, synthetic_bars
from research.engine.costs import CostRules
from research.engine.execution import execute_trades
from research.engine.fills import fill_check
from research.engine.instruments import INSTRUMENTS
from research.engine.pipeline import Stages
from research.errors import ParamsError
from tests.helpers import bars_from_ticks

# Dollars per point and the minimum tick, from the exchange's contract specifications:
# CME E-mini/Micro E-mini S&P 500, Nasdaq-100, Russell 2000; CBOT E-mini/Micro Dow; NYMEX
# crude oil (1,000 bbl; Micro 100) and Henry Hub natural gas (10,000 MMBtu; Micro 1,000);
# COMEX gold (100 oz; Micro 10).
CONTRACTS = {
    "ES": (50, "0.25", "12.50"), "MES": (5, "0.25", "1.25"),
    "NQ": (20, "0.25", "5.00"), "MNQ": (2, "0.25", "0.50"),
    "YM": (5, "1", "5.00"), "MYM": ("0.5", "1", "0.50"),
    "RTY": (50, "0.1", "5.00"), "M2K": (5, "0.1", "0.50"),
    "CL": (1000, "0.01", "10.00"), "MCL": (100, "0.01", "1.00"),
    "NG": (10000, "0.001", "10.00"), "MNG": (1000, "0.001", "1.00"),
    "GC": (100, "0.1", "10.00"), "MGC": (10, "0.1", "1.00"),
}


@pytest.mark.parametrize("symbol", sorted(CONTRACTS))
def test_point_and_tick_value_per_instrument(symbol):
    point, tick, tick_usd = CONTRACTS[symbol]
    spec = INSTRUMENTS[symbol]
    assert spec.point_value_usd == Decimal(str(point))
    assert spec.tick_decimal == Decimal(tick)
    assert spec.tick_value_cents == int(Decimal(tick_usd) * 100)


def test_every_tradable_instrument_has_its_contract_economics():
    assert set(INSTRUMENTS) == set(CONTRACTS)


def test_a_trade_costs_commission_and_two_slippage_fills_per_contract():
    rules = CostRules.from_params(RunParams(instrument="ES", contracts=3, commission=2.25,
                                            slippage_ticks=1))
    assert rules.round_turn_cents(INSTRUMENTS["ES"]) == 3 * (225 + 2 * 1250)


def tue(*rows, symbol="ES"):
    """Bars on Tuesday 2024-01-09: (minute of day, open, high, low, close) in points."""
    minutes, *prices = zip(*rows, strict=True)
    tick = INSTRUMENTS[symbol].tick
    ticks = [np.rint(np.array(p) / tick).astype(np.int64) for p in prices]
    return bars_from_ticks(symbol, 19731, np.array(minutes), *ticks)


def test_mes_40_tick_win_is_50_dollars_gross():
    # range 02:00-07:29 of 4800-4801; the 07:30 bar breaks out long at 4801.25; the target
    # of 10 points (40 ticks) is hit at 08:00.
    bars = tue((120, 4800, 4801, 4800, 4800.5), (449, 4800.5, 4801, 4800, 4801),
               (450, 4801, 4801.25, 4800.75, 4801.25), (480, 4805, 4811.25, 4805, 4811),
               symbol="MES")
    rp = RunParams(instrument="MES", enabled_sessions=["S1"], enabled_slots={"S1": ["07:30"]},
                   commission=0.62, slippage_ticks=1)
    row = run_strategy(bars, rp).iloc[0]
    assert (row["result"], row["gross_usd"], row["costs_usd"]) == ("Win", 50.0, 0.62 + 2.5)
    assert row["net_usd"] == 50.0 - 3.12
    assert row["profit"] == 1.0  # the points column keeps the reference's x0.1 micro scale


@pytest.mark.parametrize(("field", "value", "message"), [
    ("contracts", 0, r"contracts: 0 is not in \[1, 100000\]"),
    ("contracts", 1.5, r"contracts: 1.5 is not a whole number"),
    ("contracts", True, r"contracts: True is not a whole number"),
    ("commission", -1, r"commission: -1 is not in \[0, 100000\] dollars"),
    ("commission", 2.255, r"commission: 2.255 is not a whole number of cents"),
    ("commission", "2", r"commission: '2' is not a number of dollars"),
    ("commission", float("nan"), r"commission: nan is not a number of dollars"),
    ("slippage_ticks", -1, r"slippage_ticks: -1 is not in \[0, 10000\]"),
    ("slippage_ticks", 0.5, r"slippage_ticks: 0.5 is not a whole number"),
])
def test_cost_parameters_are_checked(field, value, message):
    with pytest.raises(ParamsError, match=message):
        RunParams(instrument="ES", **{field: value})


def test_combos_without_costs_keep_their_ids():
    # the id of the default combo as published before costs existed
    assert RunParams(instrument="ES").combo_id == "40bf88c69f1f"
    assert RunParams(instrument="ES", commission=0).combo_id == "40bf88c69f1f"
    assert RunParams(instrument="ES", commission=1).combo_id != "40bf88c69f1f"


@pytest.fixture(scope="module")
def cost_frame():
    return synthetic_bars("MES", "2024-02-01", "2024-04-30", seed=9)


@pytest.fixture(scope="module")
def cost_sweep(tmp_path_factory, cost_frame):
    runner = ResearchRunner(data=cost_frame, results_dir=tmp_path_factory.mktemp("costs"),
                            backend="sequential", progress=False, analysis=False, report=False)
    grid = {"slot": ["07:30", "10:00"], "target": [10, 20], "commission": [0, 1.24],
            "slippage_ticks": [0, 2], "contracts": [1, 3]}
    return runner.run(grid=grid, base={"instrument": "MES"}, name="costs")


def test_row_identities_on_every_trade_of_a_sweep(cost_sweep):
    trades = cost_sweep.trades()
    summary = cost_sweep.summary.set_index("combo_id")
    tick_usd = 1.25
    traded = trades["result"] != "NoTrade"
    # gross = profit ticks x tick value x contracts; profit is scaled x0.1 for micros
    contracts = trades["combo_id"].map(summary["contracts"])
    ticks = np.rint(trades["profit"] / 0.025)
    assert np.allclose(trades["gross_usd"], ticks * tick_usd * contracts)
    round_turn = contracts * (trades["combo_id"].map(summary["commission"])
                              + 2 * trades["combo_id"].map(summary["slippage_ticks"]) * tick_usd)
    assert np.allclose(trades["costs_usd"], np.where(traded, round_turn, 0.0))
    assert np.allclose(trades["net_usd"], trades["gross_usd"] - trades["costs_usd"])
    money = trades[["gross_usd", "costs_usd", "net_usd"]]
    assert (money.round(2) == money).all().all()  # each the nearest double to whole cents
    sums = trades.groupby("combo_id", observed=True)[["gross_usd", "costs_usd", "net_usd"]].sum()
    for column, metric in (("gross_usd", "gross_profit_usd"), ("costs_usd", "costs_usd"),
                           ("net_usd", "net_profit_usd")):
        assert np.allclose(sums[column], summary.loc[sums.index, metric])


def test_the_daily_matrix_sums_to_each_combos_net_and_gives_its_sharpe(cost_sweep):
    daily = cost_sweep.daily()
    summary = cost_sweep.summary.set_index("combo_id")
    assert list(daily.columns) == list(summary.index)
    assert (daily.index.day_of_week < 5).all() and daily.index.is_monotonic_increasing
    assert np.allclose(daily.sum(), summary["net_profit_usd"])
    sharpe = daily.mean() / daily.std(ddof=1) * math.sqrt(252)
    assert np.allclose(sharpe.fillna(0.0), summary["sharpe"])
    assert np.allclose(daily.max(), summary["best_day_usd"])
    costs_only = summary[summary["commission"] > 0]
    assert (costs_only["costs_usd"] > 0).all()


def test_combos_that_differ_only_in_costs_share_the_walk(tmp_path):
    calls = []

    def counting_exits(bars, table, entries, rules, as_of_ns):
        calls.append(rules)
        return execute_trades(bars, table, entries, rules, as_of_ns)

    frame = synthetic_bars("ES", "2024-03-01", "2024-03-29", seed=2)
    ResearchRunner(data=frame, results_dir=tmp_path, backend="sequential", progress=False,
                   stages=Stages(exits=counting_exits)).run(
        grid={"target": [10, 15], "commission": [0, 1, 2, 3, 4.5]},
        base={"instrument": "ES", "enabled_sessions": ["S1"],
              "enabled_slots": {"S1": ["07:30"]}}, name="walks")
    assert len(calls) == 2  # one walk per target, shared by its five commissions


def random_walk_bars(step_ticks: int, seed: int):
    """A month of ES minute bars built from a walk of 12 sub-steps per minute of up to
    `step_ticks` ticks: 1 is tick by tick, larger steps jump over levels."""
    rng = np.random.default_rng(seed)
    days = [d for d in range(19725, 19760) if (d + 3) % 7 < 5]
    minutes = np.concatenate([(d - 19725) * 1440 + np.arange(120, 960) for d in days])
    signs = rng.choice([-1, 1], size=(len(minutes), 12))  # no drift
    steps = signs * rng.integers(1, step_ticks + 1, size=(len(minutes), 12))
    path = 19_200 + np.cumsum(steps.ravel()).reshape(len(minutes), 12)
    open_ = np.concatenate([[19_200], path[:-1, -1]])
    high = np.maximum(path.max(axis=1), open_)
    low = np.minimum(path.min(axis=1), open_)
    return bars_from_ticks("ES", 19725, minutes, open_, high, low, path[:, -1])


def test_level_fills_are_honest_on_a_tick_by_tick_walk():
    check = fill_check(random_walk_bars(1, seed=1))
    assert check.breakouts.count > 100 and check.stops.count > 50
    assert abs(check.breakouts.mean_ticks) < 0.5 and abs(check.stops.mean_ticks) < 0.5
    assert check.note() is None


def test_level_fills_are_optimistic_on_coarse_steps():
    check = fill_check(random_walk_bars(6, seed=1))
    assert check.breakouts.mean_ticks > 2 and check.stops.mean_ticks > 2
    assert check.note().startswith(("breakouts close", "stops close"))
    assert "net_usd_pessimistic" in check.note() and "slippage_ticks" not in check.note()


def test_the_sweep_records_the_fill_check(cost_sweep, cost_frame):
    # the check of the sweep's own bars, with the instrument's default parameters: one
    # breakout per range the default run trades; then the winner's fill band beside it
    fills = cost_sweep.manifest["fills"]
    check = json.loads(json.dumps(fill_check(prepare_bars(cost_frame, "MES")).to_dict()))
    assert set(fills) == {"breakouts", "stops", "note", "level_note", "band", "resolve_with"}
    assert fills["breakouts"] == check["breakouts"] and fills["stops"] == check["stops"]
    assert fills["level_note"] == check["note"]
    assert fills["resolve_with"] is None and fills["band"]["combo_id"]
    default_run = run_strategy(cost_frame, RunParams(instrument="MES"))
    assert check["breakouts"]["count"] == int((default_run["result"] != "NoTrade").sum())


def test_money_columns_follow_the_legacy_columns_unchanged():
    from research.engine.results import LEGACY_COLUMNS, to_legacy

    frame = run_strategy(synthetic_bars("ES", "2024-03-04", "2024-03-08"),
                         RunParams(instrument="ES", commission=3))
    assert tuple(to_legacy(frame).columns) == LEGACY_COLUMNS
    assert pd.api.types.is_float_dtype(frame["net_usd"])
