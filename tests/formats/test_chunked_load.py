"""A large text file read a chunk of rows at a time (issue 19: a CSV's load peaks at no more
than ~2x its size) gives exactly what one read of the whole file gives: the same frame,
report, Bars, and the same error when a chunk holds a bad value or the chunks disagree on
what the whole file decides once (a date format, a stamp zone)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from research.engine.data import LoadOptions, bars_from_files, load_with_report
from research.engine.formats import chunked, loader
from research.engine.formats.checks import _dst_periods
from research.engine.synthetic import synthetic_bars
from research.errors import DataError
from tests import bar_writers as write
from tests.formats.test_formats import (  # noqa: F401 (fixtures)
    LAYOUTS,
    assert_same_bars,
    es_frame,
    layout_files,
)

CHUNK_ROWS = 997  # a few chunks per file, the last one short
FAST = ("ES.txt", "canonical.csv")  # the fast loop's two; every text layout is a slow test
TEXT_LAYOUTS = [name if name in FAST else pytest.param(name, marks=pytest.mark.slow)
                for name in LAYOUTS if not name.endswith(".parquet")]


class Spy:
    """Counts the loader's chunked reads that gave a result (not a fall-back)."""

    def __init__(self) -> None:
        self.results = 0

    def __call__(self, *args, **kwargs):
        found = chunked.read_in_chunks(*args, **kwargs)
        self.results += found is not None
        return found


def load(path, keys, monkeypatch, *, chunks: bool, rows: int = CHUNK_ROWS, bars=False):
    """load_with_report (or bars_from_files) with chunks forced on or off; with them on,
    also how many files were read in chunks."""
    spy = Spy()
    with monkeypatch.context() as patch:
        patch.setattr(chunked, "CHUNKED_ABOVE_BYTES", 0 if chunks else 1 << 62)
        patch.setattr(chunked, "CHUNK_ROWS", rows)
        patch.setattr(loader, "read_in_chunks", spy)
        if bars:
            found = bars_from_files(path, LoadOptions.checked(str(path), **keys))
        else:
            found = load_with_report(path, **keys)
    return found, spy.results


@pytest.mark.parametrize("name", TEXT_LAYOUTS)
def test_every_text_layout_loads_alike_in_chunks(layout_files, name,  # noqa: F811
                                                  monkeypatch):
    path, keys, _, _ = layout_files[name]
    (whole, whole_report), _ = load(path, keys, monkeypatch, chunks=False)
    (frame, report), read = load(path, keys, monkeypatch, chunks=True)
    assert read == 1 and len(whole) > 3 * CHUNK_ROWS  # chunks, not the fall-back
    pd.testing.assert_frame_equal(frame, whole, check_exact=True)
    assert frame.attrs == whole.attrs and report == whole_report


@pytest.mark.parametrize("name", ["ES.txt",
                                  pytest.param("canonical.csv", marks=pytest.mark.slow),
                                  pytest.param("ESH24.txt", marks=pytest.mark.slow)])
def test_the_sweeps_bars_are_the_same_from_chunks(layout_files, name,  # noqa: F811
                                                  monkeypatch):
    path, keys, _, _ = layout_files[name]
    keys = {**keys, "instrument": "ES", "start": "2024-03-01"}
    whole, _ = load(path, keys, monkeypatch, chunks=False, bars=True)
    bars, read = load(path, keys, monkeypatch, chunks=True, bars=True)
    assert read == 1
    assert_same_bars(bars, whole, name)


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_same_error(path, keys, monkeypatch, expected: str):
    with pytest.raises(DataError, match=expected) as whole:
        load(path, keys, monkeypatch, chunks=False)
    with pytest.raises(DataError) as chunks:
        load(path, keys, monkeypatch, chunks=True, rows=50)
    assert str(chunks.value) == str(whole.value)


@pytest.fixture(scope="module")
def kibot_lines(tmp_path_factory):
    frame = synthetic_bars("ES", "2024-03-04", "2024-03-06", seed=2)
    path = write.kibot(frame, tmp_path_factory.mktemp("kibot") / "ES.txt")
    return path.read_text().splitlines()


def test_a_bad_price_in_a_later_chunk_gives_the_whole_files_message(kibot_lines, tmp_path,
                                                                     monkeypatch):
    lines = list(kibot_lines)
    for at in (400, 1500):  # two bad rows, in two chunks: the message counts both
        fields = lines[at].split(",")
        lines[at] = ",".join([*fields[:3], "4801.x", *fields[4:]])
    path = write_lines(tmp_path / "ES.txt", lines)
    assert_same_error(path, {}, monkeypatch, r"2 row\(s\) with a non-numeric value")


def test_chunks_with_other_date_formats_give_the_whole_files_message(tmp_path, monkeypatch):
    # each chunk alone reads with one of Sierra Chart's date formats; the whole file with none
    frame = synthetic_bars("ES", "2024-03-04", "2024-03-06", seed=2)
    lines = write.sierrachart(frame, tmp_path / "written.txt").read_text().splitlines()
    for at in range(1 + 1000, len(lines)):  # after the header and 1000 rows: MM/DD/YYYY
        date, rest = lines[at].split(",", 1)
        year, month, day = date.split("/")
        lines[at] = f"{month}/{day}/{year},{rest}"
    path = write_lines(tmp_path / "ESH24.txt", lines)
    assert_same_error(path, {}, monkeypatch, "with a date that does not parse as")


def test_naive_and_offset_stamps_in_different_chunks_give_the_whole_files_message(
        tmp_path, monkeypatch):
    lines = ["timestamp,open,high,low,close,instrument"]
    stamps = pd.date_range("2024-03-04 08:00", periods=200, freq="min")
    for number, stamp in enumerate(stamps):
        text = str(stamp) if number < 100 else f"{stamp}-06:00"
        lines.append(f"{text},4800.25,4801.0,4800.0,4800.5,ES")
    path = write_lines(tmp_path / "es.csv", lines)
    assert_same_error(path, {}, monkeypatch, "without a UTC offset among timestamps")


def test_a_short_file_reads_whole_and_a_header_only_one_stays_an_error(tmp_path,
                                                                        monkeypatch):
    path = write_lines(tmp_path / "es.csv", ["timestamp,open,high,low,close,instrument"])
    with pytest.raises(DataError) as whole:
        load(path, {}, monkeypatch, chunks=False)
    with pytest.raises(DataError, match=re.escape(str(whole.value))):
        load(path, {}, monkeypatch, chunks=True)


def test_dst_periods_in_time_order_are_the_sorted_ones():
    # the time-ordered shortcut gives the periods np.unique gives on the same stamps shuffled
    utc_ns = np.arange(0, 400 * 86_400, 3_600, dtype=np.int64) * 10**9 + 1_704_067_200 * 10**9
    shuffled = np.random.default_rng(1).permutation(utc_ns)
    in_order = [utc_ns[rows] for rows in _dst_periods(utc_ns)]
    by_sort = [np.sort(shuffled[rows]) for rows in _dst_periods(shuffled)]
    assert len(in_order) == len(by_sort) > 2
    for left, right in zip(in_order, by_sort, strict=True):
        np.testing.assert_array_equal(left, right)
