"""The Response object: status, headers, cookies and bodies, sent through the WSGI entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digwebs import Response
from digwebs.datastructures import Headers


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


@pytest.mark.parametrize("bad", ["OK", "20 OK", "2000 OK", "200 OK\r\nX: y", 1000, 42])
def test_invalid_status_is_refused(bad):
    with pytest.raises(ValueError):
        resp = Response(b"", bad)
        _ = resp.status  # an int is checked when the line is built


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


def test_header_set_replaces_every_value_and_delete():
    h = Headers([("A", "1"), ("b", "2"), ("a", "3")])
    h["a"] = "9"
    assert h.items() == [("a", "9"), ("b", "2")]
    del h["B"]
    assert "b" not in h and len(h) == 1
    with pytest.raises(KeyError):
        del h["b"]
    assert h.setdefault("A", "x") == "9" and h.pop("a") == "9" and h.pop("a", "d") == "d"


@pytest.mark.parametrize(
    "action",
    [
        lambda h: h.__setitem__("X", "a\r\nSet-Cookie: evil=1"),
        lambda h: h.add("X", "a\nb"),
        lambda h: h.add("X", "a\rb"),
        lambda h: h.add("X\r\nY", "v"),
        lambda h: h.add("X:Y", "v"),
        lambda h: h.update({"X": "line\nbreak"}),
    ],
)
def test_header_values_with_cr_or_lf_are_refused(action):
    with pytest.raises(ValueError):
        action(Response().headers)


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
    assert theme.startswith('theme="dark mode"; Max-Age=60; Expires=') and "HttpOnly" not in theme
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
        ("ok", "v\r\nX: y", {}),
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
