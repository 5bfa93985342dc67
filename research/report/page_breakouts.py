"""The Breakouts section: the breakout statistics of the folder's stats.json (written by
``research-stats SPEC --out RESULTS_DIR``), as a table and a picture; only on pages of
folders that have them.

>>> from research.report.breakouts import BreakoutRow, Breakouts
>>> rows = (BreakoutRow("08:30", "08:45", "16:00", 250, 0.7, 0.6, 0.4, 0.1, 0.55,
...                     {"low": {"days": 80, "up": 0.7, "continuation": 0.5}}),)
>>> page = breakouts_section(Breakouts({"instrument": "ES", "after_minutes": 30}, rows))
>>> page.startswith('<section id="breakouts">'), "74.3%" in page, "55.0%" in page
(True, False, True)
"""

from __future__ import annotations

import base64

from research.report.breakouts import BreakoutRow, Breakouts, breakouts_png, share_text
from research.report.format import count
from research.report.markup import Cell, esc, section, table

SECTION_ID, TITLE = "breakouts", "Breakouts"
STATES = ("low", "mid", "high")


def breakouts_section(breakouts: Breakouts) -> str:
    """The section: what was counted, the table, the picture (an inline data: PNG).

    >>> breakouts_section(Breakouts({}, ())).count("<tr>")  # the header row alone
    1
    """
    facts = breakouts.facts
    after = esc(str(facts.get("after_minutes", "?"))[:6])
    lead = (f"Descriptive statistics of the bars (no trades, no costs) from research-stats on "
            f"{str(facts.get('data', '?'))[:80]}, {str(facts.get('first_date', '?'))[:10]} to "
            f"{str(facts.get('last_date', '?'))[:10]}: the share of days whose range broke "
            "up, down, both or neither (one tick beyond it by trade_until), and how often the "
            "first break continued.")
    headers = ["range", "until", "days", "up", "down", "both", "neither",
               f"cont. {after} min", *(f"cont. {state} vol." for state in STATES)]
    body = table(headers, [_cells(row) for row in breakouts.rows],
                 numeric=range(2, len(headers)))
    picture = base64.b64encode(breakouts_png(breakouts)).decode("ascii")
    note = ('<p class="small muted">cont.: of the days whose first break was one side\'s, the '
            f"share whose close {after} minutes later was still beyond the break level; by "
            f"volatility: terciles of the prior {esc(str(facts.get('lookback_days', 20))[:4])} "
            "days' mean range.</p>")
    figure = (f'<figure class="breakouts"><img alt="breakout shares per range definition" '
              f'src="data:image/png;base64,{picture}"></figure>')
    return section(SECTION_ID, TITLE, body + note + figure, lead)


def _cells(row: BreakoutRow) -> list[str | Cell]:
    def share(value: float | None) -> Cell:
        return Cell(share_text(value), value)

    split = [share(row.by_volatility.get(state, {}).get("continuation")) for state in STATES]
    return [row.label, row.trade_until, Cell(count(row.days), row.days), share(row.up),
            share(row.down), share(row.both), share(row.neither), share(row.continuation),
            *split]
