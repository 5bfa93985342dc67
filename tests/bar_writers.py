"""The same bars written out in every vendor layout of docs/data-formats.md (for tests, benchmarks).

Each writer takes a canonical frame (timestamp tz-aware, open/high/low/close, instrument, and
optionally volume/contract) and writes it the way that vendor does: its columns, separator,
zone, stamp convention and price form. Nothing is downloaded.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

PRICES = ("open", "high", "low", "close")
EASTERN = "America/New_York"
CHICAGO = "America/Chicago"
MINUTE = pd.Timedelta(minutes=1)


def with_volume(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The frame with a deterministic integer volume column (kept if already there)."""
    if "volume" in df.columns:
        return df
    rng = np.random.default_rng(seed)
    return df.assign(volume=rng.integers(1, 2000, len(df)))


def wall(df: pd.DataFrame, zone: str, end_stamps: bool = False) -> pd.Series:
    """Naive wall-clock stamps in `zone`, of the bar's open (or its end)."""
    stamps = df["timestamp"].dt.tz_convert(zone).dt.tz_localize(None)
    return stamps + MINUTE if end_stamps else stamps


def canonical_csv(df: pd.DataFrame, path: Path) -> Path:
    with_volume(df).to_csv(path, index=False)
    return path


def canonical_parquet(df: pd.DataFrame, path: Path) -> Path:
    with_volume(df).to_parquet(path, index=False)
    return path


def _databento_frame(df: pd.DataFrame, raw: bool) -> pd.DataFrame:
    df = with_volume(df)
    symbol = df["contract"] if "contract" in df.columns else df["instrument"] + "H4"
    utc = df["timestamp"].dt.tz_convert("UTC")
    out = pd.DataFrame({"ts_event": utc.astype("int64") if raw else
                        utc.dt.strftime("%Y-%m-%dT%H:%M:%S.000000000Z"),
                        "rtype": 33, "publisher_id": 1,
                        "instrument_id": pd.factorize(symbol)[0] + 4216})
    for name in PRICES:
        out[name] = np.rint(df[name].to_numpy() * 1e9).astype(np.int64) if raw else df[name]
    out["volume"] = df["volume"].to_numpy()
    out["symbol"] = symbol.to_numpy()
    return out


def databento_csv(df: pd.DataFrame, path: Path, raw: bool = True) -> Path:
    _databento_frame(df, raw).to_csv(path, index=False, float_format=None if raw else "%.9f")
    return path


def databento_parquet(df: pd.DataFrame, path: Path) -> Path:
    _databento_frame(df, raw=True).to_parquet(path, index=False)
    return path


def databento_dbn(df: pd.DataFrame, path: Path, zstd: bool = False) -> Path:
    """A DBN file written with the databento-dbn package itself (Metadata + OHLCVMsg bytes)."""
    import datetime as dt
    from types import SimpleNamespace

    import databento_dbn as dbn

    frame = _databento_frame(df, raw=True)
    mappings = [SimpleNamespace(raw_symbol=symbol, intervals=[SimpleNamespace(
        start_date=dt.date(2000, 1, 1), end_date=dt.date(2100, 1, 1), symbol=str(ident))])
        for symbol, ident in frame.groupby("symbol")["instrument_id"].first().items()]
    metadata = dbn.Metadata(dataset="GLBX.MDP3", start=int(frame["ts_event"].min()),
                            stype_in=dbn.SType.PARENT, stype_out=dbn.SType.INSTRUMENT_ID,
                            schema=dbn.Schema.OHLCV_1M, symbols=["ES.FUT"], mappings=mappings,
                            end=int(frame["ts_event"].max()) + 60_000_000_000)
    records = np.zeros(len(frame), dtype=np.dtype(dbn.OHLCVMsg._dtypes))
    records["length"], records["rtype"], records["publisher_id"] = 14, 33, 1
    for name in ("instrument_id", "ts_event", *PRICES, "volume"):
        records[name] = frame[name].to_numpy()
    data = bytes(metadata) + records.tobytes()
    path.write_bytes(pa.compress(data, codec="zstd", asbytes=True) if zstd else data)
    return path


def ninjatrader(df: pd.DataFrame, path: Path, zone: str = "UTC") -> Path:
    """`yyyyMMdd HHmmss;o;h;l;c;v`, no header, stamped at the bar's end, in UTC as NinjaTrader 8
    writes its exports."""
    df = with_volume(df)
    stamps = wall(df, zone, end_stamps=True).dt.strftime("%Y%m%d %H%M%S")
    _write_rows(path, [stamps, *_prices(df), df["volume"].astype(str)], ";")
    return path


def sierrachart(df: pd.DataFrame, path: Path, zone: str = CHICAGO) -> Path:
    df = with_volume(df)
    stamps = wall(df, zone)
    dates = (stamps.dt.year.astype(str) + "/" + stamps.dt.month.astype(str) + "/"
             + stamps.dt.day.astype(str))
    times = stamps.dt.strftime("%H:%M:%S.000")
    volume = df["volume"].astype(str)
    header = "Date, Time, Open, High, Low, Last, Volume, NumberOfTrades, BidVolume, AskVolume"
    _write_rows(path, [dates, times, *_prices(df), volume, volume, volume, volume], ", ",
                header=header)
    return path


def kibot(df: pd.DataFrame, path: Path, zone: str = EASTERN) -> Path:
    df = with_volume(df)
    stamps = wall(df, zone)
    _write_rows(path, [stamps.dt.strftime("%m/%d/%Y"), stamps.dt.strftime("%H:%M"),
                       *_prices(df), df["volume"].astype(str)], ",")
    return path


def firstrate(df: pd.DataFrame, path: Path, zone: str = EASTERN) -> Path:
    df = with_volume(df)
    stamps = wall(df, zone).dt.strftime("%Y-%m-%d %H:%M:%S")
    _write_rows(path, [stamps, *_prices(df), df["volume"].astype(str)], ",")
    return path


def generic_semicolon(df: pd.DataFrame, path: Path, zone: str = CHICAGO) -> Path:
    """`Datum;Zeit;Erster;Hoch;Tief;Letzter;Volumen` with dd.mm.yyyy dates (gzip by suffix)."""
    df = with_volume(df)
    stamps = wall(df, zone)
    _write_rows(path, [stamps.dt.strftime("%d.%m.%Y"), stamps.dt.strftime("%H:%M"),
                       *_prices(df), df["volume"].astype(str)], ";",
                header="Datum;Zeit;Erster;Hoch;Tief;Letzter;Volumen")
    return path


GENERIC_COLUMNS = {"date": "Datum", "time": "Zeit", "open": "Erster", "high": "Hoch",
                   "low": "Tief", "close": "Letzter", "volume": "Volumen",
                   "date_format": "%d.%m.%Y"}


def _prices(df: pd.DataFrame) -> list[pd.Series]:
    return [df[name].map(repr) for name in PRICES]


def _write_rows(path: Path, columns: list[pd.Series], sep: str, header: str | None = None
                ) -> None:
    text = columns[0].astype(str)
    for column in columns[1:]:
        text = text + sep + column.astype(str).to_numpy()
    body = "\n".join(text) + "\n"
    if header:
        body = header + "\n" + body
    data = body.encode()
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    elif path.name.endswith(".zst"):
        data = pa.compress(data, codec="zstd", asbytes=True)
    path.write_bytes(data)
