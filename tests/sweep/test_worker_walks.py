"""A task walks its exit settings many at a time (worker.RULES_PER_CALL); a failing call
falls back to one walk per setting, so only the combos whose own walk fails fail, and the
shards are the same bytes either way."""

from __future__ import annotations

import pytest

from research.engine import pipeline as pipeline_module
from research.engine.execution import execute_trades
from research.engine.inputs import to_bars
from research.engine.pipeline import ENGINE_STAGES, Stages
from research.engine.synthetic import synthetic_bars
from research.errors import DataError
from research.plan import plan_tasks
from research.worker import _run_task
from tests.helpers import small_spec

FAILING_TARGET_TICKS = 60  # target 15 points on ES


@pytest.fixture(scope="module")
def bars_and_task():
    bars = to_bars(synthetic_bars("ES", "2024-03-01", "2024-04-30", seed=3), "ES")
    spec = small_spec(slot=["09:30", "10:00"], target=[10, 15, 20], t1_fraction=[0.5, 0.65])
    task = plan_tasks(spec.combos(), processes=1)[0]
    assert len(task.combos) == 12
    return bars, task


def run(bars, task, stages=ENGINE_STAGES):
    return _run_task(bars, task, bars.last_ts_ns, 1, stages, True, None)


def test_a_failing_batched_walk_falls_back_to_one_walk_per_setting(bars_and_task,
                                                                    monkeypatch):
    bars, task = bars_and_task
    batched = run(bars, task)

    def refuse(*args, **kwargs):
        raise DataError("the batched walk is out of order today")

    monkeypatch.setattr(pipeline_module, "execute_trades_for", refuse)
    alone = run(bars, task)
    assert not batched.failures and not alone.failures
    assert alone.summaries == batched.summaries
    assert alone.trades == batched.trades and alone.daily == batched.daily


def exits_failing_on_one_target(bars, table, entries, rules, as_of_ns):
    if rules.target_ticks == FAILING_TARGET_TICKS:
        raise DataError("no walk for this target")
    return execute_trades(bars, table, entries, rules, as_of_ns)


def test_only_the_combos_whose_walk_fails_fail(bars_and_task):
    bars, task = bars_and_task
    result = run(bars, task, Stages(exits=exits_failing_on_one_target))
    failed = {f["combo_id"] for f in result.failures}
    expected = {rp.combo_id for rp in task.combos if rp.target_ticks == FAILING_TARGET_TICKS}
    assert failed == expected and len(failed) == 4
    assert all("no walk for this target" in f["error"] for f in result.failures)
    assert {s["combo_id"] for s in result.summaries} == \
        {rp.combo_id for rp in task.combos} - expected
