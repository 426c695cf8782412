"""Slow clients and graceful shutdown of ``digwebs serve --workers threads`` (and sync).

Live: each test starts the server as a subprocess on a free 127.0.0.1 port and
stops it by its pid. Every loop is bounded in count and time.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import typing as t

import pytest

pytestmark = pytest.mark.slow

SECRET = {"DIGWEBS_SECRET_KEY": "k" * 64}


def _slowloris(port: int, stop: threading.Event, out: list[str]) -> None:
    """Send a request head one byte every 0.5 s until *stop* (or 8 s) and record how it ended."""
    head = b"GET /probe/version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 60
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            deadline = time.monotonic() + 8
            for i in range(len(head)):
                if stop.is_set() or time.monotonic() > deadline:
                    break
                sock.sendall(head[i : i + 1])
                stop.wait(0.5)
        out.append("sent")
    except OSError as exc:
        out.append(repr(exc))


@pytest.mark.parametrize("threads", [2, 8])
def test_slow_headers_do_not_hold_worker_threads(threads, project, start_server):
    """Ten connections trickling their headers while three normal requests come in:
    each normal one is answered within 1 s (before, 0 of 3 within 3 s)."""
    server = start_server(
        # --no-reload: an edit elsewhere in the checkout must not restart the worker here
        ["--workers", "threads", "--threads", str(threads), "--processes", "1", "--no-reload"],
        project,
    )
    server.wait_ready("/probe/version")
    stop = threading.Event()
    out: list[str] = []
    slow = [
        threading.Thread(target=_slowloris, args=(server.port, stop, out), daemon=True)
        for _ in range(10)
    ]
    for thread in slow:
        thread.start()
    try:
        time.sleep(1.0)  # every slow client is connected and trickling
        for _ in range(3):
            start = time.monotonic()
            try:
                status, _, body = server.get("/probe/version", timeout=1.0)
            except OSError as exc:
                pytest.fail(f"a normal request failed behind slow clients: {exc!r}\n{server.log()}")
            elapsed = time.monotonic() - start
            assert (status, body) == (200, b"v1")
            assert elapsed < 1.0, f"a normal request waited {elapsed:.2f} s"
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=10)
    assert "Traceback" not in server.log()


def test_a_head_that_never_completes_is_answered_408(project, start_server):
    """A client whose request head has not arrived within the header timeout is dropped,
    with a 408 if it sent anything; an idle new connection is closed without one."""
    server = start_server(
        ["--workers", "threads", "--processes", "1", "--header-timeout", "1", "--no-reload"],
        project,
    )
    server.wait_ready("/probe/version")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /probe/version HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        elapsed = time.monotonic() - start
    assert data.startswith(b"HTTP/1.1 408 "), data
    assert 0.5 < elapsed < 3.0, elapsed
    assert server.get("/probe/version")[2] == b"v1"
    assert "Traceback" not in server.log()


def test_sigterm_loses_no_accepted_request(project, start_server, http_burst):
    """40 concurrent 1 s requests, 4 threads, a 5 s grace period, SIGTERM after 0.5 s.

    The work (10 s) does not fit in the grace period: every request is either
    served (200) or answered 503 with Retry-After; none is reset or closed
    without an answer (before: 18 of 40 were)."""
    server = start_server(
        [
            "--workers",
            "threads",
            "--threads",
            "4",
            "--processes",
            "1",
            "--graceful-timeout",
            "5",
            "--env",
            "production",
        ],
        project,
        **SECRET,
    )
    # at least two rounds of four served
    _assert_sigterm_loses_nothing(server, http_burst, min_served=8)


# -- --workers sync: one request slot per process, a deadline on the head ----------------


def _read_until_close(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def test_sync_slow_head_holds_the_process_at_most_the_header_timeout(project, start_server):
    """--workers sync, --header-timeout 2: a client trickling its head takes the
    only request slot; the normal request behind it is answered within 2 + 2 s
    (before, it waited as long as the slow client kept trickling, 8 s here)."""
    server = start_server(
        ["--workers", "sync", "--processes", "1", "--header-timeout", "2", "--no-reload"],
        project,
    )
    server.wait_ready("/probe/version")
    stop = threading.Event()
    out: list[str] = []
    slow = threading.Thread(target=_slowloris, args=(server.port, stop, out), daemon=True)
    slow.start()
    try:
        time.sleep(0.3)  # the slow client is connected (and accepted) first
        start = time.monotonic()
        try:
            status, _, body = server.get("/probe/version", timeout=6.0)
        except OSError as exc:
            pytest.fail(f"a normal request failed behind a slow client: {exc!r}\n{server.log()}")
        elapsed = time.monotonic() - start
        assert (status, body) == (200, b"v1")
        assert elapsed < 4.0, f"a normal request waited {elapsed:.2f} s"
    finally:
        stop.set()
        slow.join(timeout=10)
    assert "Traceback" not in server.log()


def test_sync_a_head_that_never_completes_is_answered_408(project, start_server):
    """--workers sync: a head unfinished after --header-timeout gets 408 and the
    connection is closed; one that sent nothing is closed without an answer; the
    process then serves the next connection."""
    server = start_server(
        ["--workers", "sync", "--processes", "1", "--header-timeout", "1", "--no-reload"],
        project,
    )
    server.wait_ready("/probe/version")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /probe/version HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        data = _read_until_close(sock)
        elapsed = time.monotonic() - start
    assert data.startswith(b"HTTP/1.1 408 "), data
    assert b"Connection: close" in data
    assert 0.5 < elapsed < 3.0, elapsed
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        start = time.monotonic()
        data = _read_until_close(sock)
        elapsed = time.monotonic() - start
    assert data == b"", data
    assert 0.5 < elapsed < 3.0, elapsed
    status, headers, body = server.get("/probe/version")
    assert (status, body) == (200, b"v1")
    assert headers.get("connection") == "close"  # sync keeps no connection alive
    assert "Traceback" not in server.log()
    assert "ERROR" not in server.log()


def test_sync_head_sent_in_pieces_within_the_deadline_is_served(project, start_server):
    """A head (and a pipelined body) that arrives in pieces, but within
    --header-timeout, is parsed by gunicorn's parser from the bytes already read:
    the request is answered as if it had come in one piece."""
    server = start_server(
        ["--workers", "sync", "--processes", "1", "--header-timeout", "3", "--no-reload"],
        project,
    )
    server.wait_ready("/probe/version")
    pieces = [b"GET /probe/ver", b"sion HTTP/1.1\r\nHo", b"st: x\r\n", b"\r", b"\n"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(0.2)
        data = _read_until_close(sock)
    assert data.startswith(b"HTTP/1.1 200 "), data
    assert data.endswith(b"v1"), data
    # an oversized header line is still refused by gunicorn's own limits
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        big = b"X-Big: " + b"a" * 70000
        sock.sendall(b"GET /probe/version HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n\r\n")
        data = _read_until_close(sock)
    assert data.startswith(b"HTTP/1.1 4"), data[:200]
    assert server.get("/probe/version")[2] == b"v1"
    assert "Traceback" not in server.log()


def test_sync_sigterm_loses_no_queued_request(project, start_server, http_burst):
    """40 concurrent 1 s requests, 2 sync processes, a 5 s grace period, SIGTERM
    after 0.5 s: the connections queued behind the two in flight are served
    while time remains, then answered 503; none is reset (before: 38 of 40 were)."""
    server = start_server(
        [
            "--workers",
            "sync",
            "--processes",
            "2",
            "--graceful-timeout",
            "5",
            "--env",
            "production",
        ],
        project,
        **SECRET,
    )
    # both processes went on serving
    _assert_sigterm_loses_nothing(server, http_burst, min_served=4)


def _assert_sigterm_loses_nothing(
    server: t.Any, http_burst: t.Callable[..., t.Any], min_served: int
) -> None:
    """40 overlapping 1 s requests, SIGTERM meanwhile: each answered 200 or 503, none lost."""
    server.wait_ready("/probe/version")
    results, _ = http_burst(
        server.port,
        ["/probe/slow?s=1.0"] * 40,
        timeout=30,
        during=lambda: os.kill(server.pid, signal.SIGTERM),
    )
    lost = [r for r in results if isinstance(r, BaseException)]
    statuses = sorted(r[0] for r in results if not isinstance(r, BaseException))
    assert not lost, f"{len(lost)} of 40 lost, e.g. {lost[0]!r}; answered {statuses}"
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= min_served, statuses
    assert server.wait(timeout=20) == 0, server.log()
    assert "Traceback" not in server.log()
