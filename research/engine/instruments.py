"""The instrument table (ENGINE_SPEC §2): the one home of tick sizes, ladders and scales."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str
    tick: float
    ladder: tuple[int | float, ...]  # only element 0 (the base target) is used
    micro: bool = False

    @property
    def tick_decimal(self) -> Decimal:
        return Decimal(repr(self.tick))

    @property
    def base_target(self) -> int | float:
        return self.ladder[0]

    @property
    def base(self) -> str:
        """The base symbol a micro trades like (MES -> ES); a base instrument's own symbol."""
        return _MICROS.get(self.symbol, self.symbol)

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
        # DECISIONS Q13: micro profits keep one more decimal than the tick (MES -0.025).
        return self.decimals + 1 if self.micro else self.decimals

    def stream(self, session: str) -> str:
        return f"{self.symbol}{session[-1]}"


def _ladder(first: float, step: float, last: float) -> tuple[int | float, ...]:
    count = round((last - first) / step) + 1
    values = [Decimal(repr(first)) + i * Decimal(repr(step)) for i in range(count)]
    return tuple(int(v) if v == v.to_integral_value() else float(v) for v in values)


_BASES = {
    "ES": Instrument("ES", 0.25, _ladder(10, 5, 40)),
    "NQ": Instrument("NQ", 0.25, _ladder(50, 25, 200)),
    "YM": Instrument("YM", 1.0, _ladder(100, 50, 400)),
    # CL/NG ladders are float literals in the reference, so their Target prints as 0.5.
    "CL": Instrument("CL", 0.01, (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)),
    "NG": Instrument("NG", 0.001, (0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2)),
    "GC": Instrument("GC", 0.1, _ladder(5, 2.5, 20)),
    "RTY": Instrument("RTY", 0.1, (10,)),
}
_MICROS = {"MES": "ES", "MNQ": "NQ", "MYM": "YM", "MCL": "CL", "MNG": "NG", "MGC": "GC",
           "M2K": "RTY"}

INSTRUMENTS: dict[str, Instrument] = dict(_BASES)
for _micro, _base in _MICROS.items():
    INSTRUMENTS[_micro] = Instrument(_micro, _BASES[_base].tick, _BASES[_base].ladder, micro=True)

# The reference's data-export alias: accepted in bar files as ES, never tradable (Q18).
ALIASES: dict[str, str] = {"MINUTEDATAEXPORT": "ES"}
TRADABLE: tuple[str, ...] = tuple(INSTRUMENTS)
