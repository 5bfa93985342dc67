"""The columns and types of a sweep's tables (trades, summary), fixed by explicit schemas.

An explicit pyarrow schema on every write means an all-null column never changes a type,
and parameter column types come from every combo's values, never from which finished.

>>> summary_schema([("target", pa.int64())]).names[:3]
['combo_id', 'target', 'ranges']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from research.engine.clock import CHICAGO
from research.engine.execution import NAT_NS
from research.engine.results import BOOL_COLUMNS, COLUMNS, TEXT_COLUMNS, TIME_COLUMNS, Columns
from research.results.metrics import INT_COLUMNS, METRIC_COLUMNS

ParamColumns = Sequence[tuple[str, pa.DataType]]

TRADES_SCHEMA = pa.schema(
    [("combo_id", pa.string())]
    + [(name, pa.timestamp("ns") if name == "date"
        else pa.string() if name in TEXT_COLUMNS
        else pa.timestamp("ns", tz=CHICAGO) if name in TIME_COLUMNS
        else pa.bool_() if name in BOOL_COLUMNS
        else pa.float64()) for name in COLUMNS])


def summary_schema(param_columns: ParamColumns = ()) -> pa.Schema:
    """combo_id, the parameter columns as given, then METRIC_COLUMNS (counts int64)."""
    metrics = [(m, pa.int64() if m in INT_COLUMNS else pa.float64()) for m in METRIC_COLUMNS]
    fields = [("combo_id", pa.string()), *param_columns, *metrics]
    names = [name for name, _ in fields]
    if clashes := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"summary columns {clashes} appear twice (a parameter named as a metric?)")
    return pa.schema(fields)


SHARD_SUMMARY_SCHEMA = summary_schema()


def to_table(data: pa.Table | pd.DataFrame | Sequence[Mapping[str, Any]],
             schema: pa.Schema) -> pa.Table:
    """Exactly `schema` (extra columns dropped, no pandas metadata in the bytes)."""
    if isinstance(data, pa.Table):
        table = data.select(schema.names).cast(schema)
    elif isinstance(data, pd.DataFrame):
        if missing := [name for name in schema.names if name not in data.columns]:
            raise ValueError(f"columns {missing} are missing (have {list(data.columns)})")
        table = pa.Table.from_pandas(data[schema.names], schema=schema, preserve_index=False)
    else:
        table = pa.Table.from_pylist(list(data), schema=schema)
    return table.replace_schema_metadata(None)


def trades_table(columns: Columns, combo_ids: Sequence[str], lengths: np.ndarray) -> pa.Table:
    """A TRADES_SCHEMA table of typed columns whose rows are `lengths[i]` rows of combo
    `combo_ids[i]`, combo after combo: the arrays go to arrow without a pandas frame."""
    codes = np.repeat(np.arange(len(combo_ids), dtype=np.int32), lengths)
    arrays = [_text(codes, combo_ids)]
    for field in list(TRADES_SCHEMA)[1:]:
        values = columns.values[field.name]
        if field.name in TEXT_COLUMNS:
            arrays.append(_text(values, columns.labels[field.name]))
        elif field.name in TIME_COLUMNS:
            arrays.append(pa.array(values.view("M8[ns]"), type=field.type,
                                   mask=values == NAT_NS))
        elif field.name == "date":
            arrays.append(pa.array(values.view("M8[ns]"), type=field.type))
        elif field.name in BOOL_COLUMNS:
            arrays.append(pa.array(np.asarray(values, bool), type=field.type))
        else:
            arrays.append(pa.array(np.ascontiguousarray(values, np.float64), type=field.type))
    return pa.Table.from_arrays(arrays, schema=TRADES_SCHEMA)


def _text(codes: np.ndarray, labels: Sequence[str]) -> pa.Array:
    """Codes into `labels` as a plain string column (arrow decodes in C++)."""
    dictionary = pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, np.int32)),
                                                pa.array(list(labels), pa.string()))
    return dictionary.cast(pa.string())


def param_columns_for(rows: Iterable[Mapping[str, Any]],
                      names: Sequence[str]) -> list[tuple[str, pa.DataType]]:
    """Parameter column types from every combo's values (so they never vary by batching):
    all bool -> bool, all int -> int64, all numbers -> float64, anything else -> JSON text."""
    rows = list(rows)

    def kind(values: list[Any]) -> pa.DataType:
        if values and all(isinstance(v, bool) for v in values):
            return pa.bool_()
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if values and len(numbers) == len(values):
            return pa.int64() if all(isinstance(v, int) for v in values) else pa.float64()
        return pa.string()
    return [(n, kind([r[n] for r in rows if r.get(n) is not None])) for n in names]


def param_table(values: Sequence[Mapping[str, Any]], columns: ParamColumns) -> pa.Table:
    """One row per combo of parameter `values`, typed by `columns` (param_columns_for)."""
    return pa.table({name: pa.array([_cell(row.get(name), kind) for row in values], kind)
                     for name, kind in columns}, schema=pa.schema(columns))


def _cell(value: Any, kind: pa.DataType) -> Any:
    """A parameter value for its column; in a text column lists and mappings (trade_days,
    enabled_slots) and stray numbers become canonical JSON text."""
    if kind == pa.string() and value is not None and not isinstance(value, str):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value
