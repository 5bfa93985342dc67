"""Draw docs/strategy_trade.png: one real trade of the engine, from its own rows.

    python docs/make_strategy_figure.py [--out docs/strategy_trade.png]

The trade is the engine's row for Friday 2024-01-12, ES, slot S1 07:30, target 10 points,
on the built-in synthetic bars (2024-01-01 .. 2024-03-31, seed 7): a long breakout whose T1
fires (the stop moves to break-even) before the target is hit, with the initial stop capped
at 3 x the target. Every level drawn comes from that row (entry, exit, stop distance, range)
or from the rule the row's parameters state (T1 = ceil(0.65 x target ticks), break-even =
entry - 1 tick); it checks that the bars agree with the row before drawing, and prints
the row.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from research import RunParams, run_strategy, synthetic_bars
from research.engine.results import to_legacy

DAY = "2024-01-12"
PARAMS = RunParams(instrument="ES", target=10, enabled_sessions=["S1"],
                   enabled_slots={"S1": ["07:30"]})
RANGE_START = "02:00"  # session S1's range starts here (Chicago)
SHOWN_UNTIL_MIN = 30  # minutes shown after the exit


def the_trade() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The engine's row for DAY (a one-row frame) and the minute bars around it."""
    bars = synthetic_bars("ES", "2024-01-01", "2024-03-31", seed=7)
    rows = run_strategy(bars, PARAMS)
    return rows[rows["date"] == pd.Timestamp(DAY)], bars.set_index("timestamp")


def levels(row: pd.Series, bars: pd.DataFrame) -> dict[str, object]:
    """What the picture shows, from the row and the rules; checked against the bars."""
    tick = PARAMS.spec.tick
    side = 1 if row["direction"] == "Long" else -1
    entry = row["entry_price"]
    day = row["date"].strftime("%Y-%m-%d")
    start = pd.Timestamp(f"{day} {RANGE_START}", tz=row["entry_time"].tz)
    end = pd.Timestamp(f"{day} {row['slot']}", tz=row["entry_time"].tz)
    in_range = bars.loc[start:end - pd.Timedelta(minutes=1)]
    t1_move = PARAMS.t1_threshold_ticks * tick
    walk = bars.loc[row["entry_time"]:row["exit_time"]]
    favourable = walk["high"] - entry if side == 1 else entry - walk["low"]
    t1_time = favourable[favourable >= t1_move].index[0]
    out = {
        "side": side, "entry": entry, "range_start": start, "range_end": end,
        "range_high": in_range["high"].max(), "range_low": in_range["low"].min(),
        "target": entry + side * row["target"], "stop": entry - side * row["stop_distance"],
        "t1_level": entry + side * t1_move, "t1_time": t1_time,
        "be_stop": entry - side * tick, "expiry": _expiry(row),
    }
    # The row and the bars tell the same story (else the picture would lie).
    breakout = out["range_high"] + tick if side == 1 else out["range_low"] - tick
    assert entry == breakout, (entry, breakout)
    assert row["range"] == out["range_high"] - out["range_low"]
    assert row["stop_distance"] == min(row["range"], PARAMS.stop_cap_multiple * row["target"])
    assert row["result"] == "Win" and row["exit_price"] == out["target"]
    assert row["entry_time"] < t1_time < row["exit_time"]
    return out


def _expiry(row: pd.Series) -> pd.Timestamp:
    """X: the next weekday (Friday: Monday) at the slot, less one second (docs/engine.md Q8)."""
    next_day = row["date"] + pd.offsets.BDay(1)
    slot = pd.Timestamp(f"{next_day:%Y-%m-%d} {row['slot']}", tz=row["entry_time"].tz)
    return slot - pd.Timedelta(seconds=1)


def draw(row: pd.Series, bars: pd.DataFrame, out: Path) -> None:
    """Left: the whole morning, range and trade; right: the trade up close; below: the key."""
    lv = levels(row, bars)
    fig = Figure(figsize=(13, 7.6))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, width_ratios=(1, 1.25), height_ratios=(4.2, 1.6),
                            left=0.06, right=0.985, top=0.93, bottom=0.03, wspace=0.12)
    morning = bars.loc[lv["range_start"] - pd.Timedelta(minutes=20):
                       row["exit_time"] + pd.Timedelta(minutes=SHOWN_UNTIL_MIN)]
    close_up = bars.loc[lv["range_end"] - pd.Timedelta(minutes=10):
                        row["exit_time"] + pd.Timedelta(minutes=12)]
    for ax, shown, numbered in ((fig.add_subplot(grid[0, 0]), morning, (1, 2, 5)),
                                (fig.add_subplot(grid[0, 1]), close_up, (2, 3, 4, 5))):
        _bars(ax, shown)
        _levels(ax, row, lv)
        for number in numbered:
            _marker(ax, number, *_where(number, row, lv))
        ax.set_xlim(shown.index[0], shown.index[-1])
        ax.xaxis.set_major_formatter(_hours(row["entry_time"].tz))
        ax.grid(alpha=0.2)
    fig.axes[0].set_ylabel("ES price (points)")
    fig.axes[0].set_title("Friday 2024-01-12: the opening range and the breakout", fontsize=10)
    fig.axes[1].set_title("the trade up close (one vertical line = one minute bar)", fontsize=10)
    fig.axes[1].set_ylim(lv["stop"] - 2, max(lv["target"] + 4, close_up["high"].max() + 1))
    _expiry_arrow(fig.axes[1], lv)
    fig.suptitle("One trade of the engine: ES, session S1, slot 07:30, target 10 points -> "
                 f"{row['result']} {row['profit']:+.2f} points (${row['gross_usd']:,.2f} per "
                 "contract); Chicago time", fontsize=11.5)
    key = fig.add_subplot(grid[1, :])
    key.axis("off")
    for i, line in enumerate(_key(row, lv)):
        key.text(0.0, 1 - i * 0.17, line, fontsize=9.5, va="top", family="DejaVu Sans")
    fig.savefig(out, format="png", dpi=100, metadata={"Software": None})


def _bars(ax, shown: pd.DataFrame) -> None:
    up = shown["close"] >= shown["open"]
    for mask, colour in ((up, "#2e7d32"), (~up, "#c62828")):
        ax.vlines(shown.index[mask], shown["low"][mask], shown["high"][mask], colors=colour,
                  linewidth=0.9)


def _levels(ax, row: pd.Series, lv: dict) -> None:
    entry_t, t1_t, exit_t = row["entry_time"], lv["t1_time"], row["exit_time"]
    ax.add_patch(_box(lv))
    ax.axvline(lv["range_end"], color="#555555", linestyle=":", linewidth=1)
    ax.hlines(lv["entry"], lv["range_end"], entry_t, colors="#1565c0", linestyles="--",
              linewidth=1.2)  # the breakout level, waiting from 07:30
    ax.hlines(lv["target"], entry_t, exit_t, colors="#2e7d32", linewidth=1.8)
    ax.hlines(lv["t1_level"], entry_t, t1_t, colors="#ef6c00", linestyles=":", linewidth=1.5)
    ax.hlines(lv["stop"], entry_t, t1_t, colors="#c62828", linewidth=1.8)
    ax.vlines(t1_t, lv["stop"], lv["be_stop"], colors="#c62828", linestyles=":", linewidth=1)
    ax.hlines(lv["be_stop"], t1_t, exit_t, colors="#c62828", linewidth=1.8)
    ax.plot([entry_t], [lv["entry"]], marker="^", color="#1565c0", markersize=9, zorder=5)
    ax.plot([t1_t], [lv["t1_level"]], marker="o", color="#ef6c00", markersize=7, zorder=5)
    ax.plot([exit_t], [lv["target"]], marker="*", color="#2e7d32", markersize=13, zorder=5)


def _where(number: int, row: pd.Series, lv: dict) -> tuple[pd.Timestamp, float]:
    """Where each numbered marker sits."""
    minutes = pd.Timedelta(minutes=1)
    return {1: (lv["range_start"] + 40 * minutes, lv["range_high"]),
            2: (row["entry_time"] - 3 * minutes, lv["entry"] + 2.2),
            3: (lv["t1_time"], lv["t1_level"] + 2.2),
            4: (row["exit_time"], lv["target"] + 2.2),
            5: (row["entry_time"] + 3 * minutes, lv["stop"] + 2.2)}[number]


def _expiry_arrow(ax, lv: dict) -> None:
    """The expiry lies days to the right: an arrow at the edge says where."""
    ax.annotate(f"to the expiry (6):\n{lv['expiry']:%a %H:%M:%S}", xy=(1.0, 0.5),
                xytext=(0.83, 0.5), xycoords="axes fraction", ha="center", va="center",
                fontsize=9, color="#555555",
                arrowprops={"arrowstyle": "->", "color": "#555555"})


def _marker(ax, number: int, x: pd.Timestamp, y: float) -> None:
    ax.annotate(str(number), (x, y), ha="center", va="center", fontsize=9, color="white",
                weight="bold", zorder=6,
                bbox={"boxstyle": "circle,pad=0.25", "facecolor": "#37474f", "edgecolor": "none"})


def _key(row: pd.Series, lv: dict) -> list[str]:
    entry = lv["entry"]
    return [
        f"(1) opening range: the bars from 02:00 up to the slot, 07:30 (excluded): high "
        f"{lv['range_high']:.2f}, low {lv['range_low']:.2f}, size {row['range']:.2f} (shaded).",
        f"(2) breakout: from 07:30 a bar reaching the range high + 1 tick ({entry:.2f}) enters "
        f"long at exactly that price; here the {row['entry_time']:%H:%M} bar (triangle).",
        f"(3) T1 at {lv['t1_time']:%H:%M}: the high reaches entry + {lv['t1_level'] - entry:.2f} "
        f"(ceil(0.65 x 40 ticks) = {PARAMS.t1_threshold_ticks} ticks): the stop moves up to "
        f"break-even, entry - 1 tick = {lv['be_stop']:.2f} (the step in the red line).",
        f"(4) target: entry + 10 = {lv['target']:.2f}, touched at {row['exit_time']:%H:%M}: Win, "
        f"+{row['profit']:.2f} points = 40 ticks x \\$12.50 = \\${row['gross_usd']:,.2f} per "
        "contract before costs (star).",
        f"(5) initial stop: entry - min(range {row['range']:.2f}, 3 x target) = entry - "
        f"{row['stop_distance']:.2f} = {lv['stop']:.2f} (the cap: the range is wider than 30).",
        f"(6) expiry, off the chart: {lv['expiry']:%a %Y-%m-%d %H:%M:%S}, the next weekday at "
        "the slot less 1 s (Friday -> Monday); a trade still open then exits TIME at the last "
        "close.",
    ]


def _box(lv):
    from matplotlib.dates import date2num
    from matplotlib.patches import Rectangle

    x0, x1 = date2num(lv["range_start"]), date2num(lv["range_end"])
    return Rectangle((x0, lv["range_low"]), x1 - x0, lv["range_high"] - lv["range_low"],
                     facecolor="#1565c0", alpha=0.08, edgecolor="#1565c0", linewidth=1)


def _hours(tz):
    from matplotlib.dates import DateFormatter

    return DateFormatter("%H:%M", tz=tz)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("strategy_trade.png"))
    args = parser.parse_args()
    rows, bars = the_trade()
    draw(rows.iloc[0], bars, args.out)
    print(to_legacy(rows).to_csv(index=False), end="")
    print(rows.iloc[0].to_string())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
