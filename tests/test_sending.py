"""Handing answers to the server (digwebs/sending.py): lengths, HEAD, streams."""

from __future__ import annotations

import pytest

from digwebs import g, request, use


def call(app, handler, method="GET"):
    app.add_route("/", handler, [method])
    return app.test_client().open("/", method)


def _pass(ctx, next):
    return next()


def test_generator_is_streamed_and_reads_request_while_streaming(app, client):
    @app.get("/stream")
    def stream():
        g.n = 0

        def chunks():
            for word in ["a", "b", "c"]:
                g.n += 1
                yield f"{word}{g.n}:{request.query['x']};"

        return chunks()

    r = client.get("/stream?x=q")
    assert r.text == "a1:q;b2:q;c3:q;" and "Content-Length" not in r.headers


def test_generator_handler_itself_is_streamed(app, client):
    @app.get("/gen")
    def gen():
        yield "path="
        yield request.path

    assert client.get("/gen").text == "path=/gen"


def test_streamed_body_is_closed_with_the_context_active(app, client):
    closed = []

    def handler():
        def body():
            try:
                yield b"first"
                yield b"second"
            finally:
                closed.append(request.path)

        return body()

    app.add_route("/s", handler)
    assert client.get("/s").data == b"firstsecond" and closed == ["/s"]


def test_streamed_tuple_with_status_and_headers(app):
    r = call(app, lambda: ((c for c in [b"1", b"2"]), 206, {"X-Part": "yes"}))
    assert (r.status_code, r.data, r.headers["X-Part"]) == (206, b"12", "yes")


def test_tuple_with_explicit_content_length_sends_it_once(app):
    app.add_route("/", lambda: (b"abc", 200, {"content-length": "3", "X-A": "1"}))
    r = app.test_client().get("/")
    assert r.headers.getlist("Content-Length") == ["3"]
    assert r.data == b"abc"


@pytest.mark.parametrize("wrapped", [False, True], ids=["direct lane", "chain lane"])
@pytest.mark.parametrize(
    "value", ["text", b"bytes", {"a": 1}, ("body", 201, {"X-A": "1"})], ids=repr
)
def test_head_gets_the_get_headers_and_no_body(app, wrapped, value):
    def handler():
        return value

    app.add_route("/", use(_pass)(handler) if wrapped else handler, ["GET", "HEAD"])
    client = app.test_client()
    got, head = client.get("/"), client.open("/", "HEAD")
    assert head.data == b"" and got.data
    assert head.status_code == got.status_code
    assert head.headers["Content-Length"] == got.headers["Content-Length"] == str(len(got.data))


def test_a_streamed_body_is_closed_unread_for_head(app):
    events = []

    def handler():
        def body():
            try:
                events.append("read")
                yield b"x"
            finally:
                events.append("closed")

        return body()

    app.add_route("/", handler, ["GET", "HEAD"])
    assert app.test_client().open("/", "HEAD").data == b""
    assert events == []  # a generator never started has nothing to close but itself


@pytest.mark.parametrize("status", [204, 304])
def test_a_status_without_a_body_drops_body_type_and_length(app, status):
    r = call(app, lambda: ("ignored", status, {"Content-Length": "7"}))
    assert r.status_code == status and r.data == b""
    assert "Content-Type" not in r.headers and "Content-Length" not in r.headers
