"""Checks of the entry, exit and sizing fields of RunParams (docs/engine.md, entry, exit and
sizing rules): `entry`, `direction`, `max_entries_per_day`, `target_r`, `exit_at`,
`risk_usd`, `risk_fraction`, `equity_usd`. Each mistake is a one-line ParamsError naming
the field, its value and the fix.

>>> check_choice("direction", "long", DIRECTIONS)
'long'
>>> as_fraction(0.65)
(13, 20)
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from research.engine.range_params import hhmm_minute
from research.engine.sessions import minute_of_day
from research.errors import ParamsError, shorten

ENTRY_RULES = ("stop", "close_confirm")  # stop: the reference's; close_confirm: the 5-min ORB's
DIRECTIONS = ("both", "long", "short")
MAX_ENTRIES_PER_DAY = 100  # far beyond any breakout rule's re-entries in one session
MAX_TARGET_R = 1000
MAX_RISK_USD = 1_000_000_000
MAX_EQUITY_USD = 1_000_000_000  # x a risk_fraction numerator (< 1e6) stays in int64 cents
MAX_FRACTION_DENOMINATOR = 10**6


@functools.lru_cache(maxsize=1 << 12, typed=True)  # few distinct values in a grid, asked per combo
def as_fraction(value: int | float) -> tuple[int, int]:
    """A number's shortest decimal form as an exact fraction (num, den): 0.55 is 11/20, so
    ceil and floor of products with it are exact (docs/engine.md Q15).

    >>> as_fraction(2.5), as_fraction(10)
    ((5, 2), (10, 1))
    """
    exact = Fraction(Decimal(repr(value)))
    return exact.numerator, exact.denominator


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ParamsError(f"{name}: {shorten(value)} is not one of {', '.join(allowed)}")
    return value


def check_positive(name: str, value: Any, high: float, unit: str = "") -> int | float:
    """A finite number in (0, high]; an integral one as an int (10.0 and 10 are one combo)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise ParamsError(f"{name}: {shorten(value)} is not a number{unit}")
    if not 0 < value <= high:
        raise ParamsError(f"{name}: {shorten(value)} is not in (0, {high:,}]{unit}")
    return int(value) if float(value).is_integer() else float(value)


def check_cents(name: str, value: Any, high: float) -> int | float:
    """Dollars > 0 in whole cents, so the sizing arithmetic is exact."""
    value = check_positive(name, value, high, " dollars")
    cents = Decimal(repr(value)) * 100
    if cents != cents.to_integral_value():
        raise ParamsError(f"{name}: {value!r} is not a whole number of cents")
    return value


def check_sizing(risk_usd: Any, risk_fraction: Any,
                 equity_usd: Any) -> tuple[Any, Any, Any]:
    """Sizing by risk: `risk_usd`, or `risk_fraction` of `equity_usd`; None, None, None
    keeps the fixed `contracts`.

    >>> check_sizing(None, 0.01, 100000)
    (None, 0.01, 100000)
    """
    if risk_usd is not None:
        if risk_fraction is not None or equity_usd is not None:
            raise ParamsError(f"risk_usd: {shorten(risk_usd)} is given with risk_fraction/"
                              "equity_usd; size by one: a fixed risk_usd, or risk_fraction of "
                              "equity_usd")
        return check_cents("risk_usd", risk_usd, MAX_RISK_USD), None, None
    if (risk_fraction is None) != (equity_usd is None):
        given, value, missing = (("risk_fraction", risk_fraction, "equity_usd")
                                 if risk_fraction is not None
                                 else ("equity_usd", equity_usd, "risk_fraction"))
        raise ParamsError(f"{given}: {shorten(value)} needs {missing} too (risk_fraction of "
                          "equity_usd is risked per trade)")
    if risk_fraction is None:
        return None, None, None
    fraction = check_positive("risk_fraction", risk_fraction, 1)
    if as_fraction(fraction)[1] > MAX_FRACTION_DENOMINATOR:  # keeps equity x num in int64
        raise ParamsError(f"risk_fraction: {fraction!r} has more than 6 decimals")
    return None, fraction, check_cents("equity_usd", equity_usd, MAX_EQUITY_USD)


def check_max_entries(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not (
            1 <= value <= MAX_ENTRIES_PER_DAY):
        raise ParamsError(f"max_entries_per_day: {shorten(value)} is not a whole number in "
                          f"[1, {MAX_ENTRIES_PER_DAY}]")
    return value


_DEFAULT_SESSIONS = ("S1", "S2")


def check_rules(rp: Any) -> None:
    """Issue 20's fields of a RunParams being built: the range, entry, exit and sizing
    rules (their defaults are today's behaviour, so a combo without them keeps its rows
    and its id). Sets the checked values.

    >>> from research.engine.params import RunParams
    >>> RunParams(instrument="ES", direction="long").direction
    'long'
    """
    set_ = object.__setattr__
    window = rp.range_window
    if window.is_custom and (rp.enabled_sessions != _DEFAULT_SESSIONS or rp.enabled_slots):
        raise ParamsError(f"range_start: {shorten(rp.range_start)} replaces the reference "
                          "sessions; drop enabled_sessions/enabled_slots/slot (or range_start)")
    if rp.trade_until is not None and rp.market_close != "16:00":
        raise ParamsError(f"trade_until: {shorten(rp.trade_until)} is given with market_close "
                          f"{shorten(rp.market_close)}; both are the entry cut-off, give one")
    set_(rp, "entry", check_choice("entry", rp.entry, ENTRY_RULES))
    set_(rp, "direction", check_choice("direction", rp.direction, DIRECTIONS))
    set_(rp, "max_entries_per_day", check_max_entries(rp.max_entries_per_day))
    if rp.target_r is not None:
        set_(rp, "target_r", check_positive("target_r", rp.target_r, MAX_TARGET_R, " (R)"))
    if rp.exit_at is not None:
        exit_minute = hhmm_minute("exit_at", rp.exit_at)
        last_end = (window.end_minute if window.is_custom else
                    max(minute_of_day(slot) for s in rp.enabled_sessions
                        for slot in rp.slots_for(s)))
        if exit_minute <= last_end:
            raise ParamsError(f"exit_at: {shorten(rp.exit_at)} is not after the range's end "
                              f"{last_end // 60:02d}:{last_end % 60:02d}; a trade must be able "
                              "to live before it")
    risk, fraction, equity = check_sizing(rp.risk_usd, rp.risk_fraction, rp.equity_usd)
    if (risk or fraction) and rp.contracts != 1:
        raise ParamsError(f"contracts: {rp.contracts} is given with risk sizing; sizing by risk "
                          "sets the contracts of each trade, give one or the other")
    set_(rp, "risk_usd", risk)
    set_(rp, "risk_fraction", fraction)
    set_(rp, "equity_usd", equity)
