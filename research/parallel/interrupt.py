"""Ctrl-C and SIGTERM, honoured between kernel calls and never inside one.

A Python signal handler runs in the main thread at the next bytecode boundary. When that
thread is inside a numba kernel, the next boundary can be a Python helper the compiled
code calls back (numba's ``_numba_unpickle``, which boxes constants): the handler's
exception is then set under compiled code that ignores it, and the call ends as
``SystemError: CPUDispatcher(...) returned a result with an exception set``, an ordinary
``Exception`` that the worker recorded as a failed combo while the sweep ran on.

So the handlers installed here (`handling_signals`, used by research.cli.shell) raise at
once only where that cannot happen. Code that calls kernels in the calling thread marks
itself with `deferred`; a signal that arrives there is kept, and raised by the next
`checkpoint` (between combos, between slices) or when the region ends, as
KeyboardInterrupt (SIGINT) or research.errors.Terminated (SIGTERM). A region lasts one
kernel call or one task's outputs: well under a second on a sweep's data.

An error raised while a signal is pending (`received`) is the signal's doing, not a
combo's: callers call `checkpoint` before they record it. A second signal after the first
was raised, while the process is still cleaning up, ends it at once (`os._exit`), as a
second Ctrl-C does in most tools.

>>> with deferred():
...     checkpoint()  # nothing received: goes on
>>> received() is None
True
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal's number
WORDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


@dataclass(slots=True)
class _State:
    received: int | None = None  # the first signal, once one arrived
    raised: bool = False  # its exception has left a handler or a checkpoint
    depth: int = 0  # nesting of `deferred` regions in the main thread
    on_force: Callable[[int], None] | None = None  # says the last word before os._exit


_STATE = _State()


def received() -> int | None:
    """The signal number received since the handlers were installed (None: none).

    >>> received() is None
    True
    """
    return _STATE.received


def _interruption(signum: int) -> KeyboardInterrupt:
    from research.errors import Terminated  # errors imports nothing of this package's

    if signum == signal.SIGTERM:
        return Terminated(f"signal {signum}")
    return KeyboardInterrupt()


def checkpoint() -> None:
    """Raise the signal received, if any (KeyboardInterrupt, or Terminated for SIGTERM):
    a place where stopping leaves nothing half done.

    >>> checkpoint()  # no signal: returns
    """
    if _STATE.received is not None and threading.current_thread() is threading.main_thread():
        _STATE.raised = True
        raise _interruption(_STATE.received)


@contextmanager
def deferred() -> Iterator[None]:
    """A region whose signals wait for its end (or a `checkpoint` inside it): wrap calls
    into compiled kernels made in the calling thread. An error that leaves the region
    while a signal is pending becomes the signal (its cause). Other threads never run
    signal handlers, so there it changes nothing.

    >>> with deferred():
    ...     pass
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _STATE.depth += 1
    try:
        yield
    except Exception as exc:
        if _STATE.received is not None:
            _STATE.raised = True
            raise _interruption(_STATE.received) from exc
        raise
    finally:
        _STATE.depth -= 1
    if _STATE.depth == 0 and not _STATE.raised:  # raised once is enough
        checkpoint()


def _handle(signum: int, frame: object) -> None:
    if _STATE.raised:  # still cleaning up after the first: a second one ends it now
        if _STATE.on_force is not None:
            _STATE.on_force(signum)
        os._exit(EXIT_CODES.get(signum, 128 + signum))
    if _STATE.received is None:
        _STATE.received = signum
    if _STATE.depth == 0:
        _STATE.raised = True
        raise _interruption(_STATE.received)


@contextmanager
def handling_signals(on_force: Callable[[int], None] | None = None) -> Iterator[None]:
    """SIGINT and SIGTERM handled as described above inside the block; the previous
    handlers come back after it. A signal ignored when the block starts (``nohup``, a
    background job) stays ignored. Outside the main thread nothing is installed.
    `on_force(signum)` says the last word before a second signal ends the process.

    >>> with handling_signals():
    ...     received() is None
    True
    """
    global _STATE
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved, _STATE = _STATE, _State(on_force=on_force)
    previous = {signum: signal.getsignal(signum) for signum in EXIT_CODES}
    try:
        for signum, handler in previous.items():
            if handler is not signal.SIG_IGN:
                signal.signal(signum, _handle)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        _STATE = saved


def ignore_interrupts_in_worker() -> None:
    """A worker process ignores SIGINT: a terminal's Ctrl-C reaches the whole process
    group, and the parent alone decides (it stops the workers); a worker that took it
    would end its task with an error that looks like a failed combo. Called in each loky
    worker as it starts (research.parallel.backends.watch_parent).

    >>> from research.parallel.backends import watch_parent  # its caller
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
