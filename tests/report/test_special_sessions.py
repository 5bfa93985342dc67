"""The report marks trades on the CME calendar's special sessions (issue 22)."""

from __future__ import annotations

import pandas as pd

from research.report.page_closeup import _special_sessions


def trades(special: list[str], results: list[str]) -> pd.DataFrame:
    n = len(special)
    return pd.DataFrame({"combo_id": ["a"] * n,
                         "date": pd.to_datetime(["2024-11-27", "2024-11-29", "2025-01-09"][:n]),
                         "slot": ["09:30"] * n, "result": results,
                         "net_usd": [100.0, -250.5, 40.0][:n], "special_session": special})


def test_special_session_trades_are_listed_apart():
    html = _special_sessions(trades(["", "Day after Thanksgiving", "National Day of Mourning"],
                                    ["Win", "Loss", "NoTrade"]))
    assert "<h4>Trades on special sessions (1)</h4>" in html
    assert "<td>2024-11-29 09:30</td><td>Day after Thanksgiving</td><td>Loss</td>" in html
    assert "2024-11-27" not in html and "National Day of Mourning" not in html  # NoTrade


def test_nothing_without_special_sessions_or_the_column():
    assert _special_sessions(trades(["", ""], ["Win", "Loss"])) == ""
    assert _special_sessions(trades(["", ""], ["Win", "Loss"]).drop(
        columns="special_session")) == ""
