"""``digwebs serve --workers gevent``: the guarantees of ``DigwebsGeventWorker``.

The worker is gunicorn's ``GeventWorker`` with its own request path
(``digwebs_cli._gevent_support``). Two layers here:

* In-process, differential: :class:`CoalescingResponse` must put exactly the
  bytes gunicorn's own ``Response`` puts on the wire (content-length and
  chunked bodies, empty chunks, HEAD, 204/304, HTTP/1.0, files sent with
  ``sendfile``), in fewer ``send`` calls. gunicorn is the oracle.
* Live (marked slow): servers on 127.0.0.1 free ports, stopped by their pid:
  fairness under pipelining, ``max_requests`` with jitter, the keep-alive
  idle timeout, requests in flight finished at SIGTERM, ``--reload``.
  (The hostile suite, the access-log byte counts, ``--warn-blocking`` and
  graceful stop are in test_hostile.py, test_serve_dev_live.py and
  test_serve_live.py, all run under gevent too.)
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("gevent")

from _helpers import child_env, free_port  # noqa: E402
from gunicorn.config import Config  # noqa: E402
from gunicorn.http import wsgi  # noqa: E402
from gunicorn.http.parser import RequestParser  # noqa: E402

from digwebs_cli._gevent_support import CoalescingResponse, FrozenConfig  # noqa: E402

WORKER = "digwebs_cli._gevent_support.DigwebsGeventWorker"


# -- in-process: the bytes on the wire ---------------------------------------------


class _Wire:
    """A socket stand-in that records every send (and serves ``sendfile`` from the file)."""

    def __init__(self) -> None:
        self.sends: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))

    send = sendall

    def sendfile(self, file: t.Any, offset: int = 0, count: int | None = None) -> int:
        file.seek(offset)
        data = file.read() if count is None else file.read(count)
        self.sends.append(data)
        return len(data)

    @property
    def bytes(self) -> bytes:
        return b"".join(self.sends)


def _request(method: str, version: str) -> t.Any:
    raw = f"{method} /x HTTP/{version}\r\nHost: h\r\n\r\n".encode()
    return next(RequestParser(Config(), iter([raw]), ("127.0.0.1", 1)))


def _serve(
    response_class: t.Any, req: t.Any, status: str, headers: list[tuple[str, str]], body: t.Any
) -> _Wire:
    wire = _Wire()
    cfg = Config()
    resp = response_class(req, wire, cfg)
    resp.start_response(status, list(headers))
    if isinstance(body, wsgi.FileWrapper):
        resp.write_file(body)
    else:
        for chunk in body:
            resp.write(chunk)
    resp.close()
    return wire


def _frozen_date(monkeypatch: pytest.MonkeyPatch) -> None:
    # both responses render a Date header: the same one
    monkeypatch.setattr("gunicorn.util.http_date", lambda *a: "Tue, 01 Dec 2026 00:00:00 GMT")


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    version=st.sampled_from(["1.0", "1.1"]),
    status=st.sampled_from(
        [
            "200 OK",
            "201 Created",
            "204 No Content",
            "304 Not Modified",
            "404 Not Found",
            "500 Internal Server Error",
        ]
    ),
    chunks=st.lists(st.binary(max_size=40), max_size=5),
    with_length=st.booleans(),
    extra=st.lists(
        st.sampled_from([("X-A", "1"), ("Set-Cookie", "a=b"), ("Connection", "close")]), max_size=2
    ),
)
def test_the_bytes_are_gunicorns_in_fewer_sends(
    method, version, status, chunks, with_length, extra
):
    """Differential against gunicorn's Response: same bytes, never more sends,
    and a response that fits one write goes out in one send."""
    with pytest.MonkeyPatch.context() as mp:
        _frozen_date(mp)
        headers = [("Content-Type", "text/plain"), *extra]
        if with_length:
            headers.append(("Content-Length", str(sum(map(len, chunks)))))
        theirs = _serve(wsgi.Response, _request(method, version), status, headers, chunks)
        ours = _serve(CoalescingResponse, _request(method, version), status, headers, chunks)
    assert ours.bytes == theirs.bytes
    assert len(ours.sends) <= len(theirs.sends)
    if len(chunks) <= 1 and with_length:
        assert len(ours.sends) == 1, ours.sends


def test_a_plaintext_answer_is_one_send(monkeypatch):
    _frozen_date(monkeypatch)
    headers = [("Content-Type", "text/plain"), ("Content-Length", "13")]
    theirs = _serve(wsgi.Response, _request("GET", "1.1"), "200 OK", headers, [b"Hello, World!"])
    ours = _serve(CoalescingResponse, _request("GET", "1.1"), "200 OK", headers, [b"Hello, World!"])
    assert len(theirs.sends) == 2 and len(ours.sends) == 1
    assert ours.bytes == theirs.bytes


@pytest.mark.parametrize("with_length", [True, False])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_file_goes_out_after_its_headers(tmp_path, monkeypatch, with_length, method):
    """``wsgi.file_wrapper`` bodies still use sendfile, with the headers sent first."""
    _frozen_date(monkeypatch)
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 40)
    headers = [("Content-Type", "application/octet-stream")]
    if with_length:
        headers.append(("Content-Length", "10240"))
    wires = []
    for cls in (wsgi.Response, CoalescingResponse):
        with open(path, "rb") as fh:
            wires.append(
                _serve(cls, _request(method, "1.1"), "200 OK", headers, wsgi.FileWrapper(fh))
            )
    theirs, ours = wires
    assert ours.bytes == theirs.bytes
    assert ours.sends[0].startswith(b"HTTP/1.1 200 OK\r\n")


def test_the_snapshot_reads_as_the_config():
    cfg = Config()
    cfg.set("keepalive", 7)
    frozen = FrozenConfig(cfg)
    for name in cfg.settings:
        assert getattr(frozen, name) == getattr(cfg, name), name
    assert frozen.is_ssl == cfg.is_ssl and frozen.sendfile == cfg.sendfile
    assert frozen.forwarded_allow_networks() == cfg.forwarded_allow_networks()


# -- live ------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]


COUNTER_APP = """\
import itertools, os, time

_count = itertools.count(1)
VERSION = "v1"


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/slow":
        time.sleep(1.0)
    elif path == "/spin":  # 2 ms of CPU: the loop is not given back meanwhile
        end = time.perf_counter() + 0.002
        while time.perf_counter() < end:
            pass
    if path == "/version":
        body = VERSION.encode()
    elif path == "/pid":
        body = str(os.getpid()).encode()
    else:
        body = str(next(_count)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
"""


class _Proc:
    """A server subprocess on a free port, stopped by its pid."""

    def __init__(self, cmd: list[str], cwd: Path, port: int, log: Path) -> None:
        self.port = port
        self.log_path = log
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=child_env(DIGWEBS_SECRET_KEY="k" * 64),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited: {self.log()}")
            try:
                self.get("/version")
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"server not ready: {self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def get(self, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "counter_app.py").write_text(COUNTER_APP)
    return tmp_path


@pytest.fixture
def servers() -> t.Iterator[list[_Proc]]:
    started: list[_Proc] = []
    yield started
    for proc in started:
        proc.stop()


def _serve_cmd(port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "digwebs_cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "gevent",
        "--processes",
        "1",
        "--env",
        "production",
        "--app",
        "counter_app:app",
        *extra,
    ]


def _gunicorn_cmd(port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "-k",
        WORKER,
        "-w",
        "1",
        "--no-control-socket",
        *extra,
        "counter_app:app",
    ]


def _recv_responses(sock: socket.socket, count: int, timeout: float) -> list[bytes]:
    """Read *count* Content-Length responses off *sock*; their bodies."""
    sock.settimeout(timeout)
    buf = b""
    bodies: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < count and time.monotonic() < deadline:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode("latin-1").lower()
            length = int(head.split("content-length:")[1].split("\r\n")[0])
            if len(buf) >= end + 4 + length:
                bodies.append(buf[end + 4 : end + 4 + length])
                buf = buf[end + 4 + length :]
                continue
        data = sock.recv(65536)
        if not data:
            break
        buf += data
    return bodies


pytestmark_live = pytest.mark.slow


@pytestmark_live
def test_a_pipelining_connection_does_not_starve_another(app_dir, servers, tmp_path):
    """200 pipelined 2 ms requests on one connection, then one request on another:
    the second is served after a few of the 200, not after all of them (gunicorn's
    keep-alive loop serves a connection's buffered requests without yielding:
    without the worker's yield it came after all 200)."""
    port = free_port()
    servers.append(_Proc(_serve_cmd(port, "--no-reload"), app_dir, port, tmp_path / "s.log"))
    with (
        socket.create_connection(("127.0.0.1", port)) as other,
        socket.create_connection(("127.0.0.1", port)) as greedy,
    ):
        time.sleep(0.3)  # both accepted, both greenlets waiting to read
        greedy.sendall(b"GET /spin HTTP/1.1\r\nHost: h\r\n\r\n" * 200)
        time.sleep(0.05)  # the greedy connection is being served
        other.sendall(b"GET /n HTTP/1.1\r\nHost: h\r\n\r\n")
        (mine,) = _recv_responses(other, 1, 10)
        greedy_bodies = _recv_responses(greedy, 200, 20)
    assert len(greedy_bodies) == 200
    first = int(greedy_bodies[0])
    # counted from the greedy connection's first request
    assert int(mine) - first < 100, (int(mine), first)


@pytestmark_live
def test_max_requests_with_jitter_restarts_the_worker(app_dir, servers, tmp_path):
    """``max_requests`` 10 + jitter up to 5, requests at ~25/s: every one answered,
    the worker replaced, none before its 10th request. (A worker past its limit
    stops accepting at its next 1 s check, as gunicorn's: a few more get in.)"""
    port = free_port()
    servers.append(
        _Proc(
            _gunicorn_cmd(port, "--max-requests", "10", "--max-requests-jitter", "5"),
            app_dir,
            port,
            tmp_path / "g.log",
        )
    )
    pids: list[bytes] = []
    for _ in range(100):
        for _attempt in range(50):  # while one worker exits, the next is booting
            try:
                status, body = servers[-1].get("/pid", timeout=5)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"no answer: {servers[-1].log()}")
        assert status == 200
        pids.append(body)
        time.sleep(0.04)
    runs = [len(list(group)) for _, group in itertools.groupby(pids)]
    assert len(runs) >= 2, runs
    assert "Autorestarting worker after current request" in servers[-1].log()
    # the readiness probe was the first worker's first request
    assert runs[0] >= 9 and all(n >= 10 for n in runs[1:-1]), runs


@pytestmark_live
def test_an_idle_keep_alive_connection_is_closed_after_the_timeout(app_dir, servers, tmp_path):
    port = free_port()
    servers.append(
        _Proc(_gunicorn_cmd(port, "--keep-alive", "1"), app_dir, port, tmp_path / "k.log")
    )
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /n HTTP/1.1\r\nHost: h\r\n\r\n")
        assert len(_recv_responses(sock, 1, 5)) == 1
        start = time.monotonic()
        sock.settimeout(10)
        assert sock.recv(100) == b""  # closed by the server
        waited = time.monotonic() - start
    assert 0.5 <= waited <= 5, waited
    # and the same connection served a second request within the timeout first
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /n HTTP/1.1\r\nHost: h\r\n\r\n")
        assert len(_recv_responses(sock, 1, 5)) == 1
        time.sleep(0.3)
        sock.sendall(b"GET /n HTTP/1.1\r\nHost: h\r\n\r\n")
        assert len(_recv_responses(sock, 1, 5)) == 1


@pytestmark_live
def test_requests_in_flight_finish_at_sigterm(app_dir, servers, tmp_path):
    """30 overlapping 1 s requests, SIGTERM after 0.3 s: all 30 answered 200."""
    port = free_port()
    server = _Proc(
        _serve_cmd(port, "--no-reload", "--graceful-timeout", "10"),
        app_dir,
        port,
        tmp_path / "t.log",
    )
    servers.append(server)
    results: list[t.Any] = []

    def one() -> None:
        try:
            results.append(server.get("/slow", timeout=15)[0])
        except OSError as exc:
            results.append(repr(exc))

    threads = [threading.Thread(target=one, daemon=True) for _ in range(30)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    os.kill(server.proc.pid, signal.SIGTERM)
    for thread in threads:
        thread.join(20)
    assert results == [200] * 30, results
    assert server.proc.wait(timeout=15) == 0


@pytestmark_live
def test_reload_under_gevent(app_dir, servers, tmp_path):
    port = free_port()
    cmd = _serve_cmd(port, "--reload")
    cmd[cmd.index("production")] = "development"
    server = _Proc(cmd, app_dir, port, tmp_path / "r.log")
    servers.append(server)
    assert server.get("/version")[1] == b"v1"
    source = (app_dir / "counter_app.py").read_text()
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline:
        (app_dir / "counter_app.py").write_text(source.replace('"v1"', '"v2"'))
        try:
            if server.get("/version", timeout=5)[1] == b"v2":
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"no reload: {server.log()}")


def _read_all(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes (bounded by *timeout*), and when it closed."""
    sock.settimeout(timeout)
    data = b""
    start = time.monotonic()
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data, time.monotonic() - start


@pytestmark_live
def test_a_slow_head_gets_the_header_timeout_then_408(app_dir, servers, tmp_path):
    """A head begun but not finished: kept past --keepalive (2 s), answered 408 at
    --header-timeout (3 s). (gunicorn's wait: closed at 2 s without an answer.)"""
    port = free_port()
    servers.append(
        _Proc(
            _serve_cmd(port, "--no-reload", "--header-timeout", "3"),
            app_dir,
            port,
            tmp_path / "h.log",
        )
    )
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /n HTTP/1.1\r\nHost: h\r\n")
        data, waited = _read_all(sock, 10)
    assert data.startswith(b"HTTP/1.1 408 "), (data, waited)
    assert 2.5 <= waited <= 6, waited
    assert servers[-1].get("/n")[0] == 200  # and the server is fine


@pytestmark_live
def test_a_head_in_pieces_within_the_header_timeout_is_served(app_dir, servers, tmp_path):
    """Pieces over 3 s, longer than --keepalive (2 s), within --header-timeout (5 s)."""
    port = free_port()
    servers.append(
        _Proc(
            _serve_cmd(port, "--no-reload", "--header-timeout", "5"),
            app_dir,
            port,
            tmp_path / "p.log",
        )
    )
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for piece in (b"GET /n HTTP/1.1\r\n", b"Host: h\r\n", b"X-A: 1\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(1.0)
        assert len(_recv_responses(sock, 1, 5)) == 1


@pytestmark_live
def test_an_idle_connection_still_closes_at_the_keepalive(app_dir, servers, tmp_path):
    """Nothing sent: closed after --keepalive (2 s) without an answer, not at
    --header-timeout (10 s)."""
    port = free_port()
    servers.append(_Proc(_serve_cmd(port, "--no-reload"), app_dir, port, tmp_path / "i.log"))
    with socket.create_connection(("127.0.0.1", port)) as sock:
        data, waited = _read_all(sock, 12)
    assert data == b"" and 1.5 <= waited <= 5, (data, waited)
