"""A trade lives on the contract it entered (docs/data-formats.md, rolls): around a roll, every row
equals the row of its own contract's series run alone, and no trade reads the other's bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.engine.bars import Bars
from research.engine.clock import utc_to_chicago
from research.engine.contract_walk import HELD_COLUMN, held_rows
from research.engine.data import load_bars, prepare_bars
from research.engine.execution import TradeBatch
from research.engine.params import RunParams
from research.engine.ranges import RangeRules, build_slot_ranges
from research.engine.strategy import process_range_batch, process_single_range, run_strategy
from research.engine.synthetic import synthetic_bars
from research.errors import DataError
from tests import bar_writers as write
from tests.helpers import random_bars, random_params

SHIFT_POINTS = 250.0  # NQZ4 over NQU4 in September 2024: 230-300 points
# The roll's first session opens Sunday 17:00 (its bars carry the Sunday label until 23:00):
# Friday's trades are still open on NQU4 when the data has moved to NQZ4.
ROLL_DATE = "2024-09-15"
TARGET = 200  # wide enough for Friday's trades to stay open into Sunday evening


def as_frame(bars: Bars, contract: str) -> pd.DataFrame:
    tick = bars.instrument.tick
    return pd.DataFrame({"timestamp": utc_to_chicago(bars.ts_ns),
                         **{name: getattr(bars, f"{name}_ticks") * tick
                            for name in ("open", "high", "low", "close")},
                         "instrument": bars.instrument.symbol, "contract": contract,
                         "trading_day": bars.trading_day})


def shifted(frame: pd.DataFrame, points: float) -> pd.DataFrame:
    return frame.assign(**{name: frame[name] + points for name in write.PRICES})


def rolled_frame(old: pd.DataFrame, new: pd.DataFrame, roll_day: int) -> pd.DataFrame:
    """Both contracts' bars, the old one chosen before `roll_day`, with the rows it holds."""
    both = pd.concat([old, new], ignore_index=True)
    codes = (both["contract"] == new["contract"].iloc[0]).to_numpy().astype(np.int64)
    days = both["trading_day"].to_numpy()
    keep = (codes == 1) == (days >= roll_day)
    held = held_rows(days, codes, keep)
    out = both[keep | held].assign(**{HELD_COLUMN: held[keep | held]})
    return out.drop(columns="trading_day").reset_index(drop=True)


def alone_then_rolled(old: pd.DataFrame, new: pd.DataFrame, roll_day: int, rp: RunParams,
                      as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the rows of each contract run alone, on its own dates; the rows of the rolled data)."""
    def run(frame: pd.DataFrame) -> pd.DataFrame:
        return run_strategy(frame.drop(columns="trading_day", errors="ignore"), rp,
                            as_of=as_of, parallel=False)

    day = pd.Timestamp(0) + pd.Timedelta(days=roll_day)
    first, second = run(old), run(new)
    expected = pd.concat([first[first["date"] < day], second[second["date"] >= day]],
                         ignore_index=True)
    return expected, run(rolled_frame(old, new, roll_day))


def same_rows(expected: pd.DataFrame, actual: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(actual.drop(columns="contract"),
                                  expected.drop(columns="contract"))


@pytest.fixture(scope="module")
def nq_pair():
    bars = prepare_bars(synthetic_bars("NQ", "2024-09-09", "2024-09-20", seed=11), "NQ")
    old = as_frame(bars, "NQU4")
    return old, shifted(old, SHIFT_POINTS).assign(contract="NQZ4")


def roll_day_of(text: str) -> int:
    return (pd.Timestamp(text) - pd.Timestamp("1970-01-01")).days


def test_trades_across_a_roll_stay_on_their_contract(nq_pair):
    old, new = nq_pair
    rp = RunParams(instrument="NQ", target=TARGET)
    as_of = utc_to_chicago(np.array([old["timestamp"].max().value]))[0]
    expected, actual = alone_then_rolled(old, new, roll_day_of(ROLL_DATE), rp, as_of)
    same_rows(expected, actual)
    friday = actual[actual["date"] == "2024-09-13"]
    after_roll = pd.Timestamp(f"{ROLL_DATE} 17:00", tz="America/Chicago")
    crossing = friday[(friday["exit_time"] >= after_roll) | (friday["result"] == "TIME")]
    assert len(crossing) and (crossing["contract"] == "NQU4").all()  # the test bites
    for trade in crossing.itertuples():  # no jump: each exit is a price NQU4 traded then
        last = trade.exit_time if trade.result != "TIME" else trade.exit_time + pd.Timedelta(1, "s")
        seen = old[(old["timestamp"] >= trade.entry_time) & (old["timestamp"] <= last)]
        assert seen["low"].min() <= trade.exit_price <= seen["high"].max()
        assert abs(trade.exit_price - trade.entry_price) < SHIFT_POINTS


def test_the_old_code_would_read_the_next_contract(nq_pair):
    """Without held bars the crossing trades read NQZ4's prices: this is what the fix moves."""
    old, new = nq_pair
    roll_day = roll_day_of(ROLL_DATE)
    frame = rolled_frame(old, new, roll_day)
    dated = frame[~frame[HELD_COLUMN]].drop(columns=HELD_COLUMN)
    rp = RunParams(instrument="NQ", target=TARGET)
    kept = run_strategy(frame, rp, parallel=False)
    dropped = run_strategy(dated, rp, parallel=False)
    differ = (kept["exit_price"] != dropped["exit_price"]) | (kept["peak"] != dropped["peak"])
    assert differ.any()
    assert set(kept.loc[differ, "date"].dt.strftime("%Y-%m-%d")) == {"2024-09-13"}


def test_load_bars_holds_the_outgoing_contract_after_the_roll(tmp_path, nq_pair):
    old, new = nq_pair
    days = old["trading_day"].to_numpy()
    before = roll_day_of("2024-09-12")  # Friday's volume, NQZ4's, chooses for Sunday
    volume_old = np.where(days <= before, 1000, 10)
    data = pd.concat([old.assign(volume=volume_old), new.assign(volume=1000 - volume_old + 10)])
    path = write.databento_csv(data.drop(columns="trading_day"), tmp_path / "glbx.csv")
    frame = load_bars(path, instrument="NQ")
    held = frame[frame[HELD_COLUMN]]
    assert set(held["contract"]) == {"NQU4"}
    held_dates = set(held["timestamp"].dt.strftime("%Y-%m-%d"))
    assert held_dates <= {"2024-09-15", "2024-09-16"}  # Sunday evening and Monday
    bars = prepare_bars(frame, "NQ")
    assert bars.held_bars == len(held)
    assert bars.contracts == ("NQU4", "NQZ4")
    assert (bars.contract_code[bars.trading_day >= roll_day_of(ROLL_DATE)] == 1).all()
    as_of = frame["timestamp"].max()
    expected, _ = alone_then_rolled(old, new, roll_day_of(ROLL_DATE),
                                    RunParams(instrument="NQ", target=TARGET), as_of)
    same_rows(expected, run_strategy(bars, RunParams(instrument="NQ", target=TARGET),
                                     as_of=as_of, parallel=False))


def test_a_held_column_that_is_not_true_or_false_is_refused(nq_pair):
    frame = nq_pair[0].drop(columns="trading_day").assign(**{HELD_COLUMN: "yes"})
    with pytest.raises(DataError, match=r"^<frame>: column 'after_roll' holds \w+ values, not "
                                        r"True or False \(True marks the rows kept after a roll"):
        prepare_bars(frame, "NQ")


@st.composite
def rolled_pairs(draw):
    bars = draw(random_bars())
    days = np.unique(bars.trading_day)
    roll_day = int(draw(st.sampled_from(days.tolist())))
    shift_ticks = draw(st.sampled_from([-1000, -7, 3, 250, 1000]))
    old = as_frame(bars, "A")
    new = shifted(old, shift_ticks * bars.instrument.tick).assign(contract="B")
    return bars, old, new, roll_day


@settings(max_examples=25, deadline=None)
@given(pair=rolled_pairs(), data=st.data())
def test_rolled_rows_equal_each_contract_alone(pair, data):
    bars, old, new, roll_day = pair
    rp = data.draw(random_params(bars.instrument.symbol))
    as_of = utc_to_chicago(bars.ts_ns[[data.draw(st.integers(0, len(bars) - 1))]])[0]
    expected, actual = alone_then_rolled(old, new, roll_day, rp, as_of)
    same_rows(expected, actual)


@settings(max_examples=25, deadline=None)
@given(pair=rolled_pairs(), data=st.data())
def test_batch_path_equals_single_range_path_across_rolls(pair, data):
    bars, old, new, roll_day = pair
    rolled = prepare_bars(rolled_frame(old, new, roll_day), bars.instrument.symbol)
    rp = data.draw(random_params(bars.instrument.symbol))
    as_of_ns = int(rolled.ts_ns[data.draw(st.integers(0, len(rolled) - 1))])
    table = build_slot_ranges(rolled, RangeRules.from_params(rp))
    slow = TradeBatch.from_trades([process_single_range(rolled, r, rp, as_of_ns)
                                   for r in table])
    fast = process_range_batch(rolled, table, rp, as_of_ns)
    for name in TradeBatch.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
