"""What a handler may return, streaming, and @api."""

from __future__ import annotations

import dataclasses
import datetime
import uuid

import pytest

from digwebs import (
    APIError,
    APIPermissionError,
    APIResourceNotFoundError,
    APIValueError,
    Response,
    abort,
    api,
    ctx,
    redirect,
    response,
)

HTML = "text/html; charset=utf-8"
JSON = "application/json"


def call(app, handler, method="GET"):
    app.add_route("/", handler, [method])
    return app.test_client().open("/", method)


@pytest.mark.parametrize(
    ("value", "status", "ctype", "data"),
    [
        ("h\u00e9llo", 200, HTML, "h\u00e9llo".encode()),
        (b"\x00raw", 200, HTML, b"\x00raw"),
        ({"a": 1, "b": "\u00e9"}, 200, JSON, '{"a":1,"b":"\u00e9"}'.encode()),
        ([1, "two", None], 200, JSON, b'[1,"two",null]'),
        ([], 200, JSON, b"[]"),
        (Response(b"r", 202, content_type="text/plain"), 202, "text/plain", b"r"),
        (("made", 201), 201, HTML, b"made"),
        (("made", "201 Created"), 201, HTML, b"made"),
        (({"id": 1}, 201), 201, JSON, b'{"id":1}'),
        ((b"teapot", 418, {"X-T": "1"}), 418, HTML, b"teapot"),
        (("csv", 200, {"Content-Type": "text/csv"}), 200, "text/csv", b"csv"),
        (("with headers", {"X-H": "v"}), 200, HTML, b"with headers"),
        (iter([b"it", b"er"]), 200, HTML, b"iter"),
        ((c for c in ["gen", "erator"]), 200, HTML, b"generator"),
        (None, 200, HTML, b""),
    ],
)
def test_handler_return_values(app, value, status, ctype, data):
    r = call(app, lambda: value)
    assert (r.status_code, r.headers["Content-Type"], r.data) == (status, ctype, data)


def test_tuple_headers_are_sent(app):
    r = call(app, lambda: ("x", 200, {"X-A": "1", "X-B": "2"}))
    assert (r.headers["X-A"], r.headers["X-B"]) == ("1", "2")


@pytest.mark.parametrize("value", [42, 1.5, object(), ("a", 200, {}, "extra"), [b"bytes"]])
def test_unsendable_values_are_500(app, value, caplog):
    r = call(app, lambda: value)
    assert r.status_code == 500


def test_none_with_status_set_on_ctx_response(app):
    def created():
        ctx.response.status = 201
        ctx.response.headers["Location"] = "/items/1"

    r = call(app, created, "POST")
    assert (r.status_code, r.data, r.headers["Location"]) == (201, b"", "/items/1")


def test_none_with_status_204_through_the_response_proxy(app):
    def gone():
        response.status = 204

    r = call(app, gone, "DELETE")
    assert (r.status_code, r.data) == (204, b"")
    assert "Content-Type" not in r.headers and "Content-Length" not in r.headers


def test_str_result_keeps_headers_and_cookies_set_on_ctx_response(app):
    def handler():
        response.set_cookie("seen", "1")
        response.headers["X-Extra"] = "e"
        return "body", 202

    r = call(app, handler)
    assert (r.status_code, r.text, r.headers["X-Extra"]) == (202, "body", "e")
    assert r.headers["Set-Cookie"].startswith("seen=1")


def test_returned_response_keeps_cookies_set_on_ctx_response(app):
    def handler():
        response.set_cookie("a", "1")
        return Response(b"own", content_type="text/plain")

    r = call(app, handler)
    assert (r.text, r.content_type, r.headers["Set-Cookie"].startswith("a=1")) == (
        "own",
        "text/plain",
        True,
    )


def test_json_of_common_types(app):
    @dataclasses.dataclass
    class Point:
        x: int

    uid = uuid.UUID(int=1)
    r = call(
        app, lambda: {"p": Point(1), "when": datetime.datetime(2024, 5, 6), "u": uid, "s": (1, 2)}
    )
    assert r.json == {"p": {"x": 1}, "when": "2024-05-06T00:00:00", "u": str(uid), "s": [1, 2]}


def test_returned_http_errors_and_redirects(app, client):
    from digwebs.errors import NotFound

    app.add_route("/nf", lambda: NotFound("custom"), name="nf")
    app.add_route("/go", lambda: redirect("/there"), name="go")
    assert (client.get("/nf").status_code, "custom" in client.get("/nf").text) == (404, True)
    r = client.get("/go")
    assert (r.status_code, r.headers["Location"]) == (302, "/there")


# -- @api -----------------------------------------------------------------------


@pytest.mark.parametrize("placement", ["above", "below"])
def test_api_above_or_below_the_route_decorator(app, client, placement):
    def handler():
        return "plain string"

    if placement == "above":
        api(app.get("/a")(handler))
    else:
        app.get("/a")(api(handler))
    r = client.get("/a")
    assert (r.content_type, r.json) == (JSON, "plain string")
    assert app.routes()[0].renders == "json"


@pytest.mark.parametrize(
    ("value", "status", "body"),
    [
        ({"a": 1}, 200, {"a": 1}),
        ([1, 2], 200, [1, 2]),
        (None, 200, None),
        (3, 200, 3),
        (({"id": 7}, 201), 201, {"id": 7}),
        (({"id": 7}, 201, {"X-Id": "7"}), 201, {"id": 7}),
    ],
)
def test_api_always_answers_json(app, value, status, body):
    r = call(app, api(lambda: value))
    assert (r.status_code, r.content_type, r.json) == (status, JSON, body)


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            APIValueError("email", "bad email"),
            400,
            {"error": "value:invalid", "data": "email", "message": "bad email"},
        ),
        (
            APIResourceNotFoundError("blog", "no such blog"),
            404,
            {"error": "value:notfound", "data": "blog", "message": "no such blog"},
        ),
        (
            APIPermissionError("admins only"),
            403,
            {"error": "permission:forbidden", "data": "permission", "message": "admins only"},
        ),
        (
            APIError("quota:exceeded", "uploads", "too many"),
            400,
            {"error": "quota:exceeded", "data": "uploads", "message": "too many"},
        ),
    ],
)
def test_api_errors_become_json(app, error, status, body):
    def handler():
        raise error

    r = call(app, api(handler))
    assert (r.status_code, r.content_type, r.json) == (status, JSON, body)


def test_api_error_outside_api_route_is_still_json(app):
    def handler():
        raise APIValueError("name")

    r = call(app, handler)
    assert (r.status_code, r.json) == (
        400,
        {"error": "value:invalid", "data": "name", "message": ""},
    )


def test_abort_inside_api_is_json(app):
    r = call(app, api(lambda: abort(404, "no such thing")))
    assert (r.status_code, r.json) == (
        404,
        {"error": "http:404", "data": "", "message": "no such thing"},
    )


def test_unhandled_exception_inside_api_is_json_500(app, caplog):
    r = call(app, api(lambda: 1 / 0))
    assert (r.status_code, r.content_type, r.json["error"]) == (500, JSON, "http:500")


def test_api_returning_a_response_keeps_it(app):
    r = call(app, api(lambda: Response(b"raw", content_type="text/plain")))
    assert (r.content_type, r.text) == ("text/plain", "raw")


# -- the result core (results.settle) against the plain path ------------------------------

from unittest import mock  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from digwebs import Digwebs, results, use  # noqa: E402

_names = st.sampled_from(
    ["X-A", "x-b", "Content-Type", "X-Frame-Options", "Set-Cookie", "Content-Length"]
)
_values = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=8),
    st.sampled_from(["caf\u00e9", "a\r\nX-Evil: 1", "7"]),
)
_headers = st.one_of(
    st.none(),
    st.dictionaries(_names, _values, max_size=3),
    st.lists(st.tuples(_names, _values), max_size=3),
)
_bodies = st.one_of(st.text(max_size=10), st.binary(max_size=10))
_statuses = st.sampled_from([200, 201, 204, 299, 304, 404, 418, 500, "418 I'm a teapot"])
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
RESULTS = st.one_of(
    _bodies,
    st.dictionaries(st.text(max_size=4), _json, max_size=3),
    st.lists(_json, max_size=3),
    st.tuples(_bodies, _statuses, _headers),
    st.tuples(_bodies, _statuses),
    st.tuples(_bodies, _headers),
    st.tuples(_bodies, st.none(), _headers),
)


def _pass(ctx, next):
    return next()


def _core_app(box, *, plain=False):
    # plain: global middleware, so no route has a direct lane (every answer
    # takes _dispatch, the chain and, with settle() off, to_response).
    app = Digwebs(root_path="/nonexistent-root", env="production", secret_key="k" * 40)
    if plain:
        app.use(_pass)

    def direct():
        return box[0]

    @use(_pass)
    def chained():
        return box[0]

    @api
    def api_direct():
        return box[0]

    @api
    @use(_pass)
    def api_chained():
        return box[0]

    app.add_route("/direct", direct, name="direct")
    app.add_route("/chained", chained, name="chained")
    app.add_route("/api", api_direct, name="api")
    app.add_route("/api-chained", api_chained, name="api_chained")
    return app


_BOX: list = [None]
_CORE_APP = _core_app(_BOX)
_PLAIN_APP = _core_app(_BOX, plain=True)


def _answers(app, method):
    client = app.test_client()
    out = []
    for path in ("/direct", "/chained", "/api", "/api-chained"):
        res = client.open(path, method=method)
        out.append((res.status_code, sorted(res.headers.items()), res.data))
    return out


@settings(max_examples=300, deadline=None)
@given(rv=RESULTS, method=st.sampled_from(["GET", "HEAD"]))
def test_the_result_core_answers_as_the_plain_path_does(rv, method):
    # The direct lane writes settle() and send_bytes() out (PERF): its
    # answers, and the chain lane's through settle(), are the plain path's.
    _BOX[0] = rv
    with mock.patch("logging.Logger.error"):  # a refused header is a logged 500 either way
        fast = _answers(_CORE_APP, method)
        with mock.patch.object(results, "settle", lambda rv, api=False: None):
            plain = _answers(_PLAIN_APP, method)
    assert fast == plain
    assert fast[0] == fast[1]  # the direct lane and the chain lane agree
    assert fast[2] == fast[3]  # and under @api
