"""run_strategy: bars + RunParams -> one row per (date, session, slot).

Check (the input, as_of, threads) -> prepare (Bars, a processor) -> the one Pipeline ->
the typed frame. `process_single_range` is the rules in plain Python, the executable
statement of the spec; `process_range_batch` the same rules through the compiled kernels.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os

import numpy as np
import pandas as pd

from research.engine.bars import Bars
from research.engine.clock import CHICAGO
from research.engine.codes import NO_ENTRY
from research.engine.entry import detect_entries, detect_entry
from research.engine.entry_rules import EntryRules
from research.engine.execution import (
    NO_TRADE_ROW,
    ExitRules,
    Trade,
    TradeBatch,
    execute_trade,
    execute_trades,
)
from research.engine.inputs import BarsInput, to_bars
from research.engine.params import RunParams
from research.engine.pipeline import ENGINE_STAGES, Pipeline, Stages
from research.engine.ranges import RangeRules, RangeTable, SlotRange
from research.engine.reentry import EXITED, next_scan_from
from research.engine.resolve import check_seconds, load_seconds
from research.errors import InputTypeError, ParamsError, shorten
from research.parallel.budget import cpu_budget
from research.parallel.processor import ParallelProcessor

logger = logging.getLogger(__name__)
PARALLEL_MIN_RANGES = 100  # below this, thread start-up costs more than it saves


def process_single_range(bars: Bars, slot_range: SlotRange, rp: RunParams,
                         as_of_ns: int) -> Trade:
    """The rules for one range, in plain Python: the executable statement of the spec
    (its first entry; range_trades gives every one of max_entries_per_day)."""
    entry = detect_entry(bars, slot_range, EntryRules.from_params(rp))
    return execute_trade(bars, slot_range, entry, ExitRules.from_params(rp), as_of_ns)


def range_trades(bars: Bars, slot_range: SlotRange, rp: RunParams, as_of_ns: int,
                 range_row: int = -1) -> list[Trade]:
    """Every trade of one range in plain Python (docs/engine.md §7.5): after an exit inside
    the window, the next entry is scanned from the bar after the exit bar."""
    rules, entry_rules = ExitRules.from_params(rp), EntryRules.from_params(rp)
    trades: list[Trade] = []
    scan_from = 0
    for entry_no in range(1, rp.max_entries_per_day + 1):
        entry = detect_entry(bars, slot_range, entry_rules, scan_from)
        if entry.direction == NO_ENTRY:
            break
        trade = dataclasses.replace(execute_trade(bars, slot_range, entry, rules, as_of_ns),
                                    entry_no=entry_no, range_row=range_row)
        trades.append(trade)
        if trade.result not in EXITED:
            break
        scan_from = int(next_scan_from(bars, np.array([trade.exit_ts_ns]))[0])
    return trades or [dataclasses.replace(NO_TRADE_ROW, range_row=range_row)]


def process_range_batch(bars: Bars, table: RangeTable, rp: RunParams,
                        as_of_ns: int) -> TradeBatch:
    """The fast path: a batch of ranges through compiled, GIL-free kernels (the sweep's
    pipeline shares the entries across exit settings itself: engine.pipeline)."""
    entries = detect_entries(bars, table, EntryRules.from_params(rp))
    return execute_trades(bars, table, entries, ExitRules.from_params(rp), as_of_ns)


def resolve_as_of(as_of: pd.Timestamp | str | None, bars: Bars) -> int:
    """docs/engine.md Q9/Q20: default the traded instrument's last bar; naive means Chicago.

    A number is refused rather than read as nanoseconds since 1970, and a stamp must lie in
    pandas' nanosecond range (1677-09-21 to 2262-04-11).
    """
    if as_of is None:
        return bars.last_ts_ns
    if not isinstance(as_of, (str, dt.date, np.datetime64)):
        raise InputTypeError(f"as_of: expected a timestamp (text, datetime or pandas "
                             f"Timestamp) or None, got {type(as_of).__name__}")
    try:
        stamp = pd.Timestamp(as_of)
        if stamp is pd.NaT:
            raise ValueError("NaT")
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize(CHICAGO)
        return int(stamp.tz_convert("UTC").as_unit("ns").value)
    except (TypeError, ValueError, OverflowError):  # OutOfBoundsDatetime is a ValueError
        raise ParamsError(f"as_of: {shorten(as_of)} is not a timestamp in pandas' range "
                          "(1677-09-21 to 2262-04-11), e.g. '2024-06-28 16:00'") from None


def run_strategy(data: BarsInput, rp: RunParams, *,
                 as_of: pd.Timestamp | str | None = None,
                 parallel: bool | None = None, threads: int | None = None,
                 stages: Stages = ENGINE_STAGES,
                 resolve_with: str | os.PathLike | Bars | None = None) -> pd.DataFrame:
    """Run one parameter set over minute bars; returns the typed result frame.

    `data` is a bar DataFrame (see load_bars), prepared Bars or a bar file path.
    `resolve_with`: 1-second bars of the same instrument (a path in any supported layout,
    or prepared Bars) that decide the trades the minute bars cannot (engine.resolve); the
    decided outcomes become the rows' results, unlike the reference analyzer.
    `parallel=None` goes parallel for more than 100 ranges when the CPU budget gives more
    than one thread; the output is identical either way. `stages` swaps engine stages (a
    seam for tests and tools; see Stages).

    >>> from research.engine.synthetic import synthetic_bars
    >>> frame = run_strategy(synthetic_bars("ES", "2024-01-01", "2024-01-31"),
    ...                      RunParams(instrument="ES"))
    >>> bool((frame["result"] == "Win").any())
    True
    """
    if not isinstance(rp, RunParams):
        raise InputTypeError(f"rp: expected RunParams, got {type(rp).__name__}")
    if parallel is not None and not isinstance(parallel, bool):
        raise InputTypeError(f"parallel: {shorten(parallel)} is not True, False or None")
    bars = to_bars(data, rp.instrument)
    as_of_ns = resolve_as_of(as_of, bars)
    seconds = None
    if resolve_with is not None:
        seconds = (resolve_with if isinstance(resolve_with, Bars)
                   else load_seconds(str(resolve_with), rp.instrument))
        check_seconds(seconds, bars)
    range_rules = RangeRules.from_params(rp)
    building = choose_threads(_ranges_upper_bound(bars, range_rules), parallel, threads)
    pipeline = Pipeline(bars, as_of_ns, ParallelProcessor(max_workers=building), stages,
                        seconds)
    shared = pipeline.shared(range_rules)
    if choose_threads(len(shared), parallel, threads) == 1:
        pipeline = dataclasses.replace(pipeline, processor=ParallelProcessor(max_workers=1))
    trades = pipeline.exits(shared, ExitRules.from_params(rp))
    logger.debug("ran %d ranges: %s", len(shared), pipeline.processor.stats)
    return pipeline.frame(shared, trades, rp)


def _ranges_upper_bound(bars: Bars, rules: RangeRules) -> int:
    """At most one range per calendar day and slot: sizes range building before it runs."""
    days = int(bars.trading_day[-1] - bars.trading_day[0]) + 1 if len(bars) else 0
    return days * sum(len(slots) for _, _, slots in rules.windows())


def choose_threads(n_items: int, parallel: bool | None, threads: int | None) -> int:
    """Threads for n_items of work: 1 when sequential; `None` means automatic: parallel
    above PARALLEL_MIN_RANGES items when the CPU budget has more than one thread."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
        raise InputTypeError(f"threads: {shorten(threads)} is not a whole number")
    if parallel is False or n_items < 2:
        return 1
    if threads is not None:
        if threads < 1:
            raise ParamsError(f"threads: {threads!r} is not a positive number")
        return threads
    if parallel is None and n_items <= PARALLEL_MIN_RANGES:
        return 1
    return cpu_budget()
