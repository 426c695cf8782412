"""The Request object, read through real requests."""

from __future__ import annotations

import html
import io
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict as WMultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WRequest

from digwebs import Digwebs, request
from digwebs.errors import PayloadTooLarge
from digwebs.testing import TestClient
from digwebs.wrappers.request import Request


@pytest.fixture
def echo(app):
    """Register ``/echo`` (any method) that returns what ``read(request)`` gives."""

    def register(read, methods=("GET", "POST", "PUT", "PATCH", "DELETE")):
        app.add_route("/echo", lambda: read(request), methods, name="echo")
        app.add_route("/echo/<path:rest>", lambda rest: read(request), methods, name="echo_rest")

    return register


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_method(echo, client, method):
    echo(lambda r: r.method)
    assert client.open("/echo", method).text == method


def test_path_url_host_scheme_remote_addr(echo, client):
    echo(lambda r: [r.path, r.url, r.host, r.scheme, r.remote_addr, r.query_string])
    assert client.get("/echo/a b", query={"x": "1"}).json == [
        "/echo/a b",
        "http://localhost/echo/a%20b?x=1",
        "localhost",
        "http",
        "127.0.0.1",
        "x=1",
    ]


def test_host_header_wins(echo, client):
    echo(lambda r: [r.host, r.url])
    r = client.get("/echo", headers={"Host": "example.com:8080"})
    assert r.json == ["example.com:8080", "http://example.com:8080/echo"]


@pytest.mark.parametrize(
    ("overrides", "host"),
    [
        ({"SERVER_NAME": "srv", "SERVER_PORT": "8000"}, "srv:8000"),
        ({"SERVER_NAME": "srv", "SERVER_PORT": "443", "wsgi.url_scheme": "https"}, "srv"),
    ],
)
def test_host_from_server_name(app, overrides, host):
    with app.test_request_context("/", environ_overrides={"HTTP_HOST": "", **overrides}):
        assert request.host == host


def test_unicode_path_is_decoded(echo, client):
    echo(lambda r: r.path)
    assert client.get("/echo/%E4%BD%A0%E5%A5%BD/caf%C3%A9").text == "/echo/\u4f60\u597d/caf\u00e9"


def test_query_multi_valued(echo, client):
    echo(
        lambda r: [
            r.query["a"],
            r.query.getlist("a"),
            r.query.get("missing", "d"),
            r.query.get("n", type=int),
        ]
    )
    assert client.get("/echo?a=1&a=2&n=5").json == ["1", ["1", "2"], "d", 5]


@pytest.mark.parametrize(
    ("qs", "expected"),
    [
        ("q=a+b", {"q": ["a b"]}),
        ("q=%C3%A9%26", {"q": ["\u00e9&"]}),
        ("flag=&x=1", {"flag": [""], "x": ["1"]}),
        ("&&k=v&", {"k": ["v"]}),
        ("", {}),
    ],
)
def test_query_decoding(echo, client, qs, expected):
    echo(lambda r: r.query.to_dict(flat=False))
    assert client.get(f"/echo?{qs}").json == expected


def test_headers_are_case_insensitive(echo, client):
    echo(
        lambda r: [
            r.headers["x-token"],
            r.headers["X-TOKEN"],
            r.headers.get("X-Nope", "-"),
            "X-Token" in r.headers,
        ]
    )
    assert client.get("/echo", headers={"X-Token": "abc"}).json == ["abc", "abc", "-", True]


def test_cookies(echo, client):
    echo(lambda r: r.cookies)
    r = client.get("/echo", headers={"Cookie": 'a=1; b="x y"; broken; c=3'})
    assert r.json == {"a": "1", "b": "x y", "c": "3"}


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


def test_uploaded_file_stream_and_save_to_file_object(app, client):
    @app.post("/up")
    def up():
        f = request.files["f"]
        out = io.BytesIO()
        f.save(out)
        return [f.stream.read().decode(), out.getvalue().decode(), f.name]

    data = b"\x00\x01binary" * 1000
    r = client.post("/up", files={"f": ("b.bin", data)})
    assert r.json == ["", data.decode(), "f"]


def test_form_is_empty_for_other_bodies(echo, client):
    echo(lambda r: [r.form.to_dict(), r.files.to_dict()])
    assert client.post("/echo", json={"a": 1}).json == [{}, {}]


def test_json_body(echo, client):
    echo(lambda r: [r.json, r.is_json])
    assert client.post("/echo", json={"a": [1, "\u00e9"]}).json == [{"a": [1, "\u00e9"]}, True]


def test_empty_json_body_is_none(echo, client):
    echo(lambda r: [r.json])
    assert client.post("/echo", headers={"Content-Type": "application/json"}).json == [None]


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe"])
def test_invalid_json_is_400(echo, client, body):
    echo(lambda r: r.json)
    r = client.post("/echo", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.text


def test_body_and_content_length(echo, client):
    echo(lambda r: [r.body.decode(), r.content_length, r.get_data(as_text=True)])
    assert client.put("/echo", data=b"raw bytes").json == ["raw bytes", 9, "raw bytes"]


def test_no_body(echo, client):
    echo(lambda r: [r.body.decode(), r.content_length])
    assert client.get("/echo").json == ["", None]


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


def test_request_repr_and_values(app):
    with app.test_request_context("/p?a=1", method="POST", data={"b": "2"}):
        assert repr(request._get_current_object()) == "<Request POST 'http://localhost/p?a=1'>"
        assert request.values.to_dict() == {"a": "1", "b": "2"}
        assert request.args is request.query


def test_invalid_utf8_in_the_path_does_not_fail(echo, client):
    echo(lambda r: r.path)
    r = client.get("/echo/%FF%FE")
    assert (r.status_code, r.text) == (200, "/echo/\ufffd\ufffd")


def test_invalid_percent_escapes_in_the_query_are_kept(echo, client):
    echo(lambda r: r.query.to_dict())
    assert client.get("/echo?a=%zz&b=100%").json == {"a": "%zz", "b": "100%"}


def test_empty_path_info_is_the_root(app):
    app.add_route("/", lambda: request.path)
    with app.test_request_context("/", environ_overrides={"PATH_INFO": ""}):
        assert request.path == "/"
    r = TestClient(app).get("/", environ_overrides={"PATH_INFO": ""})
    assert r.text == "/"


def test_max_content_length_applies_in_test_request_context_too(tmp_path):
    app = Digwebs(tmp_path, debug=False, max_content_length=100)
    with app.test_request_context("/", "POST", data=b"x" * 101):
        with pytest.raises(PayloadTooLarge):
            _ = request.body


@pytest.mark.parametrize(
    ("read", "missing"),
    [
        (lambda r: r.form["title"], "field 'title'"),
        (lambda r: r.query["page"], "field 'page'"),
        (lambda r: r.headers["X-Token"], "header 'X-Token'"),
    ],
)
def test_missing_request_key_is_400_not_500(tmp_path, read, missing):
    app = Digwebs(tmp_path, debug=False)
    app.add_route("/", lambda: read(request), ["POST"])
    r = app.test_client().post("/", data={"other": "1"})
    assert r.status_code == 400
    assert html.escape(missing) in r.text


def test_missing_request_key_is_still_a_key_error(app):
    with app.test_request_context("/"):
        with pytest.raises(KeyError):
            request.query["absent"]


# -- request.json and Content-Type (issue 9, item 2) -------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.api+json",
        "application/problem+json; charset=utf-8",
    ],
)
def test_json_types_are_parsed(echo, client, content_type):
    echo(lambda r: [r.json, r.is_json, r.get_json()])
    r = client.post("/echo", data=b'{"a": 1}', headers={"Content-Type": content_type})
    assert r.json == [{"a": 1}, True, {"a": 1}]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain; charset=utf-8", "", "text/x+json", "application/jsonx",
     "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"],
)  # fmt: skip
def test_other_types_are_not_json(app, content_type):
    # text/plain is what a cross-site HTML form can send without a preflight.
    app.add_route("/", lambda: repr([request.json, request.is_json]), ["POST"])
    r = app.test_client().post("/", data=b'{"a": 1}', headers={"Content-Type": content_type})
    assert r.text == "[None, False]"


def test_get_json_refuses_other_types_with_415(echo, client):
    echo(lambda r: r.get_json())
    r = client.post("/echo", data=b'{"a": 1}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and "JSON" in r.text and "Traceback" not in r.text


def test_get_json_silent_and_force(echo, client):
    echo(
        lambda r: [
            r.get_json(silent=True),
            r.get_json(force=True),
            r.get_json(force=True, silent=True),
        ]
    )
    r = client.post("/echo", data=b'{"a": 1}', headers={"Content-Type": "text/plain"})
    assert r.json == [None, {"a": 1}, {"a": 1}]


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b""])
def test_get_json_invalid_is_400_or_silent_none(echo, client, body):
    echo(lambda r: [r.get_json(silent=True)])
    client.app.add_route("/strict", lambda: request.get_json(), ["POST"], name="strict")
    headers = {"Content-Type": "application/json"}
    assert client.post("/echo", data=body, headers=headers).json == [None]
    r = client.post("/strict", data=body, headers=headers)
    assert r.status_code == 400 and "JSON" in r.text


def test_deeply_nested_json_is_400(app, caplog):
    # json.loads raises RecursionError long before 100,000 levels.
    app.add_route("/", lambda: repr(request.json), ["POST"])
    app.add_route("/g", lambda: repr(request.get_json(silent=True)), ["POST"], name="g")
    client = app.test_client()
    headers = {"Content-Type": "application/json"}
    r = client.post("/", data=b"[" * 100_000, headers=headers)
    assert r.status_code == 400 and "nested too deeply" in r.text
    assert client.post("/g", data=b"[" * 100_000, headers=headers).text == "None"
    assert not [rec for rec in caplog.records if rec.levelname == "ERROR"]


# is_json against werkzeug's Request.is_json on generated content types.
_mime_parts = st.sampled_from(
    ["application", "text", "APPLICATION", "Application", "image", "x", "", "*"]
)
_subtypes = st.sampled_from(
    ["json", "JSON", "vnd.api+json", "ld+JSON", "json+xml", "x-json", "jsonx", "+json",
     "html", "plain", "", "json ", " json"]
)  # fmt: skip
_params = st.sampled_from(
    ["", "; charset=utf-8", ";charset=UTF-8", ' ; q="a;b"', ";", "; boundary=x+json", "\t"]
)


@settings(max_examples=300, deadline=None)
@given(_mime_parts, st.sampled_from(["/", "", "//"]), _subtypes, _params, st.sampled_from(" \t"))
def test_is_json_matches_werkzeug(main, slash, sub, params, pad):
    content_type = f"{pad}{main}{slash}{sub}{params}"
    environ = EnvironBuilder(method="POST").get_environ()
    environ["CONTENT_TYPE"] = content_type
    assert Request(environ).is_json is WRequest(environ).is_json, content_type


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


# -- request.values (item 30) ---------------------------------------------------


def test_values_query_first_then_form(app):
    with app.test_request_context("/p?a=q1&a=q2&c=q", method="POST", data={"a": "f", "b": "f"}):
        assert request.values["a"] == "q1"
        assert request.values.getlist("a") == ["q1", "q2", "f"]
        assert request.values.to_dict() == {"a": "q1", "c": "q", "b": "f"}


def test_values_of_a_get_request_ignore_the_body(app):
    # As werkzeug 2.0+: a GET body must not change what a cached URL means.
    with app.test_request_context("/p?a=1", method="GET", data={"b": "2"}):
        assert request.values.to_dict() == {"a": "1"}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(["1", "x y", "\xe9"])), max_size=4),
    st.lists(st.tuples(st.sampled_from("abd"), st.sampled_from(["3", "&", ""])), max_size=4),
)
def test_values_match_werkzeug(method, query, form):
    def environ():
        # A new builder each time: the environs would share one input stream.
        return EnvironBuilder(
            path="/", method=method, query_string=query, data=WMultiDict(form) if form else None,
            content_type="application/x-www-form-urlencoded" if form else None,
        ).get_environ()  # fmt: skip

    theirs = WRequest(environ()).values
    ours = Request(environ()).values
    expected_lists = {k: theirs.getlist(k) for k in theirs}
    assert {k: ours.getlist(k) for k in ours} == expected_lists
    assert set(ours) == set(theirs)  # werkzeug's CombinedMultiDict keys are a set
    for key in "abcd":
        assert ours.get(key) == theirs.get(key)


# -- request.headers lists each header once (item 28) --------------------------


def test_headers_list_content_type_once(app):
    overrides = {
        "CONTENT_TYPE": "text/plain",
        "HTTP_CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "1",
        "HTTP_CONTENT_LENGTH": "1",
    }
    with app.test_request_context("/", "POST", data=b"x", environ_overrides=overrides):
        names = [n.lower() for n in request.headers]
        assert names.count("content-type") == 1 and names.count("content-length") == 1


# -- FileStorage.save accepts os.PathLike (item 29) -----------------------------


def test_upload_saves_to_a_pathlib_path(app, client, tmp_path):
    target = tmp_path / "saved.bin"

    @app.post("/up")
    def up():
        request.files["f"].save(target)
        return "ok"

    assert client.post("/up", files={"f": ("b.bin", b"payload")}).text == "ok"
    assert target.read_bytes() == b"payload"


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
    repo = str(Path(__file__).resolve().parents[2])
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
