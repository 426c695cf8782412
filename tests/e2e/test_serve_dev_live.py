"""``digwebs serve`` development defaults, for real: reload, one log format, byte counts.

A generated project served on 127.0.0.1 (fixtures in conftest.py): with no
flags in development it reloads on a controller, a view, a config value and
``.env``; with ``--no-reload`` it does not. Every log line of the server's
output has the one format, and the access lines give the body bytes each
worker model really sent, static files (sent with sendfile) included.
Waits are bounded; servers are stopped by their pid.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MODELS = ["sync", "threads", "gevent"]

LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "
    r"(DEBUG|INFO |WARN |ERROR|CRIT ) (access |server |app    ) (.*)$"
)
ACCESS = re.compile(r'^(\S+) "(\S+) (\S+) (HTTP/[\d.]+)" (\d{3}) (\d+|-) (\d+\.\d)ms$')

BOOM = '''\
"""A route that fails, so the app's logger writes a line."""

from digwebs import get


@get("/probe/boom")
def boom():
    raise RuntimeError("boom for the log")
'''


def wait_until(server, path: str, needle: bytes, touch, timeout: float = 25.0) -> None:
    """GET *path* until its body holds *needle*; *touch()* redoes the edit now and then.

    A change made before the reloader's first scan would only set its
    baseline, so the edit is repeated every two seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        touch()
        for _ in range(20):
            try:
                status, _, body = server.get(path, timeout=5)
            except OSError:
                status, body = 0, b""
            if status == 200 and needle in body:
                return
            time.sleep(0.1)
    pytest.fail(f"no reload to {needle!r} at {path}:\n{server.log()}")


def edit(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    changed = text.replace(old, new)
    return lambda: path.write_text(changed)


def test_development_reloads_code_views_config_and_env_by_default(project, start_server):
    server = start_server([], project)  # development, no reload flag
    server.wait_ready("/probe/version")
    assert server.get("/probe/version")[2] == b"v1"
    assert "reload on" in server.log()

    controller = project / "controllers" / "probe.py"
    to_v2 = edit(controller, 'VERSION = "v1"', 'VERSION = "v2"')
    wait_until(server, "/probe/version", b"v2", to_v2)

    view = project / "views" / "index.html"
    wait_until(server, "/", b"edited view marker", edit(view, "<h1>", "<h1>edited view marker "))

    config = project / "config" / "default.toml"
    retitle = edit(config, 'site_title = "Site"', 'site_title = "Reloaded Title"')
    wait_until(server, "/", b"Reloaded Title", retitle)

    dotenv = project / ".env"
    dotenv.write_text("DIGWEBS_SITE_TITLE=first\n")  # created: only the baseline
    from_env = "DIGWEBS_SITE_TITLE='Title From Dot Env'\n"
    wait_until(server, "/", b"Title From Dot Env", lambda: dotenv.write_text(from_env))
    # a line removed from .env is gone after the next reload
    wait_until(server, "/", b"Reloaded Title", lambda: dotenv.write_text("# nothing\n"))

    out = server.log()
    assert "Traceback" not in out
    assert server.proc.poll() is None
    reloads = [line for line in out.splitlines() if "Worker reloading" in line]
    assert reloads and all(LINE.match(line) for line in reloads), reloads
    # Only the first edit's restart is certain to be logged for its own file:
    # a view shows before any restart (digwebs reloads templates itself in
    # development), and the restart the view causes a moment later may be
    # the one that picks up the next edit too.
    assert any("probe.py modified" in line for line in reloads), reloads


def test_no_reload_keeps_the_code_it_started_with(project, start_server):
    server = start_server(["--no-reload"], project)
    server.wait_ready("/probe/version")
    controller = project / "controllers" / "probe.py"
    changed = controller.read_text().replace('VERSION = "v1"', 'VERSION = "v2"')
    # gunicorn's reloader scans once a second: four scans' worth of edits
    for _ in range(8):
        controller.write_text(changed)
        time.sleep(0.5)
        assert server.get("/probe/version")[2] == b"v1"
    assert "Worker reloading" not in server.log()
    assert "reload on" not in server.log()


def log_lines(out: str) -> list[tuple[str, str, str]]:
    """(level, source, message) of every log line; fails on a line in no known shape."""
    lines = []
    for line in out.splitlines():
        match = LINE.match(line)
        if match:
            lines.append((match.group(1).strip(), match.group(2).strip(), match.group(3)))
    return lines


def access_entries(server) -> dict[str, list[tuple[str, int, int]]]:
    """path -> [(method, status, bytes)] from the access lines."""
    entries: dict[str, list[tuple[str, int, int]]] = {}
    for level, source, message in log_lines(server.log()):
        if source != "access":
            continue
        assert level == "INFO"
        match = ACCESS.match(message)
        assert match, message
        _, method, target, _, status, nbytes, _ = match.groups()
        entries.setdefault(target, []).append((method, int(status), int(nbytes)))
    return entries


@pytest.mark.parametrize("model", MODELS)
def test_access_log_counts_the_bytes_each_worker_model_sent(model, project, start_server):
    (project / "static" / "big.bin").write_bytes(bytes(range(256)) * 1000)  # 256,000 bytes
    (project / "controllers" / "boom.py").write_text(BOOM)
    server = start_server(["--workers", model], project)
    server.wait_ready("/api/status")

    sizes = {}
    for path in ("/static/css/site.css", "/static/big.bin", "/api/status", "/"):
        status, headers, body = server.get(path)
        assert status == 200, (path, status)
        sizes[path] = len(body)
    assert sizes["/static/big.bin"] == 256_000
    assert server.get("/probe/boom")[0] == 500

    deadline = time.monotonic() + 10
    while "/probe/boom" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    entries = access_entries(server)
    for path, size in sizes.items():
        assert ("GET", 200, size) in entries[path], (path, size, entries.get(path))
    out = server.log()
    assert "\x1b[" not in out  # a file, not a terminal: no colour

    # the app's error: one line in the format, then its traceback
    app_lines = [(lvl, msg) for lvl, src, msg in log_lines(out) if src == "app"]
    assert ("ERROR", "Exception on GET /probe/boom") in app_lines, out
    assert "RuntimeError: boom for the log" in out
