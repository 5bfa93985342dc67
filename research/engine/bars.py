"""Bars: one instrument's minute bars as plain arrays, prepared once and shared read-only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from research.engine.contract_walk import WalkSeries
from research.engine.instruments import Instrument

NO_CONTRACTS = ("",)  # the contracts of bars whose source names none: code 0 is ""


@dataclass(frozen=True, slots=True, eq=False)
class Bars:
    """Sorted, de-duplicated bars of one instrument (docs/architecture.md).

    Prices are int64 tick counts (price / tick), so every comparison is exact. ``trading_day``
    is the trading-date label in days since 1970-01-01 (bars from 23:00 Chicago belong to the
    next day, docs/engine.md §5); ``minute_of_day`` is the Chicago wall-clock minute.
    ``contract_code`` indexes ``contracts`` (sorted symbols, "" where the source names no
    contract); it is constant within a trading date (docs/data-formats.md). Left out, it is
    all zeros with ``contracts`` ("",). ``source_format`` is the format(s) the bars came from.
    """

    instrument: Instrument
    ts_ns: np.ndarray  # int64, UTC nanoseconds, strictly increasing
    open_ticks: np.ndarray
    high_ticks: np.ndarray
    low_ticks: np.ndarray
    close_ticks: np.ndarray
    minute_of_day: np.ndarray  # int16
    trading_day: np.ndarray  # int32
    source: str = "<frame>"
    contracts: tuple[str, ...] = NO_CONTRACTS
    contract_code: np.ndarray | None = None  # int16 per bar; None: all zeros
    source_format: str = ""
    walk: WalkSeries | None = None
    # What the loader warned about and how many bad bars it left out (bad_bars: drop): the
    # sweep repeats them in its closing block, the manifest and the report (issue 22).
    load_warnings: tuple[str, ...] = ()
    dropped_bars: int = 0
    # Where file bars came from this time, for the manifest (research.spec.bars_cache):
    # "hit" the prepared-bars cache, "miss" the files (then stored there), "off" the files
    # with the cache turned off; "" for bars not read from files by a sweep.
    cache: str = ""

    def __post_init__(self) -> None:
        if self.contract_code is None:
            object.__setattr__(self, "contract_code", np.zeros(len(self.ts_ns), np.int16))
        if self.walk is None:
            object.__setattr__(self, "walk", WalkSeries.of_dated(
                self.ts_ns, self.open_ticks, self.high_ticks, self.low_ticks, self.close_ticks,
                self.contract_code))

    def __len__(self) -> int:
        return len(self.ts_ns)

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in ARRAY_FIELDS)

    @property
    def held_bars(self) -> int:
        """How many bars after a roll are kept for trades still open on their contract.

        >>> from research.engine.data import prepare_bars
        >>> from research.engine.synthetic import synthetic_bars
        >>> prepare_bars(synthetic_bars("ES", "2024-01-08", "2024-01-09"), "ES").held_bars
        0
        """
        walk = self.walk
        return int((walk.held_end_idx - walk.held_start_idx).sum()) if walk.has_held else 0

    @property
    def last_ts_ns(self) -> int:
        return int(self.ts_ns[-1]) if len(self.ts_ns) else np.iinfo(np.int64).min


# The market data: what the fingerprint hashes (same bars from any file, same fingerprint).
MARKET_FIELDS = ("ts_ns", "open_ticks", "high_ticks", "low_ticks", "close_ticks",
                 "minute_of_day", "trading_day")
ARRAY_FIELDS = (*MARKET_FIELDS, "contract_code")  # every per-bar array (travels to workers)
