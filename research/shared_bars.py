"""The bars written once to a memory-mapped file that each worker process opens once.

A sweep's loky workers get a `BarsFile` (a path, a few bytes to pickle) instead of the
bars: joblib's automatic memory-mapping would hash every large array again each time a
task is pickled (``joblib._memmapping_reducer.ArrayMemmapForwardReducer`` names its file
after ``hash(array)``) and dump them again for every chunk's ``Parallel`` call. Here the
parent writes them once (`shared_bars`, with ``joblib.dump``, which stores arrays raw) in a
private temporary folder, in ``/dev/shm`` where it has room (memory, not disk), and removes
the folder on every way out of the sweep; a worker maps them read-only
(``joblib.load(mmap_mode="r")``, seen as plain arrays: `plain_arrays`) on its first task and
keeps the one file it opened last.

`warm_up_bars` are what a worker started early runs one combo on while the parent loads
the data (research.worker.warm_up): the imports, and every kernel the engine calls, loaded
from numba's cache (``cache=True``) or compiled, on a tiny file of the same read-only
arrays (numba compiles one version per array type, and a read-only array is another type
than a writable one).

>>> from research.engine.data import prepare_bars
>>> from research.engine.synthetic import synthetic_bars
>>> bars = prepare_bars(synthetic_bars("ES", "2024-01-02", "2024-01-03"), "ES")
>>> with shared_bars(bars) as handle:
...     opened = opened_bars(handle)
...     bool((opened.ts_ns == bars.ts_ns).all()), opened.ts_ns.flags.writeable
(True, False)
>>> os.path.exists(handle.path)  # removed once the sweep is done
False
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from joblib.externals.loky.backend import resource_tracker

from research.engine.bars import Bars
from research.engine.data import prepare_bars
from research.engine.synthetic import synthetic_bars

SHM = Path("/dev/shm")  # Linux's memory-backed file system: what joblib memmaps into too
PREFIX = "research-bars-"


@dataclass(frozen=True, slots=True)
class BarsFile:
    """Where a sweep's bars lie, memory-mappable: what a loky worker receives per task.

    >>> BarsFile("/tmp/research-bars-x/bars.joblib").path
    '/tmp/research-bars-x/bars.joblib'
    """

    path: str


_OPENED: dict[str, Bars] = {}  # this process's last opened file: one entry at most


def opened_bars(bars: Bars | BarsFile) -> Bars:
    """`bars` itself, or the bars of a `BarsFile`, mapped once per process.

    >>> opened_bars(synthetic_bars("ES", "2024-01-02", "2024-01-02")) is not None
    True
    """
    if not isinstance(bars, BarsFile):
        return bars
    found = _OPENED.get(bars.path)
    if found is None:
        _OPENED.clear()  # a worker reused by the next sweep lets the last one's bars go
        found = _OPENED[bars.path] = plain_arrays(joblib.load(bars.path, mmap_mode="r"))
    return found


def plain_arrays(bars: Bars) -> Bars:
    """`bars` with every memory-mapped array seen as a plain ndarray over the same pages.

    numba types an ``np.memmap`` (an ndarray subclass) on its slow path at every call: about
    6 µs more per array argument than a plain ndarray (measured on the 2-core machine; on a
    120-combo task of one year the whole task time was the same, 1.00x, 0.76-1.02, so this
    is a small saving, kept because every worker then sees one array type). ``np.asarray``
    drops the subclass, not the mapping (the view keeps it alive).

    >>> import numpy as np
    >>> from research.engine.data import prepare_bars
    >>> bars = prepare_bars(synthetic_bars("ES", "2024-01-02", "2024-01-02"), "ES")
    >>> type(plain_arrays(bars).ts_ns) is np.ndarray
    True
    """
    def fields(item: Any) -> dict[str, Any]:
        return {f.name: np.asarray(value) for f in dataclasses.fields(item)
                if isinstance(value := getattr(item, f.name), np.memmap)}

    walk = bars.walk
    if walk is not None:
        walk = dataclasses.replace(walk, **fields(walk))
    return dataclasses.replace(bars, **fields(bars), walk=walk)


def forget_opened() -> None:
    """Let go of the file this process mapped last (its pages, once nothing else holds them).

    >>> forget_opened()
    """
    _OPENED.clear()


@contextmanager
def shared_bars(bars: Bars, name: str = "bars") -> Iterator[BarsFile]:
    """`bars` written once into a new private folder; the folder is removed when the block
    ends, however it ends (an error, Ctrl-C, SIGTERM raised as research.errors.Terminated).

    A worker that still maps the file keeps its pages until it lets go (POSIX unlink). A
    parent killed outright (SIGKILL, out of memory) runs no cleanup: the folder is then
    removed by loky's resource tracker, the process joblib registers its own memmapping
    folders with (``joblib._memmapping_reducer``: ``resource_tracker.register(folder,
    "folder")``), once the parent and its workers are gone.
    """
    folder = temp_folder(bars.nbytes)
    resource_tracker.register(folder, "folder")
    try:
        path = os.path.join(folder, f"{name}.joblib")
        joblib.dump(bars, path)  # arrays stored raw: joblib.load(mmap_mode="r") maps them
        yield BarsFile(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        resource_tracker.unregister(folder, "folder")


def temp_folder(nbytes: int) -> str:
    """A new folder only this user can enter (``mkdtemp``: mode 0700, a fresh name, never
    an existing path), in /dev/shm when it has room for twice `nbytes`, else the system's
    temporary folder (``TMPDIR``).

    >>> folder = temp_folder(0); os.path.isdir(folder) and not os.listdir(folder)
    True
    >>> os.rmdir(folder)
    """
    root = None
    if SHM.is_dir() and os.access(SHM, os.W_OK):
        try:
            if shutil.disk_usage(SHM).free > 2 * nbytes + (64 << 20):
                root = str(SHM)
        except OSError:
            root = None
    return tempfile.mkdtemp(prefix=PREFIX, dir=root)


def warm_up_bars() -> Bars:
    """A few days of synthetic ES: enough for every stage to run once.

    >>> len(warm_up_bars()) > 0
    True
    """
    return prepare_bars(synthetic_bars("ES", "2024-01-02", "2024-01-05", seed=1), "ES")
