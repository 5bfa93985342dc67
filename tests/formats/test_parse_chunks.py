"""Timestamps parsed in chunks (issue 19: a large CSV's peak memory) give exactly what one
parse of the whole column gives: the same instants, zone, and error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.engine import timestamps
from research.errors import DataError

STAMPS = ["2024-03-08 09:30:00-06:00", "2024-03-10 01:59:00-06:00", "2024-03-10 03:00:00-05:00",
          "2024-03-11T08:30:00Z", "2024-03-11 08:31:00+00:00", "2024-03-12 07:00:00.5-05:00"]
NAIVE = ["2024-03-08 09:30:00", "2024-03-08 09:31", "2024-03-09T10:00:00", "2024-03-10 12:00:00"]


def both(values: list[str], monkeypatch) -> tuple[object, object]:
    series = pd.Series(values, dtype="str")
    rows = np.arange(len(values))
    whole = timestamps._parse_text_at_once(series, rows, "bars.csv")
    monkeypatch.setattr(timestamps, "PARSE_CHUNK_ROWS", 2)
    chunked = timestamps._parse_text(series, rows, "bars.csv")
    return whole, chunked


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(STAMPS), min_size=1, max_size=12) |
       st.lists(st.sampled_from(NAIVE), min_size=1, max_size=12))
def test_chunked_parse_equals_one_parse(values):
    with pytest.MonkeyPatch.context() as monkeypatch:
        whole, chunked = both(values, monkeypatch)
    assert str(chunked.tz) == str(whole.tz)
    assert chunked.as_unit("ns").asi8.tolist() == whole.as_unit("ns").asi8.tolist()


def test_chunks_that_disagree_give_the_whole_columns_message(monkeypatch):
    values = pd.Series([STAMPS[0], STAMPS[1], NAIVE[0], NAIVE[1]], dtype="str")
    rows = np.arange(4)
    with pytest.raises(DataError) as whole:
        timestamps._parse_text_at_once(values, rows, "bars.csv")
    monkeypatch.setattr(timestamps, "PARSE_CHUNK_ROWS", 2)
    with pytest.raises(DataError, match="without a UTC offset among timestamps that have one"
                       ) as chunked:
        timestamps._parse_text(values, rows, "bars.csv")
    assert str(chunked.value) == str(whole.value)
