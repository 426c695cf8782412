"""What reaches the client: ``ctx.response`` through middleware, cookies set
before a redirect or an error, framework-built redirects, request targets that
are not paths, and OPTIONS answers (issue 9, items 3, 9, 12, 13, 14, 15)."""

from __future__ import annotations

import pytest

from digwebs import Digwebs, abort, redirect, request, response, use


def _cookies(r) -> list[str]:
    return r.headers.getlist("Set-Cookie")


# -- item 12: ctx.response is the response being sent once next() returns ---


@pytest.mark.parametrize("handler_touches_response", [False, True])
def test_middleware_writes_ctx_response_after_next(app, client, handler_touches_response):
    def trace(ctx, next):
        r = next()
        ctx.response.headers["X-Trace"] = "1"
        return r

    def handler():
        if handler_touches_response:
            response.headers["X-Handler"] = "h"
        return "body"

    app.add_route("/", use(trace)(handler))
    r = client.get("/")
    assert (r.status_code, r.text, r.headers.get("X-Trace")) == (200, "body", "1")


def test_global_middleware_sees_the_sent_response_as_ctx_response(app, client):
    seen = {}

    def outer(ctx, next):
        r = next()
        seen["same"] = ctx.response is r
        ctx.response.set_cookie("visited", "yes")
        return r

    app.use(outer)
    app.add_route("/json", lambda: {"a": 1})
    r = client.get("/json")
    assert seen["same"] is True
    assert r.json == {"a": 1}
    assert any(c.startswith("visited=yes") for c in _cookies(r))


def test_short_circuit_after_next_keeps_its_own_status(app, client):
    def replace(ctx, next):
        next()
        return ("replaced", 202)

    app.add_route("/", use(replace)(lambda: ({"a": 1}, 201)))
    r = client.get("/")
    assert (r.status_code, r.text) == (202, "replaced")


# -- item 13: what a handler put on ctx.response survives -------------------


def test_cookie_set_before_a_returned_redirect_is_sent(app, client):
    def login():
        response.set_cookie("user", "alice")
        return redirect("/home")

    app.add_route("/login", login, ["POST"])
    r = client.post("/login", follow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/home"
    assert any(c.startswith("user=alice") for c in _cookies(r))


def test_cookie_and_header_set_before_a_raised_redirect_or_abort_are_sent(app, client):
    def raised_redirect():
        response.set_cookie("a", "1")
        raise redirect("/x", 303)

    def aborted():
        response.headers["X-Why"] = "quota"
        response.set_cookie("b", "2")
        abort(429)

    app.add_route("/r", raised_redirect)
    app.add_route("/a", aborted)
    r = client.get("/r", follow_redirects=False)
    assert r.status_code == 303 and any(c.startswith("a=1") for c in _cookies(r))
    r = client.get("/a")
    assert r.status_code == 429 and r.headers["X-Why"] == "quota"
    assert any(c.startswith("b=2") for c in _cookies(r))


def test_returned_response_keeps_its_own_representation_headers(app, client):
    from digwebs import Response

    def handler():
        response.headers["Content-Type"] = "application/xml"
        response.headers["X-Keep"] = "k"
        response.headers["X-Both"] = "from ctx"
        return Response("plain", 200, {"X-Both": "from response"}, "text/plain")

    app.add_route("/", handler)
    r = client.get("/")
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.headers["X-Keep"] == "k"
    assert r.headers.getlist("X-Both") == ["from response"]


def test_unhandled_exception_drops_what_the_handler_prepared(app, client):
    def handler():
        response.set_cookie("half", "done")
        raise RuntimeError("boom")

    app.add_route("/", handler)
    r = client.get("/")
    assert r.status_code == 500 and _cookies(r) == []


# -- item 3: redirects the framework builds never leave the site ------------


@pytest.mark.parametrize("script_name", ["//evil.example", "/\\evil.example", "///evil.example"])
def test_slash_redirect_with_a_hostile_script_name_stays_on_site(app, client, script_name):
    app.add_route("/dir/", lambda: "dir")
    r = client.get("/dir", environ_overrides={"SCRIPT_NAME": script_name})
    assert r.status_code == 308
    location = r.headers["Location"]
    assert location.startswith("/") and location[1:2] not in ("/", "\\"), location
    assert location.endswith("/dir/")


def test_slash_redirect_keeps_a_normal_mount_point_and_query(app, client):
    app.add_route("/dir/", lambda: "dir")
    r = client.get("/dir?x=1", environ_overrides={"SCRIPT_NAME": "/app"})
    assert (r.status_code, r.headers["Location"]) == (308, "/app/dir/?x=1")


def test_url_for_under_a_hostile_script_name_stays_on_site(app):
    app.add_route("/p", lambda: "", name="p")
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "//evil.example"}):
        url = app.url_for("p")
    assert url.startswith("/") and not url.startswith("//"), url


# -- item 9: request targets that are not paths -----------------------------
# (called without the test client: wsgiref's validator refuses such targets,
# which real servers such as gunicorn do pass on)


def call_raw(app, method, target):
    from digwebs.testing import build_environ

    environ = build_environ("/", method, environ_overrides={"PATH_INFO": target})
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def test_options_star_gets_the_server_wide_allow(app, client):
    app.add_route("/a", lambda: "", ["GET"], name="a")
    app.add_route("/b", lambda: "", ["POST", "DELETE"], name="b")
    status, headers, body = call_raw(app, "OPTIONS", "*")
    assert status == 200
    assert headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, POST"
    assert "Location" not in headers and "Content-Type" not in headers and body == b""


@pytest.mark.parametrize(
    "method,target",
    [("CONNECT", "127.0.0.1:80"), ("GET", "*"), ("GET", "evil/a"), ("POST", "a")],
)
def test_a_target_that_is_not_a_path_is_400(app, method, target):
    app.add_route("/a", lambda: "a", ["GET", "POST"], name="a")
    app.add_route("/evil/a", lambda: "evil", name="evil")
    status, headers, body = call_raw(app, method, target)
    assert status == 400, (status, headers.get("Location"), body)
    assert "Location" not in headers


def test_a_target_that_is_not_a_path_is_400_with_global_middleware(app):
    app.use(lambda ctx, next: next())
    app.add_route("/a", lambda: "a")
    assert call_raw(app, "CONNECT", "127.0.0.1:80")[0] == 400
    assert call_raw(app, "GET", "x/a")[0] == 400


# -- item 14: OPTIONS has no body, so no Content-Type -----------------------


def test_options_answer_has_allow_and_no_content_type(app, client):
    app.add_route("/a", lambda: "", ["GET", "POST"], name="a")
    r = client.options("/a")
    assert r.status_code == 200 and r.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert "Content-Type" not in r.headers
    assert r.headers["Content-Length"] == "0" and r.data == b""


# -- item 15: the route name is positional-only -----------------------------


def test_url_for_accepts_a_parameter_called_name_or_self(tmp_path):
    app = Digwebs(tmp_path)
    app.add_route("/hello/<name>", lambda name: name, name="hello")
    app.add_route("/me/<self>", lambda self: self, name="me")
    assert app.url_for("hello", name="x") == "/hello/x"
    assert app.url_for("me", self="y") == "/me/y"
    with app.test_request_context("/"):
        from digwebs import url_for

        assert url_for("hello", name="x") == "/hello/x"
        assert url_for("me", self="y") == "/me/y"


def test_request_proxy_still_works_in_these_handlers(app, client):
    app.add_route("/", lambda: request.path)
    assert client.get("/").text == "/"


# -- item 6: a lone surrogate in JSON is escaped, not a 500 -----------------


@pytest.mark.parametrize("with_middleware", [False, True])
@pytest.mark.parametrize("as_api", [False, True])
def test_lone_surrogate_is_sent_escaped_in_every_lane(app, client, with_middleware, as_api):
    import json

    from digwebs import api

    def echo():
        return {"a": "\ud800", "b": ["é", "\udfff"]}

    handler = api(echo) if as_api else echo
    if with_middleware:
        handler = use(lambda ctx, next: next())(handler)
    app.add_route("/", handler)
    r = client.get("/")
    assert r.status_code == 200
    assert b"\\ud800" in r.data and b"\\udfff" in r.data
    assert json.loads(r.data) == {"a": "\ud800", "b": ["é", "\udfff"]}


def test_lone_surrogate_in_an_api_error_message(app, client):
    from digwebs import APIValueError, api

    def bad():
        raise APIValueError("name", "bad \ud800 value")

    app.add_route("/", api(bad))
    r = client.get("/")
    assert r.status_code == 400 and b"\\ud800" in r.data


# -- item 11: an invalid status is refused where it is set -------------------


@pytest.mark.parametrize("with_middleware", [False, True])
@pytest.mark.parametrize(
    "result", [("x", 5), ("x", -200), ("x", 1000, {}), ({"a": 1}, 99), ("x", "abc")]
)
def test_an_invalid_status_from_a_handler_is_a_500_naming_it(
    app, client, caplog, result, with_middleware
):
    def handler():
        return result

    if with_middleware:
        handler = use(lambda ctx, next: next())(handler)
    app.add_route("/", handler)
    r = client.get("/")
    assert r.status_code == 500
    logged = "\n".join(str(rec.exc_info[1]) for rec in caplog.records if rec.exc_info)
    assert repr(result[1]) in logged, logged


def test_setting_an_invalid_status_on_the_response_raises_at_once(app, client):
    def handler():
        response.status = -200
        return "never"

    app.add_route("/", handler)
    with pytest.raises(ValueError, match="-200"):
        from digwebs import Response

        Response("x").status = -200
    assert client.get("/").status_code == 500


def test_a_string_for_methods_is_refused_when_the_decorator_is_made(app):
    with pytest.raises(TypeError, match="not a string"):
        app.route("/x", methods="GET")


@pytest.mark.parametrize("value", ["a;b", "line1\nline2", "ж x", 'q"uo\\te'])
def test_the_test_client_sends_back_the_cookie_value_it_was_given(app, client, value):
    app.add_route("/set", lambda: response.set_cookie("m", value), name="set")
    app.add_route("/get", lambda: request.cookies.get("m", "<missing>"), name="get")
    client.get("/set")
    assert client.get("/get").text == value


def test_an_api_handler_that_returns_an_error_answers_json(app, client):
    from digwebs import api
    from digwebs.errors import NotFound

    def missing():
        response.set_cookie("seen", "1")
        return NotFound("no such item")

    app.add_route("/api/items/<int:i>", api(lambda i: missing()), name="item")
    app.add_route("/api/go", api(lambda: redirect("/api/items/1")), name="go")
    r = client.get("/api/items/1")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/json")
    assert r.json["message"] and any(c.startswith("seen=1") for c in _cookies(r))
    r = client.get("/api/go", follow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/api/items/1"


# -- issue 10: no per-app Request subclass, no class swap for wsgi_app -------


def test_the_body_limit_keeps_the_request_class(tmp_path):
    from digwebs import Request

    class MyRequest(Request):
        pass

    app = Digwebs(tmp_path, max_content_length=10)
    other = Digwebs(tmp_path / "o", max_content_length=1000)
    mine = Digwebs(tmp_path / "m", max_content_length=10)
    mine.request_class = MyRequest
    for a in (app, other, mine):
        a.add_route("/", lambda: str(len(request.body)), ["POST"])
    assert app.request_class is Request and mine.request_class is MyRequest
    assert app.test_client().post("/", data=b"x" * 11).status_code == 413
    assert app.test_client().post("/", data=b"x" * 10).text == "10"
    assert other.test_client().post("/", data=b"x" * 11).text == "11"
    assert mine.test_client().post("/", data=b"x" * 11).status_code == 413
    with app.test_request_context("/", method="POST", data=b"x" * 11):
        assert request.max_content_length == 10


def test_wsgi_middleware_wraps_app_wsgi_app(app, client):
    calls = []
    inner = app.wsgi_app

    def wrapper(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.add_route("/", lambda: "ok")
    app.wsgi_app = wrapper
    assert type(app) is Digwebs
    assert client.get("/").text == "ok" and calls == ["/"]


def test_a_request_class_with_its_own_init_takes_the_plain_allocation(tmp_path):
    # PERF in wsgi_app: Request and RequestContext are made without __init__
    # when the classes are digwebs' own; a request_class whose __init__ does
    # more gets it called, and both answer alike.
    from digwebs import Request

    made = []

    class Counted(Request):
        def __init__(self, environ):
            super().__init__(environ)
            made.append(self.path)

    answers = []
    for cls in (Request, Counted):
        app = Digwebs(tmp_path, max_content_length=10)
        app.request_class = cls
        app.add_route(
            "/p/<x>", lambda x: (f"{x}:{request.path}:{len(request.body)}", 201), ["POST"]
        )
        client = app.test_client()
        ok, big = client.post("/p/a?q=1", data=b"12345"), client.post("/p/b", data=b"x" * 11)
        answers.append((ok.status_code, ok.text, sorted(ok.headers.items()), big.status_code))
    assert answers[0] == answers[1]
    assert answers[0][:2] == (201, "a:/p/a:5") and answers[0][3] == 413
    assert made == ["/p/a", "/p/b"]
