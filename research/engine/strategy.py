"""run_strategy: bars + RunParams -> one row per (date, session, slot)."""

from __future__ import annotations

import logging

import pandas as pd

from research.engine.bars import Bars
from research.engine.clock import CHICAGO
from research.engine.data import prepare_bars
from research.engine.entry import EntryTable, detect_entries, detect_entry
from research.engine.execution import ExitRules, Trade, TradeBatch, execute_trade, execute_trades
from research.engine.params import RunParams
from research.engine.ranges import RangeTable, SlotRange, build_slot_ranges
from research.engine.results import trades_frame
from research.errors import ParamsError
from research.parallel.budget import cpu_budget
from research.parallel.processor import ParallelProcessor

logger = logging.getLogger(__name__)
PARALLEL_MIN_RANGES = 100  # below this, thread start-up costs more than it saves


def process_single_range(bars: Bars, slot_range: SlotRange, rp: RunParams,
                         as_of_ns: int) -> Trade:
    """The rules for one range, in plain Python: the executable statement of the spec."""
    entry = detect_entry(bars, slot_range)
    return execute_trade(bars, slot_range, entry, ExitRules.from_params(rp), as_of_ns)


def process_range_batch(bars: Bars, table: RangeTable, rp: RunParams, as_of_ns: int,
                        entries: EntryTable | None = None) -> TradeBatch:
    """The fast path: a batch of ranges through compiled, GIL-free kernels.

    Pass `entries` (from detect_entries on the same table) to reuse them across exit settings.
    """
    if entries is None:
        entries = detect_entries(bars, table)
    return execute_trades(bars, table, entries, ExitRules.from_params(rp), as_of_ns)


def resolve_as_of(as_of: pd.Timestamp | str | None, bars: Bars) -> int:
    """DECISIONS Q9/Q20: default the traded instrument's last bar; naive means Chicago."""
    if as_of is None:
        return bars.last_ts_ns
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        raise ParamsError(f"as_of: {as_of!r} is not a timestamp") from None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(CHICAGO)
    return int(stamp.tz_convert("UTC").as_unit("ns").value)


def to_bars(data: pd.DataFrame | Bars, instrument: str) -> Bars:
    if isinstance(data, Bars):
        if data.instrument.symbol != instrument:
            raise ParamsError(f"instrument: the bars are {data.instrument.symbol}, "
                              f"the parameters ask for {instrument}")
        return data
    return prepare_bars(data, instrument)


def run_strategy(data: pd.DataFrame | Bars, rp: RunParams, *,
                 as_of: pd.Timestamp | str | None = None,
                 parallel: bool | None = None, threads: int | None = None) -> pd.DataFrame:
    """Run one parameter set over minute bars; returns the typed result frame.

    `data` is a bar DataFrame (see load_bars) or prepared Bars. `parallel=None` goes
    parallel for more than 100 ranges when the CPU budget gives more than one thread;
    the output is identical either way.

    >>> frame = run_strategy(synthetic_bars("ES", "2024-01-01", "2024-01-31"),
    ...                      RunParams(instrument="ES"))
    """
    bars = to_bars(data, rp.instrument)
    as_of_ns = resolve_as_of(as_of, bars)
    processor = ParallelProcessor(
        max_workers=choose_threads(_ranges_upper_bound(bars, rp), parallel, threads))
    table = build_slot_ranges(bars, rp, map_parts=lambda fn, items: processor.map(items, fn))
    if choose_threads(len(table), parallel, threads) == 1:
        processor = ParallelProcessor(max_workers=1)
    slices = processor.process(table, lambda part: process_range_batch(bars, part, rp, as_of_ns))
    logger.debug("ran %d ranges: %s", len(table), processor.stats)
    return trades_frame(bars, table, TradeBatch.concat(slices), rp)


def _ranges_upper_bound(bars: Bars, rp: RunParams) -> int:
    """At most one range per calendar day and slot: sizes range building before it runs."""
    days = int(bars.trading_day[-1] - bars.trading_day[0]) + 1 if len(bars) else 0
    return days * sum(len(rp.slots_for(session)) for session in rp.enabled_sessions)


def choose_threads(n_items: int, parallel: bool | None, threads: int | None) -> int:
    """Threads for n_items of work: 1 when sequential; `None` means automatic: parallel
    above PARALLEL_MIN_RANGES items when the CPU budget has more than one thread."""
    if parallel is False or n_items < 2:
        return 1
    if threads is not None:
        if threads < 1:
            raise ParamsError(f"threads: {threads!r} is not a positive number")
        return threads
    if parallel is None and n_items <= PARALLEL_MIN_RANGES:
        return 1
    return cpu_budget()
