"""Several contract months in one file (docs/data-formats.md): one contract per date."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from research.engine.clock import wall_clock_labels
from research.engine.data import describe_bars, load_bars, prepare_bars
from research.engine.params import RunParams
from research.engine.results import COLUMNS
from research.engine.strategy import run_strategy
from research.engine.synthetic import synthetic_bars
from research.engine.timestamps import chicago_wall_ns
from research.errors import DataError
from tests import bar_writers as write

DAY = {text: (pd.Timestamp(text) - pd.Timestamp("1970-01-01")).days for text in
       ("2024-03-07", "2024-03-08", "2024-03-12", "2024-03-13", "2024-03-15")}
SHIFT = 20.0  # ESM4 trades 20 points above ESH4 (never adjusted)


def trading_days(frame: pd.DataFrame) -> np.ndarray:
    utc = frame["timestamp"].dt.tz_convert("UTC").astype("int64").to_numpy()
    return wall_clock_labels(chicago_wall_ns(utc))[1]


@pytest.fixture(scope="module")
def two_contracts():
    """ESH4 to Mar 15, ESM4 from Mar 8; ESM4's volume passes ESH4's on Mar 12."""
    base = synthetic_bars("ES", "2024-03-04", "2024-03-15", seed=5)
    days = trading_days(base)
    front = base.assign(contract="ESH4",
                        volume=np.where(days <= DAY["2024-03-12"], 1000, 10))
    back = base[days >= DAY["2024-03-08"]].assign(contract="ESM4")
    back = back.assign(**{name: back[name] + SHIFT for name in write.PRICES},
                       volume=np.where(trading_days(back) >= DAY["2024-03-12"], 2000, 100))
    spread = back.head(5).assign(contract="ESH4-ESM4", volume=3)
    return pd.concat([front, back, spread], ignore_index=True), base


@pytest.fixture(scope="module")
def roll_file(tmp_path_factory, two_contracts):
    return write.databento_csv(two_contracts[0], tmp_path_factory.mktemp("roll") / "glbx.csv")


def test_volume_roll_keeps_one_contract_per_date_and_names_the_roll_date(roll_file,
                                                                       two_contracts, caplog):
    caplog.set_level(logging.INFO, logger="research.engine.data")
    frame = load_bars(roll_file, instrument="ES")
    bars = prepare_bars(frame, "ES")
    assert bars.contracts == ("ESH4", "ESM4")
    per_day = pd.Series(np.asarray(bars.contracts)[bars.contract_code]).groupby(
        bars.trading_day).unique()
    assert all(len(names) == 1 for names in per_day)
    assert per_day[DAY["2024-03-12"]][0] == "ESH4"  # Mar 11's volume still favours ESH4
    assert per_day[DAY["2024-03-13"]][0] == "ESM4"  # Mar 12's volume favours ESM4
    assert describe_bars(bars)["roll_dates"] == [
        {"date": "2024-03-13", "from": "ESH4", "to": "ESM4"}]
    assert "dropped 5 spread row(s)" in caplog.text
    assert "ES rolls from ESH4 to ESM4 on 2024-03-13" in caplog.text
    base = two_contracts[1]
    after = (trading_days(base) >= DAY["2024-03-13"])
    expected_close = np.where(after, base["close"] + SHIFT, base["close"])
    dated = ~frame["after_roll"].to_numpy()  # ESH4's bars after the roll, for open trades
    assert set(frame.loc[~dated, "contract"]) == {"ESH4"}
    assert set(trading_days(frame[~dated])) == {DAY["2024-03-13"]}  # the next weekday only
    assert np.allclose(frame["close"].to_numpy()[dated], expected_close)  # never adjusted


def test_rows_name_the_contract_of_their_date(roll_file):
    bars = prepare_bars(load_bars(roll_file, instrument="ES"), "ES")
    trades = run_strategy(bars, RunParams(instrument="ES"), parallel=False)
    by_date = trades.groupby(trades["date"].dt.strftime("%Y-%m-%d"))["contract"].first()
    assert by_date["2024-03-12"] == "ESH4" and by_date["2024-03-13"] == "ESM4"
    assert list(trades.columns) == list(COLUMNS) and "contract" in COLUMNS[-3:]


def test_roll_none_refuses_several_contracts_on_a_date(roll_file):
    with pytest.raises(DataError, match=r"glbx\.csv: 7 trading date\(s\) hold bars of several "
                                        r"contracts; first: 2024-03-08 \(ESH4, ESM4\); roll: "
                                        r"none takes one contract per date"):
        load_bars(roll_file, instrument="ES", roll="none")


def test_roll_none_takes_a_file_with_one_contract_per_date(tmp_path, two_contracts):
    frame, base = two_contracts
    days = trading_days(frame)
    rolled = frame[((frame["contract"] == "ESH4") & (days <= DAY["2024-03-12"]))
                   | ((frame["contract"] == "ESM4") & (days > DAY["2024-03-12"]))]
    path = write.databento_csv(rolled, tmp_path / "rolled.csv")
    bars = prepare_bars(load_bars(path, roll="none"), "ES")
    assert describe_bars(bars)["roll_dates"][0]["date"] == "2024-03-13"


def test_roll_volume_without_volume_is_an_error(tmp_path, two_contracts):
    frame = two_contracts[0].drop(columns=["volume", "instrument"]).rename(
        columns={"contract": "instrument"})
    frame.to_csv(tmp_path / "nov.csv", index=False)
    with pytest.raises(DataError, match=r"nov\.csv: 7 trading date\(s\) hold bars of several "
                                        r"contracts.*roll: volume needs a volume column"):
        load_bars(tmp_path / "nov.csv")


def test_prepare_refuses_mixed_contracts_within_a_date(two_contracts):
    frame = two_contracts[0]
    frame = frame[frame["contract"] != "ESH4-ESM4"]
    with pytest.raises(DataError, match=r"<frame>: trading date 2024-03-08 mixes contracts "
                                        r"ESH4, ESM4; load_bars\(\.\.\., roll='volume'\)"):
        prepare_bars(frame.drop(columns="volume"), "ES")


def test_contract_symbols_in_the_instrument_column_are_that_instrument(tmp_path):
    frame = synthetic_bars("ES", "2024-03-04", "2024-03-05", seed=1)
    bars = prepare_bars(frame.assign(instrument="ESH4"), "ES")
    assert bars.contracts == ("ESH4",)
    with pytest.raises(DataError, match=r"no NQ rows in <frame> \(column 'instrument' "
                                        r"holds: ESH4\)"):
        prepare_bars(frame.assign(instrument="ESH4"), "NQ")


def test_a_folder_of_per_contract_files_rolls_by_volume(tmp_path, two_contracts):
    frame = two_contracts[0]
    for contract, name in (("ESH4", "ES_H24_1min.txt"), ("ESM4", "ES_M24_1min.txt")):
        write.firstrate(frame[frame["contract"] == contract], tmp_path / name)
    bars = prepare_bars(load_bars(tmp_path, instrument="ES"), "ES")
    assert describe_bars(bars)["roll_dates"] == [
        {"date": "2024-03-13", "from": "ESH4", "to": "ESM4"}]
    assert bars.source_format == "firstrate"
