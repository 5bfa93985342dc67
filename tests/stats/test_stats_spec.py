"""What research.stats reads of a spec: the range definitions (product, order, the reference
slots without range keys), their checks, and the repository's study specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from research.engine.params import RunParams
from research.errors import SpecError
from research.spec.grid import load_spec
from research.stats.definitions import MAX_DEFINITIONS, definitions_from_mapping, hhmm
from research.stats.study import read_study

ROOT = Path(__file__).parents[2]
ES = {"instrument": "ES"}


def labels(spec) -> list[str]:
    return [f"{d.label} {d.trade_until}" for d in definitions_from_mapping(spec)]


def test_the_definitions_are_the_product_of_the_range_axes_in_grid_order():
    spec = {"base": {**ES, "trade_until": "15:00"},
            "grid": {"range_start": ["08:30", "09:00"], "range_minutes": [5, 30],
                     "target": [10, 20], "t1_fraction": [0.5]}}
    assert labels(spec) == ["08:30-08:35 15:00", "08:30-09:00 15:00", "09:00-09:05 15:00",
                            "09:00-09:30 15:00"]


def test_range_end_and_trade_until_axes():
    spec = {"base": {**ES, "range_start": "08:30"},
            "grid": {"range_end": ["08:45", "09:30"], "trade_until": ["11:00", "16:00"]}}
    assert labels(spec) == ["08:30-08:45 11:00", "08:30-08:45 16:00", "08:30-09:30 11:00",
                            "08:30-09:30 16:00"]


@pytest.mark.parametrize(("spec", "expected"), [
    ({"base": ES}, ["02:00-07:30", "02:00-08:00", "02:00-09:00", "08:00-09:30", "08:00-10:00",
                    "08:00-10:30", "08:00-11:00"]),
    ({"base": ES, "grid": {"slot": ["11:00", "07:30"]}}, ["02:00-07:30", "08:00-11:00"]),
    ({"base": {**ES, "slot": "09:30"}}, ["08:00-09:30"]),
    ({"base": {**ES, "enabled_sessions": ["S2"], "enabled_slots": {"S2": ["10:00"]}}},
     ["08:00-10:00"]),
    ({"base": ES, "grid": {"enabled_sessions": [["S1"], ["S2"]]}},
     ["02:00-07:30", "02:00-08:00", "02:00-09:00", "08:00-09:30", "08:00-10:00",
      "08:00-10:30", "08:00-11:00"]),
])
def test_without_range_keys_the_reference_slots_the_spec_enables(spec, expected):
    assert [d.label for d in definitions_from_mapping(spec)] == expected
    assert {d.trade_until for d in definitions_from_mapping(spec)} == {"16:00"}


def test_the_cut_off_is_the_engines_trade_until_else_market_close():
    """As RunParams.entry_cutoff_minute: trade_until, else market_close, else 16:00; a
    trade_until after 16:00 is the engine's too (the scan runs into the evening)."""
    assert labels({"base": {**ES, "slot": "09:30", "market_close": "15:00"}}) == \
        ["08:00-09:30 15:00"]
    assert labels({"base": {**ES, "range_start": "08:30", "range_end": "09:00"},
                   "grid": {"market_close": ["15:00", "14:00"]}}) == \
        ["08:30-09:00 15:00", "08:30-09:00 14:00"]
    assert labels({"base": {**ES, "range_start": "08:30", "range_end": "09:00",
                            "trade_until": "16:30"}}) == ["08:30-09:00 16:30"]


def test_a_trade_until_axis_alone_applies_to_the_reference_slots():
    spec = {"base": {**ES, "slot": "10:00"}, "grid": {"trade_until": ["12:00", "14:00"]}}
    assert labels(spec) == ["08:00-10:00 12:00", "08:00-10:00 14:00"]


# The range keys are checked by the engine's own checks (RunParams, range_params.py): the
# messages are the engine's, prefixed with where the spec wrote the value.
@pytest.mark.parametrize(("base", "grid", "match"), [
    ({"range_start": "8:30", "range_minutes": 5}, {},
     r"^base\.range_start: '8:30' is not an HH:MM time \(00:00-23:59\), e\.g\. '08:30'$"),
    ({"range_start": 830, "range_minutes": 5}, {},
     r"^base\.range_start: 830 is not an HH:MM time; write it as text in quotes"),
    ({"range_start": "08:30:30", "range_minutes": 5}, {},
     r"^base\.range_start: '08:30:30' is not an HH:MM time \(00:00-23:59\)"),
    ({"range_start": "08:30", "range_end": "08:30"}, {},
     r"^base\.range_end: '08:30' is not after range_start '08:30'; a range needs at least "
     r"one minute$"),
    ({"range_start": "08:30"}, {},
     r"^base\.range_start: '08:30' needs exactly one of range_end \(HH:MM\) or range_minutes "
     r"\(a whole number\), not neither$"),
    ({"range_start": "08:30", "range_end": "09:00"}, {"range_minutes": [5]},
     r"^grid \(range_minutes 5\): range_start: '08:30' needs exactly one of range_end "
     r"\(HH:MM\) or range_minutes \(a whole number\), not both$"),
    ({"range_start": "08:30", "range_minutes": 0}, {},
     r"^base\.range_minutes: 0 is not in \[1, 450\] \(the range must end by 16:00"),
    ({"range_start": "08:30", "range_minutes": True}, {},
     r"^base\.range_minutes: True is not a whole number of minutes$"),
    ({"range_start": "15:30", "range_minutes": 45}, {},
     r"^base\.range_minutes: 45 is not in \[1, 30\] \(the range must end by 16:00, the "
     r"Globex day session's close\)$"),
    ({"range_start": "17:00", "range_end": "18:00"}, {},
     r"^base\.range_end '18:00' ends after 16:00, the Globex day session's close; a range "
     r"lies within one session \(00:00-16:00 Chicago\)$"),
    ({"range_start": "08:30", "range_end": "09:00", "trade_until": "08:45"}, {},
     r"^base\.trade_until: '08:45' is before the range's end 09:00; no entry could be taken$"),
    ({"range_start": "08:30", "range_end": "09:00", "trade_until": "25:00"}, {},
     r"^base\.trade_until: '25:00' is not an HH:MM time \(00:00-23:59\)"),
    ({"range_end": "09:00"}, {},
     r"^base\.range_end: '09:00' needs range_start \(the range's first minute, Chicago HH:MM"),
    ({"slot": "09:30", "trade_until": "11:00", "market_close": "15:00"}, {},
     r"^base\.trade_until: '11:00' is given with market_close '15:00'; both are the entry "
     r"cut-off, give one$"),
    ({"range_start": "08:30"}, {"range_start": ["09:00"]},
     r"^grid\.range_start: also set in base; give it in one place"),
    ({"range_start": "08:30"}, {"range_minutes": 5},
     r"^grid\.range_minutes: expected a non-empty list of values, got 5"),
    ({"range_start": "08:30"}, {"range_minutes": [5, 5]},
     r"^grid\.range_minutes: \[5, 5\] gives a value twice"),
    ({}, {"range_start": ["09:00", "08:30"], "range_end": ["08:45"]},
     r"^grid \(range_start '09:00', range_end '08:45'\): range_end: '08:45' is not after "
     r"range_start '09:00'"),
    ({"slot": "09:45"}, {}, r"^base\.slot: '09:45' is not a slot; allowed: 07:30"),
    ({"enabled_sessions": ["S3"]}, {}, r"^base: enabled_sessions: 'S3' is not one of"),
])
def test_a_bad_range_is_one_line_naming_the_key_and_value(base, grid, match):
    with pytest.raises(SpecError, match=match):
        definitions_from_mapping({"base": {**ES, **base}, "grid": grid})


def test_too_many_definitions_are_refused_before_any_work():
    side = int(MAX_DEFINITIONS ** 0.5) + 1
    grid = {"range_start": [f"0{h}:{m:02d}" for h in range(1, 8) for m in range(60)][:side],
            "range_minutes": list(range(1, side + 1))}
    with pytest.raises(SpecError, match=r"^grid: 1,024 range definitions, more than the 1,000"):
        definitions_from_mapping({"base": ES, "grid": grid})


@pytest.mark.parametrize(("spec", "match"), [
    ({"base": {"range_start": "08:30"}}, r"^base\.instrument: missing; one of ES"),
    ({"base": "ES"}, r"^base: expected a mapping with base\.instrument, got 'ES'"),
    ({"base": {**ES, "trade_days": ["Sun"]}}, r"^base\.trade_days: 'Sun' is not a weekday"),
    ({"base": {**ES, "calendar": "lunar"}}, r"^base\.calendar: 'lunar' is not one of"),
    ({"base": ES}, r"^data: missing; give data\.path"),
    ({"base": ES, "data": {"synthetic": {"instrument": "NQ"}}},
     r"^data\.synthetic\.instrument: 'NQ' is not base\.instrument"),
])
def test_the_rest_of_the_spec_is_checked_as_the_sweep_checks_it(spec, match):
    with pytest.raises(SpecError, match=match):
        read_study(spec)


def test_a_spec_files_error_starts_with_the_file(tmp_path):
    path = tmp_path / "orb.yaml"
    path.write_text("base: {instrument: ES, range_start: '08:30', range_end: '25:00'}\n"
                    "data: {synthetic: {}}\n")
    with pytest.raises(SpecError, match=r"orb\.yaml: base\.range_end: '25:00' is not an HH:MM"):
        read_study(path)


@pytest.mark.parametrize(("name", "instrument", "expected"), [
    ("study_orb_stats.yaml", "ES", ["08:30-08:35 15:00", "08:30-08:45 15:00",
                                    "08:30-09:00 15:00"]),
    ("study_zarattini_aziz.yaml", "MNQ", ["08:30-08:35 16:00"]),
    ("study_lundstrom.yaml", "ES", ["08:30-08:35 16:00", "08:30-08:45 16:00",
                                    "08:30-09:00 16:00", "08:30-09:30 16:00"]),
])
def test_the_study_specs_load(name, instrument, expected):
    """The statistics read the same ranges as the sweep's combos (the engine's spec loader)."""
    study = read_study(ROOT / "sweeps" / name)
    assert study.instrument == instrument and study.exchange_calendar
    assert study.data.synthetic_kwargs()["instrument"] == instrument
    assert [f"{d.label} {d.trade_until}" for d in study.definitions] == expected
    combos = list(load_spec(ROOT / "sweeps" / name).iter_combos())
    windows = {f"{hhmm(rp.range_window.start_minute)}-{hhmm(rp.range_window.end_minute)} "
               f"{hhmm(rp.entry_cutoff_minute)}" for rp in combos}
    assert windows == set(expected)


def combos_of(name: str) -> list[RunParams]:
    return list(load_spec(ROOT / "sweeps" / name).iter_combos())


def test_the_study_specs_say_what_docs_studies_md_says():
    orb = combos_of("study_orb_stats.yaml")  # 3 ranges x 2 entries x 3 targets
    assert len(orb) == 18 and {rp.entry for rp in orb} == {"stop", "close_confirm"}
    assert {rp.target_r for rp in orb} == {1, 2, 3}
    assert {(rp.range_start, rp.range_minutes, rp.trade_until) for rp in orb} == \
        {("08:30", 5, "15:00"), ("08:30", 15, "15:00"), ("08:30", 30, "15:00")}
    za = combos_of("study_zarattini_aziz.yaml")  # the paper's rules (docs/studies.md)
    assert {rp.target_r for rp in za} == {5, 10, 20}
    assert {(rp.instrument, rp.range_start, rp.range_end, rp.entry, rp.direction,
             rp.max_entries_per_day, rp.exit_at, rp.risk_fraction, rp.equity_usd)
            for rp in za} == {("MNQ", "08:30", "08:35", "close_confirm", "both", 1, "15:00",
                               0.01, 25000)}
    lund = combos_of("study_lundstrom.yaml")  # 4 ranges x 3 targets, the stop entry
    assert len(lund) == 12 and {rp.entry for rp in lund} == {"stop"}
    assert {rp.range_minutes for rp in lund} == {5, 15, 30, 60}
    assert {rp.target_r for rp in lund} == {1, 2, 4}
