"""The instrument table (docs/engine.md §2): the one home of tick sizes, ladders, scales and
contract economics (dollars per point, per the exchange's contract specifications)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Instrument:
    """One contract's row of the table.

    >>> INSTRUMENTS["MES"].tick_value_cents, INSTRUMENTS["CL"].point_value_usd
    (125, Decimal('1000'))
    """

    symbol: str
    tick: float
    ladder: tuple[int | float, ...]  # only element 0 (the base target) is used
    micro: bool = False
    point_value_usd: Decimal = Decimal(0)  # dollars per full point of price, per contract

    @property
    def tick_value_cents(self) -> int:
        """Cents per tick per contract (point value x tick): whole cents for every symbol."""
        cents = self.point_value_usd * self.tick_decimal * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"{self.symbol}: a tick is not a whole number of cents")
        return int(cents)

    @property
    def tick_decimal(self) -> Decimal:
        return Decimal(repr(self.tick))

    @property
    def base_target(self) -> int | float:
        return self.ladder[0]

    @property
    def base(self) -> str:
        """The base symbol a micro trades like (MES -> ES); a base instrument's own symbol."""
        return _MICROS[self.symbol][0] if self.symbol in _MICROS else self.symbol

    @property
    def profit_scale(self) -> float:
        return 0.1 if self.micro else 1.0

    @property
    def decimals(self) -> int:
        """Decimals for prices: 0 for ticks >= 1, else the tick's significant decimals."""
        if self.tick >= 1:
            return 0
        return -self.tick_decimal.normalize().as_tuple().exponent

    @property
    def profit_decimals(self) -> int:
        # docs/engine.md Q13: micro profits keep one more decimal than the tick (MES -0.025).
        return self.decimals + 1 if self.micro else self.decimals

    def stream(self, session: str) -> str:
        return f"{self.symbol}{session[-1]}"


def _ladder(first: float, step: float, last: float) -> tuple[int | float, ...]:
    count = round((last - first) / step) + 1
    values = [Decimal(repr(first)) + i * Decimal(repr(step)) for i in range(count)]
    return tuple(int(v) if v == v.to_integral_value() else float(v) for v in values)


# Point values: CME Group contract specifications (E-mini S&P 500 $50 x index, Micro E-mini
# $5; E-mini Nasdaq-100 $20, Micro $2; E-mini Dow $5, Micro $0.50; E-mini Russell 2000 $50,
# Micro $5; crude oil 1,000 barrels, Micro 100; Henry Hub natural gas 10,000 MMBtu, Micro
# 1,000; gold 100 troy ounces, Micro 10).
_BASES = {
    "ES": Instrument("ES", 0.25, _ladder(10, 5, 40), point_value_usd=Decimal(50)),
    "NQ": Instrument("NQ", 0.25, _ladder(50, 25, 200), point_value_usd=Decimal(20)),
    "YM": Instrument("YM", 1.0, _ladder(100, 50, 400), point_value_usd=Decimal(5)),
    # CL/NG ladders are float literals in the reference, so their Target prints as 0.5.
    "CL": Instrument("CL", 0.01, (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0),
                     point_value_usd=Decimal(1000)),
    "NG": Instrument("NG", 0.001, (0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2),
                     point_value_usd=Decimal(10000)),
    "GC": Instrument("GC", 0.1, _ladder(5, 2.5, 20), point_value_usd=Decimal(100)),
    "RTY": Instrument("RTY", 0.1, (10,), point_value_usd=Decimal(50)),
}
# micro -> (base, point value): a micro is a tenth of its base contract
_MICROS = {"MES": ("ES", "5"), "MNQ": ("NQ", "2"), "MYM": ("YM", "0.5"),
           "MCL": ("CL", "100"), "MNG": ("NG", "1000"), "MGC": ("GC", "10"),
           "M2K": ("RTY", "5")}

INSTRUMENTS: dict[str, Instrument] = dict(_BASES)
for _micro, (_base, _point_value) in _MICROS.items():
    INSTRUMENTS[_micro] = Instrument(_micro, _BASES[_base].tick, _BASES[_base].ladder,
                                     micro=True, point_value_usd=Decimal(_point_value))

# The reference's data-export alias: accepted in bar files as ES, never tradable (Q18).
ALIASES: dict[str, str] = {"MINUTEDATAEXPORT": "ES"}
TRADABLE: tuple[str, ...] = tuple(INSTRUMENTS)
