"""`research-stats --out DIR`: stats.json, stats.csv and stats.png, each written atomically
and never through a link (research/results/atomic.py, safe_files.py); their layout is
research/report/breakouts.py's, which reads them back for the report.

>>> import tempfile
>>> from research import synthetic_bars
>>> from research.stats.breakouts import breakout_stats
>>> stats = breakout_stats({"base": {"instrument": "ES", "slot": "09:30"}},
...                        data=synthetic_bars("ES", "2024-01-08", "2024-01-12"))
>>> [path.name for path in write_stats(stats, Path(tempfile.mkdtemp()) / "out")]
['stats.json', 'stats.csv', 'stats.png']
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from research.errors import UnsafeFileError, shorten
from research.report.breakouts import STATS_CSV, STATS_JSON, STATS_PNG, Breakouts, breakouts_png
from research.report.breakouts import rows_of as breakout_rows
from research.results.atomic import atomic_write, write_json
from research.results.safe_files import folder_or_absent
from research.stats.breakouts import BreakoutStats


def write_stats(stats: BreakoutStats, folder: Path) -> list[Path]:
    """Write the three files into `folder` (made if missing; a link there is refused).

    See the module for an example.
    """
    folder = Path(folder)
    try:
        there = folder_or_absent(folder)
    except UnsafeFileError:  # a file or a link where the folder should be: never followed
        raise UnsafeFileError(f"{shorten(str(folder), 120)[1:-1]}: is not a folder; --out "
                              "names a folder for stats.json, stats.csv and stats.png (made "
                              "if missing)") from None
    if not there:
        folder.mkdir(parents=True)
    records = stats.records()
    write_json({"facts": stats.facts(), "definitions": records}, folder / STATS_JSON)
    with atomic_write(folder / STATS_CSV) as handle:
        handle.write(stats_csv(stats).encode("utf-8"))
    with atomic_write(folder / STATS_PNG) as handle:
        handle.write(breakouts_png(Breakouts(stats.facts(), breakout_rows(records))))
    return [folder / name for name in (STATS_JSON, STATS_CSV, STATS_PNG)]


def stats_csv(stats: BreakoutStats) -> str:
    """One row per definition and volatility state: ``all`` (every counted day), then low,
    mid, high; shares to 6 decimals.

    >>> from research import synthetic_bars
    >>> from research.stats.breakouts import breakout_stats
    >>> text = stats_csv(breakout_stats({"base": {"instrument": "ES", "slot": "09:30"}},
    ...     data=synthetic_bars("ES", "2024-01-08", "2024-01-12")))
    >>> text.splitlines()[0][:44], len(text.splitlines())
    ('range_start,range_end,trade_until,volatility', 5)
    """
    overall = stats.table.assign(volatility="all")
    frame = pd.concat([overall[stats.by_volatility.columns], stats.by_volatility])
    order = {name: i for i, name in enumerate(("all", "low", "mid", "high"))}
    frame = frame.assign(_order=frame["volatility"].map(order),
                         _definition=frame.groupby(["range_start", "range_end", "trade_until"],
                                                   sort=False).ngroup())
    frame = frame.sort_values(["_definition", "_order"], kind="stable")
    out = io.StringIO()
    frame.drop(columns=["_order", "_definition"]).to_csv(out, index=False, float_format="%.6f",
                                                         lineterminator="\n")
    return out.getvalue()
