"""The Response object: status, headers, cookies and bodies, sent through the WSGI entry.

And ``header_list``, which builds the headers a handler returns: its fast paths
must agree with the checked loop.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import typing as t
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digwebs import Digwebs, Response, use
from digwebs.datastructures import Headers
from digwebs.wrappers.response import _checked_header_list, header_list, json_bytes, parse_status

response_module = importlib.import_module("digwebs.wrappers.response")


def send(app, resp_factory, method="GET"):
    app.add_route("/", resp_factory, [method])
    return app.test_client().open("/", method)


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (200, "200 OK"),
        (201, "201 Created"),
        (404, "404 Not Found"),
        (308, "308 Permanent Redirect"),
        (599, "599 Unknown"),
        ("201 Created", "201 Created"),
        ("299 My Own Reason", "299 My Own Reason"),
        ("404", "404 Not Found"),
    ],
)
def test_status_int_or_wsgi_string(app, status, line):
    r = send(app, lambda: Response(b"x", status))
    assert r.status == line and r.status_code == int(line[:3])


BAD_STATUSES = [
    -200, 5, 99, 600, 1000, 42, True, False, 200.0, 2.5, None, b"200 OK", [200],
    "OK", "abc", "20 OK", "2000 OK", "999 Odd", "099 Low", "200 OK\r\nX: y", "200 OK\x00",
    "\u0662\u0660\u0660 Arabic digits", "200 \u0436",
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_STATUSES, ids=repr)
def test_invalid_status_is_refused_where_it_is_set(bad):
    allowed = "100 to 599"
    with pytest.raises((ValueError, TypeError), match=re.escape(repr(bad)) + ".*" + allowed):
        Response(b"", bad)
    resp = Response()
    with pytest.raises((ValueError, TypeError), match=re.escape(repr(bad))):
        resp.status = bad
    assert (resp.status_code, resp.status) == (200, "200 OK")  # unchanged
    with pytest.raises((ValueError, TypeError), match=re.escape(repr(bad))):
        parse_status(bad)


@pytest.mark.parametrize("bad", [-200, 5, 99, 600, 1000])
def test_the_fast_constructor_refuses_out_of_range_codes(bad):
    with pytest.raises(ValueError, match=f"{bad}.*100 to 599"):
        Response._from_parts(b"", bad, ())


def test_types_are_type_errors_and_values_value_errors():
    with pytest.raises(TypeError):
        parse_status(200.0)
    with pytest.raises(TypeError):
        parse_status(True)
    with pytest.raises(ValueError):
        parse_status(1000)
    with pytest.raises(ValueError):
        parse_status("2000 OK")


def test_http_status_members_are_accepted():
    resp = Response(b"", HTTPStatus.CREATED)
    assert (resp.status_code, resp.status) == (201, "201 Created")
    assert type(resp.status_code) is int
    resp.status = HTTPStatus.NOT_FOUND
    assert resp.status == "404 Not Found"
    assert parse_status(" 404 ") == (404, None) and parse_status("299 Mine") == (299, "299 Mine")


def test_an_invalid_status_in_a_handler_is_a_500_not_a_failure_at_send_time(app, caplog):
    def handler():
        resp = Response(b"x")
        resp.status = -200
        return resp

    r = send(app, handler)
    assert r.status_code == 500 and "-200" in caplog.text


def test_status_setter():
    resp = Response()
    resp.status = "418 I'm a teapot"
    assert (resp.status_code, resp.status) == (418, "418 I'm a teapot")
    resp.status = 204
    assert resp.status == "204 No Content"


def test_default_content_type_and_override(app):
    assert Response().content_type == "text/html; charset=utf-8"
    resp = Response(b"{}", content_type="application/json")
    resp2 = Response()
    resp2.content_type = "text/plain"
    assert (resp.content_type, resp2.headers["content-type"]) == ("application/json", "text/plain")


def test_headers_are_case_insensitive_and_multi_valued(app):
    def handler():
        resp = Response(b"x", headers={"X-One": "1"})
        resp.headers.add("X-Multi", "a")
        resp.headers.add("x-multi", "b")
        assert resp.headers["x-one"] == "1" and resp.headers.getlist("X-MULTI") == ["a", "b"]
        return resp

    r = send(app, handler)
    assert r.headers.getlist("X-Multi") == ["a", "b"] and r.headers["x-one"] == "1"


def test_header_injection_in_a_handler_becomes_a_500(app, caplog):
    def handler():
        return "x", 200, {"X-Evil": "a\r\nSet-Cookie: s=1"}

    r = send(app, handler)
    assert r.status_code == 500 and "Set-Cookie" not in r.headers


def test_set_cookie_defaults_httponly_and_samesite_lax(app):
    def handler():
        resp = Response(b"x")
        resp.set_cookie("sid", "abc")
        resp.set_cookie(
            "theme", "dark mode", max_age=60, secure=True, httponly=False, samesite="strict"
        )
        return resp

    sid, theme = send(app, handler).headers.getlist("Set-Cookie")
    assert sid == "sid=abc; Path=/; HttpOnly; SameSite=Lax"
    assert theme.startswith('theme="dark\\040mode"; Max-Age=60; Expires=')  # space: \040
    assert "HttpOnly" not in theme
    assert theme.endswith("; Path=/; Secure; SameSite=Strict")


def test_delete_cookie_expires_it(app):
    def handler():
        resp = Response(b"x")
        resp.delete_cookie("sid", path="/app", domain="example.com")
        return resp

    header = send(app, handler).headers["Set-Cookie"]
    assert header.startswith("sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    assert "Domain=example.com; Path=/app; HttpOnly; SameSite=Lax" in header


def test_cookie_expires_datetime():
    resp = Response()
    resp.set_cookie("a", "1", expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    resp.set_cookie("b", "1", max_age=timedelta(hours=1))
    a, b = resp.headers.getlist("Set-Cookie")
    assert "Expires=Wed, 02 Jan 2030 03:04:05 GMT" in a and "Max-Age=3600" in b


@pytest.mark.parametrize(
    ("name", "value", "options"),
    [
        ("bad name", "v", {}),
        ("a;b", "v", {}),
        ("ok", "v\ud800", {}),  # a lone surrogate has no UTF-8 form (newlines are escaped)
        ("ok", "v", {"samesite": "sometimes"}),
        ("ok", "v", {"samesite": "None"}),  # SameSite=None needs secure=True
        ("ok", "v", {"path": "/a;b"}),
        ("ok", "v", {"domain": "x\r\n.com"}),
    ],
)
def test_invalid_cookies_are_refused(name, value, options):
    with pytest.raises(ValueError):
        Response().set_cookie(name, value, **options)


@pytest.mark.parametrize(
    ("body", "data"),
    [
        (b"bytes", b"bytes"),
        ("str \u00e9", "str \u00e9".encode()),
        ([b"a", b"b", b"c"], b"abc"),
        ((c for c in [b"x", "y"]), b"xy"),
    ],
)
def test_body_bytes_str_or_iterable(app, body, data):
    r = send(app, lambda: Response(body))
    assert r.data == data


def test_bytes_body_gets_content_length_streamed_body_does_not(app):
    app.add_route("/b", lambda: Response(b"12345"), name="b")
    app.add_route("/s", lambda: Response(iter([b"12", b"345"])), name="s")
    client = app.test_client()
    assert client.get("/b").headers["Content-Length"] == "5"
    assert "Content-Length" not in client.get("/s").headers


def test_explicit_content_length_is_kept(app):
    r = send(app, lambda: Response(b"abc", headers={"Content-Length": "3"}))
    assert r.headers.getlist("Content-Length") == ["3"]


@pytest.mark.parametrize("code", [204, 304])
def test_bodiless_statuses_send_no_body_type_or_length(app, code):
    r = send(app, lambda: Response(b"ignored", code))
    assert r.data == b"" and "Content-Type" not in r.headers and "Content-Length" not in r.headers


def test_data_property_joins_an_iterable_body():
    resp = Response(iter([b"a", b"b"]))
    assert resp.data == b"ab" and resp.body == b"ab"
    resp.data = "\u00e9"
    assert resp.body == "\u00e9".encode()


def test_response_json_classmethod(app):
    r = send(app, lambda: Response.json({"when": datetime(2024, 1, 2), "ids": {3}}, 201))
    assert r.status_code == 201 and r.content_type == "application/json"
    assert r.json == {"when": "2024-01-02T00:00:00", "ids": [3]}


def test_headers_setter_replaces_all():
    resp = Response(headers={"X-A": "1"})
    resp.headers = {"X-B": "2"}
    assert resp.headers.items() == [("X-B", "2")] and repr(resp) == "<Response 200 OK>"


@pytest.mark.parametrize(("explicit", "sent"), [(None, ["5"]), ("5", ["5"])])
def test_str_body_assigned_later_gets_one_content_length(app, explicit, sent):
    def handler():
        resp = Response()
        resp.body = "\u00e9t\u00e9"  # a str body set after construction
        if explicit:
            resp.headers["Content-Length"] = explicit
        return resp

    r = send(app, handler)
    assert r.headers.getlist("Content-Length") == sent and r.text == "\u00e9t\u00e9"


# ---------------------------------------------------------------------------
# Header names and values: every path that builds response headers refuses
# controls, characters above U+00FF and names that are not tokens.
# ---------------------------------------------------------------------------

BAD_VALUES = ["a\x00b", "a\x01", "\x1f", "a\x7fb", "a\x0bb", "a\x0cb", "\u0436", "caf\u00e9 \u20ac"]
GOOD_VALUES = ["a\tb", "caf\u00e9", "\xa0", "\x80\xff", "", " spaced ", "a=b; c"]
BAD_NAMES = ["X A", "X(A)", "", "\u0416", "X\x00", "X:Y", "X\tA", "X\r\nY", "X\u00e9"]


def _learned(name: str, value: str) -> t.Any:
    # The dict's names are learned with good values first, so the value goes
    # through the function written for those names (response._dict_builder).
    for _ in range(2):
        header_list({"X-First": "1", name: "fine"}, "text/html")
    return header_list({"X-First": "1", name: value}, "text/html")


HEADER_PATHS: dict[str, t.Callable[[str, str], t.Any]] = {
    "Headers.__setitem__": lambda n, v: Response().headers.__setitem__(n, v),
    "Headers.add": lambda n, v: Response().headers.add(n, v),
    "Headers.update": lambda n, v: Response().headers.update({n: v}),
    "Headers()": lambda n, v: Headers([(n, v)]),
    "Response(headers=)": lambda n, v: Response(b"", 200, {n: v}),
    "Response._from_parts": lambda n, v: Response._from_parts(b"", 200, {n: v}),
    "header_list(dict)": lambda n, v: header_list({n: v}, "text/html"),
    "header_list(dict, learned)": _learned,
    "header_list(pairs)": lambda n, v: header_list([(n, v)], "text/html"),
    "header_list(tuple)": lambda n, v: header_list(((n, v),), "text/html"),
    "_checked_header_list": lambda n, v: _checked_header_list({n: v}, "text/html"),
}


@pytest.mark.parametrize("path", HEADER_PATHS)
@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_control_and_non_latin1_values_are_refused_on_every_path(path, value):
    with pytest.raises(ValueError, match="'X-Name'"):
        HEADER_PATHS[path]("X-Name", value)


@pytest.mark.parametrize("path", HEADER_PATHS)
@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_names_that_are_not_tokens_are_refused_on_every_path(path, name):
    with pytest.raises(ValueError, match="header name"):
        HEADER_PATHS[path](name, "v")


@pytest.mark.parametrize("path", HEADER_PATHS)
@pytest.mark.parametrize("value", GOOD_VALUES, ids=repr)
def test_tabs_and_latin1_values_are_sent(path, value):
    HEADER_PATHS[path]("X-Name", value)
    assert ("X-Name", value) in header_list({"X-Name": value}, "text/html")[0]


def test_content_type_setter_is_checked_too():
    resp = Response()
    with pytest.raises(ValueError, match="'Content-Type'"):
        resp.content_type = "text/plain\x00"


@pytest.mark.parametrize("wrapped", [False, True], ids=["direct", "middleware"])
@pytest.mark.parametrize(("query", "shown"), [("a%00b", "'\\x00'"), ("%D0%B6", "'\u0436'")])
def test_a_bad_header_in_a_real_app_is_a_500_naming_it(tmp_path, caplog, wrapped, query, shown):
    from digwebs import request

    app = Digwebs(tmp_path, debug=False)

    def passthrough(ctx: t.Any, next: t.Callable[[], t.Any]) -> t.Any:
        return next()

    def handler() -> t.Any:
        return "x", 200, {"X-A": request.query.get("v", "fine")}

    app.get("/")(use(passthrough)(handler) if wrapped else handler)
    client = app.test_client()
    assert client.get("/").headers["X-A"] == "fine"  # twice: the names are learned
    assert client.get("/").headers["X-A"] == "fine"
    r = client.get("/?v=" + query)
    assert r.status_code == 500 and "X-A" not in r.headers
    errors = [rec for rec in caplog.records if rec.levelname == "ERROR"]
    assert errors and "'X-A'" in caplog.text and shown in caplog.text


# ---------------------------------------------------------------------------
# JSON: one encoder, UTF-8, lone surrogates escaped (as Flask sends them)
# ---------------------------------------------------------------------------


def _old_encoding(value: t.Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def test_json_bytes_escapes_lone_surrogates():
    assert json_bytes({"a": "\ud800"}) == b'{"a":"\\ud800"}'
    assert json_bytes({"\udfff": ["caf\u00e9", "\ud800x"]}) == (
        '{"\\udfff":["caf\u00e9","\\ud800x"]}'.encode()
    )
    assert json_bytes({"a": 1, "b": [True, None]}) == b'{"a":1,"b":[true,null]}'
    assert json_bytes("caf\u00e9") == '"caf\u00e9"'.encode()


def test_json_bytes_keeps_json_dumps_rules(monkeypatch):
    loop: list[t.Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        json_bytes(loop)
    assert json_bytes([float("nan"), float("inf")]) == b"[NaN,Infinity]"
    with pytest.raises(TypeError, match="object"):
        json_bytes(object())
    # Without the C encoder (another Python), the same bytes.
    monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    encode = response_module._json_encoder()
    value = {"a": [1.5, None, "caf\u00e9", {"b": datetime(2024, 1, 2)}]}
    assert encode(value).encode() == json_bytes(value)


def test_response_json_sends_a_lone_surrogate(app):
    r = send(app, lambda: Response.json({"a": "\ud800"}))
    assert r.status_code == 200 and r.data == b'{"a":"\\ud800"}'


TEXT_WITH_SURROGATES = st.text(
    alphabet=st.one_of(
        st.characters(categories=["Cs"]), st.characters(), st.sampled_from('"\\\n\x00\u2028')
    ),
    max_size=12,
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT_WITH_SURROGATES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(TEXT_WITH_SURROGATES, inner, max_size=4)
    ),
    max_leaves=12,
)


def _has_surrogate_pair(value: t.Any) -> bool:
    """True if a str in ``value`` has a high surrogate right before a low one.

    JSON decoders join such a pair of escapes into one character (as they do
    for Flask's output), so that value cannot come back identical.
    """
    if isinstance(value, str):
        return re.search("[\ud800-\udbff][\udc00-\udfff]", value) is not None
    if isinstance(value, list):
        return any(_has_surrogate_pair(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogate_pair(k) or _has_surrogate_pair(v) for k, v in value.items())
    return False


@functools.cache
def _flask_app() -> t.Any:
    flask = pytest.importorskip("flask")  # an oracle only (the bench extra)
    return flask.Flask(__name__)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_json_bytes_agrees_with_flask_and_round_trips(value):
    body = json_bytes(value)
    body.decode("utf-8")  # always valid UTF-8
    flask_body = _flask_app().json.response(value).get_data()
    assert json.loads(body) == json.loads(flask_body)
    if not _has_surrogate_pair(value):
        assert json.loads(body) == value
    try:
        old = _old_encoding(value)
    except UnicodeEncodeError:
        pass
    else:
        assert body == old  # the usual case is unchanged, byte for byte


# ---------------------------------------------------------------------------
# header_list: its fast paths must agree with the checked loop
# ---------------------------------------------------------------------------

CASES: list[t.Any] = [
    {},
    None,
    {"X-One": "1"},
    {"Content-Type": "text/plain", "X-Account": "12345", "X-Limit": "10"},
    {"X-Account": "12345", "Content-Type": "text/plain"},
    {"content-type": "application/xml", "X-A": "a"},
    {"Content-Type": "a/b", "content-type": "c/d"},
    {"Content-Length": "5", "X-A": "a"},
    {"X-Number": 7, "X-Float": 1.5},
    {"X-Tab": "a\tb"},
    {"X-Unicode": "caf\u00e9"},
    {"X-Empty": ""},
    [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
    (("X-Tuple", "t"),),
]


@pytest.mark.parametrize("headers", CASES, ids=repr)
def test_every_path_gives_what_the_checked_loop_gives(headers: t.Any) -> None:
    expected = _checked_header_list(headers or {}, "text/html")
    # First call: the loops (and, for a dict, learning its names); then the
    # function written for those names; a fresh copy each time, as handlers
    # build a new dict per request.
    for _ in range(3):
        fresh = dict(headers) if isinstance(headers, dict) else headers
        assert header_list(fresh, "text/html") == expected


def test_pairs_from_a_generator_are_read_once_and_all_kept() -> None:
    pairs = ((name, value) for name, value in [("X-A", "1"), ("X-B", 2)])
    assert header_list(pairs, "text/html") == (
        [("Content-Type", "text/html"), ("X-A", "1"), ("X-B", "2")],
        True,
    )


@pytest.mark.parametrize("bad", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb"])
def test_newlines_are_refused_on_every_path(bad: str) -> None:
    names = {"Content-Type": "text/plain", "X-Value": "fine"}
    header_list(dict(names), "text/html")
    header_list(dict(names), "text/html")  # the names now have their own function
    with pytest.raises(ValueError, match="newline"):
        header_list({**names, "X-Value": bad}, "text/html")
    with pytest.raises(ValueError, match="newline"):
        header_list({"X-Bad\nName": "v"}, "text/html")


def test_content_length_is_reported() -> None:
    for _ in range(2):
        pairs, no_length = header_list({"Content-Length": "3", "X-A": "a"}, "text/html")
        assert no_length is False
        assert ("Content-Length", "3") in pairs


@pytest.mark.parametrize("names", [("X-N",), ("X-A", "X-B"), ("Content-Type", "X-N")])
def test_a_value_that_stops_being_a_str_takes_the_checked_path(names: tuple[str, ...]) -> None:
    # The function written for a dict's names assumes str values; the
    # handler that returned strings may return an int the next time.
    for _ in range(3):
        header_list(dict.fromkeys(names, "7"), "text/html")
    for value in (7, 1.5, None):
        headers = dict.fromkeys(names, value)
        assert header_list(headers, "text/html") == _checked_header_list(headers, "text/html")


def test_pairs_and_new_dict_shapes_take_the_checked_loop_once_learned_shapes_the_builder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PERF: the only shortcut left is the function written per dict shape.
    import sys

    module = sys.modules["digwebs.wrappers.response"]
    calls: list[t.Any] = []
    checked = module._checked_header_list

    def spy(headers: t.Any, content_type: str) -> t.Any:
        calls.append(headers)
        return checked(headers, content_type)

    monkeypatch.setattr(module, "_checked_header_list", spy)
    shape = {"X-Shape-Test-1": "a", "X-Shape-Test-2": "b"}
    assert header_list(dict(shape), "text/html") == checked(shape, "text/html")
    assert len(calls) == 1  # a new shape: checked, and its builder written
    for _ in range(3):
        assert header_list(dict(shape), "text/html") == checked(shape, "text/html")
    assert len(calls) == 1  # then the builder
    pairs = [("X-A", "1"), ("X-B", "2")]
    assert header_list(pairs, "text/html") == checked(pairs, "text/html")
    assert len(calls) == 2
