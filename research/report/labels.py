"""What each metric is called on the page and in the PNGs, its unit and how it is written.

>>> view = METRIC_VIEWS["net_profit_usd"]
>>> view.title, view.unit, view.format(11875)
('net P&L', '$ after costs', '11,875.00')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from research.report.format import count, pct, points, ratio, usd


@dataclass(frozen=True, slots=True)
class MetricView:
    """A summary column as a reader sees it: `title`, `unit` and `format`ter."""

    column: str
    title: str
    unit: str
    format: Callable[[object], str]

    @property
    def label(self) -> str:
        """Title and unit together, for an axis or a colour bar: 'net P&L ($ after costs)'."""
        return f"{self.title} ({self.unit})"


METRIC_VIEWS: dict[str, MetricView] = {view.column: view for view in (
    MetricView("net_profit_usd", "net P&L", "$ after costs", usd),
    MetricView("total_profit", "gross P&L", "points", points),
    MetricView("sharpe", "Sharpe", "annualised, daily net $", ratio),
    MetricView("gross_profit_usd", "gross P&L", "$ before costs", usd),
    MetricView("costs_usd", "costs", "$", usd),
    MetricView("avg_trade_usd", "average trade", "$ after costs", usd),
    MetricView("max_drawdown_usd", "max drawdown", "$", usd),
    MetricView("max_drawdown", "max drawdown", "points", points),
    MetricView("profit_factor_usd", "profit factor", "net $ wins / losses", ratio),
    MetricView("profit_factor", "profit factor", "points", ratio),
    MetricView("sortino", "Sortino", "annualised", ratio),
    MetricView("win_rate", "win rate", "share of trades", pct),
    MetricView("trades", "trades", "count", count),
)}
# Heatmaps colour a signed metric on a scale centred on zero: these are the selectable ones,
# net $ first (the default).
HEATMAP_METRICS = ("net_profit_usd", "total_profit", "sharpe")


def metric_view(column: str) -> MetricView:
    """The view of `column`; a column without one is shown by its name, 2 decimals.

    >>> metric_view("avg_peak").label
    'avg_peak (as stored)'
    """
    return METRIC_VIEWS.get(column) or MetricView(column, column, "as stored", ratio)
