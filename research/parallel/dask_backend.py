"""The dask backend: a sweep's tasks on a Dask cluster through joblib (docs/architecture.md).

Imported only when a sweep asks for ``backend: dask``, so ``dask[distributed]`` stays an
optional extra. The parent process keeps every other duty: it loads the bars, scatters them
once to every worker, and remains the single writer of results (the runner's store), so
resume works exactly as with loky. Without a scheduler address a ``LocalCluster`` of
``n_workers`` processes with one thread each is started and closed here, once per sweep
(`DaskSession`), not once per chunk of its tasks.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import socket
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any, NoReturn, TypeVar

import joblib
from joblib._dask import DaskDistributedBackend  # importable without dask installed

from research.errors import (
    BackendError,  # noqa: F401 - raised here
    shorten,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
CONNECT_TIMEOUT_S = 10
"""How long to try a scheduler address: a typo must fail fast, not hang the sweep."""
MAX_GREETING_BYTES = 64 * 1024
"""The most a scheduler's first message may announce (a dask handshake is about 60 bytes)."""
INSTALL_HINT = "dask backend needs the optional extra: pip install -e '.[dask]'"
# A LocalCluster's nannies write these into the parent's environment before spawning each
# worker (distributed.nanny.pre-spawn-environ); the parent gets its own values back after.
SPAWN_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                  "MALLOC_TRIM_THRESHOLD_")


def dask_results(fn: Callable[..., T], bars: Any, tasks: Sequence[Any], extra_args: tuple, *,
                 scheduler: str | None, n_workers: int) -> Iterator[T]:
    """Yield ``fn(bars, task, *extra_args)`` for every task, in completion order, on a
    `DaskSession` of its own (opened here, closed when the generator ends or is closed).

    A worker lost mid-run makes the scheduler retry its task elsewhere; if it still fails
    (``KilledWorker``), the exception leaves this generator and the runner records the
    unfinished combos as failed, for a re-run to complete. Closing the generator early (or
    an interrupt) shuts down the client and any cluster started here.
    """
    _import_distributed()
    if not tasks:
        return
    session = DaskSession(bars, scheduler=scheduler, n_workers=n_workers,
                          modules=(getattr(fn, "__module__", None),))
    try:
        yield from session.results(fn, tasks, extra_args)
    finally:
        session.close()


class DaskSession:
    """One client (and, without a scheduler address, one LocalCluster of `n_workers`
    processes with one thread each) for a whole sweep, whatever its number of chunks: the
    bars are scattered to every worker once, up front (joblib's ``scatter=``), and each task
    receives that one future instead of a copy. `started` counts the clusters and clients
    this process opened (tests count them).

    >>> DaskSession.started["clients"] >= 0
    True
    """

    started = {"clusters": 0, "clients": 0}

    def __init__(self, bars: Any, *, scheduler: str | None, n_workers: int,
                 modules: Sequence[str | None] = ("research.worker",)) -> None:
        distributed = _import_distributed()
        self._stack = ExitStack()
        self._stack.callback(_restore_env, {name: os.environ.get(name)
                                            for name in SPAWN_ENV_VARS})
        try:
            self._stack.enter_context(_quiet_distributed())
            if scheduler is None:
                # Whatever the tasks need on arrival: the task function's and the bars' modules.
                client = _local_client(distributed, n_workers,
                                       (*modules, type(bars).__module__), self._stack)
            else:
                client = _remote_client(distributed, scheduler, self._stack)
            DaskSession.started["clients"] += 1
            logger.info("dask: tasks on %s (%d worker threads)", scheduler or "a local cluster",
                        sum(client.nthreads().values()))
            # The backend scatters the bars right here, once, with broadcast=True, and maps
            # id(bars) to that one future for every call of every chunk.
            self.bars = bars
            self.backend = FailFastDaskBackend(client=client, scatter=[bars])
        except BaseException:
            self._stack.close()
            raise

    def results(self, fn: Callable[..., T], tasks: Sequence[Any],
                extra_args: tuple) -> Iterator[T]:
        """Yield ``fn(bars, task, *extra_args)`` for every task, in completion order."""
        with joblib.parallel_config(backend=self.backend):
            calls = (joblib.delayed(fn)(self.bars, task, *extra_args) for task in tasks)
            # Tasks are already batches of combos sized by the runner: joblib must not
            # batch them again (batch_size=1), which would only unbalance the workers.
            yield from joblib.Parallel(n_jobs=-1, batch_size=1,
                                       return_as="generator_unordered")(calls)

    def close(self) -> None:
        """Shut the client and any cluster started here down; the parent's thread
        variables come back."""
        self._stack.close()


class FailFastDaskBackend(DaskDistributedBackend):
    """joblib's dask backend, fixed in two places for sweeps.

    A task lost by dask itself ends the call: joblib's backend reports a task's own
    exception through the completion callback, but an error raised by dask
    (``KilledWorker`` after a task took down too many workers) only lands on the future it
    returned, never on the callback that ``joblib.Parallel`` waits on, so the sweep would
    hang forever. Forwarding that exception to the callback makes Parallel raise it (joblib
    raises any exception a callback receives); a second report of one task is ignored.

    A cluster of one worker thread still gets the tasks: joblib runs every call in the
    calling process when the backend reports a single job.
    """

    def effective_n_jobs(self, n_jobs: int) -> int:
        return max(2, super().effective_n_jobs(n_jobs))

    def submit(self, func: Any, callback: Callable[[Any], None] | None = None) -> Any:
        future = super().submit(func, callback)
        if callback is not None:
            future.add_done_callback(lambda done: _forward_failure(done, callback))
        return future


def _forward_failure(future: Future, callback: Callable[[Any], None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        callback(future.exception())


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise BackendError(INSTALL_HINT) from exc
    return distributed


def _local_client(distributed: Any, n_workers: int, modules: Sequence[str | None],
                  stack: ExitStack) -> Any:
    """A client on a new LocalCluster of `n_workers` processes with one thread each.

    Its workers fork from a forkserver that has imported distributed and `modules` once,
    instead of each spawned worker importing them again: about a second less start-up on
    every sweep (spawn where there is no forkserver, i.e. Windows). Like loky's reusable
    workers, that one idle forkserver lives as long as this process. `stack` owns the
    closing of cluster and client.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        import dask
        from distributed.utils import get_mp_context

        # Kept for the whole run, so that a worker restarted after a crash forks too.
        stack.enter_context(dask.config.set(
            {"distributed.worker.multiprocessing-method": "forkserver"}))
        # distributed sets its own preload list the first time; ours replaces it (the
        # forkserver starts later, with the first worker).
        get_mp_context().set_forkserver_preload(
            ["distributed", *sorted({m for m in modules if m and m != "__main__"})])
    # No dashboard, and the scheduler's small HTTP server on a free loopback port, so that
    # two sweeps on one machine never race for port 8787.
    cluster = stack.enter_context(distributed.LocalCluster(
        n_workers=max(1, n_workers), threads_per_worker=1, processes=True,
        dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR))
    DaskSession.started["clusters"] += 1
    return stack.enter_context(distributed.Client(cluster, set_as_default=False))


def _remote_client(distributed: Any, scheduler: str, stack: ExitStack) -> Any:
    """A client on the scheduler at `scheduler`, or a BackendError within seconds."""
    try:
        _probe(scheduler)
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:
        raise BackendError(f"dask scheduler {shorten(scheduler, 100)} is not reachable: "
                           f"{exc}") from None
    return stack.enter_context(client)


def _probe(address: str) -> None:
    """Fail within CONNECT_TIMEOUT_S unless a dask scheduler answers at `address`.

    Three gaps in ``Client(address, timeout=...)`` make this necessary: a refused connection
    (wrong port, no scheduler running) is retried until the timeout; an endpoint that accepts
    but never answers (another service, the dashboard's port) hangs the handshake with no
    timeout at all; and a peer that answers in another protocol has its first 8 bytes read
    as a frame length that the client then allocates (``HTTP/1.1`` is 3 EiB). So a tcp://
    address first gets a raw socket that reads the scheduler's greeting within bounds
    (`_check_greeting`); then one dask handshake under the deadline proves a scheduler is
    listening. It runs on its own thread and event loop, so that it also works where a loop
    is already running (Jupyter).
    """
    from distributed.comm.addressing import get_address_host_port, parse_address

    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    try:
        host, port = get_address_host_port(address)
    except ValueError:
        pass  # no host and port (inproc, ucx): only the handshake applies
    else:
        if parse_address(address)[0] == "tcp":
            _check_greeting(address, host, port, deadline)
        else:  # tls: the client speaks first (its TLS hello); a connect finds refusals fast
            with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
                pass
    with ThreadPoolExecutor(1, thread_name_prefix="dask-probe") as pool:
        pool.submit(asyncio.run, _handshake(address, deadline)).result()


def _check_greeting(address: str, host: str, port: int, deadline: float) -> None:
    """Read the greeting a dask server sends on accept, never more than MAX_GREETING_BYTES.

    What this relies on (dask/distributed, ``distributed/comm/core.py`` and ``tcp.py``): a
    listener's ``on_connection`` writes its handshake before it reads the client's, and
    ``TCP.read`` frames every message as an 8-byte native ``struct "Q"`` length of the
    "nosplit" part, then that part: another "Q" with the number of frames, one "Q" per frame
    length, the frames; the handshake is one msgpack map of a few dozen bytes. ``TCP.read``
    allocates the announced length (``read_bytes_rw`` -> ``host_array(n)``) before reading
    it; here it is checked first, and nothing is sent, so no peer is disturbed.
    """
    with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as sock:
        head = _receive(sock, 8, deadline, address)
        (size,) = struct.unpack("Q", head)
        if size > MAX_GREETING_BYTES:
            _not_dask(address, f"it sent {head!r}, read as a first message of {size:,} bytes; "
                      "a dask greeting is a few dozen bytes (another service? a scheduler "
                      "listens on 8786, its dashboard on 8787)")
        payload = _receive(sock, size, deadline, address)
    if not isinstance(_greeting_message(payload), dict):
        _not_dask(address, f"its first message is not a dask greeting ({payload[:16]!r}...)")


def _greeting_message(payload: bytes) -> Any:
    """The handshake map of a greeting's nosplit part, or None if it is not one. msgpack
    alone reads it: dask's own loads() would unpickle a "__Pickled__" entry."""
    import msgpack

    if len(payload) < 16:
        return None
    (n_frames,) = struct.unpack_from("Q", payload)
    header = 8 * (n_frames + 1)
    if not 1 <= n_frames <= 16 or header > len(payload):
        return None
    lengths = struct.unpack_from(f"{n_frames}Q", payload, 8)
    if sum(lengths) != len(payload) - header:
        return None
    try:
        return msgpack.loads(payload[header:header + lengths[0]], raw=False, use_list=False,
                             strict_map_key=False)
    except Exception:  # noqa: BLE001 - any malformed bytes mean "not a dask greeting"
        return None


def _receive(sock: socket.socket, n_bytes: int, deadline: float, address: str) -> bytes:
    """Exactly `n_bytes` (already bounded by the caller) before `deadline`."""
    data = bytearray()
    while len(data) < n_bytes:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(min(n_bytes - len(data), 65536))
        except TimeoutError:
            _not_dask(address, f"it accepted the connection but sent no dask greeting within "
                      f"{CONNECT_TIMEOUT_S} s{_got(data)} (a scheduler greets at once; an "
                      "HTTP server waits for a request)")
        if not chunk:
            _not_dask(address, f"it closed the connection without a dask greeting{_got(data)}")
        data += chunk
    return bytes(data)


def _got(data: bytearray) -> str:
    return f" (it sent {bytes(data[:16])!r})" if data else ""


def _not_dask(address: str, why: str) -> NoReturn:
    raise BackendError(f"dask scheduler {shorten(address, 100)} is not a dask scheduler: {why}")


async def _handshake(address: str, deadline: float) -> None:
    from distributed.comm import connect
    from distributed.security import Security

    timeout = max(1.0, deadline - time.monotonic())
    try:
        comm = await asyncio.wait_for(
            connect(address, timeout=timeout, **Security().get_connection_args("client")),
            timeout)
    except TimeoutError:
        raise TimeoutError(f"no dask scheduler answered within {CONNECT_TIMEOUT_S} s (a "
                           "scheduler listens on port 8786 by default, its dashboard on "
                           "8787)") from None
    await comm.close()


@contextmanager
def _quiet_distributed() -> Iterator[None]:
    """Keep distributed's INFO chatter (cluster start, connections) off the user's stderr.

    The in-process scheduler and nannies log through the ``distributed`` logger, which
    propagates to the CLI's root handler; warnings such as a worker restart still show.
    """
    dlogger = logging.getLogger("distributed")
    old = dlogger.level
    dlogger.setLevel(max(logging.WARNING, dlogger.getEffectiveLevel()))
    try:
        yield
    finally:
        dlogger.setLevel(old)


def _restore_env(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
