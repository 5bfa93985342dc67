"""Sizing by risk (docs/engine.md §10.4): each trade's whole contracts from its risk.

A trade's risk per contract is its initial stop distance (at least one tick) times the
tick value. With `risk_usd`, a trade takes floor(risk / risk per contract) contracts. With
`risk_fraction` of `equity_usd`, the risk of every trade on date D is that fraction of the
equity at the start of D: `equity_usd` plus the combo's own net P&L (after costs) of every
earlier date, a sequential pass over the combo's rows in date order. A trade whose stop is
wider than its risk gets 0 contracts, and so does every trade once the equity is spent:
its row becomes NoTrade with a reason (`no_trade_reason`). At most MAX_CONTRACTS.

>>> from research.engine.instruments import INSTRUMENTS
>>> rules = CostRules(contracts=1, commission_cents=0, slippage_ticks=0, risk_cents=50_000)
>>> contracts, reasons = size_rows(np.array([8, 100]), np.array([4, -100]),
...                                np.array([True, True]), np.array([0, 1]),
...                                INSTRUMENTS["ES"], rules)
>>> contracts.tolist(), [REASON_NAMES[r] for r in reasons]
([5, 0], ['', 'stop wider than the risk'])
"""

from __future__ import annotations

import numba
import numpy as np

from research.engine.codes import (
    NO_TRADE,
    REASON_NAMES,
    REASON_NO_EQUITY,
    REASON_NONE,
    REASON_STOP_TOO_WIDE,
)
from research.engine.costs import CostRules
from research.engine.execution import TradeBatch
from research.engine.instruments import Instrument
from research.engine.params import MAX_CONTRACTS

__all__ = ["REASON_NAMES", "size_pieces", "size_rows"]


def size_rows(stop_ticks: np.ndarray, profit_ticks: np.ndarray, traded: np.ndarray,
              trading_day: np.ndarray, instrument: Instrument,
              rules: CostRules) -> tuple[np.ndarray, np.ndarray]:
    """Contracts and NoTrade reason codes of one combo's rows (in date order)."""
    stop_ticks = np.maximum(np.asarray(stop_ticks, np.int64), 1)  # a flat range risks a tick
    risk_per_contract = stop_ticks * instrument.tick_value_cents
    traded = np.asarray(traded, bool)
    if rules.risk_fraction is None:
        contracts = np.minimum(rules.risk_cents // risk_per_contract, MAX_CONTRACTS)
        contracts = np.where(traded, contracts, 0).astype(np.int64)
        reasons = np.where(traded & (contracts == 0), REASON_STOP_TOO_WIDE, REASON_NONE)
        return contracts, reasons.astype(np.int64)
    num, den = rules.risk_fraction
    return _compound(risk_per_contract, np.asarray(profit_ticks, np.int64), traded,
                     np.asarray(trading_day, np.int64), instrument.tick_value_cents,
                     rules.per_contract_cents(instrument), rules.equity_cents, num, den,
                     MAX_CONTRACTS)


@numba.njit(nogil=True, cache=True)
def _compound(risk_per_contract, profit_ticks, traded, trading_day, tick_value_cents,
              cost_per_contract, equity_cents, num, den, max_contracts):  # pragma: no cover
    """The sequential pass: the equity of date D is the start equity plus the net cents
    of every earlier date's rows; a row risks floor(equity x num / den) cents."""
    n = len(traded)
    contracts = np.zeros(n, np.int64)
    reasons = np.zeros(n, np.int64)
    equity = equity_cents  # at the start of the current date
    pending = 0  # net cents of the current date's rows so far
    for i in range(n):
        if i > 0 and trading_day[i] != trading_day[i - 1]:
            equity += pending
            pending = 0
        if not traded[i]:
            continue
        if equity <= 0:
            reasons[i] = REASON_NO_EQUITY
            continue
        risk = equity * num // den
        k = min(risk // risk_per_contract[i], max_contracts)
        if k == 0:
            reasons[i] = REASON_STOP_TOO_WIDE
            continue
        contracts[i] = k
        pending += k * (profit_ticks[i] * tick_value_cents - cost_per_contract)
    return contracts, reasons


def size_pieces(trades: TradeBatch, profit: np.ndarray, trading_day: np.ndarray,
                costs: list[CostRules], keep_no_trade: list[bool], lengths: np.ndarray,
                contracts: np.ndarray, instrument: Instrument
                ) -> tuple[TradeBatch, np.ndarray, np.ndarray, np.ndarray]:
    """Several combos' rows (`lengths` rows each, combo after combo; `profit` in ticks):
    each sized combo's contracts; rows left at 0 contracts become NoTrade with their reason,
    or go where the combo writes no NoTrade rows. Returns the trades, contracts, reasons
    and lengths."""
    contracts = contracts.copy()
    reasons = np.zeros(len(trades), np.int64)
    traded = trades.result != NO_TRADE
    starts = np.concatenate([[0], np.cumsum(lengths)])
    for k, rules in enumerate(costs):
        if rules.sized:
            at = slice(starts[k], starts[k + 1])
            contracts[at], reasons[at] = size_rows(
                trades.stop_distance_ticks[at], profit[at], traded[at], trading_day[at],
                instrument, rules)
    voided = traded & (contracts == 0)
    trades = trades.without_trade(voided)
    drop = voided & np.repeat([not keep for keep in keep_no_trade], lengths)
    if drop.any():
        keep = ~drop
        combo_of = np.repeat(np.arange(len(costs)), lengths)
        lengths = np.bincount(combo_of[keep], minlength=len(costs)).astype(np.int64)
        trades, contracts, reasons = trades[keep], contracts[keep], reasons[keep]
    return trades, contracts, reasons, lengths
