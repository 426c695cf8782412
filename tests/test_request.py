"""The Request object, read through real requests."""

from __future__ import annotations

import html
import io

import pytest

from digwebs import Digwebs, request
from digwebs.errors import PayloadTooLarge
from digwebs.testing import TestClient


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
