"""Rows (ENGINE_SPEC §12 as amended): trades -> the typed result frame and the legacy strings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.engine.bars import Bars
from research.engine.clock import NS_PER_DAY, utc_to_chicago
from research.engine.execution import NO_TRADE, RESULT_NAMES, TradeBatch
from research.engine.params import RunParams
from research.engine.ranges import RangeTable
from research.engine.sessions import ALL_SLOTS, SESSIONS, minute_of_day

TIME_COLUMNS = ("entry_time", "exit_time", "open_as_of_time")
TEXT_COLUMNS = ("slot", "session", "instrument", "stream", "direction", "result", "contract")
# The typed result frame: same columns and dtypes every time, also when empty (Q26 fix).
COLUMNS = ("date", "slot", "session", "instrument", "stream", "direction", "result",
           "entry_time", "exit_time", "entry_price", "exit_price", "stop_loss", "target",
           "peak", "range", "profit", "open_as_of_time",
           "contract")  # the range's contract ("" when the data names none); not legacy
LEGACY_COLUMNS = ("Date", "Time", "EntryTime", "ExitTime", "EntryPrice", "ExitPrice",
                  "StopLoss", "Target", "Peak", "Direction", "Result", "Range", "Stream",
                  "Instrument", "Session", "Profit", "open_as_of_time")
LEGACY_TIME_FORMAT = "%d/%m/%y %H:%M"
DIRECTION_NAMES = ("Short", "", "Long")  # indexed by side + 1: "" for NoTrade
SLOT_MINUTES = np.array([minute_of_day(slot) for slot in ALL_SLOTS])  # ascending


def trades_frame(bars: Bars, table: RangeTable, batch: TradeBatch, rp: RunParams) -> pd.DataFrame:
    """One typed row per range, sorted by date then slot (the table's order)."""
    if not rp.write_no_trade_rows:
        keep = batch.result != NO_TRADE
        table, batch = table[keep], batch[keep]
    spec = bars.instrument
    n = len(table)
    traded = batch.result != NO_TRADE
    side = batch.direction.astype(np.int64)
    profit_ticks = np.where(traded, (batch.exit_ticks - batch.entry_ticks) * side, 0)
    slot_codes = np.searchsorted(SLOT_MINUTES, table.slot_minute)
    columns = {
        "date": pd.Series((table.trading_day * NS_PER_DAY).astype("datetime64[ns]")),
        # Text columns are categoricals over fixed label sets: cheap to build, and the
        # same dtype for every run of an instrument.
        "slot": _labels(slot_codes, ALL_SLOTS),
        "session": _labels(table.session_code, SESSIONS),
        "instrument": _labels(np.zeros(n, np.int64), (spec.symbol,)),
        "stream": _labels(table.session_code, tuple(spec.stream(s) for s in SESSIONS)),
        "direction": _labels(side + 1, DIRECTION_NAMES),
        "result": _labels(batch.result, RESULT_NAMES),
        "entry_time": _times(batch.entry_ts_ns),
        "exit_time": _times(batch.exit_ts_ns),
        "entry_price": _points(batch.entry_ticks, spec.tick, spec.decimals),
        "exit_price": _points(batch.exit_ticks, spec.tick, spec.decimals),
        "stop_loss": _points(batch.stop_distance_ticks, spec.tick, spec.decimals),
        "target": pd.Series(np.full(n, float(rp.target))),
        "peak": _points(batch.peak_ticks, spec.tick, spec.decimals),
        "range": _points(table.range_size_ticks, spec.tick, spec.decimals),
        # DECISIONS Q12/Q13: every micro profit is scaled, with one more decimal.
        "profit": _points(profit_ticks, spec.tick * spec.profit_scale, spec.profit_decimals),
        "open_as_of_time": _times(batch.open_as_of_ns),
        # One contract per trading date (DATA_FORMATS "Rolls"): the range's first bar's.
        "contract": _labels(bars.contract_code[table.start_idx], bars.contracts),
    }
    return pd.DataFrame(columns)


def categorize_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns read back as strings (from parquet) -> the categoricals of trades_frame."""
    symbols = sorted(set(frame["instrument"].astype(str)))
    contracts = sorted(set(frame["contract"].astype(str))) if "contract" in frame else []
    categories = {"slot": ALL_SLOTS, "session": SESSIONS, "instrument": symbols,
                  "contract": contracts,
                  "stream": [symbol + s[-1] for symbol in symbols for s in SESSIONS],
                  "direction": DIRECTION_NAMES, "result": RESULT_NAMES}
    return frame.astype({name: pd.CategoricalDtype(list(values))
                         for name, values in categories.items() if name in frame})


def _labels(codes: np.ndarray, categories: tuple[str, ...]) -> pd.Series:
    return pd.Series(pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64),
                                               categories=list(categories)))


def _times(ts_ns: np.ndarray) -> pd.Series:
    return pd.Series(utc_to_chicago(ts_ns))


def _points(ticks: np.ndarray, tick: float, decimals: int) -> pd.Series:
    # Rounding the float product gives the nearest double to the decimal value;
    # adding 0.0 turns -0.0 into 0.0.
    return pd.Series(np.round(np.asarray(ticks, dtype=np.float64) * tick, decimals) + 0.0)


def to_legacy(frame: pd.DataFrame) -> pd.DataFrame:
    """The 17 legacy columns as strings in the reference's formats (ENGINE_SPEC §12.1)."""
    out = {
        "Date": frame["date"].dt.strftime("%Y-%m-%d"),
        "Time": frame["slot"],
        "EntryTime": _legacy_time(frame["entry_time"]),
        "ExitTime": _legacy_time(frame["exit_time"]),
        "EntryPrice": _legacy_float(frame["entry_price"]),
        "ExitPrice": _legacy_float(frame["exit_price"]),
        "StopLoss": _legacy_float(frame["stop_loss"]),
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
