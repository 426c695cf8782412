"""A small headless-chromium driver for the end-to-end tests, with no dependency.

Chromium started with ``--remote-debugging-pipe`` reads DevTools protocol
commands from its file descriptor 3 and writes replies and events to its
descriptor 4, each message one JSON object followed by a NUL byte. That is
all a test needs to load a page, fill and submit a form, read the DOM and
take a screenshot, without a WebDriver, a websocket client or a debugging
port other local processes could reach.

    with Browser(tmp_path / "profile") as browser:
        browser.navigate("http://127.0.0.1:8080/")
        title = browser.evaluate("document.title")
        browser.until_load(lambda: browser.evaluate("document.forms[0].submit()"))
        png = browser.screenshot()

Every wait is bounded (``timeout``); a command the browser refuses raises
:class:`BrowserError` with chromium's message, and chromium's own output is in
``profile/chromium.log`` for the failure report.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import signal
import threading
import time
import typing as t
from pathlib import Path

#: The flags every run gets: no sandbox (tests run as root in containers), no
#: GPU, and none of the background traffic (updates, sync, first-run pages)
#: a test must not wait for or depend on.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
    "--remote-debugging-pipe",
)


class BrowserError(RuntimeError):
    """Chromium answered a command with an error, closed the pipe, or took too long."""


def find_chromium() -> str | None:
    """The chromium (or Google Chrome) executable on ``PATH``, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _high_fd(fd: int) -> int:
    """A close-on-exec copy of *fd* numbered 10 or above; *fd* is closed.

    The child's descriptors 3 and 4 are made with dup2; a source numbered 3 or
    4 could be overwritten by the first dup2 before the second reads it.
    """
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Browser:
    """One headless chromium with one page, driven over the DevTools pipe.

    :param profile: an empty folder for chromium's profile (``--user-data-dir``)
        and its log; it is created if missing.
    :param executable: the chromium to run (default: :func:`find_chromium`).
    :param window: the viewport's width and height, which are the screenshot's.
    :param args: more command-line flags (``--host-resolver-rules=...``).
    :param timeout: the default bound, in seconds, of every wait.
    """

    def __init__(
        self,
        profile: Path,
        executable: str | None = None,
        window: tuple[int, int] = (1280, 900),
        timeout: float = 30.0,
        args: t.Sequence[str] = (),
    ) -> None:
        executable = executable or find_chromium()
        if executable is None:
            raise BrowserError("chromium is not installed: .ci/run installs it")
        profile.mkdir(parents=True, exist_ok=True)
        self.profile = profile
        self.timeout = timeout
        self._next_id = 0
        self._replies: dict[int, dict[str, t.Any]] = {}
        self._events: list[dict[str, t.Any]] = []
        self._cond = threading.Condition()
        self._closed = False
        self._buffer = b""

        to_child, self._write_fd = (_high_fd(fd) for fd in os.pipe())
        self._read_fd, from_child = (_high_fd(fd) for fd in os.pipe())
        self.log_path = profile / "chromium.log"
        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        argv = [
            executable,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={window[0]},{window[1]}",
            *args,
            "about:blank",
        ]
        env = dict(os.environ, HOME=str(profile))  # the wrapper script's crash folder
        try:
            # posix_spawn, not Popen: the pipe ends must land on exactly 3 and 4.
            self.pid = os.posix_spawn(
                executable,
                argv,
                env,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, log_fd, 1),
                    (os.POSIX_SPAWN_DUP2, log_fd, 2),
                    (os.POSIX_SPAWN_DUP2, to_child, 3),
                    (os.POSIX_SPAWN_DUP2, from_child, 4),
                ],
                setsid=True,  # its own process group: helpers are stopped with it
            )
        finally:
            for fd in (to_child, from_child, log_fd):
                os.close(fd)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        try:
            self.session_id = self._attach_page()
            for domain in ("Page", "Runtime"):
                self.send(f"{domain}.enable")
            # The viewport is exactly *window*: --window-size alone leaves room
            # for the window frame headless chromium pretends to draw.
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": window[0], "height": window[1], "deviceScaleFactor": 1, "mobile": False},
            )
        except BaseException:
            self.close()
            raise

    # -- the pipe ------------------------------------------------------------

    def _read_loop(self) -> None:
        """Split what chromium writes at NUL bytes; file replies and events."""
        while True:
            try:
                chunk = os.read(self._read_fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            self._buffer += chunk
            *messages, self._buffer = self._buffer.split(b"\0")
            with self._cond:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._replies[message["id"]] = message
                    else:
                        self._events.append(message)
                self._cond.notify_all()

    def _wait(self, ready: t.Callable[[], t.Any], what: str, timeout: float | None) -> t.Any:
        """The first true ``ready()``, re-checked whenever a message arrives."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._cond:
            while True:
                found = ready()
                if found:
                    return found
                if self._closed:
                    raise BrowserError(f"chromium closed the pipe waiting for {what}\n{self.log()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError(f"no {what} within the timeout\n{self.log()}")
                self._cond.wait(left)

    def send(
        self,
        method: str,
        params: dict[str, t.Any] | None = None,
        *,
        session: bool = True,
        timeout: float | None = None,
    ) -> dict[str, t.Any]:
        """Send one command and return its ``result``.

        :param session: send it to the page (True) or to the browser itself.
        :raises BrowserError: chromium answered with an error or not in time.
        """
        with self._cond:
            self._next_id += 1
            ident = self._next_id
        message: dict[str, t.Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session_id
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        reply = self._wait(lambda: self._replies.pop(ident, None), f"reply to {method}", timeout)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return t.cast(dict[str, t.Any], reply.get("result", {}))

    def _attach_page(self) -> str:
        """Attach to the page chromium opened (flat sessions: one pipe for all)."""

        def page() -> str | None:
            targets = self.send("Target.getTargets", session=False)["targetInfos"]
            return next((x["targetId"] for x in targets if x["type"] == "page"), None)

        deadline = time.monotonic() + self.timeout
        while (target := page()) is None:
            if time.monotonic() > deadline:
                raise BrowserError(f"chromium opened no page\n{self.log()}")
            time.sleep(0.05)
        reply = self.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}, session=False
        )
        return t.cast(str, reply["sessionId"])

    # -- what tests use ------------------------------------------------------

    def until_load(self, action: t.Callable[[], object], timeout: float | None = None) -> None:
        """Run *action* (which starts a navigation) and wait for the next page's load event."""
        with self._cond:
            seen = len(self._events)

        def loaded() -> bool:
            return any(
                e.get("method") == "Page.loadEventFired" and e.get("sessionId") == self.session_id
                for e in self._events[seen:]
            )

        action()
        self._wait(loaded, "page load", timeout)

    def navigate(self, url: str, timeout: float | None = None) -> None:
        """Load *url* in the page and wait until it has loaded.

        :raises BrowserError: the navigation failed (``errorText``: refused
            connection, bad certificate...).
        """

        def go() -> None:
            result = self.send("Page.navigate", {"url": url})
            if result.get("errorText"):
                raise BrowserError(f"navigating to {url}: {result['errorText']}")

        self.until_load(go, timeout)

    def evaluate(self, expression: str, timeout: float | None = None) -> t.Any:
        """The value of a JavaScript *expression* in the page (promises awaited).

        :raises BrowserError: the expression threw; the message is the exception's.
        """
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"{expression!r} threw: {text}")
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        """The viewport as PNG bytes."""
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        return base64.b64decode(data)

    def log(self) -> str:
        """What chromium printed on stdout and stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def close(self, timeout: float = 10.0) -> None:
        """Ask chromium to quit, then SIGKILL its process group if it has not."""
        if self.pid == 0:
            return
        try:
            if not self._closed:
                self.send("Browser.close", session=False, timeout=timeout)
        except (BrowserError, OSError):
            pass
        deadline = time.monotonic() + timeout
        # WNOWAIT: the exited browser stays a zombie, so its process group id
        # cannot be reused before the helpers that outlived it are killed.
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        while os.waitid(os.P_PID, self.pid, flags) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self.pid = 0
        os.close(self._write_fd)
        self._reader.join(timeout=timeout)
        os.close(self._read_fd)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
