"""The one shell the commands run through: logging, errors, signals, exit codes.

``research-sweep``, ``research-data``, ``research-analyze``, ``research-report`` and
``research-stats`` (or ``python -m research.cli COMMAND``) parse their options, then hand
their work to `run`,
which sets up logging (``-v``: INFO), installs the Ctrl-C and SIGTERM handlers
(research.parallel.interrupt) and turns what happened into one exit code and, on stderr,
at most one line. A user's mistake or a signal never shows a traceback.

Exit codes, the same for every command:

====  ==============================================================================
0     done
1     the sweep ran, but some combos failed (``manifest.json`` lists them, with their
      errors); or an unexpected error, a bug, shown with its traceback
2     a user's mistake: a spec, data, option or folder the command cannot use, or a
      results folder that another run is writing; one ``error:`` line
3     a file could not be written (disk full, no permission, a file where a folder
      should be, a closed output pipe); one ``error:`` line
130   interrupted (Ctrl-C, SIGINT); one ``interrupted`` line
143   terminated (SIGTERM: ``timeout``, ``docker stop``, a batch scheduler); one
      ``terminated`` line
====  ==============================================================================

An interrupted sweep keeps every combo it finished: the same command continues it.

>>> import contextlib, io
>>> def mistake() -> int:
...     raise SpecError("grid: missing; give at least one axis")
>>> with contextlib.redirect_stderr(io.StringIO()) as err:
...     run(mistake)
2
>>> err.getvalue()
'error: grid: missing; give at least one axis\\n'
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

from research.errors import (  # noqa: F401
    ResearchError,
    SpecError,
    StoreWriteError,
    Terminated,
    printable_logging,
)
from research.parallel import interrupt

OK, FAILED, MISTAKE, WRITE_ERROR = 0, 1, 2, 3
INTERRUPTED, TERMINATED = interrupt.EXIT_CODES[signal.SIGINT], interrupt.EXIT_CODES[signal.SIGTERM]
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"

# How each command is called, as a console script and as a module (for usage lines).
SCRIPTS = {"sweep": ("research-sweep", "python -m research.sweep"),
           "data": ("research-data", "python -m research.cli.data_inspector"),
           "analyze": ("research-analyze", "python -m research.cli.analyze"),
           "report": ("research-report", "python -m research.report"),
           "stats": ("research-stats", "python -m research.stats")}


def setup_logging(verbose: bool, level: int = logging.WARNING) -> None:
    """Log records to stderr: INFO and up with ``-v``, else `level` and up; text from data
    files shown with control characters escaped (errors.PrintableFormatter).

    >>> setup_logging(False)
    """
    printable_logging(logging.INFO if verbose else level, LOG_FORMAT)


def run(body: Callable[[], int], *, verbose: bool = False, level: int = logging.WARNING,
        kept: str = "", command_line: bool = False) -> int:
    """``body()``'s exit code, or the code of what stopped it (the table above), with its
    one line on stderr. `kept` follows the ``interrupted``/``terminated`` word: what an
    interruption leaves behind and how to go on. `command_line` (a command's ``main()``
    called without arguments: the process is the command) ends a stopped process as soon
    as its line is said, without the interpreter's clean-up of numba, pandas and friends,
    which takes seconds on a loaded machine; atexit handlers still run.

    >>> run(lambda: 0)
    0
    """
    setup_logging(verbose, level)
    with interrupt.handling_signals(on_force=lambda signum: _say(_stopped(signum, kept))):
        try:
            with _stdout_named():
                code = body()
                _flush_stdout()  # a full disk or a closed pipe shows here, not at exit
            return code
        except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - sorted just below
            code = _exit_code(exc, kept)
    if command_line and code in (INTERRUPTED, TERMINATED):
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process at once: the results and the manifest are written, the line said."""
    atexit._run_exitfuncs()  # logging's flush, loky's and tempfile's clean-up
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _flush_stdout() -> None:
    """Flush stdout; once it is broken (a closed pipe, a full disk), point it at /dev/null
    so that Python's exit says nothing more."""
    try:
        sys.stdout.flush()
    except OSError:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise


class _NamedStdout:
    """sys.stdout whose write errors name "stdout": print() names no file of its own."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with _naming_stdout():
            return self._stream.write(text)

    def flush(self) -> None:
        with _naming_stdout():
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _naming_stdout() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = "stdout"
        raise


@contextlib.contextmanager
def _stdout_named() -> Iterator[None]:
    saved = sys.stdout
    sys.stdout = _NamedStdout(saved)
    try:
        yield
    finally:
        sys.stdout = saved


def _exit_code(exc: BaseException, kept: str) -> int:
    """The exit code for what left the command, its line said; a bug is raised again."""
    signum = interrupt.received()
    if signum is None and isinstance(exc, KeyboardInterrupt):  # raised by someone else
        signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
    if signum is not None:  # whatever the signal left behind (an error half-way) is its
        _say(_stopped(signum, kept))
        return interrupt.EXIT_CODES[signum]
    if isinstance(exc, StoreWriteError):
        _say(f"error: {exc}")
        return WRITE_ERROR
    if isinstance(exc, ResearchError):
        _say(f"error: {exc}")
        return MISTAKE
    if isinstance(exc, OSError):
        if exc.filename == "stdout":  # broken: Python's exit would complain once more
            with contextlib.suppress(OSError):
                _flush_stdout()
        _say(f"error: {write_error(exc)}")
        return WRITE_ERROR
    raise exc


def write_error(exc: OSError) -> str:
    """An OSError in one line: what could not be written, why, and what to check.

    >>> print(write_error(IsADirectoryError(21, "Is a directory", "out/report.html")))
    cannot write out/report.html: Is a directory; check the path, its permissions and the free space
    """
    where = exc.filename if exc.filename is not None else "a file"
    if isinstance(exc, BrokenPipeError):
        return f"cannot write {where}: the pipe was closed by the command reading it"
    return (f"cannot write {where}: {exc.strerror or exc}; check the path, its "
            "permissions and the free space")


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """An OSError inside names `path`, the file meant, not the temporary file an atomic
    write was using (exit 3 then says which file could not be written).

    >>> with writing("out/report.html"):
    ...     raise IsADirectoryError(21, "Is a directory", "out/.report.html.1f2e.tmp")
    Traceback (most recent call last):
    IsADirectoryError: [Errno 21] Is a directory: 'out/report.html'
    """
    try:
        yield
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, os.fspath(path)) from exc


def _stopped(signum: int, kept: str) -> str:
    word = interrupt.WORDS.get(signum, f"signal {signum}")
    return f"{word}: {kept}" if kept else word


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def prog(command: str) -> str:
    """The name a usage line shows: the console script, ``python -m research.cli
    COMMAND``, or the module form, whichever started this process.

    >>> prog("analyze") in ("research-analyze", "python -m research.cli.analyze")
    True
    """
    script, module = SCRIPTS[command]
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if os.path.basename(argv0) == script:
        return script
    if argv0.endswith(os.path.join("research", "cli", "__main__.py")):
        return f"python -m research.cli {command}"
    return module
