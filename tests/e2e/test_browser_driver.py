"""The DevTools-pipe driver of tests/e2e/browser.py, without digwebs.

A ``data:`` page for navigating, evaluating and the screenshot; a form
posted to a standard-library HTTP server on 127.0.0.1 for a navigation the
page starts itself (chromium does not let a page navigate to ``data:``).
"""

from __future__ import annotations

import http.server
import os
import threading
import typing as t
import urllib.parse

import pytest
from browser import Browser, BrowserError

# No skip without chromium: .ci/run installs it, and Browser() says so if it is missing.
pytestmark = pytest.mark.slow

PAGE = """<!doctype html><title>driver test</title>
<form onsubmit="event.preventDefault(); document.title = 'sent ' + this.name.value">
  <input name="name"><button>Send</button></form>
<p id="text">h&eacute;llo</p>"""


class _FormSite(http.server.BaseHTTPRequestHandler):
    """GET / is a form, POST /send redirects (303) to a page showing what was posted."""

    posted: t.ClassVar[list[bytes]] = []

    def do_GET(self) -> None:
        if self.path == "/":
            body = b'<form method="post" action="/send"><input name="name"></form>'
        else:
            body = b"<p id=done>got " + b", ".join(self.posted) + b"</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.posted.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(303)
        self.send_header("Location", "/done")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: t.Any) -> None:
        pass  # quiet: pytest shows the assertion, not an access log


@pytest.fixture
def form_site() -> t.Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FormSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_navigate_evaluate_and_screenshot(tmp_path):
    with Browser(tmp_path / "profile", window=(640, 480)) as browser:
        browser.navigate("data:text/html," + urllib.parse.quote(PAGE))
        assert browser.evaluate("document.title") == "driver test"
        assert browser.evaluate("document.getElementById('text').textContent") == "héllo"
        assert browser.evaluate("Promise.resolve(6 * 7)") == 42  # promises are awaited
        browser.evaluate("document.forms[0].name.value = 'Ada'; document.forms[0].requestSubmit()")
        assert browser.evaluate("document.title") == "sent Ada"

        with pytest.raises(BrowserError, match="ReferenceError"):
            browser.evaluate("no_such_name")

        png = browser.screenshot()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width = int.from_bytes(png[16:20], "big")
        height = int.from_bytes(png[20:24], "big")
        assert (width, height) == (640, 480)
        pid = browser.pid
    assert browser.pid == 0  # closed and reaped: no such process any more
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_form_post_the_page_starts_is_waited_for(tmp_path, form_site):
    with Browser(tmp_path / "profile") as browser:
        browser.navigate(form_site + "/")
        browser.until_load(
            lambda: browser.evaluate(
                "document.forms[0].name.value = 'Ada Lovelace'; document.forms[0].submit()"
            )
        )
        assert browser.evaluate("location.pathname") == "/done"
        assert browser.evaluate("document.getElementById('done').textContent") == (
            "got name=Ada+Lovelace"
        )


def test_a_failed_navigation_raises(tmp_path):
    with Browser(tmp_path / "profile") as browser:
        with pytest.raises(BrowserError, match="ERR_"):
            browser.navigate("http://127.0.0.1:9/", timeout=20)  # the discard port: refused
