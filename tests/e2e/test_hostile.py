"""Hostile input over real HTTP: raw sockets against ``digwebs serve``.

A generated project, with tests/apps/hostile/hostile.py added as a
controller, runs under each worker model (one server per model for the whole
module, in production mode, one worker process, bound to 127.0.0.1 on a free
port, stopped by its pid). Every case of :mod:`hostile_cases` is sent as raw
bytes; the test then checks, besides the case's own expectations:

* the status (a 4xx for the client's mistake, or the correct 2xx/3xx);
* no traceback or internal detail (``Traceback``, ``File "``, module paths,
  exception class names) in any body;
* no ERROR line and no traceback in the server log written meanwhile;
* no worker restart: the worker pids (the children of the master) are the
  same after the case as before;
* a normal request is still answered afterwards.

Every socket read is bounded (5 s), so a server that waits for bytes that
never come fails the case instead of hanging the suite.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
import typing as t
from pathlib import Path
from urllib.parse import unquote_to_bytes

import hostile_cases as hc
import pytest

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
APPS = HERE.parent / "apps"
READ_TIMEOUT = 5.0
SECRET_KEY = "hostile-suite-secret-key-0123456789abcdef"

# In a body: what only a traceback or an internal error message shows.
_LEAKS = re.compile(
    rb"Traceback|File \"|site-packages|\w+\.py\b|digwebs[./]\w+\.|gunicorn\.\w+|"
    rb"\b[A-Z]\w*(?:Error|Exception)\b|\bobject at 0x"
)


def _exception_names() -> frozenset[bytes]:
    """CamelCase names of the exception classes a worker may raise (``InvalidChunkSize``)."""
    import importlib

    for module in ("gunicorn.http.errors", "multipart", "json", "jinja2", "digwebs"):
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    names, todo = set(), [BaseException]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if re.fullmatch(r"[A-Z][a-z]+[A-Z]\w*", cls.__name__):
            names.add(cls.__name__.encode())
    return frozenset(names)


_EXCEPTION_NAMES = re.compile(rb"\b(?:" + rb"|".join(sorted(_exception_names())) + rb")\b")
# In the log: an ERROR line or a traceback. gunicorn's "[WARNING] Invalid
# request from ip=..." for a client's mistake is fine.
_LOG_ERRORS = re.compile(
    r"\[ERROR\]|Traceback \(most recent call last\)|^Exception on |Error handling request|"
    r"WORKER TIMEOUT|Worker \(pid:\d+\) was sent|Booting worker",
    re.MULTILINE,
)
# Whatever the case: gunicorn must never be the one to answer an app's mistake.
_LOG_NEVER = re.compile(r"Error handling request|WORKER TIMEOUT|Worker \(pid:\d+\) was sent")


# -- the raw client -----------------------------------------------------------------


class Exchange(t.NamedTuple):
    replies: list[hc.Reply]
    raw: bytes
    #: how the connection ended: "eof", "reset", "timeout", or "send-failed"
    ended: str
    leftover: bytes


def exchange(port: int, case: hc.Case, timeout: float = READ_TIMEOUT) -> Exchange:
    """Send the case's bytes on one connection and read until the server closes it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    ended = "eof"
    data = bytearray()
    try:
        try:
            for item in case.send:
                if isinstance(item, float):
                    time.sleep(item)
                else:
                    sock.sendall(item)
            if case.shutdown:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            ended = "send-failed"  # the server may have answered and closed already
        deadline = time.monotonic() + 2 * timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                ended = "reset"
                break
            except TimeoutError:
                ended = "timeout"
                break
            if not chunk:
                break
            data += chunk
        else:
            ended = "timeout"
    finally:
        sock.close()
    replies, leftover = parse_replies(bytes(data), head=case.head)
    return Exchange(replies, bytes(data), ended, leftover)


def parse_replies(data: bytes, head: bool = False) -> tuple[list[hc.Reply], bytes]:
    """Split what came back into responses (1xx interim answers skipped)."""
    replies: list[hc.Reply] = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        head_lines = data[:end].decode("latin-1").split("\r\n")
        match = re.match(r"HTTP/\d\.\d (\d{3})(?: (.*))?$", head_lines[0])
        if not match:
            break
        headers = []
        for line in head_lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        status = int(match.group(1))
        rest = data[end + 4 :]
        lower = {k.lower(): v for k, v in headers}
        if 100 <= status < 200:
            data = rest
            continue
        if head or status in (204, 304):
            body, data = b"", rest
        elif "chunked" in lower.get("transfer-encoding", "").lower():
            body, data = _dechunk(rest)
        elif "content-length" in lower:
            length = int(lower["content-length"])
            body, data = rest[:length], rest[length:]
        else:
            body, data = rest, b""
        replies.append(hc.Reply(status, match.group(2) or "", headers, body))
    return replies, data


def _dechunk(data: bytes) -> tuple[bytes, bytes]:
    out = bytearray()
    while True:
        line, sep, rest = data.partition(b"\r\n")
        if not sep:
            return bytes(out), b""
        size = int(line.split(b";")[0], 16)
        if size == 0:
            trailer_end = rest.find(b"\r\n")
            return bytes(out), rest[trailer_end + 2 :] if trailer_end >= 0 else b""
        out += rest[:size]
        data = rest[size + 2 :]


# -- the servers ----------------------------------------------------------------------


def _e2e_conftest(config: pytest.Config) -> t.Any:
    """tests/e2e/conftest.py as loaded by pytest (its Server class is reused)."""
    path = HERE / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "").resolve() == path:
            return plugin
    raise RuntimeError("tests/e2e/conftest.py is not loaded")


def worker_pids(master: int) -> set[int]:
    """The pids of the master's children (its gunicorn workers)."""
    children = Path(f"/proc/{master}/task/{master}/children")
    try:
        return {int(p) for p in children.read_text().split()}
    except OSError:
        pass
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command may hold spaces and parentheses: the ppid follows the last ")"
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == master:
            found.add(int(entry))
    return found


class HostileServer:
    """One ``digwebs serve`` of the hostile project, shared by a model's cases."""

    def __init__(self, server: t.Any, model: str) -> None:
        self.server = server
        self.model = model
        self.port: int = server.port
        self.workers = worker_pids(server.pid)
        #: the workers the server started with, for the whole run's comparison
        self.initial = frozenset(self.workers)

    def log_size(self) -> int:
        return len(self.server.log())

    def log_since(self, offset: int) -> str:
        return str(self.server.log()[offset:])

    def answers(self, timeout: float = 10.0) -> str | None:
        """None when ``GET /h/ok`` is answered normally, else what went wrong."""
        try:
            status, _, body = self.server.get("/h/ok", timeout=timeout)
        except OSError as exc:
            return f"normal request failed afterwards: {exc!r}"
        if (status, body) != (200, b"ok"):
            return f"normal request afterwards: {status} {body[:100]!r}"
        return None

    def restarted(self) -> str | None:
        """None when the workers are the same processes as before, else which changed.

        After a change the new pids become the reference, so only the case
        that caused a restart reports it.
        """
        now = worker_pids(self.server.pid)
        if now == self.workers:
            return None
        before, self.workers = self.workers, now
        return f"worker restart: pids {sorted(before)} -> {sorted(now)}"


@pytest.fixture(scope="module")
def hostile_project(generated_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated project with the hostile controller and a few traps in static/."""
    root = tmp_path_factory.mktemp("hostile") / "site"
    shutil.copytree(generated_project, root)
    shutil.copy(APPS / "hostile" / "hostile.py", root / "controllers" / "hostile.py")
    # a dotfile and a symlink out of the folder: neither may be served
    (root / "static" / ".secret").write_text("hostile-secret\n")
    (root / "static" / "link.py").symlink_to(root / "wsgiapp.py")
    return root


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, hostile_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[HostileServer]:
    """``digwebs serve --workers <model>`` of the hostile project (one per model)."""
    model = request.param
    conftest = _e2e_conftest(request.config)
    log = tmp_path_factory.mktemp(f"log-{model}") / "server.log"
    proc = conftest.Server(
        ["--workers", model, "--processes", "1", "--env", "production"],
        hostile_project,
        log,
        DIGWEBS_SECRET_KEY=SECRET_KEY,
        DIGWEBS_MAX_CONTENT_LENGTH=str(hc.APP_LIMIT),
        # The loopback client is a trusted proxy: forged X-Forwarded-* cases
        # reach the proxy rewrite instead of being ignored at the door.
        DIGWEBS_TRUSTED_PROXIES='["127.0.0.1"]',
    )
    try:
        proc.wait_ready("/h/ok")
        # the workers have booted once the first request is answered
        yield HostileServer(proc, model)
    finally:
        proc.stop(timeout=15)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One server per worker model; ids are ``<model>-<case>`` (``sync-bad-chunk-zz``)."""
    if "server" in metafunc.fixturenames:
        # first, so that the model leads the id and pytest groups by it
        metafunc.parametrize("server", hc.MODELS, indirect=True, scope="module")
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", hc.CASES, ids=[c.id for c in hc.CASES])


# -- the cases --------------------------------------------------------------------------


def _status_ok(case: hc.Case, status: int | None) -> bool:
    if isinstance(case.status, frozenset):
        return status in case.status
    return status == case.status


def _sent_text(case: hc.Case) -> bytes:
    """The case's bytes, raw and percent-decoded once and twice."""
    raw = b"".join(item for item in case.send if isinstance(item, bytes))
    once = unquote_to_bytes(raw)
    return raw + b"\n" + once + b"\n" + unquote_to_bytes(once)


def _describe(result: Exchange) -> str:
    if not result.replies:
        return f"no response ({result.ended}, {len(result.raw)} bytes: {result.raw[:120]!r})"
    first = result.replies[0]
    return f"{first.status} {first.reason} body={first.body[:160]!r}"


def test_hostile_case(server: HostileServer, case: hc.Case) -> None:
    offset = server.log_size()
    result = exchange(server.port, case)
    problems: list[str] = []

    status = result.replies[0].status if result.replies else None
    if not _status_ok(case, status):
        problems.append(f"status {status}, expected {case.status}")
    if result.ended == "timeout":
        problems.append(f"no end of the exchange within {READ_TIMEOUT:g} s")
    expected_replies = case.replies_under(server.model)
    if status is not None and len(result.replies) != expected_replies:
        problems.append(f"{len(result.replies)} responses, expected {expected_replies}")
    sent = _sent_text(case)
    for reply in result.replies:
        if not case.leak_check:
            continue
        # what the client sent may come back (a 404 page shows the path)
        leaks = [
            m.group(0)
            for pattern in (_LEAKS, _EXCEPTION_NAMES)
            for m in pattern.finditer(reply.body)
            if m.group(0) not in sent
        ]
        if leaks:
            problems.append(f"internal detail in the body: {leaks[0]!r}")
    if result.replies and _status_ok(case, status):
        for check in case.checks:
            try:
                check(result.replies[0])
            except AssertionError as exc:
                problems.append(f"{getattr(check, '__name__', 'check')}: {exc}")
            except Exception as exc:  # a check that cannot even read the reply
                problems.append(f"{getattr(check, '__name__', 'check')}: {exc!r}")

    alive = server.answers()
    if alive:
        problems.append(alive)
    restart = server.restarted()
    if restart:
        problems.append(restart)
    log = server.log_since(offset)
    errors = (_LOG_NEVER if case.error_log_ok else _LOG_ERRORS).findall(log)
    if errors:
        lines = [line for line in log.splitlines() if line.strip()]
        problems.append(f"log: {errors[0]!r} ... last line: {lines[-1][:200]!r}")
    for needle in case.log_has:
        if needle not in log:
            problems.append(f"log does not name {needle!r}")

    report = os.environ.get("HOSTILE_REPORT")
    if report:  # one line per case, for triage: HOSTILE_REPORT=/tmp/hostile.tsv
        with open(report, "a") as fh:
            fh.write(
                f"{server.model}-{case.id}\t{case.item}\t{_describe(result)[:200]!r}"
                f"\t{'; '.join(problems) or 'ok'}\n"
            )
    assert not problems, f"[{case.item}] observed {_describe(result)}: " + "; ".join(problems)


# -- slow clients ----------------------------------------------------------------------


def _slow_request(port: int, part: str, duration: float, out: dict[str, t.Any]) -> None:
    """Send a request's headers (or its body) a byte at a time over about *duration* s."""
    if part == "headers":
        fast, slow = b"", hc.request("GET", "/h/ok", ["X-Slow: " + "s" * 20])
    else:
        body = b"b" * 20
        fast, slow = hc.request("POST", "/h/body", length=len(body)), body
    pause = duration / len(slow)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT) as sock:
            sock.sendall(fast)
            for i in range(len(slow)):
                sock.sendall(slow[i : i + 1])
                time.sleep(pause)
            raw = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                raw += chunk
        out["replies"] = parse_replies(raw)[0]
    except OSError as exc:
        out["error"] = repr(exc)


@pytest.mark.parametrize("part", ["headers", "body"])
def test_slow_client(server: HostileServer, part: str) -> None:
    """A client sending its headers (or body) a byte at a time, for about 1.5 s, is
    served; under gevent nobody else waits for it meanwhile. (gunicorn's gevent
    worker drops, without an answer, a client whose headers take longer than the
    keep-alive time, 2 s in digwebs serve: hence 1.5 s.)"""
    offset = server.log_size()
    out: dict[str, t.Any] = {}
    thread = threading.Thread(target=_slow_request, args=(server.port, part, 1.5, out), daemon=True)
    thread.start()
    time.sleep(0.3)  # the slow client is connected and sending
    if server.model == "gevent":
        for _ in range(5):
            start = time.monotonic()
            problem = server.answers(timeout=READ_TIMEOUT)
            elapsed = time.monotonic() - start
            assert problem is None, problem
            assert elapsed < 1.0, f"a normal request waited {elapsed:.2f} s behind a slow client"
            time.sleep(0.1)
        assert thread.is_alive(), "the slow client finished too early to prove anything"
    thread.join(timeout=3 * READ_TIMEOUT)
    assert not thread.is_alive(), "the slow client got no answer"
    assert "error" not in out, out
    expected = b"ok" if part == "headers" else b'{"length":20}'
    assert [(r.status, r.body) for r in out["replies"]] == [(200, expected)], out["replies"]
    assert server.answers() is None
    assert server.restarted() is None
    assert not _LOG_ERRORS.search(server.log_since(offset)), server.log_since(offset)


def test_stalled_client_that_hangs_up(server: HostileServer) -> None:
    """Half a request, a pause, a hang-up: no answer owed, no error logged."""
    offset = server.log_size()
    with socket.create_connection(("127.0.0.1", server.port), timeout=READ_TIMEOUT) as sock:
        sock.sendall(b"POST /h/body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nab")
        time.sleep(1.0)
    time.sleep(0.2)
    assert server.answers() is None
    assert server.restarted() is None
    log = server.log_since(offset)
    assert not _LOG_ERRORS.search(log), log


def test_same_workers_after_the_whole_run(server: HostileServer) -> None:
    """After every case of a model, the workers are still the ones it started with."""
    now = worker_pids(server.server.pid)
    assert server.initial and now == server.initial, (
        f"workers {sorted(server.initial)} at start, {sorted(now)} now"
    )


def test_corpus_size() -> None:
    """Issue 9 asks for at least 100 hostile cases per worker model."""
    assert len(hc.CASES) >= 100, len(hc.CASES)
