"""Rows copied by position out of parquet files (research/results/parquet_rows.py)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from research.results.parquet_rows import RowReader


def _files_of_groups(tmp_path, files: int, groups: int, rows: int):
    """`files` parquet files of `groups` row groups of `rows` rows: combo_id and a row count."""
    schema = pa.schema([("combo_id", pa.string()), ("row", pa.int64())])
    paths = []
    for f in range(files):
        values = np.arange(groups * rows, dtype=np.int64) + 1000 * f
        table = pa.table({"combo_id": [f"f{f}"] * len(values), "row": values}, schema=schema)
        paths.append(tmp_path / f"source{f}.parquet")
        pq.write_table(table, paths[-1], row_group_size=rows)
    return schema, paths


@pytest.mark.parametrize("interleaved", [False, True])
def test_reader_drops_each_row_group_after_its_last_read(tmp_path, interleaved):
    schema, paths = _files_of_groups(tmp_path, files=3, groups=2, rows=100)
    if interleaved:  # 10 rows of each file in turn, as when tasks run in another order
        reads = [(f, start, 10) for start in range(0, 200, 10) for f in range(3)]
    else:
        reads = [(f, 0, 200) for f in range(3)]
    segments = [(f, start, n, [[f"f{f}", n]]) for f, start, n in reads]
    with RowReader() as reader:
        got = list(reader.gather(segments, lambda f: paths[f], schema, window_rows=30))
        assert reader.cached == 0 and not reader.groups  # nothing left once read
        assert reader.decoded == 6  # and each group decoded once
    rows = pa.concat_tables([table for table, _ in got]).column("row").to_pylist()
    assert rows == [1000 * f + r for f, start, n in reads for r in range(start, start + n)]
    one_group = pq.read_table(paths[0]).slice(0, 100).nbytes
    # in order a group or two are held at once; interleaved, one per file and the next
    assert reader.peak_cached <= (2 if not interleaved else 4) * one_group + 64
