"""The gevent worker of ``digwebs serve --workers gevent``.

Named by import path in the gunicorn configuration
(``digwebs_cli._gevent_support.DigwebsGeventWorker``) and never imported by
the ``digwebs serve`` modules themselves. gunicorn's worker monkey-patches the
standard library when the worker process starts and only then imports the app.

Two things differ from gunicorn's own ``GeventWorker``:

* After a request the greenlet yields to the event loop (``gevent.sleep(0)``)
  if the loop has not gone round since the connection's previous request.
  gunicorn's keep-alive loop otherwise serves a connection whose next request
  has already arrived without ever yielding, so under load a few busy
  connections starve the others (a p99 of 100 ms or more for a plaintext
  route whose median is a few ms). So no connection is served twice in a
  row while others wait, and a handler that waits anyway (I/O, a database,
  a sleep) costs no extra loop turn: measured with benchmarks/server.py,
  a yield after every request cost ~10% of throughput at 5,000 connections
  with a 1 s handler, this one nothing measurable.
* ``--warn-blocking MS`` turns on gevent's monitor thread: a greenlet that
  keeps the loop for more than MS milliseconds is reported as a warning with
  its stack and the request it was serving. That is how an unpatched C
  library (a database driver, a compression library) that quietly serialises
  the whole server shows up.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import typing as t
import warnings

import gevent
from gevent import getcurrent
from gunicorn.workers.ggevent import GeventWorker

from digwebs_cli.logging_setup import LogFormatter, use_color

# the reports are written to stderr (file descriptor 2), coloured if a terminal
_FORMATTER = LogFormatter("server", color=use_color(sys.stderr))

# id(greenlet) -> "METHOD /path" of the request it is serving (only kept while
# the monitor is on)
_SERVING: dict[int, str] = {}
_LAST_REPORT: list[t.Any] = [0, 0.0]
_SERVER_PARTS = (
    os.sep + "gunicorn" + os.sep,
    os.sep + "gevent" + os.sep,
    os.sep + "digwebs_cli" + os.sep,
)


class DigwebsGeventWorker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker, fair under keep-alive load, with a blocking monitor."""

    _monitoring = False

    def init_process(self) -> None:
        warn_ms = float(getattr(self.app, "digwebs_warn_blocking_ms", 0) or 0)
        if warn_ms > 0:
            # must be configured before the hub starts running (it starts the
            # monitor thread then); gunicorn's init_process creates it
            gevent.config.monitor_thread = True
            gevent.config.max_blocking_time = warn_ms / 1000.0
            gevent.config.print_blocking_reports = False
            from gevent import events

            events.subscribers.append(_report_blocking)
            # the memory monitor, which needs psutil, is not what was asked for
            warnings.filterwarnings("ignore", message="Unable to monitor memory usage")
            self._monitoring = True
        super().init_process()

    def run(self) -> None:
        self._loop = gevent.get_hub().loop
        super().run()

    _loop: t.Any = None

    def handle_request(self, listener_name: t.Any, req: t.Any, sock: t.Any, addr: t.Any) -> t.Any:
        current = getcurrent()
        key = 0
        if self._monitoring:
            key = id(current)
            _SERVING[key] = f"{req.method} {req.path}"
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            if key:
                _SERVING.pop(key, None)
            # Let every other connection run before this one's next request,
            # unless the event loop has gone round since this connection's
            # previous request anyway (its handler or its read waited).
            iteration = getattr(self._loop, "iteration", None)
            if iteration is None or getattr(current, "_digwebs_iteration", -1) == iteration:
                gevent.sleep(0)
                iteration = getattr(self._loop, "iteration", None)
            try:
                current._digwebs_iteration = iteration
            except AttributeError:  # a greenlet without a __dict__: yield every time
                pass


def _report_blocking(event: t.Any) -> None:
    """zope.event subscriber; runs in gevent's monitor thread (a real OS thread).

    Writes straight to file descriptor 2: the logging module's locks are
    gevent locks after monkey-patching and must not be taken from this thread.
    """
    from gevent.events import EventLoopBlocked

    if not isinstance(event, EventLoopBlocked):
        return
    greenlet = event.greenlet
    serving = _SERVING.get(id(greenlet)) if greenlet is not None else None
    raw_stack = ""
    info = list(event.info or ())
    for i, line in enumerate(info):
        if isinstance(line, str) and line.startswith("Blocked Stack") and i + 1 < len(info):
            raw_stack = info[i + 1]
            break
    if serving is None and _only_server_frames(raw_stack):
        # Not a request, and no code of the app's in the stack: gevent's own
        # machinery, e.g. the monitor seeing the hub of another OS thread
        # (the reloader's) asleep in gevent/_monitor.py. Nothing to act on,
        # and reporting it would repeat the real report beside it.
        return
    stack = _own_frames(raw_stack)
    # one block of 500 ms is seen by several checks: report it once
    now = time.monotonic()
    last_id, last_time = _LAST_REPORT
    _LAST_REPORT[:] = [id(greenlet), now]
    if last_id == id(greenlet) and now - last_time < 2.5 * event.blocking_time:
        return
    what = f"while serving {serving}" if serving else f"in {greenlet!r}"
    limit_ms = event.blocking_time * 1000.0
    message = (
        f"a greenlet blocked the event loop for more than {limit_ms:g} ms {what}; every "
        "other request waited meanwhile. Look for a C library gevent cannot patch (a "
        "database driver?) or long CPU work in this stack:"
    )
    # in the one log format (digwebs_cli.logging_setup): formatting a record
    # takes no lock, unlike handing it to a logger
    record = logging.LogRecord("digwebs", logging.WARNING, __file__, 0, message, None, None)
    text = _FORMATTER.format(record) + "\n" + stack.rstrip() + "\n"
    try:
        os.write(2, text.encode("utf-8", "replace"))
    except OSError:
        pass


def _only_server_frames(stack: str) -> bool:
    """Whether every frame of *stack* is the server's own (gunicorn, gevent, digwebs_cli)."""
    frames = stack.split("  File ")[1:]
    return all(any(part in f.splitlines()[0] for part in _SERVER_PARTS) for f in frames if f)


def _own_frames(stack: str) -> str:
    """The frames of *stack* below the server's own (gunicorn, gevent, digwebs_cli)."""
    frames = ["  File " + part for part in stack.split("  File ")[1:]]
    last_server = -1
    for i, frame in enumerate(frames):
        first_line = frame.splitlines()[0] if frame else ""
        if any(part in first_line for part in _SERVER_PARTS):
            last_server = i
    own = frames[last_server + 1 :] or frames
    return "".join(own)
