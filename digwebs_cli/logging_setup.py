"""The one log format of ``digwebs serve``: access, server and app lines alike.

Every line is ``TIMESTAMP LEVEL SOURCE MESSAGE``::

    2026-12-01 10:24:06 INFO  access  127.0.0.1 "GET / HTTP/1.1" 200 1234 1.2ms
    2026-12-01 10:24:09 INFO  server  Worker reloading: /site/views/home.html modified
    2026-12-01 10:24:11 ERROR app     GET /boom failed
    Traceback (most recent call last): ...

* the timestamp is local time to the second (``%Y-%m-%d %H:%M:%S``), as a
  person reads a terminal;
* the level is five wide: ``DEBUG INFO WARN ERROR CRIT`` (``WARNING`` and
  ``CRITICAL`` shortened so the columns line up);
* the source is ``access`` (one line per request), ``server`` (gunicorn's
  own messages) or ``app`` (the ``digwebs`` logger and its children);
* an access line is the client address, the request line, the status, the
  body bytes sent and the time taken in milliseconds.

Colour (the level, and an access line's status) is used only when the
stream the handler writes to is a terminal (``isatty()``) and ``NO_COLOR``
is not set to a non-empty value (https://no-color.org): never in a file or
a pipe.
"""

from __future__ import annotations

import logging
import os
import time
import typing as t

__all__ = [
    "ACCESS_FORMAT",
    "LogFormatter",
    "install_app_logging",
    "level_name",
    "use_color",
]

# The message of an access line; its arguments are (address, request line,
# status, bytes, milliseconds), so a formatter can colour the status alone.
ACCESS_FORMAT = '%s "%s" %s %s %sms'
_ACCESS_STATUS_ARG = 2

_LEVEL_NAMES = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARN",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRIT",
}

# ANSI SGR codes
_RESET = "\x1b[0m"
_LEVEL_COLORS = {
    "DEBUG": "\x1b[2m",  # dim
    "INFO": "\x1b[32m",  # green
    "WARN": "\x1b[33m",  # yellow
    "ERROR": "\x1b[31m",  # red
    "CRIT": "\x1b[1;31m",  # bold red
}
_STATUS_COLORS = {
    1: "\x1b[2m",
    2: "\x1b[32m",
    3: "\x1b[36m",  # cyan
    4: "\x1b[33m",
    5: "\x1b[31m",
}


def level_name(levelno: int) -> str:
    """The five-wide name of a level: ``DEBUG INFO WARN ERROR CRIT`` (else ``LEVEL<n>``)."""
    name = _LEVEL_NAMES.get(levelno)
    if name is not None:
        return name
    # a custom level: the nearest standard one below it, as logging compares them
    below = [n for n in _LEVEL_NAMES if n <= levelno]
    return _LEVEL_NAMES[max(below)] if below else "DEBUG"


def use_color(stream: t.Any, environ: t.Mapping[str, str] | None = None) -> bool:
    """Whether to colour lines written to ``stream``.

    True only for a terminal (``stream.isatty()``) and when ``NO_COLOR`` is
    unset or empty. A stream without ``isatty``, or whose ``isatty`` fails
    (a closed file), is not a terminal.
    """
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (OSError, ValueError):
        return False


class LogFormatter(logging.Formatter):
    """Formats a record as ``TIMESTAMP LEVEL SOURCE MESSAGE`` (see the module docstring).

    ``source`` names every record of the handler (``access``, ``server``,
    ``app``). With ``color`` the level, and the status of a record whose
    ``status_code`` attribute is set (an access line), are wrapped in ANSI
    colour codes; without it the line is plain text. An exception's
    traceback follows the line, uncoloured.
    """

    def __init__(self, source: str, color: bool = False) -> None:
        super().__init__()
        self.source = source
        self.color = color

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """Local time to the second: ``2026-12-01 10:24:06``."""
        return time.strftime(datefmt or "%Y-%m-%d %H:%M:%S", time.localtime(record.created))

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line (plus its traceback, if any)."""
        level = level_name(record.levelno)
        message = self._message(record)
        padded = f"{level:<5}"
        if self.color:
            padded = _LEVEL_COLORS.get(level, "") + level + _RESET + " " * (5 - len(level))
        line = f"{self.formatTime(record)} {padded} {self.source:<7} {message}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return line

    def _message(self, record: logging.LogRecord) -> str:
        status = getattr(record, "status_code", None)
        args = record.args
        if not (self.color and status is not None and isinstance(args, tuple)):
            return record.getMessage()
        # colour the status argument of an access line only
        try:
            code = int(str(status)[:3])
        except ValueError:
            return record.getMessage()
        color = _STATUS_COLORS.get(code // 100, "")
        coloured = list(args)
        if len(coloured) > _ACCESS_STATUS_ARG:
            coloured[_ACCESS_STATUS_ARG] = f"{color}{coloured[_ACCESS_STATUS_ARG]}{_RESET}"
        try:
            return str(record.msg) % tuple(coloured)
        except (TypeError, ValueError):
            return record.getMessage()


def stream_handler(stream: t.Any, source: str) -> logging.StreamHandler[t.Any]:
    """A handler writing to ``stream`` in the digwebs format, coloured if it is a terminal."""
    handler: logging.StreamHandler[t.Any] = logging.StreamHandler(stream)
    handler.setFormatter(LogFormatter(source, color=use_color(stream)))
    return handler


def install_app_logging(stream: t.Any) -> bool:
    """Send the app's ``digwebs`` logger to ``stream`` in the digwebs format, at INFO.

    Only when the app has not configured logging itself: if the ``digwebs``
    logger or the root logger has a handler already (the app called
    ``logging.basicConfig`` or added its own), nothing changes and the
    result is False. Otherwise the result is True, and the handler is
    marked, so calling this again (a worker that reloads) does not stack a
    second one.
    """
    logger = logging.getLogger("digwebs")
    if any(getattr(h, "_digwebs", False) for h in logger.handlers):
        return True
    if logger.handlers or logging.getLogger().handlers:
        return False
    handler = stream_handler(stream, "app")
    handler._digwebs = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:  # a level the app chose stays
        logger.setLevel(logging.INFO)
    return True
