"""Breakout statistics per range definition: the shares of days breaking up, down, both and
neither, the continuation rate, and the same split by volatility state. Descriptive: no
trades, no costs (research/stats/kernel.py says which bar counts for what).

>>> from research import synthetic_bars
>>> stats = breakout_stats({"base": {"instrument": "ES", "range_start": "08:30",
...                                  "range_minutes": 15}},
...                        data=synthetic_bars("ES", "2024-01-01", "2024-01-31"))
>>> row = stats.table.iloc[0]
>>> row["range_start"], row["range_end"], int(row["days"])
('08:30', '08:45', 22)
>>> float(round(row["up"] + row["down"] - row["both"] + row["neither"], 9))  # each day once
1.0
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from research.engine.bars import Bars
from research.engine.inputs import BarsInput
from research.errors import SpecError, shorten
from research.spec.prepared import bar_dates
from research.stats.definitions import RangeDefinition
from research.stats.kernel import (
    CONTINUED,
    DEFAULT_AFTER_MINUTES,
    DOWN_FIRST,
    NOT_ASKED,
    UP_FIRST,
    DayBreakouts,
    day_breakouts,
)
from research.stats.study import Study, StudyInput, read_study, study_bars
from research.stats.volatility import LOOKBACK_DAYS, STATE_NAMES, states_of, volatility_states

MAX_AFTER_MINUTES = 1440
DEFINITION_COLUMNS = ("range_start", "range_end", "trade_until")
# Shares of the counted days (days with a bar in the range); continuation: of the days
# whose first break was one side's (not a bar breaking both, Q1).
SHARE_COLUMNS = ("up", "down", "both", "neither", "up_first", "down_first", "continuation")
COUNT_COLUMNS = ("days", "up_days", "down_days", "both_days", "neither_days", "first_breaks",
                 "continued")
COLUMNS = (*DEFINITION_COLUMNS, "days", "up", "down", "both", "neither", "up_first",
           "down_first", "first_breaks", "continuation", "up_days", "down_days", "both_days",
           "neither_days", "continued")


@dataclass(frozen=True, slots=True, eq=False)
class BreakoutStats:
    """The statistics of one spec: `table` has one row per range definition (COLUMNS),
    `by_volatility` one per definition and state (low, mid, high) with the same columns
    and `volatility`.

    >>> from research import synthetic_bars
    >>> stats = breakout_stats({"base": {"instrument": "ES", "slot": "09:30"}},
    ...                        data=synthetic_bars("ES", "2024-01-01", "2024-03-29"))
    >>> stats.records()[0]["range_start"], sorted(stats.records()[0]["by_volatility"])
    ('08:00', ['high', 'low', 'mid'])
    """

    instrument: str
    data_label: str
    first_date: str
    last_date: str
    after_minutes: int
    definitions: tuple[RangeDefinition, ...]
    table: pd.DataFrame
    by_volatility: pd.DataFrame
    classified_days: int  # trading dates with LOOKBACK_DAYS before them
    lookback_days: int = LOOKBACK_DAYS

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready object per definition (NaN as None), its volatility split under
        ``by_volatility``: what ``--json`` prints and stats.json holds.

        >>> from research import synthetic_bars
        >>> stats = breakout_stats({"base": {"instrument": "ES", "slot": "10:00"}},
        ...                        data=synthetic_bars("ES", "2024-01-08", "2024-01-12"))
        >>> record = stats.records()[0]
        >>> record["range_end"], record["days"], record["by_volatility"]["low"]["up"]
        ('10:00', 5, None)
        """
        split = {key: group for key, group in self.by_volatility.groupby(
            list(DEFINITION_COLUMNS), sort=False)}
        out = []
        for row in self.table.to_dict("records"):
            record = _clean(row)
            group = split.get(tuple(row[c] for c in DEFINITION_COLUMNS))
            record["by_volatility"] = {} if group is None else {
                r["volatility"]: _clean({k: v for k, v in r.items()
                                         if k not in (*DEFINITION_COLUMNS, "volatility")})
                for r in group.to_dict("records")}
            out.append(record)
        return out

    def facts(self) -> dict[str, Any]:
        """What the statistics were computed on (stats.json's header).

        >>> from research import synthetic_bars
        >>> breakout_stats({"base": {"instrument": "ES", "slot": "09:30"}},
        ...     data=synthetic_bars("ES", "2024-01-02", "2024-01-02")).facts()["after_minutes"]
        30
        """
        return {"instrument": self.instrument, "data": self.data_label,
                "first_date": self.first_date, "last_date": self.last_date,
                "after_minutes": self.after_minutes, "lookback_days": self.lookback_days,
                "classified_days": self.classified_days}


def breakout_stats(spec: StudyInput, *, data: BarsInput | None = None,
                   after_minutes: int = DEFAULT_AFTER_MINUTES) -> BreakoutStats:
    """The breakout statistics of a spec file (path) or mapping, on its data (or `data`),
    the continuation read `after_minutes` after each first break (docs/studies.md says what
    each figure means).

    >>> stats = breakout_stats("sweeps/study_orb_stats.yaml")  # doctest: +SKIP
    >>> from research import synthetic_bars
    >>> stats = breakout_stats({"base": {"instrument": "ES", "range_start": "08:30",
    ...                                  "range_end": "08:35"}},
    ...                        data=synthetic_bars("ES", "2024-01-02", "2024-01-05"))
    >>> int(stats.table["days"][0]), stats.after_minutes
    (4, 30)
    """
    after_minutes = check_after_minutes(after_minutes)
    study = read_study(spec, data_required=data is None)
    bars = study_bars(study, data)
    return stats_of_bars(bars, study.definitions, trade_days=study.trade_days,
                         exchange_calendar=study.exchange_calendar, after_minutes=after_minutes,
                         data_label=_data_label(study, data))


def stats_of_bars(bars: Bars, definitions: tuple[RangeDefinition, ...], *,
                  trade_days: tuple[int, ...] = (0, 1, 2, 3, 4), exchange_calendar: bool = False,
                  after_minutes: int = DEFAULT_AFTER_MINUTES,
                  data_label: str = "bars") -> BreakoutStats:
    """`breakout_stats` on prepared bars (what the benchmark times).

    >>> from research import prepare_bars, synthetic_bars
    >>> from research.stats.definitions import check_range
    >>> bars = prepare_bars(synthetic_bars("ES", "2024-01-08", "2024-01-12"), "ES")
    >>> int(stats_of_bars(bars, (check_range("base", "08:30", "09:00"),)).table["days"][0])
    5
    """
    days = day_breakouts(bars, definitions, trade_days=trade_days,
                         exchange_calendar=exchange_calendar, after_minutes=after_minutes)
    state_days, states = volatility_states(bars)
    day_states = states_of(days.trading_day, state_days, states)
    bounds = np.searchsorted(days.definition, np.arange(len(definitions) + 1))
    rows, split = [], []
    for k, definition in enumerate(definitions):
        mine = slice(bounds[k], bounds[k + 1])  # rows are by definition, then by date
        rows.append({**_definition_columns(definition), **_shares(days, mine)})
        for code, name in STATE_NAMES.items():
            split.append({**_definition_columns(definition), "volatility": name,
                          **_shares(days, mine, day_states[mine] == code)})
    first, last = bar_dates(bars)
    return BreakoutStats(
        instrument=bars.instrument.symbol, data_label=data_label, first_date=first,
        last_date=last, after_minutes=after_minutes, definitions=tuple(definitions),
        table=pd.DataFrame(rows, columns=list(COLUMNS)),
        by_volatility=pd.DataFrame(split, columns=[*DEFINITION_COLUMNS, "volatility",
                                                   *COLUMNS[len(DEFINITION_COLUMNS):]]),
        classified_days=int((states >= 0).sum()))


def check_after_minutes(value: Any) -> int:
    """The continuation horizon, whole minutes from 1 to a day.

    >>> check_after_minutes(0)
    Traceback (most recent call last):
    ...
    research.errors.SpecError: after_minutes: 0 is not a whole number of minutes from 1 to 1440
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not 1 <= value <= MAX_AFTER_MINUTES:
        raise SpecError(f"after_minutes: {shorten(value)} is not a whole number of minutes "
                        f"from 1 to {MAX_AFTER_MINUTES}")
    return int(value)


def _definition_columns(definition: RangeDefinition) -> dict[str, str]:
    return {"range_start": definition.range_start, "range_end": definition.range_end,
            "trade_until": definition.trade_until}


def _shares(days: DayBreakouts, rows: slice,
            among: np.ndarray | None = None) -> dict[str, float | int]:
    """The counts and shares of `rows` (those `among` selects, if given; only dates with a
    range count)."""
    counted = days.has_range[rows] if among is None else days.has_range[rows] & among
    up, down = days.broke_up[rows][counted], days.broke_down[rows][counted]
    first, continued = days.first_break[rows][counted], days.continued[rows][counted]
    counts = {"days": int(counted.sum()), "up_days": int(up.sum()),
              "down_days": int(down.sum()), "both_days": int((up & down).sum()),
              "neither_days": int((~up & ~down).sum()),
              "first_breaks": int((continued != NOT_ASKED).sum()),
              "continued": int((continued == CONTINUED).sum())}
    n = counts["days"]
    shares = {"up": _ratio(counts["up_days"], n), "down": _ratio(counts["down_days"], n),
              "both": _ratio(counts["both_days"], n),
              "neither": _ratio(counts["neither_days"], n),
              "up_first": _ratio(int((first == UP_FIRST).sum()), n),
              "down_first": _ratio(int((first == DOWN_FIRST).sum()), n),
              "continuation": _ratio(counts["continued"], counts["first_breaks"])}
    return {**counts, **shares}


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else math.nan


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """numpy scalars as Python numbers and NaN as None (JSON has no NaN)."""
    out = {}
    for key, value in row.items():
        value = value.item() if isinstance(value, np.generic) else value
        out[key] = None if isinstance(value, float) and math.isnan(value) else value
    return out


def _data_label(study: Study, data: BarsInput | None) -> str:
    if data is not None:
        return str(data) if isinstance(data, (str, os.PathLike)) else \
            f"the caller's {type(data).__name__}"
    return study.data.label(study.instrument) if study.data is not None else "no data"
