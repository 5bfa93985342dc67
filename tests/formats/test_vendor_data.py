"""Real vendor data as the vendors write it (issue 22): fixtures in each vendor's own layout,
written here (nothing downloaded), and every message matched.

NinjaTrader 8 exports: UTC, bar-end stamps, one file per contract (`CL 04-25.Last.txt`);
FirstRate's free samples: a header `timestamp,open,high,low,close,volume`, US/Eastern, the
instrument only in the file name; Databento: a roll inside one file, DBN versions 1-3.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import pytest

from research.engine.bars import MARKET_FIELDS
from research.engine.data import describe_bars, load_bars, load_with_report, prepare_bars
from research.engine.synthetic import synthetic_bars
from research.errors import DataError, SpecError
from research.spec.grid import spec_from_dict
from tests import bar_writers as write

PRICES = list(write.PRICES)


def _day(text: str) -> int:
    return (pd.Timestamp(text) - pd.Timestamp("1970-01-01")).days


def _contract_by_date(frame: pd.DataFrame) -> dict[str, str]:
    bars = prepare_bars(frame, str(frame["instrument"].iloc[0]))
    names = np.asarray(bars.contracts)[bars.contract_code]
    out = pd.Series(names).groupby(bars.trading_day).first()
    return {str(pd.Timestamp(int(day), unit="D").date()): name for day, name in out.items()}


# ---------------------------------------------------------------- NinjaTrader


@pytest.fixture(scope="module")
def cl_frames():
    """CLJ5 to 2025-03-12, CLK5 from 2025-03-05 (2.00 higher): the US spring-forward night
    (2025-03-09 02:00 Chicago) lies inside both files."""
    front = synthetic_bars("CL", "2025-02-24", "2025-03-12", seed=3)
    back = synthetic_bars("CL", "2025-03-05", "2025-03-14", seed=3)
    back = back.assign(**{name: back[name] + 2.0 for name in PRICES})
    return front, back


def test_a_ninjatrader_folder_of_utc_contract_files_loads_with_no_option(tmp_path, cl_frames):
    front, back = cl_frames
    write.ninjatrader(front, tmp_path / "CL 04-25.Last.txt")
    write.ninjatrader(back, tmp_path / "CL 05-25.Last.txt")
    frame, report = load_with_report(tmp_path)
    assert [file.timezone for file in report.files] == ["UTC", "UTC"]
    assert [file.settings_from["timezone"] for file in report.files] == ["format default"] * 2
    assert report.warnings == []
    contracts = _contract_by_date(frame)
    assert contracts["2025-03-04"] == "CLJ5" and contracts["2025-03-13"] == "CLK5"
    kept = frame[frame["contract"] == "CLJ5"].reset_index(drop=True)
    expected = front[front["timestamp"].isin(kept["timestamp"])].reset_index(drop=True)
    assert np.array_equal(kept["close"].to_numpy(), expected["close"].to_numpy())
    assert (kept["timestamp"] == expected["timestamp"]).all()  # UTC bar ends -> Chicago opens


def test_a_ninjatrader_file_in_chicago_time_is_an_error_naming_the_zone(tmp_path, cl_frames):
    path = write.ninjatrader(cl_frames[0], tmp_path / "CL 04-25.Last.txt", zone="America/Chicago")
    with pytest.raises(DataError, match=r"CL 04-25\.Last\.txt: the daily 16:00-17:00 Chicago "
                       r"halt is at 1[01]:00-1[12]:00 after reading the stamps as UTC: the time "
                       r"zone looks -6 h or -5 h off \(by DST period\); set timezone: "
                       r"America/Chicago \(the halt checked in each of \d+ DST period\(s\); an "
                       r"explicit timezone: overrides this check\)"):
        load_bars(path)
    assert len(load_bars(path, timezone="America/Chicago")) == len(cl_frames[0])


def test_an_explicit_timezone_overrides_the_zone_check_with_a_warning(tmp_path, cl_frames,
                                                                      caplog):
    path = write.ninjatrader(cl_frames[0], tmp_path / "CL 04-25.Last.txt")
    frame = load_bars(path, timezone="America/Chicago")
    assert len(frame) == len(cl_frames[0])
    assert "the time zone looks +5 h or +6 h off (by DST period); set timezone: UTC" \
        in caplog.text


# ---------------------------------------------------------------- FirstRate samples


def _firstrate_sample(df: pd.DataFrame, path):
    stamps = write.wall(df, write.EASTERN).dt.strftime("%Y-%m-%d %H:%M:%S")
    frame = pd.DataFrame({"timestamp": stamps, **{name: df[name] for name in PRICES},
                          "volume": 7})
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("root", ["ES", "NQ"])
def test_a_firstrate_header_sample_takes_its_instrument_from_the_file_name(tmp_path, root,
                                                                          caplog):
    caplog.set_level(logging.INFO, logger="research.engine.data")
    bars = synthetic_bars(root, "2024-03-04", "2024-03-15", seed=2)
    path = _firstrate_sample(bars, tmp_path / f"{root}_1min_sample.csv")
    with pytest.raises(DataError, match=rf"{root}_1min_sample\.csv: the daily 16:00-17:00 "
                       r"Chicago halt is at 17:00-18:00 after reading the stamps as "
                       r"America/Chicago: the time zone looks \+1 h off; set timezone: "
                       r"America/New_York"):
        load_bars(path)
    frame, report = load_with_report(path, timezone="America/New_York")
    assert set(frame["instrument"]) == {root}
    assert report.files[0].settings_from == {"format": "detected", "timezone": "given",
                                             "timestamps": "format default",
                                             "instrument": "file name"}
    assert f"instrument {root} from its file name" in caplog.text
    reference = prepare_bars(bars, root)
    loaded = prepare_bars(frame, root)
    for field in MARKET_FIELDS:
        assert np.array_equal(getattr(loaded, field), getattr(reference, field)), field


def test_format_firstrate_given_for_a_header_sample_skips_the_header(tmp_path):
    bars = synthetic_bars("NQ", "2024-03-04", "2024-03-08", seed=2)
    path = _firstrate_sample(bars, tmp_path / "NQ_1min_sample.csv")
    frame = load_bars(path, format="firstrate")
    assert len(frame) == len(bars) and set(frame["instrument"]) == {"NQ"}


def test_the_instrument_comes_from_a_folder_name(tmp_path):
    folder = tmp_path / "glbx-mdp3" / "ES"
    folder.mkdir(parents=True)
    bars = synthetic_bars("ES", "2024-03-04", "2024-03-08", seed=2)
    write.canonical_csv(bars.drop(columns="instrument"), folder / "2024.csv")
    frame, report = load_with_report(folder / "2024.csv")
    assert set(frame["instrument"]) == {"ES"}
    assert report.files[0].settings_from["instrument"] == "folder name"


# ---------------------------------------------------------------- Databento


@pytest.fixture(scope="module")
def nq_roll():
    """NQZ4 to its last date, NQH5 250 points higher from 2024-12-09; the per-contract NQZ4
    part ends at midnight before 2024-12-17, keeping only the evening (23:00-23:59) bars of
    that date's label; NQZ4 has more volume every day."""
    base = synthetic_bars("NQ", "2024-12-02", "2024-12-20", seed=4)
    utc = base["timestamp"].dt.tz_convert("UTC").astype("int64").to_numpy()
    from research.engine.clock import wall_clock_labels
    from research.engine.timestamps import chicago_wall_ns

    days = wall_clock_labels(chicago_wall_ns(utc))[1]
    stamps = base["timestamp"].dt.tz_convert("America/Chicago")
    ends = stamps < pd.Timestamp("2024-12-17 00:00", tz="America/Chicago")
    front = base[ends].assign(contract="NQZ4", volume=5000)
    back = base[days >= _day("2024-12-09")].assign(contract="NQH5", volume=100)
    back = back.assign(**{name: back[name] + 250.0 for name in PRICES})
    return pd.concat([front, back], ignore_index=True)


def test_a_contract_is_not_chosen_for_a_date_its_file_has_no_day_bars_of(tmp_path, nq_roll):
    path = write.databento_csv(nq_roll, tmp_path / "glbx-mdp3-nq.ohlcv-1m.csv")
    contracts = _contract_by_date(load_bars(path))
    assert contracts["2024-12-16"] == "NQZ4"
    assert contracts["2024-12-17"] == "NQH5"  # NQZ4 has only 23:00-23:59 of Dec 16 there
    assert contracts["2024-12-18"] == "NQH5"  # and the roll never goes back


def test_stray_saturday_bars_neither_vote_nor_flip_the_roll(tmp_path, caplog):
    """NinjaTrader's CL files hold one-lot Saturday bars: CLJ5 trades on Saturday 2025-03-15,
    CLK5 does not, after the roll to CLK5 on Friday. Before: CLJ5 on Saturday, and Monday
    (by Saturday's volume) back on CLJ5. Now: no vote, no return."""
    days = {"2025-03-12": (900, 100), "2025-03-13": (200, 900), "2025-03-14": (100, 900),
            "2025-03-17": (100, 900), "2025-03-18": (100, 900)}
    parts = []
    for day, (front_volume, back_volume) in days.items():
        bars = synthetic_bars("CL", day, day, seed=6)
        parts.append(bars.assign(contract="CLJ5", volume=front_volume))
        parts.append(bars.assign(contract="CLK5", volume=back_volume,
                                 **{name: bars[name] + 1.0 for name in PRICES}))
    saturday = pd.DataFrame({"timestamp": pd.date_range("2025-03-15 10:00", periods=3,
                                                        freq="min", tz="America/Chicago"),
                             "open": 67.0, "high": 67.0, "low": 67.0, "close": 67.0,
                             "instrument": "CL", "contract": "CLJ5", "volume": 1})
    frame = pd.concat([*parts, saturday], ignore_index=True).sort_values("timestamp",
                                                                          kind="stable")
    path = write.databento_csv(frame, tmp_path / "glbx-cl.csv")
    loaded, report = load_with_report(path)
    contracts = _contract_by_date(loaded)
    assert [contracts[day] for day in ("2025-03-13", "2025-03-14", "2025-03-17", "2025-03-18")
            ] == ["CLJ5", "CLK5", "CLK5", "CLK5"]
    assert "2025-03-15" not in contracts  # the stray bars of a contract already left
    described = describe_bars(prepare_bars(loaded, "CL"))
    assert [(roll["from"], roll["to"]) for roll in described["roll_dates"]] == [("CLJ5", "CLK5")]
    assert [warning.message for warning in report.warnings if warning.kind == "calendar"] == [
        f"{path}: 3 bar(s) on 1 date(s) outside the exchange's sessions (Saturday/Sunday: "
        "2025-03-15 (3)); they take no part in the roll decision"]


@pytest.mark.parametrize("version", [1, 2, 3])
def test_dbn_versions_1_2_and_3_load_alike(tmp_path, version, monkeypatch):
    dbn = pytest.importorskip("databento_dbn")
    bars = synthetic_bars("ES", "2024-03-04", "2024-03-06", seed=1)
    metadata = dbn.Metadata
    with monkeypatch.context() as patch:  # the writer's Metadata, of the version asked for
        patch.setattr(dbn, "Metadata", lambda *a, **k: metadata(*a, version=version, **k))
        path = write.databento_dbn(bars, tmp_path / f"glbx-v{version}.dbn")
    assert path.read_bytes()[:4] == b"DBN" + bytes([version])
    frame, report = load_with_report(path)
    assert report.files[0].settings_from["format"] == "detected"  # not "(given)"
    loaded = prepare_bars(frame, "ES")
    assert np.array_equal(loaded.close_ticks, prepare_bars(bars, "ES").close_ticks)


# ---------------------------------------------------------------- zones over a year


@pytest.mark.slow  # a year of bars per zone
@pytest.mark.parametrize(("zone", "offsets"), [("UTC", r"\+5 h or \+6 h"),
                                               ("Europe/Berlin", r"\+6 h or \+7 h"),
                                               ("Asia/Tokyo", r"-10 h or -9 h")])
def test_a_year_of_naive_stamps_in_another_zone_read_as_chicago_is_an_error(tmp_path, zone,
                                                                            offsets):
    year = synthetic_bars("ES", "2024-01-01", "2024-12-31", seed=5)
    path = tmp_path / "ES_year.csv"
    pd.DataFrame({"timestamp": write.wall(year, zone).dt.strftime("%Y-%m-%d %H:%M:%S"),
                  **{name: year[name] for name in PRICES}}).to_csv(path, index=False)
    fix = "UTC" if zone == "UTC" else zone
    with pytest.raises(DataError, match=rf"ES_year\.csv: the daily 16:00-17:00 Chicago halt is "
                       rf"at .* after reading the stamps as America/Chicago: the time zone "
                       rf"looks {offsets} off \(by DST period\); set timezone: {fix} "):
        load_bars(path)
    assert len(load_bars(path, timezone=zone)) == len(year)


# ---------------------------------------------------------------- bad bars


@pytest.fixture(scope="module")
def es_week():
    return synthetic_bars("ES", "2024-03-04", "2024-03-08", seed=2)


def test_a_sign_flipped_bar_warns_drops_or_refuses(tmp_path, es_week):
    flipped = es_week.copy()
    flipped.loc[3000, PRICES] = -4800.0
    path = write.canonical_csv(flipped, tmp_path / "ES.csv")
    stamp = str(es_week["timestamp"][3000])
    frame, report = load_with_report(path)
    assert len(frame) == len(es_week)
    assert [warning.message for warning in report.warnings] == [
        f"{path}: 1 ES bar(s) with a price at or below zero, where ES has never traded (first: "
        f"row 3000 {stamp} close=-4800); bad_bars: drop leaves them out, bad_bars: error "
        "refuses the data",
        f"{path}: 1 ES bar(s) with a spike: the close jumps more than 50x the day's median bar "
        f"range and straight back (first: row 3000 {stamp} close=-4800); bad_bars: drop leaves "
        "them out, bad_bars: error refuses the data"]
    assert frame.attrs["warnings"] == [warning.message for warning in report.warnings]
    dropped, report = load_with_report(path, bad_bars="drop")
    assert len(dropped) == len(es_week) - 1 and report.dropped_bars == 1
    bars = prepare_bars(dropped, "ES")
    assert bars.dropped_bars == 1 and describe_bars(bars)["dropped_bars"] == 1
    with pytest.raises(DataError, match=r"ES\.csv: 1 ES bar\(s\) with a price at or below zero"):
        load_bars(path, bad_bars="error")


def test_a_spike_that_jumps_and_returns_is_named(tmp_path, es_week):
    spiked = es_week.copy()
    spiked.loc[2000, PRICES] = spiked.loc[2000, "close"] + 400.0
    path = write.canonical_csv(spiked, tmp_path / "ES.csv")
    _, report = load_with_report(path)
    assert [warning.kind for warning in report.warnings] == ["spike"]
    assert "1 ES bar(s) with a spike" in report.warnings[0].message
    assert "(first: row 2000 " in report.warnings[0].message


def test_a_file_100_times_the_plausible_level_is_named(tmp_path, es_week):
    cents = es_week.assign(**{name: es_week[name] * 100 for name in PRICES})
    path = write.canonical_csv(cents, tmp_path / "ES.csv")
    _, report = load_with_report(path)
    assert [warning.kind for warning in report.warnings] == ["level"]
    assert report.warnings[0].message.startswith(
        f"{path}: {len(es_week)} ES bar(s) with a price level about 100x off the plausible ES "
        "range (300 .. 30000 points: prices in cents or a fixed-point scale?) (first: row 0 ")


def test_crude_at_an_index_future_s_level_is_named_not_a_traceback(tmp_path, es_week):
    # CL's plausible range starts below zero: the level's factor once took sqrt(lo x hi) < 0
    path = write.canonical_csv(es_week.assign(instrument="CL"), tmp_path / "CL.csv")
    _, report = load_with_report(path)
    level = [warning.message for warning in report.warnings if warning.kind == "level"]
    assert len(level) == 1 and level[0].startswith(
        f"{path}: {len(es_week)} CL bar(s) with a price level about 10x off the plausible CL "
        "range (-100 .. 400 points: prices in cents or a fixed-point scale?) (first: row 0 ")


def test_crude_below_zero_is_no_bad_bar(tmp_path):
    crude = synthetic_bars("CL", "2020-04-13", "2020-04-17", seed=1)
    crude = crude.assign(**{name: crude[name] - 100.0 for name in PRICES})  # WTI, April 2020
    _, report = load_with_report(write.canonical_csv(crude, tmp_path / "CL.csv"))
    assert [warning.kind for warning in report.warnings if warning.kind != "spike"] == []


def test_five_minute_bars_are_refused(tmp_path, es_week):
    five = es_week[es_week["timestamp"].dt.minute % 5 == 0]
    path = write.canonical_csv(five, tmp_path / "ES.csv")
    with pytest.raises(DataError, match=r"ES\.csv: the bars are 5 minutes apart \(\d+ of \d+ "
                       r"steps; 0 one-minute steps\): these are 5-minute bars, not 1-minute "
                       r"bars; load 1-minute bars"):
        load_bars(path)


def test_one_second_bars_are_refused(tmp_path, es_week):
    seconds = es_week.assign(timestamp=es_week["timestamp"][0]
                             + pd.to_timedelta(np.arange(len(es_week)), unit="s"))
    path = write.canonical_csv(seconds, tmp_path / "ES.csv")
    with pytest.raises(DataError, match=r"ES\.csv: \d+ bar\(s\) stamped inside a minute "
                       r"\(first: row 1 \(2024-03-04 00:00:01-06:00\)"):
        load_bars(path)


def test_a_last_line_cut_inside_its_close_is_named(tmp_path, es_week):
    path = tmp_path / "ES.csv"
    es_week.iloc[:-1].to_csv(path, index=False)
    with open(path, "a") as out:
        out.write("2024-03-08 15:59:00-06:00,4949.25,4949.5,4949,4949,ES")  # was 4949.25\n
    _, report = load_with_report(path)
    row = len(es_week) - 1
    assert [warning.message for warning in report.warnings] == [
        f"{path}: the last line has no line ending, so it may be cut short inside its bar "
        f"(row {row}: close=4949); bad_bars: drop leaves it out, bad_bars: error refuses the "
        "data (or copy the file again)"]
    assert len(load_bars(path, bad_bars="drop")) == len(es_week) - 1


@pytest.mark.parametrize(("encoding", "named"), [("utf-16", "UTF-16 (byte-order mark)"),
                                                 ("utf-8-sig", "UTF-8 with a byte-order mark")])
def test_utf16_and_bom_text_is_read_and_named(tmp_path, es_week, encoding, named):
    from research.cli.data_inspector import inspect

    text = write.canonical_csv(es_week, tmp_path / "plain.csv").read_text()
    path = tmp_path / "ES.csv"
    path.write_bytes(text.encode(encoding))
    frame, report = load_with_report(path)
    assert report.files[0].encoding == encoding
    assert np.array_equal(frame["close"].to_numpy(), es_week["close"].to_numpy())
    assert f"; text {named}; " in inspect(str(path))


def test_utf16_without_its_byte_order_mark_is_an_error_naming_the_encoding(tmp_path, es_week):
    text = write.canonical_csv(es_week, tmp_path / "plain.csv").read_text()
    path = tmp_path / "ES.csv"
    path.write_bytes(text.encode("utf-16-le"))
    with pytest.raises(DataError, match=r"ES\.csv: looks like UTF-16 text without a byte-order "
                       r"mark \(every other byte is 0\); save it as UTF-8"):
        load_bars(path)


def test_bad_bars_is_a_data_key_checked_in_a_spec(tmp_path, es_week):
    path = write.canonical_csv(es_week, tmp_path / "ES.csv")
    spec = spec_from_dict({"data": {"path": str(path), "bad_bars": "drop"},
                           "base": {"instrument": "ES"}})
    assert spec.data.load_kwargs()["bad_bars"] == "drop"
    assert "bad_bars" not in spec_from_dict({"data": {"path": str(path)}, "base": {
        "instrument": "ES"}}).data.to_dict()  # the default keeps old spec hashes
    with pytest.raises(SpecError, match=r"data\.bad_bars: 'ignore' is not one of warn, drop, "
                                        r"error"):
        spec_from_dict({"data": {"path": str(path), "bad_bars": "ignore"},
                        "base": {"instrument": "ES"}})


# ---------------------------------------------------------------- folders


def test_a_header_only_file_and_a_crlf_copy_are_skipped_with_a_line(tmp_path, es_week):
    (tmp_path / "sub").mkdir()
    original = write.canonical_csv(es_week, tmp_path / "ES.csv")
    copy = tmp_path / "ES_copy.csv"
    copy.write_bytes(original.read_bytes().replace(b"\n", b"\r\n"))
    empty = tmp_path / "sub" / "ES_empty.csv"
    empty.write_text("timestamp,open,high,low,close\n")
    frame, report = load_with_report(tmp_path)
    assert len(frame) == len(es_week)
    assert report.skipped == [
        f"{copy}: holds the same bars as {original} (a copy; line endings or compression may "
        "differ): skipped",
        f"{empty}: has a header but no rows (found columns timestamp, open, high, low, close): "
        "skipped"]
    with pytest.raises(DataError, match=r"ES_empty\.csv: has a header but no rows"):
        load_bars(empty)  # alone it is still an error


def test_columns_maps_parquet_columns_and_a_timestamp_index(tmp_path, es_week):
    renamed = es_week.rename(columns={name: name.capitalize() for name in PRICES})
    path = tmp_path / "ES.parquet"
    renamed.set_index("timestamp").rename_axis("ts").to_parquet(path)
    with pytest.raises(DataError, match=r"ES\.parquet: cannot tell its format \(found columns "
                       r"Open, High, Low, Close, instrument, ts\)"):
        load_bars(path)
    columns = {"timestamp": "ts", "open": "Open", "high": "High", "low": "Low",
               "close": "Close"}
    frame = load_bars(path, columns=columns)
    assert np.array_equal(frame["close"].to_numpy(), es_week["close"].to_numpy())


# ---------------------------------------------------------------- the inspector


def test_the_inspector_shows_contracts_by_date_prices_and_where_settings_came_from(
        tmp_path, cl_frames):
    from research.cli.data_inspector import inspect

    front, back = cl_frames
    write.ninjatrader(front, tmp_path / "CL 04-25.Last.txt")
    write.ninjatrader(back, tmp_path / "CL 05-25.Last.txt")
    screen = inspect(str(tmp_path))
    assert "CL 04-25.Last.txt: ninjatrader (detected); timezone UTC (format default); " \
           "timestamps close (format default); instrument CLJ5 (file name); " in screen
    assert "(given)" not in screen
    lines = screen.splitlines()
    table = lines.index("  contracts by date:")
    first, second = lines[table + 1], lines[table + 2]
    assert re.fullmatch(r"    2025-02-24 \.\. 2025-03-\d\d  CLJ5     \d+\.\d\d \.\. \d+\.\d\d",
                        first), first
    assert re.fullmatch(r"    2025-03-\d\d \.\. 2025-03-14  CLK5     \d+\.\d\d \.\. \d+\.\d\d  "
                        r"roll from CLJ5", second), second
    weekdays = pd.bdate_range("2025-02-24", "2025-03-14")
    assert re.search(rf"CL: \d+ bars, {len(weekdays)} trading dates \(Monday-Friday, as the "
                     r"sweep counts them; 17 date labels with bars\)", screen)


# ---------------------------------------------------------------- repeated at the end


def test_loader_warnings_reach_the_manifest_the_closing_block_and_the_report(tmp_path,
                                                                            nq_roll):
    import argparse

    from research.cli.sweep import _closing
    from research.report import write_report
    from research.research_runner import ResearchRunner

    flipped = nq_roll.copy()
    flipped.loc[5000, PRICES] = -flipped.loc[5000, "close"]
    path = write.databento_csv(flipped, tmp_path / "glbx-nq.csv")
    spec = spec_from_dict({"name": "nq", "data": {"path": str(path), "bad_bars": "warn"},
                           "base": {"instrument": "NQ"},
                           "grid": {"target": [50, 100], "t1_fraction": [0.5, 0.65]}})
    runner = ResearchRunner(results_dir=tmp_path / "results", backend="sequential",
                            progress=False)
    sweep = runner.run_spec(spec)
    data = sweep.manifest["data"]
    assert [text.split(": ", 1)[1][:48] for text in data["warnings"]] == [
        "1 NQ bar(s) with a price at or below zero, where",
        "1 NQ bar(s) with a spike: the close jumps more t"]
    assert [row["contract"] for row in data["contracts"]] == ["NQZ4", "NQH5"]  # by date
    closing = _closing(sweep, spec.axes, argparse.Namespace(top=3, rank_by="sharpe"), 1.0)
    assert f"data warning: {data['warnings'][0]}" in closing
    page = write_report(sweep.path).read_text()
    assert "1 NQ bar(s) with a price at or below zero" in page
    assert "<td>NQZ4 → NQH5</td>" in page  # the contracts table, by date


def test_a_dst_gap_in_stamps_of_another_zone_says_which_zone_to_set(tmp_path):
    """UTC stamps read as Chicago: a stray Saturday bar at 02:30 of the spring-forward night
    (a wall time Chicago skips) used to stop the load with no word of the zone."""
    bars = synthetic_bars("CL", "2025-02-24", "2025-03-14", seed=3)
    stamps = write.wall(bars, "UTC").dt.strftime("%Y-%m-%d %H:%M:%S").tolist()
    frame = pd.DataFrame({"timestamp": stamps, **{name: bars[name] for name in PRICES}})
    stray = pd.DataFrame({"timestamp": ["2025-03-09 02:30:00"], "open": [67.0], "high": [67.0],
                          "low": [67.0], "close": [67.0]})
    path = tmp_path / "CL.csv"
    pd.concat([frame, stray]).sort_values("timestamp").to_csv(path, index=False)
    with pytest.raises(DataError, match=r"CL\.csv: .*wall time that does not exist or is "
                       r"ambiguous in America/Chicago \(DST change\).*; the daily halt in the "
                       r"stamps as written points to UTC time, not America/Chicago: set "
                       r"timezone: UTC$"):
        load_bars(path)
