"""Slow clients and graceful shutdown of ``digwebs serve --workers threads`` (and sync).

Live: each test starts the server as a subprocess on a free 127.0.0.1 port and
stops it by its pid. Every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
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


async def _fetch_all(port: int, count: int, seconds: float, term: t.Callable[[], None]):
    from conftest import _fetch  # type: ignore[import-not-found]

    async def one() -> t.Any:
        try:
            return await _fetch(port, f"/probe/slow?s={seconds}", 30)
        except Exception as exc:  # noqa: BLE001 - counted below
            return exc

    tasks = [asyncio.ensure_future(one()) for _ in range(count)]
    await asyncio.sleep(0.5)
    term()
    return await asyncio.gather(*tasks)


def test_sigterm_loses_no_accepted_request(project, start_server):
    """40 concurrent 1 s requests, 4 threads, a 5 s grace period, SIGTERM after 0.5 s.

    The work (10 s) does not fit in the grace period: every request is either
    served (200) or answered 503 with Retry-After; none is reset or closed
    without an answer (before: 18 of 40 were)."""
    server = start_server(
        [
            "--workers", "threads", "--threads", "4", "--processes", "1",
            "--graceful-timeout", "5", "--env", "production",
        ],
        project,
        **SECRET,
    )
    server.wait_ready("/probe/version")
    results = asyncio.run(
        _fetch_all(server.port, 40, 1.0, lambda: os.kill(server.pid, signal.SIGTERM))
    )
    lost = [r for r in results if isinstance(r, BaseException)]
    statuses = sorted(r[0] for r in results if not isinstance(r, BaseException))
    assert not lost, f"{len(lost)} of 40 lost, e.g. {lost[0]!r}; answered {statuses}"
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 8, statuses  # at least two rounds of four served
    assert server.wait(timeout=20) == 0, server.log()
    assert "Traceback" not in server.log()
