"""Messages that fix the file (issue 10) and hostile input (issue 9): every case matched.

Data files are untrusted: a message names the file, the row, the column and the key that
fixes it, shows values cut short, and never is a traceback.
"""

from __future__ import annotations

import gzip
import re
import sys

import pyarrow as pa
import pytest

from research.engine.data import bar_files, load_bars
from research.engine.formats import files
from research.engine.synthetic import synthetic_bars
from research.errors import DataError, SpecError
from research.spec.grid import spec_from_dict
from tests import bar_writers as write

HEADER = "timestamp,open,high,low,close,instrument\n"


@pytest.fixture(scope="module")
def small():
    return synthetic_bars("ES", "2024-03-04", "2024-03-06", seed=1)


def raises(path, message, **keys):
    with pytest.raises(DataError, match=message):
        load_bars(path, **keys)


def test_a_vendor_file_read_as_canonical_names_what_it_found_and_the_format(tmp_path, small):
    path = write.sierrachart(small, tmp_path / "ESH24.txt")
    raises(path, r"ESH24\.txt: missing column\(s\) 'timestamp', 'open', 'high', 'low', 'close';"
           r".*found columns Date, Time, Open, High, Low, Last, Volume, NumberOfTrades, "
           r"BidVolume, AskVolume; this looks like Sierra Chart: format: sierrachart",
           format="canonical")


def test_an_unknown_layout_asks_for_format_or_columns(tmp_path):
    (tmp_path / "odd.csv").write_text("a|b|c\n1|2|3\n")
    raises(tmp_path / "odd.csv", r"odd\.csv: cannot tell its format \(found columns a\|b\|c\);"
           r" give format: \(one of canonical, databento, ninjatrader, sierrachart, kibot, "
           r"firstrate, delimited\) or a columns: mapping")


def test_a_file_of_one_instrument_needs_its_name(tmp_path, small):
    path = write.kibot(small, tmp_path / "bars.txt")
    raises(path, r"bars\.txt: missing column\(s\) 'instrument' and no instrument given \(no "
           r"header; first line '03/04/2024,01:00,.*'\); give instrument: ES")
    assert len(load_bars(path, instrument="ES")) == len(small)


def test_only_other_instruments_says_what_the_data_holds(tmp_path, small):
    write.canonical_csv(small.assign(instrument="NQ"), tmp_path / "nq.csv")
    raises(tmp_path / "nq.csv", r"no ES rows in .*nq\.csv \(the data holds: NQ\)",
           instrument="ES")


def test_fixed_point_prices_read_as_points_name_format_databento(tmp_path, small):
    write.canonical_csv(small.assign(**{name: small[name] * 1e9 for name in write.PRICES}),
                        tmp_path / "raw.csv")
    raises(tmp_path / "raw.csv", r"raw\.csv: column 'open': \d+ row\(s\) with a price above "
           r"1e\+07, .*fixed-point prices .*: format: databento; first: row 0: 4800000000000\.0")


def test_a_layout_with_too_few_fields_names_the_layout(tmp_path):
    (tmp_path / "ES.txt").write_text("12/02/2024,09:31,6045.25\n")
    raises(tmp_path / "ES.txt", r"ES\.txt: cannot read: .*expected the Kibot layout "
           r"MM/DD/YYYY,HH:MM,open,high,low,close,volume", format="kibot")


@pytest.mark.parametrize(("keys", "message"), [
    ({"format": "csv"}, r"format: 'csv' is not one of auto, canonical, databento"),
    ({"roll": "calendar"}, r"roll: 'calendar' is not one of volume, none"),
    ({"timestamps": "end"}, r"timestamps: 'end' is not one of open, close"),
    ({"timezone": "Mars/Base"}, r"timezone: 'Mars/Base' is not an IANA time zone"),
    ({"snap_to_tick": "yes"}, r"snap_to_tick: 'yes' is not true or false"),
    ({"columns": {"close": "Last", "price": "x"}}, r"columns: unknown key\(s\) \['price'\]"),
    ({"columns": {"date": "Date"}}, r"columns: date and time go together"),
    ({"columns": {"close": 1.5}}, r"columns\.close: 1\.5 is not a column name or a 0-based"),
])
def test_bad_keys_are_named(tmp_path, small, keys, message):
    raises(write.canonical_csv(small, tmp_path / "es.csv"), rf"es\.csv: {message}", **keys)


def test_columns_mapping_messages(tmp_path, small):
    path = write.sierrachart(small, tmp_path / "ESH24.txt")
    raises(path, r"ESH24\.txt: columns\.date: 'Dat' is not a column \(found columns Date, "
           r"Time,", columns={"date": "Dat", "time": "Time"})
    raises(path, r"ESH24\.txt: columns: no column for close .*; map it, e\.g\. columns: "
           r"\{close: Last\}", columns={"date": "Date", "time": "Time"})
    assert len(load_bars(path, columns={"date": "Date", "time": "Time", "close": "Last"})) \
        == len(small)
    raises(write.kibot(small, tmp_path / "ES.txt"), r"columns: is for delimited text",
           format="kibot", columns={"close": "x"})


def test_dbn_without_the_extra_says_how_to_install_it(tmp_path, monkeypatch):
    (tmp_path / "glbx.dbn").write_bytes(b"DBN\x03" + b"\x00" * 20)
    monkeypatch.setitem(sys.modules, "databento_dbn", None)
    raises(tmp_path / "glbx.dbn", r"glbx\.dbn: reading \.dbn files needs the optional extra: "
           r"pip install -e '\.\[databento\]'")


# ---------------------------------------------------------------- hostile input (issue 9)


@pytest.mark.parametrize(("text", "message"), [
    ("9999-01-01 08:00:00,1,1,1,1,ES\n", r"column 'timestamp': 1 row\(s\) with a timestamp "
     r"outside pandas' datetime range \(1677-09-21 \.\. 2262-04-11\); first: row 0: "
     r"'9999-01-01 08:00:00'"),
    ("1677-01-01 08:00:00-06:00,1,1,1,1,ES\n", r"column 'timestamp': 1 row\(s\) with a "
     r"timestamp outside pandas' datetime range .*; first: row 0: '1677-01-01 08:00:00-06:00'"),
])
def test_timestamps_outside_pandas_range_are_one_line_errors(tmp_path, text, message):
    (tmp_path / "far.csv").write_text(HEADER + text)
    raises(tmp_path / "far.csv", rf"far\.csv: {message}")


def test_a_vendor_date_outside_pandas_range_is_named(tmp_path):
    (tmp_path / "ES.txt").write_text("01/01/9999,09:31,1,1,1,1,5\n")
    raises(tmp_path / "ES.txt", r"ES\.txt: column 'date': 1 row\(s\) with a date that does not "
           r"parse as %m/%d/%Y or lies outside pandas' datetime range .*row 0: '01/01/9999'")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("binary.csv", b"\x00\x01\x02garbage\xff", r"is binary, not text bars \(a NUL byte at 0\)"),
    ("latin.csv", (HEADER + "2024-01-02 08:00:00,1,1,1,1,\xc9S\n").encode("latin-1"),
     r"is not UTF-8 text \(byte 69 of the decompressed data\); save the export as UTF-8"),
    ("empty.csv", b"", r"is empty \(no bars; expected a header or a first row\)"),
    ("blank.txt.gz", gzip.compress(b"\n\n"), r"is empty"),
    ("header.csv", HEADER.encode(), r"has a header but no rows \(found columns timestamp, "
     r"open, high, low, close, instrument\)"),
])
def test_unreadable_files_are_named(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    raises(tmp_path / name, rf"{re.escape(name)}: {message}", format="canonical")


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.zst"])
def test_a_truncated_archive_is_named(tmp_path, small, suffix):
    data = write.canonical_csv(small, tmp_path / "full.csv").read_bytes()
    packed = gzip.compress(data) if suffix.endswith("gz") else pa.compress(
        data, codec="zstd", asbytes=True)
    (tmp_path / f"cut{suffix}").write_bytes(packed[: len(packed) // 2])
    raises(tmp_path / f"cut{suffix}", rf"cut{re.escape(suffix)}: is a truncated archive "
           r"\(the compressed data ends early\); download or copy it again")


def test_values_in_messages_are_cut_short(tmp_path):
    (tmp_path / "long.csv").write_text(HEADER + "2024-01-02 08:00:00," + "9" * 5000 + "x,1,1,1,"
                                       "ES\n")
    with pytest.raises(DataError) as caught:
        load_bars(tmp_path / "long.csv")
    assert "(5001 chars)" in str(caught.value) and len(str(caught.value)) < 400


@pytest.mark.parametrize("path", ["/", "/**/*.csv"])
def test_a_system_folder_or_global_glob_is_a_bounded_search(monkeypatch, path):
    monkeypatch.setattr(files, "MAX_SCAN_ENTRIES", 2000)
    with pytest.raises(DataError, match=rf"^{re.escape(path)}: searching it took more than 2000 "
                                        r"folder entries and was stopped; point the data path at"
                                        r" a narrower folder or glob"):
        bar_files(path)
    with pytest.raises(SpecError, match=r"data\.path: .*searching it took more than 2000"):
        spec_from_dict({"data": {"path": path}, "base": {"instrument": "ES"}})


def test_the_search_has_a_time_bound(monkeypatch, tmp_path):
    for index in range(2100):
        (tmp_path / f"n{index}.md").write_text("")
    monkeypatch.setattr(files, "MAX_SCAN_SECONDS", -1.0)
    with pytest.raises(DataError, match=r"searching it took more than -1 s and was stopped"):
        bar_files(tmp_path)


def test_notes_in_a_data_folder_are_skipped_but_vendor_text_is_read(tmp_path, small):
    (tmp_path / "README.txt").write_text("ES minute bars from Kibot\n")
    write.kibot(small, tmp_path / "ES.txt")
    assert bar_files(tmp_path) == [tmp_path / "ES.txt"]
    assert len(load_bars(tmp_path)) == len(small)
