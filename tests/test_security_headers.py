"""Security headers on every answer (digwebs/security_headers.py, results.finish and as_direct)."""

from __future__ import annotations

import pytest

from digwebs import Digwebs, abort, api, ctx, redirect, use
from digwebs.config import ConfigError
from digwebs.security_headers import header_name, parse
from digwebs.testing import TestClient
from digwebs.wrappers.response import Response

DEFAULT = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
HTTPS = {"wsgi.url_scheme": "https"}


def passthrough(ctx, next_):
    return next_()


def make_app(tmp_path, **config):
    (tmp_path / "static").mkdir(parents=True, exist_ok=True)
    (tmp_path / "static" / "site.css").write_text("body {}")
    app = Digwebs(tmp_path, debug=False, secret_key="security-headers-secret-0123", **config)

    @app.get("/str")
    def text():
        return "hello"

    @app.get("/bytes")
    def raw():
        return b"hello"

    @app.get("/dict")
    def mapping():
        return {"a": 1}

    @app.get("/tuple")
    def triple():
        return "made", 201, {"X-Extra": "1"}

    @app.get("/own")
    def own():
        return "framed", 200, {"x-frame-options": "SAMEORIGIN"}

    @app.get("/own-later")
    def own_later():
        ctx.response.headers["Referrer-Policy"] = "no-referrer"
        return "later"

    @app.get("/api")
    @api
    def api_route():
        return {"ok": True}

    @app.get("/wrapped")
    @use(passthrough)
    def wrapped():
        return "wrapped"

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    @app.get("/forbidden")
    def forbidden():
        abort(403)

    @app.get("/go")
    def go():
        return redirect("/str")

    @app.get("/empty")
    def empty():
        return "", 204

    @app.get("/stream")
    def stream():
        return Response(iter([b"a", b"b"]))

    @app.post("/form")
    def form():
        return "posted"

    return app


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


def security(resp):
    """The security headers of a response, each name once (or a list if repeated)."""
    found: dict[str, list[str]] = {}
    for name, value in resp.headers.items():
        if name in DEFAULT or name == HSTS[0] or name.lower() in {n.lower() for n in DEFAULT}:
            found.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in found.items()}


PATHS = [
    ("GET", "/str", 200),
    ("GET", "/bytes", 200),
    ("GET", "/dict", 200),
    ("GET", "/tuple", 201),
    ("GET", "/api", 200),
    ("GET", "/wrapped", 200),
    ("GET", "/boom", 500),
    ("GET", "/forbidden", 403),
    ("GET", "/go", 302),
    ("GET", "/empty", 204),
    ("GET", "/stream", 200),
    ("GET", "/missing", 404),
    ("POST", "/str", 405),
    ("OPTIONS", "/str", 200),
    ("OPTIONS", "*", 200),
    ("GET", "/static/site.css", 200),
    ("HEAD", "/str", 200),
    ("HEAD", "/static/site.css", 200),
    ("POST", "/form", 200),
    ("POST", "/form", 403),  # the CSRF refusal
]


def _client_for(client, path):
    # wsgiref's validator refuses a PATH_INFO of "*", which servers do pass on.
    return TestClient(client.app, validate=False) if path == "*" else client


@pytest.mark.parametrize(("method", "path", "status"), PATHS)
def test_every_answer_carries_them(client, method, path, status):
    headers = {"Sec-Fetch-Site": "cross-site"} if status == 403 and path == "/form" else {}
    r = _client_for(client, path).open(path, method, headers=headers)
    assert r.status_code == status
    assert security(r) == DEFAULT


@pytest.mark.parametrize(("method", "path", "status"), PATHS)
def test_https_answers_also_carry_hsts(client, method, path, status):
    headers = {"Sec-Fetch-Site": "cross-site"} if status == 403 and path == "/form" else {}
    r = _client_for(client, path).open(path, method, headers=headers, environ_overrides=HTTPS)
    assert r.status_code == status
    assert security(r) == {**DEFAULT, HSTS[0]: HSTS[1]}


def test_a_response_keeps_its_own_value(client):
    for environ in ({}, HTTPS):
        r = client.get("/own", environ_overrides=environ)
        assert [v for k, v in r.headers.items() if k.lower() == "x-frame-options"] == ["SAMEORIGIN"]
        r = client.get("/own-later", environ_overrides=environ)
        assert r.headers.getlist("Referrer-Policy") == ["no-referrer"]
        assert r.headers["X-Frame-Options"] == "DENY"


def test_both_lanes_send_the_same_headers(tmp_path):
    # With a global middleware nothing takes the direct lane: the long way.
    direct = make_app(tmp_path / "a")
    long_way = make_app(tmp_path / "b")
    long_way.use(passthrough)
    for path in ("/str", "/bytes", "/dict", "/tuple", "/own", "/api"):
        for environ in ({}, HTTPS):
            a = direct.test_client().get(path, environ_overrides=environ)
            b = long_way.test_client().get(path, environ_overrides=environ)
            assert list(a.headers.items()) == list(b.headers.items()), path
    rules = {rule.path: rule for rule, _ in direct._routes}
    assert rules["/str"].direct is not None


def test_a_header_set_to_nothing_is_not_sent(tmp_path):
    app = make_app(
        tmp_path,
        security_headers={"x_frame_options": "", "strict_transport_security": False},
    )
    r = app.test_client().get("/str", environ_overrides=HTTPS)
    assert "X-Frame-Options" not in r.headers
    assert "Strict-Transport-Security" not in r.headers
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_other_headers_can_be_added(tmp_path):
    app = make_app(tmp_path, security_headers={"content_security_policy": "frame-ancestors 'self'"})
    r = app.test_client().get("/missing")
    assert r.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert r.headers["X-Frame-Options"] == "DENY"  # the table is merged with the defaults


def test_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_SECURITY_HEADERS__X_FRAME_OPTIONS", "SAMEORIGIN")
    r = make_app(tmp_path).test_client().get("/str")
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_all_off(tmp_path):
    app = make_app(tmp_path)
    app.config["security_headers"] = {}
    r = app.test_client().get("/str", environ_overrides=HTTPS)
    assert security(r) == {}


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"x_frame_options": "DENY\r\nSet-Cookie: a=b"}, "x_frame_options"),
        ({"x_frame_options": 1}, "must be a string"),
        ({"bad name": "x"}, "bad name"),
        ("DENY", "must be a table"),
    ],
)
def test_bad_values_are_refused_at_start_up(tmp_path, table, needle):
    with pytest.raises(ConfigError, match=needle):
        parse(table)
    app = make_app(tmp_path)
    app.config["security_headers"] = table
    with pytest.raises(ConfigError, match=needle):
        app.routes()


def test_header_names():
    assert header_name("x_content_type_options") == "X-Content-Type-Options"
    assert header_name("strict_transport_security") == "Strict-Transport-Security"
    assert header_name("Permissions-Policy") == "Permissions-Policy"


def test_hsts_follows_a_trusted_proxys_scheme(tmp_path):
    forwarded = {"X-Forwarded-Proto": "https"}
    trusting = make_app(tmp_path, trusted_proxies=["127.0.0.1"]).test_client()
    for path in ("/str", "/missing", "/wrapped"):
        assert trusting.get(path, headers=forwarded).headers[HSTS[0]] == HSTS[1]
    untrusting = make_app(tmp_path).test_client()
    assert HSTS[0] not in untrusting.get("/str", headers=forwarded).headers
