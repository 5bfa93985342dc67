"""The breakout statistics as the command prints them: two plain tables.

>>> from research import synthetic_bars
>>> from research.stats.breakouts import breakout_stats
>>> text = stats_text(breakout_stats({"base": {"instrument": "ES", "slot": "09:30"}},
...                                  data=synthetic_bars("ES", "2024-01-08", "2024-01-12")))
>>> print(text.splitlines()[0])
breakouts of ES on the caller's DataFrame, 2024-01-08 to 2024-01-12
"""

from __future__ import annotations

import math

import pandas as pd

from research.stats.breakouts import BreakoutStats

HEADER = ("range", "until", "days", "up", "down", "both", "neither", "up 1st", "down 1st",
          "cont.")
WIDTHS = (11, 5, 6, 6, 6, 6, 7, 6, 8, 6)


def stats_text(stats: BreakoutStats) -> str:
    """The header lines, the table per definition, and the table per volatility state.

    >>> from research import synthetic_bars
    >>> from research.stats.breakouts import breakout_stats
    >>> text = stats_text(breakout_stats({"base": {"instrument": "ES", "slot": "09:30"}},
    ...                                  data=synthetic_bars("ES", "2024-01-08", "2024-01-12")))
    >>> print(text.splitlines()[4])
    range        until    days      up    down    both  neither  up 1st  down 1st   cont.
    """
    lines = [f"breakouts of {stats.instrument} on {stats.data_label}, {stats.first_date} to "
             f"{stats.last_date}",
             "days: trade dates with a bar in the range; a side breaks when a bar trades one "
             "tick beyond the range by 'until'",
             "cont.: of the days whose first break was one side's, the share whose close "
             f"{stats.after_minutes} minutes later is beyond the break level", ""]
    lines += _table(stats.table, with_state=False)
    lines += ["", f"by volatility state: terciles of the prior {stats.lookback_days} days' mean "
              f"range ({stats.classified_days:,} dates classified; the first "
              f"{stats.lookback_days} are not)", ""]
    lines += _table(stats.by_volatility, with_state=True)
    return "\n".join(lines)


def _table(frame: pd.DataFrame, *, with_state: bool) -> list[str]:
    header = [*HEADER[:2], *(("vol.",) if with_state else ()), *HEADER[2:]]
    widths = [*WIDTHS[:2], *((4,) if with_state else ()), *WIDTHS[2:]]
    lines = [_line(header, widths)]
    for row in frame.itertuples(index=False):
        cells = [f"{row.range_start}-{row.range_end}", row.trade_until,
                 *((row.volatility,) if with_state else ()), f"{row.days:,}",
                 *(_percent(getattr(row, name)) for name in
                   ("up", "down", "both", "neither", "up_first", "down_first", "continuation"))]
        lines.append(_line(cells, widths))
    return lines


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(f"{cell:<{width}}" if i < 2 else f"{cell:>{width}}"
                     for i, (cell, width) in enumerate(zip(cells, widths, strict=True))).rstrip()


def _percent(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{100 * value:.1f}%"
