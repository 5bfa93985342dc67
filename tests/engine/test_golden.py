"""Golden cases: bars CSV + params JSON -> the expected legacy CSV, every column exact."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from research.engine.data import load_bars
from research.engine.params import RunParams
from research.engine.results import to_legacy
from research.engine.strategy import run_strategy
from tests.helpers import GOLDEN_DIR

CASES = sorted(int(p.stem[2:]) for p in GOLDEN_DIR.glob("ex*.json"))


def run_case(n: int, **options) -> pd.DataFrame:
    params = json.loads((GOLDEN_DIR / f"ex{n}.json").read_text())
    as_of = params.pop("as_of")
    rp = RunParams.from_dict(params)
    bars = load_bars(GOLDEN_DIR / f"ex{n}_bars.csv")
    return to_legacy(run_strategy(bars, rp, as_of=as_of, **options))


def test_every_golden_case_is_present():
    assert list(range(1, 17)) == CASES


@pytest.mark.parametrize("n", CASES)
@pytest.mark.parametrize("options", [{"parallel": False}, {"parallel": True, "threads": 3}])
def test_golden_case(n, options):
    expected = pd.read_csv(GOLDEN_DIR / f"ex{n}_expected.csv", dtype=str, keep_default_na=False)
    got = run_case(n, **options)
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.astype(object),
                                  check_dtype=False)


@pytest.mark.parametrize("n", CASES)
def test_golden_case_from_a_raw_frame(n):
    """The same answer from an unparsed pd.read_csv frame (string timestamps)."""
    params = json.loads((GOLDEN_DIR / f"ex{n}.json").read_text())
    as_of = params.pop("as_of")
    raw = pd.read_csv(GOLDEN_DIR / f"ex{n}_bars.csv")
    got = to_legacy(run_strategy(raw, RunParams.from_dict(params), as_of=as_of))
    assert got.equals(run_case(n, parallel=False))
