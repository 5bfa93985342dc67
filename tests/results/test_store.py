"""The results folder: shards, the manifest, resume, and linear compaction."""

import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import research.results.parquet_rows as parquet_rows
from research.engine.results import COLUMNS
from research.errors import ResearchError
from research.plan import task_id_for
from research.results.atomic import ROW_GROUP_ROWS, atomic_write
from research.results.compaction import Compaction, CompactionError, find_sources
from research.results.daily import DAILY, daily_table, read_daily
from research.results.metrics import METRIC_COLUMNS, combo_metrics
from research.results.provenance import environment, explain_change
from research.results.schemas import (
    SHARD_SUMMARY_SCHEMA,
    TRADES_SCHEMA,
    param_columns_for,
    summary_schema,
    to_table,
)
from research.results.store import (
    HEATMAP_GLOB,
    MANIFEST,
    STATS_JSON,
    SUMMARY,
    SUMMARY_CSV,
    TRADES,
    StoreMismatchError,
    SweepStore,
    encode_shards,
    heatmap_name,
)

CHI = "America/Chicago"
PARAMS = [("target", pa.float64()), ("instrument", pa.string())]
TRUSTED = {"data_fingerprint": "data1", "engine_version": "1", "layout": 2}
DATES = pd.date_range("2024-01-02", periods=15, freq="D", unit="ns")  # every row's date
DAYS = np.asarray(DATES.asi8 // 86_400_000_000_000, np.int64)


def typed_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A frame with the engine's columns and dtypes; every 3rd row is a NoTrade."""
    rng = np.random.default_rng(seed)
    no_trade = np.arange(n) % 3 == 2
    result = np.where(no_trade, "NoTrade", rng.choice(["Win", "Loss", "BE"], n))
    entry = pd.Series(pd.date_range("2024-01-02 08:31", periods=n, freq="D", tz=CHI,
                                    unit="ns")).where(~no_trade)
    profit = np.where(no_trade, 0.0, rng.integers(-20, 20, n) / 4)
    costs = np.where(no_trade, 0.0, 4.5)
    return pd.DataFrame({
        "date": pd.Series(DATES[:n]),
        "slot": pd.Series(["08:30"] * n, dtype="str"),
        "session": pd.Series(["S1"] * n, dtype="str"),
        "instrument": pd.Series(["ES"] * n, dtype="str"),
        "stream": pd.Series(["ES1"] * n, dtype="str"),
        "direction": pd.Series(np.where(no_trade, "", "Long"), dtype="str"),
        "result": pd.Series(result, dtype="str"),
        "entry_time": entry, "exit_time": entry + pd.Timedelta(minutes=30),
        **{c: rng.integers(0, 400, n) / 4 for c in ("entry_price", "exit_price", "stop_distance")},
        "target": np.full(n, 10.0), "peak": rng.integers(0, 40, n) / 4,
        "range": rng.integers(1, 40, n) / 4, "profit": profit,
        "gross_usd": profit * 50, "costs_usd": costs, "net_usd": profit * 50 - costs,
        "open_as_of_time": pd.Series(pd.NaT, index=range(n), dtype=f"datetime64[ns, {CHI}]"),
        "contract": pd.Series([""] * n, dtype="str"),
        "session_close": pd.Series(["16:00"] * n, dtype="str"),
        "special_session": pd.Series([""] * n, dtype="str"),
        "ambiguous": np.zeros(n, bool),
        **{c: pd.Series(np.where(no_trade, "", "minute bars" if c == "decided_by" else
                                 result), dtype="str")
           for c in ("ambiguity", "decided_by", "result_pessimistic", "result_optimistic")},
        **{f"exit_time_{bound}": entry + pd.Timedelta(minutes=30)
           for bound in ("pessimistic", "optimistic")},
        **{f"exit_price_{bound}": np.full(n, 10.0) for bound in ("pessimistic", "optimistic")},
        **{f"net_usd_{bound}": profit * 50 - costs for bound in ("pessimistic", "optimistic")},
        "entry_no": np.where(no_trade, 0.0, 1.0), "contracts": np.where(no_trade, 0.0, 1.0),
        "no_trade_reason": pd.Series([""] * n, dtype="str"),
    })[list(COLUMNS)]


# five combos; one has no rows at all (write_no_trade_rows=False and nothing traded)
COMBOS = {f"c{i}": typed_frame(n, seed=i) for i, n in enumerate([5, 0, 9, 3, 12])}
GRID_ORDER = ["c3", "c0", "c4", "c1", "c2"]
# parameter values per combo, as a grid gives them
PARAM_VALUES = {c: {"target": 10 + int(c[1:]) * 2.5, "instrument": "ES",
                    "trade_days": [0, int(c[1:])]} for c in COMBOS}
AXES = ["target", "instrument", "trade_days"]


def in_grid_order(order=GRID_ORDER, values=PARAM_VALUES):
    """What the runner hands compaction: each combo's axis values, in grid order."""
    return {c: values[c] for c in order}


def daily_cents(frame: pd.DataFrame) -> np.ndarray:
    cents = np.zeros(len(DAYS), np.int64)
    days = np.asarray(pd.DatetimeIndex(frame["date"]).asi8 // 86_400_000_000_000)
    np.add.at(cents, np.searchsorted(DAYS, days), np.rint(frame["net_usd"] * 100).astype(int))
    return cents


def write_task(store, combo_ids, trades=True, task_id=None):
    """Publish a task the way the worker encodes one."""
    task_id = task_id or task_id_for(combo_ids)
    frames = [COMBOS[c] for c in combo_ids]
    table = pa.concat_tables([to_table(COMBOS[c].assign(combo_id=c), TRADES_SCHEMA)
                              for c in combo_ids] or [TRADES_SCHEMA.empty_table()])
    daily = daily_table(combo_ids, DAYS, np.array([daily_cents(f) for f in frames]))
    trades_bytes, daily_bytes = encode_shards(task_id, combo_ids, [len(f) for f in frames],
                                              table if trades else None, daily)
    summaries = [{"combo_id": c, **combo_metrics(COMBOS[c], DATES)} for c in combo_ids]
    store.write_task(task_id, summaries, trades_bytes, daily_bytes)
    return task_id


def run_tasks(root, batches, trades=True):
    store = SweepStore(root)
    store.prepare(TRUSTED, {"name": "demo"})
    for batch in batches:
        write_task(store, batch, trades)
    return store


def compact(store, values, axes, dates, *, store_trades=True, keep_shards=False,
            row_group_rows=ROW_GROUP_ROWS):
    """Every compacted file of the finished combos of `values` (the grid, in order), then
    the shards go unless `keep_shards`: what the runner's compaction does."""
    compaction = Compaction.of(store, values.items(), param_columns_for(values.values(), axes),
                               dates, store_trades=store_trades)
    summary = compaction.write_summary()
    compaction.write_rows(row_group_rows)
    if not keep_shards:
        store.remove_shards()
    return summary


def compact_all(store, order=GRID_ORDER, **options):
    return compact(store, in_grid_order(order), AXES, DAYS, **options)


def compaction_of(store, order=GRID_ORDER):
    values = in_grid_order(order)
    return Compaction.of(store, values.items(), param_columns_for(values.values(), AXES), DAYS)


def finished(store, trades=True):
    """Every combo some usable source holds whole."""
    sources = find_sources(store, DAYS, with_trades=trades)
    return {combo for source in sources.usable for combo in source.combos()}


def test_schemas_are_explicit():
    assert TRADES_SCHEMA.names == ["combo_id", *COLUMNS]
    assert TRADES_SCHEMA.field("date").type == pa.timestamp("ns")
    assert TRADES_SCHEMA.field("entry_time").type == pa.timestamp("ns", tz=CHI)
    assert TRADES_SCHEMA.field("direction").type == pa.string()
    schema = summary_schema(PARAMS)
    assert schema.names == ["combo_id", "target", "instrument", *METRIC_COLUMNS]
    assert schema.field("trades").type == pa.int64()
    assert schema.field("win_rate").type == pa.float64()
    with pytest.raises(ValueError, match="appear twice"):
        summary_schema([("trades", pa.int64())])


def test_all_null_columns_keep_their_types(tmp_path):
    frame = typed_frame(3)
    frame["result"] = "NoTrade"
    frame["direction"] = pd.Series([None] * 3, dtype=object)  # all null, object dtype
    frame["entry_time"] = pd.NaT
    frame["profit"] = np.nan
    table = to_table(frame.assign(combo_id="c0"), TRADES_SCHEMA)
    assert table.schema == TRADES_SCHEMA
    store = run_tasks(tmp_path, [["c0"]])
    assert pq.read_schema(store.shard_path(task_id_for(["c0"]), ".summary.parquet")
                          ).remove_metadata() == SHARD_SUMMARY_SCHEMA
    # c1 never finished: its values type the columns (types never depend on what finished)
    values = {"c0": {"target": None, "instrument": None},
              "c1": {"target": 12.5, "instrument": "ES"}}
    summary = compact(store, values, ["target", "instrument"], DAYS)
    assert pq.read_schema(tmp_path / SUMMARY).remove_metadata() == summary_schema(PARAMS)
    assert summary["target"].isna().all() and summary["instrument"].isna().all()


def test_atomic_write_leaves_no_temp_file(tmp_path):
    run_tasks(tmp_path, [["c0", "c1"]])
    task = task_id_for(["c0", "c1"])
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == sorted(
        f"{task}{suffix}" for suffix in (".trades.parquet", ".daily.parquet", ".summary.parquet"))
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="^crash$"), atomic_write(target) as handle:
        handle.write(b"half")
        raise RuntimeError("crash")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".reserve", "manifest.json", "shards",
                                                          "x.bin"]


def test_shards_say_what_they_hold(tmp_path):
    store = run_tasks(tmp_path, [["c2", "c0"]])
    task = task_id_for(["c2", "c0"])
    for suffix in (".trades.parquet", ".daily.parquet", ".summary.parquet"):
        metadata = pq.read_schema(store.shard_path(task, suffix)).metadata
        assert metadata[b"research.task"] == task.encode()
        assert json.loads(metadata[b"research.combos"]) == ["c2", "c0"]
    rows = pq.read_schema(store.shard_path(task, ".trades.parquet")).metadata[b"research.rows"]
    assert json.loads(rows) == [["c2", 9], ["c0", 5]]


def test_a_task_without_its_summary_shard_is_not_finished(tmp_path):
    store = run_tasks(tmp_path, [["c0"]])
    task = write_task(store, ["c2"])
    store.shard_path(task, ".summary.parquet").unlink()  # a crash before the commit marker
    assert finished(store) == {"c0"}
    write_task(store, ["c2"])
    assert finished(store) == {"c0", "c2"}


def test_resume_sees_finished_combos_and_cleans_temp_files(tmp_path):
    run_tasks(tmp_path, [["c0", "c2"], ["c3"]])
    leftover = tmp_path / "shards" / ".t5.trades.parquet.0123456789ab.tmp"
    leftover.write_bytes(b"partial")
    again = SweepStore(tmp_path)
    again.prepare(TRUSTED, {"name": "demo"})
    assert finished(again) == {"c0", "c2", "c3"}
    assert not leftover.exists()
    summary = compact_all(again)
    row = summary.set_index("combo_id").loc["c2"].to_dict()
    assert {k: row[k] for k in METRIC_COLUMNS} == combo_metrics(COMBOS["c2"], DATES)


@pytest.mark.parametrize("changed, said", [
    ({"data_fingerprint": "data2"}, "data_fingerprint changed"),
    ({"engine_version": "9"}, "engine_version changed"),
    ({"data_fingerprint": "data2", "layout": 3}, "data_fingerprint, layout changed")])
def test_results_of_other_inputs_are_refused(tmp_path, changed, said):
    run_tasks(tmp_path, [["c0"]])
    with pytest.raises(StoreMismatchError, match=said) as info:
        SweepStore(tmp_path).prepare({**TRUSTED, **changed}, {})
    assert str(tmp_path) in str(info.value) and "--fresh" in str(info.value)
    assert isinstance(info.value, ResearchError)


def test_the_refusal_says_what_changed_in_words(tmp_path):
    old = {"spec": {"data": {"path": "es.csv", "end": "2024-06-28"}},
           "data": {"instrument": "ES", "rows": 100_000, "last_ts_ns": 1_719_610_740 * 10**9},
           **TRUSTED}
    store = SweepStore(tmp_path)
    store.prepare(TRUSTED, old)
    new = {"spec": {"data": {"path": "es.csv", "end": "2024-07-05"}},
           "data": {"instrument": "ES", "rows": 101_380, "last_ts_ns": 1_720_215_540 * 10**9}}
    with pytest.raises(StoreMismatchError) as info:
        store.prepare({**TRUSTED, "data_fingerprint": "data2"}, new, explain=explain_change)
    message = str(info.value)
    assert "the data (spec data.end: '2024-06-28' -> '2024-07-05'" in message
    assert "bars 100,000 -> 101,380" in message
    assert "last bar 2024-06-28 16:39 -> 2024-07-05 16:39" in message
    assert "data2" not in message and "data1" not in message  # no raw fingerprints


def test_a_grown_grid_is_not_a_change(tmp_path):
    store = run_tasks(tmp_path, [["c0"]])
    store.prepare(TRUSTED, {"spec": {"grid": {"target": [10, 15, 20]}}})  # accepted
    assert finished(store) == {"c0"}


def test_shards_without_manifest_are_refused(tmp_path):
    run_tasks(tmp_path, [["c0"]])
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(StoreMismatchError, match="no manifest.json"):
        SweepStore(tmp_path).prepare(TRUSTED, {})


def test_fresh_moves_only_our_files_aside(tmp_path):
    root = tmp_path / "demo"
    store = run_tasks(root, [["c0"], ["c2"]])
    compact_all(store, keep_shards=True)
    (root / heatmap_name("a", "b", "total_profit")).write_bytes(b"png")
    (root / STATS_JSON).write_text("{}")  # research-stats --out: of the old data, goes too
    (root / "notes.txt").write_text("mine")
    (root / "shards" / "keep.parquet").write_bytes(b"other")
    before = {name: (root / name).read_bytes() for name in (SUMMARY, TRADES, DAILY, MANIFEST)}
    fresh = SweepStore(root)
    fresh.prepare({**TRUSTED, "data_fingerprint": "data2"}, {"name": "new"}, fresh=True)
    assert finished(fresh) == set()
    assert sorted(p.name for p in root.iterdir()) == [".reserve", "manifest.json", "notes.txt",
                                                      "shards"]
    assert [p.name for p in (root / "shards").iterdir()] == ["keep.parquet"]
    manifest = fresh.read_manifest()
    assert (manifest["data_fingerprint"], manifest["status"], manifest["name"]) == (
        "data2", "running", "new")
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("demo.old-")]
    assert {name: (aside / name).read_bytes() for name in before} == before
    assert len(list((aside / "shards").iterdir())) == 6
    assert (aside / STATS_JSON).read_text() == "{}"


@pytest.mark.parametrize("window_groups", [1, 2, parquet_rows.WINDOW_GROUPS])
@pytest.mark.parametrize("row_group_rows", [4, ROW_GROUP_ROWS])
def test_compaction_bytes_do_not_depend_on_batching(tmp_path, row_group_rows, window_groups,
                                                    monkeypatch):
    # a window copies the rows of many combos at once; how many row groups it may hold
    # changes where windows end, never the bytes
    monkeypatch.setattr(parquet_rows, "WINDOW_GROUPS", window_groups)
    one = run_tasks(tmp_path / "a", [["c0", "c1"], ["c2", "c3", "c4"]])
    two = run_tasks(tmp_path / "b", [["c4"], ["c2", "c0"], ["c3", "c1"]])
    s1 = compact_all(one, row_group_rows=row_group_rows)
    s2 = compact_all(two, row_group_rows=row_group_rows)
    pd.testing.assert_frame_equal(s1, s2)
    for name in (TRADES, SUMMARY, SUMMARY_CSV, DAILY):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    if row_group_rows == 4:
        assert pq.ParquetFile(tmp_path / "a/trades.parquet").metadata.num_row_groups == 8


def test_compaction_follows_grid_order(tmp_path):
    store = run_tasks(tmp_path, [["c2", "c0"], ["c4", "c3"]])  # c1 never finished
    summary = compact_all(store)
    assert list(summary["combo_id"]) == ["c3", "c0", "c4", "c2"]
    assert list(summary.columns) == ["combo_id", "target", "instrument", "trade_days",
                                     *METRIC_COLUMNS]
    assert list(summary["target"]) == [17.5, 10.0, 20.0, 15.0]
    assert list(summary["trade_days"]) == ["[0,3]", "[0,0]", "[0,4]", "[0,2]"]
    assert summary.loc[0, "trades"] == combo_metrics(COMBOS["c3"])["trades"]
    csv = pd.read_csv(tmp_path / "summary.csv")
    assert list(csv["combo_id"]) == ["c3", "c0", "c4", "c2"]
    trades = pd.read_parquet(tmp_path / "trades.parquet")
    expected = pd.concat([COMBOS[c].assign(combo_id=c) for c in ["c3", "c0", "c4", "c2"]])
    expected = expected[["combo_id", *COLUMNS]].reset_index(drop=True)
    pd.testing.assert_frame_equal(trades, expected, check_dtype=False)
    assert trades["entry_time"].dtype == expected["entry_time"].dtype
    assert trades["date"].dtype == "datetime64[ns]"
    c4 = pd.read_parquet(tmp_path / "trades.parquet", filters=[("combo_id", "==", "c4")])
    pd.testing.assert_frame_equal(c4.drop(columns="combo_id"), COMBOS["c4"], check_dtype=False)
    daily = read_daily(tmp_path / DAILY)
    assert list(daily.columns) == ["c3", "c0", "c4", "c2"]
    for combo in daily.columns:
        assert round(daily[combo].sum(), 2) == round(COMBOS[combo]["net_usd"].sum(), 2)


def test_compaction_reads_each_row_group_once_and_removes_the_shards(tmp_path):
    store = run_tasks(tmp_path, [["c2", "c0"], ["c4", "c3"]])
    groups = sum(pq.ParquetFile(p).num_row_groups for p in (tmp_path / "shards").glob("*.parquet")
                 if not p.name.endswith(".summary.parquet"))
    compaction = compaction_of(store)
    compaction.write_summary()
    assert compaction.write_rows() == groups  # every trades and daily row group decoded once
    compact_all(store, keep_shards=True)
    assert len(list((tmp_path / "shards").iterdir())) == 6
    compact_all(store)
    assert not list((tmp_path / "shards").iterdir())


def test_a_compacted_folder_is_a_source_for_the_next_run(tmp_path):
    store = run_tasks(tmp_path, [["c2", "c0"]])
    compact_all(store)  # shards removed: c2 and c0 live in the compacted files only
    assert finished(store) == {"c0", "c2"}
    write_task(store, ["c4", "c3"])
    both = compact_all(store)
    reference = run_tasks(tmp_path / "ref", [["c2", "c0"], ["c4", "c3"]])
    pd.testing.assert_frame_equal(both, compact_all(reference))
    for name in (TRADES, SUMMARY, DAILY):
        assert (tmp_path / name).read_bytes() == (tmp_path / "ref" / name).read_bytes()


def test_a_grid_that_loses_values_keeps_only_its_combos(tmp_path):
    store = run_tasks(tmp_path, [["c2", "c0", "c4"]])
    compact_all(store)
    summary = compact_all(store, order=["c4", "c2"])
    assert list(summary["combo_id"]) == ["c4", "c2"]
    assert list(read_daily(tmp_path / DAILY).columns) == ["c4", "c2"]


def test_trades_not_stored(tmp_path):
    store = run_tasks(tmp_path, [["c2", "c0"]], trades=False)
    assert finished(store, trades=True) == set()  # a sweep that wants trades recomputes
    assert finished(store, trades=False) == {"c0", "c2"}
    summary = compact_all(store, store_trades=False)
    assert len(summary) == 2 and not (tmp_path / TRADES).exists()
    assert list(read_daily(tmp_path / DAILY).columns) == ["c0", "c2"]


def test_compaction_refuses_rows_that_do_not_match_the_summary(tmp_path):
    store = run_tasks(tmp_path, [["c2"], ["c4"]])
    swap = store.shard_path(task_id_for(["c2"]), ".trades.parquet")
    other = store.shard_path(task_id_for(["c4"]), ".trades.parquet")
    # another shard's rows, with this shard's footer: the counts agree, the rows do not
    table = pq.read_table(other).slice(0, 9)
    metadata = pq.read_schema(swap).metadata
    pq.write_table(table.replace_schema_metadata(metadata), swap)
    with pytest.raises(CompactionError, match="do not match its summary"):
        compact_all(store)


def test_a_source_whose_files_disagree_gives_up_only_those_combos(tmp_path):
    store = run_tasks(tmp_path, [["c2", "c0"], ["c3"]])
    store.shard_path(task_id_for(["c2", "c0"]), ".trades.parquet").write_bytes(b"truncated")
    assert finished(store) == {"c3"}


def test_compact_of_nothing_writes_empty_typed_files(tmp_path):
    store = SweepStore(tmp_path)
    store.prepare(TRUSTED, {})
    compaction = compaction_of(store, ["c0"])
    assert compaction.write_summary().empty
    compaction.write_rows()
    assert pq.read_schema(tmp_path / "trades.parquet").remove_metadata() == TRADES_SCHEMA
    assert pq.read_table(tmp_path / "trades.parquet").num_rows == 0
    assert read_daily(tmp_path / DAILY).shape == (len(DAYS), 0)


def test_task_ids_name_their_combos():
    assert task_id_for(["c1", "c0"]) == task_id_for(["c0", "c1"]) != task_id_for(["c0", "c2"])


def test_environment_and_param_columns():
    base = environment()
    assert set(base["versions"]) == {"python", "research", "numpy", "pandas", "pyarrow",
                                     "numba", "joblib"}
    assert base["host"]["cpu_count"] == os.cpu_count()  # the host's, not the budget's
    rows = [{"target": 10, "t1": 0.5, "flag": True, "sessions": ["S1"]},
            {"target": 15, "t1": 1, "flag": False, "sessions": ["S1", "S2"]}]
    assert param_columns_for(rows, ["target", "t1", "flag", "sessions"]) == [
        ("target", pa.int64()), ("t1", pa.float64()), ("flag", pa.bool_()),
        ("sessions", pa.string())]


def test_real_engine_frames_round_trip(tmp_path):
    from research import ResearchRunner
    from research.engine.results import categorize_text
    from research.engine.strategy import run_strategy
    from research.engine.synthetic import synthetic_bars

    bars = synthetic_bars("ES", "2024-01-01", "2024-01-31", 7)
    sweep = ResearchRunner(data=bars, results_dir=tmp_path, backend="sequential",
                           progress=False).run(grid={"target": [10, 15], "commission": [0, 2.5]},
                                               base={"instrument": "ES"}, name="real")
    assert sweep.summary["target"].dtype == "int64"
    from research.spec.grid import build_spec

    for rp in build_spec({"target": [10, 15], "commission": [0, 2.5]},
                         {"instrument": "ES"}, "real").combos():
        back = pd.read_parquet(sweep.path / "trades.parquet",
                               filters=[("combo_id", "==", rp.combo_id)])
        pd.testing.assert_frame_equal(categorize_text(back.drop(columns="combo_id")),
                                      run_strategy(bars, rp))


def test_write_task_publishes_the_bytes_as_they_are(tmp_path):
    store = SweepStore(tmp_path)
    store.prepare(TRUSTED, {})
    table = to_table(COMBOS["c0"].assign(combo_id="c0"), TRADES_SCHEMA)
    trades, daily = encode_shards("t1", ["c0"], [5], table,
                                  daily_table(["c0"], DAYS, daily_cents(COMBOS["c0"])[None]))
    store.write_task("t1", [{"combo_id": "c0", **combo_metrics(COMBOS["c0"], DATES)}],
                     trades, daily)
    assert (tmp_path / "shards/t1.trades.parquet").read_bytes() == trades
    assert (tmp_path / "shards/t1.daily.parquet").read_bytes() == daily
    assert finished(store) == {"c0"}
    with pytest.raises(ValueError, match="summary row has no combo_id"):
        store.write_task("t2", [{**combo_metrics(COMBOS["c0"]), "combo_id": None}],
                         trades, daily)
    with pytest.raises(ValueError, match="holds other, finished combos"):
        store.write_task("t1", [{"combo_id": "c9", **combo_metrics(COMBOS["c0"])}],
                         trades, daily)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\udcff"])
def test_unreadable_manifest_is_refused_naming_it(tmp_path, text):
    run_tasks(tmp_path, [["c0"]])
    (tmp_path / MANIFEST).write_bytes(text.encode("utf-8", "surrogateescape"))
    for call in (lambda: SweepStore(tmp_path).read_manifest(),
                 lambda: SweepStore(tmp_path).prepare(TRUSTED, {})):
        with pytest.raises(StoreMismatchError, match="manifest") as info:
            call()
        assert str(tmp_path / MANIFEST) in str(info.value) and "--fresh" in str(info.value)
        assert isinstance(info.value, ResearchError)
    fresh = SweepStore(tmp_path)  # --fresh starts over without reading it
    fresh.prepare(TRUSTED, {}, fresh=True)
    assert fresh.read_manifest()["status"] == "running"


@pytest.mark.parametrize("file_at", [".", "shards"])
def test_results_path_that_is_a_file_is_refused(tmp_path, file_at):
    root = tmp_path / "sweep"
    if file_at == ".":
        root.write_text("not a folder")
    else:
        root.mkdir()
        (root / file_at).write_text("not a folder")
    with pytest.raises(StoreMismatchError, match="cannot be used as a results folder") as info:
        SweepStore(root).prepare(TRUSTED, {})
    assert str(root) in str(info.value)
    assert isinstance(info.value, ResearchError)


def test_heatmap_names_match_the_glob_that_fresh_wipes():
    from fnmatch import fnmatch

    name = heatmap_name("target", "t1_fraction", "total_profit")
    assert name == "heatmap_target_t1_fraction_total_profit.png"
    assert fnmatch(name, HEATMAP_GLOB)
    assert not any(fnmatch(other, HEATMAP_GLOB) for other in (MANIFEST, TRADES, SUMMARY,
                                                               SUMMARY_CSV))

