"""Databento DBN files (.dbn, .dbn.zst) through the optional `databento-dbn` package.

What this relies on (databento/dbn, python/python/databento_dbn/_lib.pyi and the DBN
encoding): a file starts with b"DBN", a version byte and the metadata length (u32 little
endian), then the metadata (`Metadata.decode` reads it: schema, stype_out, and `mappings`,
raw symbol -> intervals whose `symbol` is the instrument_id), then fixed-size records.
OHLCV-1m records are `OHLCVMsg._dtypes` (length in 4-byte words, rtype 33, publisher_id,
instrument_id, ts_event in UTC ns at the interval start, open/high/low/close int64 with
1 unit = 1e-9, volume), so they are read in one `np.frombuffer`.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research.engine.formats.base import RawTable
from research.engine.formats.databento import expected_schema, table_from_frame
from research.engine.formats.detect import Detected
from research.engine.formats.textio import guarded, open_bytes
from research.errors import DataError

INSTALL_HINT = ("reading .dbn files needs the optional extra: pip install -e '.[databento]' "
                "(the databento-dbn package)")
HEADER = struct.Struct("<3sBI")  # b"DBN", version, metadata length


def read(file: Path, detected: Detected) -> RawTable:
    """The OHLCV-1m records of a DBN file, with contract symbols from its metadata."""
    dbn = _import_dbn(file)
    with guarded(file), open_bytes(file) as stream:
        data = stream.read()
    if len(data) < HEADER.size or data[:3] != b"DBN":
        raise DataError(f"{file}: is not a DBN file (it does not start with 'DBN')")
    _, _, metadata_length = HEADER.unpack_from(data)
    records_start = HEADER.size + metadata_length
    with guarded(file, "cannot decode its DBN metadata"):
        metadata = dbn.Metadata.decode(data[:records_start])
    schema = str(metadata.schema)
    wanted = expected_schema()
    if schema != str(dbn.Schema.OHLCV_1S if wanted == "ohlcv-1s" else dbn.Schema.OHLCV_1M):
        kind = "1-second" if wanted == "ohlcv-1s" else "1-minute"
        raise DataError(f"{file}: holds Databento schema {schema}, not {wanted}; request "
                        f"{kind} bars (schema {wanted})")
    records = _records(file, dbn, data, records_start)
    frame = pd.DataFrame({name: records[name] for name in
                          ("ts_event", "rtype", "open", "high", "low", "close", "volume")})
    frame["symbol"] = _symbols(metadata, records["instrument_id"])
    if frame["symbol"].isna().any():
        frame["instrument_id"] = records["instrument_id"]
        frame = frame.drop(columns="symbol")
    return table_from_frame(frame, file, detected)


def _import_dbn(file: Path) -> Any:
    try:
        import databento_dbn
    except ImportError:
        raise DataError(f"{file}: {INSTALL_HINT}") from None
    return databento_dbn


def _records(file: Path, dbn: Any, data: bytes, start: int) -> np.ndarray:
    dtype = np.dtype(dbn.OHLCVMsg._dtypes)
    size = len(data) - start
    if size % dtype.itemsize:
        raise DataError(f"{file}: its records are cut short ({size} bytes is no whole number "
                        f"of {dtype.itemsize}-byte OHLCV records); copy the file again")
    records = np.frombuffer(data, dtype=dtype, offset=start)
    if (records["length"] * 4 != dtype.itemsize).any():
        raise DataError(f"{file}: holds records other than OHLCV bars; request schema "
                        "ohlcv-1m alone")
    return records


def _symbols(metadata: Any, instrument_ids: np.ndarray) -> pd.Series:
    """Each record's raw symbol (ESZ4) through the metadata's instrument_id mappings."""
    by_id: dict[int, str] = {}
    for raw_symbol, intervals in (metadata.mappings or {}).items():
        for interval in intervals:
            text = str(interval["symbol"] if isinstance(interval, dict) else interval.symbol)
            if text.isdigit():
                by_id.setdefault(int(text), raw_symbol)
    codes, uniques = pd.factorize(instrument_ids)
    names = np.array([by_id.get(int(value)) for value in uniques], dtype=object)
    return pd.Series(names[codes] if len(uniques) else np.array([], dtype=object))
