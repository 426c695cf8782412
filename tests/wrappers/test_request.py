"""The Request object, read through real requests (its body and forms: test_forms.py)."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict as WMultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WRequest

from digwebs import Digwebs, request
from digwebs.testing import TestClient
from digwebs.wrappers.request import Request


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


def test_query_with_one_pair_or_a_bare_key(app):
    with app.test_request_context("/?limit=10"):
        assert request.query.to_dict() == {"limit": "10"}
    with app.test_request_context("/?flag"):
        assert request.query.getlist("flag") == [""]
    with app.test_request_context("/"):
        assert request.query.to_dict() == {}
