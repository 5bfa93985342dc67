"""The runner compacting while its tasks run (research/results/streaming.py): the bytes of
the compaction at the end, on failures, resume, a grown grid and Ctrl-C.

The sequential backend with a planned split of 2 processes runs the tasks in this process
but plans them as the workers would, so the streaming path is taken without starting any
(stream_wanted looks at the plan)."""

import pytest

from research.engine.pipeline import Stages
from research.engine.results import select_rows
from research.research_runner import ResearchRunner
from research.results.compaction import Compaction
from tests.helpers import OUTPUTS, digests, small_spec
from tests.sweep.test_runner import rows_failing_for_target_15_in_time_mode

ALL = (*OUTPUTS, "daily.parquet")
STREAMED = {"backend": "sequential", "max_cpus": 2, "batch_size": 3}  # plans 2 processes


def run(spec, root, **options):
    return ResearchRunner(results_dir=root, progress=False, analysis=False, report=False,
                          **options).run_spec(spec)


@pytest.fixture
def no_rows_at_the_end(monkeypatch):
    """Fails a run that falls back to writing the rows after the last task."""
    def refuse(self, *args, **kwargs):
        raise AssertionError("the rows were written at the end, not streamed")
    monkeypatch.setattr(Compaction, "write_rows", refuse)


@pytest.fixture(scope="module")
def at_end(tmp_path_factory):
    return run(small_spec(), tmp_path_factory.mktemp("at_end"), backend="sequential",
               max_cpus=1)


def test_streamed_compaction_gives_the_bytes_of_the_compaction_at_the_end(
        at_end, tmp_path, no_rows_at_the_end):
    sweep = run(small_spec(), tmp_path, **STREAMED)
    assert sweep.manifest["budget"]["processes"] == 2
    assert digests(sweep.path, ALL) == digests(at_end.path, ALL)
    timings = sweep.manifest["timings"]
    assert {"compact_s", "compact_tail_s", "compact_streamed_s"} <= timings.keys()
    assert timings["compact_s"] >= timings["compact_tail_s"]
    assert "compact_streamed_s" not in at_end.manifest["timings"]
    assert not [p for p in sweep.path.rglob("*.tmp")]


@pytest.fixture(scope="module")
def failed_at_end(tmp_path_factory):
    return run(small_spec(), tmp_path_factory.mktemp("failed"), backend="sequential",
               max_cpus=1, stages=Stages(rows=rows_failing_for_target_15_in_time_mode))


def test_failed_combos_are_skipped_as_at_the_end(failed_at_end, tmp_path, no_rows_at_the_end):
    sweep = run(small_spec(), tmp_path, stages=Stages(rows=rows_failing_for_target_15_in_time_mode),
                **STREAMED)
    assert len(sweep.failed) == 4 and len(sweep.summary) == 12
    assert digests(sweep.path, ALL) == digests(failed_at_end.path, ALL)


def test_a_grown_grid_streams_from_the_last_compaction(tmp_path, no_rows_at_the_end):
    small = small_spec(name="grow", slot=["07:30", "10:00"], target=[10, 15])
    grown = small_spec(name="grow", slot=["07:30", "10:00"], target=[10, 12.5, 15])
    run(small, tmp_path / "grow", **STREAMED)
    again = run(grown, tmp_path / "grow", **{**STREAMED, "batch_size": 1})  # 2 tasks
    assert again.manifest["combos_run"] == 2 and again.manifest["budget"]["processes"] == 2
    fresh = run(grown, tmp_path / "fresh", **STREAMED)
    assert digests(again.path, ALL) == digests(fresh.path, ALL)


class InterruptAfter:
    """The rows stage, until Ctrl-C at its `calls`-th combo (tasks have been published)."""

    def __init__(self, calls):
        self.calls = calls

    def __call__(self, bars, table, batch, rp):
        self.calls -= 1
        if self.calls == 0:
            raise KeyboardInterrupt
        return select_rows(bars, table, batch, rp)


def test_ctrl_c_while_streaming_leaves_no_half_file_and_a_rerun_completes(at_end, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(small_spec(), tmp_path, stages=Stages(rows=InterruptAfter(10)), **STREAMED)
    folder = tmp_path / "small"
    assert not [p for p in folder.rglob("*.tmp")]
    assert not (folder / "trades.parquet").exists() and not (folder / "daily.parquet").exists()
    again = run(small_spec(), tmp_path, **STREAMED)
    assert again.manifest["status"] == "complete"
    assert digests(again.path, ALL) == digests(at_end.path, ALL)


@pytest.fixture(scope="module")
def no_trades_at_end(tmp_path_factory):
    return run(small_spec(), tmp_path_factory.mktemp("no_trades"), store_trades="none",
               backend="sequential", max_cpus=1)


def test_without_trades_the_streamed_daily_matrix_is_the_one_at_the_end(
        no_trades_at_end, tmp_path, no_rows_at_the_end):
    streamed = run(small_spec(), tmp_path, store_trades="none", **STREAMED)
    assert not (streamed.path / "trades.parquet").exists()
    names = ("summary.csv", "daily.parquet")
    assert digests(streamed.path, names) == digests(no_trades_at_end.path, names)
