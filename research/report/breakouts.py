"""The breakout statistics' files (written by ``research-stats --out DIR``) read back, and
their picture.

``stats.json`` holds ``facts`` (instrument, data, first_date, last_date, after_minutes,
lookback_days, classified_days) and ``definitions``: one object per range definition with
range_start, range_end, trade_until, days, up, down, both, neither, up_first, down_first,
first_breaks, continuation (shares of days, None without days) and ``by_volatility``
({low, mid, high}: the same figures). ``stats.csv`` is the same table, one row per definition
and volatility state (``all`` first). ``stats.png`` is `breakouts_png` of the JSON.

The report reads stats.json only, bounded and checked like every file it reads, and draws
the picture itself, so the page shows what the JSON says.

>>> rows = (BreakoutRow("08:30", "08:45", "16:00", 250, 0.7, 0.6, 0.4, 0.1, 0.55, {}),)
>>> breakouts_png(Breakouts({"instrument": "ES"}, rows))[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from research.errors import ReportError
from research.results.safe_files import read_bounded, regular_file
from research.results.store import STATS_CSV, STATS_JSON, STATS_PNG  # noqa: F401 - named here

MAX_STATS_BYTES = 16 * 1024 * 1024  # 1,000 definitions take well under 2 MB
MAX_ROWS = 1000
SHARES = ("up", "down", "both", "neither", "continuation")
# Each day once: up only, both sides, down only, neither (colour-blind safe: blue, purple,
# red, grey, as the heatmaps' RdBu).
PARTS = (("up only", "#2166ac"), ("both", "#8073ac"), ("down only", "#b2182b"),
         ("neither", "#bdbdbd"))
ROW_HEIGHT, LABEL_WIDTH, BAR_WIDTH, PAD = 26, 150, 520, 14


@dataclass(frozen=True, slots=True)
class BreakoutRow:
    """One range definition's figures (shares 0-1, None when there is nothing to share).

    >>> BreakoutRow("08:30", "08:45", "16:00", 10, 0.5, 0.5, 0.2, 0.2, None, {}).label
    '08:30-08:45'
    """

    range_start: str
    range_end: str
    trade_until: str
    days: int
    up: float | None
    down: float | None
    both: float | None
    neither: float | None
    continuation: float | None
    by_volatility: Mapping[str, Mapping[str, float | None]]

    @property
    def label(self) -> str:
        return f"{self.range_start}-{self.range_end}"


@dataclass(frozen=True, slots=True)
class Breakouts:
    """stats.json read back: its facts and its rows.

    >>> Breakouts({"after_minutes": 30}, ()).after_minutes
    30
    """

    facts: Mapping[str, Any]
    rows: tuple[BreakoutRow, ...]

    @property
    def after_minutes(self) -> Any:
        return self.facts.get("after_minutes")


def read_breakouts(folder: Path) -> Breakouts | None:
    """`folder`'s stats.json, None when there is none; ValueError or OSError when it is
    damaged (the report notes it and leaves the section out).

    >>> import tempfile
    >>> read_breakouts(Path(tempfile.mkdtemp())) is None
    True
    """
    path = folder / STATS_JSON
    if not regular_file(path, ReportError):
        return None
    data = json.loads(read_bounded(path, MAX_STATS_BYTES))
    if not isinstance(data, Mapping) or not isinstance(data.get("definitions"), list):
        raise ValueError("not breakout statistics (no definitions list)")
    facts = data.get("facts") if isinstance(data.get("facts"), Mapping) else {}
    rows = data["definitions"]
    if len(rows) > MAX_ROWS:
        raise ValueError(f"{len(rows):,} definitions, more than the {MAX_ROWS:,} shown")
    return Breakouts({k: v for k, v in facts.items() if isinstance(v, (str, int, float))},
                     tuple(_row(row) for row in rows))


def _row(raw: Any) -> BreakoutRow:
    if not isinstance(raw, Mapping):
        raise ValueError("a definition is not an object")
    texts = [str(raw.get(key, "?"))[:5] for key in ("range_start", "range_end", "trade_until")]
    days = raw.get("days")
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValueError("a definition's days is not a whole number")
    split = raw.get("by_volatility") if isinstance(raw.get("by_volatility"), Mapping) else {}
    return BreakoutRow(*texts, days, *(_share(raw.get(key)) for key in SHARES),
                       {state: {key: _share(figures.get(key)) for key in (*SHARES, "days")}
                        for state, figures in split.items()
                        if state in ("low", "mid", "high") and isinstance(figures, Mapping)})


def _share(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@cache
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def breakouts_png(breakouts: Breakouts) -> bytes:
    """One bar per range definition splitting its days into up only, both, down only and
    neither, with the continuation rate and the days at its right (Pillow, as png.py).

    >>> import io
    >>> from PIL import Image
    >>> row = BreakoutRow("08:30", "08:45", "16:00", 250, 0.7, 0.6, 0.4, 0.1, 0.55, {})
    >>> one, two = (Image.open(io.BytesIO(breakouts_png(Breakouts({}, rows)))).size
    ...             for rows in ((row,), (row, row)))
    >>> two[1] - one[1] == ROW_HEIGHT  # a row per definition
    True
    """
    from PIL import Image, ImageDraw

    rows = breakouts.rows
    top = PAD + 16 + 12 + 24
    width = PAD + LABEL_WIDTH + BAR_WIDTH + 190
    image = Image.new("RGB", (width, top + ROW_HEIGHT * max(len(rows), 1) + PAD), "white")
    draw = ImageDraw.Draw(image)
    draw.text((PAD, PAD), _title(breakouts), font=_font(16), fill="#1f2328")
    x = PAD + LABEL_WIDTH
    for name, colour in PARTS:  # the legend
        draw.rectangle((x, PAD + 24, x + 12, PAD + 36), fill=colour)
        draw.text((x + 16, PAD + 24), name, font=_font(12), fill="#333333")
        x += 24 + int(_font(12).getlength(name))
    for i, row in enumerate(rows):
        y = top + i * ROW_HEIGHT
        draw.text((PAD + LABEL_WIDTH - 8, y + ROW_HEIGHT / 2),
                  f"{row.label} to {row.trade_until}", font=_font(12), fill="#333333",
                  anchor="rm")
        x = PAD + LABEL_WIDTH
        for share, (_, colour) in zip(day_parts(row), PARTS, strict=True):
            step = BAR_WIDTH * share
            if step > 0:
                draw.rectangle((x, y + 4, x + step, y + ROW_HEIGHT - 4), fill=colour)
            x += step
        cont = "-" if row.continuation is None else f"{100 * row.continuation:.1f}%"
        draw.text((PAD + LABEL_WIDTH + BAR_WIDTH + 10, y + ROW_HEIGHT / 2),
                  f"cont. {cont}   {row.days:,} days", font=_font(12), fill="#333333",
                  anchor="lm")
    out = io.BytesIO()
    image.save(out, format="png", optimize=False, compress_level=6)
    return out.getvalue()


def day_parts(row: BreakoutRow) -> tuple[float, float, float, float]:
    """Up only, both, down only, neither: shares that add up to 1 (0s without days).

    >>> day_parts(BreakoutRow("a", "b", "c", 4, 0.75, 0.5, 0.25, 0.0, None, {}))
    (0.5, 0.25, 0.25, 0.0)
    """
    if None in (row.up, row.down, row.both, row.neither):
        return 0.0, 0.0, 0.0, 0.0
    return row.up - row.both, row.both, row.down - row.both, row.neither


def _title(breakouts: Breakouts) -> str:
    facts = breakouts.facts
    span = f"{facts.get('first_date', '?')} to {facts.get('last_date', '?')}"
    return (f"Breakouts of {str(facts.get('instrument', '?'))[:12]}, {span[:40]}: continuation "
            f"after {str(facts.get('after_minutes', '?'))[:6]} minutes")


def share_text(value: float | None) -> str:
    """A share as the page and the command print it.

    >>> share_text(0.7434), share_text(None)
    ('74.3%', '-')
    """
    return "-" if value is None else f"{100 * value:.1f}%"


def rows_of(records: Sequence[Mapping[str, Any]]) -> tuple[BreakoutRow, ...]:
    """BreakoutStats.records() as rows (what --out draws without a round trip).

    >>> rows_of([{"range_start": "08:30", "range_end": "08:35", "trade_until": "16:00",
    ...           "days": 0}])[0].up is None
    True
    """
    return tuple(_row(record) for record in records)
