"""One writer per results folder: an advisory lock held for the whole run.

The lock is ``fcntl.flock`` on ``<folder>/.lock``: the operating system releases it when
the process ends, however it ends, so a lock whose process is gone is simply taken over.
The file also says who holds it (pid and start time) for the message a second run gets.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with hold(folder):
...     (folder / LOCK_FILE).exists()
True
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from research.errors import (
    FolderLockedError,  # noqa: F401 - raised here
    ResearchError,
)
from research.results.safe_files import open_regular, read_bounded

LOCK_FILE = ".lock"

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here; the folder is not protected
    fcntl = None  # type: ignore[assignment]


@contextmanager
def hold(folder: Path) -> Iterator[None]:
    """Hold `folder`'s lock, or raise FolderLockedError naming the process that does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    # never through a link: a .lock linked elsewhere would truncate its target (issue 19)
    fd = open_regular(path, os.O_RDWR | os.O_CREAT)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise FolderLockedError(f"{folder} is being written by {_holder(path)}; wait "
                                        "for it to finish, or give this run another sweep "
                                        "name or results folder") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(),
                                 "since": dt.datetime.now().isoformat(timespec="seconds")}
                                ).encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _holder(path: Path) -> str:
    """'process N since T' from the lock file (best effort: it may be half-written)."""
    try:
        holder = json.loads(read_bounded(path, 4096))
        return f"process {int(holder['pid'])} since {str(holder['since'])[:19]}"
    except (OSError, ValueError, KeyError, TypeError, ResearchError):
        return "another process"
