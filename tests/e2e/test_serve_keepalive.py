"""A busy keep-alive connection stays open past the keep-alive timeout.

The keep-alive timeout (gunicorn's ``keepalive``, 2 s by default) is the
longest a connection may sit idle between requests; a connection that keeps
sending requests must never be closed by it. Under ``--workers gevent`` a
reused timer once closed such connections ``keepalive`` seconds after their
first request, mid-use (nginx then answered 502 for the request it sent).
"""

from __future__ import annotations

import http.client
import time
import typing as t
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MODELS = ("gevent", "threads")
KEEPALIVE = 1  # seconds; the connection is used for more than three times that


@pytest.mark.parametrize("model", MODELS)
def test_busy_keep_alive_connection_outlives_the_idle_timeout(
    model: str, project: Path, start_server: t.Callable[..., t.Any]
) -> None:
    if model == "gevent":
        pytest.importorskip("gevent")
    server = start_server(
        ["--workers", model, "--env", "development", "--no-reload"],
        project,
        DIGWEBS_SERVER__KEEPALIVE=str(KEEPALIVE),
    )
    server.wait_ready()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    answered = 0
    started = time.monotonic()
    try:
        # bounded: at most 3.5 s and 2,000 requests, a pause shorter than
        # the idle timeout between them
        while time.monotonic() - started < 3.5 * KEEPALIVE and answered < 2000:
            conn.request("GET", "/")
            reply = conn.getresponse()
            reply.read()
            assert reply.status == 200
            answered += 1
            time.sleep(0.02)
    except (http.client.HTTPException, OSError) as exc:
        pytest.fail(
            f"{model}: the connection was closed after {time.monotonic() - started:.2f} s "
            f"and {answered} answers, while in use: {exc!r}"
        )
    finally:
        conn.close()
    assert answered > 10
