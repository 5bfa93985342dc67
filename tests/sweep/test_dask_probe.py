"""A scheduler address that answers but does not speak dask's protocol: named within the
connect timeout, never an allocation of what the peer announces (issue 9, part B).

Every server here listens on 127.0.0.1 on an ephemeral port, in a thread of this process.
"""

from __future__ import annotations

import http.server
import logging
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from research.parallel import dask_backend  # noqa: E402
from research.parallel.dask_backend import BackendError, _probe  # noqa: E402

ROOT = Path(__file__).parents[2]
CI_SPEC = ROOT / "sweeps" / "ci.yaml"
EXABYTES = struct.pack("Q", 3 << 60)  # a length prefix of 3 EiB


@contextmanager
def serving(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server on a free loopback port that runs `answer` on each connection."""
    server = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                answer(conn)
                done.wait(5)  # keep the connection open, as a slow service would

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        done.set()
        thread.join(5)
        server.close()


def _hang_up(conn: socket.socket) -> None:
    conn.sendall(b"hello")
    conn.shutdown(socket.SHUT_WR)


ANSWERS: dict[str, Callable[[socket.socket], None]] = {
    "3-EiB-frame": lambda conn: conn.sendall(EXABYTES),
    "http-reply": lambda conn: conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0"
                                            b"\r\n\r\n"),
    "garbage-frame": lambda conn: conn.sendall(struct.pack("Q", 40) + b"x" * 40),
    "hangs-up": _hang_up,
}
WHY = {
    "3-EiB-frame": r"it sent b'\\x00.*', read as a first message of 3,458,764,513,820,540,928 "
                   r"bytes; a dask greeting is a few dozen bytes",
    "http-reply": r"it sent b'HTTP/1\.1', read as a first message of [\d,]+ bytes",
    "garbage-frame": r"its first message is not a dask greeting \(b'xxxx",
    "hangs-up": r"it closed the connection without a dask greeting \(it sent b'hello'\)",
}


@pytest.mark.parametrize("kind", sorted(ANSWERS))
def test_a_peer_that_does_not_speak_dask_is_named_at_once(kind: str) -> None:
    with serving(ANSWERS[kind]) as address:
        _assert_not_dask_at_once(address, kind)


def _assert_not_dask_at_once(address: str, kind: str) -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(BackendError, match=rf"^dask scheduler '{address}' is not a dask "
                                               rf"scheduler: {WHY[kind]}"):
            _probe(address)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert peak < 5_000_000  # nothing like the announced length was allocated


@pytest.fixture
def http_server() -> Iterator[str]:
    """Python's own HTTP server: it waits for a request line and says nothing first."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow  # a server, and the probe's whole timeout
def test_an_http_server_is_not_a_dask_scheduler_within_the_timeout(
        http_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dask_backend, "CONNECT_TIMEOUT_S", 2)
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"is not a dask scheduler: it accepted the "
                                           r"connection but sent no dask greeting within 2 s"):
        _probe(http_server)
    assert 1.5 < time.monotonic() - started < 5


def test_a_real_scheduler_passes_the_probe() -> None:
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster:
        started = time.monotonic()
        _probe(cluster.scheduler_address)
        assert time.monotonic() - started < 5


@pytest.mark.slow
def test_the_cli_says_not_a_dask_scheduler_and_exits_2(tmp_path: Path) -> None:
    with serving(ANSWERS["3-EiB-frame"]) as address:  # how fast: the in-process tests above
        done = subprocess.run(
            [sys.executable, "-m", "research.cli.sweep", str(CI_SPEC), "--backend", "dask",
             "--scheduler", address, "--results-dir", str(tmp_path), "--quiet"],
            capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert done.returncode == 2, done.stderr
        assert f"error: dask scheduler '{address}' is not a dask scheduler: it sent" \
            in done.stderr
        assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
