"""The one log format of ``digwebs serve`` (digwebs_cli.logging_setup), and its byte counts.

Unit tests of the formatter and of the gunicorn logger's access lines; the
live checks (a real server's log, byte counts per worker model) are in
tests/e2e/test_serve_logs.py.
"""

from __future__ import annotations

import datetime
import io
import logging
import re
import sys
import time
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digwebs_cli import logging_setup
from digwebs_cli.logging_setup import ACCESS_FORMAT, LogFormatter, use_color

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


class Parsed(t.NamedTuple):
    stamp: str
    level: str
    source: str
    message: str


def parse(line: str) -> Parsed | None:
    """Split a plain line by its fixed columns; None if it is not one."""
    parts = Parsed(line[:19], line[20:25], line[26:33].rstrip(), line[34:])
    if not STAMP.match(parts.stamp) or line[19] != " " or line[25] != " " or line[33] != " ":
        return None
    if parts.level not in ("DEBUG", "INFO ", "WARN ", "ERROR", "CRIT "):
        return None
    return parts


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def record(
    msg: str, *args: object, level: int = logging.INFO, **extra: object
) -> logging.LogRecord:
    rec = logging.LogRecord("x", level, __file__, 1, msg, args or None, None)
    rec.created = time.mktime((2026, 12, 1, 10, 24, 6, 0, 0, -1))
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_example_line_of_the_issue():
    rec = record(ACCESS_FORMAT, "127.0.0.1", "GET / HTTP/1.1", "200", 1234, "1.2", status_code=200)
    assert LogFormatter("access").format(rec) == (
        '2026-12-01 10:24:06 INFO  access  127.0.0.1 "GET / HTTP/1.1" 200 1234 1.2ms'
    )


@pytest.mark.parametrize(
    ("level", "name"),
    [
        (logging.DEBUG, "DEBUG"),
        (logging.INFO, "INFO "),
        (logging.WARNING, "WARN "),
        (logging.ERROR, "ERROR"),
        (logging.CRITICAL, "CRIT "),
        (25, "INFO "),
        (5, "DEBUG"),
    ],
)
def test_levels_are_five_wide(level, name):
    line = LogFormatter("server").format(record("hello", level=level))
    assert line == f"2026-12-01 10:24:06 {name} server  hello"


def test_sources_line_up():
    lines = [LogFormatter(src).format(record("m")) for src in ("access", "server", "app")]
    assert {line.index(" m") for line in lines} == {len("2026-12-01 10:24:06 INFO  access ")}


def test_a_traceback_follows_the_line_uncoloured():
    try:
        raise ValueError("bad")
    except ValueError:
        rec = record("GET /boom failed", level=logging.ERROR)
        rec.exc_info = sys.exc_info()
    text = LogFormatter("app", color=True).format(rec)
    first, rest = text.split("\n", 1)
    assert ANSI.sub("", first) == "2026-12-01 10:24:06 ERROR app     GET /boom failed"
    assert rest.startswith("Traceback (most recent call last):")
    assert "ValueError: bad" in rest and not ANSI.search(rest)


def test_colour_marks_the_level_and_the_status_only():
    rec = record(ACCESS_FORMAT, "::1", "GET /x HTTP/1.1", "404", 9, "0.3", status_code=404)
    text = LogFormatter("access", color=True).format(rec)
    assert text.count("\x1b[33m") == 1  # 404: yellow status; INFO is green
    assert "\x1b[32mINFO\x1b[0m " in text and "\x1b[33m404\x1b[0m" in text
    assert ANSI.sub("", text) == LogFormatter("access").format(rec)


@pytest.mark.parametrize(
    ("stream", "env", "expected"),
    [
        (Tty(), {}, True),
        (Tty(), {"NO_COLOR": "1"}, False),
        (Tty(), {"NO_COLOR": ""}, True),  # no-color.org: set and not empty
        (io.StringIO(), {}, False),  # a file or a pipe
        (object(), {}, False),  # no isatty at all
    ],
)
def test_use_color(stream, env, expected):
    assert use_color(stream, env) is expected


def test_a_closed_stream_is_not_a_terminal():
    stream = io.StringIO()
    stream.close()
    assert use_color(stream, {}) is False


@settings(max_examples=200, deadline=None)
@given(
    msg=st.text(st.characters(blacklist_characters="\x1b")),
    level=st.sampled_from([10, 20, 30, 40, 50]),
    source=st.sampled_from(["access", "server", "app"]),
    color=st.booleans(),
    status=st.one_of(st.none(), st.integers(100, 599)),
)
def test_every_line_has_the_shape(msg, level, source, color, status):
    """Whatever the message, the line starts with timestamp, level and source, then the message."""
    rec = (
        record("%s", msg, level=level)
        if status is None
        else record(ACCESS_FORMAT, "h", msg, str(status), 1, "0.1", level=level, status_code=status)
    )
    text = LogFormatter(source, color=color).format(rec)
    plain = ANSI.sub("", text)
    assert plain == LogFormatter(source).format(rec)
    parts = parse(plain)
    assert parts, plain
    assert parts.source == source
    expected = msg if status is None else f'h "{msg}" {status} 1 0.1ms'
    assert parts.message == expected
    if not color:
        assert text == plain


# -- the app's logger -------------------------------------------------------


@pytest.fixture
def clean_digwebs_logger():
    logger = logging.getLogger("digwebs")
    root = logging.getLogger()
    saved = (logger.handlers[:], logger.level, root.handlers[:])
    logger.handlers.clear()
    root.handlers.clear()
    yield logger
    logger.handlers.clear()
    logger.handlers[:], logger.level = saved[0], saved[1]
    root.handlers[:] = saved[2]


def test_app_logging_goes_to_the_stream_in_the_format(clean_digwebs_logger, monkeypatch):
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # pytest's capture handler
    out = io.StringIO()
    assert logging_setup.install_app_logging(out) is True
    assert logging_setup.install_app_logging(out) is True  # a reloading worker: no second handler
    assert len(clean_digwebs_logger.handlers) == 1
    logging.getLogger("digwebs.sessions").warning("cookie %s too big", "sid")
    clean_digwebs_logger.info("hello")
    lines = out.getvalue().splitlines()
    assert [parse(line)[1:] for line in lines] == [  # type: ignore[index]
        ("WARN ", "app", "cookie sid too big"),
        ("INFO ", "app", "hello"),
    ]


def test_app_logging_keeps_the_apps_own_configuration(clean_digwebs_logger):
    mine = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(mine)
    assert logging_setup.install_app_logging(io.StringIO()) is False
    assert clean_digwebs_logger.handlers == []


# -- gunicorn's logger: access lines and byte counts ---------------------------


class FakeResponse:
    def __init__(self, status: str, sent: int, headers: list[tuple[str, str]]) -> None:
        self.status = status
        self.sent = sent
        self.headers = headers


def access_line(resp: FakeResponse, method: str = "GET") -> str:
    from digwebs_cli.gunicorn_app import DigwebsLogger

    log = DigwebsLogger(_cfg())
    out = io.StringIO()
    for handler in log.access_log.handlers:
        handler.setStream(out)  # type: ignore[attr-defined]
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": method,
        "RAW_URI": "/x?y=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    log.access(resp, {}, environ, datetime.timedelta(microseconds=1234))
    return out.getvalue().rstrip("\n")


def _cfg():
    from gunicorn.config import Config

    from digwebs_cli.gunicorn_app import DigwebsLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("errorlog", "-")
    cfg.set("logger_class", DigwebsLogger)
    return cfg


def test_access_line_counts_the_bytes_sent():
    line = access_line(FakeResponse("200 OK", 5, [("Content-Length", "5")]))
    assert parse(line)[1:] == (  # type: ignore[index]
        "INFO ",
        "access",
        '127.0.0.1 "GET /x?y=1 HTTP/1.1" 200 5 1.2ms',
    )


def test_control_characters_in_the_request_line_are_escaped():
    resp = FakeResponse("400 Bad Request", 0, [])
    from digwebs_cli.gunicorn_app import _printable

    assert _printable("GET /\x1b[2J\x7f HTTP/1.1") == "GET /\\x1b[2J\\x7f HTTP/1.1"
    assert _printable("GET /plain HTTP/1.1") == "GET /plain HTTP/1.1"
    assert access_line(resp)  # still one line


class Req:
    """What gunicorn's Response reads of a parsed request."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.version = (1, 1)
        self.headers: list[tuple[str, str]] = []

    def should_close(self) -> bool:
        return True


def send_file(tmp_path, method: str, size: int, content_length: int | None, status: str = "200 OK"):
    """Send a file through gunicorn's Response as a file_wrapper body.

    Returns (resp.sent, the body bytes on the wire)."""
    import socket

    from gunicorn.config import Config
    from gunicorn.http import wsgi
    from gunicorn.http.wsgi import FileWrapper

    from digwebs_cli.gunicorn_app import _count_sendfile_bytes

    _count_sendfile_bytes()  # as DigwebsApplication() does
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * size)
    a, b = socket.socketpair()
    try:
        resp = wsgi.Response(Req(method), a, Config())
        headers = [("Content-Type", "application/octet-stream")]
        if content_length is not None:
            headers.append(("Content-Length", str(content_length)))
        resp.start_response(status, headers)
        with path.open("rb") as fh:
            resp.write_file(FileWrapper(fh))
        resp.close()
        a.shutdown(socket.SHUT_WR)
        b.settimeout(5)
        wire = b""
        while chunk := b.recv(65536):
            wire += chunk
    finally:
        a.close()
        b.close()
    body = wire.split(b"\r\n\r\n", 1)[1]
    return resp.sent, body


@pytest.mark.parametrize(
    ("method", "size", "content_length", "status", "expected"),
    [
        ("GET", 70_000, 70_000, "200 OK", 70_000),
        ("GET", 1234, None, "200 OK", 1234),  # chunked: the body bytes, not the framing
        ("GET", 0, 0, "200 OK", 0),
        ("HEAD", 5000, 5000, "200 OK", 0),  # nothing sent
        ("GET", 5000, 5000, "304 Not Modified", 0),
    ],
)
def test_sendfile_bodies_are_counted(tmp_path, method, size, content_length, status, expected):
    sent, body = send_file(tmp_path, method, size, content_length, status)
    assert sent == expected
    if content_length is not None:
        assert len(body) == expected
