"""Every vendor layout of docs/data-formats.md loads to the same bars and the same sweep results.

The same synthetic ES bars are written in each layout (tests/bar_writers.py: end-stamped
NinjaTrader, Eastern Kibot and FirstRate, Databento raw/pretty/parquet/DBN, a generic
`;`-separated .csv.gz through `columns:`), loaded with `format: auto` (or the keys a user
would give), and compared with the canonical CSV array by array and summary.csv byte by byte.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from research.engine.bars import ARRAY_FIELDS, MARKET_FIELDS, Bars
from research.engine.data import (
    LoadOptions,
    bars_from_files,
    describe_bars,
    load_bars,
    prepare_bars,
)
from research.engine.synthetic import synthetic_bars
from research.errors import DataError, SpecError
from research.research_runner import ResearchRunner
from research.results.provenance import bars_fingerprint
from research.spec.grid import spec_from_dict
from tests import bar_writers as write

START, END = "2024-02-26", "2024-03-22"  # four weeks, the US DST change (Mar 10) inside

# file name -> (writer, extra load keys, expected format, expected contracts)
LAYOUTS = {
    "canonical.csv": (write.canonical_csv, {}, "canonical", ("",)),
    "canonical.parquet": (write.canonical_parquet, {}, "canonical", ("",)),
    "glbx-raw.csv": (write.databento_csv, {}, "databento", ("ESH4",)),
    "glbx-pretty.csv": (lambda df, path: write.databento_csv(df, path, raw=False), {},
                        "databento", ("ESH4",)),
    "glbx-raw.parquet": (write.databento_parquet, {}, "databento", ("ESH4",)),
    "ES 03-24.Last.txt": (write.ninjatrader, {}, "ninjatrader", ("ESH4",)),
    "ESH24.txt": (write.sierrachart, {}, "sierrachart", ("ESH24",)),
    "ES.txt": (write.kibot, {}, "kibot", ("",)),
    "ES_H24_1min.txt": (write.firstrate, {}, "firstrate", ("ESH4",)),
    "ES_H24_1min.txt.zst": (write.firstrate, {}, "firstrate", ("ESH4",)),
    "ES_bars.csv.gz": (write.generic_semicolon, {"columns": write.GENERIC_COLUMNS},
                    "delimited", ("",)),
}
DBN_LAYOUTS = {
    "glbx.dbn": (write.databento_dbn, {}, "databento", ("ESH4",)),
    "glbx.dbn.zst": (lambda df, path: write.databento_dbn(df, path, zstd=True), {},
                     "databento", ("ESH4",)),
}


@pytest.fixture(scope="module")
def es_frame():
    return synthetic_bars("ES", START, END, seed=11)


@pytest.fixture(scope="module")
def layout_files(tmp_path_factory, es_frame):
    folder = tmp_path_factory.mktemp("layouts")
    layouts = dict(LAYOUTS)
    try:
        import databento_dbn  # noqa: F401
        layouts.update(DBN_LAYOUTS)
    except ImportError:
        pass
    return {name: (writer(es_frame, folder / name), keys, fmt, contracts)
            for name, (writer, keys, fmt, contracts) in layouts.items()}


@pytest.fixture(scope="module")
def reference(es_frame):
    return prepare_bars(es_frame, "ES")


def test_every_layout_loads_to_the_same_bars(layout_files, reference):
    assert len(layout_files) >= len(LAYOUTS)
    for name, (path, keys, fmt, contracts) in layout_files.items():
        bars = prepare_bars(load_bars(path, instrument="ES", **keys), "ES")
        for field in MARKET_FIELDS:
            assert np.array_equal(getattr(bars, field), getattr(reference, field)), (name, field)
        assert bars_fingerprint(bars) == bars_fingerprint(reference), name
        assert (bars.source_format, bars.contracts) == (fmt, contracts), name


def test_dbn_layouts_are_covered_when_the_extra_is_installed(layout_files):
    pytest.importorskip("databento_dbn")
    assert set(DBN_LAYOUTS) <= set(layout_files)


def test_auto_detects_and_the_instrument_comes_from_the_spec_or_file_name(layout_files):
    for name, (path, keys, fmt, _) in layout_files.items():
        frame = load_bars(path, **keys)  # no instrument: from the file name or symbol column
        assert frame.attrs["format"] == fmt, name
        assert set(frame["instrument"]) == {"ES"}, name


def sweep_summary(tmp_path, name: str, data: dict) -> bytes:
    spec = spec_from_dict({"name": name, "data": data, "base": {"instrument": "ES"},
                           "grid": {"target": [10, 20], "t1_fraction": [0.5, 0.65]}})
    runner = ResearchRunner(results_dir=tmp_path / "results", backend="sequential",
                            progress=False)
    sweep = runner.run_spec(spec)
    return (sweep.path / "summary.csv").read_bytes(), sweep


@pytest.mark.slow
def test_a_sweep_on_every_layout_gives_the_same_summary_csv(tmp_path, layout_files):
    expected, _ = sweep_summary(tmp_path, "canonical", {"path": str(
        layout_files["canonical.csv"][0])})
    for index, (name, (path, keys, fmt, contracts)) in enumerate(layout_files.items()):
        summary, sweep = sweep_summary(tmp_path, f"layout{index}", {"path": str(path), **keys})
        assert summary == expected, name
        data = sweep.manifest["data"]
        assert data["format"] == fmt, name
        trades = sweep.trades()
        assert set(trades["contract"].astype(str)) == set(contracts), name


def test_eastern_stamps_read_as_chicago_warn_with_the_fix(tmp_path, es_frame, caplog):
    path = write.kibot(es_frame, tmp_path / "ES.txt")
    load_bars(path, timezone="America/Chicago")
    assert "the daily 16:00-17:00 Chicago halt is at 17:00-18:00 after reading the stamps as " \
           "America/Chicago: the time zone looks +1 h off; set timezone: America/New_York" \
           in caplog.text


def test_end_stamps_read_as_open_warn_with_the_fix(tmp_path, es_frame, caplog):
    path = write.ninjatrader(es_frame, tmp_path / "ES 03-24.Last.txt")
    load_bars(path, timestamps="open")
    assert "daily halt runs 16:01-17:01 Chicago, 1 min later than 16:00-17:00 (read as " \
           "timestamps: open); the bars look end-stamped: timestamps: close" in caplog.text
    caplog.clear()
    load_bars(path)  # NinjaTrader's own convention: bar ends, shifted to the open
    assert "halt" not in caplog.text


def test_end_stamped_canonical_file_loads_like_the_open_stamped_one(tmp_path, es_frame,
                                                                  reference):
    shifted = es_frame.assign(timestamp=es_frame["timestamp"] + write.MINUTE)
    path = write.canonical_csv(shifted, tmp_path / "ends.csv")
    bars = prepare_bars(load_bars(path, timestamps="close"), "ES")
    assert bars_fingerprint(bars) == bars_fingerprint(reference)


def test_describe_bars_without_contracts(reference):
    assert describe_bars(reference) == {"format": "", "contracts": [], "roll_dates": []}


# ---------------------------------------------------------------- the spec's data keys


def test_spec_data_keys_reach_load_bars(tmp_path, layout_files):
    path = layout_files["ES_bars.csv.gz"][0]
    spec = spec_from_dict({"data": {"path": str(path), "columns": write.GENERIC_COLUMNS,
                                    "timestamps": "open", "roll": "none",
                                    "snap_to_tick": True},
                           "base": {"instrument": "ES"}})
    assert spec.data.load_kwargs() == {
        "format": "auto", "columns": write.GENERIC_COLUMNS, "timestamps": "open",
        "roll": "none", "snap_to_tick": True, "instrument": "ES", "timezone": None,
        "start": None, "end": None, "bad_bars": "warn"}
    assert load_bars(spec.data.path, **spec.data.load_kwargs()).attrs["format"] == "delimited"


def test_old_specs_keep_their_hash_and_new_keys_change_it(layout_files):
    path = str(layout_files["canonical.csv"][0])
    old = spec_from_dict({"data": {"path": path}, "base": {"instrument": "ES"}})
    assert old.data.to_dict() == {"path": path, "synthetic": None,
                                  "timezone": "America/Chicago", "start": None, "end": None}
    explicit = spec_from_dict({"data": {"path": path, "format": "auto", "roll": "volume",
                                        "instrument": "es"}, "base": {"instrument": "ES"}})
    assert explicit.spec_hash == old.spec_hash
    kibot = spec_from_dict({"data": {"path": path, "format": "canonical", "timestamps": "close"},
                            "base": {"instrument": "ES"}})
    assert kibot.spec_hash != old.spec_hash


@pytest.mark.parametrize(("data", "message"), [
    ({"format": "csv"}, r"^data\.format: 'csv' is not one of auto, canonical"),
    ({"roll": "front"}, r"^data\.roll: 'front' is not one of volume, none"),
    ({"timestamps": 1}, r"^data\.timestamps: 1 is not one of open, close"),
    ({"snap_to_tick": "yes"}, r"^data\.snap_to_tick: 'yes' is not true or false"),
    ({"columns": {"when": "Time"}}, r"^data\.columns: unknown key\(s\) \['when'\]"),
    ({"instrument": "NQ"}, r"^data\.instrument: 'NQ' is not base\.instrument 'ES'"),
])
def test_spec_data_key_mistakes_are_named(layout_files, data, message):
    path = str(layout_files["canonical.csv"][0])
    with pytest.raises(SpecError, match=message):
        spec_from_dict({"data": {"path": path, **data}, "base": {"instrument": "ES"}})


def test_spec_snap_to_tick_rounds_off_grid_prices(tmp_path, es_frame):
    off = es_frame.assign(close=es_frame["close"] + 0.1)
    path = write.canonical_csv(off.assign(high=off[["high", "close"]].max(axis=1)),
                               tmp_path / "off.csv")
    with pytest.raises(DataError, match=r"off the ES tick grid"):
        prepare_bars(load_bars(path), "ES")
    spec = spec_from_dict({"data": {"path": str(path), "snap_to_tick": True},
                           "base": {"instrument": "ES"}})
    bars = prepare_bars(load_bars(spec.data.path, **spec.data.load_kwargs()), "ES")
    assert len(bars) == len(es_frame)


# ---------------------------------------------------------------- the inspector


def test_the_inspector_shows_format_contracts_and_problems(layout_files, capsys):
    from research.cli.data_inspector import main

    assert main([str(layout_files["ES 03-24.Last.txt"][0])]) == 0
    screen = capsys.readouterr().out
    for text in ("ES 03-24.Last.txt: ninjatrader (detected); timezone UTC (format default); "
                 "timestamps close (format default); instrument ESH4 (file name);",
                 "columns: date <- stamp, time <- stamp",
                 "ES: ", "contracts by date:", "    2024-02-26 .. 2024-03-22  ESH4     ",
                 "first bar: 2024-02-26 00:00:00-06:00",
                 "bars per trading date: min ", "longest gaps (besides the daily halt",
                 "problems: none found"):
        assert text in screen, text


def test_the_inspector_shows_warnings_and_exits_2_on_unreadable_data(layout_files, tmp_path,
                                                                    capsys):
    from research.cli.data_inspector import main

    assert main([str(layout_files["ES.txt"][0]), "--timezone", "America/Chicago"]) == 0
    assert "problems:\n  " in capsys.readouterr().out
    (tmp_path / "empty.csv").write_bytes(b"")
    assert main([str(tmp_path / "empty.csv")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'empty.csv'}: is empty")


# ---------------------------------------------------------------- the sweep's way in


def assert_same_bars(fast: Bars, slow: Bars, name: str) -> None:
    """Every array and every label of two Bars is the same."""
    for field in ARRAY_FIELDS:
        left, right = getattr(fast, field), getattr(slow, field)
        assert left.dtype == right.dtype and np.array_equal(left, right), (name, field)
    for field in ("instrument", "source", "contracts", "source_format"):
        assert getattr(fast, field) == getattr(slow, field), (name, field)


@pytest.mark.slow  # a sweep per layout and option set (the loader's identity stays fast)
@pytest.mark.parametrize("extra", [{}, {"start": "2024-03-01", "end": "2024-03-12"},
                                   {"snap_to_tick": True}, {"timestamps": "open"}])
def test_the_sweep_reads_every_layout_to_the_bars_prepare_bars_makes(layout_files, extra):
    # bars_from_files skips the Chicago frame load_bars returns; nothing else may change
    for name, (path, keys, _, _) in layout_files.items():
        options = {**keys, **extra, "instrument": "ES"}
        try:
            slow = prepare_bars(load_bars(path, **options), "ES")
        except DataError as exc:  # e.g. open stamps on an end-stamped file: a clash
            with pytest.raises(DataError, match=re.escape(str(exc))):
                bars_from_files(path, LoadOptions.checked(str(path), **options))
            continue
        assert_same_bars(bars_from_files(path, LoadOptions.checked(str(path), **options)),
                         slow, name)
