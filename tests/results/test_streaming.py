"""Compaction while the tasks run (research/results/streaming.py): the same bytes as the
compaction at the end, whatever order the tasks finish in, and nothing left when stopped."""

import threading

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.results.compaction import find_sources, footer_of
from research.results.daily import DAILY
from research.results.store import TRADE_ROWS_KEY, TRADES, SweepStore
from research.results.streaming import RowStream, TaskBoard
from tests.results.test_store import (
    AXES,
    COMBOS,
    DAYS,
    TRUSTED,
    compact,
    compaction_of,
    in_grid_order,
    write_task,
)

IDS = sorted(COMBOS)


def new_store(root):
    store = SweepStore(root)
    store.prepare(TRUSTED, {"name": "demo"})
    return store


@st.composite
def sweeps(draw):
    """A grid order, the combos compacted by an earlier run, the rest cut into tasks (each
    planned with its combos; some combos fail, some tasks fail whole), the order the tasks
    finish in, and how the grid is cut into chunks."""
    order = draw(st.permutations(IDS))
    earlier = draw(st.sets(st.sampled_from(IDS), max_size=3))
    todo = draw(st.permutations([c for c in IDS if c not in earlier]))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(todo) - 1)), max_size=3)))
    bounds = zip([0, *cuts], [*cuts, len(todo)], strict=True)
    tasks = [list(todo[a:b]) for a, b in bounds if todo[a:b]]
    failed = draw(st.sets(st.sampled_from(todo), max_size=2)) if todo else set()
    whole = draw(st.sets(st.integers(0, max(0, len(tasks) - 1)), max_size=1))
    finish = draw(st.permutations(range(len(tasks))))
    chunk = draw(st.integers(1, len(IDS)))
    return order, earlier, tasks, failed, whole, finish, chunk


def earlier_run(root, order, earlier):
    """A results folder whose last compaction holds `earlier`: the resumed sweep's source."""
    store = new_store(root)
    if earlier:
        write_task(store, sorted(earlier), task_id="t_earlier")
        compact(store, in_grid_order([c for c in order if c in earlier]), AXES, DAYS)
    return store


def outputs(store):
    return {name: (store.root / name).read_bytes() for name in (TRADES, DAILY)}


def run_streamed(root, sweep):
    order, earlier, tasks, failed, whole, finish, chunk = sweep
    store = earlier_run(root, order, earlier)
    task_of = {c: f"t{i}" for i, batch in enumerate(tasks) for c in batch}
    with RowStream(store, DAYS, store_trades=True) as stream:
        stream.start()
        for start in range(0, len(order), chunk):
            ids = list(order[start:start + chunk])
            stream.add_chunk(ids, {c: task_of[c] for c in ids if c in task_of})
        for i in finish:
            if i in whole:
                stream.tasks_failed([f"t{i}"])
                continue
            done = [c for c in tasks[i] if c not in failed]
            write_task(store, done, task_id=f"t{i}")
            stream.task_published(f"t{i}", source_of(store, f"t{i}"))
        stream.close_grid()
        compaction = compaction_of(store, order)
        compaction.write_summary()
        assert stream.publish(compaction)
    run_streamed.decoded = stream.decoded  # row groups decoded, per file
    return outputs(store)


def source_of(store, task_id):
    return next(s for s in find_sources(store, DAYS).usable if s.name == task_id)


def run_at_end(root, sweep):
    order, earlier, tasks, failed, whole, _, _ = sweep
    store = earlier_run(root, order, earlier)
    for i, batch in enumerate(tasks):
        if i not in whole:
            write_task(store, [c for c in batch if c not in failed], task_id=f"t{i}")
    compaction = compaction_of(store, order)
    compaction.write_summary()
    compaction.write_rows()
    return outputs(store)


def test_tasks_finishing_out_of_grid_order_give_the_bytes_at_the_end(tmp_path):
    # c1 compacted earlier; c2 fails, task 1 fails whole; the tasks finish last first;
    # chunks of 2 combos
    sweep = (("c3", "c0", "c4", "c1", "c2"), {"c1"}, [["c4", "c2"], ["c0"], ["c3"]], {"c2"},
             {1}, [2, 1, 0], 2)
    assert run_streamed(tmp_path / "streamed", sweep) == run_at_end(tmp_path / "at_end", sweep)
    # each row group read is decoded once: trades of t0 and t2 (c1 has no trade rows);
    # daily of t0, t2 and the earlier compaction
    assert {kind: groups for kind, (groups, _) in run_streamed.decoded.items()} == {
        "trades": 2, "daily": 3}


@pytest.mark.slow  # about a second an example on a loaded machine
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sweeps())
def test_streamed_rows_are_the_bytes_of_the_compaction_at_the_end(tmp_path_factory, sweep):
    streamed = run_streamed(tmp_path_factory.mktemp("streamed"), sweep)
    at_end = run_at_end(tmp_path_factory.mktemp("at_end"), sweep)
    assert streamed == at_end


def test_trade_counts_are_in_the_footer_not_the_schema(tmp_path):
    store = new_store(tmp_path)
    write_task(store, ["c3", "c0"], task_id="t0")
    compact(store, in_grid_order(["c0", "c3"]), AXES, DAYS)
    assert pq.read_schema(tmp_path / TRADES).metadata is None
    assert footer_of(tmp_path / TRADES)[TRADE_ROWS_KEY] == b'[["c0", 5], ["c3", 3]]'


def test_a_stopped_stream_publishes_nothing_and_leaves_no_temp_file(tmp_path):
    store = earlier_run(tmp_path, IDS, {"c0"})
    before = outputs(store)
    with RowStream(store, DAYS, store_trades=True) as stream:
        stream.start()
        stream.add_chunk(IDS, {c: "t1" for c in IDS if c != "c0"})
        write_task(store, ["c2"], task_id="t9")  # not the planned task: the walk waits on t1
    assert outputs(store) == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_rows_that_are_not_the_final_compaction_are_not_published(tmp_path):
    store = earlier_run(tmp_path, IDS, {"c0", "c2"})
    before = outputs(store)
    with RowStream(store, DAYS, store_trades=True) as stream:
        stream.start()
        stream.add_chunk(IDS, {})
        stream.close_grid()
        # the final compaction lists one combo fewer than the stream copied
        assert not stream.publish(compaction_of(store, ["c0"]))
    assert outputs(store) == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_walk_waits_for_its_task_and_stops_on_abort():
    board = TaskBoard()
    board.add_chunk(["a1"], {"a1": "t1"})
    outcome = []

    def wait():
        try:
            board.task("t1")
        except Exception as exc:  # noqa: BLE001 - the abort, recorded
            outcome.append(type(exc).__name__)

    thread = threading.Thread(target=wait)
    thread.start()
    thread.join(0.05)
    assert thread.is_alive()  # waiting: t1 is neither published nor failed
    board.abort()
    thread.join(5)
    assert outcome == ["_Aborted"]


def test_a_task_failed_whole_is_skipped():
    board = TaskBoard()
    board.fail(["t1"])
    assert board.task("t1") is None


@pytest.mark.parametrize("store_trades", [True, False])
def test_an_empty_grid_publishes_empty_files(tmp_path, store_trades):
    store = new_store(tmp_path)
    with RowStream(store, DAYS, store_trades=store_trades) as stream:
        stream.start()
        stream.close_grid()
        assert stream.publish(compaction_of(store, []))
    assert (tmp_path / DAILY).exists()
    assert (tmp_path / TRADES).exists() == store_trades


def test_an_older_trades_file_with_its_counts_in_the_schema_is_still_reused(tmp_path):
    store = new_store(tmp_path)
    write_task(store, ["c3", "c0"], task_id="t0")
    compact(store, in_grid_order(["c0", "c3"]), AXES, DAYS)
    counts = footer_of(tmp_path / TRADES)[TRADE_ROWS_KEY]
    table = pq.read_table(tmp_path / TRADES)  # as versions before the footer entry wrote it
    pq.write_table(table.replace_schema_metadata({TRADE_ROWS_KEY: counts}), tmp_path / TRADES)
    store.record_outputs([TRADES])
    sources = find_sources(SweepStore(tmp_path), DAYS)
    assert sources.problems == {}
    assert [s.combos() for s in sources.usable] == [["c0", "c3"]]
    assert sources.usable[0].trade_starts == {"c0": 0, "c3": 5}
