"""Bad input as a demanding user or an adversarial tester gives it (issue 9, part A and B).

Spec files, CLI flags, Python calls and data files: every case is refused with one short
line that names the file, key, row, column or value and what is allowed; a ResearchError
from Python (a wrong type: InputTypeError, also a TypeError), exit 2 and no traceback from
the CLI. Most cases run in-process; a representative subset runs the CLI in a subprocess.
"""

from __future__ import annotations

import decimal
import logging
import re
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from research import RunParams, load_bars, run_strategy, synthetic_bars
from research.engine.inputs import to_bars
from research.errors import (
    DataError,
    InputTypeError,
    ParamsError,
    ResearchError,
    SpecError,
    shorten,
)
from research.parallel.budget import usable_cores
from research.parallel.settings import ParallelSpec
from research.research_runner import ResearchRunner
from research.spec.grid import load_spec
from research.spec.yaml_reader import MAX_SPEC_BYTES, MAX_SPEC_NODES
from tests.helpers import cli

SYNTH = "data: {synthetic: {end: 2024-01-31}}\n"
GOOD = "base: {instrument: ES}\ngrid: {target: [10]}\n" + SYNTH
CSV_HEADER = "timestamp,open,high,low,close,instrument\n"
MAX_MESSAGE_CHARS = 500  # a temporary folder path may appear twice


def write(path: Path, content: str | bytes) -> None:
    """A case's file: bytes as they are, text as UTF-8."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def base(fields: str) -> str:
    """A spec whose base is ``{instrument: ES, <fields>}``."""
    more = f", {fields}" if fields else ""
    return f"base: {{instrument: ES{more}}}\n{SYNTH}"


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic alias bomb: `levels` lists of `width` aliases of the list before."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]"
              for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def assert_one_short_line(message: str) -> None:
    assert "\n" not in message and len(message) < MAX_MESSAGE_CHARS, message
    assert "Traceback" not in message


# ---- spec files through load_spec: (id, YAML text or bytes, message regex) ----

SPEC_CASES = [
    # duplicate keys, at any level
    ("dup-top", "grid: {target: [10]}\ngrid: {t1_fraction: [0.5]}\n" + base(""),
     r"grid: given twice, at lines 1 and 2 \(YAML keeps only the last one\); give each key"),
    ("dup-base", "base:\n  instrument: ES\n  target: 10\n  target: 15\n" + SYNTH,
     r"base\.target: given twice, at lines 3 and 4"),
    ("dup-synthetic", base("") .replace("{end: 2024-01-31}", "{seed: 1, seed: 2}"),
     r"data\.synthetic\.seed: given twice, at lines 2 and 2"),
    ("dup-in-list", base("") + "grid: {enabled_slots: [{S1: [07:30], S1: [08:00]}]}\n",
     r"grid\.enabled_slots\[0\]\.S1: given twice"),
    ("dup-quoted", "'name': a\nname: b\n" + base(""), r"name: given twice, at lines 1 and 2"),
    # aliases and size
    ("alias-recursive", "base: &b {instrument: ES, _x: *b}\n" + SYNTH,
     r"base\._x \(line 1\): an alias names a value that contains it; YAML aliases may not"),
    ("alias-expansion", billion_laughs(levels=5, width=10),
     rf"a3 \(line 4\): more than {MAX_SPEC_NODES:,} values once its aliases are expanded"),
    ("too-many-values", "grid: {target: [" + ", ".join(["10"] * 12_000) + "]}\n",
     rf"line 1: the spec has more than {MAX_SPEC_NODES:,} values; a spec holds settings"),
    ("too-large", "#" * (MAX_SPEC_BYTES + 1),
     rf"the spec is larger than {MAX_SPEC_BYTES:,} bytes; a spec holds settings, not data"),
    ("deep", "grid: " + "[" * 3000 + "]" * 3000 + "\n", r"invalid YAML: nested too deeply"),
    ("undefined-alias", "base: *nope\n", r"invalid YAML at line 1, column 7: found undefined "
                                           r"alias 'nope'"),
    ("two-documents", GOOD + "---\n" + GOOD, r"invalid YAML at line 4, column 1: expected a "
                                             r"single document in the stream, but found another"),
    # encoding and characters
    ("latin-1", "name: caf\xe9\n".encode("latin-1"),
     r"not UTF-8 text: byte 0xe9 at offset 9 \(line 1\); save the file as UTF-8"),
    ("utf-16", GOOD.encode("utf-16"), r"not UTF-8 text: byte 0xff at offset 0 \(line 1\)"),
    ("nul", "name: a\x00b\n" + base(""),
     r"invalid YAML at character 8: character #x0000 is not allowed"),
    # YAML that Python cannot build
    ("unhashable-key", "base: {instrument: ES, [a]: 1}\n", r"found unhashable key"),
    ("python-tag", "base: !!python/object:os.system {instrument: ES}\n",
     r"could not determine a constructor for the tag 'tag:yaml\.org,2002:python/object"),
    ("bad-float-tag", "base: {instrument: ES, target: !!float abc}\n",
     r"invalid YAML at line 1, column 32: cannot read 'abc' as float"),
    ("int-5000-digits", base("contracts: " + "9" * 5000),
     r"invalid YAML at line 1, column 35: cannot read '9{37}\.\.\.' as int: Exceeds the limit"),
    # dates
    ("feb-30", "base: {instrument: ES}\ndata: {synthetic: {end: 2024-02-30}}\n",
     r"data\.synthetic\.end: '2024-02-30' is not an ISO date \(YYYY-MM-DD\): day is out of "
     r"range for month"),
    ("month-13", "base: {instrument: ES}\ndata: {path: x.csv, start: 2024-13-01}\n",
     r"data\.start: '2024-13-01' is not an ISO date \(YYYY-MM-DD\): month must be in 1\.\.12"),
    ("date-with-time", "base: {instrument: ES}\ndata: {synthetic: {end: 2024-01-31 10:00}}\n",
     r"data\.synthetic\.end: '2024-01-31 10:00' is not an ISO date"),
    ("synthetic-span", "base: {instrument: ES}\n"
                       "data: {synthetic: {start: 1990-01-01, end: 2024-01-01}}\n",
     r"data\.synthetic: synthetic bars: '1990-01-01' to '2024-01-01' is more than 20 years"),
    ("synthetic-1600", "base: {instrument: ES}\n"
                       "data: {synthetic: {start: 1600-01-01, end: 1600-02-01}}\n",
     r"data\.synthetic: .* is outside 1678-01-01 to 2261-12-31 \(pandas' nanosecond"),
    # a number, a list or a mapping where something else is expected
    ("market-close-int", base("market_close: 1600"),
     r"base\.market_close = 1600: market_close: 1600 is not an HH:MM time \(text such as "
     r"'16:00'\)"),
    ("market-close-25h", base("market_close: '25:00'"),
     r"market_close: '25:00' is not an HH:MM time"),
    ("sessions-nested", base("enabled_sessions: [[S1]]"),
     r"base\.enabled_sessions = \[\['S1'\]\]: enabled_sessions: \['S1'\] is not one of S1, S2"),
    ("sessions-axis-nested", base("") + "grid: {enabled_sessions: [[[S1]]]}\n",
     r"grid\.enabled_sessions\[0\] = \[\['S1'\]\]: enabled_sessions: \['S1'\] is not one of"),
    ("sessions-text", base("enabled_sessions: S1"),
     r"base\.enabled_sessions = 'S1': enabled_sessions takes a list"),
    ("trade-days-mapping", base("trade_days: {Mon: 1}"),
     r"base\.trade_days = \{'Mon': 1\}: trade_days: \{'Mon': 1\} is a mapping, not a list"),
    ("trade-days-axis-mapping", base("") + "grid: {trade_days: [{Mon: 1}]}\n",
     r"grid\.trade_days\[0\] = \{'Mon': 1\}: trade_days: .* is a mapping, not a list"),
    ("trade-days-nested", base("trade_days: [[Mon]]"),
     r"trade_days: \['Mon'\] is not a weekday 0-4 \(Mon=0\) or one of Mon, Tue"),
    ("slots-labels-mapping", base("enabled_slots: {S1: {07:30: 1}}"),
     r"enabled_slots\[S1\]: \{'07:30': 1\} is a mapping, not a list"),
    ("slots-text-entry", base("enabled_slots: [S1]"),
     r"enabled_slots: 'S1' is not a session: \[slots\] entry"),
    ("slots-nested-label", base("enabled_slots: {S1: [[07:30]]}"),
     r"enabled_slots\[S1\]: \['07:30'\] is not one of 07:30, 08:00, 09:00"),
    ("slots-list-session", base("enabled_slots: [[[S1], [07:30]]]"),
     r"enabled_slots: session \['S1'\] is not one of S1, S2"),
    ("instrument-list", "base: {instrument: [ES]}\n" + SYNTH,
     r"base\.instrument = \['ES'\]: instrument: \['ES'\] is not one of ES, NQ"),
    ("instrument-number", "base: {instrument: 5}\n" + SYNTH,
     r"base\.instrument = 5: instrument: 5 is not one of ES"),
    ("instrument-huge", "base: {instrument: " + "x" * 10_000 + "}\n" + SYNTH,
     r"instrument: 'x+\.\.\.\(10000 chars\) is not one of ES"),
    ("target-1e20", base("target: 1e20"),
     r"base\.target = 1e\+20: target: 1e\+20 is more than 10,000,000 ES ticks \(0\.25\)"),
    ("target-overflow", base("target: 1.0e+400"), r"target: inf is not a number"),
    ("target-quoted", base("target: '10'"), r"base\.target = '10': target: '10' is not a number"),
    ("target-list", base("target: [10]"), r"target: \[10\] is not a number"),
    ("contracts-fraction", base("contracts: 2.5"), r"contracts: 2\.5 is not a whole number"),
    ("t1-list", base("") + "grid: {t1_fraction: [[0.5]]}\n",
     r"grid\.t1_fraction\[0\] = \[0\.5\]: t1_fraction: \[0\.5\] is not a number"),
    ("target-mode-list", base("target_mode: [fixed]"),
     r"target_mode: \['fixed'\] is not one of \('fixed', 'time'\)"),
    ("no-trade-rows-text", base("write_no_trade_rows: 'yes'"),
     r"write_no_trade_rows: 'yes' is not true or false"),
    ("unknown-base-key-long", base("k" * 300 + ": 1"),
     r"base\.'k+\.\.\.\(300 chars\): unknown field; allowed: instrument"),
    # top level and sections (today's messages kept)
    ("top-list", "- base\n- grid\n", r"expected a mapping of name, data, base, grid, parallel"),
    ("unknown-top-key", "extra: 1\n" + GOOD, r"spec: unknown key\(s\) \['extra'\]; allowed:"),
    ("name-list", "name: [a]\n" + GOOD, r"name: \['a'\] is not a string"),
    ("name-climbs", "name: ../x\n" + GOOD, r"name: '\.\./x' is not a safe folder name"),
    ("store-trades-list", "store_trades: [all]\n" + GOOD,
     r"store_trades: \['all'\] is not one of all, none"),
    ("backend-list", "parallel: {backend: [loky]}\n" + GOOD,
     r"parallel\.backend: \['loky'\] is not one of"),
    ("max-cpus-zero", "parallel: {max_cpus: 0}\n" + GOOD, r"parallel\.max_cpus: 0 is not 'auto'"),
    ("batch-size-zero", "parallel: {batch_size: 0}\n" + GOOD,
     r"parallel\.batch_size: 0 is not a whole number >= 1 \(combos per task\) or null"),
    ("batch-size-negative", "parallel: {batch_size: -3}\n" + GOOD,
     r"parallel\.batch_size: -3 is not a whole number >= 1"),
    ("scheduler-number", "parallel: {scheduler: 8786}\n" + GOOD,
     r"parallel\.scheduler: 8786 is not a string or null"),
    # the data section
    ("data-proc", "base: {instrument: ES}\ndata: {path: /proc}\n",
     r"data\.path: '/proc': matches no bar file \(read: \.parquet, \.csv, \.txt, \.dbn"),
    ("data-path-huge", "base: {instrument: ES}\ndata: {path: " + "d" * 5000 + "}\n",
     r"data\.path: 'd+\.\.\.\(5000 chars\) is not a usable path \(a NUL character, or "
     r"longer than 4,096 characters\)"),
    ("data-path-long-name", "base: {instrument: ES}\ndata: {path: " + "d" * 300 + ".csv}\n",
     r"data\.path: 'd+\.\.\.\(304 chars\): cannot be read as a data path \(File name too "
     r"long\)"),
    ("data-timezone-list", "base: {instrument: ES}\ndata: {path: x.csv, timezone: [UTC]}\n",
     r"data\.timezone: \['UTC'\] is not an IANA time zone"),
    ("data-timezone-huge", "base: {instrument: ES}\ndata: {path: x.csv, timezone: "
                           + "z" * 5000 + "}\n",
     r"data\.timezone: 'z+\.\.\.\(5000 chars\) is not an IANA time zone"),
    ("data-format-list", "base: {instrument: ES}\ndata: {path: x.csv, format: [kibot]}\n",
     r"data\.format: \['kibot'\] is not one of auto, canonical"),
    ("synthetic-instrument-list", "base: {instrument: ES}\ndata: {synthetic: {instrument: [ES]}}\n",
     r"data\.synthetic\.instrument: \['ES'\] is not one of ES"),
    ("synthetic-seed-negative", "base: {instrument: ES}\ndata: {synthetic: {seed: -1}}\n",
     r"data\.synthetic\.seed: -1 is not an integer >= 0"),
]


@pytest.mark.parametrize(("text", "match"), [case[1:] for case in SPEC_CASES],
                         ids=[case[0] for case in SPEC_CASES])
def test_a_bad_spec_file_is_one_line_naming_the_file_and_key(tmp_path: Path, text: str | bytes,
                                                             match: str) -> None:
    path = tmp_path / "spec.yaml"
    write(path, text)
    with pytest.raises(SpecError, match=rf"^{re.escape(str(path))}: .*{match}") as caught:
        load_spec(path)
    assert_one_short_line(str(caught.value))


@pytest.mark.parametrize(("path", "match"), [
    ("folder", r"cannot read the spec \(Is a directory\)"),
    ("missing.yaml", r"cannot read the spec \(No such file or directory\)"),
], ids=["a-folder", "missing"])
def test_a_spec_path_that_is_no_file(tmp_path: Path, path: str, match: str) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(SpecError, match=match):
        load_spec(tmp_path / path)


def test_a_billion_laughs_fails_at_once_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")  # 10**9 values once expanded
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(SpecError, match=r"more than 10,000 values once its aliases are"):
            load_spec(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert peak < 5_000_000


def test_small_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    """An alias that repeats a short list, and a merge whose key is overridden (no duplicate)."""
    path = tmp_path / "anchors.yaml"
    path.write_text("base:\n  <<: {instrument: ES, target: 10}\n  target: 15\n"
                    "  trade_days: &days [Mon, Tue]\n"
                    "grid: {enabled_sessions: [[S1], [S2]]}\n" + SYNTH, encoding="utf-8")
    spec = load_spec(path)
    assert spec.base["trade_days"] == ["Mon", "Tue"]
    assert {rp.target for rp in spec.combos()} == {15}


def test_yaml_reads_1e20_as_a_number_and_10_30_as_text(tmp_path: Path) -> None:
    path = tmp_path / "numbers.yaml"
    path.write_text("base: {instrument: ES, target: 1e1}\ngrid: {slot: [10:30]}\n" + SYNTH,
                    encoding="utf-8")
    (combo,) = load_spec(path).combos()
    assert combo.target == 10 and combo.enabled_slots == (("S2", ("10:30",)),)


# ---- the CLI in a subprocess: exit 2, the message, no traceback, nothing written ----

CLI_SPECS = {
    "dup-key": "grid: {target: [10]}\ngrid: {t1_fraction: [0.5]}\n" + base(""),
    "billion-laughs": billion_laughs(),
    "latin-1": "name: caf\xe9\n".encode("latin-1"),
    "feb-30": "base: {instrument: ES}\ndata: {synthetic: {end: 2024-02-30}}\n",
    "market-close-int": base("market_close: 1600"),
    "sessions-nested": base("enabled_sessions: [[S1]]"),
    "trade-days-mapping": base("trade_days: {Mon: 1}"),
    "target-1e20": base("target: 1e20"),
}
CLI_CASES = [
    ("spec-dup-key", "dup-key", [], r"grid: given twice, at lines 1 and 2"),
    ("spec-billion-laughs", "billion-laughs", [], r"more than 10,000 values once its aliases"),
    ("spec-latin-1", "latin-1", [], r"not UTF-8 text: byte 0xe9 at offset 9"),
    ("spec-feb-30", "feb-30", [], r"data\.synthetic\.end: '2024-02-30' is not an ISO date"),
    ("spec-market-close-int", "market-close-int", [], r"market_close: 1600 is not an HH:MM"),
    ("spec-sessions-nested", "sessions-nested", [], r"enabled_sessions: \['S1'\] is not one"),
    ("spec-trade-days-mapping", "trade-days-mapping", [], r"is a mapping, not a list"),
    ("spec-target-1e20", "target-1e20", [], r"target: 1e\+20 is more than 10,000,000 ES ticks"),
    ("max-cpus-0", None, ["--max-cpus", "0"], r"max_cpus: '0' is not 'auto'"),
    ("max-cpus-text", None, ["--max-cpus", "lots"], r"max_cpus: 'lots' is not 'auto'"),
    ("backend", None, ["--backend", "threads"], r"--backend: invalid choice: 'threads'"),
    ("batch-size-0", None, ["--batch-size", "0"], r"batch_size: 0 is not a whole number >= 1"),
    ("batch-size-negative", None, ["--batch-size", "-1"],
     r"batch_size: -1 is not a whole number >= 1"),
    ("batch-size-text", None, ["--batch-size", "x"], r"--batch-size: invalid int value: 'x'"),
    ("store-trades", None, ["--store-trades", "some"], r"--store-trades: invalid choice"),
    ("scheduler-without-dask", None, ["--scheduler", "tcp://h:8786"], r"needs backend dask"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "flags", "match"), [case[1:] for case in CLI_CASES],
                         ids=[case[0] for case in CLI_CASES])
def test_the_cli_exits_2_with_one_line_and_no_traceback(tmp_path: Path, spec: str | None,
                                                        flags: list[str], match: str) -> None:
    text = GOOD if spec is None else CLI_SPECS[spec]
    path = tmp_path / "s.yaml"
    write(path, text)
    proc = cli(path, "--results-dir", tmp_path / "results", "--quiet", *flags)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert re.search(match, err), err
    assert "Traceback" not in err and len(err.strip().splitlines()[-1]) < MAX_MESSAGE_CHARS
    assert not (tmp_path / "results").exists()  # refused before any work


# ---- Python calls: (id, call, error type, message regex) ----

MONTH = synthetic_bars("ES", "2024-01-02", "2024-01-12")
ES = RunParams(instrument="ES")


def runner(**kwargs: object) -> ResearchRunner:
    return ResearchRunner(progress=False, **kwargs)  # type: ignore[arg-type]


PYTHON_CASES = [
    # RunParams
    ("rp-instrument-number", lambda: RunParams(instrument=5), ParamsError,
     r"^instrument: 5 is not one of ES"),
    ("rp-instrument-list", lambda: RunParams(instrument=["ES"]), ParamsError,
     r"^instrument: \['ES'\] is not one of"),
    ("rp-target-text", lambda: RunParams(instrument="ES", target="10"), ParamsError,
     r"^target: '10' is not a number"),
    ("rp-target-1e20", lambda: RunParams(instrument="ES", target=1e20), ParamsError,
     r"^target: 1e\+20 is more than 10,000,000 ES ticks"),
    ("rp-target-huge-int", lambda: RunParams(instrument="ES", target=10**5000), ParamsError,
     r"^target: <an integer of about 5,000 digits> is too large a number"),
    ("rp-contracts-huge-int", lambda: RunParams(instrument="ES", contracts=10**5000),
     ParamsError, r"^contracts: <an integer of about 5,000 digits> is not in \[1, 100000\]"),
    ("rp-commission-huge-int", lambda: RunParams(instrument="ES", commission=10**5000),
     ParamsError, r"^commission: <an integer of about 5,000 digits> is not in \[0, 100000\]"),
    ("rp-trade-days-mapping", lambda: RunParams(instrument="ES", trade_days={"Mon": 1}),
     ParamsError, r"^trade_days: \{'Mon': 1\} is a mapping, not a list"),
    ("rp-sessions-nested", lambda: RunParams(instrument="ES", enabled_sessions=[["S1"]]),
     ParamsError, r"^enabled_sessions: \['S1'\] is not one of S1, S2"),
    ("rp-slots-text", lambda: RunParams(instrument="ES", enabled_slots=["S1"]), ParamsError,
     r"^enabled_slots: 'S1' is not a session: \[slots\] entry"),
    ("rp-market-close-int", lambda: RunParams(instrument="ES", market_close=1600), ParamsError,
     r"^market_close: 1600 is not an HH:MM time"),
    ("rp-t1-decimal", lambda: RunParams(instrument="ES", t1_fraction=decimal.Decimal("0.5")),
     ParamsError, r"^t1_fraction: 0\.5 \(Decimal\) is not a number"),
    ("rp-from-dict-list", lambda: RunParams.from_dict(["ES"]), InputTypeError,
     r"^RunParams\.from_dict: expected a mapping of fields, got list"),
    # ResearchRunner
    ("runner-data-number", lambda: runner(data=5), InputTypeError,
     r"^data: expected a DataFrame of bars, prepared Bars, a path or None, got int"),
    ("runner-data-list", lambda: runner(data=["bars.csv"]), InputTypeError,
     r"^data: expected .* got list"),
    ("runner-results-dir-number", lambda: runner(results_dir=5), InputTypeError,
     r"^results_dir: expected a folder path \(str or PathLike\), got int"),
    ("runner-results-dir-none", lambda: runner(results_dir=None), InputTypeError,
     r"^results_dir: expected a folder path .* got NoneType"),
    ("runner-progress-text", lambda: ResearchRunner(progress="no"), InputTypeError,
     r"^progress: 'no' is not True or False"),
    ("runner-keep-shards-text", lambda: runner(keep_shards="yes"), InputTypeError,
     r"^keep_shards: 'yes' is not True or False"),
    ("runner-batch-size-0", lambda: runner(batch_size=0), SpecError,
     r"^parallel\.batch_size: 0 is not a whole number >= 1"),
    ("runner-batch-size-negative", lambda: runner(batch_size=-1), SpecError,
     r"^parallel\.batch_size: -1 is not a whole number >= 1"),
    ("runner-batch-size-bool", lambda: runner(batch_size=True), SpecError,
     r"^parallel\.batch_size: True is not a whole number"),
    ("runner-batch-size-float", lambda: runner(batch_size=1.5), SpecError,
     r"^parallel\.batch_size: 1\.5 is not a whole number"),
    ("runner-max-cpus-list", lambda: runner(max_cpus=[2]), SpecError,
     r"^parallel\.max_cpus: \[2\] is not 'auto'"),
    ("runner-backend-list", lambda: runner(backend=["loky"]), SpecError,
     r"^parallel\.backend: \['loky'\] is not one of"),
    ("runner-store-trades-list", lambda: runner(store_trades=["all"]), SpecError,
     r"^store_trades: \['all'\] is not one of all, none"),
    ("runner-scheduler-number", lambda: runner(scheduler=8786), SpecError,
     r"^parallel\.scheduler: 8786 is not a string or null"),
    ("parallel-spec-batch-size-0", lambda: ParallelSpec(batch_size=0), SpecError,
     r"^parallel\.batch_size: 0 is not a whole number >= 1"),
    ("parallel-spec-batch-size-negative", lambda: ParallelSpec(batch_size=-1), SpecError,
     r"^parallel\.batch_size: -1 is not"),
    ("parallel-spec-batch-size-bool", lambda: ParallelSpec(batch_size=True), SpecError,
     r"^parallel\.batch_size: True is not"),
    ("parallel-spec-backend-huge", lambda: ParallelSpec(backend="x" * 10_000), SpecError,
     r"^parallel\.backend: 'x+\.\.\.\(10000 chars\) is not one of"),
    ("parallel-spec-max-cpus-digits", lambda: ParallelSpec(max_cpus="9" * 5000), SpecError,
     r"^parallel\.max_cpus: '9+\.\.\.\(5000 chars\) is not 'auto'"),
    # run_strategy
    ("run-rp-dict", lambda: run_strategy(MONTH, {"instrument": "ES"}), InputTypeError,
     r"^rp: expected RunParams, got dict"),
    ("run-threads-text", lambda: run_strategy(MONTH, ES, threads="2"), InputTypeError,
     r"^threads: '2' is not a whole number"),
    ("run-threads-0", lambda: run_strategy(MONTH, ES, threads=0), ParamsError,
     r"^threads: 0 is not a positive number"),
    ("run-parallel-text", lambda: run_strategy(MONTH, ES, parallel="no"), InputTypeError,
     r"^parallel: 'no' is not True, False or None"),
    ("run-as-of-number", lambda: run_strategy(MONTH, ES, as_of=5), InputTypeError,
     r"^as_of: expected a timestamp \(text, datetime or pandas Timestamp\) or None, got int"),
    ("run-as-of-empty", lambda: run_strategy(MONTH, ES, as_of=""), ParamsError,
     r"^as_of: '' is not a timestamp in pandas' range"),
    ("run-as-of-9999", lambda: run_strategy(MONTH, ES, as_of="9999-12-31"), ParamsError,
     r"^as_of: '9999-12-31' is not a timestamp in pandas' range \(1677-09-21 to 2262-04-11\)"),
    ("run-data-number", lambda: run_strategy(42, ES), InputTypeError,
     r"^data: expected a DataFrame of bars, prepared Bars or a path, got int"),
    ("to-bars-dict", lambda: to_bars({"path": "x"}, "ES"), InputTypeError, r"got dict$"),
    # synthetic_bars
    ("synthetic-instrument-number", lambda: synthetic_bars(5), DataError,
     r"^synthetic_bars: instrument argument: unknown instrument 5"),
    ("synthetic-seed-text", lambda: synthetic_bars("ES", seed="x"), InputTypeError,
     r"^synthetic_bars: seed 'x' is not an integer >= 0"),
    ("synthetic-seed-float", lambda: synthetic_bars("ES", seed=1.5), InputTypeError,
     r"^synthetic_bars: seed 1\.5 is not an integer >= 0"),
    ("synthetic-seed-negative", lambda: synthetic_bars("ES", seed=-1), DataError,
     r"^synthetic_bars: seed -1 is not an integer >= 0"),
    ("synthetic-start-number", lambda: synthetic_bars("ES", 5, "2024-01-02"), DataError,
     r"^start: not a date: 5 \(int; give YYYY-MM-DD text or a date\)"),
    ("synthetic-start-feb-30", lambda: synthetic_bars("ES", "2024-02-30", "2024-03-02"),
     DataError, r"^start: not a date: '2024-02-30'"),
    ("synthetic-year-9999", lambda: synthetic_bars("ES", "9999-01-01", "9999-01-05"),
     DataError, r"^synthetic bars: '9999-01-01' to '9999-01-05' is outside 1678-01-01"),
    ("synthetic-span", lambda: synthetic_bars("ES", "1950-01-01", "2024-01-01"), DataError,
     r"^synthetic bars: '1950-01-01' to '2024-01-01' is more than 20 years"),
    # load_bars
    ("load-path-number", lambda: load_bars(5), InputTypeError,
     r"^path: expected a file, folder or glob \(str or PathLike\), got int"),
    ("load-path-none", lambda: load_bars(None), InputTypeError, r"got NoneType$"),
    ("load-format-number", lambda: load_bars("/proc/cpuinfo", format=5), DataError,
     r"^/proc/cpuinfo: format: 5 is not one of auto, canonical"),
    ("load-roll-list", lambda: load_bars("/proc/cpuinfo", roll=["x"]), DataError,
     r"^/proc/cpuinfo: roll: \['x'\] is not one of volume, none"),
    ("load-snap-text", lambda: load_bars("/proc/cpuinfo", snap_to_tick="yes"), DataError,
     r"^/proc/cpuinfo: snap_to_tick: 'yes' is not true or false"),
    ("load-start-feb-30", lambda: load_bars("/proc/cpuinfo", start="2024-02-30"), DataError,
     r"^start: not a date: '2024-02-30'"),
    ("load-timezone-huge", lambda: load_bars("/proc/cpuinfo", timezone="z" * 5000), DataError,
     r"^/proc/cpuinfo: timezone: 'z+\.\.\.\(5000 chars\) is not an IANA time zone"),
    ("load-columns-number", lambda: load_bars("/proc/cpuinfo", columns=5), DataError,
     r"^/proc/cpuinfo: columns: expected a mapping"),
    ("load-name-too-long", lambda: load_bars("d" * 300 + ".csv"), DataError,
     r"^'d+\.\.\.\(304 chars\): cannot be read as a data path \(File name too long\)"),
    ("load-spec-number", lambda: load_spec(5), InputTypeError,
     r"^path: expected a spec file path \(str or PathLike\), got int"),
]


@pytest.mark.parametrize(("call", "error", "match"), [case[1:] for case in PYTHON_CASES],
                         ids=[case[0] for case in PYTHON_CASES])
def test_a_bad_python_call_is_a_research_error_naming_the_argument(call, error, match) -> None:
    with pytest.raises(error, match=match) as caught:
        call()
    assert isinstance(caught.value, ResearchError)
    assert not isinstance(caught.value, InputTypeError) or isinstance(caught.value, TypeError)
    assert_one_short_line(str(caught.value))


# ---- data files (the loader's own checks, in the matrix) ----

DATA_CASES = [
    ("year-9999", CSV_HEADER + "9999-01-02 08:00:00,1,1,1,1,ES\n",
     r"column 'timestamp': 1 row\(s\) with a timestamp outside pandas' datetime range"),
    ("feb-30", CSV_HEADER + "2024-02-30 08:00:00,1,1,1,1,ES\n",
     r"column 'timestamp': 1 row\(s\) with an unparseable timestamp"),
    ("latin-1", (CSV_HEADER + "2024-01-02 08:00:00,1,1,1,1,caf\xe9\n").encode("latin-1"),
     r"is not UTF-8 text \(byte \d+ of the decompressed data\); save the export as UTF-8"),
    ("text-price", CSV_HEADER + "2024-01-02 08:00:00,abc,1,1,1,ES\n",
     r"column 'open': 1 row\(s\) with a non-numeric value; first: row 0: 'abc'"),
    ("huge-price", CSV_HEADER + "2024-01-02 08:00:00,1e300,1e300,1e300,1e300,ES\n",
     r"column 'open': 1 row\(s\) with a price above 1e\+07"),
]


@pytest.mark.parametrize(("content", "match"), [case[1:] for case in DATA_CASES],
                         ids=[case[0] for case in DATA_CASES])
def test_a_bad_data_file_names_the_file_column_and_row(tmp_path: Path, content: str | bytes,
                                                       match: str) -> None:
    path = tmp_path / "bars.csv"
    write(path, content)
    with pytest.raises(DataError, match=rf"^{re.escape(str(path))}: {match}") as caught:
        run_strategy(path, ES)
    assert_one_short_line(str(caught.value))


@pytest.mark.parametrize("path", ["/proc", "/proc/cpuinfo"])
def test_a_system_path_as_data_is_refused(path: str) -> None:
    with pytest.raises(DataError, match=rf"^{re.escape(path)}: (matches no|not a bar file)"):
        run_strategy(path, ES)


# ---- the local budget cap ----

@pytest.mark.parametrize("backend", ["loky", "sequential"])
def test_a_local_budget_is_capped_at_the_usable_cores(backend: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    cores = usable_cores()
    with caplog.at_level(logging.WARNING, logger="research.parallel.settings"):
        settings = ParallelSpec(backend=backend, max_cpus=1000).resolved()
    assert settings.max_cpus == settings.budget == cores
    assert caplog.messages == [f"max_cpus 1000 is more than the {cores} usable cores; using "
                               f"{cores} (only a dask cluster may be told more)"]


def test_a_dask_budget_is_kept_and_a_fitting_one_has_no_note(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="research.parallel.settings"):
        assert ParallelSpec(backend="dask", max_cpus=1000).resolved().max_cpus == 1000
        assert ParallelSpec(max_cpus=usable_cores()).resolved().max_cpus == usable_cores()
        assert ParallelSpec(max_cpus="auto").resolved().max_cpus <= usable_cores()
    assert caplog.messages == []


def test_a_sweep_asked_for_1000_cpus_runs_on_the_cores(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="research.parallel.settings"):
        sweep = ResearchRunner(data=MONTH, results_dir=tmp_path, max_cpus=1000,
                               backend="sequential", progress=False).run(
            grid={"target": [10]}, base={"instrument": "ES"}, name="capped")
    assert sweep.manifest["budget"]["max_cpus"] == usable_cores()
    assert any("max_cpus 1000 is more than" in message for message in caplog.messages)


# ---- messages never print an unbounded value ----

@pytest.mark.parametrize("value", [
    "x" * 10**6, list(range(10**6)), {i: [i] * 100 for i in range(10**4)}, 10**100_000,
    [[[[[[[[[[[["deep"]]]]]]]]]]]], pd.DataFrame({"a": range(10**5)}),
], ids=["text", "list", "mapping", "int", "nested", "frame"])
def test_shorten_is_bounded(value: object) -> None:
    started = time.monotonic()
    assert len(shorten(value)) <= 80
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("value", ["ES", 10.5, [1, "a"], {"S1": ["07:30"]}, (1,), None, True])
def test_shorten_of_a_short_value_is_its_repr(value: object) -> None:
    assert shorten(value) == repr(value)
