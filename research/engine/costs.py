"""Costs (docs/engine.md §10.3): after the exit walk, so combos that differ only in costs share
everything before it. Dollars are integer cents, from integer ticks: exact to the cent.

A trade costs ``contracts x (commission + 2 x slippage_ticks x tick value)``: the commission
per round turn, and slippage lost on the entry fill and on the exit fill. NoTrade rows cost
nothing. The micro profit scale (×0.1 of the points column) plays no part: the point value
of a micro is already its own (MES $5).

>>> from research.engine.instruments import INSTRUMENTS
>>> trades_ticks = np.array([40, -12])  # an MES 40-tick win and a 12-tick loss
>>> money = dollars(trades_ticks, np.array([True, True]), INSTRUMENTS["MES"],
...                 CostRules(contracts=1, commission_cents=0, slippage_ticks=0))
>>> money.gross_cents.tolist()  # $50.00 and -$15.00
[5000, -1500]
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from research.engine.instruments import Instrument
from research.engine.params import RunParams
from research.engine.rule_params import as_fraction


def _cents(dollars_: int | float | None) -> int:
    return 0 if dollars_ is None else int(Decimal(repr(dollars_)) * 100)


@dataclass(frozen=True, slots=True)
class CostRules:
    """What the cost stage reads of a RunParams: its key.

    >>> rules = CostRules.from_params(RunParams(instrument="ES", commission=2.25, slippage_ticks=1))
    >>> rules.contracts, rules.commission_cents, rules.slippage_ticks, rules.sized
    (1, 225, 1, False)
    """

    contracts: int
    commission_cents: int  # per contract per round turn
    slippage_ticks: int  # per fill
    # Sizing by risk (engine.sizing, docs/engine.md §10.4): risk_cents per trade, or
    # risk_fraction (an exact fraction) of an equity starting at equity_cents.
    risk_cents: int = 0
    risk_fraction: tuple[int, int] | None = None
    equity_cents: int = 0

    @classmethod
    def from_params(cls, rp: RunParams) -> CostRules:
        return cls(rp.contracts, rp.commission_cents, rp.slippage_ticks,
                   _cents(rp.risk_usd),
                   None if rp.risk_fraction is None else as_fraction(rp.risk_fraction),
                   _cents(rp.equity_usd))

    @property
    def sized(self) -> bool:
        """Whether each trade's contracts come from its risk (else the fixed `contracts`)."""
        return self.risk_cents > 0 or self.risk_fraction is not None

    def per_contract_cents(self, instrument: Instrument) -> int:
        """What one trade costs per contract: commission and slippage on both fills."""
        return self.commission_cents + 2 * self.slippage_ticks * instrument.tick_value_cents

    def round_turn_cents(self, instrument: Instrument) -> int:
        """What one trade costs, all contracts together."""
        return self.contracts * self.per_contract_cents(instrument)


@dataclass(frozen=True, slots=True)
class Dollars:
    """Per row: gross P&L, costs and net P&L in integer cents (int64 arrays)."""

    gross_cents: np.ndarray
    costs_cents: np.ndarray
    net_cents: np.ndarray


def dollars(profit_ticks: np.ndarray, traded: np.ndarray, instrument: Instrument,
            rules: CostRules | None = None, *, contracts: np.ndarray | int | None = None,
            round_turn_cents: np.ndarray | int | None = None) -> Dollars:
    """The dollars of each row: gross = profit ticks x tick value x contracts, costs = the
    round turn of every traded row.

    Give `rules` for rows of one combo, or per-row `contracts` and `round_turn_cents` arrays
    for the rows of many combos at once (the sweep's columnar path).
    """
    if rules is not None:
        contracts, round_turn_cents = rules.contracts, rules.round_turn_cents(instrument)
    gross = np.asarray(profit_ticks, np.int64) * instrument.tick_value_cents * contracts
    costs = np.where(traded, round_turn_cents, 0).astype(np.int64)
    return Dollars(gross.astype(np.int64), costs, (gross - costs).astype(np.int64))
