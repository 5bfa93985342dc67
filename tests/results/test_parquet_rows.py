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


def test_a_long_segment_is_copied_in_windows_of_at_most_window_rows(tmp_path):
    """A task's rows come as one segment of many combos: copied in windows of at most
    window_rows rows (the copies compaction holds stay near one row group), each source
    row group still decoded once, the rows in order."""
    schema, paths = _files_of_groups(tmp_path, files=1, groups=3, rows=100)
    combos = [[f"c{k}", 7] for k in range(40)]  # 280 of the file's 300 rows, after row 10
    with RowReader() as reader:
        got = list(reader.gather([(0, 10, 280, combos)], lambda f: paths[f], schema,
                                 window_rows=30))
        assert reader.decoded == 3 and not reader.groups
    assert [len(table) for table, _ in got] == [28] * 10
    rows = pa.concat_tables([table for table, _ in got]).column("row").to_pylist()
    assert rows == list(range(10, 290))
    assert [pair for _, window in got for *_, members in window for pair in members] == combos


@pytest.mark.parametrize("chunks", [[250], [1, 99, 150], [70] * 3 + [40]])
def test_group_writer_cuts_the_same_row_groups_whatever_the_chunks(tmp_path, chunks):
    from research.results.parquet_rows import GroupWriter

    values = np.arange(sum(chunks), dtype=np.int64)
    path = tmp_path / "out.parquet"
    with pq.ParquetWriter(path, pa.schema([("x", pa.int64())])) as writer:
        pending, start = GroupWriter(writer, 100), 0
        for n in chunks:
            pending.add(pa.table({"x": values[start:start + n]}))
            start += n
            assert pending.rows < 100  # a whole group waiting is written at once
        pending.close()
    file = pq.ParquetFile(path)
    assert [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)] == [
        100, 100, 50]
    assert file.read().column("x").to_pylist() == values.tolist()
