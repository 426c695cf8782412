"""``--warn-blocking``'s reports: a greenlet that kept the gevent loop too long.

gevent's monitor thread publishes an ``EventLoopBlocked`` event;
:func:`report_blocking` writes it as one warning, in the server's log
format, with the request the greenlet was serving (:data:`SERVING`, kept
by the worker while the monitor is on) and the stack below the server's
own frames. Imported by :mod:`digwebs_cli._gevent_support` only.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import typing as t

from digwebs_cli.logging_setup import LogFormatter, use_color

# the reports are written to stderr (file descriptor 2), coloured if a terminal
_FORMATTER = LogFormatter("server", color=use_color(sys.stderr))

# id(greenlet) -> "METHOD /path" of the request it is serving (only kept while
# the monitor is on)
SERVING: dict[int, str] = {}
_LAST_REPORT: list[t.Any] = [0, 0.0]
_SERVER_PARTS = (
    os.sep + "gunicorn" + os.sep,
    os.sep + "gevent" + os.sep,
    os.sep + "digwebs_cli" + os.sep,
)


def report_blocking(event: t.Any) -> None:
    """zope.event subscriber; runs in gevent's monitor thread (a real OS thread).

    Writes straight to file descriptor 2: the logging module's locks are
    gevent locks after monkey-patching and must not be taken from this thread.
    """
    from gevent.events import EventLoopBlocked

    if not isinstance(event, EventLoopBlocked):
        return
    greenlet = event.greenlet
    serving = SERVING.get(id(greenlet)) if greenlet is not None else None
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
