"""Section 6, the top five up close: equity and drawdown in $, net $ per month, the outcome
mix by slot and weekday, and net $ at 0-3 ticks of slippage (from the stored trades).

Without trades.parquet (``store_trades: none``) the last two are left out with a note.

>>> import pandas as pd
>>> s = pd.DataFrame({"combo_id": ["a"], "target": [10], "trades": [2], "sharpe": [1.0],
...                   "net_profit_usd": [50.0]})
>>> daily = pd.DataFrame({"a": [100.0, -50.0]}, index=pd.to_datetime(["2024-01-02", "2024-01-03"]))
>>> page = closeup_section(ReportInputs.from_frames(s, ["target"], daily))
>>> page.count('class="combo-card"'), "no trades.parquet" in page
(1, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from research.engine.instruments import INSTRUMENTS
from research.report.charts import BLUE, RED, Line, line_chart
from research.report.colors import diverging_color, text_color
from research.report.format import MISSING, axis_value, count, ratio, usd
from research.report.markup import Cell, esc, note, section, table
from research.report.results_folder import ReportInputs
from research.report.series import drawdown, equity_curve, monthly_pnl
from research.report.top import DEFAULT_RANK, top_combos
from research.report.trade_stats import OUTCOMES, CostSetting, cost_sensitivity, outcome_mix

SECTION_ID = "top-five"
TOP_N = 5
NO_TRADES = ("no trades.parquet (this sweep ran with store_trades: none): no outcome mix and "
             "no cost sensitivity; run it with --store-trades all to have them")


def _equity(daily: pd.Series) -> str:
    equity = equity_curve(daily)
    under = drawdown(equity)
    return (line_chart(daily.index, [Line("equity", equity.to_numpy(), BLUE)],
                       y_label="equity, net $", height=210)
            + line_chart(daily.index, [Line("drawdown", under.to_numpy(), RED, fill=True)],
                         y_label="drawdown $", height=130))


def _monthly(daily: pd.Series) -> str:
    months = monthly_pnl(daily)
    values = months.drop(columns="year").to_numpy().ravel()
    limit = max((abs(v) for v in values if v == v), default=0.0) or 1.0
    head = "".join(f'<th class="num">{esc(c)}</th>' for c in months.columns)
    rows = []
    for year, record in months.iterrows():
        cells = []
        for name, value in record.items():
            style = "" if name == "year" or value != value else (
                f' style="background:{diverging_color(value, limit)};'
                f'color:{text_color(value, limit)}"')
            cells.append(f'<td class="num"{style}>{esc(usd(value) if value == value else "")}'
                         "</td>")
        rows.append(f"<tr><th>{esc(year)}</th>{''.join(cells)}</tr>")
    return (f'<table class="compact months"><thead><tr><th>net $</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _mix(trades: pd.DataFrame, by: str) -> str:
    mix = outcome_mix(trades, by)
    rows = []
    for key, record in mix.iterrows():
        total = int(record["total"]) or 1
        rows.append([str(key), *(Cell(count(record[o]), int(record[o]),
                                      f"{record[o] / total:.1%} of {by} {key}")
                                 for o in (*OUTCOMES, "total"))])
    return table([by, *OUTCOMES, "total"], rows, numeric=range(1, len(OUTCOMES) + 2),
                 attrs='class="compact"')


def _costs(trades: pd.DataFrame, setting: CostSetting, tick_value_usd: float) -> str:
    sensitivity = cost_sensitivity(trades, setting, tick_value_usd)
    rows = [[f"{r.slippage_ticks}" + (" (this sweep)" if r.own_setting else ""),
             Cell(usd(r.costs_usd), r.costs_usd), Cell(usd(r.net_usd), r.net_usd),
             Cell(usd(r.per_trade_usd), r.per_trade_usd)] for r in sensitivity.itertuples()]
    return (table(["slippage, ticks per fill", "costs $", "net $", "net $ per trade"], rows,
                  numeric=[1, 2, 3], attrs='class="compact"')
            + f'<p class="muted small">{count(setting.contracts)} contract(s), commission $'
            f"{usd(setting.commission_usd)} per contract per round turn, tick value $"
            f"{usd(tick_value_usd)}; each trade pays slippage on entry and exit.</p>")


def _trade_parts(inputs: ReportInputs, trades: pd.DataFrame, record: Mapping[str, Any]) -> str:
    instrument = INSTRUMENTS.get(inputs.instrument or "")
    base = (inputs.manifest.get("spec") or {}).get("base") or {}
    setting = CostSetting.of_combo({a: record.get(a) for a in inputs.axes}, base)
    costs = (_costs(trades, setting, instrument.tick_value_cents / 100) if instrument else
             note(f"unknown instrument {inputs.instrument!r}: no cost sensitivity"))
    return ("<h4>Cost sensitivity</h4>" + costs + "<h4>Outcome mix by slot</h4>"
            + _mix(trades, "slot") + "<h4>Outcome mix by weekday</h4>" + _mix(trades, "weekday")
            + _special_sessions(trades))


def _special_sessions(trades: pd.DataFrame) -> str:
    """The trades on the CME calendar's special sessions (early closes, halts, holidays):
    the session hours differ there, so they are shown apart. Nothing when there are none."""
    if "special_session" not in trades:
        return ""
    name = trades["special_session"].astype(str)
    marked = trades[(name != "") & (trades["result"].astype(str) != "NoTrade")]
    if marked.empty:
        return ""
    rows = [[f"{date:%Y-%m-%d} {slot}", str(holiday), str(result), usd(net)]
            for date, slot, holiday, result, net in zip(
                marked["date"], marked["slot"], marked["special_session"], marked["result"],
                marked["net_usd"], strict=True)]
    return (f"<h4>Trades on special sessions ({count(len(marked))})</h4>"
            + note("early closes, halts and holidays of the CME calendar: the exchange's hours "
                   "differ on these dates")
            + table(["trade", "special session", "result", "net $"], rows, numeric=[3],
                    attrs='class="compact special-sessions"'))


def _band(record: Mapping[str, Any]) -> str:
    """The fill band after net $: its range, and how many trades the minute bars cannot
    decide (nothing for a summary without the band)."""
    if record.get("net_usd_pessimistic") is None or record.get("net_usd_optimistic") is None:
        return ""
    return (f" (fill band {usd(record['net_usd_pessimistic'])} to "
            f"{usd(record['net_usd_optimistic'])}, "
            f"{count(record.get('ambiguous_trades'))} ambiguous trades)")


def _card(rank: int, record: Mapping[str, Any], inputs: ReportInputs,
          trades: pd.DataFrame | None) -> str:
    combo = str(record["combo_id"])
    params = ", ".join(f"{a} {axis_value(record.get(a))}" for a in inputs.axes) or MISSING
    facts = (f"net $ {usd(record.get('net_profit_usd'))}{_band(record)} · "
             f"{count(record.get('trades'))} trades · Sharpe {ratio(record.get('sharpe'))}")
    daily = inputs.daily[combo] if combo in inputs.daily.columns else None
    has_days = daily is not None and len(daily) > 0
    charts = _equity(daily) if has_days else note("no daily net $ for this combo")
    months = "<h4>Net $ per month</h4>" + _monthly(daily) if has_days else ""
    extra = (_trade_parts(inputs, trades[trades["combo_id"] == combo], record)
             if trades is not None else "")
    return (f'<article class="combo-card" id="combo-{esc(combo)}"><h3>#{rank} '
            f'<span class="mono">{esc(combo)}</span>: {esc(params)}</h3>'
            f'<p class="muted">{esc(facts)}</p><div class="cols wide"><div>{charts}</div>'
            f"<div>{extra}</div></div>{months}</article>")


def closeup_section(inputs: ReportInputs) -> str:
    """A card per top combo by net $ (up to TOP_N)."""
    if inputs.summary.empty:
        return section(SECTION_ID, "Top 5 up close", note("No combo finished."))
    top = top_combos(inputs.summary, DEFAULT_RANK, TOP_N)
    trades = inputs.trades(list(top["combo_id"])) if inputs.has_trades else None
    cards = [_card(i, record, inputs, trades) for i, record in
             enumerate(top.to_dict("records"), 1)]
    lead = (f"The {len(top)} best combos by net $. Equity and drawdown are daily net $ after "
            "costs over every trading date of the data.")
    return section(SECTION_ID, f"Top {len(top)} up close",
                   ("" if trades is not None else note(NO_TRADES + ".")) + "".join(cards),
                   lead=lead)
