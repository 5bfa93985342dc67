"""load_bars / prepare_bars: zone handling, exact ticks, validation (docs/engine.md Q22-Q24)."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from research.engine.clock import CHICAGO, EPOCH, day_number, utc_to_chicago
from research.engine.data import (
    bar_files,
    load_bars,
    prepare_bars,
    tradable_instrument,
)
from research.engine.instruments import INSTRUMENTS
from research.engine.synthetic import synthetic_bars
from research.engine.timestamps import chicago_text, chicago_wall_ns
from research.errors import DataError
from research.results.provenance import bars_fingerprint

DAY_2024_01_09 = (date(2024, 1, 9) - date(1970, 1, 1)).days


def es_frame(stamps: list[str] | None = None, instrument: str = "ES") -> pd.DataFrame:
    """Four valid ES bars on Tue 2024-01-09 from 08:00 Chicago (or at the given stamps)."""
    stamps = stamps or [f"2024-01-09 08:0{i}:00" for i in range(4)]
    count = len(stamps)
    opens = 4800.0 + 0.25 * np.arange(count)
    return pd.DataFrame({
        "timestamp": pd.DatetimeIndex(stamps).tz_localize(CHICAGO),
        "open": opens, "high": opens + 1.0, "low": opens - 1.0, "close": opens + 0.5,
        "instrument": [instrument] * count,
    })


def with_value(df: pd.DataFrame, column: str, row: int, value: object) -> pd.DataFrame:
    """A copy with one cell replaced; the column becomes object dtype when the value needs it."""
    out = df.copy()
    values = out[column].to_numpy(dtype=object).copy()
    values[row] = value
    out[column] = pd.Series(values, dtype=object) if isinstance(value, str) else values
    if column != "timestamp" and not isinstance(value, str):
        out[column] = out[column].astype(np.float64)
    return out


def arrays(bars) -> tuple[np.ndarray, ...]:
    return (bars.ts_ns, bars.open_ticks, bars.high_ticks, bars.low_ticks, bars.close_ticks,
            bars.minute_of_day, bars.trading_day)


# ---------------------------------------------------------------- prepare: the happy path


def test_prepare_gives_exact_owned_arrays():
    df = es_frame()
    bars = prepare_bars(df, "ES")
    assert len(bars) == 4 and bars.instrument.symbol == "ES" and bars.source == "<frame>"
    assert bars.open_ticks.tolist() == [19200, 19201, 19202, 19203]
    assert bars.high_ticks.tolist() == [19204, 19205, 19206, 19207]
    assert bars.minute_of_day.tolist() == [480, 481, 482, 483]
    assert bars.trading_day.tolist() == [DAY_2024_01_09] * 4
    assert bars.ts_ns[0] == pd.Timestamp("2024-01-09 14:00", tz="UTC").value
    expected_dtypes = ["int64"] * 5 + ["int16", "int32"]
    assert [a.dtype.name for a in arrays(bars)] == expected_dtypes
    for values in arrays(bars):
        assert values.flags.c_contiguous and values.flags.owndata
        assert not np.shares_memory(values, df["timestamp"].array.asi8)


@pytest.mark.parametrize(("symbol", "price", "ticks"), [
    ("CL", 70.07, 7007), ("MCL", 69.66, 6966), ("NG", 2.345, 2345), ("NG", 0.001, 1),
    ("GC", 2034.7, 20347), ("RTY", 1999.9, 19999), ("YM", 38123.0, 38123), ("ES", 4800.25, 19201),
])
def test_decimal_ticks_are_exact(symbol, price, ticks):
    df = es_frame(instrument=symbol).iloc[:1].assign(open=price, high=price, low=price,
                                                     close=price)
    assert prepare_bars(df, symbol).close_ticks.tolist() == [ticks]


def test_prices_within_a_hundredth_of_a_tick_are_accepted():
    df = es_frame().assign(close=lambda d: d["close"] + 0.0001)
    assert prepare_bars(df, "ES").close_ticks.tolist() == prepare_bars(es_frame(), "ES") \
        .close_ticks.tolist()


def test_snap_to_tick_rounds_off_grid_prices():
    df = es_frame().assign(close=[4800.1, 4800.4, 4800.6, 4801.2])
    assert prepare_bars(df, "ES", snap_to_tick=True).close_ticks.tolist() == \
        [19200, 19202, 19202, 19205]
    with pytest.raises(DataError, match="off the ES tick grid"):
        prepare_bars(df, "ES")


def test_bars_at_23_00_belong_to_the_next_trading_day():
    stamps = ["2024-01-08 22:59:00", "2024-01-08 23:00:00", "2024-01-08 23:59:00",
              "2024-01-09 00:00:00"]
    bars = prepare_bars(es_frame(stamps), "ES")
    assert bars.trading_day.tolist() == [DAY_2024_01_09 - 1] + [DAY_2024_01_09] * 3
    assert bars.minute_of_day.tolist() == [1379, 1380, 1439, 0]


def test_minute_of_day_is_chicago_wall_time_across_dst():
    stamps = ["2024-03-08 08:30:00", "2024-03-11 08:30:00", "2024-11-01 08:30:00",
              "2024-11-04 08:30:00"]
    bars = prepare_bars(es_frame(stamps), "ES")
    assert bars.minute_of_day.tolist() == [510] * 4
    hours = np.diff(bars.ts_ns)[[0, 2]] / 3.6e12
    assert hours.tolist() == [71.0, 73.0]  # spring forward loses an hour, fall back adds one


# ---------------------------------------------------------------- timestamp forms (Q22/Q23)


DST_STAMPS = ["2024-03-08 15:59:00", "2024-03-10 17:00:00", "2024-03-11 08:30:00",
              "2024-03-11 23:15:00"]


def timestamp_forms() -> dict[str, pd.Series]:
    local = pd.DatetimeIndex(DST_STAMPS).tz_localize(CHICAGO)
    utc = local.tz_convert("UTC")
    return {
        "aware chicago": pd.Series(local),
        "aware utc": pd.Series(utc),
        "aware other zone": pd.Series(local.tz_convert("Asia/Tokyo")),
        "naive chicago": pd.Series(local.tz_localize(None)),
        "text chicago offsets": pd.Series([str(s) for s in local]),
        "text utc offsets": pd.Series([str(s) for s in utc]),
        "text Z": pd.Series([s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in utc]),
        "text naive": pd.Series(DST_STAMPS),
        "text naive iso T": pd.Series([s.replace(" ", "T") for s in DST_STAMPS]),
        "objects mixed zones": pd.Series([local[0], utc[1], local[2], utc[3]], dtype=object),
        "text mixed offsets": pd.Series([str(local[0]), str(utc[1]), str(local[2]),
                                         str(utc[3])]),
    }


@pytest.mark.parametrize("form", list(timestamp_forms()))
def test_every_timestamp_form_gives_identical_bars(form):
    reference = prepare_bars(es_frame(DST_STAMPS), "ES")
    df = es_frame(DST_STAMPS)
    df["timestamp"] = timestamp_forms()[form].to_numpy(dtype=object) if form.startswith(
        "objects") else timestamp_forms()[form]
    bars = prepare_bars(df, "ES")
    assert bars_fingerprint(bars) == bars_fingerprint(reference)


def test_naive_timestamps_use_the_given_timezone():
    df = es_frame()
    df["timestamp"] = df["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)
    assert bars_fingerprint(prepare_bars(df, "ES", timezone="UTC")) == \
        bars_fingerprint(prepare_bars(es_frame(), "ES"))


def test_rows_are_sorted_stably_and_identical_duplicates_dropped():
    df = es_frame()
    shuffled = pd.concat([df.iloc[[3, 1]], df.iloc[[1, 0, 2, 2]]], ignore_index=True)
    bars = prepare_bars(shuffled, "ES")
    assert bars_fingerprint(bars) == bars_fingerprint(prepare_bars(df, "ES"))


# ---------------------------------------------------------------- instruments (Q24)


def test_other_instruments_and_their_bad_rows_do_not_matter():
    es = es_frame()
    nq = es_frame(instrument="NQ").assign(high=np.nan, close="junk")
    nq["timestamp"] = ["not a time", "2024-03-10 02:30:00", None, "x"]
    unknown = es_frame(instrument="FOO").assign(low=1e9)
    df = pd.concat([nq, es, unknown], ignore_index=True)
    assert bars_fingerprint(prepare_bars(df, "ES")) == bars_fingerprint(prepare_bars(es, "ES"))


def test_minutedataexport_rows_count_as_es():
    df = es_frame().assign(instrument=[" minutedataexport", "MINUTEDATAEXPORT", "es ", "Es"])
    assert bars_fingerprint(prepare_bars(df, "ES")) == \
        bars_fingerprint(prepare_bars(es_frame(), "ES"))


def test_requested_instrument_is_normalised():
    assert len(prepare_bars(es_frame(), " es ")) == 4


@pytest.mark.parametrize(("symbol", "message"), [
    ("XX", r"<frame>: instrument argument: unknown instrument 'XX'; known: ES, NQ"),
    ("MINUTEDATAEXPORT", r"MINUTEDATAEXPORT is ES in bar files: ask for ES"),
])
def test_unknown_requested_instrument_is_an_error(symbol, message):
    with pytest.raises(DataError, match=message):
        prepare_bars(es_frame(instrument=symbol), symbol)


def test_tradable_instrument_is_the_one_instrument_argument_check(tmp_path):
    assert tradable_instrument(" mes ", "here") is INSTRUMENTS["MES"]
    with pytest.raises(DataError, match=r"^here: instrument argument: unknown instrument 'XX'"):
        tradable_instrument("XX", "here")
    es_frame().to_csv(tmp_path / "es.csv", index=False)
    with pytest.raises(DataError, match=r"es\.csv: instrument argument: unknown instrument 'ZZ'"):
        load_bars(tmp_path / "es.csv", instrument="ZZ")


def test_no_rows_of_the_instrument_is_an_error():
    with pytest.raises(DataError, match=r"no NQ rows in <frame> \(column 'instrument' holds: ES\)"):
        prepare_bars(es_frame(), "NQ")


# ---------------------------------------------------------------- validation messages


@pytest.mark.parametrize("column", ["timestamp", "open", "high", "low", "close", "instrument"])
def test_missing_column_is_named(column):
    with pytest.raises(DataError, match=rf"<frame>: missing column\(s\) '{column}'"):
        prepare_bars(es_frame().drop(columns=column), "ES")


def test_timestamp_index_gets_a_hint():
    with pytest.raises(DataError, match=r"it is the index: reset_index\(\) first"):
        prepare_bars(es_frame().set_index("timestamp"), "ES")


BAD_CELLS = [
    ("close", 2, "abc", r"column 'close': 1 row\(s\) with a non-numeric value; "
                        r"first: row 2: 'abc'"),
    ("high", 1, np.nan, r"column 'high': 1 row\(s\) with a NaN, infinite or out-of-range price; "
                        r"first: row 1: nan"),
    ("low", 3, np.inf, r"column 'low': 1 row\(s\) with a NaN, infinite .*row 3: inf"),
    ("close", 0, 4800.1, r"column 'close': 1 row\(s\) with a price off the ES tick grid \(0.25;"
                         r" snap_to_tick=True rounds it\); first: row 0: 4800.1"),
    ("high", 2, 4790.0, r"column 'high': 1 row\(s\) with high < low; first: row 2: "
                        r"open=4800.5 high=4790.0 low=4799.5 close=4801.0"),
    ("open", 1, 4802.0, r"column 'open': 1 row\(s\) with open outside \[low, high\]; first: row 1"),
    ("close", 3, 4790.0, r"column 'close': 1 row\(s\) with close outside \[low, high\]; first: "
                         r"row 3"),
    ("timestamp", 2, "yesterday", r"column 'timestamp': 1 row\(s\) with an unparseable "
                                  r"timestamp .*first: row 2: 'yesterday'"),
    ("timestamp", 1, None, r"column 'timestamp': 1 row\(s\) with a missing timestamp; "
                           r"first: row 1"),
]


@pytest.mark.parametrize(("column", "row", "value", "message"), BAD_CELLS)
def test_bad_cell_is_named_with_column_row_and_value(column, row, value, message):
    df = es_frame()
    if column == "timestamp":
        df["timestamp"] = [*(str(s) for s in df["timestamp"])]
        df.loc[row, "timestamp"] = value
    else:
        df = with_value(df, column, row, value)
    with pytest.raises(DataError, match=rf"^<frame>: {message}"):
        prepare_bars(df, "ES")


def test_count_is_total_and_only_the_first_five_rows_are_shown():
    df = es_frame([f"2024-01-09 08:{m:02d}:00" for m in range(9)])
    df.loc[[1, 2, 4, 5, 6, 7, 8], "close"] = np.nan
    with pytest.raises(DataError) as caught:
        prepare_bars(df, "ES")
    message = str(caught.value)
    assert "column 'close': 7 row(s)" in message and "(and 2 more)" in message
    assert re.findall(r"row (\d+):", message) == ["1", "2", "4", "5", "6"]


def many_bad_rows_message(df: pd.DataFrame) -> str:
    with pytest.raises(DataError) as caught:
        prepare_bars(df, "ES")
    return str(caught.value)


def test_ohlc_errors_count_every_row_and_show_the_first_five():
    df = es_frame([f"2024-01-09 08:{m:02d}:00" for m in range(9)])
    df.loc[[0, 2, 3, 4, 6, 7, 8], "high"] = 4700.0
    message = many_bad_rows_message(df)
    assert "column 'high': 7 row(s) with high < low" in message and "(and 2 more)" in message
    assert re.findall(r"row (\d+):", message) == ["0", "2", "3", "4", "6"]
    assert message.count("open=") == 5


def test_dst_errors_count_every_row_and_show_the_first_five():
    gap = [f"2024-03-10 02:{m:02d}:00" for m in range(7)]
    df = es_frame().iloc[[0] * 9].reset_index(drop=True)
    df["timestamp"] = ["2024-03-10 01:58:00", *gap, "2024-11-03 01:30:00"]
    message = many_bad_rows_message(df)
    assert "column 'timestamp': 8 row(s) with a wall time that does not exist" in message
    assert "(and 3 more)" in message
    assert re.findall(r"row (\d+):", message) == ["1", "2", "3", "4", "5"]
    assert message.count("(does not exist)") == 5 and "ambiguous)" not in message


def test_missing_timestamps_count_every_row_and_show_the_first_five():
    df = es_frame([f"2024-01-09 08:{m:02d}:00" for m in range(8)])
    df["timestamp"] = df["timestamp"].astype(object)
    df.loc[1:7, "timestamp"] = None
    message = many_bad_rows_message(df)
    assert "7 row(s) with a missing timestamp" in message and "(and 2 more)" in message
    assert re.findall(r"row (\d+): missing", message) == ["1", "2", "3", "4", "5"]


def test_chicago_conversions_agree():
    stamps = pd.DatetimeIndex(es_frame(DST_STAMPS)["timestamp"]).as_unit("ns")
    utc_ns = stamps.asi8
    assert utc_to_chicago(utc_ns).equals(stamps) and str(utc_to_chicago(utc_ns).tz) == CHICAGO
    assert chicago_text(utc_ns) == [str(stamp) for stamp in stamps]
    assert (chicago_wall_ns(utc_ns) == stamps.tz_localize(None).asi8).all()


def test_day_numbers_count_from_the_epoch():
    assert day_number(EPOCH) == 0 and EPOCH.isoformat() == "1970-01-01"
    assert day_number(date(2024, 1, 9)) == DAY_2024_01_09 == day_number(
        pd.Timestamp("2024-01-09 23:59", tz=CHICAGO))


def test_row_numbers_are_positions_in_the_whole_frame():
    df = pd.concat([es_frame(instrument="NQ"), es_frame()], ignore_index=True)
    df.index = df.index + 100  # labels do not matter, positions do
    df.iloc[5, df.columns.get_loc("close")] = 4800.3
    with pytest.raises(DataError, match=r"first: row 5: 4800.3"):
        prepare_bars(df, "ES")


def test_conflicting_duplicates_name_both_rows():
    df = pd.concat([es_frame(), es_frame().iloc[[2]].assign(close=4801.25)], ignore_index=True)
    message = (r"column 'timestamp': 1 row\(s\) with a conflicting duplicate timestamp; "
               r"first: row 4: 2024-01-09 08:02:00-06:00 also at row 2 with other OHLC")
    with pytest.raises(DataError, match=message):
        prepare_bars(df, "ES")


@pytest.mark.parametrize(("stamp", "kind"), [
    ("2024-03-10 02:30:00", "does not exist"),
    ("2024-11-03 01:30:00", "ambiguous"),
])
def test_naive_dst_gap_and_overlap_are_errors(stamp, kind):
    df = es_frame()
    df["timestamp"] = ["2024-03-09 08:00:00", stamp, "2024-11-04 08:00:00", "2024-11-04 08:01:00"]
    message = (r"column 'timestamp': 1 row\(s\) with a wall time that does not exist or is "
               rf"ambiguous in America/Chicago \(DST change\); first: row 1: {stamp} \({kind}\)")
    with pytest.raises(DataError, match=message):
        prepare_bars(df, "ES")


def test_naive_text_among_offsets_is_an_error():
    df = es_frame()
    df["timestamp"] = [str(s) for s in df["timestamp"]]
    df.loc[2, "timestamp"] = "2024-01-09 08:02:00"
    with pytest.raises(DataError, match=r"1 row\(s\) without a UTC offset among timestamps "
                                        r"that have one; first: row 2: '2024-01-09 08:02:00'"):
        prepare_bars(df, "ES")


def test_numeric_timestamps_are_refused():
    df = es_frame().assign(timestamp=np.arange(4))
    with pytest.raises(DataError, match="column 'timestamp': expected datetimes or ISO 8601"):
        prepare_bars(df, "ES")


def test_explicit_source_is_named():
    with pytest.raises(DataError, match=r"^feed\.csv: column 'close'"):
        prepare_bars(with_value(es_frame(), "close", 0, np.nan), "ES", source="feed.csv")


# ---------------------------------------------------------------- fingerprint and scale


def test_fingerprint_tracks_data_and_instrument():
    df = es_frame()
    base = bars_fingerprint(prepare_bars(df, "ES"))
    assert base == bars_fingerprint(prepare_bars(df.copy(), "ES"))
    assert base != bars_fingerprint(prepare_bars(df.assign(close=df["close"] + 0.25), "ES"))
    assert base != bars_fingerprint(prepare_bars(df.assign(instrument="MES"), "MES"))
    assert re.fullmatch(r"[0-9a-f]{64}", base)


def test_one_year_prepares_small():
    # its speed is measured in benchmarks/ (load.py), not asserted here
    df = synthetic_bars("ES", "2024-01-01", "2024-12-31", seed=7)
    bars = prepare_bars(df, "ES")
    assert bars.nbytes <= 30 * 2**20
    assert len(bars) == len(df)


# ---------------------------------------------------------------- load_bars


def write_csv(df: pd.DataFrame, path) -> None:
    df.assign(volume=7).to_csv(path, index=False)


def test_load_csv_round_trip(tmp_path):
    df = es_frame(DST_STAMPS)
    write_csv(df, tmp_path / "es.csv")
    loaded = load_bars(tmp_path / "es.csv")
    assert list(loaded.columns) == ["timestamp", "open", "high", "low", "close", "instrument"]
    assert str(loaded["timestamp"].dtype) == "datetime64[ns, America/Chicago]"
    assert [loaded[c].dtype for c in ("open", "high", "low", "close")] == [np.float64] * 4
    assert (loaded["timestamp"] == df["timestamp"]).all()
    assert loaded["instrument"].tolist() == ["ES"] * 4
    assert loaded.attrs["source"] == str(tmp_path / "es.csv")


def test_load_parquet_aware_and_naive(tmp_path):
    df = es_frame(DST_STAMPS)
    df.to_parquet(tmp_path / "aware.parquet")
    df.assign(timestamp=df["timestamp"].dt.tz_localize(None)).to_parquet(tmp_path / "naive.parquet")
    aware, naive = load_bars(tmp_path / "aware.parquet"), load_bars(tmp_path / "naive.parquet")
    pd.testing.assert_frame_equal(aware, naive)
    assert (aware["timestamp"] == df["timestamp"]).all()


def test_load_parquet_with_timestamp_index(tmp_path):
    es_frame().set_index("timestamp").to_parquet(tmp_path / "indexed.parquet")
    assert len(load_bars(tmp_path / "indexed.parquet")) == 4


def test_load_glob_and_folder_read_files_in_sorted_order(tmp_path):
    first = es_frame([f"2024-01-09 08:0{i}:00" for i in range(4)])
    second = es_frame([f"2024-01-10 08:0{i}:00" for i in range(4)])
    (tmp_path / "b" / "deep").mkdir(parents=True)
    write_csv(first, tmp_path / "a_2024-01-09.csv")
    second.to_parquet(tmp_path / "b" / "deep" / "2024-01-10.parquet")
    (tmp_path / "notes.txt").write_text("not bars")
    by_folder = load_bars(tmp_path)
    assert by_folder["timestamp"].tolist() == [*first["timestamp"], *second["timestamp"]]
    by_glob = load_bars(str(tmp_path / "**" / "*.parquet"))
    assert by_glob["timestamp"].tolist() == second["timestamp"].tolist()
    assert len(load_bars(str(tmp_path / "*"))) == 8  # a matched folder is searched too
    write_csv(es_frame(instrument="NQ"), tmp_path / "c_nq.csv")
    assert len(load_bars(tmp_path, instrument="ES")) == 8


@pytest.mark.parametrize(("name", "message"), [
    ("missing.csv", "no such file or folder"),
    ("nothing_*.parquet", r"matches no bar file \(read: \.parquet, \.csv, \.txt, \.dbn"),
    ("notes.txt", r"not a bar file \(expected \.parquet or \.csv\)"),
    ("broken.parquet", "cannot read"),
    ("empty_dir", r"matches no bar file \(read: \.parquet, \.csv, \.txt, \.dbn"),
])
def test_load_bad_paths_are_named(tmp_path, name, message):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(DataError, match=rf"{re.escape(str(tmp_path / name))}: {message}"):
        load_bars(tmp_path / name)
    if name != "broken.parquet":  # bar_files finds it; only reading it fails
        with pytest.raises(DataError, match=rf"{re.escape(str(tmp_path / name))}: {message}"):
            bar_files(tmp_path / name)


def test_bar_files_lists_what_load_bars_reads_in_sorted_order(tmp_path):
    (tmp_path / "b" / "deep").mkdir(parents=True)
    for name in ("b/deep/2.PARQUET", "a.csv", "b/1.csv", "notes.txt"):
        (tmp_path / name).write_text("x")
    assert bar_files(tmp_path) == [tmp_path / "a.csv", tmp_path / "b" / "1.csv",
                                   tmp_path / "b" / "deep" / "2.PARQUET"]
    csv_files = [tmp_path / "a.csv", tmp_path / "b" / "1.csv"]
    assert bar_files(str(tmp_path / "**" / "*.csv")) == csv_files
    assert bar_files(tmp_path / "a.csv") == [tmp_path / "a.csv"]


def test_load_names_the_file_column_and_row(tmp_path):
    write_csv(es_frame().drop(columns="high"), tmp_path / "nohigh.csv")
    with pytest.raises(DataError, match=r"nohigh\.csv: missing column\(s\) 'high'"):
        load_bars(tmp_path / "nohigh.csv")
    bad = es_frame().astype({"close": object})
    bad.loc[1, "close"] = "4801,5"
    write_csv(bad, tmp_path / "comma.csv")
    with pytest.raises(DataError, match=r"comma\.csv: column 'close': 1 row\(s\) with a "
                                        r"non-numeric value; first: row 1: '4801,5'"):
        load_bars(tmp_path / "comma.csv")


def test_load_naive_csv_dst_gap_names_the_file(tmp_path):
    df = es_frame().astype({"timestamp": object})
    df["timestamp"] = ["2024-03-10 01:59:00", "2024-03-10 02:00:00", "2024-03-10 02:59:00",
                       "2024-03-10 03:00:00"]
    write_csv(df, tmp_path / "gap.csv")
    with pytest.raises(DataError, match=r"gap\.csv: column 'timestamp': 2 row\(s\) with a wall "
                                        r"time that does not exist"):
        load_bars(tmp_path / "gap.csv")
    utc = load_bars(tmp_path / "gap.csv", timezone="UTC")
    assert str(utc["timestamp"].iloc[0]) == "2024-03-09 19:59:00-06:00"


def test_prepare_after_load_names_the_file(tmp_path):
    write_csv(es_frame().assign(close=[4800.5, np.nan, 4801.0, 4801.5]), tmp_path / "gaps.csv")
    with pytest.raises(DataError, match=r"gaps\.csv: column 'close': 1 row\(s\) with a NaN.*row 1"):
        prepare_bars(load_bars(tmp_path / "gaps.csv"), "ES")


def test_load_instrument_filter_ignores_other_rows(tmp_path):
    es = es_frame().assign(instrument=["ES", " minutedataexport", "es", "ES"])
    nq = es_frame(instrument="NQ").astype({"timestamp": object, "close": object})
    nq.loc[0, "timestamp"], nq.loc[1, "close"] = "garbage", "n/a"
    write_csv(pd.concat([nq, es]), tmp_path / "mixed.csv")
    loaded = load_bars(tmp_path / "mixed.csv", instrument="es")
    assert loaded["instrument"].tolist() == ["ES", "MINUTEDATAEXPORT", "ES", "ES"]
    with pytest.raises(DataError, match=r"mixed\.csv: column 'timestamp'.*row 0: 'garbage'"):
        load_bars(tmp_path / "mixed.csv")
    with pytest.raises(DataError, match=r"no CL rows in .*mixed\.csv"):
        load_bars(tmp_path / "mixed.csv", instrument="CL")


def test_load_start_end_are_inclusive_chicago_dates(tmp_path):
    stamps = ["2024-01-08 16:59:00", "2024-01-08 23:30:00", "2024-01-09 00:00:00",
              "2024-01-10 15:00:00"]
    df = es_frame(stamps)
    df.assign(timestamp=df["timestamp"].dt.tz_convert("UTC")).to_parquet(tmp_path / "utc.parquet")
    loaded = load_bars(tmp_path / "utc.parquet", start="2024-01-08", end=date(2024, 1, 8))
    assert loaded["timestamp"].tolist() == df["timestamp"].iloc[:2].tolist()
    assert len(load_bars(tmp_path / "utc.parquet", start="2024-01-09")) == 2
    with pytest.raises(DataError, match="no rows in"):
        load_bars(tmp_path / "utc.parquet", start="2024-02-01")
