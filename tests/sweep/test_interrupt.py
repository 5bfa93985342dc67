"""Ctrl-C and SIGTERM inside this process (research.parallel.interrupt): kept while a
kernel region runs, raised at its end or at a checkpoint, never turned into a failed
range or combo. The CLI's exit codes are tested in real processes in tests/cli/test_shell.py."""

from __future__ import annotations

import os
import signal

import pytest

from research.engine.execution import execute_trades
from research.engine.inputs import to_bars
from research.engine.pipeline import Stages
from research.engine.synthetic import synthetic_bars
from research.errors import Terminated
from research.parallel import interrupt
from research.parallel.processor import ParallelProcessor
from research.plan import plan_tasks
from research.worker import run_task
from tests.helpers import small_spec


@pytest.fixture(autouse=True)
def sigint_as_in_a_foreground_run():
    """A background job (`pytest ... &`, some CI runners) starts with SIGINT ignored, and
    handling_signals rightly keeps an ignored signal ignored: these tests are about a
    foreground run, so they begin with Python's own SIGINT handler."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def send(sig: int = signal.SIGINT) -> None:
    """`sig` to this process; the handler runs in the main thread at once."""
    os.kill(os.getpid(), sig)


def test_a_signal_in_a_deferred_region_waits_for_its_end():
    reached = []
    with interrupt.handling_signals(), pytest.raises(KeyboardInterrupt):
        with interrupt.deferred():
            send()
            reached.append("after the signal")  # the region goes on to its end
        reached.append("after the region")
    assert reached == ["after the signal"]


def test_sigterm_is_raised_as_terminated_at_a_checkpoint():
    with interrupt.handling_signals(), interrupt.deferred():
        send(signal.SIGTERM)
        assert interrupt.received() == signal.SIGTERM
        with pytest.raises(Terminated):
            interrupt.checkpoint()


def test_outside_a_region_the_signal_is_raised_at_once():
    with interrupt.handling_signals(), pytest.raises(KeyboardInterrupt):
        send()
        for _ in range(1_000_000):  # the handler runs between these bytecodes
            pass
        pytest.fail("the signal was not raised")


def test_an_error_while_a_signal_is_pending_becomes_the_signal():
    with (interrupt.handling_signals(), pytest.raises(KeyboardInterrupt) as caught,
          interrupt.deferred()):
        send()
        raise SystemError("returned a result with an exception set")
    assert isinstance(caught.value.__cause__, SystemError)


def test_the_previous_handlers_come_back_and_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interrupt.handling_signals():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, previous)
    assert interrupt.received() is None


def test_a_slice_failing_after_a_signal_is_not_a_failed_range():
    def slice_then_fail(part):
        send()
        raise ValueError("bad bar data")

    with interrupt.handling_signals(), pytest.raises(KeyboardInterrupt) as caught:
        ParallelProcessor(max_workers=1).process(list(range(8)), slice_then_fail)
    assert type(caught.value) is KeyboardInterrupt  # not RangeProcessingError


def test_a_combo_failing_after_a_signal_is_not_recorded_as_failed():
    """The sweep's kernels run in its main thread with one process: the signal comes in
    mid-kernel, the kernel then fails; the task stops instead of recording a failure."""
    bars = to_bars(synthetic_bars("ES", "2024-03-01", "2024-04-30", seed=3), "ES")
    calls = []

    def exits_signalled_then_failing(*args):
        calls.append(1)
        if len(calls) == 2:
            send()
            raise SystemError("CPUDispatcher(...) returned a result with an exception set")
        return execute_trades(*args)

    task = plan_tasks(small_spec().combos(), processes=1)[0]
    with interrupt.handling_signals(), pytest.raises(KeyboardInterrupt):
        run_task(bars, task, bars.last_ts_ns, 1, Stages(exits=exits_signalled_then_failing))
    assert len(calls) == 2  # stopped at once: no further combo ran
