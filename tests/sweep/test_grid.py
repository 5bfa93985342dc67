"""research.spec.grid: spec parsing, validation messages, expansion order, hashing, YAML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from research.engine.params import RunParams
from research.errors import SpecError
from research.parallel.settings import BACKENDS, ParallelSpec
from research.spec.grid import (
    DEFAULT_SPEC_NAME,
    DataSpec,
    SweepSpec,
    build_spec,
    load_spec,
    spec_from_dict,
)

ES = {"instrument": "ES"}
SYNTH = {"synthetic": {"instrument": "ES"}}
PATH = {"path": "no/such/bars.csv"}  # data.timezone/start/end are checked before the path


def spec_dict(**over: object) -> dict:
    """A valid spec dict; keyword arguments replace (or with None, drop) sections."""
    d = {"name": "t", "data": SYNTH, "base": ES, "grid": {"target": [10, 15]}}
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


# ---- validation matrix: every mistake is a SpecError naming the key, value and choices ----

@pytest.mark.parametrize(("over", "match"), [
    ({"extra": 1}, r"spec: unknown key\(s\) \['extra'\]; allowed: name, data, base, grid"),
    ({"name": 3}, r"name: 3 is not a string"),
    ({"name": "a/b"}, r"name: 'a/b' is not a safe folder name"),
    ({"name": ".."}, r"name: '\.\.' is not a safe folder name"),
    ({"grid": ["target"]}, r"grid: expected a mapping of axis -> list of values"),
    ({"grid": {"target": 10}}, r"grid\.target: expected a non-empty list of values, got 10"),
    ({"grid": {"target": []}}, r"grid\.target: expected a non-empty list of values, got \[\]"),
    ({"grid": {"target": "10"}}, r"grid\.target: expected a non-empty list"),
    ({"grid": {"tgt": [1]}}, r"grid\.tgt: unknown axis; allowed: .*target.*slot"),
    ({"grid": {"instrument": ["ES", "NQ"]}},
     r"grid\.instrument: a sweep runs one instrument; set base\.instrument"),
    ({"grid": {"target": [10, 15, 10.1]}},
     r"grid\.target\[2\] = 10\.1: target: 10\.1 is not a multiple of the ES tick \(0\.25\)"),
    ({"grid": {"target": [10, 10.0]}}, r"grid\.target\[1\] = 10\.0: duplicate of 10"),
    ({"grid": {"trade_days": [["Mon"], [0]]}}, r"grid\.trade_days\[1\] = \[0\]: duplicate"),
    ({"grid": {"slot": ["07:30", "12:00"]}},
     r"grid\.slot\[1\] = '12:00': not a slot; allowed: 07:30, 08:00, 09:00, 09:30, 10:00, "
     r"10:30, 11:00"),
    ({"grid": {"slot": [730]}}, r"grid\.slot\[0\] = 730: not a slot"),
    ({"grid": {"t1_fraction": [0.5, 1.5]}}, r"grid\.t1_fraction\[1\] = 1\.5: t1_fraction"),
    ({"grid": {"target_mode": ["fixed", "open"]}},
     r"grid\.target_mode\[1\] = 'open': target_mode: 'open' is not one of"),
    ({"grid": {"trade_days": ["Mon", "Tue"]}},
     r"grid\.trade_days\[0\] = 'Mon': trade_days takes a list .* a list of lists"),
    ({"grid": {"trade_days": [["Sat"]]}}, r"grid\.trade_days\[0\] = \['Sat'\]: trade_days"),
    ({"grid": {"stop_cap_multiple": [0.01]}},
     r"grid\.stop_cap_multiple\[0\] = 0\.01: .*less than one tick"),
    ({"grid": {"target": [10], "slot": ["07:30"]}, "base": {**ES, "target": 10}},
     r"grid\.target: also set in base"),
    ({"grid": {"slot": ["07:30"], "enabled_sessions": [["S1"]]}},
     r"grid: slot conflicts with enabled_sessions"),
    ({"grid": {"slot": ["07:30"]}, "base": {**ES, "enabled_slots": {"S1": ["07:30"]}}},
     r"grid: slot conflicts with enabled_slots"),
    ({"base": {**ES, "slot": "07:30", "enabled_sessions": ["S1"]}},
     r"base: slot conflicts with enabled_sessions"),
    ({"base": {"target": 10}}, r"base\.instrument: missing; one of ES, NQ"),
    ({"base": None}, r"base\.instrument: missing"),
    ({"base": ["ES"]}, r"base: expected a mapping of RunParams fields"),
    ({"base": {"instrument": "XX"}}, r"base\.instrument = 'XX': instrument: 'XX' is not one of"),
    ({"base": {**ES, "colour": 1}}, r"base\.colour: unknown field; allowed: instrument"),
    ({"base": {**ES, "target": 10.1}}, r"base\.target = 10\.1: target: 10\.1 is not a multiple"),
    ({"base": {**ES, "slot": "12:00"}}, r"base\.slot = '12:00': not a slot; allowed: 07:30"),
    ({"base": {**ES, "target": 0.25, "stop_cap_multiple": 0.5}},
     r"base: stop_cap_multiple: 0\.5 x target 0\.25 is less than one tick"),
    ({"data": None}, r"data: missing; give data\.path"),
    ({"data": "bars.csv"}, r"data: expected a mapping of path, synthetic"),
    ({"data": {"url": "x"}}, r"data: unknown key\(s\) \['url'\]; allowed: path, synthetic"),
    ({"data": {}}, r"data: give exactly one of path .* or synthetic"),
    ({"data": {"path": "x.csv", "synthetic": {}}}, r"data: give exactly one of path"),
    ({"data": {"path": "no/such/*.parquet"}},
     r"data\.path: 'no/such/\*\.parquet': matches no bar file \(read: \.parquet, \.csv, "
     r"\.txt, \.dbn"),
    ({"data": {"path": 5}}, r"data\.path: 5 is not a path string"),
    ({"data": {**PATH, "timezone": "Mars/Base"}}, r"data\.timezone: 'Mars/Base' is not an IANA"),
    ({"data": {**PATH, "start": "2024-13-01"}},
     r"data\.start: '2024-13-01' is not an ISO date \(YYYY-MM-DD\)"),
    ({"data": {**PATH, "end": "01/02/2024"}}, r"data\.end: '01/02/2024' is not an ISO date"),
    ({"data": {**PATH, "start": "2024-03-01", "end": "2024-02-01"}},
     r"data\.end: '2024-02-01' is before data\.start '2024-03-01'"),
    ({"data": {"synthetic": "ES"}}, r"data\.synthetic: expected a mapping of instrument, start"),
    ({"data": {"synthetic": {"symbol": "ES"}}},
     r"data\.synthetic: unknown key\(s\) \['symbol'\]; allowed: instrument, start, end, seed"),
    ({"data": {"synthetic": {"seed": -1}}}, r"data\.synthetic\.seed: -1 is not an integer >= 0"),
    ({"data": {"synthetic": {"instrument": "ZZ"}}},
     r"data\.synthetic\.instrument: 'ZZ' is not one of ES"),
    ({"data": {"synthetic": {"start": "2024"}}}, r"data\.synthetic\.start: '2024' is not an ISO"),
    ({"parallel": ["loky"]}, r"parallel: expected a mapping of backend, max_cpus, scheduler"),
    ({"parallel": {"workers": 2}}, r"parallel: unknown key\(s\) \['workers'\]; allowed: backend"),
    ({"parallel": {"backend": "threads"}},
     r"parallel\.backend: 'threads' is not one of \('loky', 'sequential', 'dask'\)"),
    ({"parallel": {"max_cpus": 0}}, r"parallel\.max_cpus: 0 is not 'auto', null or an int >= 1"),
    ({"parallel": {"max_cpus": "all"}}, r"parallel\.max_cpus: 'all' is not 'auto'"),
    ({"parallel": {"max_cpus": True}}, r"parallel\.max_cpus: True is not 'auto'"),
    ({"parallel": {"scheduler": 8786}}, r"parallel\.scheduler: 8786 is not a string or null"),
])
def test_spec_mistakes_name_the_key_value_and_choices(over: dict, match: str) -> None:
    d = spec_dict()
    d.update(over)
    with pytest.raises(SpecError, match=match):
        spec_from_dict(d)


def test_spec_must_be_a_mapping() -> None:
    with pytest.raises(SpecError, match=r"spec: expected a mapping"):
        spec_from_dict(["grid"])  # type: ignore[arg-type]


def test_combo_that_clashes_only_in_the_product_is_a_spec_error() -> None:
    # Each value is fine against base alone; 0.25 x 0.5 is less than one tick.
    spec = spec_from_dict(spec_dict(grid={"target": [0.25, 10], "stop_cap_multiple": [0.5, 3]}))
    with pytest.raises(SpecError, match=r"grid combo \{'target': 0\.25, 'stop_cap_multiple'"):
        spec.combos()


# ---- expansion ----

def test_expansion_order_is_first_axis_slowest_and_size_is_the_product() -> None:
    spec = spec_from_dict(spec_dict(grid={"target": [10, 15, 20], "t1_fraction": [0.5, 0.65]}))
    assert spec.axes == ["target", "t1_fraction"]
    assert spec.size == 6
    combos = spec.combos()
    assert [(p.target, p.t1_fraction) for p in combos] == [
        (10, 0.5), (10, 0.65), (15, 0.5), (15, 0.65), (20, 0.5), (20, 0.65)]
    assert all(isinstance(p, RunParams) and p.instrument == "ES" for p in combos)
    assert combos[0] == RunParams(instrument="ES", target=10, t1_fraction=0.5)


def test_axis_order_as_given() -> None:
    spec = spec_from_dict(spec_dict(grid={"t1_fraction": [0.5, 0.65], "target": [10, 15]}))
    assert spec.axes == ["t1_fraction", "target"]
    assert [(p.t1_fraction, p.target) for p in spec.combos()] == [
        (0.5, 10), (0.5, 15), (0.65, 10), (0.65, 15)]


def test_slot_axis_sets_its_session_and_slot() -> None:
    spec = spec_from_dict(spec_dict(grid={"slot": ["07:30", "10:30"], "target": [10]}))
    first, second = spec.combos()
    assert first.enabled_sessions == ("S1",)
    assert first.enabled_slots == (("S1", ("07:30",)),)
    assert second.enabled_sessions == ("S2",)
    assert second.enabled_slots == (("S2", ("10:30",)),)
    assert list(spec.iter_values())[1] == {"slot": "10:30", "target": 10}


def test_slot_in_base_is_a_single_label() -> None:
    spec = spec_from_dict(spec_dict(base={**ES, "slot": "09:00"}, grid={"target": [10, 20]}))
    assert {p.enabled_slots for p in spec.combos()} == {(("S1", ("09:00",)),)}


def test_list_valued_axes_take_lists_of_lists_and_lists_of_dicts() -> None:
    grid = {"trade_days": [["Mon", "Tue"], [2, 3, 4]],
            "enabled_slots": [{"S1": ["07:30"]}, {"S1": ["08:00"], "S2": ["11:00"]}],
            "enabled_sessions": [["S1"], ["S1", "S2"]]}
    spec = spec_from_dict(spec_dict(grid=grid))
    assert spec.size == 8
    combos = spec.combos()
    assert combos[0].trade_days == (0, 1)
    assert combos[0].enabled_slots == (("S1", ("07:30",)),)
    assert combos[-1].trade_days == (2, 3, 4)
    assert combos[-1].enabled_slots == (("S1", ("08:00",)), ("S2", ("11:00",)))
    assert combos[-1].enabled_sessions == ("S1", "S2")
    assert list(spec.iter_values())[-1] == {
        "trade_days": [2, 3, 4], "enabled_slots": {"S1": ["08:00"], "S2": ["11:00"]},
        "enabled_sessions": ["S1", "S2"]}


def test_base_only_spec_gives_one_combo() -> None:
    spec = spec_from_dict(spec_dict(base={**ES, "target": 15, "trade_days": ["Mon"]}, grid=None))
    assert spec.axes == [] and spec.size == 1
    assert spec.combos() == [RunParams(instrument="ES", target=15, trade_days=(0,))]
    assert list(spec.iter_values()) == [{}]


def test_axis_values_are_as_written() -> None:
    spec = spec_from_dict(spec_dict(grid={"target": [10.0, 12.5], "trade_days": [["Mon"]]}))
    assert list(spec.iter_values()) == [
        {"target": 10.0, "trade_days": ["Mon"]}, {"target": 12.5, "trade_days": ["Mon"]}]


def test_underscore_base_keys_are_notes() -> None:
    spec = spec_from_dict(spec_dict(base={**ES, "_why": "note"}))
    assert spec.size == 2 and spec.base["_why"] == "note"


# ---- hashing and round trip ----

def test_spec_hash_is_stable_and_ignores_name_and_parallel() -> None:
    spec = spec_from_dict(spec_dict())
    digest = spec.spec_hash
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert spec_from_dict(spec_dict()).spec_hash == digest == spec.spec_hash
    other = spec_dict(name="other", parallel={"backend": "sequential", "max_cpus": 3})
    assert spec_from_dict(other).spec_hash == digest


@pytest.mark.parametrize("over", [
    {"grid": {"target": [10, 20]}},
    {"base": {**ES, "t1_fraction": 0.5}},
    {"data": {"synthetic": {"seed": 8}}},
])
def test_spec_hash_changes_with_data_base_or_grid(over: dict) -> None:
    assert spec_from_dict(spec_dict(**over)).spec_hash != spec_from_dict(spec_dict()).spec_hash


def test_to_dict_round_trips() -> None:
    spec = spec_from_dict(spec_dict(grid={"slot": ["07:30"], "trade_days": [["Mon"]]},
                                    parallel={"max_cpus": "auto"}))
    d = spec.to_dict()
    assert d["parallel"] == {"backend": None, "max_cpus": "auto", "scheduler": None,
                             "batch_size": None}  # as given
    assert d["data"]["synthetic"] == {"instrument": "ES", "start": "2024-01-01",
                                      "end": "2024-12-31", "seed": 7}
    again = spec_from_dict(d)
    assert again == spec and again.spec_hash == spec.spec_hash


def test_synthetic_defaults_follow_the_base_instrument() -> None:
    spec = spec_from_dict(spec_dict(base={"instrument": "NQ"}, grid={"target": [50]},
                                    data={"synthetic": {"seed": 3}}))
    assert spec.data is not None
    assert spec.data.synthetic_kwargs() == {"instrument": "NQ", "start": "2024-01-01",
                                            "end": "2024-12-31", "seed": 3}


def test_dataspec_needs_exactly_one_source() -> None:
    with pytest.raises(SpecError, match=r"^data: give exactly one of path"):
        spec_from_dict(spec_dict(data={"path": None}))
    with pytest.raises(ValueError, match="not a synthetic data spec"):
        DataSpec(path="x.csv").synthetic_kwargs()


SYNTHETIC_TAKES_ITS_OWN = (r"not used with synthetic data; synthetic data takes start/end "
                           r"inside synthetic: .* and needs no timezone")


@pytest.mark.parametrize(("extra", "keys"), [
    ({"start": "2024-01-01"}, "data.start"),
    ({"end": "2024-02-01"}, "data.end"),
    ({"timezone": "UTC"}, "data.timezone"),
    ({"timezone": "Mars/Base"}, "data.timezone"),
    ({"start": "2024-01-01", "timezone": "UTC"}, "data.start, data.timezone"),
])
def test_synthetic_data_refuses_data_start_end_and_timezone(extra: dict, keys: str) -> None:
    with pytest.raises(SpecError, match=rf"^{re.escape(keys)}: {SYNTHETIC_TAKES_ITS_OWN}"):
        spec_from_dict(spec_dict(data={**SYNTH, **extra}))


def test_synthetic_data_accepts_the_form_to_dict_writes() -> None:
    # to_dict writes timezone: America/Chicago and null dates next to synthetic; both say nothing
    written = {**SYNTH, "path": None, "timezone": "America/Chicago", "start": None, "end": None}
    spec = spec_from_dict(spec_dict(data=written))
    assert spec.data == spec_from_dict(spec_dict()).data


def test_synthetic_instrument_must_be_the_base_instrument() -> None:
    with pytest.raises(SpecError, match=r"data\.synthetic\.instrument: 'NQ' is not "
                                        r"base\.instrument 'ES'"):
        spec_from_dict(spec_dict(data={"synthetic": {"instrument": "NQ"}}))
    with pytest.raises(SpecError, match=r"data\.synthetic\.instrument: 'mes' is not "
                                        r"base\.instrument 'ES'"):
        spec_from_dict(spec_dict(data={"synthetic": {"instrument": "mes"}}))


def test_synthetic_instrument_is_normalised_like_synthetic_bars() -> None:
    spec = spec_from_dict(spec_dict(data={"synthetic": {"instrument": " es"}}))
    assert spec.data is not None and spec.data.synthetic_kwargs()["instrument"] == "ES"
    assert spec.spec_hash == spec_from_dict(spec_dict()).spec_hash


@pytest.mark.parametrize(("max_cpus", "stored"), [
    (None, None), ("auto", "auto"), (" AUTO ", "auto"), (4, 4), ("4", 4), (" 12 ", 12),
    (64, 64)])
def test_max_cpus_takes_what_resolve_budget_takes(max_cpus: object, stored: int | None) -> None:
    assert ParallelSpec(max_cpus=max_cpus).max_cpus == stored
    spec = spec_from_dict(spec_dict(parallel={"max_cpus": max_cpus}))
    assert spec.parallel == ParallelSpec(max_cpus=stored)
    assert spec.to_dict()["parallel"]["max_cpus"] == stored


@pytest.mark.parametrize("bad", ["0", "-1", "4.0", "", 2.0, -3, [4]])
def test_max_cpus_refuses_what_resolve_budget_refuses(bad: object) -> None:
    with pytest.raises(SpecError, match=rf"^parallel\.max_cpus: {re.escape(repr(bad))} is not "
                                        r"'auto', null or an int >= 1") as caught:
        ParallelSpec(max_cpus=bad)
    assert isinstance(caught.value.__cause__, ValueError)


def test_backends_are_the_one_list_of_backend_names() -> None:
    assert BACKENDS == ("loky", "sequential", "dask")
    for backend in BACKENDS:
        assert ParallelSpec(backend=backend).backend == backend


# ---- YAML ----

YAML_SPEC = """\
data:
  path: bars/*.parquet
  start: 2024-01-02
  end: '2024-03-01'
base:
  instrument: ES
  trade_days: [Mon, Tue, Wed]
grid:
  slot: [07:30, 10:30]        # unquoted: must stay HH:MM text
  target: [10, 15]
parallel:
  backend: sequential
  max_cpus: 2
"""


def write_spec(folder: Path, text: str, name: str = "my-sweep.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_spec_resolves_a_relative_data_path_next_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "bars").mkdir()
    (tmp_path / "bars" / "es.parquet").write_bytes(b"")
    spec = load_spec(write_spec(tmp_path, YAML_SPEC))
    assert spec.name == "my-sweep" and spec.source.endswith("my-sweep.yaml")
    assert spec.data is not None
    assert spec.data.path == str(tmp_path / "bars" / "*.parquet")
    assert (spec.data.start, spec.data.end) == ("2024-01-02", "2024-03-01")
    assert spec.parallel == ParallelSpec(backend="sequential", max_cpus=2)
    assert spec.size == 4 and spec.axes == ["slot", "target"]
    assert [p.enabled_slots[0][1] for p in spec.combos()] == [("07:30",)] * 2 + [("10:30",)] * 2
    assert spec.to_dict()["data"]["path"] == "bars/*.parquet"  # as written: hash CWD-free


def test_load_spec_accepts_a_folder_a_csv_file_and_a_recursive_glob(tmp_path: Path) -> None:
    (tmp_path / "d" / "2024").mkdir(parents=True)
    (tmp_path / "d" / "2024" / "x.CSV").write_text("a\n")
    for path in ("d", "d/2024/x.CSV", "d/**/*.CSV", "d/*"):
        text = YAML_SPEC.replace("bars/*.parquet", path)
        assert load_spec(write_spec(tmp_path, text)).data.path == str(tmp_path / path)


def test_load_spec_data_path_matching_nothing(tmp_path: Path) -> None:
    (tmp_path / "bars").mkdir()
    (tmp_path / "bars" / "notes.txt").write_text("x")
    with pytest.raises(SpecError, match=r"my-sweep\.yaml: data\.path: 'bars/\*\.parquet': "
                                        r"matches no bar file \(read: \.parquet, \.csv, "):
        load_spec(write_spec(tmp_path, YAML_SPEC))


@pytest.mark.parametrize(("path", "why"), [
    ("bars/notes.txt", r"not a bar file \(expected \.parquet or \.csv\), and its first line "
                       r"is in no known layout: give format: or columns:"),
    ("bars", r"matches no bar file \(read: \.parquet, \.csv, \.txt, \.dbn, \.dbn\.zst; "
             r"\.csv and \.txt also as \.gz or \.zst"),
    ("nope", r"no such file or folder"),
])
def test_load_spec_data_path_says_why_as_load_bars_does(tmp_path: Path, path: str,
                                                        why: str) -> None:
    (tmp_path / "bars").mkdir()
    (tmp_path / "bars" / "notes.txt").write_text("x")
    # the path once, then why: not found from the working folder, and next to the spec
    with pytest.raises(SpecError, match=rf"data\.path: '{path}': no such file or folder; next "
                                        rf"to the spec, '{re.escape(str(tmp_path / path))}': "
                                        rf"{why}"):
        load_spec(write_spec(tmp_path, YAML_SPEC.replace("bars/*.parquet", path)))


def test_load_spec_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "base:\n  instrument: ES\ngrid:\n  target: [10, 15\n")
    with pytest.raises(SpecError, match=r"my-sweep\.yaml: invalid YAML at line \d+"):
        load_spec(path)


@pytest.mark.parametrize(("text", "match"), [
    ("- a\n- b\n", r"expected a mapping of name, data, base, grid, parallel"),
    ("", r"expected a mapping"),
    ("name: x y\ndata: {synthetic: {}}\nbase: {instrument: ES}\n", r"name: 'x y' is not a safe"),
])
def test_load_spec_bad_top_level(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        load_spec(write_spec(tmp_path, text))


def test_load_spec_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"nope\.yaml: cannot read the spec"):
        load_spec(tmp_path / "nope.yaml")


def test_repository_sweeps_load() -> None:
    paths = sorted((Path(__file__).parents[2] / "sweeps").glob("*.yaml"))
    assert paths, "the repository's sweeps/ folder holds example specs"
    for path in paths:
        spec = load_spec(path)
        assert spec.size == len(list(spec.iter_combos())) >= 1, path.name


# ---- build_spec (ResearchRunner.run) ----

def test_build_spec_has_no_data_and_defaults() -> None:
    spec = build_spec({"target": [10, 15]}, ES, None)
    assert isinstance(spec, SweepSpec)
    assert spec.name == DEFAULT_SPEC_NAME and spec.data is None
    assert spec.parallel == ParallelSpec() and spec.size == 2
    parallel = ParallelSpec(backend="dask", max_cpus="auto", scheduler="tcp://h:8786")
    spec = spec_from_dict({"name": "demo", "base": ES, "grid": {"slot": ["08:00"]},
                           "parallel": parallel.to_dict()}, data_required=False)
    assert spec.name == "demo" and spec.parallel.max_cpus == "auto"
    assert spec.parallel.scheduler == "tcp://h:8786"
    assert spec.spec_hash == build_spec({"slot": ["08:00"]}, ES, "other").spec_hash


def test_build_spec_validates_like_a_file() -> None:
    with pytest.raises(SpecError, match=r"grid\.target\[1\] = 10\.3"):
        build_spec({"target": [10, 10.3]}, ES, "demo")
    with pytest.raises(SpecError, match=r"base\.instrument: missing"):
        build_spec({"target": [10]}, None, "demo")


def test_spec_is_isolated_from_later_mutation() -> None:
    base = {"instrument": "ES", "trade_days": ["Mon"]}
    grid = {"enabled_sessions": [["S1"]]}
    spec = build_spec(grid, base, None)
    base["trade_days"].append("Tue")
    grid["enabled_sessions"][0].append("S2")
    assert spec.to_dict()["base"]["trade_days"] == ["Mon"]
    assert spec.combos()[0].enabled_sessions == ("S1",)


def test_load_spec_data_path_from_the_cwd_comes_first(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("cwd", "specs"):
        (tmp_path / folder / "bars").mkdir(parents=True)
        (tmp_path / folder / "bars" / "es.parquet").write_bytes(b"")
    monkeypatch.chdir(tmp_path / "cwd")
    spec = load_spec(write_spec(tmp_path / "specs", YAML_SPEC))
    assert spec.data.path == str(tmp_path / "cwd" / "bars" / "*.parquet")
