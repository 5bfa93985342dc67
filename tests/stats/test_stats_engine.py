"""The breakout statistics count what the engine does (issue 20: "the engine's own entry
level"): on a spec with a custom range grid, `breakout_stats` gives the same days and break
shares as the engine's own ranges, touches (`breakout_touches`) and stop entries
(`run_strategy`) for the sweep's combos of each range; and every study spec in sweeps/ runs
end to end, as a sweep with a verdict and as statistics (slow)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from research import prepare_bars, run_strategy, synthetic_bars
from research.analysis.verdict import HEADLINES, MIXED, NO_EVIDENCE
from research.engine.bars import Bars
from research.engine.entry import breakout_touches
from research.engine.params import RunParams
from research.engine.ranges import RangeRules, build_slot_ranges
from research.spec.grid import spec_from_dict
from research.stats import breakout_stats
from research.stats.kernel import DOWN_FIRST, UP_FIRST, day_breakouts
from research.stats.study import read_study
from tests.helpers import ROOT, cli

# A DST change (Sunday 2024-11-03), Thanksgiving (no session on the 28th) and its early
# close (12:15 on the 29th, calendar: exchange): the cut-offs 11:00 and 15:00 straddle it,
# and 20:00 (after the 16:00 close: the engine takes it) reads the next date's evening bars.
# A roll is tests/stats/test_stats_kernel.py's (the readable loop).
SPEC = {
    "name": "stats_engine_parity",
    "data": {"synthetic": {"instrument": "ES", "start": "2024-10-28", "end": "2024-12-03",
                           "seed": 3}},
    "base": {"instrument": "ES", "calendar": "exchange", "entry": "stop", "direction": "both"},
    "grid": {"range_start": ["08:30", "09:00"], "range_minutes": [5, 30],
             "trade_until": ["11:00", "15:00", "20:00"], "target_r": [2]},
}


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@pytest.fixture(scope="module")
def bars() -> Bars:
    return prepare_bars(synthetic_bars(**SPEC["data"]["synthetic"]), "ES")


def test_the_statistics_count_the_engines_own_ranges_touches_and_entries(bars):
    study = read_study(SPEC)
    stats = breakout_stats(SPEC, data=bars)
    days = day_breakouts(bars, study.definitions, trade_days=study.trade_days,
                         exchange_calendar=study.exchange_calendar)
    table = stats.table.set_index(["range_start", "range_end", "trade_until"])
    combos = list(spec_from_dict(SPEC).iter_combos())
    assert len(combos) == len(table) == 12
    for rp in combos:
        window = rp.range_window
        key = (hhmm(window.start_minute), hhmm(window.end_minute), hhmm(rp.entry_cutoff_minute))
        row = table.loc[key]
        ranges = build_slot_ranges(bars, RangeRules.from_params(rp))
        up, down = breakout_touches(bars, ranges)
        assert row["days"] == len(ranges) > 0
        assert (row["up_days"], row["down_days"], row["both_days"], row["neither_days"]) == (
            (up >= 0).sum(), (down >= 0).sum(), ((up >= 0) & (down >= 0)).sum(),
            ((up < 0) & (down < 0)).sum())
        assert row["up"] == pytest.approx((up >= 0).mean())
        # The stop entry (max_entries_per_day 1) is the first break of one side: Long on an
        # up first break, Short on a down one, NoTrade on neither or a bar breaking both.
        frame = run_strategy(bars, rp, parallel=False)
        dates = frame["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        mine = days.definition == [(d.range_start, d.range_end, d.trade_until)
                                   for d in study.definitions].index(key)
        assert dates.tolist() == days.trading_day[mine & days.has_range].tolist()
        for side, code in (("Long", UP_FIRST), ("Short", DOWN_FIRST)):
            entered = dates[(frame["direction"] == side).to_numpy()]
            first = days.trading_day[mine & (days.first_break == code)]
            assert entered.tolist() == first.tolist(), (key, side)
        assert row["up_first"] == pytest.approx((frame["direction"] == "Long").mean())
        assert row["down_first"] == pytest.approx((frame["direction"] == "Short").mean())


def test_a_reference_slot_counts_the_reference_sessions_ranges_and_touches():
    """A spec without range keys asks about its slots: its figures are the engine's reference
    ranges' (session S2, slot 09:30), and a custom range 08:00-09:30 gives the same."""
    data = prepare_bars(synthetic_bars("ES", "2024-03-04", "2024-03-15", seed=5), "ES")
    reference = breakout_stats({"base": {"instrument": "ES", "slot": "09:30"}}, data=data)
    custom = breakout_stats({"base": {"instrument": "ES", "range_start": "08:00",
                                      "range_end": "09:30"}}, data=data)
    assert custom.table.to_dict("records") == reference.table.to_dict("records")
    rp = RunParams(instrument="ES", enabled_sessions=("S2",), enabled_slots={"S2": ["09:30"]})
    ranges = build_slot_ranges(data, RangeRules.from_params(rp))
    up, down = breakout_touches(data, ranges)
    row = reference.table.iloc[0]
    assert (row["days"], row["up_days"], row["down_days"]) == \
        (len(ranges), (up >= 0).sum(), (down >= 0).sum())
    assert row["days"] == 10


STUDIES = sorted(path.name for path in (ROOT / "sweeps").glob("study_*.yaml"))
VERDICT = re.compile(r"^robustness: ({})\.".format("|".join(HEADLINES.values())), re.MULTILINE)


@pytest.mark.slow
@pytest.mark.parametrize("name", STUDIES)
def test_each_study_spec_runs_end_to_end(name, tmp_path):
    """The spec as shipped, on its own year of synthetic bars (docs/studies.md quotes these
    runs): the sweep trades, completes with a verdict line, and finds no edge in a random
    walk; research-stats gives one JSON object per range definition."""
    path = ROOT / "sweeps" / name
    sweep = cli(path, "--results-dir", tmp_path, "--max-cpus", "1", "--no-report",
                module="research.sweep")
    out, err = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, err
    verdict = VERDICT.search(out)
    assert verdict, out
    assert verdict.group(1) in (HEADLINES[NO_EVIDENCE], HEADLINES[MIXED]), out
    assert re.search(r"\d+ combos ok, 0 failed", out), out
    stats = cli(path, "--json", module="research.stats")
    out, err = stats.communicate(timeout=300)
    assert stats.returncode == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["range_start"], r["range_end"]) for r in records] == \
        [(d.range_start, d.range_end) for d in read_study(path).definitions]
    assert all(r["days"] == 258 for r in records)  # the 2024 weekdays with a range bar
