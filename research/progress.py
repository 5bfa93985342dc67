"""What a running sweep tells the person who started it: the first line, progress, the end.

`Progress` picks how to show progress from where it runs (``mode="auto"``):

- ``"bar"``: stderr is a terminal: a tqdm bar with combos/s, the ETA and the failures;
- ``"notebook"``: an IPython kernel (Jupyter, VS Code, Colab): ``tqdm.auto``, a widget
  where ipywidgets is installed;
- ``"lines"``: anything else (a log file, CI, a pipe): one plain line every `interval_s`
  seconds and one at the end, so a log shows the sweep is alive;
- ``"off"``: ``Progress(enabled=False)``, e.g. the CLI's ``--quiet``: nothing at all.

Every mode but ``"off"`` writes the first line (what runs, how it is split, on which
data) to the stream at once. The stream is stderr unless one is given; stdout stays for
results.

>>> import io
>>> out = io.StringIO()
>>> facts = RunFacts(name="demo", combos=4, done=1, tasks=2, processes=1, threads=2,
...                  backend="loky", data="synthetic ES (seed 7)", bars=9_300,
...                  first_date="2024-01-02", last_date="2024-01-31")
>>> with Progress(stream=out, mode="lines") as progress:
...     progress.start(facts)
...     progress.update(2, failed=1)
>>> print(out.getvalue())  # doctest: +ELLIPSIS
sweep demo: 3 combos to run (4 in the grid, 1 already done); 2 tasks on 1 process x 2 threads
 (loky); data: synthetic ES (seed 7), 2024-01-02 .. 2024-01-31, 9,300 bars
demo: 4/4 combos, 1 failed, ... combos/s, ... elapsed
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, TextIO

MODES = ("auto", "bar", "notebook", "lines", "off")
LINE_INTERVAL_S = 10.0  # a plain line this often when stderr is not a terminal
BAR_REFRESH_S = 1.0  # the bar's clock moves even while no task finishes (first compiles)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFacts:
    """What the first line says: the sweep, its size, the split and the data.

    `combos` counts the grid's distinct combos, `done` those already in the results folder.

    >>> RunFacts(name="s", combos=2, done=0, tasks=1, processes=1, threads=1, backend="loky",
    ...          data="ES.parquet", bars=10, first_date="2024-01-02",
    ...          last_date="2024-01-02").line()  # doctest: +ELLIPSIS
    'sweep s: 2 combos to run (2 in the grid, 0 already done); 1 task on 1 process x 1 ...'
    """

    name: str
    combos: int
    done: int
    tasks: int
    processes: int
    threads: int
    backend: str
    data: str
    bars: int
    first_date: str
    last_date: str

    def line(self) -> str:
        """The first line, one sentence (wrapped by the terminal, not by us)."""
        return (f"sweep {self.name}: {self.combos - self.done} combos to run ({self.combos} "
                f"in the grid, {self.done} already done); {count(self.tasks, 'task')} on "
                f"{count(self.processes, 'process')} x {count(self.threads, 'thread')} "
                f"({self.backend}); data: {self.data}, {self.first_date} .. {self.last_date}, "
                f"{self.bars:,} bars")


class Progress:
    """A sweep's progress reporter: `start`, then `update` per finished task, then `close`.

    `enabled=False` makes every call a no-op. `stream` defaults to ``sys.stderr`` at the
    time of `start` (a notebook replaces it). `interval_s` spaces the plain lines.

    >>> import io
    >>> out = io.StringIO()
    >>> progress = Progress(stream=out)  # a StringIO is not a terminal: plain lines
    >>> progress.note("sweep demo: loading data/ES.parquet ...")
    >>> progress.mode
    'lines'
    >>> out.getvalue()
    'sweep demo: loading data/ES.parquet ...\\n'
    >>> Progress(enabled=False).mode
    'off'
    """

    def __init__(self, enabled: bool = True, *, stream: TextIO | None = None,
                 mode: str = "auto", interval_s: float = LINE_INTERVAL_S) -> None:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: use one of {', '.join(MODES)}")
        self._stream = stream
        self._mode = mode if enabled else "off"
        self.interval_s = interval_s
        self._facts: RunFacts | None = None
        self._bar: Any = None
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ok = self._failed = 0
        self._started_s = time.monotonic()

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def mode(self) -> str:
        """The mode in effect: "auto" resolved to "bar", "notebook" or "lines"."""
        if self._mode == "auto":
            if in_notebook():
                return "notebook"
            return "bar" if _isatty(self.stream) else "lines"
        return self._mode

    def note(self, line: str) -> None:
        """One line on what happens now (loading the data, compacting the results), for the
        moments without a bar; above the bar while one is open.

        >>> import io
        >>> out = io.StringIO()
        >>> Progress(stream=out, mode="bar").note("demo: writing summary ...")
        >>> out.getvalue()
        'demo: writing summary ...\\n'
        """
        if self.mode != "off":
            self._write(line)

    def start(self, facts: RunFacts) -> None:
        """Write the first line. The bar (or the plain lines) starts on entering the
        reporter's ``with`` block or at the first `update`, whichever comes first.

        >>> import io
        >>> out = io.StringIO()
        >>> progress = Progress(stream=out, mode="lines")
        >>> progress.start(RunFacts(name="s", combos=1, done=1, tasks=0, processes=1,
        ...     threads=1, backend="loky", data="d", bars=1, first_date="2024-01-02",
        ...     last_date="2024-01-02"))
        >>> out.getvalue()  # doctest: +ELLIPSIS
        'sweep s: 0 combos to run (1 in the grid, 1 already done); 0 tasks on 1 process ...'
        """
        self._facts = facts
        self._started_s = time.monotonic()
        if self.mode != "off":
            self._write(facts.line())

    def _open(self) -> None:
        """The bar and the clock that refreshes it (or writes the plain lines)."""
        mode = self.mode
        if self._facts is None or self._ticker is not None or mode == "off":
            return
        if mode in ("bar", "notebook"):
            self._bar = _open_bar(self._facts, self.stream, notebook=mode == "notebook")
        interval = self.interval_s if mode == "lines" else BAR_REFRESH_S
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, args=(interval,), daemon=True,
                                        name="research-progress")
        self._ticker.start()

    def update(self, ok: int, failed: int = 0) -> None:
        """Count combos that finished (`ok`) or failed since the last call.

        >>> progress = Progress(enabled=False)
        >>> progress.update(3, failed=1)
        >>> progress.counts
        (3, 1)
        """
        self._open()
        with self._lock:
            self._ok += ok
            self._failed += failed
            if self._bar is not None:
                self._bar.set_postfix_str(f"{self._failed} failed", refresh=False)
                self._bar.update(ok + failed)

    @property
    def counts(self) -> tuple[int, int]:
        """(ok, failed): the combos counted by `update` so far."""
        return self._ok, self._failed

    def close(self) -> None:
        """Stop the clock, close the bar; in "lines" mode write the last line.

        >>> Progress(enabled=False).close()  # safe to call whatever happened before
        """
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._facts is not None and self.mode == "lines":
            self._write(self.status_line())
        self._facts = None

    def __enter__(self) -> Progress:
        self._open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status_line(self) -> str:
        """Where the sweep stands: combos done of the grid, failures, rate, elapsed, ETA.

        >>> Progress(enabled=False).status_line()
        'not started'
        """
        facts = self._facts
        if facts is None:
            return "not started"
        elapsed_s = time.monotonic() - self._started_s
        finished = facts.done + self._ok + self._failed
        counted = self._ok + self._failed
        rate = counted / elapsed_s if elapsed_s > 0 and counted else None
        parts = [f"{facts.name}: {finished}/{facts.combos} combos",
                 f"{self._failed} failed",
                 f"{rate:.1f} combos/s" if rate else "no combo finished yet",
                 f"{clock(elapsed_s)} elapsed"]
        if rate and finished < facts.combos:
            parts.append(f"ETA {clock((facts.combos - finished) / rate)}")
        return ", ".join(parts)

    # -- internals --

    def _tick(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            with self._lock:
                if self._bar is not None:
                    self._bar.refresh()
                else:
                    self._write(self.status_line())

    def _write(self, line: str) -> None:
        stream = self.stream
        if self._bar is not None:
            self._bar.write(line, file=stream)
            return
        stream.write(line + "\n")
        stream.flush()


def in_notebook() -> bool:
    """True inside an IPython kernel (Jupyter, JupyterLab, VS Code, Colab): stderr is not a
    terminal there, yet a progress bar can be shown.

    IPython is never imported here: a process that has not imported it is not a notebook.

    >>> in_notebook()  # a doctest runs in a plain interpreter
    False
    """
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    try:
        shell = get_ipython() if get_ipython is not None else None
    except Exception:  # noqa: BLE001 - a broken IPython is not a notebook
        return False
    if shell is None:
        return False
    # Jupyter's shell class (Colab's subclasses it); the kernel app in the config otherwise.
    if any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__):
        return True
    try:
        return "IPKernelApp" in shell.config
    except Exception:  # noqa: BLE001
        return False


def clock(seconds: float) -> str:
    """A duration as a person reads it: "0.4 s", "12 s", "3:05", "1:02:03".

    >>> [clock(s) for s in (0.43, 12.2, 185, 3723)]
    ['0.4 s', '12 s', '3:05', '1:02:03']
    """
    if not math.isfinite(seconds):
        return "?"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _open_bar(facts: RunFacts, stream: TextIO, notebook: bool) -> Any:
    if notebook:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    # A pseudo-terminal without a size (script, docker -t) reports 0 x 0: tqdm would then
    # draw nothing at all, so such a terminal gets a fixed size.
    sized = notebook or _has_size(stream)
    return tqdm(total=facts.combos, initial=facts.done, unit="combo", desc=facts.name,
                file=stream, dynamic_ncols=sized, ncols=None if sized else 100,
                nrows=None if sized else 24, postfix="0 failed")


def _has_size(stream: TextIO) -> bool:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return size.columns > 0 and size.lines > 0


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def count(n: int, noun: str) -> str:
    """`n` and the noun, plural unless one.

    >>> count(1, "process"), count(2, "process"), count(0, "task")
    ('1 process', '2 processes', '0 tasks')
    """
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{n} {noun if n == 1 else plural}"
