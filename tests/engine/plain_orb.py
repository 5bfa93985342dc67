"""An independent, readable opening-range breakout: a plain Python loop over bars.

It restates docs/engine.md for your own range (range_start/range_end/range_minutes,
trade_until), the entry rules (stop, close_confirm, direction, max_entries_per_day), the
exit rules (target_r, exit_at, target_mode) and sizing by risk (risk_usd, risk_fraction of
a compounding equity_usd), and reads nothing of the engine's rule code: only the bars'
arrays (prices in ticks, UTC stamps, each bar's contract, the held bars after a roll), the
instrument's constants and the CME calendar's table of closes. Times are worked out with
zoneinfo, tick arithmetic with Fraction. tests/engine/test_plain_orb.py holds the engine
equal to it on random bars.

Out of scope here: the reference sessions (the golden cases hold them), the fill bounds
and the 1-second replay.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from research.engine.bars import Bars
from research.engine.calendar import session_closes
from research.engine.params import RunParams

CHICAGO = ZoneInfo("America/Chicago")
EPOCH = dt.date(1970, 1, 1)
NS = 1_000_000_000
MAX_CONTRACTS = 100_000


@dataclass
class Row:
    """One result row, in ticks, UTC ns (None: no stamp) and cents."""

    day: dt.date
    result: str
    side: int = 0
    entry_ns: int | None = None
    exit_ns: int | None = None
    entry: int = 0
    exit: int = 0
    stop_distance: int = 0
    target: int = 0
    peak: int = 0
    range_size: int = 0
    entry_no: int = 0
    contracts: int = 0
    net_cents: int = 0
    reason: str = ""


def exact(value: float) -> Fraction:
    return Fraction(Decimal(repr(value)))


def minute(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def instant_ns(day: dt.date, minute_of_day: int) -> int:
    wall = dt.datetime(day.year, day.month, day.day, minute_of_day // 60, minute_of_day % 60,
                       tzinfo=CHICAGO)
    return int(wall.timestamp()) * NS


def label_of(ts_ns: int) -> dt.date:
    """A bar's trading date: its Chicago date, the next one from 23:00."""
    wall = dt.datetime.fromtimestamp(ts_ns / NS, CHICAGO)
    return wall.date() + dt.timedelta(days=1 if wall.hour >= 23 else 0)


def next_weekday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=3 if day.weekday() == 4 else 1)


def day_close_ns(symbol: str, day: dt.date) -> int | None:
    """The instant of a date's scheduled close, 16:00 on a regular day (None: closed)."""
    closes, _ = session_closes(symbol, [(day - EPOCH).days])
    close = int(closes[0])
    return None if close < 0 else instant_ns(day, close)


class PlainORB:
    """The rules for one RunParams with a custom range, over one instrument's Bars."""

    def __init__(self, bars: Bars, rp: RunParams, as_of_ns: int):
        self.bars, self.rp, self.as_of_ns = bars, rp, as_of_ns
        self.symbol = bars.instrument.symbol
        self.tick = exact(bars.instrument.tick)
        self.tick_cents = bars.instrument.tick_value_cents
        self.start = minute(rp.range_start)
        self.end = (minute(rp.range_end) if rp.range_end is not None
                    else self.start + rp.range_minutes)
        target_ticks = exact(rp.target) / self.tick
        self.target_ticks = int(target_ticks)
        self.cap = math.floor(exact(rp.stop_cap_multiple) * target_ticks)
        self.labels = [label_of(int(t)) for t in bars.ts_ns]
        walk = bars.walk
        self.walk = [(int(walk.ts_ns[i]), int(walk.open_ticks[i]), int(walk.high_ticks[i]),
                      int(walk.low_ticks[i]), int(walk.close_ticks[i]),
                      int(walk.contract_code[i])) for i in range(len(walk.ts_ns))]

    # ---- the day's clock ----
    def cutoff_ns(self, day: dt.date) -> int:
        cut = minute(self.rp.trade_until or self.rp.market_close)
        at = instant_ns(day, cut)
        early = day_close_ns(self.symbol, day) if self.rp.calendar == "exchange" else None
        return min(at, early) if early is not None else at

    def window_end_ns(self, day: dt.date) -> int:
        if self.rp.exit_at is not None:
            bound_day, at = day, instant_ns(day, minute(self.rp.exit_at))
        else:
            bound_day = next_weekday(day)
            at_minute = self.start if self.rp.target_mode == "time" else self.end
            at = instant_ns(bound_day, at_minute)
        early = (day_close_ns(self.symbol, bound_day) if self.rp.calendar == "exchange"
                 else None)
        return min(at, early) if early is not None else at

    # ---- rows ----
    def rows(self) -> list[Row]:
        rows: list[Row] = []
        days = sorted({d for d in self.labels if d.weekday() in self.rp.trade_days})
        for day in days:
            rows += self.day_rows(day)
        rows = self.size(rows)
        if not self.rp.write_no_trade_rows:
            rows = [r for r in rows if r.result != "NoTrade"]
        return rows

    def day_rows(self, day: dt.date) -> list[Row]:
        bars = self.bars
        start_ns, end_ns = instant_ns(day, self.start), instant_ns(day, self.end)
        inside = [i for i in range(len(bars.ts_ns)) if start_ns <= bars.ts_ns[i] < end_ns]
        if not inside:
            return []
        high = max(int(bars.high_ticks[i]) for i in inside)
        low = min(int(bars.low_ticks[i]) for i in inside)
        contract = int(bars.contract_code[inside[0]])
        e_ns = self.window_end_ns(day)
        last_ns = min(self.cutoff_ns(day), end_ns + 24 * 3600 * NS - 1)
        # The bars an entry may use: from the range's end, on the range's contract, before E.
        after = []
        for i in range(inside[-1] + 1, len(bars.ts_ns)):
            if int(bars.contract_code[i]) != contract or bars.ts_ns[i] >= e_ns:
                break
            after.append(i)
        rows: list[Row] = []
        not_before = end_ns
        for entry_no in range(1, self.rp.max_entries_per_day + 1):
            entry = self.find_entry(after, not_before, last_ns, high, low)
            if entry is None:
                break
            side, bar, price = entry
            row = self.walk_trade(day, side, int(bars.ts_ns[bar]), price, high - low, contract,
                                  e_ns)
            row.entry_no, row.range_size = entry_no, high - low
            rows.append(row)
            if row.result not in ("Win", "BE", "Loss"):
                break
            not_before = row.exit_ns + 1
        return rows or [Row(day, "NoTrade", range_size=high - low)]

    def find_entry(self, after: list[int], not_before: int, last_ns: int, high: int,
                   low: int) -> tuple[int, int, int] | None:
        bars, rp = self.bars, self.rp
        longs, shorts = rp.direction in ("both", "long"), rp.direction in ("both", "short")
        for k, i in enumerate(after):
            if bars.ts_ns[i] < not_before:
                continue
            if bars.ts_ns[i] > last_ns:
                return None
            if rp.entry == "close_confirm":
                up = longs and bars.close_ticks[i] > high
                down = shorts and bars.close_ticks[i] < low
                if up or down:
                    if k + 1 >= len(after):
                        return None
                    nxt = after[k + 1]
                    return (1 if up else -1), nxt, int(bars.open_ticks[nxt])
                continue
            up = longs and bars.high_ticks[i] > high
            down = shorts and bars.low_ticks[i] < low
            if up and down:
                return None
            if up:
                return 1, i, high + 1
            if down:
                return -1, i, low - 1
        return None

    def walk_trade(self, day: dt.date, side: int, entry_ns: int, entry: int, size: int,
                   contract: int, e_ns: int) -> Row:
        rp = self.rp
        distance = min(size, self.cap)
        if rp.target_r is not None:
            target_ticks = max(1, math.ceil(exact(rp.target_r) * distance))
        else:
            target_ticks = self.target_ticks
        t1 = math.ceil(exact(rp.t1_fraction) * target_ticks)
        target = entry + side * target_ticks
        initial = stop = entry - side * distance
        window = sorted(b for b in self.walk if b[5] == contract and entry_ns <= b[0] < e_ns)
        fired = False
        outcome = None
        for ts, _, hi, lo, close, _ in window:
            fav = (hi - entry) if side == 1 else (entry - lo)
            t1_bar = False
            if not fired and fav >= t1:
                fired, stop, t1_bar = True, entry - side, True
            hit_target = rp.target_mode != "time" and (hi >= target if side == 1 else lo <= target)
            hit_stop = lo <= stop if side == 1 else hi >= stop
            if hit_stop and t1_bar:
                hit_stop = False
            elif hit_target and hit_stop:
                if abs(close - target) < abs(close - stop):
                    hit_stop = False
                else:
                    hit_target = False
            if hit_target:
                outcome = ("Win", ts, target)
                break
            if hit_stop:
                outcome = ("BE" if fired else "Loss", ts, stop)
                break
        x_ns = e_ns - (0 if rp.target_mode == "time" else NS)
        if outcome is None:
            result = "OPEN" if x_ns > self.as_of_ns else "TIME"
            outcome = (result, None if result == "OPEN" else x_ns, window[-1][4])
        result, exit_ns, exit_px = outcome
        peak = self.peak(window, side, entry, initial, result != "OPEN")
        gross_ticks = (exit_px - entry) * side
        return Row(day, result, side, entry_ns, exit_ns, entry, exit_px, distance, target_ticks,
                   peak, contracts=rp.contracts, net_cents=gross_ticks)

    @staticmethod
    def peak(window: list, side: int, entry: int, initial: int, fallback: bool) -> int:
        favs, truncated, alive = [], 0, True
        for _, _, hi, lo, _, _ in window:
            fav = (hi - entry) if side == 1 else (entry - lo)
            favs.append(fav)
            if alive and (lo <= initial if side == 1 else hi >= initial):
                alive = False
            if alive:
                truncated = max(truncated, fav)
        if truncated == 0 and fallback:
            return max(favs)
        return truncated

    # ---- money ----
    def size(self, rows: list[Row]) -> list[Row]:
        """Contracts and net cents of each row (net_cents holds the gross ticks until here)."""
        rp = self.rp
        commission = int(exact(rp.commission) * 100)
        per_contract = commission + 2 * rp.slippage_ticks * self.tick_cents
        equity = None if rp.equity_usd is None else int(exact(rp.equity_usd) * 100)
        day, pending = None, 0
        for row in rows:
            if row.day != day:
                if equity is not None:
                    equity += pending
                day, pending = row.day, 0
            if row.result == "NoTrade":
                continue
            contracts = rp.contracts
            risk_per_contract = max(row.stop_distance, 1) * self.tick_cents
            if rp.risk_usd is not None:
                contracts = min(int(exact(rp.risk_usd) * 100) // risk_per_contract,
                                MAX_CONTRACTS)
            elif equity is not None:
                if equity <= 0:
                    self.void(row, "no equity left")
                    continue
                risk = math.floor(equity * exact(rp.risk_fraction))
                contracts = min(risk // risk_per_contract, MAX_CONTRACTS)
            if contracts == 0:
                self.void(row, "stop wider than the risk")
                continue
            row.contracts = contracts
            row.net_cents = contracts * (row.net_cents * self.tick_cents - per_contract)
            pending += row.net_cents
        return rows

    @staticmethod
    def void(row: Row, reason: str) -> None:
        kept = (row.day, row.range_size)
        row.__init__(kept[0], "NoTrade", range_size=kept[1], reason=reason)
