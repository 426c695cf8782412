"""``digwebs serve`` for real: a generated project over HTTP on 127.0.0.1.

Every test starts the server as a subprocess on a free port and stops it by
its process id. Nothing here measures speed: the timing assertions only prove
that requests overlapped (or, for sync, that they did not).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

pytestmark = pytest.mark.slow

MODELS = ["sync", "threads", "gevent"]


def fetch_in_background(server, path: str) -> dict:
    """GET *path* in a thread; the dict gets status/body (or error) when it ends."""
    result: dict = {}

    def run() -> None:
        try:
            status, _, body = server.get(path, timeout=30)
            result.update(status=status, body=body)
        except Exception as exc:  # reported by the assertion below
            result.update(error=repr(exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    result["thread"] = thread
    return result


@pytest.mark.parametrize("model", MODELS)
def test_each_worker_model_serves_and_stops_gracefully(model, project, start_server):
    server = start_server(["--workers", model], project)
    server.wait_ready()

    status, headers, body = server.get("/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"<html" in body.lower()

    css = (project / "static" / "css" / "site.css").read_bytes()
    status, headers, body = server.get("/static/css/site.css")
    assert (status, body) == (200, css), f"static file: {status} {body[:200]!r}"
    assert headers["content-type"].startswith("text/css")

    status, headers, body = server.get("/api/status")
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert json.loads(body) == {"status": "ok"}

    status, _, _ = server.get("/no/such/page")
    assert status == 404

    # the app is imported in the worker, never in the master; under gevent,
    # after the standard library was patched
    info = json.loads(server.get("/probe/info")[2])
    assert info["pid"] != server.pid
    assert info["patched_at_import"] is (model == "gevent")

    out = server.log()
    assert f"serving wsgiapp:app at http://127.0.0.1:{server.port} ({model}:" in out
    assert out.count("digwebs: serving") == 1

    # SIGTERM while a slow request is in flight: it completes, then exit 0
    slow = fetch_in_background(server, "/probe/slow?s=1.5")
    time.sleep(0.5)
    server.signal(signal.SIGTERM)
    slow["thread"].join(timeout=30)
    assert slow.get("status") == 200 and slow.get("body") == b"slow done", slow
    assert server.wait(timeout=30) == 0, server.log()
    assert "Traceback" not in server.log()


def test_ctrl_c_is_graceful_too(project, start_server):
    """A terminal's Ctrl-C signals the whole process group, workers included."""
    server = start_server(["--workers", "threads"], project)
    server.wait_ready()
    slow = fetch_in_background(server, "/probe/slow?s=1.5")
    time.sleep(0.5)
    os.killpg(server.pid, signal.SIGINT)
    slow["thread"].join(timeout=30)
    assert slow.get("status") == 200 and slow.get("body") == b"slow done", slow
    assert server.wait(timeout=30) == 0, server.log()


def check_echoes(results: list, count: int) -> None:
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, f"{len(failures)} requests failed, e.g. {failures[0]!r}"
    assert len(results) == count
    for i, (status, body) in enumerate(results):
        assert status == 200, body
        # what the handler stored in g and ctx before sleeping is what it reads after
        assert body.decode() == f"r{i}|r{i}|/probe/echo/r{i}", body


def test_gevent_one_process_overlaps_500_requests(project, start_server, http_burst):
    server = start_server(["--workers", "gevent", "--processes", "1"], project)
    server.wait_ready("/probe/version")
    count = 500
    results, elapsed = http_burst(server.port, [f"/probe/echo/r{i}" for i in range(count)])
    check_echoes(results, count)
    serial = count * 0.1
    # proves overlap (serial would take 50 s), it is not a speed target
    assert elapsed < serial / 10, f"{count} requests took {elapsed:.2f} s"


def test_threads_overlap_up_to_the_thread_count(project, start_server, http_burst):
    threads, count = 20, 200
    server = start_server(["--workers", "threads", "--threads", str(threads)], project)
    server.wait_ready("/probe/version")
    results, elapsed = http_burst(server.port, [f"/probe/echo/r{i}" for i in range(count)])
    check_echoes(results, count)
    rounds = count / threads
    assert elapsed >= 0.9 * rounds * 0.1, f"faster than {threads} threads allow: {elapsed:.2f} s"
    assert elapsed < count * 0.1 / 4, f"{count} requests took {elapsed:.2f} s"


def test_sync_is_correct_and_serial(project, start_server, http_burst):
    count = 15
    server = start_server(["--workers", "sync"], project)
    server.wait_ready("/probe/version")
    results, elapsed = http_burst(server.port, [f"/probe/echo/r{i}" for i in range(count)])
    check_echoes(results, count)
    assert elapsed >= 0.95 * count * 0.1, f"sync overlapped requests: {elapsed:.2f} s"


def test_reload_picks_up_an_edited_controller(project, start_server):
    server = start_server(["--workers", "threads", "--reload"], project)
    server.wait_ready("/probe/version")
    assert server.get("/probe/version")[2] == b"v1"
    controller = project / "controllers" / "probe.py"
    source = controller.read_text()

    def wait_for(expected_status: int, needle: bytes, text: str) -> None:
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            # rewritten now and then: a change made before the reloader's
            # first scan would only set its baseline
            controller.write_text(text)
            for _ in range(20):
                try:
                    status, _, body = server.get("/probe/version", timeout=5)
                except OSError:
                    status, body = 0, b""
                if status == expected_status and needle in body:
                    return
                time.sleep(0.1)
        pytest.fail(f"no reload to {needle!r}:\n{server.log()}")

    wait_for(200, b"v2", source.replace('VERSION = "v1"', 'VERSION = "v2"'))
    # a broken edit keeps the server up and shows the error...
    wait_for(500, b"failed to load", source.replace('VERSION = "v1"', "VERSION = (\n"))
    assert "reload failed" in server.log() and "probe.py" in server.log()
    # ...and fixing it brings the app back, still without a restart by hand
    wait_for(200, b"v3", source.replace('VERSION = "v1"', 'VERSION = "v3"'))
    assert server.proc.poll() is None


def test_warn_blocking_reports_an_unpatched_blocking_call(project, start_server):
    server = start_server(["--workers", "gevent", "--warn-blocking", "100"], project)
    server.wait_ready("/probe/version")
    assert server.get("/probe/block")[2] == b"blocked"
    deadline = time.monotonic() + 10
    while "blocked the event loop" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    out = server.log()
    assert "blocked the event loop for more than 100 ms while serving GET /probe/block" in out
    assert 'probe.py", line' in out and "in block" in out  # the stack of the handler
    assert out.count("blocked the event loop") == 1


@pytest.mark.parametrize("model", ["threads", "gevent"])
def test_an_app_that_fails_to_import_is_one_line(model, tmp_path, start_server):
    (tmp_path / "wsgiapp.py").write_text(
        "import os\n\nfrom digwebs import Digwebs\n\nimport no_such_module_here\n"
    )
    # two processes: both fail, and the second failure must not show either
    server = start_server(["--workers", model, "--processes", "2"], tmp_path)
    assert server.wait(timeout=30) == 2, server.log()
    out = server.log()
    assert "Traceback" not in out
    assert out.strip().splitlines() == [
        "Error: importing 'wsgiapp' failed: ModuleNotFoundError: No module named "
        "'no_such_module_here' (wsgiapp.py:5)"
    ]


def test_port_in_use_is_one_line(project, start_server):
    first = start_server(["--workers", "sync"], project)
    first.wait_ready()
    second = start_server(["--workers", "sync", "--port", str(first.port)], project)
    assert second.wait(timeout=30) == 2
    assert second.log().strip() == (
        f"Error: port {first.port} on 127.0.0.1 is already in use: stop the other server, "
        "or pick another port with --port"
    )
    assert first.stop() == 0
