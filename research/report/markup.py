"""Small HTML builders shared by the page's sections: escaping, tables, notes, sections.

Every text that comes from data goes through `esc`; numbers are formatted before they get
here (format.py), so the builders only place strings.

>>> print(table(["slot", "net $"], [["07:30", Cell("1,250.00", 1250.0)]], numeric=[1]))
<table><thead><tr><th>slot</th><th class="num">net $</th></tr></thead><tbody><tr><td>07:30</td>...
>>> _cell(Cell("1,250.00", 1250.0), numeric=True)
'<td class="num" data-v="1250">1,250.00</td>'
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

NUM = ' class="num"'  # right-aligned, tabular figures


def esc(text: object) -> str:
    """HTML-escaped text (quotes too, so it is safe in attributes)."""
    return html.escape(str(text), quote=True)


def sort_key(value: float | None) -> str:
    """A number as a sort key for the page's script: shortest round-trip text; '' if none.

    >>> sort_key(0.1), sort_key(float("inf")), sort_key(None), sort_key(250.0)
    ('0.1', 'Infinity', '', '250')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    number = float(value)
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)


@dataclass(frozen=True, slots=True)
class Cell:
    """A table cell: its `text` and, for numbers, the `value` the page sorts by."""

    text: str
    value: float | None = None
    title: str | None = None


def _cell(cell: str | Cell, numeric: bool) -> str:
    if not isinstance(cell, Cell):
        cell = Cell(str(cell))
    attrs = NUM if numeric else ""
    if cell.value is not None:
        attrs += f' data-v="{sort_key(cell.value)}"'
    if cell.title:
        attrs += f' title="{esc(cell.title)}"'
    return f"<td{attrs}>{esc(cell.text)}</td>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str | Cell]], *,
          numeric: Sequence[int] = (), attrs: str = "", row_attrs: Sequence[str] = ()) -> str:
    """A plain table; columns in `numeric` are right-aligned. `row_attrs[i]` is put on row i."""
    numeric = set(numeric)
    head = "".join(f"<th{NUM if i in numeric else ''}>{esc(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for i, row in enumerate(rows):
        extra = f" {row_attrs[i]}" if i < len(row_attrs) and row_attrs[i] else ""
        body.append(f"<tr{extra}>" + "".join(_cell(c, j in numeric) for j, c in enumerate(row))
                    + "</tr>")
    opening = f"<table {attrs}>" if attrs else "<table>"
    return f"{opening}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def definition_list(items: Iterable[tuple[str, str]]) -> str:
    """Key/value facts as a <dl> (values already escaped or built markup)."""
    return "<dl class=\"facts\">" + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items) \
        + "</dl>"


def note(text: str, kind: str = "note") -> str:
    """A one-paragraph remark (kind 'note' or 'warn')."""
    return f'<p class="{kind}">{esc(text)}</p>'


def section(section_id: str, title: str, body: str, lead: str = "") -> str:
    """A top-level section with an id (the browser test finds sections by these ids)."""
    intro = f'<p class="lead">{esc(lead)}</p>' if lead else ""
    return f'<section id="{section_id}"><h2>{esc(title)}</h2>{intro}{body}</section>'
