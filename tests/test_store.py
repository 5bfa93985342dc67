import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import research.store as store_mod
from research.engine.results import COLUMNS
from research.errors import ResearchError
from research.metrics import METRIC_COLUMNS, combo_metrics
from research.store import (
    HEATMAP_GLOB,
    MANIFEST,
    SHARD_SUMMARY_SCHEMA,
    SUMMARY,
    SUMMARY_CSV,
    TRADES,
    TRADES_SCHEMA,
    StoreMismatchError,
    SweepStore,
    atomic_write,
    heatmap_name,
    manifest_base,
    param_columns_for,
    parquet_bytes,
    summary_schema,
    task_id_for,
    to_table,
)

CHI = "America/Chicago"
PARAMS = [("target", pa.float64()), ("instrument", pa.string())]


@dataclass(frozen=True)
class Combo:
    """What compaction reads of a RunParams: its combo_id."""

    combo_id: str


class Spec:
    """What compaction reads of a SweepSpec: its axes and each combo's axis values."""

    def __init__(self, values):
        self.values = values
        self.axes = list(dict.fromkeys(name for row in values.values() for name in row))

    def axis_values(self, combo):
        return self.values[combo.combo_id]


def grid(combo_ids):
    return [Combo(c) for c in combo_ids]


def trades_table(frame, combo_id):
    return to_table(frame.assign(combo_id=combo_id), TRADES_SCHEMA)


def typed_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A frame with the engine's columns and dtypes; every 3rd row is a NoTrade."""
    rng = np.random.default_rng(seed)
    no_trade = np.arange(n) % 3 == 2
    result = np.where(no_trade, "NoTrade", rng.choice(["Win", "Loss", "BE"], n))
    entry = pd.Series(pd.date_range("2024-01-02 08:31", periods=n, freq="D", tz=CHI,
                                    unit="ns")).where(~no_trade)
    profit = np.where(no_trade, 0.0, rng.integers(-20, 20, n) / 4)
    return pd.DataFrame({
        "date": pd.Series(pd.date_range("2024-01-02", periods=n, freq="D", unit="ns")),
        "slot": pd.Series(["08:30"] * n, dtype="str"),
        "session": pd.Series(["S1"] * n, dtype="str"),
        "instrument": pd.Series(["ES"] * n, dtype="str"),
        "stream": pd.Series(["ES1"] * n, dtype="str"),
        "direction": pd.Series(np.where(no_trade, "", "Long"), dtype="str"),
        "result": pd.Series(result, dtype="str"),
        "entry_time": entry, "exit_time": entry + pd.Timedelta(minutes=30),
        **{c: rng.integers(0, 400, n) / 4 for c in ("entry_price", "exit_price", "stop_loss")},
        "target": np.full(n, 10.0), "peak": rng.integers(0, 40, n) / 4,
        "range": rng.integers(1, 40, n) / 4, "profit": profit,
        "open_as_of_time": pd.Series(pd.NaT, index=range(n), dtype=f"datetime64[ns, {CHI}]"),
        "contract": pd.Series([""] * n, dtype="str"),
    })[list(COLUMNS)]


# five combos; one has no rows at all (write_no_trade_rows=False and nothing traded)
COMBOS = {f"c{i}": typed_frame(n, seed=i) for i, n in enumerate([5, 0, 9, 3, 12])}
GRID_ORDER = ["c3", "c0", "c4", "c1", "c2"]


# parameter values per combo, as a grid gives them
PARAM_VALUES = {c: {"target": 10 + int(c[1:]) * 2.5, "instrument": "ES",
                    "trade_days": [0, int(c[1:])]} for c in COMBOS}
SPEC = Spec(PARAM_VALUES)


def summary_rows(combo_ids):
    return [{"combo_id": c, **combo_metrics(COMBOS[c])} for c in combo_ids]


def run_tasks(root, batches):
    store = SweepStore(root)
    store.prepare("spec1", "data1", {"name": "demo"})
    for batch in batches:
        trades = pa.concat_tables([trades_table(COMBOS[c], c) for c in batch])
        store.write_task(task_id_for(batch), trades, summary_rows(batch))
    return store


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
    store = SweepStore(tmp_path)
    store.prepare("s", "d", {})
    summary = pd.DataFrame(summary_rows(["c0"])).assign(extra="ignored")
    store.write_task("t1", frame.assign(combo_id="c0"), summary)
    assert pq.read_schema(tmp_path / "shards/t1.trades.parquet").remove_metadata() \
        == TRADES_SCHEMA
    assert pq.read_schema(tmp_path / "shards/t1.summary.parquet").remove_metadata() \
        == SHARD_SUMMARY_SCHEMA
    # c1 never finished: its values type the columns (types never depend on what finished)
    spec = Spec({"c0": {"target": None, "instrument": None},
                 "c1": {"target": 12.5, "instrument": "ES"}})
    summary = store.compact(grid(["c0", "c1"]), spec)
    assert pq.read_schema(tmp_path / "summary.parquet").remove_metadata() \
        == summary_schema(PARAMS)
    assert summary["target"].isna().all() and summary["instrument"].isna().all()


def test_atomic_write_leaves_no_temp_file(tmp_path):
    run_tasks(tmp_path, [["c0", "c1"]])
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == sorted(
        [f"{task_id_for(['c0', 'c1'])}.trades.parquet",
         f"{task_id_for(['c0', 'c1'])}.summary.parquet"])
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"half")
        raise RuntimeError("crash")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "shards", "x.bin"]


def test_trades_shard_without_summary_is_not_finished(tmp_path):
    store = run_tasks(tmp_path, [["c0"]])
    # a crash between the two renames: trades published, summary (commit marker) not
    store_mod.write_parquet(trades_table(COMBOS["c2"], "c2"),
                            tmp_path / "shards/t9.trades.parquet")
    assert store.finished() == {"c0"}
    store.write_task("t9", trades_table(COMBOS["c2"], "c2"), summary_rows(["c2"]))
    assert store.finished() == {"c0", "c2"}


def test_resume_sees_finished_combos_and_cleans_temp_files(tmp_path):
    run_tasks(tmp_path, [["c0", "c2"], ["c3"]])
    leftover = tmp_path / "shards" / ".t5.trades.parquet.0123456789ab.tmp"
    leftover.write_bytes(b"partial")
    again = SweepStore(tmp_path)
    again.prepare("spec1", "data1", {"name": "demo"})
    done = again.finished()
    assert done == {"c0", "c2", "c3"} and "c1" not in done
    assert not leftover.exists()
    summary, _ = again.compact_summary(grid(GRID_ORDER), Spec({c: {} for c in COMBOS}))
    row = summary.set_index("combo_id").loc["c2"].to_dict()
    assert {"combo_id": "c2", **row} == {"combo_id": "c2", **combo_metrics(COMBOS["c2"])}


@pytest.mark.parametrize("spec, data, changed", [("spec2", "data1", "different spec"),
                                                 ("spec1", "data2", "different data"),
                                                 ("spec2", "data2", "spec and data")])
def test_changed_inputs_are_refused(tmp_path, spec, data, changed):
    run_tasks(tmp_path, [["c0"]])
    with pytest.raises(StoreMismatchError, match=changed) as info:
        SweepStore(tmp_path).prepare(spec, data, {})
    assert str(tmp_path) in str(info.value) and "--fresh" in str(info.value)
    assert isinstance(info.value, ResearchError)


def test_shards_without_manifest_are_refused(tmp_path):
    run_tasks(tmp_path, [["c0"]])
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(StoreMismatchError, match="no manifest.json"):
        SweepStore(tmp_path).prepare("spec1", "data1", {})


def test_fresh_wipes_only_our_files(tmp_path):
    store = run_tasks(tmp_path, [["c0"], ["c2"]])
    store.compact(grid(GRID_ORDER), SPEC)
    (tmp_path / heatmap_name("a", "b", "total_profit")).write_bytes(b"png")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "shards" / "keep.parquet").write_bytes(b"other")
    fresh = SweepStore(tmp_path)
    fresh.prepare("spec2", "data2", {"name": "new"}, fresh=True)
    assert fresh.finished() == set()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "notes.txt", "shards"]
    assert [p.name for p in (tmp_path / "shards").iterdir()] == ["keep.parquet"]
    manifest = fresh.read_manifest()
    assert (manifest["spec_hash"], manifest["status"], manifest["name"]) == (
        "spec2", "running", "new")


@pytest.mark.parametrize("row_group_rows", [4, store_mod.ROW_GROUP_ROWS])
def test_compaction_bytes_do_not_depend_on_batching(tmp_path, monkeypatch, row_group_rows):
    monkeypatch.setattr(store_mod, "ROW_GROUP_ROWS", row_group_rows)
    one = run_tasks(tmp_path / "a", [["c0", "c1"], ["c2", "c3", "c4"]])
    two = run_tasks(tmp_path / "b", [["c4"], ["c2", "c0"], ["c3", "c1"]])
    s1, s2 = one.compact(grid(GRID_ORDER), SPEC), two.compact(grid(GRID_ORDER), SPEC)
    pd.testing.assert_frame_equal(s1, s2)
    for name in ("trades.parquet", "summary.parquet", "summary.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    if row_group_rows == 4:
        assert pq.ParquetFile(tmp_path / "a/trades.parquet").metadata.num_row_groups == 8


def test_compaction_follows_combo_order(tmp_path):
    store = run_tasks(tmp_path, [["c2", "c0"], ["c4", "c3"]])  # c1 never finished
    summary = store.compact(grid(GRID_ORDER), SPEC)
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


def test_compact_of_nothing_writes_empty_typed_files(tmp_path):
    store = SweepStore(tmp_path)
    store.prepare("s", "d", {})
    assert store.compact(grid(["c0"]), SPEC).empty
    assert pq.read_schema(tmp_path / "trades.parquet").remove_metadata() == TRADES_SCHEMA
    assert pq.read_table(tmp_path / "trades.parquet").num_rows == 0


def test_write_task_guards(tmp_path):
    store = run_tasks(tmp_path, [["c0"]])
    with pytest.raises(ValueError, match="letters, digits"):
        store.write_task("../evil", trades_table(COMBOS["c0"], "c0"), summary_rows(["c0"]))
    with pytest.raises(ValueError, match="no summary"):
        store.write_task("t2", trades_table(COMBOS["c0"], "c0"), summary_rows(["c2"]))
    with pytest.raises(ValueError, match="holds other, finished combos"):
        store.write_task(task_id_for(["c0"]), trades_table(COMBOS["c2"], "c2"),
                         summary_rows(["c2"]))


def test_manifest_updates_and_failures(tmp_path):
    store = run_tasks(tmp_path, [["c0"]])
    store.update_manifest(status="finished", counts={"ok": 1, "failed": 2})
    failures = [{"combo_id": "aa", "params": {}, "error": "E2", "traceback": "t"},
                {"combo_id": "zz", "params": {"target": 5}, "error": "E", "traceback": "tb"}]
    store.update_manifest(failures=failures)
    text = (tmp_path / "manifest.json").read_text()
    manifest = json.loads(text)
    assert text == json.dumps(manifest, sort_keys=True, indent=2) + "\n"
    assert manifest["failures"] == failures == store.read_manifest()["failures"]
    assert manifest["status"] == "finished" and manifest["name"] == "demo"


def test_task_ids_name_their_combos():
    assert task_id_for(["c1", "c0"]) == task_id_for(["c0", "c1"]) != task_id_for(["c0", "c2"])


def test_manifest_base_and_param_columns():
    base = manifest_base()
    assert set(base["versions"]) == {"python", "research", "numpy", "pandas", "pyarrow",
                                     "numba", "joblib"}
    assert base["host"]["cpu_count"] >= 1
    rows = [{"target": 10, "t1": 0.5, "flag": True, "sessions": ["S1"]},
            {"target": 15, "t1": 1, "flag": False, "sessions": ["S1", "S2"]}]
    assert param_columns_for(rows, ["target", "t1", "flag", "sessions"]) == [
        ("target", pa.int64()), ("t1", pa.float64()), ("flag", pa.bool_()),
        ("sessions", pa.string())]


def test_real_engine_frames_round_trip(tmp_path):
    synthetic = pytest.importorskip("research.engine.synthetic")
    from research.engine.results import categorize_text
    from research.engine.strategy import run_strategy
    from research.grid import build_spec

    bars = synthetic.synthetic_bars("ES", "2024-01-01", "2024-01-31", 7)
    spec = build_spec({"target": [10, 15]}, {"instrument": "ES"}, "real")
    combos = spec.combos()
    frames = {rp.combo_id: run_strategy(bars, rp) for rp in combos}
    store = SweepStore(tmp_path)
    store.prepare("s", "d", {})
    for i, (combo_id, frame) in enumerate(frames.items()):
        summary = pd.DataFrame([{"combo_id": combo_id, **combo_metrics(frame)}])
        store.write_task(f"t{i}", trades_table(frame, combo_id), summary)
    summary = store.compact(combos, spec)
    assert summary["target"].dtype == "int64"
    for combo_id, frame in frames.items():
        back = pd.read_parquet(tmp_path / "trades.parquet",
                               filters=[("combo_id", "==", combo_id)])
        pd.testing.assert_frame_equal(categorize_text(back.drop(columns="combo_id")), frame)


def test_compaction_reads_summary_shards_once(tmp_path, monkeypatch):
    store = run_tasks(tmp_path / "a", [["c2", "c0"], ["c4", "c3"]])  # c1 never finished
    reads = []
    real = SweepStore._summaries
    monkeypatch.setattr(SweepStore, "_summaries",
                        lambda self, *a, **k: reads.append(1) or real(self, *a, **k))
    summary, where = store.compact_summary(grid(GRID_ORDER), SPEC)
    assert list(where) == ["c3", "c0", "c4", "c2"] == list(summary["combo_id"])
    assert where == {"c3": task_id_for(["c4", "c3"]), "c0": task_id_for(["c2", "c0"]),
                     "c4": task_id_for(["c4", "c3"]), "c2": task_id_for(["c2", "c0"])}
    store.compact_trades(where)
    assert len(reads) == 1
    # compact is compact_summary + compact_trades: the same bytes
    both = run_tasks(tmp_path / "b", [["c2", "c0"], ["c4", "c3"]])
    both.compact(grid(GRID_ORDER), SPEC)
    for name in (TRADES, SUMMARY, SUMMARY_CSV):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_compact_trades_follows_the_mapping_order(tmp_path):
    store = run_tasks(tmp_path, [["c2", "c0"], ["c4", "c3"]])
    where = {"c4": task_id_for(["c4", "c3"]), "c2": task_id_for(["c2", "c0"])}
    store.compact_trades(where)
    trades = pd.read_parquet(tmp_path / TRADES)
    expected = pd.concat([COMBOS[c].assign(combo_id=c) for c in ["c4", "c2"]])
    expected = expected[["combo_id", *COLUMNS]].reset_index(drop=True)
    pd.testing.assert_frame_equal(trades, expected, check_dtype=False)


def test_write_task_publishes_trades_bytes_as_they_are(tmp_path):
    store = SweepStore(tmp_path)
    store.prepare("s", "d", {})
    encoded = parquet_bytes(pa.concat_tables([trades_table(COMBOS[c], c) for c in ("c0", "c2")]))
    store.write_task("t1", encoded, summary_rows(["c0", "c2"]))
    assert (tmp_path / "shards/t1.trades.parquet").read_bytes() == encoded
    assert store.finished() == {"c0", "c2"}
    with pytest.raises(ValueError, match="summary row has no combo_id"):
        store.write_task("t2", encoded, [{**summary_rows(["c0"])[0], "combo_id": None}])


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\udcff"])
def test_unreadable_manifest_is_refused_naming_it(tmp_path, text):
    run_tasks(tmp_path, [["c0"]])
    (tmp_path / MANIFEST).write_bytes(text.encode("utf-8", "surrogateescape"))
    for call in (lambda: SweepStore(tmp_path).read_manifest(),
                 lambda: SweepStore(tmp_path).prepare("spec1", "data1", {})):
        with pytest.raises(StoreMismatchError, match="manifest") as info:
            call()
        assert str(tmp_path / MANIFEST) in str(info.value) and "--fresh" in str(info.value)
        assert isinstance(info.value, ResearchError)
    fresh = SweepStore(tmp_path)  # --fresh starts over without reading it
    fresh.prepare("spec1", "data1", {}, fresh=True)
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
        SweepStore(root).prepare("s", "d", {})
    assert str(root) in str(info.value)
    assert isinstance(info.value, ResearchError)


def test_heatmap_names_match_the_glob_that_fresh_wipes():
    from fnmatch import fnmatch

    name = heatmap_name("target", "t1_fraction", "total_profit")
    assert name == "heatmap_target_t1_fraction_total_profit.png"
    assert fnmatch(name, HEATMAP_GLOB)
    assert not any(fnmatch(other, HEATMAP_GLOB) for other in (MANIFEST, TRADES, SUMMARY,
                                                               SUMMARY_CSV))
