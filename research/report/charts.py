"""Charts as inline SVG text: lines over trading dates, a histogram, a scatter, a timeline.

Hand-written SVG keeps the page small and dependency-free (no charting script to vendor),
opens anywhere offline, and gives the same bytes for the same inputs. Hover text is SVG
``<title>``: every browser shows it without a script. Coordinates are rounded to 0.1 px.
The heatmap grid is drawn by heatmap_svg.py.

>>> svg = histogram([-0.5, 0.2, 0.4, 1.1], x_label="logit", split_at=0.0)
>>> svg.startswith("<svg") and svg.count("<rect") >= 3
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.report.format import day, usd
from research.report.markup import esc

INK, GRID, MUTED = "#222222", "#e3e3e3", "#6b6b6b"
BLUE, RED, ORANGE, GREY = "#2166ac", "#b2182b", "#e08214", "#8c8c8c"


def px(value: float) -> str:
    """A coordinate as SVG text: 0.1 px, no trailing zeros, never -0.

    >>> px(12.0), px(-0.04), px(3.14159)
    ('12', '0', '3.1')
    """
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten.

    >>> nice_ticks(-1234.0, 5678.0)
    [-2000.0, 0.0, 2000.0, 4000.0, 6000.0]
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high <= low:
        low, high = low - 1.0, high + 1.0
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.999:
        ticks.append(round(value, 10) + 0.0)
        value += step
    return ticks


def tick_format(ticks: Sequence[float], fmt: Callable[[float], str]) -> Callable[[float], str]:
    """`fmt` for tick labels, without decimals when every tick is a whole number: ticks
    are round by construction, so ``20,000.00`` would only add noise.

    >>> tick_format([0.0, 5000.0], usd)(5000.0), tick_format([0.0, 2.5], usd)(2.5)
    ('5,000', '2.50')
    """
    if all(float(t).is_integer() for t in ticks):
        return lambda value: f"{value:,.0f}"
    return fmt


def svg_document(width: float, height: float, body: str, label: str) -> str:
    """An inline <svg> of that size around `body`, with `label` for screen readers."""
    return (f'<svg class="chart" viewBox="0 0 {px(width)} {px(height)}" width="{px(width)}" '
            f'height="{px(height)}" role="img" aria-label="{esc(label)}" '
            f'xmlns="http://www.w3.org/2000/svg">{body}</svg>')


def svg_text(x: float, y: float, text: str, anchor: str = "middle", cls: str = "",
          rotate: bool = False) -> str:
    """A <text> at (x, y), anchored start/middle/end, of CSS class `cls`, turned -90° if
    `rotate` (a y-axis title)."""
    attrs = f' class="{cls}"' if cls else ""
    turn = f' transform="rotate(-90 {px(x)} {px(y)})"' if rotate else ""
    return (f'<text x="{px(x)}" y="{px(y)}" text-anchor="{anchor}"{attrs}{turn}>'
            f"{esc(text)}</text>")


@dataclass(frozen=True, slots=True)
class Frame:
    """A plot area inside an SVG and its data ranges: maps data to pixels."""

    left: float
    top: float
    width: float
    height: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def x(self, value: float) -> float:
        low, high = self.x_range
        return self.left + (value - low) / ((high - low) or 1.0) * self.width

    def y(self, value: float) -> float:
        low, high = self.y_range
        return self.top + self.height - (value - low) / ((high - low) or 1.0) * self.height


def _y_axis(frame: Frame, ticks: Sequence[float], fmt: Callable[[float], str],
            label: str) -> str:
    parts = []
    for tick in ticks:
        y = frame.y(tick)
        color = INK if tick == 0 else GRID
        parts.append(f'<line x1="{px(frame.left)}" x2="{px(frame.left + frame.width)}" '
                     f'y1="{px(y)}" y2="{px(y)}" stroke="{color}" stroke-width="1"/>')
        parts.append(svg_text(frame.left - 6, y + 4, fmt(tick), "end", "tick"))
    parts.append(svg_text(14, frame.top + frame.height / 2, label, cls="axis", rotate=True))
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Line:
    """One series of a line chart: a value per date, its name and colour."""

    name: str
    values: np.ndarray
    color: str = BLUE
    fill: bool = False  # shade the area between the line and 0 (drawdowns)


def _month_starts(dates: pd.DatetimeIndex, most: int = 12) -> list[int]:
    months = dates.year * 12 + dates.month
    starts = [0, *np.flatnonzero(np.diff(months)) + 1]
    stride = max(1, math.ceil(len(starts) / most))
    return [int(i) for i in starts[::stride]]


def line_chart(dates: Sequence, lines: Sequence[Line], *, y_label: str,
               width: float = 760, height: float = 230,
               fmt: Callable[[float], str] = usd) -> str:
    """Lines over trading dates (equally spaced), a month grid, y ticks in `fmt`. Each month
    has a hover band naming every line's value on its last date.

    >>> days = pd.bdate_range("2024-01-01", periods=40)
    >>> svg = line_chart(days, [Line("equity", np.arange(40.0) * 25)], y_label="net $")
    >>> svg.count("<polyline"), svg.count('class="band"')  # one line; January and February
    (1, 2)
    """
    dates = pd.DatetimeIndex(dates)
    frame_values = np.concatenate([np.asarray(line.values, np.float64) for line in lines]
                                  + [np.zeros(1)])
    finite = frame_values[np.isfinite(frame_values)]
    ticks = nice_ticks(float(finite.min()), float(finite.max()))
    top = 10 if len(lines) < 2 else 26  # room for the legend
    frame = Frame(78, top, width - 92, height - top - 28, (0, max(len(dates) - 1, 1)),
                  (ticks[0], ticks[-1]))
    parts = [_y_axis(frame, ticks, tick_format(ticks, fmt), y_label)]
    if len(lines) > 1:
        parts.append(_legend(frame.left, 12, lines))
    for n, start in enumerate(_month_starts(dates)):
        label = dates[start].strftime("%b %Y" if n == 0 or dates[start].month == 1 else "%b")
        parts.append(svg_text(frame.x(start), frame.top + frame.height + 16, label, "start",
                              "tick"))
    for line in lines:
        parts.append(_polyline(frame, np.asarray(line.values, np.float64), line))
    parts.append(_month_bands(frame, dates, lines, fmt))
    legend = "  ".join(line.name for line in lines)
    return svg_document(width, height, "".join(parts), f"{y_label}: {legend}")


def _legend(x: float, y: float, lines: Sequence[Line]) -> str:
    parts = []
    for line in lines:
        parts.append(f'<line x1="{px(x)}" x2="{px(x + 18)}" y1="{px(y - 4)}" y2="{px(y - 4)}" '
                     f'stroke="{line.color}" stroke-width="2.5"/>')
        parts.append(svg_text(x + 24, y, line.name, "start", "tick"))
        x += 40 + 6.5 * len(line.name)
    return "".join(parts)


def _polyline(frame: Frame, values: np.ndarray, line: Line) -> str:
    keep = np.isfinite(values)
    xs = frame.x(np.arange(len(values), dtype=np.float64))  # Frame maps arrays too
    ys = frame.y(values)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs[keep].tolist(), ys[keep].tolist(),
                                                        strict=True))
    if not points:
        return ""
    out = ""
    if line.fill:
        zero = px(frame.y(0.0))
        out = (f'<polygon points="{px(xs[0])},{zero} {points} {px(xs[-1])},{zero}" '
               f'fill="{line.color}" fill-opacity="0.18" stroke="none"/>')
    return out + (f'<polyline points="{points}" fill="none" stroke="{line.color}" '
                  f'stroke-width="1.6"><title>{esc(line.name)}</title></polyline>')


def _month_bands(frame: Frame, dates: pd.DatetimeIndex, lines: Sequence[Line],
                 fmt: Callable[[float], str]) -> str:
    if len(dates) == 0:
        return ""
    months = dates.year * 12 + dates.month
    ends = [*np.flatnonzero(np.diff(months)), len(dates) - 1]
    parts, start = [], 0
    for end in ends:
        x0, x1 = frame.x(start - 0.5 if start else 0), frame.x(min(end + 0.5, len(dates) - 1))
        what = "; ".join(f"{line.name} {fmt(line.values[end])}" for line in lines)
        parts.append(f'<rect class="band" x="{px(x0)}" y="{px(frame.top)}" '
                     f'width="{px(max(x1 - x0, 1))}" height="{px(frame.height)}">'
                     f"<title>{esc(day(dates[end]))}: {esc(what)}</title></rect>")
        start = end + 1
    return "".join(parts)


def histogram(values: Sequence[float], *, x_label: str, split_at: float = 0.0,
              bins: int = 24, width: float = 420, height: float = 220) -> str:
    """Bars of equal width with `split_at` on a bar edge: bars at or below it red, above
    it blue (for logits: at or below 0 is an overfit split)."""
    data = np.asarray([v for v in values if math.isfinite(v)], np.float64)
    low = min(float(data.min()) if data.size else -1.0, split_at)
    high = max(float(data.max()) if data.size else 1.0, split_at)
    step = (high - low) / bins or 1.0
    edges = split_at + step * np.arange(math.floor((low - split_at) / step),
                                        math.ceil((high - split_at) / step) + 1)
    if len(edges) < 2:
        edges = np.array([split_at - step, split_at + step])
    counts, _ = np.histogram(data, bins=edges)
    ticks = nice_ticks(0, max(int(counts.max()) if counts.size else 1, 1))
    frame = Frame(56, 10, width - 70, height - 46, (edges[0], edges[-1]), (0, ticks[-1]))
    parts = [_y_axis(frame, ticks, lambda v: f"{v:g}", "splits")]
    for count, left, right in zip(counts, edges[:-1], edges[1:], strict=True):
        color = RED if right <= split_at + 1e-12 else BLUE
        x0, x1, y = frame.x(left), frame.x(right), frame.y(count)
        parts.append(f'<rect x="{px(x0 + 0.5)}" y="{px(y)}" width="{px(max(x1 - x0 - 1, 0.5))}" '
                     f'height="{px(frame.y(0) - y)}" fill="{color}"><title>'
                     f"{esc(f'{left:.2f} to {right:.2f}: {count} splits')}</title></rect>")
    for tick in nice_ticks(edges[0], edges[-1], 6):
        if edges[0] <= tick <= edges[-1]:
            parts.append(svg_text(frame.x(tick), frame.top + frame.height + 15, f"{tick:g}",
                               cls="tick"))
    split_x = frame.x(split_at)
    parts.append(f'<line x1="{px(split_x)}" x2="{px(split_x)}" y1="{px(frame.top)}" '
                 f'y2="{px(frame.top + frame.height)}" stroke="{INK}" stroke-dasharray="4 3"/>')
    parts.append(svg_text(frame.left + frame.width / 2, height - 4, x_label, cls="axis"))
    return svg_document(width, height, "".join(parts), f"histogram of {x_label}")


def scatter(x: Sequence[float], y: Sequence[float], titles: Sequence[str], *, x_label: str,
            y_label: str, highlight: Sequence[bool] = (), size: float = 360) -> str:
    """Points with hover titles on equal axes and the diagonal y = x; highlighted points
    are drawn last, larger, in orange.

    >>> svg = scatter([1, 2, 3], [3, 1, 2], ["a", "b", "c"], x_label="first", y_label="second",
    ...               highlight=[False, True, False])
    >>> svg.count("<circle"), svg.index(ORANGE) > svg.index(BLUE)
    (3, True)
    """
    xs, ys = np.asarray(x, np.float64), np.asarray(y, np.float64)
    top = float(np.nanmax([xs.max(initial=1), ys.max(initial=1)]))
    frame = Frame(56, 10, size - 70, size - 50, (0.5, top + 0.5), (top + 0.5, 0.5))
    ticks = [1.0, *(t for t in nice_ticks(1, top, 5) if 1 < t <= top and t - 1 >= top / 10)]
    parts = [svg_text(frame.left - 6, frame.y(t) + 4, f"{t:g}", "end", "tick") for t in ticks]
    parts += [svg_text(frame.x(t), frame.top + frame.height + 15, f"{t:g}", cls="tick")
              for t in ticks]
    parts.append(f'<rect x="{px(frame.left)}" y="{px(frame.top)}" width="{px(frame.width)}" '
                 f'height="{px(frame.height)}" fill="none" stroke="{GRID}"/>')
    parts.append(f'<line x1="{px(frame.x(0.5))}" y1="{px(frame.y(0.5))}" '
                 f'x2="{px(frame.x(top + 0.5))}" y2="{px(frame.y(top + 0.5))}" '
                 f'stroke="{GREY}" stroke-dasharray="4 3"/>')
    marked = list(highlight) + [False] * (len(xs) - len(highlight))
    order = sorted(range(len(xs)), key=lambda i: marked[i])
    for i in order:
        r, color = (5.5, ORANGE) if marked[i] else (3.2, BLUE)
        parts.append(f'<circle cx="{px(frame.x(xs[i]))}" cy="{px(frame.y(ys[i]))}" r="{r}" '
                     f'fill="{color}" fill-opacity="0.7"><title>{esc(titles[i])}</title>'
                     "</circle>")
    parts.append(svg_text(frame.left + frame.width / 2, size - 8, x_label, cls="axis"))
    parts.append(svg_text(14, frame.top + frame.height / 2, y_label, cls="axis", rotate=True))
    return svg_document(size, size, "".join(parts), f"{y_label} against {x_label}")


@dataclass(frozen=True, slots=True)
class Span:
    """A bar of the timeline: `start` to `end` (inclusive dates) on row `row`."""

    row: int
    start: pd.Timestamp
    end: pd.Timestamp
    color: str
    title: str


def timeline(spans: Sequence[Span], row_labels: Sequence[str], *, width: float = 760) -> str:
    """Horizontal bars over calendar dates, one row per label (walk-forward folds).

    >>> day0, day1 = pd.Timestamp("2024-01-02"), pd.Timestamp("2024-03-28")
    >>> timeline([Span(0, day0, day1, BLUE, "train")], ["fold 1"]).count("<title>train")
    1
    """
    first = min(s.start for s in spans)
    last = max(s.end for s in spans) + pd.Timedelta(days=1)
    row_height = 18
    height = 34 + row_height * len(row_labels)
    frame = Frame(70, 6, width - 84, row_height * len(row_labels),
                  (first.value, last.value), (0, 1))
    parts = [svg_text(frame.left - 8, frame.top + row_height * i + 13, label, "end", "tick")
             for i, label in enumerate(row_labels)]
    for span in spans:
        x0 = frame.x(span.start.value)
        x1 = frame.x((span.end + pd.Timedelta(days=1)).value)
        parts.append(f'<rect x="{px(x0)}" y="{px(frame.top + row_height * span.row + 3)}" '
                     f'width="{px(max(x1 - x0, 1))}" height="{row_height - 6}" '
                     f'fill="{span.color}"><title>{esc(span.title)}</title></rect>')
    months = pd.date_range(first.normalize(), last, freq="MS")
    stride = max(1, math.ceil(len(months) / 12))
    for n, month in enumerate(months[::stride]):
        label = month.strftime("%b %Y" if n == 0 or month.month == 1 else "%b")
        parts.append(svg_text(frame.x(month.value), frame.top + frame.height + 16, label,
                              "start", "tick"))
    return svg_document(width, height, "".join(parts), "walk-forward folds over time")
