"""The fill band of a sweep's winner, in words: how much of its net $ rests on bars the minute
data cannot decide, and whether it stays the winner when every such bar goes against it.

Reads the summary's band columns (research.results.metrics FILL_METRICS); a summary without
them (written before the band existed) gives None.

>>> import pandas as pd
>>> s = pd.DataFrame({"combo_id": ["a", "b"], "net_profit_usd": [1000.0, 800.0],
...                   "net_usd_pessimistic": [200.0, 700.0],
...                   "net_usd_optimistic": [1500.0, 900.0],
...                   "ambiguous_trades": [40, 5], "trades": [200, 180]})
>>> fill_note(s)[:64]
'the winner a nets $1,000.00; $800.00 of it (80%) rests on 40 of '
>>> pessimistic_winner_sentence(s)[:71]
'the in-sample winner a is no longer the winner under pessimistic fills:'
>>> print(pessimistic_winner_sentence(s)[72:])
b nets $700.00 against a's $200.00 when every undecided bar goes against them
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BAND_COLUMNS = ("net_usd_pessimistic", "net_usd_optimistic", "ambiguous_trades")
NET = "net_profit_usd"


@dataclass(frozen=True, slots=True)
class WinnerBand:
    """The winner (best net $, first in grid order on a tie) and its band."""

    combo_id: str
    net_usd: float
    pessimistic_usd: float
    optimistic_usd: float
    ambiguous_trades: int
    trades: int

    @property
    def at_stake_usd(self) -> float:
        """What the winner's net $ loses if every undecided bar went against it."""
        return self.net_usd - self.pessimistic_usd


def winner_band(summary: pd.DataFrame) -> WinnerBand | None:
    """The band of the best combo by net $, or None without a band or combos."""
    if summary.empty or NET not in summary.columns or \
            any(c not in summary.columns for c in BAND_COLUMNS):
        return None
    row = summary.iloc[int(np.argmax(summary[NET].to_numpy(np.float64)))]
    trades = int(row["trades"]) if "trades" in summary.columns else 0
    return WinnerBand(str(row["combo_id"]), float(row[NET]), float(row["net_usd_pessimistic"]),
                      float(row["net_usd_optimistic"]), int(row["ambiguous_trades"]), trades)


def fill_note(summary: pd.DataFrame) -> str | None:
    """How much of the winner's net $ is at stake in undecided bars (the fill note)."""
    band = winner_band(summary)
    if band is None:
        return None
    if band.ambiguous_trades == 0:
        return (f"the winner {band.combo_id}: the minute bars decide all its trades "
                "(no bar touched two levels, no gap)")
    share = (f" ({band.at_stake_usd / abs(band.net_usd):.0%})" if band.net_usd else "")
    return (f"the winner {band.combo_id} nets {_usd(band.net_usd)}; "
            f"{_usd(band.at_stake_usd)} of it{share} rests on {band.ambiguous_trades} of its "
            f"{band.trades} trades that the minute bars cannot decide (net $ from "
            f"{_usd(band.pessimistic_usd)} to {_usd(band.optimistic_usd)})")


def pessimistic_winner_sentence(summary: pd.DataFrame) -> str | None:
    """A sentence for the robustness verdict when another combo beats the in-sample winner
    with every undecided bar against both; None when the winner holds (or no band)."""
    band = winner_band(summary)
    if band is None:
        return None
    pessimistic = summary["net_usd_pessimistic"].to_numpy(np.float64)
    best = summary.iloc[int(np.argmax(pessimistic))]
    if str(best["combo_id"]) == band.combo_id or \
            float(best["net_usd_pessimistic"]) <= band.pessimistic_usd:
        return None
    return (f"the in-sample winner {band.combo_id} is no longer the winner under pessimistic "
            f"fills: {best['combo_id']} nets {_usd(float(best['net_usd_pessimistic']))} "
            f"against {band.combo_id}'s {_usd(band.pessimistic_usd)} when every undecided bar "
            "goes against them")


def _usd(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"
