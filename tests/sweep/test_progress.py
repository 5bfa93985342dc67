"""The progress reporter: the first line, plain lines, a tqdm bar, notebooks, silence."""

from __future__ import annotations

import io
import sys
import time
import types

import pytest

from research.progress import Progress, RunFacts, clock, in_notebook


def facts(**changes) -> RunFacts:
    values = {"name": "demo", "combos": 10, "done": 2, "tasks": 3, "processes": 2,
              "threads": 1, "backend": "loky", "data": "data/ES.parquet", "bars": 12_345,
              "first_date": "2024-01-02", "last_date": "2024-03-29"}
    return RunFacts(**{**values, **changes})


def test_first_line_says_what_runs_how_it_is_split_and_on_which_data():
    assert facts().line() == (
        "sweep demo: 8 combos to run (10 in the grid, 2 already done); 3 tasks on "
        "2 processes x 1 thread (loky); data: data/ES.parquet, 2024-01-02 .. 2024-03-29, "
        "12,345 bars")


def test_plain_lines_come_every_interval_and_once_at_the_end():
    out = io.StringIO()
    progress = Progress(stream=out, interval_s=0.05)
    assert progress.mode == "lines"  # a StringIO is not a terminal
    progress.start(facts())
    assert out.getvalue() == facts().line() + "\n"  # at once, before any task
    with progress:
        time.sleep(0.3)  # no task finished yet: the log still shows the sweep is alive
        progress.update(3, failed=1)
        time.sleep(0.2)
    lines = out.getvalue().splitlines()
    assert lines[0] == facts().line()
    assert len(lines) >= 4
    assert "demo: 2/10 combos, 0 failed, no combo finished yet" in lines[1]
    assert lines[-1].startswith("demo: 6/10 combos, 1 failed, ")
    assert "combos/s" in lines[-1] and "ETA" in lines[-1]
    after_close = len(lines)
    time.sleep(0.15)
    assert len(out.getvalue().splitlines()) == after_close  # the clock stopped


def test_a_finished_sweep_has_no_eta():
    out = io.StringIO()
    with Progress(stream=out, mode="lines") as progress:
        progress.start(facts(combos=2, done=0))
        progress.update(2)
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("demo: 2/2 combos, 0 failed, ") and "ETA" not in last


def test_bar_mode_draws_tqdm_with_rate_and_failures():
    out = io.StringIO()
    progress = Progress(stream=out, mode="bar")
    progress.start(facts())
    with progress:
        progress.update(6, failed=2)
    text = out.getvalue()
    assert text.startswith(facts().line() + "\n")
    assert "demo: 100%" in text and "10/10" in text
    assert "combo/s" in text and "2 failed" in text


def test_disabled_writes_nothing(capsys):
    progress = Progress(enabled=False)
    progress.note("loading x.csv ...")
    progress.start(facts())
    with progress:
        progress.update(8)
    assert progress.mode == "off" and progress.counts == (8, 0)
    assert capsys.readouterr() == ("", "")


def test_default_stream_is_stderr_at_start(capsys):
    with Progress() as progress:
        progress.start(facts())
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("sweep demo: 8 combos to run")


class ZMQInteractiveShell:  # the class name Jupyter's kernel shell has
    config: dict = {}


class TerminalInteractiveShell:
    config: dict = {}


def fake_ipython(monkeypatch, shell):
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_notebook_is_detected_from_the_kernel_shell(monkeypatch):
    assert not in_notebook()
    fake_ipython(monkeypatch, ZMQInteractiveShell())
    assert in_notebook()
    colab = type("Shell", (ZMQInteractiveShell,), {})()  # Colab subclasses Jupyter's
    fake_ipython(monkeypatch, colab)
    assert in_notebook()
    fake_ipython(monkeypatch, TerminalInteractiveShell())  # ipython in a terminal
    assert not in_notebook()
    kernel = TerminalInteractiveShell()
    kernel.config = {"IPKernelApp": {}}
    fake_ipython(monkeypatch, kernel)
    assert in_notebook()
    fake_ipython(monkeypatch, None)  # IPython imported, no shell running
    assert not in_notebook()


def test_notebook_uses_tqdm_auto(monkeypatch):
    import tqdm.auto

    opened = []

    class RecordingBar:
        def __init__(self, **kwargs):
            opened.append(kwargs)

        def set_postfix_str(self, *args, **kwargs): ...
        def update(self, n): ...
        def refresh(self): ...
        def write(self, line, file=None): ...
        def close(self): ...

    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    fake_ipython(monkeypatch, ZMQInteractiveShell())
    out = io.StringIO()
    progress = Progress(stream=out)
    assert progress.mode == "notebook"
    progress.start(facts())
    with progress:
        progress.update(1)
    assert out.getvalue() == facts().line() + "\n"
    assert opened and opened[0]["total"] == 10 and opened[0]["initial"] == 2


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode 'fancy'"):
        Progress(mode="fancy")


@pytest.mark.parametrize(("seconds", "text"), [(0.04, "0.0 s"), (9.96, "10.0 s"),
                                               (59.4, "59 s"), (60, "1:00"), (7322, "2:02:02"),
                                               (float("inf"), "?")])
def test_clock(seconds, text):
    assert clock(seconds) == text
