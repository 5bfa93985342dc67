"""Section 2, the top table: every combo (up to MAX_ROWS), ranked by net $ after costs, with
its parameters and the numbers that say how far to trust it. The page's script sorts it by
any column (click a header) and filters it (``10:30 target=15 net>0``).

>>> import pandas as pd
>>> s = pd.DataFrame({"combo_id": ["a", "b"], "target": [10, 15], "trades": [30, 28],
...                   "net_profit_usd": [-125.0, 1250.5]})
>>> page = top_section(ReportInputs.from_frames(s, ["target"]))
>>> page.index('data-combo="b"') < page.index('data-combo="a"')
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from research.report.format import MISSING, axis_value, count, pct, points, ratio, usd
from research.report.markup import esc, note, section, sort_key
from research.report.results_folder import ANALYZE_HINT, ReportInputs
from research.report.top import DEFAULT_RANK, top_combos

MAX_ROWS = 1000
SECTION_ID = "top-table"
TABLE_ID = "combos"


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the table: header, filter key, the summary column and its formatter."""

    header: str
    key: str
    source: str
    fmt: Callable[[Any], str]
    tip: str = ""


METRIC_COLUMNS = (
    Column("trades", "trades", "trades", count, "trades taken (NoTrade rows not counted)"),
    Column("win rate", "win", "win_rate", pct, "share of trades that hit the target"),
    Column("net $", "net", "net_profit_usd", usd, "net P&L in $ after commission and slippage"),
    Column("net $ pessimistic", "netlo", "net_usd_pessimistic", usd,
           "net $ if every bar the minute data cannot decide went against the trade (gaps "
           "filled at the open)"),
    Column("net $ optimistic", "nethi", "net_usd_optimistic", usd,
           "net $ if every bar the minute data cannot decide went for the trade"),
    Column("ambiguous", "ambiguous", "ambiguous_trades", count,
           "trades the minute bars cannot decide: a bar touching stop and target, the entry "
           "bar, or a gap"),
    Column("points", "points", "total_profit", points, "gross P&L in points, before costs"),
    Column("profit factor", "pf", "profit_factor_usd", ratio, "net $ of wins / net $ of losses"),
    Column("max DD $", "dd", "max_drawdown_usd", usd, "deepest fall of daily net $ equity"),
    Column("Sharpe", "sharpe", "sharpe", ratio, "annualised, of daily net $"),
)
STAT_COLUMNS = (
    Column("Sharpe 95% CI", "ci", "sharpe_ci_low", ratio,
           "stationary-bootstrap interval of the Sharpe (robustness analysis)"),
    Column("DSR", "dsr", "dsr", ratio,
           "deflated Sharpe ratio: P(true Sharpe > best of N lucky tries)"),
    Column("plateau", "plateau", "plateau_score", ratio,
           "median metric of the combo and its grid neighbours: low for a lone spike"),
)


def _header(column: Column, numeric: bool) -> str:
    kind = "num" if numeric else "text"
    attrs = f' data-key="{esc(column.key)}" data-type="{kind}"'
    if column.tip:
        attrs += f' title="{esc(column.tip)}"'
    if numeric:
        attrs += ' class="num"'
    if column.source == DEFAULT_RANK:
        attrs += ' aria-sort="descending"'  # the order the rows come in
    return f"<th{attrs}>{esc(column.header)}</th>"


def _td(text: str, value: float | None, numeric: bool) -> str:
    cls = ' class="num"' if numeric else ""
    key = f' data-v="{sort_key(value)}"' if value is not None else ""
    return f"<td{cls}{key}>{esc(text)}</td>"


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _stat_rows(stats: pd.DataFrame | None) -> dict[Any, dict[str, Any]]:
    """combo_stats as {combo_id: {column: value}}, read once for every row (a ``.loc`` per
    row cost more than the rest of the row). A combo_id given twice has no row, as before:
    its lookup found a frame, not a row, and every cell showed the missing mark."""
    if stats is None:
        return {}
    unique = stats[~stats.index.duplicated(keep=False)]
    return unique.to_dict("index")


def _stat_cells(inputs: ReportInputs, combo_id: str,
                stat_rows: Mapping[Any, Mapping[str, Any]]) -> list[str]:
    row = stat_rows.get(combo_id)

    def get(name: str) -> float | None:
        return _number(row[name]) if row is not None and name in row else None

    low, high = get("sharpe_ci_low"), get("sharpe_ci_high")
    ci = f"{ratio(low)} to {ratio(high)}" if low is not None and high is not None else MISSING
    dsr = get("dsr")
    robust = inputs.robustness
    if dsr is None and robust is not None and robust.best_combo_id == combo_id:
        dsr = robust.dsr  # robustness.json deflates the in-sample best only
    plateau = get("plateau_score")
    return [_td(ci, low, True), _td(ratio(dsr), dsr, True), _td(ratio(plateau), plateau, True)]


def _row(rank: int, record: dict, inputs: ReportInputs, numeric_axes: set[str],
         stat_rows: Mapping[Any, Mapping[str, Any]]) -> str:
    cells = [_td(str(rank), rank, True), f'<td class="mono">{esc(record["combo_id"])}</td>']
    for axis in inputs.axes:
        value = record.get(axis)
        cells.append(_td(axis_value(value), _number(value) if axis in numeric_axes else None,
                         axis in numeric_axes))
    for column in METRIC_COLUMNS:
        value = record.get(column.source)
        cells.append(_td(column.fmt(value), _number(value), True))
    cells += _stat_cells(inputs, record["combo_id"], stat_rows)
    return f'<tr data-combo="{esc(record["combo_id"])}">{"".join(cells)}</tr>'


def _numeric_axes(summary: pd.DataFrame, axes: Sequence[str]) -> set[str]:
    return {a for a in axes if pd.api.types.is_numeric_dtype(summary[a])
            and not pd.api.types.is_bool_dtype(summary[a])}


def top_section(inputs: ReportInputs) -> str:
    """The ranked, sortable, filterable table of combos."""
    summary = inputs.summary
    if summary.empty:
        return section(SECTION_ID, "Top combos", note("No combo finished: nothing to rank."))
    ranked = top_combos(summary, DEFAULT_RANK, n=min(len(summary), MAX_ROWS))
    numeric = _numeric_axes(summary, inputs.axes)
    present = [c for c in METRIC_COLUMNS if c.source in summary.columns]
    headers = [_header(Column("#", "rank", "", str, "rank by net $"), True),
               _header(Column("combo", "combo", "", str), False)]
    headers += [_header(Column(a, a, a, str), a in numeric) for a in inputs.axes]
    headers += [_header(c, True) for c in (*present, *STAT_COLUMNS)]
    stat_rows = _stat_rows(inputs.combo_stats)
    rows = [_row(i, record, inputs, numeric, stat_rows)
            for i, record in enumerate(ranked.to_dict("records"), 1)]
    controls = (f'<div class="controls"><label>Filter <input id="{TABLE_ID}-filter" '
                'type="search" placeholder="e.g. 10:30 target=15 net&gt;0" size="32">'
                f'</label> <span id="{TABLE_ID}-count" class="muted"></span></div>')
    shown = (f"The {count(len(ranked))} best of {count(len(summary))} combos by net $; "
             "summary.csv has them all." if len(ranked) < len(summary) else
             f"All {count(len(summary))} finished combos, best net $ first.")
    extra = [] if inputs.combo_stats is not None else [note(
        f"Sharpe interval and plateau score: {ANALYZE_HINT}.")]
    table = (f'<div class="scroll"><table id="{TABLE_ID}" class="sortable">'
             f"<thead><tr>{''.join(headers)}</tr></thead><tbody>{''.join(rows)}</tbody>"
             "</table></div>")
    return section(SECTION_ID, "Top combos", controls + table + "".join(extra),
                   lead=shown + " Click a header to sort; hover a header for its meaning.")
