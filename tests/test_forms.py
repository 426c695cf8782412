"""Reading and parsing the request body (digwebs.forms): raw bytes, urlencoded and multipart.

Whatever is wrong with a body is a 4xx with a short reason, never a 500: a
Content-Length that lies, a body over ``max_content_length`` (refused
unread), the server's errors reading ``wsgi.input`` (also over real HTTP,
under gunicorn), malformed multipart.
"""

from __future__ import annotations

import logging

import pytest

from digwebs import Digwebs, request
from digwebs.errors import PayloadTooLarge
from digwebs.testing import TestClient
from digwebs.wrappers.request import Request


def test_form_urlencoded(echo, client):
    echo(lambda r: [r.form["name"], r.form.getlist("tag"), r.mimetype])
    r = client.post("/echo", data={"name": "ann \u00e9", "tag": ["a", "b"]})
    assert r.json == ["ann \u00e9", ["a", "b"], "application/x-www-form-urlencoded"]


_URLENCODED = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("content_type", "body", "status", "form"),
    [
        # The one-pass decoder's shortcuts (exact Content-Type, ASCII body)
        # and the general path give the same answers.
        (_URLENCODED, b"a=%C3%A9+1&b=%zz", 200, {"a": "\u00e9 1", "b": "%zz"}),
        (_URLENCODED, "a=\u00e9&b=%41".encode(), 200, {"a": "\u00e9", "b": "A"}),
        (_URLENCODED, b"a=\xe9", 400, None),
        (_URLENCODED + "; charset=UTF-8", b"a=%41%FF", 200, {"a": "A%FF"}),
        ("Application/X-WWW-Form-Urlencoded", b"a=%41&a=2", 200, {"a": "A"}),
        (_URLENCODED + "; charset=ISO-8859-1", b"a=\xe9%41", 200, {"a": "\u00e9A"}),
        (_URLENCODED + "; charset=utf-16-le", "a=%41".encode("utf-16-le"), 200, {"a": "A"}),
        (_URLENCODED + "; charset=nope", b"a=1", 400, None),
        (_URLENCODED, b"a=1\r\n&b=%0D%0A%00", 200, {"a": "1\r\n", "b": "\r\n\x00"}),
    ],
)  # fmt: skip
def test_form_urlencoded_charsets_and_shortcuts(app, content_type, body, status, form):
    app.add_route("/f", lambda: request.form.to_dict(), ["POST"], name="f")
    r = app.test_client().post("/f", data=body, headers={"Content-Type": content_type})
    assert r.status_code == status
    if form is not None:
        assert r.json == form


def test_form_multipart_with_files(echo, client, tmp_path):
    def read(r):
        up = r.files["doc"]
        content = up.read().decode()
        target = tmp_path / "saved.bin"
        up.save(str(target))  # rewinds first
        return [
            r.form["title"],
            up.filename,
            up.content_type,
            content,
            target.read_text(),
            list(r.files),
        ]

    echo(read)
    r = client.post("/echo", data={"title": "T"}, files={"doc": ("a.txt", b"hello", "text/plain")})
    assert r.json == ["T", "a.txt", "text/plain", "hello", "hello", ["doc"]]


def test_form_is_empty_for_other_bodies(echo, client):
    echo(lambda r: [r.form.to_dict(), r.files.to_dict()])
    assert client.post("/echo", json={"a": 1}).json == [{}, {}]


# -- the body: Content-Length and max_content_length --------------------------


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "0x10"])
def test_malformed_content_length_is_400(app, length):
    app.add_route("/", lambda: request.body, ["POST"])
    # wsgiref's validator refuses such an environ itself, so this one request skips it.
    client = TestClient(app, validate=False)
    r = client.post("/", data=b"x", headers={"Content-Length": length})
    assert r.status_code == 400 and "Content-Length" in r.text


def test_body_shorter_than_content_length_is_400(app, client):
    app.add_route("/", lambda: request.body, ["POST"])
    r = client.post("/", data=b"short", headers={"Content-Length": "10"})
    assert r.status_code == 400 and "ended before" in r.text


class ExplodingInput:
    """A wsgi.input that fails the test if the application reads it."""

    def read(self, *args):
        raise AssertionError("the body was read although it is too large")

    readline = readlines = read

    def __iter__(self):
        raise AssertionError("the body was iterated although it is too large")


@pytest.mark.parametrize(
    ("read", "content_type"),
    [
        (lambda r: r.body, "application/octet-stream"),
        (lambda r: r.get_data(), "text/plain"),
        (lambda r: r.json, "application/json"),
        (lambda r: r.form, "application/x-www-form-urlencoded"),
        (lambda r: r.form, "multipart/form-data; boundary=xyz"),
        (lambda r: r.files, "multipart/form-data; boundary=xyz"),
    ],
)
def test_body_over_max_content_length_is_413_unread(tmp_path, read, content_type):
    app = Digwebs(tmp_path, debug=False, max_content_length=100)
    app.add_route("/", lambda: repr(read(request)), ["POST"])
    client = app.test_client()
    overrides = {"wsgi.input": ExplodingInput()}
    r = client.post(
        "/",
        headers={"Content-Length": "101", "Content-Type": content_type},
        environ_overrides=overrides,
    )
    assert r.status_code == 413


def test_body_at_max_content_length_is_read(tmp_path):
    app = Digwebs(tmp_path, debug=False, max_content_length=100)
    app.add_route("/", lambda: str(len(request.body)), ["POST"])
    assert app.test_client().post("/", data=b"x" * 100).text == "100"


def test_max_content_length_applies_in_test_request_context_too(tmp_path):
    app = Digwebs(tmp_path, debug=False, max_content_length=100)
    with app.test_request_context("/", "POST", data=b"x" * 101):
        with pytest.raises(PayloadTooLarge):
            _ = request.body


# -- errors reading wsgi.input are the client's (item 5) -----------------------


class ServerParseError(Exception):
    """Stands for gunicorn.http.errors.InvalidChunkSize and the like."""


class FailingInput:
    """A wsgi.input whose reads fail as a server's do on a broken chunked body."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def read(self, *args):
        raise self.exc

    readline = read

    def __iter__(self):
        raise self.exc


@pytest.mark.parametrize(
    "exc",
    [
        ServerParseError("Invalid chunk size: 'zz'"),
        OSError(104, "Connection reset by peer"),
        ValueError("I/O operation on closed file"),
        EOFError(),
    ],
)
@pytest.mark.parametrize(
    ("read", "content_type"),
    [
        (lambda r: r.body, "application/octet-stream"),
        (lambda r: r.get_data(as_text=True), "text/plain"),
        (lambda r: r.json, "application/json"),
        (lambda r: r.get_json(), "application/json"),
        (lambda r: r.form, "application/x-www-form-urlencoded"),
        (lambda r: r.form, "multipart/form-data; boundary=xyz"),
        (lambda r: r.files, "multipart/form-data; boundary=xyz"),
        (lambda r: r.values, "application/x-www-form-urlencoded"),
    ],
)
@pytest.mark.parametrize("chunked", [False, True])
def test_errors_reading_the_body_are_400_not_500(
    tmp_path, caplog, exc, read, content_type, chunked
):
    app = Digwebs(tmp_path, debug=False)
    app.add_route("/", lambda: repr(read(request)), ["POST"])
    client = TestClient(app, validate=False)
    overrides = {"wsgi.input": FailingInput(exc)}
    headers = {"Content-Type": content_type}
    if chunked:
        # What gunicorn hands over for Transfer-Encoding: chunked.
        overrides["wsgi.input_terminated"] = True
        overrides["CONTENT_LENGTH"] = ""
    else:
        headers["Content-Length"] = "10"
    r = client.post("/", headers=headers, environ_overrides=overrides)
    assert r.status_code == 400, r.text
    assert "could not be read" in r.text and "Traceback" not in r.text
    # Neither the server's exception name nor its message: they are internal.
    assert type(exc).__name__ not in r.text and (not str(exc) or str(exc) not in r.text)
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


def test_memory_error_reading_the_body_is_not_the_clients(tmp_path):
    app = Digwebs(tmp_path, debug=False)
    app.add_route("/", lambda: request.body, ["POST"])
    r = TestClient(app, validate=False).post(
        "/",
        headers={"Content-Length": "10"},
        environ_overrides={"wsgi.input": FailingInput(MemoryError())},
    )
    assert r.status_code == 500


# -- multipart bodies (item 7) -------------------------------------------------


def _multipart(*parts: bytes, boundary: bytes = b"xyz", close: bool = True) -> bytes:
    out = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return out + (b"--" + boundary + b"--\r\n" if close else b"")


_TEXT_FIELD = b'Content-Disposition: form-data; name="t"\r\n\r\n'


_FILE_FIELD = (
    b'Content-Disposition: form-data; name="f"; filename="a.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (_multipart(_TEXT_FIELD + b"\xff\xfe"), "boundary=xyz", "not valid UTF-8"),
        (_multipart(_TEXT_FIELD + b"ok"), "boundary=xyz; charset=no-such-codec", "charset"),
        (_multipart(b'Content-Disposition form-data; name="t"\r\n\r\nv'), "boundary=xyz", ""),
        (_multipart(b"X-Other: y\r\n\r\nv"), "boundary=xyz", ""),
        (_multipart(b'Content-Disposition: form-data; name="\xff"\r\n\r\nv'), "boundary=xyz", ""),
        (_multipart(_TEXT_FIELD + b"v"), "", "no boundary"),
        (_multipart(_TEXT_FIELD + b"v"), "boundary=", "no boundary"),
        (_multipart(_TEXT_FIELD + b"v", close=False), "boundary=xyz", ""),
        (_multipart(_TEXT_FIELD + b"v", boundary=b"other"), "boundary=xyz", ""),
        (b"not multipart at all", "boundary=xyz", ""),
    ],
)
def test_malformed_multipart_is_400(tmp_path, caplog, body, content_type, message):
    app = Digwebs(tmp_path, debug=False)
    app.add_route("/", lambda: repr([request.form, request.files]), ["POST"])
    ctype = "multipart/form-data" + (f"; {content_type}" if content_type else "")
    r = app.test_client().post("/", data=body, headers={"Content-Type": ctype})
    assert r.status_code == 400, r.text
    assert message in r.text and "Traceback" not in r.text
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


def test_multipart_file_parts_stay_bytes(app, client):
    app.add_route("/", lambda: [request.files["f"].read().hex(), request.form["t"]], ["POST"])
    body = _multipart(_FILE_FIELD + b"\xff\xfe\x00", _TEXT_FIELD + "\u00e9".encode())
    r = client.post("/", data=body, headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert r.json == ["fffe00", "\u00e9"]


# -- a malformed chunked body over real HTTP, under gunicorn ----------------------


_LIVE_APP = """\
from digwebs import Digwebs, request

app = Digwebs(__file__, debug=False)
app.add_route("/", lambda: "%d bytes" % len(request.body), ["POST"])
app.add_route("/form", lambda: repr(request.form.to_dict()), ["POST"], name="form")
app.add_route("/json", lambda: repr(request.json), ["POST"], name="json")
"""


_BROKEN_CHUNKED = [
    pytest.param(b"zz\r\nabc\r\n0\r\n\r\n", id="size-zz"),
    pytest.param(b"-5\r\nabcde\r\n0\r\n\r\n", id="size-minus-5"),
    pytest.param(b"5 \r\nabcde\r\n0\r\n\r\n", id="size-trailing-space"),
    pytest.param(b"5\r\nabcdeXX0\r\n\r\n", id="missing-terminator"),
    pytest.param(b"a\r\nabc", id="early-eof"),
]


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    """A gunicorn (sync worker) serving ``_LIVE_APP`` on 127.0.0.1; stopped by its pid.

    ``--no-control-socket``: gunicorn 27 otherwise binds one shared
    ``~/.gunicorn/gunicorn.ctl`` per user, which servers running side by side
    would take from each other.
    """
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    pytest.importorskip("gunicorn")
    folder = tmp_path_factory.mktemp("live")
    (folder / "liveapp.py").write_text(_LIVE_APP)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    repo = str(Path(__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGWEBS_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--chdir", str(folder), "-b", f"127.0.0.1:{port}",
             "-w", "1", "--timeout", "20", "--log-level", "info", "--no-control-socket",
             "liveapp:app"],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + log_path.read_text())
                time.sleep(0.1)
        yield port, log_path, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _raw_request(port: int, data: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # early EOF for the truncated bodies
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/", "/form", "/json"])
@pytest.mark.parametrize("body", _BROKEN_CHUNKED)
def test_broken_chunked_bodies_are_400_under_gunicorn(gunicorn_server, path, body):
    port, log_path, proc = gunicorn_server
    ctype = {"/": "application/octet-stream", "/form": "application/x-www-form-urlencoded",
             "/json": "application/json"}[path]  # fmt: skip
    before = log_path.read_text()
    answer = _raw_request(
        port,
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
        + body,
    )
    status = answer.split(b"\r\n", 1)[0]
    assert status.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"Traceback" not in answer and b"could not be read" in answer
    for name in (b"InvalidChunkSize", b"NoMoreData", b"ChunkMissingTerminator", b"gunicorn."):
        assert name not in answer.partition(b"\r\n\r\n")[2]
    # a good request still works afterwards, from the same worker
    ok = _raw_request(
        port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
    )
    assert ok.startswith(b"HTTP/1.1 200") and ok.endswith(b"3 bytes"), ok[:300]
    new_log = log_path.read_text()[len(before) :]
    assert "Traceback" not in new_log and "[ERROR]" not in new_log, new_log
    assert proc.poll() is None


# -- the module layout (issue 10 item 4) -----------------------------------------


def test_body_parsing_lives_in_digwebs_forms():
    # issue 10 item 4: Request keeps its API, the body and form parsing is
    # digwebs.forms' (and each module stays small enough to read).
    import importlib
    from pathlib import Path

    forms = importlib.import_module("digwebs.forms")
    request_module = importlib.import_module("digwebs.wrappers.request")
    assert request_module.Request is Request
    assert isinstance(Request.__dict__["form"], forms._FormAttribute)
    assert isinstance(Request.__dict__["files"], forms._FormAttribute)
    for module in (request_module, forms):
        assert module.__file__ is not None
        assert len(Path(module.__file__).read_text().splitlines()) <= 500, module.__name__
