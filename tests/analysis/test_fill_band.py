"""The fill band of a sweep's winner in words (research.analysis.fill_band)."""

from __future__ import annotations

import pandas as pd

from research.analysis.fill_band import fill_note, pessimistic_winner_sentence, winner_band


def summary(net, pessimistic, optimistic, ambiguous):
    return pd.DataFrame({"combo_id": [f"c{i}" for i in range(len(net))], "trades": 100,
                         "net_profit_usd": net, "net_usd_pessimistic": pessimistic,
                         "net_usd_optimistic": optimistic, "ambiguous_trades": ambiguous})


def test_the_note_says_how_much_of_the_winners_net_is_at_stake():
    s = summary([500.0, 900.0], [400.0, -300.0], [600.0, 1000.0], [2, 9])
    assert fill_note(s) == ("the winner c1 nets $900.00; $1,200.00 of it (133%) rests on 9 of "
                            "its 100 trades that the minute bars cannot decide (net $ from "
                            "-$300.00 to $1,000.00)")
    assert pessimistic_winner_sentence(s) == (
        "the in-sample winner c1 is no longer the winner under pessimistic fills: c0 nets "
        "$400.00 against c1's -$300.00 when every undecided bar goes against them")


def test_a_winner_that_holds_or_decided_bars_say_so_or_nothing():
    s = summary([500.0, 900.0], [400.0, 900.0], [600.0, 900.0], [2, 0])
    assert fill_note(s) == ("the winner c1: the minute bars decide all its trades (no bar "
                            "touched two levels, no gap)")
    assert pessimistic_winner_sentence(s) is None
    assert winner_band(s.drop(columns="net_usd_pessimistic")) is None
    assert fill_note(s.iloc[:0]) is None


def test_the_verdict_says_when_pessimistic_fills_change_the_winner(tmp_path):
    # issue 21: the robustness verdict names the combo that wins with every undecided bar
    # against both, beside the in-sample winner, from the summary's band columns
    import numpy as np

    from research.analysis import AnalysisConfig, analyze_folder
    from research.results.store import SUMMARY
    from tests.analysis_helpers import write_results_folder

    dates = pd.bdate_range("2024-01-02", periods=80)
    rng = np.random.default_rng(3)
    daily = pd.DataFrame(rng.normal(0, 300, (80, 2)).round(2), index=dates, columns=["a", "b"])
    params = pd.DataFrame({"target": [10, 15]}, index=["a", "b"])
    root = write_results_folder(tmp_path / "sweep", daily, params, {"target": [10, 15]})
    band = pd.read_parquet(root / SUMMARY).assign(
        net_profit_usd=[500.0, 900.0], net_usd_pessimistic=[400.0, -300.0],
        net_usd_optimistic=[600.0, 1000.0], ambiguous_trades=[2, 9], trades=[100, 100])
    band.to_parquet(root / SUMMARY, index=False)
    verdict = analyze_folder(root, AnalysisConfig(train=40, test=20, blocks=4)).verdict
    assert ("The in-sample winner b is no longer the winner under pessimistic fills: a nets "
            "$400.00 against b's -$300.00 when every undecided bar goes against them.") in verdict
    band.drop(columns="net_usd_pessimistic").to_parquet(root / SUMMARY, index=False)
    assert "pessimistic" not in analyze_folder(root, AnalysisConfig(train=40, test=20,
                                                                    blocks=4)).verdict
