"""The breakout pass (research/stats/kernel.py) equals a plain Python loop over the bars that
states the same rules, on random bars, random range definitions, trade days, calendars and a
contract roll (hypothesis)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from research.engine.bars import Bars
from research.engine.calendar import session_closes
from research.engine.clock import CHICAGO, EPOCH, NS_PER_MINUTE
from research.stats.definitions import RangeDefinition
from research.stats.kernel import (
    BOTH_FIRST,
    CONTINUED,
    DOWN_FIRST,
    NO_BREAK,
    NOT_ASKED,
    STOPPED,
    UP_FIRST,
    day_breakouts,
)
from tests.helpers import random_bars


def utc_ns(day: int, minute: int) -> int:
    """Chicago wall time on calendar day `day` as UTC ns, through pandas' own zone rules."""
    wall = dt.datetime.combine(EPOCH + dt.timedelta(days=day), dt.time(minute // 60, minute % 60))
    return pd.Timestamp(wall).tz_localize(CHICAGO).value


def readable(bars: Bars, definition: RangeDefinition, trade_days, exchange_calendar: bool,
             after_minutes: int) -> dict[int, tuple]:
    """Per trade date: None without a range, else (high, low, up, down, first, continued)."""
    out: dict[int, tuple | None] = {}
    ts, high, low, close = bars.ts_ns, bars.high_ticks, bars.low_ticks, bars.close_ticks
    code = bars.contract_code
    for day in sorted(set(bars.trading_day.tolist())):
        if (day + 3) % 7 not in trade_days:
            continue
        until_minute = definition.trade_until_minute
        if exchange_calendar:
            close_minute = int(session_closes(bars.instrument.symbol, [day])[0][0])
            if close_minute >= 0:
                until_minute = min(until_minute, close_minute)
        start, end = utc_ns(day, definition.range_start_minute), \
            utc_ns(day, definition.range_end_minute)
        until = utc_ns(day, until_minute)
        inside = [i for i in range(len(ts)) if start <= ts[i] < end]
        if not inside:
            out[day] = None
            continue
        range_high = max(high[i] for i in inside)
        range_low = min(low[i] for i in inside)
        contract = code[inside[0]]
        up = down = False
        first, first_bar = NO_BREAK, -1
        for i in range(inside[-1] + 1, len(ts)):
            if code[i] != contract or ts[i] > until:
                break
            if ts[i] < end:
                continue
            touches_up, touches_down = high[i] > range_high, low[i] < range_low
            if first == NO_BREAK and (touches_up or touches_down):
                first_bar = i
                first = (BOTH_FIRST if touches_up and touches_down
                         else UP_FIRST if touches_up else DOWN_FIRST)
            up, down = up or touches_up, down or touches_down
        continued = NOT_ASKED
        if first in (UP_FIRST, DOWN_FIRST):
            later = first_bar
            while (later + 1 < len(ts) and code[later + 1] == contract
                   and ts[later + 1] <= ts[first_bar] + after_minutes * NS_PER_MINUTE):
                later += 1
            beyond = close[later] > range_high if first == UP_FIRST else \
                close[later] < range_low
            continued = CONTINUED if beyond else STOPPED
        out[day] = (range_high, range_low, up, down, first, continued)
    return out


def with_roll(bars: Bars, roll_at: int) -> Bars:
    """The same bars, a second contract from the `roll_at`-th trading date on."""
    days = np.unique(bars.trading_day)
    code = (bars.trading_day >= days[min(roll_at, len(days) - 1)]).astype(np.int16)
    return Bars(bars.instrument, bars.ts_ns, bars.open_ticks, bars.high_ticks, bars.low_ticks,
                bars.close_ticks, minute_of_day=bars.minute_of_day, trading_day=bars.trading_day,
                contracts=("A", "B"), contract_code=code)


@st.composite
def definitions(draw):
    start = draw(st.integers(0, 955))
    end = draw(st.integers(start + 1, 960))
    until = draw(st.integers(end, 960) | st.integers(end, 1439))  # the engine's trade_until
    return RangeDefinition(start, end, until)


@given(bars=random_bars(), chosen=st.lists(definitions(), min_size=1, max_size=3),
       trade_days=st.sampled_from([(0, 1, 2, 3, 4), (1, 3), (4,)]),
       exchange_calendar=st.booleans(), after_minutes=st.sampled_from([1, 5, 30, 600]),
       roll_at=st.none() | st.integers(1, 4))
def test_the_kernel_equals_the_readable_loop(bars, chosen, trade_days, exchange_calendar,
                                             after_minutes, roll_at):
    if roll_at is not None:
        bars = with_roll(bars, roll_at)
    got = day_breakouts(bars, chosen, trade_days=trade_days,
                        exchange_calendar=exchange_calendar, after_minutes=after_minutes)
    for k, definition in enumerate(chosen):
        expected = readable(bars, definition, trade_days, exchange_calendar, after_minutes)
        rows = np.flatnonzero(got.definition == k)
        assert got.trading_day[rows].tolist() == sorted(expected)
        for row in rows:
            want = expected[int(got.trading_day[row])]
            assert bool(got.has_range[row]) == (want is not None)
            if want is None:
                continue
            assert (int(got.range_high_ticks[row]), int(got.range_low_ticks[row]),
                    bool(got.broke_up[row]), bool(got.broke_down[row]),
                    int(got.first_break[row]), int(got.continued[row])) == want


def mirrored(bars: Bars) -> Bars:
    """The same bars upside down: every price negated, high and low swapped."""
    return Bars(bars.instrument, bars.ts_ns, -bars.open_ticks, -bars.low_ticks,
                -bars.high_ticks, -bars.close_ticks, minute_of_day=bars.minute_of_day,
                trading_day=bars.trading_day)


@given(bars=random_bars(), chosen=st.lists(definitions(), min_size=1, max_size=3))
def test_upside_down_bars_swap_the_sides(bars, chosen):
    """The rules treat both sides alike: on mirrored prices up and down trade places."""
    got, flipped = day_breakouts(bars, chosen), day_breakouts(mirrored(bars), chosen)
    swap = {UP_FIRST: DOWN_FIRST, DOWN_FIRST: UP_FIRST, BOTH_FIRST: BOTH_FIRST,
            NO_BREAK: NO_BREAK}
    assert flipped.has_range.tolist() == got.has_range.tolist()
    assert flipped.broke_up.tolist() == got.broke_down.tolist()
    assert flipped.broke_down.tolist() == got.broke_up.tolist()
    assert flipped.first_break.tolist() == [swap[code] for code in got.first_break.tolist()]
    assert flipped.continued.tolist() == got.continued.tolist()
