"""Breakout statistics: how often each opening range breaks, on which side, and whether the
break holds, per range definition of a spec (docs/studies.md).

    python -m research.stats sweeps/study_orb_stats.yaml        # = research-stats

>>> from research import synthetic_bars
>>> stats = breakout_stats({"base": {"instrument": "ES", "range_start": "08:30",
...                                  "range_end": "09:00"}},
...                        data=synthetic_bars("ES", "2024-01-08", "2024-01-12"))
>>> list(stats.table[["range_start", "range_end", "days"]].itertuples(index=False, name=None))
[('08:30', '09:00', 5)]
"""

from research.stats.breakouts import BreakoutStats, breakout_stats
from research.stats.definitions import RangeDefinition, check_range

__all__ = ["BreakoutStats", "RangeDefinition", "breakout_stats", "check_range"]
