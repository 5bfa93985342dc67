"""The top combos of a summary, ranked by net $ after costs (or any metric), and the
plain-text table the sweep CLI prints.

>>> import pandas as pd
>>> s = pd.DataFrame({"combo_id": ["a", "b", "c"], "net_profit_usd": [5.0, 9.0, 5.0]})
>>> list(top_combos(s, n=2)["combo_id"])
['b', 'a']
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

TOP_METRICS = ("trades", "win_rate", "net_profit_usd", "profit_factor_usd", "max_drawdown_usd",
               "sharpe")
# The fill band beside net $ (research.engine.fill_bounds), when the summary has it.
BAND_METRICS = ("net_usd_pessimistic", "net_usd_optimistic", "ambiguous_trades")
DEFAULT_RANK = "net_profit_usd"  # dollars after costs: what a combo earns
# Metrics where less is better: ranking by one puts the lowest first.
LOWER_IS_BETTER = ("max_drawdown", "max_drawdown_usd", "max_drawdown_days", "costs_usd",
                   "ambiguous_trades", "undecided_trades")
_FORMATS = {"win_rate": "{:.1%}", "net_profit_usd": "{:,.2f}", "max_drawdown_usd": "{:,.2f}",
            "net_usd_pessimistic": "{:,.2f}", "net_usd_optimistic": "{:,.2f}",
            "sharpe_pessimistic": "{:.2f}", "sharpe_optimistic": "{:.2f}",
            "profit_factor_usd": "{:.2f}", "sharpe": "{:.2f}", "total_profit": "{:.2f}",
            "profit_factor": "{:.2f}", "max_drawdown": "{:.2f}"}


def top_combos(summary: pd.DataFrame, metric: str = DEFAULT_RANK, n: int = 10) -> pd.DataFrame:
    """The `n` best rows by `metric`: highest first, lowest first for LOWER_IS_BETTER
    (drawdowns, costs); ties keep the summary's (grid) order.

    >>> summary = pd.DataFrame({"combo_id": ["a", "b", "c"], "sharpe": [0.5, 1.2, -0.3],
    ...                         "max_drawdown_usd": [900.0, 1500.0, 400.0]})
    >>> top_combos(summary, "sharpe", n=2)["combo_id"].tolist()
    ['b', 'a']
    >>> top_combos(summary, "max_drawdown_usd", n=2)["combo_id"].tolist()
    ['c', 'a']
    """
    if metric not in summary.columns:
        raise ValueError(f"rank by {metric!r}: not a summary column; have {list(summary)}")
    ranked = summary.sort_values(metric, ascending=metric in LOWER_IS_BETTER, kind="stable",
                                 na_position="last")
    return ranked.head(n).reset_index(drop=True)


def format_top(summary: pd.DataFrame, axes: Sequence[str], n: int = 10,
               by: str = DEFAULT_RANK) -> str:
    """A plain-text table of the top `n` combos by `by` (net $ after costs by default), with
    their axes and key metrics, the fill band after net $ (when the summary has it), and
    `by` itself when it is another metric."""
    if summary.empty:
        return "no finished combos"
    top = top_combos(summary, by, n)
    band = [m for m in BAND_METRICS if m in summary.columns]
    shown = [*TOP_METRICS[:3], *band, *TOP_METRICS[3:]]
    metrics = [*shown, *([by] if by not in shown else [])]
    columns = ["combo_id", *[a for a in axes if a in top.columns and a != "combo_id"],
               *metrics]
    table = top[columns].copy()
    table.insert(0, "rank", range(1, len(table) + 1))
    for name, pattern in _FORMATS.items():
        if name in table.columns:
            table[name] = [pattern.format(v) for v in table[name]]
    order = " (lowest first)" if by in LOWER_IS_BETTER else ""
    title = f"Top {len(table)} of {len(summary)} combos by {by}{order}"
    return title + "\n" + table.to_string(index=False)
