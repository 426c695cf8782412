"""Fixtures for the live ``digwebs serve`` tests.

Servers run as subprocesses (``python -m digwebs_cli serve ...``) bound to
127.0.0.1 on a free port, with their output in a log file. Each one is
stopped by its own process id: SIGTERM, a bounded wait, SIGKILL as a last
resort. Clients only ever talk to 127.0.0.1, with bounded request counts and
timeouts.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest
from _helpers import child_env, free_port, new_project

REPO = Path(__file__).resolve().parents[2]
APPS = REPO / "tests" / "apps"


class Server:
    """One ``digwebs serve`` subprocess."""

    def __init__(self, args: t.Sequence[str], cwd: Path, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.cwd = cwd
        self.log_path = log_path
        self.args = ["--host", "127.0.0.1", "--port", str(self.port), *args]
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "digwebs_cli", "serve", *self.args],
            cwd=cwd,
            env=child_env(**env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, like a terminal job
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, path: str = "/", timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.get(path, timeout=2.0)
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"server not ready after {timeout} s:\n{self.log()}")

    def get(self, path: str, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 40.0) -> int:
        """SIGTERM, wait, and as a last resort SIGKILL the whole group."""
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self._log.close()
        return int(self.proc.returncode)


@pytest.fixture
def start_server(tmp_path) -> t.Iterator[t.Callable[..., Server]]:
    servers: list[Server] = []

    def start(args: t.Sequence[str], cwd: Path, **env: str) -> Server:
        server = Server(args, cwd, tmp_path / f"server-{len(servers)}.log", **env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(timeout=15)


@pytest.fixture(scope="session")
def generated_project(tmp_path_factory) -> Path:
    """A project made by ``digwebs new`` (once per session; copy it before changing it)."""
    base = tmp_path_factory.mktemp("generated")
    return new_project(base, tmp_path_factory.mktemp("home"))


@pytest.fixture
def project(generated_project, tmp_path) -> Path:
    """A fresh copy of the generated project, with the probe controller added."""
    root = tmp_path / "site"
    shutil.copytree(generated_project, root)
    shutil.copy(APPS / "probe" / "probe.py", root / "controllers" / "probe.py")
    return root


# -- an asyncio HTTP client for bursts of overlapping requests ----------------


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


async def _fetch(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    return status, body


def burst(
    port: int,
    paths: t.Sequence[str],
    timeout: float = 60.0,
    during: t.Callable[[], None] | None = None,
    after: float = 0.5,
) -> tuple[list[t.Any], float]:
    """Send every request at once; return (status, body) or the exception of each, and the time.

    ``during`` (a SIGTERM, say) is called ``after`` seconds in, while they run.
    """

    async def main() -> tuple[list[t.Any], float]:
        start = time.monotonic()
        gathered = asyncio.gather(
            *(_fetch(port, path, timeout) for path in paths), return_exceptions=True
        )
        if during is not None:
            await asyncio.sleep(after)
            during()
        results = await gathered
        return list(results), time.monotonic() - start

    return asyncio.run(main())


@pytest.fixture
def http_burst() -> t.Callable[..., tuple[list[t.Any], float]]:
    """``http_burst(port, paths)``: all requests overlapping, over real sockets."""
    return burst


@pytest.fixture(scope="module")
def start_module_server(tmp_path_factory) -> t.Iterator[t.Callable[..., Server]]:
    """``start(args, cwd, port=None, **env)``: a :class:`Server` kept for the whole module.

    For a deployment several tests share (servers behind nginx). ``port``
    pins the address, for an upstream written in a config file and for an
    instance started again where it was: the last ``--port`` on a command
    line wins. Every server still running at the end is stopped by its pid.
    """
    servers: list[Server] = []
    logs = tmp_path_factory.mktemp("servers")

    def start(args: t.Sequence[str], cwd: Path, port: int | None = None, **env: str) -> Server:
        pinned = [] if port is None else ["--port", str(port)]
        server = Server([*pinned, *args], cwd, logs / f"server-{len(servers)}.log", **env)
        if port is not None:
            server.port = port
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(timeout=15)
