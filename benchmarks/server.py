#!/usr/bin/env python3
"""Server benchmark: ``digwebs serve`` against gunicorn (stock workers), gevent's pywsgi,
Flask and granian.

For each load (row), each contender is started on 127.0.0.1, driven for a
bounded time, and stopped by its process id:

* ``raw``        -- ``gunicorn`` with the stock worker class of the row (``gevent``,
  ``gthread``, ``sync``) serving a hand-written WSGI app: the baseline of every ratio;
* ``raw-pywsgi`` -- ``gunicorn -k gevent_pywsgi`` (gevent's own server), raw app;
* ``flask``      -- ``gunicorn`` (stock worker class) serving the same routes in Flask;
* ``digwebs``    -- ``digwebs serve`` serving a digwebs project with the same routes
  (``--env production``: no access log, no blocking monitor);
* ``serve-raw``  -- ``digwebs serve`` serving the raw WSGI app: what the command's
  own worker costs, apart from the framework;
* ``granian``    -- granian (Rust) serving the raw app over WSGI, the limit for
  plaintext (a benchmark-only dependency: ``pip install granian``; skipped
  with a note when it is missing).

Throughput rows (wrk) give requests/s, p50, p99 and errors (socket errors
plus non-2xx answers) per contender, each one's ratio to ``raw`` as the
median of per-round ratios, and the server's own CPU time per request
(master and workers, from /proc) with raw's CPU per request divided by each
contender's ("cpu vs raw", 1.00 = as cheap as raw): on a shared, loaded
machine throughput moves with the neighbours' load, CPU per request much
less. Contenders are driven in interleaved rounds (order rotated each round).

=================  ==========================================  ===========================
row                load                                        digwebs must reach (issue 11)
=================  ==========================================  ===========================
plaintext-gevent   keep-alive, 50 connections, gevent, 1 proc  1.3 x raw, p99 <= 15 ms
plaintext-threads  50 connections, gthread 8 threads, 1 proc   0.95 x raw
plaintext-sync     50 connections, sync, 2 processes           0.95 x raw
io100-gevent       100 ms handler, 1000 connections, gevent    1.2 x raw, 0 errors
io1000-gevent      1 s handler, 5000 connections, gevent       90% of 5000/1 s, 0 errors
slow-<model>       10 slowloris connections (1 byte / 0.5 s,   threads: normal p99 < 100 ms
                   at most 10 s) beside wrk -c10 normal
                   traffic; sync, threads (8), gevent
memory-gevent      RSS of the worker holding 5,000 idle        <= 1.1 x raw, KB per
                   keep-alive connections (one request each)   connection
shutdown-<model>   40 overlapping 1 s requests, SIGTERM at     0 lost, every model
                   0.5 s, grace 5 s; lost = reset or closed
                   without an answer (a 503 is an answer)
=================  ==========================================  ===========================

Run:  .venv/bin/python benchmarks/server.py [--duration 4] [--rounds 5] [--row NAME ...]
                                             [--contender NAME ...] [--json out.json]
Needs wrk (Debian package: ``apt-get install -y wrk``) and Flask
(``pip install -e '.[bench]'``); gevent rows need ``pip install -e '.[gevent]'``.

The open-file limit is raised (to at most the hard limit): wrk, the
5,000-connection rows and the servers hold one descriptor per connection.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

WANTED_NOFILE = 20_000

# -- the apps (written to a temporary folder) --------------------------------

RAW_APP = """\
import time

HELLO = b"Hello, World!"


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/io100":
        time.sleep(0.1)
    elif path == "/io1000":
        time.sleep(1.0)
    elif path != "/plaintext":
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"not found"]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [HELLO]
"""

FLASK_APP = """\
import time

from flask import Flask

app = Flask(__name__)


@app.get("/plaintext")
def plaintext():
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.get("/io100")
def io100():
    time.sleep(0.1)
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.get("/io1000")
def io1000():
    time.sleep(1.0)
    return "Hello, World!", 200, {"Content-Type": "text/plain"}
"""

DIGWEBS_APP = """\
import os

from digwebs import Digwebs

app = Digwebs(root_path=os.path.dirname(os.path.abspath(__file__))).load()
"""

DIGWEBS_CONTROLLER = """\
import time

from digwebs import get


@get("/plaintext")
def plaintext():
    return "Hello, World!"


@get("/io100")
def io100():
    time.sleep(0.1)
    return "Hello, World!"


@get("/io1000")
def io1000():
    time.sleep(1.0)
    return "Hello, World!"
"""


def write_apps(folder: Path) -> None:
    (folder / "raw_app.py").write_text(RAW_APP)
    (folder / "flask_app.py").write_text(FLASK_APP)
    project = folder / "digwebs_project"
    (project / "controllers").mkdir(parents=True)
    (project / "wsgiapp.py").write_text(DIGWEBS_APP)
    (project / "controllers" / "bench.py").write_text(DIGWEBS_CONTROLLER)


# -- rows -----------------------------------------------------------------------


@dataclass
class Row:
    name: str
    title: str
    path: str
    workers: str  # digwebs worker model
    processes: int
    connections: int  # wrk connections
    threads: int = 0  # gthread threads
    worker_connections: int = 1000
    duration_factor: float = 1.0
    min_duration: float = 0.0
    contenders: tuple[str, ...] = ("raw", "flask", "digwebs", "serve-raw")
    ratio_target: float | None = None  # digwebs / raw
    ceiling: float | None = None  # requests/s if every connection is always busy
    ceiling_target: float | None = None
    p99_max_ms: float | None = None
    zero_errors: bool = False
    kind: str = "wrk"  # wrk | slow | memory | shutdown
    keepalive: float | None = None  # seconds; None: each server's default


GEVENT_CONTENDERS = ("raw", "raw-pywsgi", "flask", "digwebs", "serve-raw", "granian")

ROWS = [
    Row(
        "plaintext-gevent",
        "plaintext, keep-alive, 50 connections, gevent",
        "/plaintext",
        "gevent",
        1,
        50,
        contenders=GEVENT_CONTENDERS,
        ratio_target=1.3,
        p99_max_ms=15.0,
    ),
    Row(
        "plaintext-threads",
        "plaintext, gthread 8 threads",
        "/plaintext",
        "threads",
        1,
        50,
        threads=8,
        ratio_target=0.95,
    ),
    Row(
        "plaintext-sync",
        "plaintext, sync, 2 processes",
        "/plaintext",
        "sync",
        2,
        50,
        ratio_target=0.95,
    ),
    Row(
        "io100-gevent",
        "100 ms I/O handler, 1,000 connections, gevent",
        "/io100",
        "gevent",
        1,
        1000,
        worker_connections=2000,
        contenders=("raw", "raw-pywsgi", "flask", "digwebs"),
        ratio_target=1.2,
        ceiling=1000 / 0.1,
        zero_errors=True,
    ),
    Row(
        "io1000-gevent",
        "1 s I/O handler, 5,000 connections, gevent",
        "/io1000",
        "gevent",
        1,
        5000,
        worker_connections=6000,
        duration_factor=2.0,
        min_duration=20.0,
        contenders=("digwebs",),
        ceiling=5000 / 1.0,
        ceiling_target=0.90,
        zero_errors=True,
    ),
    *(
        Row(
            f"slow-{model}",
            f"10 slowloris connections beside wrk -c10, {model}",
            "/plaintext",
            model,
            2 if model == "sync" else 1,
            10,
            threads=8,
            contenders=("raw", "digwebs"),
            p99_max_ms=100.0 if model == "threads" else None,
            kind="slow",
        )
        for model in ("sync", "threads", "gevent")
    ),
    Row(
        "memory-gevent",
        "worker RSS with 5,000 idle keep-alive connections, gevent",
        "/plaintext",
        "gevent",
        1,
        5000,
        worker_connections=6000,
        contenders=("raw", "raw-pywsgi", "digwebs"),
        ratio_target=1.1,  # KB per connection, digwebs / raw, at most
        kind="memory",
        keepalive=120.0,
    ),
    *(
        Row(
            f"shutdown-{model}",
            f"40 overlapping 1 s requests, SIGTERM at 0.5 s, grace 5 s, {model}",
            "/io1000",
            model,
            2 if model == "sync" else 1,
            40,
            threads=4,
            contenders=("raw", "digwebs"),
            kind="shutdown",
        )
        for model in ("sync", "threads", "gevent")
    ),
]

#: every contender a row may name
CONTENDERS = ("raw", "raw-pywsgi", "flask", "digwebs", "serve-raw", "granian")
SHUTDOWN_REQUESTS = 40
SHUTDOWN_AT = 0.5
SHUTDOWN_GRACE = 5
SLOW_CLIENTS = 10
SLOW_BOUND = 10.0  # seconds a slowloris connection trickles at most
MEMORY_CONNECTIONS = 5000

GUNICORN_CLASS = {"gevent": "gevent", "threads": "gthread", "sync": "sync"}


# -- processes --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(row: Row | None = None) -> dict[str, str]:
    """The servers' environment: ours without DIGWEBS_*, this checkout importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGWEBS_")}
    if row is not None and row.keepalive is not None:
        # digwebs serve has no --keepalive option: the [server] key's override
        env["DIGWEBS_SERVER__KEEPALIVE"] = str(int(row.keepalive))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    # production refuses to start without a real secret
    env["DIGWEBS_SECRET_KEY"] = secrets.token_hex(32)
    return env


def granian_path() -> str | None:
    """The granian executable beside this Python, or on PATH (None: not installed)."""
    beside = Path(sys.executable).parent / "granian"
    return str(beside) if beside.exists() else shutil.which("granian")


def command(contender: str, row: Row, port: int, apps: Path) -> tuple[list[str], Path]:
    """The command line of *contender* for *row* on *port*, and its working folder."""
    grace = SHUTDOWN_GRACE if row.kind == "shutdown" else 30
    if contender in ("digwebs", "serve-raw"):
        cmd = [
            sys.executable,
            "-m",
            "digwebs_cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--env",
            "production",
            "--workers",
            row.workers,
            "--processes",
            str(row.processes),
            "--graceful-timeout",
            str(grace),
        ]
        if row.workers == "threads":
            cmd += ["--threads", str(row.threads)]
        if row.workers != "sync":
            cmd += ["--connections", str(row.worker_connections)]
        if contender == "serve-raw":  # digwebs serve's own cost, without the framework
            return cmd + ["--app", "raw_app:app"], apps
        return cmd, apps / "digwebs_project"
    if contender == "granian":
        exe = granian_path()
        if exe is None:
            raise RuntimeError("granian is not installed (pip install granian): skipped")
        cmd = [exe, "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--workers", str(row.processes), "--log-level", "warning", "raw_app:app"]
        return cmd, apps
    module = {"raw": "raw_app:app", "raw-pywsgi": "raw_app:app", "flask": "flask_app:app"}[
        contender
    ]
    worker_class = "gevent_pywsgi" if contender == "raw-pywsgi" else GUNICORN_CLASS[row.workers]
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        worker_class,
        "--workers",
        str(row.processes),
        "--log-level",
        "warning",
        "--no-control-socket",
        "--graceful-timeout",
        str(grace),
        "--backlog",
        str(max(2048, row.worker_connections)),
    ]
    if row.keepalive is not None:
        cmd += ["--keep-alive", str(int(row.keepalive))]
    if row.workers == "threads":
        cmd += ["--threads", str(row.threads)]
    if row.workers != "sync":
        cmd += ["--worker-connections", str(row.worker_connections)]
    return cmd + [module], apps


def wait_ready(proc: subprocess.Popen[bytes], port: int, path: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/plaintext")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not ready after 30 s: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server by its process id: SIGTERM, bounded wait, SIGKILL."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a server: its master and worker processes (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(p: int) -> list[str] | None:
        try:
            text = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            return None
        return text[text.rindex(")") + 2 :].split()

    total = 0.0
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != pid:
            fields = stat(int(entry))
            if fields is not None and int(fields[1]) == pid:  # ppid
                pids.append(int(entry))
    for p in pids:
        fields = stat(p)
        if fields is not None:
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


# -- wrk ---------------------------------------------------------------------------


@dataclass
class Result:
    row: str
    contender: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    requests: int = 0
    error_detail: str = ""
    failed: str = ""
    checks: list[str] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)  # requests/s of each round
    ratio_to_raw: float | None = None  # median of the per-round ratios
    cpu_us: float = 0.0  # server CPU time per request (master + workers)
    cpu_ratio: float | None = None  # raw's CPU per request / this one's
    # slow rows: how the slowloris connections ended ("408 5, closed 5")
    slow_detail: str = ""
    # memory rows
    rss_before_kb: int = 0
    rss_after_kb: int = 0
    kb_per_conn: float | None = None
    held: int = 0  # connections still open when RSS was read
    # shutdown rows
    answered: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    lost: int | None = None


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str, result: Result) -> None:
    if m := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result.rps = float(m.group(1))
    if m := re.search(r"(\d+) requests in", output):
        result.requests = int(m.group(1))
    for pct, attr in (("50%", "p50_ms"), ("99%", "p99_ms")):
        if m := re.search(rf"^\s+{re.escape(pct)}\s+(\S+)", output, re.M):
            setattr(result, attr, _ms(m.group(1)))
    details = []
    if m := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        counts = dict(
            zip(("connect", "read", "write", "timeout"), map(int, m.groups()), strict=True)
        )
        result.errors += sum(counts.values())
        details += [f"{k} {v}" for k, v in counts.items() if v]
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        result.errors += int(m.group(1))
        details.append(f"non-2xx {m.group(1)}")
    result.error_detail = ", ".join(details)


def run_wrk(port: int, row: Row, duration: float, wrk_threads: int) -> str:
    threads = min(wrk_threads, row.connections)
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{row.connections}",
        f"-d{int(round(duration))}s",
        "--latency",
        "--timeout",
        "10s",
        f"http://127.0.0.1:{port}{row.path}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def start_server(
    contender: str, row: Row, apps: Path, logs: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    cmd, cwd = command(contender, row, port, apps)
    log = logs / f"{row.name}-{contender}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=server_env(row),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_ready(proc, port, row.path, log)
    except Exception:
        stop(proc)
        raise
    return proc, port


def run_row(
    row: Row,
    contenders: list[str],
    apps: Path,
    duration: float,
    rounds: int,
    wrk_threads: int,
    logs: Path,
) -> dict[str, Result]:
    """Start every contender, then drive them in turn, round after round.

    Interleaving rounds (in rotating order) spreads any slow drift of a shared
    machine over all contenders; each figure is the median over the rounds,
    and the ratio to raw is the median of the per-round ratios.
    """
    results = {c: Result(row.name, c) for c in contenders}
    servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    per_round: dict[str, list[Result]] = {c: [] for c in contenders}
    try:
        for c in contenders:
            try:
                servers[c] = start_server(c, row, apps, logs)
            except Exception as exc:
                results[c].failed = str(exc).splitlines()[0][:200]
        live = [c for c in contenders if c in servers]
        if row.ceiling is None:  # warm up (not for the slow-handler rows: no need)
            warm = Row(**{**asdict(row), "connections": min(row.connections, 50)})
            for c in live:
                run_wrk(servers[c][1], warm, 2, wrk_threads)
        for r in range(rounds):
            order = live[r % len(live) :] + live[: r % len(live)] if live else []
            for c in order:
                print(
                    f"  {row.name}: {c}, round {r + 1}/{rounds} ({duration:g} s)",
                    file=sys.stderr,
                    flush=True,
                )
                one = Result(row.name, c)
                try:
                    before = cpu_seconds(servers[c][0].pid)
                    parse_wrk(run_wrk(servers[c][1], row, duration, wrk_threads), one)
                    if one.requests:
                        used = cpu_seconds(servers[c][0].pid) - before
                        one.cpu_us = used / one.requests * 1e6
                except Exception as exc:
                    results[c].failed = str(exc).splitlines()[0][:200]
                per_round[c].append(one)
    finally:
        for proc, _ in servers.values():
            stop(proc)
    for c, runs in per_round.items():
        if not runs or results[c].failed:
            continue
        res = results[c]
        res.rps = statistics.median(x.rps for x in runs)
        res.p50_ms = statistics.median(x.p50_ms for x in runs)
        res.p99_ms = statistics.median(x.p99_ms for x in runs)
        res.errors = sum(x.errors for x in runs)
        res.requests = sum(x.requests for x in runs)
        res.error_detail = "; ".join(x.error_detail for x in runs if x.error_detail)
        res.rounds = [round(x.rps) for x in runs]
        res.cpu_us = statistics.median(x.cpu_us for x in runs)
    raw_runs = per_round.get("raw", [])
    for c, runs in per_round.items():
        if c != "raw" and raw_runs and len(runs) == len(raw_runs) and not results[c].failed:
            ratios = [a.rps / b.rps for a, b in zip(runs, raw_runs, strict=True) if b.rps]
            if ratios:
                results[c].ratio_to_raw = statistics.median(ratios)
            cpu = [
                b.cpu_us / a.cpu_us
                for a, b in zip(runs, raw_runs, strict=True)
                if a.cpu_us and b.cpu_us
            ]
            if cpu:
                results[c].cpu_ratio = statistics.median(cpu)
    return results


# -- slow clients, memory, shutdown ----------------------------------------------------


def _slowloris(port: int, stop_at: float, out: list[str]) -> None:
    """Send a request head one byte every 0.5 s until *stop_at*; record how it ended."""
    head = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 200
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.settimeout(0.5)
            for i in range(len(head)):
                if time.monotonic() >= stop_at:
                    out.append("still sending")
                    return
                try:
                    sock.sendall(head[i : i + 1])
                    data = sock.recv(4096)  # an answer or a close ends the trickle
                except TimeoutError:
                    continue
                out.append(data.split(b" ", 2)[1].decode() if data else "closed")
                return
            out.append("head sent")
    except OSError as exc:
        out.append(type(exc).__name__)


def run_slow_row(
    row: Row, contenders: list[str], apps: Path, duration: float, wrk_threads: int, logs: Path
) -> dict[str, Result]:
    """Per contender: 10 slowloris connections, then wrk's normal traffic beside them."""
    import threading

    results = {c: Result(row.name, c) for c in contenders}
    for c in contenders:
        try:
            proc, port = start_server(c, row, apps, logs)
        except Exception as exc:
            results[c].failed = str(exc).splitlines()[0][:200]
            continue
        try:
            out: list[str] = []
            stop_at = time.monotonic() + min(SLOW_BOUND, duration + 3)
            threads = [
                threading.Thread(target=_slowloris, args=(port, stop_at, out), daemon=True)
                for _ in range(SLOW_CLIENTS)
            ]
            for thread in threads:
                thread.start()
            time.sleep(1.0)  # every slow client connected and trickling
            print(f"  {row.name}: {c} ({duration:g} s)", file=sys.stderr, flush=True)
            before = cpu_seconds(proc.pid)
            parse_wrk(run_wrk(port, row, duration, wrk_threads), results[c])
            if results[c].requests:
                used = cpu_seconds(proc.pid) - before
                results[c].cpu_us = used / results[c].requests * 1e6
            for thread in threads:
                thread.join(SLOW_BOUND + 6)
            counts: dict[str, int] = {}
            for end in out:
                counts[end] = counts.get(end, 0) + 1
            results[c].slow_detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        except Exception as exc:
            results[c].failed = str(exc).splitlines()[0][:200]
        finally:
            stop(proc)
    return results


def worker_pids(pid: int) -> list[int]:
    """The processes whose parent is *pid* (gunicorn's workers), or *pid* itself."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(text[text.rindex(")") + 2 :].split()[1]) == pid:
                children.append(int(entry))
    return children or [pid]


def rss_kb(pids: list[int]) -> int:
    """Resident set size of *pids*, summed (KB, from /proc/PID/status)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def _open_idle(port: int, count: int, deadline: float) -> list[socket.socket]:
    """*count* connections that each made one keep-alive request and now sit idle."""
    request = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    socks: list[socket.socket] = []
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(request)
        data = b""
        while b"Hello, World!" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                raise RuntimeError("the server closed a keep-alive connection")
            data += chunk
        socks.append(sock)
    return socks


def _still_open(socks: list[socket.socket]) -> int:
    """How many of *socks* the server has not closed (nothing readable on them)."""
    import select

    poller = select.poll()
    for sock in socks:
        poller.register(sock, select.POLLIN)
    closed = {fd for fd, _ in poller.poll(0)}
    return sum(1 for sock in socks if sock.fileno() not in closed)


def _servers_in_rounds(
    row: Row,
    contenders: list[str],
    apps: Path,
    logs: Path,
    rounds: int,
    results: dict[str, Result],
) -> Iterator[tuple[str, subprocess.Popen[bytes], int]]:
    """Each round, each contender not yet failed (order rotated), with its server started.

    A server that does not start marks its contender failed; the caller stops the others.
    """
    for r in range(rounds):
        order = contenders[r % len(contenders) :] + contenders[: r % len(contenders)]
        for c in order:
            if results[c].failed:
                continue
            print(f"  {row.name}: {c}, round {r + 1}/{rounds}", file=sys.stderr, flush=True)
            try:
                proc, port = start_server(c, row, apps, logs)
            except Exception as exc:
                results[c].failed = str(exc).splitlines()[0][:200]
                continue
            yield c, proc, port


def run_memory_row(
    row: Row, contenders: list[str], apps: Path, logs: Path, rounds: int
) -> dict[str, Result]:
    """Per contender (interleaved rounds): worker RSS before and with 5,000 idle connections."""
    results = {c: Result(row.name, c) for c in contenders}
    samples: dict[str, list[tuple[int, int, int]]] = {c: [] for c in contenders}
    for c, proc, port in _servers_in_rounds(row, contenders, apps, logs, rounds, results):
        socks: list[socket.socket] = []
        try:
            # the app has served requests (wait_ready) and its lazy parts are loaded
            _open_idle(port, 200, time.monotonic() + 30)
            time.sleep(0.5)
            pids = worker_pids(proc.pid)
            before = rss_kb(pids)
            socks = _open_idle(port, MEMORY_CONNECTIONS, time.monotonic() + 90)
            time.sleep(1.0)
            after = rss_kb(pids)
            samples[c].append((before, after, _still_open(socks)))
        except Exception as exc:
            results[c].failed = str(exc).splitlines()[0][:200]
        finally:
            for sock in socks:
                sock.close()
            stop(proc)
    for c, runs in samples.items():
        if not runs or results[c].failed:
            continue
        res = results[c]
        res.rss_before_kb = int(statistics.median(b for b, _, _ in runs))
        res.rss_after_kb = int(statistics.median(a for _, a, _ in runs))
        res.held = min(h for _, _, h in runs)
        res.kb_per_conn = statistics.median((a - b) / MEMORY_CONNECTIONS for b, a, _ in runs)
    raw = results.get("raw")
    for c, res in results.items():
        if c != "raw" and raw and raw.kb_per_conn and res.kb_per_conn is not None:
            res.ratio_to_raw = res.kb_per_conn / raw.kb_per_conn
    return results


def _shutdown_request(port: int, out: list[str]) -> None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SHUTDOWN_GRACE + 10)
        conn.request("GET", "/io1000")
        resp = conn.getresponse()
        resp.read()
        out.append(str(resp.status))
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        out.append(f"lost ({type(exc).__name__})")


def run_shutdown_row(
    row: Row, contenders: list[str], apps: Path, logs: Path, rounds: int
) -> dict[str, Result]:
    """Per contender and round: 40 overlapping 1 s requests, SIGTERM at 0.5 s; count the lost."""
    import threading

    results = {c: Result(row.name, c) for c in contenders}
    for c, proc, port in _servers_in_rounds(row, contenders, apps, logs, rounds, results):
        out: list[str] = []
        try:
            threads = [
                threading.Thread(target=_shutdown_request, args=(port, out), daemon=True)
                for _ in range(SHUTDOWN_REQUESTS)
            ]
            for thread in threads:
                thread.start()
            time.sleep(SHUTDOWN_AT)
            os.kill(proc.pid, signal.SIGTERM)
            for thread in threads:
                thread.join(SHUTDOWN_GRACE + 15)
        finally:
            stop(proc)
        res = results[c]
        for end in out:
            key = "lost" if end.startswith("lost") else end
            res.status_counts[key] = res.status_counts.get(key, 0) + 1
        res.requests += len(out)
    for res in results.values():
        if not res.failed:
            res.lost = res.status_counts.get("lost", 0)
            res.answered = res.requests - res.lost
    return results


# -- the report ------------------------------------------------------------------------


def judge(row: Row, results: dict[str, Result]) -> None:
    """Add digwebs' checks against the row's targets (PASS/FAIL lines)."""
    dw = results.get("digwebs")
    if dw is None or dw.failed:
        return
    raw = results.get("raw")
    if row.kind == "memory":
        if dw.ratio_to_raw is not None and row.ratio_target is not None:
            ok = dw.ratio_to_raw <= row.ratio_target
            dw.checks.append(
                f"{dw.ratio_to_raw:.2f} x raw's KB per connection (max {row.ratio_target:.2f}) "
                f"{'PASS' if ok else 'FAIL'}"
            )
        return
    if row.kind == "shutdown":
        dw.checks.append(f"lost {dw.lost} (max 0) {'PASS' if dw.lost == 0 else 'FAIL'}")
        return
    if row.kind == "slow":
        if row.p99_max_ms is not None:
            ok = dw.p99_ms <= row.p99_max_ms and dw.requests > 0
            dw.checks.append(
                f"normal requests' p99 {dw.p99_ms:.1f} ms (max {row.p99_max_ms:g}) "
                f"{'PASS' if ok else 'FAIL'}"
            )
        return
    if row.ceiling is not None and row.ceiling_target is None:
        dw.checks.append(f"{dw.rps / row.ceiling:.0%} of the ceiling {row.ceiling:,.0f} rps")
    if row.ratio_target is not None and dw.ratio_to_raw is not None:
        ratio = dw.ratio_to_raw
        dw.checks.append(
            f"{ratio:.2f} x raw (target {row.ratio_target:.2f}) "
            f"{'PASS' if ratio >= row.ratio_target else 'FAIL'}"
        )
    if row.ceiling is not None and row.ceiling_target is not None:
        share = dw.rps / row.ceiling
        dw.checks.append(
            f"{share:.0%} of ceiling {row.ceiling:,.0f} rps (target "
            f"{row.ceiling_target:.0%}) {'PASS' if share >= row.ceiling_target else 'FAIL'}"
        )
    if row.p99_max_ms is not None:
        ok = dw.p99_ms <= row.p99_max_ms
        # Little's law: with every connection busy, the mean latency is
        # connections / throughput; no p99 can be below it
        mean_ms = row.connections / dw.rps * 1000 if dw.rps else float("inf")
        p99_raw = f", raw's p99 {raw.p99_ms:.1f} ms" if raw is not None and not raw.failed else ""
        dw.checks.append(
            f"p99 {dw.p99_ms:.1f} ms (max {row.p99_max_ms:g}) {'PASS' if ok else 'FAIL'}"
            f"; mean latency at this throughput {mean_ms:.1f} ms, p99/mean "
            f"{dw.p99_ms / mean_ms:.1f}{p99_raw}"
        )
    if row.zero_errors:
        dw.checks.append(f"errors {dw.errors} (max 0) {'PASS' if dw.errors == 0 else 'FAIL'}")


def print_table(rows: list[Row], all_results: dict[str, dict[str, Result]]) -> None:
    header = (
        f"{'row':<18} {'server':<11} {'req/s':>10} {'p50':>9} {'p99':>9} {'errors':>8}  "
        f"{'vs raw':<6} {'cpu/req':>9} {'cpu vs raw':>10}  req/s per round"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if row.kind in ("memory", "shutdown"):
            continue
        results = all_results.get(row.name, {})
        for contender, r in results.items():
            if r.failed:
                print(f"{row.name:<18} {contender:<11} FAILED: {r.failed}")
                continue
            ratio = f"{r.ratio_to_raw:.2f}" if r.ratio_to_raw is not None else ""
            rounds = " ".join(f"{x:,}" for x in r.rounds) if len(r.rounds) > 1 else ""
            cpu_ratio = f"{r.cpu_ratio:.2f}" if r.cpu_ratio is not None else ""
            print(
                f"{row.name:<18} {contender:<11} {r.rps:>10,.0f} {r.p50_ms:>7.2f}ms "
                f"{r.p99_ms:>7.2f}ms {r.errors:>8}  {ratio:<6} {r.cpu_us:>7.0f}us "
                f"{cpu_ratio:>10}  {rounds}"
            )
            if r.error_detail:
                print(f"{'':<28}errors: {r.error_detail}")
            if r.slow_detail:
                print(f"{'':<28}slow clients ended: {r.slow_detail}")
        dw = results.get("digwebs")
        for check in dw.checks if dw else []:
            print(f"{'':<28}digwebs: {check}")
    print()
    special = [r for r in rows if r.kind == "memory" and r.name in all_results]
    if special:
        header = (
            f"{'row':<18} {'server':<11} {'RSS before':>11} {'RSS after':>10} "
            f"{'KB/conn':>8} {'vs raw':>7}  connections held"
        )
        print(header)
        print("-" * len(header))
        for row in special:
            results = all_results[row.name]
            for contender, r in results.items():
                if r.failed:
                    print(f"{row.name:<18} {contender:<11} FAILED: {r.failed}")
                    continue
                ratio = f"{r.ratio_to_raw:.2f}" if r.ratio_to_raw is not None else ""
                kb = f"{r.kb_per_conn:.1f}" if r.kb_per_conn is not None else ""
                print(
                    f"{row.name:<18} {contender:<11} {r.rss_before_kb:>8} KB "
                    f"{r.rss_after_kb:>7} KB {kb:>8} {ratio:>7}  {r.held:,}"
                )
            dw = results.get("digwebs")
            for check in dw.checks if dw else []:
                print(f"{'':<30}digwebs: {check}")
        print()
    special = [r for r in rows if r.kind == "shutdown" and r.name in all_results]
    if special:
        header = f"{'row':<18} {'server':<11} {'requests':>8} {'answered':>8} {'lost':>5}  answers"
        print(header)
        print("-" * len(header))
        for row in special:
            results = all_results[row.name]
            for contender, r in results.items():
                if r.failed:
                    print(f"{row.name:<18} {contender:<11} FAILED: {r.failed}")
                    continue
                answers = ", ".join(f"{k} {v}" for k, v in sorted(r.status_counts.items()))
                print(
                    f"{row.name:<18} {contender:<11} {r.requests:>8} {r.answered:>8} "
                    f"{r.lost if r.lost is not None else '':>5}  {answers}"
                )
            dw = results.get("digwebs")
            for check in dw.checks if dw else []:
                print(f"{'':<30}digwebs: {check}")
        print()


def raise_open_file_limit() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WANTED_NOFILE if hard == resource.RLIM_INFINITY else min(WANTED_NOFILE, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per wrk run [4]")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="interleaved rounds per contender; medians are reported [5]",
    )
    parser.add_argument(
        "--row",
        action="append",
        choices=[r.name for r in ROWS],
        help="run only this row (repeatable)",
    )
    parser.add_argument(
        "--contender",
        action="append",
        choices=list(CONTENDERS),
        help="run these contenders (repeatable) instead of the row's own set",
    )
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads [2]")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print(
            "wrk is not installed. It is a Debian/Ubuntu package: sudo apt-get install -y wrk "
            "(on macOS: brew install wrk).",
            file=sys.stderr,
        )
        return 2
    try:
        import flask  # noqa: F401
    except ImportError:
        if not args.contender or "flask" in args.contender:
            print(
                "Flask is not installed: pip install -e '.[bench]' (or pass --contender "
                "raw --contender digwebs).",
                file=sys.stderr,
            )
            return 2

    rows = [r for r in ROWS if not args.row or r.name in args.row]
    print(
        "note: the machine may be shared; contenders run interleaved, so ratios within a "
        "row stay comparable while absolute figures move with the neighbours' load",
        file=sys.stderr,
    )
    soft, hard = raise_open_file_limit()
    needed = max(r.connections for r in rows) * 2 + 200
    if soft < needed:
        print(
            f"warning: open-file limit {soft} (hard {hard}) is below the {needed} the "
            "largest row needs; it will show socket errors",
            file=sys.stderr,
        )

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "-"

    print(
        f"digwebs server benchmark: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, gunicorn {version('gunicorn')}, "
        f"gevent {version('gevent')}, Flask {version('flask')}, wrk -t{args.wrk_threads}, "
        f"{args.rounds} x {args.duration:g} s per contender and row, open files {soft}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print()

    all_results: dict[str, dict[str, Result]] = {}
    work = Path(tempfile.mkdtemp(prefix="digwebs-bench-"))
    try:
        write_apps(work)
        logs = work / "logs"
        logs.mkdir()
        for row in rows:
            duration = max(args.duration * row.duration_factor, row.min_duration)
            rounds = 1 if row.min_duration else args.rounds
            contenders = [
                c for c in (args.contender or row.contenders) if c in row.contenders
            ] or list(args.contender or row.contenders)
            if "granian" in contenders and granian_path() is None:
                print(
                    "note: granian is not installed (pip install granian): skipped", file=sys.stderr
                )
                contenders.remove("granian")
            if row.kind == "slow":
                results = run_slow_row(row, contenders, work, duration, args.wrk_threads, logs)
            elif row.kind == "memory":
                results = run_memory_row(row, contenders, work, logs, min(rounds, 2))
            elif row.kind == "shutdown":
                results = run_shutdown_row(row, contenders, work, logs, 1)
            else:
                results = run_row(row, contenders, work, duration, rounds, args.wrk_threads, logs)
            judge(row, results)
            all_results[row.name] = results
        print_table(rows, all_results)
        if args.keep_logs:
            print(f"server logs: {logs}")
    finally:
        if not args.keep_logs:
            shutil.rmtree(work, ignore_errors=True)

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {name: {c: asdict(r) for c, r in res.items()} for name, res in all_results.items()},
                indent=2,
            )
        )
    failed = any(
        "FAIL" in check for res in all_results.values() for r in res.values() for check in r.checks
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
