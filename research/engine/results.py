"""Rows (docs/engine.md §12 as amended): trades -> the typed result frame and the legacy strings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.engine.bars import Bars
from research.engine.calendar import close_labels, minute_text, session_closes
from research.engine.clock import NS_PER_DAY, utc_to_chicago
from research.engine.codes import (
    AMBIG_NONE,
    AMBIGUITY_NAMES,
    DECIDED_BY_SECONDS,
    DECIDED_NAMES,
    LONG,
    NO_ENTRY,
    NO_TRADE,
    REASON_NAMES,
    RESULT_NAMES,
    SHORT,
    SIDE_NAMES,
)
from research.engine.costs import CostRules, Dollars, dollars
from research.engine.execution import TradeBatch
from research.engine.params import RunParams
from research.engine.range_params import range_label
from research.engine.ranges import CUSTOM_SESSION, RangeTable
from research.engine.sessions import ALL_SLOTS, SESSIONS, minute_of_day
from research.engine.sizing import size_pieces

TIME_COLUMNS = ("entry_time", "exit_time", "open_as_of_time", "exit_time_pessimistic",
                "exit_time_optimistic")
TEXT_COLUMNS = ("slot", "session", "instrument", "stream", "direction", "result", "contract",
                "session_close", "special_session", "ambiguity", "decided_by",
                "result_pessimistic", "result_optimistic", "no_trade_reason")
BOOL_COLUMNS = ("ambiguous",)
USD_COLUMNS = ("gross_usd", "costs_usd", "net_usd")
# What the minute bars cannot decide (research.engine.fill_bounds): whether the trade is
# ambiguous and why, what decided its result, and its pessimistic and optimistic outcomes.
FILL_COLUMNS = ("ambiguous", "ambiguity", "decided_by",
                "result_pessimistic", "exit_time_pessimistic", "exit_price_pessimistic",
                "net_usd_pessimistic",
                "result_optimistic", "exit_time_optimistic", "exit_price_optimistic",
                "net_usd_optimistic")
# The typed result frame: same columns and dtypes every time, also when empty (Q26 fix).
COLUMNS = ("date", "slot", "session", "instrument", "stream", "direction", "result",
           "entry_time", "exit_time", "entry_price", "exit_price", "stop_distance", "target",
           "peak", "range", "profit", *USD_COLUMNS, "open_as_of_time", *FILL_COLUMNS,
           # Issue 20 (docs/engine.md §7.5, §10.4): the entry's number within its range
           # (0 on NoTrade), the contracts traded (sizing by risk), and why a row is
           # NoTrade when sizing gave 0 contracts ("" otherwise); not legacy.
           "entry_no", "contracts", "no_trade_reason",
           "contract",  # the range's contract ("" when the data names none); not legacy
           # The CME calendar (calendar.py): the date's scheduled close (Chicago HH:MM) and
           # its holiday's name ("" on a regular day); not legacy either.
           "session_close", "special_session")
LEGACY_COLUMNS = ("Date", "Time", "EntryTime", "ExitTime", "EntryPrice", "ExitPrice",
                  "StopLoss", "Target", "Peak", "Direction", "Result", "Range", "Stream",
                  "Instrument", "Session", "Profit", "open_as_of_time")
LEGACY_TIME_FORMAT = "%d/%m/%y %H:%M"
DIRECTION_NAMES = tuple(SIDE_NAMES[side] for side in (SHORT, NO_ENTRY, LONG))  # by side + 1
SLOT_MINUTES = np.array([minute_of_day(slot) for slot in ALL_SLOTS])  # ascending


@dataclass(frozen=True, slots=True)
class Columns:
    """Typed rows as plain arrays, in COLUMNS order: codes into fixed label sets for text
    columns (`labels`), int64 UTC ns (NAT_NS: none) for stamps, float64 for the rest.

    `trades_frame` wraps them for pandas and a sweep's worker for arrow, so both tables
    come from the very same arrays.
    """

    values: dict[str, np.ndarray]
    labels: dict[str, tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.values["date"])


def profit_ticks(batch: TradeBatch) -> np.ndarray:
    """(exit - entry) x side in ticks; 0 for NoTrade rows."""
    side = batch.direction.astype(np.int64)
    return np.where(batch.result != NO_TRADE, (batch.exit_ticks - batch.entry_ticks) * side, 0)


def bound_ticks(batch: TradeBatch) -> tuple[np.ndarray, np.ndarray]:
    """The pessimistic and optimistic profits in ticks (the pessimistic entry fills at the
    open on a gap); 0 for NoTrade rows."""
    side = batch.direction.astype(np.int64)
    traded = batch.result != NO_TRADE
    worst = (batch.pessimistic_exit_ticks - batch.pessimistic_entry_ticks) * side
    best = (batch.optimistic_exit_ticks - batch.entry_ticks) * side
    return np.where(traded, worst, 0), np.where(traded, best, 0)


def undecided_rows(batch: TradeBatch) -> np.ndarray:
    """Ambiguous rows whose result still rests on a convention: all of them, unless a replay
    on 1-second bars decided them (research.engine.resolve)."""
    return (batch.ambiguity != AMBIG_NONE) & (batch.decided_by != DECIDED_BY_SECONDS)


def select_rows(bars: Bars, table: RangeTable, batch: TradeBatch, rp: RunParams) -> np.ndarray:
    """The rows stage: which ranges a combo writes, all or only its trades (§12, as
    write_no_trade_rows says)."""
    rows = (np.arange(len(batch)) if rp.write_no_trade_rows
            else np.flatnonzero(batch.result != NO_TRADE))
    if len(batch) > len(table):  # later entries (engine.reentry): each range's rows together
        rows = rows[np.argsort(batch.range_row[rows], kind="stable")]
    return rows


@dataclass(frozen=True, slots=True)
class RowPiece:
    """One combo's share of a task's rows: `rows` of walk number `walk`, and what turns
    them into its own columns (the target column, the costs)."""

    rows: np.ndarray  # indices into the walk's trades
    walk: int
    target: float  # points; NaN: each trade's own (target_r)
    costs: CostRules
    keep_no_trade: bool = True  # write_no_trade_rows: also for rows sizing leaves at 0

    @classmethod
    def of(cls, rp: RunParams, rows: np.ndarray, walk: int = 0) -> RowPiece:
        target = float("nan") if rp.target_r is not None else float(rp.target)
        return cls(rows, walk, target, CostRules.from_params(rp), rp.write_no_trade_rows)


@dataclass(frozen=True, slots=True)
class GatheredRows:
    """Several combos' rows, combo after combo: their columns, and the ranges, trades and
    dollars (cents) they came from, row for row (what metrics read)."""

    columns: Columns
    ranges: RangeTable
    trades: TradeBatch
    money: Dollars
    lengths: np.ndarray  # rows per combo
    pessimistic_cents: np.ndarray  # net cents of the fill bounds, row for row
    optimistic_cents: np.ndarray


def gather_columns(bars: Bars, table: RangeTable, walks: list[TradeBatch],
                   pieces: list[RowPiece]) -> GatheredRows:
    """The columns of several combos' rows at once, combo after combo: ranges and trades
    are gathered by index (never rebuilt per combo), costs applied row-wise; a combo sized
    by risk gets its contracts from engine.sizing."""
    lengths = np.array([len(p.rows) for p in pieces], np.int64)
    offsets = np.cumsum([0] + [len(w) for w in walks])[:-1]
    rows = np.concatenate([p.rows for p in pieces]) if pieces else np.empty(0, np.int64)
    trade_idx = rows + np.repeat([offsets[p.walk] for p in pieces], lengths).astype(np.int64)
    trades = TradeBatch.concat(walks)[trade_idx]
    instrument = bars.instrument
    contracts = np.repeat([p.costs.contracts for p in pieces], lengths).astype(np.int64)
    reasons = np.zeros(len(trades), np.int64)
    if any(p.costs.sized for p in pieces):
        trades, contracts, reasons, lengths = size_pieces(
            trades, profit_ticks(trades), table.trading_day[trades.range_row],
            [p.costs for p in pieces], [p.keep_no_trade for p in pieces], lengths, contracts,
            instrument)
    ranges = table[trades.range_row]
    round_turn = [p.costs.per_contract_cents(instrument) for p in pieces]
    profit = profit_ticks(trades)
    traded = trades.result != NO_TRADE
    contracts = np.where(traded, contracts, 0)
    round_turns = np.repeat(round_turn, lengths) * contracts
    money = dollars(profit, traded, instrument, contracts=contracts,
                    round_turn_cents=round_turns)
    # The bounds differ from the row only in their fills: the same costs.
    worst, best = (dollars(ticks, traded, instrument, contracts=contracts,
                           round_turn_cents=round_turns).net_cents
                   for ticks in bound_ticks(trades))
    targets = np.repeat([p.target for p in pieces], lengths).astype(np.float64)
    own = np.isnan(targets)  # target_r: each trade's own target, 0 on NoTrade
    targets[own] = trades.target_ticks[own] * instrument.tick
    columns = row_columns(bars, ranges, trades, targets, profit, money, (worst, best),
                          extra={"entry_no": trades.entry_no, "contracts": contracts,
                                 "no_trade_reason": reasons})
    return GatheredRows(columns, ranges, trades, money, lengths, worst, best)


def row_columns(bars: Bars, table: RangeTable, batch: TradeBatch,
                target: float | np.ndarray, profit: np.ndarray, money: Dollars,
                bound_cents: tuple[np.ndarray, np.ndarray],
                extra: dict[str, np.ndarray] | None = None) -> Columns:
    """The typed columns of rows whose ranges, trades, targets (points), profits (ticks,
    `profit_ticks`), dollars and net cents of the fill bounds (pessimistic, optimistic) are
    given row for row (one combo's, or many combos' gathered together)."""
    spec = bars.instrument
    n = len(table)
    labels, codes = range_labels(bars, table)
    traded = batch.result != NO_TRADE
    extra = extra or {"entry_no": traded.astype(np.int64), "contracts": traded.astype(np.int64),
                      "no_trade_reason": np.zeros(n, np.int64)}
    values = {
        "date": table.trading_day.astype(np.int64) * NS_PER_DAY,
        **codes,
        "instrument": np.zeros(n, np.int64),
        "direction": batch.direction.astype(np.int64) + 1,
        "result": batch.result,
        "entry_time": batch.entry_ts_ns,
        "exit_time": batch.exit_ts_ns,
        "entry_price": _points(batch.entry_ticks, spec.tick, spec.decimals),
        "exit_price": _points(batch.exit_ticks, spec.tick, spec.decimals),
        "stop_distance": _points(batch.stop_distance_ticks, spec.tick, spec.decimals),
        "target": np.broadcast_to(np.asarray(target, np.float64), (n,)),
        "peak": _points(batch.peak_ticks, spec.tick, spec.decimals),
        "range": _points(table.range_size_ticks, spec.tick, spec.decimals),
        # docs/engine.md Q12/Q13: every micro profit is scaled, with one more decimal.
        "profit": _points(profit, spec.tick * spec.profit_scale,
                          spec.profit_decimals),
        "gross_usd": _usd(money.gross_cents),
        "costs_usd": _usd(money.costs_cents),
        "net_usd": _usd(money.net_cents),
        "open_as_of_time": batch.open_as_of_ns,
        # One contract per trading date (docs/data-formats.md): the range's first bar's.
        "contract": bars.contract_code[table.start_idx],
        **calendar_codes(spec.symbol, table.trading_day),
        "ambiguous": batch.ambiguity != AMBIG_NONE,
        "ambiguity": batch.ambiguity,
        "decided_by": batch.decided_by,
        "result_pessimistic": batch.pessimistic_result,
        "exit_time_pessimistic": batch.pessimistic_exit_ts_ns,
        "exit_price_pessimistic": _points(batch.pessimistic_exit_ticks, spec.tick,
                                          spec.decimals),
        "net_usd_pessimistic": _usd(bound_cents[0]),
        "result_optimistic": batch.optimistic_result,
        "exit_time_optimistic": batch.optimistic_exit_ts_ns,
        "exit_price_optimistic": _points(batch.optimistic_exit_ticks, spec.tick,
                                         spec.decimals),
        "net_usd_optimistic": _usd(bound_cents[1]),
        "entry_no": np.asarray(extra["entry_no"], np.float64),
        "contracts": np.asarray(extra["contracts"], np.float64),
        "no_trade_reason": extra["no_trade_reason"],
    }
    return Columns(values, {**text_labels(bars), **labels})


def range_labels(bars: Bars, table: RangeTable
                 ) -> tuple[dict[str, tuple[str, ...]], dict[str, np.ndarray]]:
    """The slot, session and stream labels and codes of each row: the reference's fixed
    sets, extended by the custom ranges present (session R0830-0845, stream ES-R0830-0845,
    slot its end HH:MM; range_params.range_label)."""
    symbol = bars.instrument.symbol
    custom = table.session_code == CUSTOM_SESSION
    sessions, streams, slots = list(SESSIONS), [bars.instrument.stream(s) for s in SESSIONS], \
        list(ALL_SLOTS)
    session_codes = table.session_code.copy()
    slot_codes = np.searchsorted(SLOT_MINUTES, table.slot_minute)
    if custom.any():
        pairs, inverse = np.unique(np.stack([table.range_start_minute[custom],
                                             table.slot_minute[custom]]), axis=1,
                                   return_inverse=True)
        names = [range_label(int(a), int(b)) for a, b in pairs.T]
        sessions += names
        streams += [f"{symbol}-{name}" for name in names]
        session_codes[custom] = len(SESSIONS) + inverse.reshape(-1)
        ends = sorted({minute_text(int(m)) for m in table.slot_minute[custom]} - set(ALL_SLOTS))
        slots += ends
        lookup = {label: i for i, label in enumerate(slots)}
        slot_codes[custom] = [lookup[minute_text(int(m))] for m in table.slot_minute[custom]]
    labels = {"slot": tuple(slots), "session": tuple(sessions), "stream": tuple(streams)}
    return labels, {"slot": slot_codes, "session": session_codes, "stream": session_codes}


def calendar_codes(symbol: str, trading_day: np.ndarray) -> dict[str, np.ndarray]:
    """Codes of each row's session_close and special_session (calendar.close_labels).

    >>> codes = calendar_codes("ES", np.array([20056, 20055]))  # 2024-11-29, 11-28
    >>> [close_labels("ES")[0][c] for c in codes["session_close"]]
    ['12:15', '12:00']
    """
    days, inverse = np.unique(np.asarray(trading_day, np.int64), return_inverse=True)
    closes, names = session_closes(symbol, days)
    close_set, name_set = close_labels(symbol)
    close_code = np.array([close_set.index(minute_text(c)) for c in closes], np.int64)
    name_code = np.array([name_set.index(name) for name in names], np.int64)
    return {"session_close": close_code[inverse].reshape(-1),
            "special_session": name_code[inverse].reshape(-1)}


def text_labels(bars: Bars) -> dict[str, tuple[str, ...]]:
    """The fixed categories of each text column: the same for every run of an instrument
    (and, for contracts, of a data set)."""
    instrument = bars.instrument
    return {"slot": ALL_SLOTS, "session": SESSIONS, "instrument": (instrument.symbol,),
            "stream": tuple(instrument.stream(s) for s in SESSIONS),
            "direction": DIRECTION_NAMES, "result": RESULT_NAMES, "contract": bars.contracts,
            **dict(zip(("session_close", "special_session"), close_labels(instrument.symbol),
                       strict=True)),
            "ambiguity": AMBIGUITY_NAMES, "decided_by": DECIDED_NAMES,
            "result_pessimistic": RESULT_NAMES, "result_optimistic": RESULT_NAMES,
            "no_trade_reason": REASON_NAMES}


def trades_frame(bars: Bars, table: RangeTable, batch: TradeBatch, rp: RunParams) -> pd.DataFrame:
    """One typed row per range, sorted by date then slot (the table's order)."""
    piece = RowPiece.of(rp, select_rows(bars, table, batch, rp))
    return to_frame(gather_columns(bars, table, [batch], [piece]).columns)


def to_frame(columns: Columns) -> pd.DataFrame:
    """The typed DataFrame: text as categoricals over fixed label sets (cheap to build, the
    same dtype for every run of an instrument), stamps in Chicago time."""
    out = {}
    for name in COLUMNS:
        values = columns.values[name]
        if name in columns.labels:
            out[name] = _labels(values, columns.labels[name])
        elif name in TIME_COLUMNS:
            out[name] = pd.Series(utc_to_chicago(values))
        elif name == "date":
            out[name] = pd.Series(values.astype("datetime64[ns]"))
        elif name in BOOL_COLUMNS:
            out[name] = pd.Series(np.asarray(values, bool))
        else:
            out[name] = pd.Series(np.array(values, np.float64))
    return pd.DataFrame(out)


def categorize_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns read back as strings (from parquet) -> the categoricals of trades_frame."""
    symbols = sorted(set(frame["instrument"].astype(str)))
    contracts = sorted(set(frame["contract"].astype(str))) if "contract" in frame else []
    closes = {label for symbol in symbols for label in close_labels(symbol)[0]}
    names = {label for symbol in symbols for label in close_labels(symbol)[1]}
    categories = {"slot": ALL_SLOTS, "session": SESSIONS, "instrument": symbols,
                  "contract": contracts, "session_close": sorted(closes),
                  "special_session": sorted(names),
                  "stream": [symbol + s[-1] for symbol in symbols for s in SESSIONS],
                  "direction": DIRECTION_NAMES, "result": RESULT_NAMES,
                  "ambiguity": AMBIGUITY_NAMES, "decided_by": DECIDED_NAMES,
                  "result_pessimistic": RESULT_NAMES, "result_optimistic": RESULT_NAMES,
                  "no_trade_reason": REASON_NAMES}
    for name in ("slot", "session", "stream"):  # custom ranges' labels, after the fixed ones
        if name in frame:
            fixed = list(categories[name])
            categories[name] = fixed + sorted(set(frame[name].astype(str)) - set(fixed))
    return frame.astype({name: pd.CategoricalDtype(list(values))
                         for name, values in categories.items() if name in frame})


def _labels(codes: np.ndarray, categories: tuple[str, ...]) -> pd.Series:
    return pd.Series(pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64),
                                               categories=list(categories)))


def _points(ticks: np.ndarray, tick: float, decimals: int) -> np.ndarray:
    # Rounding the float product gives the nearest double to the decimal value;
    # adding 0.0 turns -0.0 into 0.0.
    return np.round(np.asarray(ticks, dtype=np.float64) * tick, decimals) + 0.0


def _usd(cents: np.ndarray) -> np.ndarray:
    """Whole cents as dollars: the nearest double to each exact amount."""
    return np.asarray(cents, np.float64) / 100 + 0.0


def to_legacy(frame: pd.DataFrame) -> pd.DataFrame:
    """The 17 legacy columns as strings in the reference's formats (docs/engine.md §12.1)."""
    out = {
        "Date": frame["date"].dt.strftime("%Y-%m-%d"),
        "Time": frame["slot"],
        "EntryTime": _legacy_time(frame["entry_time"]),
        "ExitTime": _legacy_time(frame["exit_time"]),
        "EntryPrice": _legacy_float(frame["entry_price"]),
        "ExitPrice": _legacy_float(frame["exit_price"]),
        "StopLoss": _legacy_float(frame["stop_distance"]),  # the distance, not a price
        # An integral target prints as an integer, like the reference's int ladder literals.
        "Target": [str(int(t)) if float(t).is_integer() else repr(float(t))
                   for t in frame["target"]],
        "Peak": _legacy_float(frame["peak"]),
        "Direction": [d if d else "NA" for d in frame["direction"]],
        "Result": frame["result"],
        "Range": _legacy_float(frame["range"]),
        "Stream": frame["stream"],
        "Instrument": frame["instrument"],
        "Session": frame["session"],
        "Profit": _legacy_float(frame["profit"]),
        "open_as_of_time": _legacy_time(frame["open_as_of_time"]),
    }
    legacy = pd.DataFrame({name: pd.Series(list(values), dtype=object)
                           for name, values in out.items()}, columns=list(LEGACY_COLUMNS))
    return legacy.astype(object)


def _legacy_time(stamps: pd.Series) -> list[str]:
    # The column is already Chicago time; NaT prints as "".
    return list(stamps.dt.strftime(LEGACY_TIME_FORMAT).fillna(""))


def _legacy_float(values: pd.Series) -> list[str]:
    return [repr(float(v)) for v in values]
