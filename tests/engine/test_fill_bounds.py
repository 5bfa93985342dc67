"""Fill bounds: pessimistic <= reference <= optimistic, per trade and per combo, and the
cases the minute bar cannot decide (research.engine.fill_bounds)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from research.engine.codes import AMBIG_BOTH_LEVELS, AMBIG_ENTRY_BAR, AMBIG_GAP, LONG, TIME
from research.engine.data import prepare_bars
from research.engine.fill_bounds import fill_bounds
from research.engine.rules import ExitRules
from research.engine.strategy import run_strategy
from research.results.metrics import combo_metrics
from tests.helpers import random_bars, random_params

RULES = ExitRules(target_ticks=8, t1_threshold_ticks=6, stop_cap_ticks=24, time_mode=False)


@given(data=st.data())
def test_pessimistic_le_reference_le_optimistic_on_every_row_and_combo(data):
    bars = data.draw(random_bars())
    rp = data.draw(random_params(bars.instrument.symbol))
    frame = run_strategy(bars, rp, parallel=False)
    assert (frame["net_usd_pessimistic"] <= frame["net_usd"]).all()
    assert (frame["net_usd"] <= frame["net_usd_optimistic"]).all()
    # Not ambiguous: both bounds are the row; ambiguous: the bounds really differ.
    clear = ~frame["ambiguous"]
    assert (frame.loc[clear, "net_usd_pessimistic"] == frame.loc[clear, "net_usd"]).all()
    assert (frame.loc[clear, "net_usd_optimistic"] == frame.loc[clear, "net_usd"]).all()
    ambiguous = frame[frame["ambiguous"]]
    assert (ambiguous["net_usd_pessimistic"] < ambiguous["net_usd_optimistic"]).all()
    assert set(ambiguous["ambiguity"]) <= {"entry bar", "both levels", "gap"}
    metrics = combo_metrics(frame)
    assert metrics["net_usd_pessimistic"] <= metrics["net_profit_usd"]
    assert metrics["net_profit_usd"] <= metrics["net_usd_optimistic"]
    assert metrics["ambiguous_trades"] == int(frame["ambiguous"].sum())
    assert metrics["undecided_trades"] == metrics["ambiguous_trades"]  # nothing resolved


def es_bars(rows):
    """ES bars from (open, high, low, close) rows, one a minute from Tue 08:00 Chicago."""
    stamps = pd.date_range("2024-01-09 08:00", periods=len(rows), freq="min",
                           tz="America/Chicago")
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"])
    return prepare_bars(frame.assign(timestamp=stamps, instrument="ES"), "ES")


def bounds_of(rows, entry_ticks=400, stop_ticks=392):
    bars = es_bars(rows)
    return fill_bounds(bars, range(len(bars)), LONG, entry_ticks, stop_ticks, RULES,
                       end=(TIME, int(bars.close_ticks[-1])))


def test_a_bar_touching_stop_and_target_goes_both_ways():
    # The entry bar opens at the level (no pre-entry part) and stays inside; the next bar
    # touches the target (102) and the initial stop (98): either may have come first.
    b = bounds_of([(100.0, 100.5, 99.75, 100.0), (100.0, 102.0, 98.0, 100.0)])
    assert b.ambiguity == AMBIG_BOTH_LEVELS
    assert (b.worst.result, b.worst.fill_ticks) == (3, 392)  # Loss at the stop
    assert (b.best.result, b.best.fill_ticks) == (1, 408)  # Win at the target


def test_an_entry_bar_whose_low_may_predate_the_entry_is_ambiguous():
    # Opens below the level (99), trades down to the stop and up to 100.25 (the level is
    # 100): the low may have come before the entry, then the trade is still open.
    b = bounds_of([(99.0, 100.25, 97.0, 100.0), (100.0, 100.25, 99.75, 100.0)])
    assert b.ambiguity == AMBIG_ENTRY_BAR
    assert b.worst.result == 3 and b.best.result == TIME


def test_a_bar_opening_beyond_the_stop_fills_the_pessimistic_bound_at_the_open():
    b = bounds_of([(100.0, 100.5, 99.75, 100.0), (97.0, 97.5, 96.0, 97.0)])
    assert b.ambiguity == AMBIG_GAP
    assert (b.worst.result, b.worst.fill_ticks) == (3, 388)  # the open 97.00, not 98.00
    assert (b.best.result, b.best.fill_ticks) == (3, 392)


def test_a_breakout_bar_opening_beyond_the_level_enters_at_the_open_in_the_bound():
    b = bounds_of([(101.0, 101.5, 100.75, 101.0)])
    assert b.ambiguity == AMBIG_GAP and b.entry_fill_ticks == 404
    assert b.worst.fill_ticks == b.best.fill_ticks == 404  # TIME at the close


def test_the_t1_bar_touching_break_even_may_end_at_break_even():
    # T1 (6 ticks, 101.5) and the break-even stop (99.75) in one bar: the reference ignores
    # the stop there (Q5) and goes on; after T1 fired, the stop may have been hit.
    b = bounds_of([(100.0, 100.25, 100.0, 100.0), (100.0, 101.5, 99.75, 100.0),
                   (100.0, 100.25, 100.0, 100.25)])
    assert b.ambiguity == AMBIG_BOTH_LEVELS
    assert (b.worst.result, b.worst.fill_ticks) == (2, 399)  # BE one tick under entry
    assert b.best.result == TIME


def test_a_frame_without_the_band_columns_has_no_band():
    frame = pd.DataFrame({"result": ["Win", "Loss"], "profit": [2.0, -1.0],
                          "peak": [2.0, 0.5], "net_usd": [100.0, -50.0]})
    metrics = combo_metrics(frame)
    assert (metrics["ambiguous_trades"], metrics["undecided_trades"]) == (0, 0)
    assert metrics["net_usd_pessimistic"] == metrics["net_usd_optimistic"] == 50.0
    assert metrics["sharpe_pessimistic"] == metrics["sharpe_optimistic"] == metrics["sharpe"]
