"""Errors of an API stay JSON: 400, 404, 405, 413 and 500 in the APIError shape.

An error is JSON under an ``@api`` route, for a path that belongs to an API
(no route matched it, but it has an @api route's shape, or lies under a
first segment only @api routes use), and for clients whose Accept header
prefers JSON. The Accept ranking is compared with werkzeug's MIMEAccept.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from digwebs import Digwebs, abort, api, request
from digwebs.error_pages import (
    NOT_FOUND_PAGE,
    accept_prefers_html,
    accept_prefers_json,
    api_paths,
)
from digwebs.errors import APIResourceNotFoundError

SHAPE = {"error", "data", "message"}


def make_app(tmp_path, **config):
    app = Digwebs(root_path=tmp_path, **config)

    @app.get("/api/items/<int:item_id>")
    @api
    def item(item_id):
        if item_id == 99:
            raise APIResourceNotFoundError("item", "no item 99")
        if item_id == 500:
            raise ValueError("broken <item>")
        return {"id": item_id}

    @app.post("/api/items")
    @api
    def create():
        return {"got": request.json}

    @app.post("/api/upload")
    @api
    def upload():
        return {"size": len(request.body)}

    @app.get("/api/missing/<name>")
    @api
    def missing(name):
        abort(404)

    @app.get("/users/<int:uid>.json")
    @api
    def user_json(uid):
        return {"uid": uid}

    @app.get("/users/<int:uid>")
    def user_page(uid):
        return f"user {uid}"

    @app.get("/files/<path:rest>/meta")
    @api
    def meta(rest):
        return {"rest": rest}

    @app.get("/")
    def home():
        return "home"

    return app


def assert_json_error(resp, code):
    assert resp.status_code == code, resp.text
    assert resp.content_type.startswith("application/json"), resp.content_type
    body = resp.json
    assert set(body) == SHAPE, body
    return body


@pytest.fixture
def client(tmp_path):
    return make_app(tmp_path, env="production", secret_key="x" * 40).test_client()


# -- each status under an API ------------------------------------------------------------


def test_404_raised_by_an_api_handler(client):
    body = assert_json_error(client.get("/api/items/99"), 404)
    assert body == {"error": "value:notfound", "data": "item", "message": "no item 99"}
    assert_json_error(client.get("/api/missing/x"), 404)


def test_404_when_the_converter_refuses_the_value(client):
    body = assert_json_error(client.get("/api/items/abc"), 404)
    assert body["error"] == "http:404"


def test_404_under_a_namespace_only_api_routes_use(client):
    assert_json_error(client.get("/api/no-such-thing"), 404)
    assert_json_error(client.get("/api/items/1/extra"), 404)


def test_404_of_an_api_shape_beside_html_routes(client):
    # /users/ has HTML and API routes: only the API's shape is JSON.
    assert_json_error(client.get("/users/abc.json"), 404)
    resp = client.get("/users/abc")
    assert resp.status_code == 404
    assert resp.content_type.startswith("text/html")
    assert resp.data == NOT_FOUND_PAGE


def test_404_of_a_path_parameter_shape(client):
    assert client.get("/files/a/b/meta").json == {"rest": "a/b"}
    assert_json_error(client.put("/files/a/b/meta"), 405)


def test_405_with_allow(client):
    resp = client.put("/api/items/1")
    body = assert_json_error(resp, 405)
    assert body["error"] == "http:405"
    assert resp.headers["Allow"] == "GET, HEAD, OPTIONS"
    resp = client.get("/api/items")
    assert_json_error(resp, 405)
    assert resp.headers["Allow"] == "OPTIONS, POST"


def test_400_for_malformed_json(client):
    resp = client.post(
        "/api/items", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_json_error(resp, 400)


def test_413_over_the_body_limit(tmp_path):
    app = make_app(tmp_path, env="production", secret_key="x" * 40, max_content_length=10)
    resp = app.test_client().post("/api/upload", data=b"x" * 100)
    body = assert_json_error(resp, 413)
    assert "10" in body["message"]


def test_413_raised_in_global_middleware_before_routing(tmp_path):
    app = make_app(tmp_path, env="production", secret_key="x" * 40, max_content_length=10)

    def read_body_first(ctx, next):
        ctx.request.body  # noqa: B018  # reads (and limits) the body before the route runs
        return next()

    app.use(read_body_first)
    resp = app.test_client().post("/api/upload", data=b"x" * 100)
    assert_json_error(resp, 413)
    resp = app.test_client().post("/", data=b"x" * 100)
    assert resp.status_code == 413
    assert resp.content_type.startswith("text/html")


def test_500_in_production_has_no_internals(client, caplog):
    resp = client.get("/api/items/500")
    body = assert_json_error(resp, 500)
    assert "broken" not in resp.text and "Traceback" not in resp.text
    assert body["error"] == "http:500"


def test_500_in_development_is_json_with_the_traceback(tmp_path, caplog):
    client = make_app(tmp_path).test_client()
    body = assert_json_error(client.get("/api/items/500"), 500)
    assert body["message"] == "ValueError: broken <item>"
    assert "Traceback" in body["data"] and "in item" in body["data"]


def test_500_in_development_shows_the_page_to_a_browser_even_on_an_api_route(tmp_path, caplog):
    client = make_app(tmp_path).test_client()
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    resp = client.get("/api/items/500", headers={"Accept": browser})
    assert resp.status_code == 500
    assert resp.content_type.startswith("text/html")
    assert "Traceback" in resp.text


def test_head_of_an_api_404_has_no_body(client):
    resp = client.head("/api/items/abc")
    assert resp.status_code == 404
    assert resp.data == b""
    assert resp.content_type.startswith("application/json")


# -- the client's Accept header ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nowhere", "/users/abc"])
def test_json_clients_get_json_404s_everywhere(client, path):
    assert_json_error(client.get(path, headers={"Accept": "application/json"}), 404)


def test_json_client_gets_json_405_outside_the_api(tmp_path):
    app = Digwebs(root_path=tmp_path)

    @app.post("/form")
    def form():
        return "ok"

    resp = app.test_client().get("/form", headers={"Accept": "application/json, */*;q=0.1"})
    assert_json_error(resp, 405)
    assert resp.headers["Allow"] == "OPTIONS, POST"


def test_browsers_get_html_outside_the_api(client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept in (browser, "*/*", "application/json, text/html", None):
        headers = {"Accept": accept} if accept else {}
        resp = client.get("/nowhere", headers=headers)
        assert resp.status_code == 404
        assert resp.data == NOT_FOUND_PAGE, accept


def test_redirects_are_never_json(tmp_path):
    app = make_app(tmp_path)

    @app.get("/api/dir/")
    @api
    def directory():
        return {}

    resp = app.test_client().get("/api/dir")
    assert resp.status_code == 308
    assert resp.headers["Location"].endswith("/api/dir/")


def test_cookies_set_before_an_api_error_are_still_sent(tmp_path):
    app = make_app(tmp_path)

    @app.get("/api/cookie-then-404")
    @api
    def cookie_then_404():
        request_response = __import__("digwebs").response
        request_response.set_cookie("seen", "1")
        abort(404)

    resp = app.test_client().get("/api/cookie-then-404")
    assert_json_error(resp, 404)
    assert "seen=1" in resp.headers["Set-Cookie"]


def test_an_app_without_api_routes_has_no_api_paths(tmp_path):
    app = Digwebs(root_path=tmp_path)

    @app.get("/")
    def home():
        return "x"

    app.routes()
    assert api_paths(app) is None
    assert app.test_client().get("/api/x").data == NOT_FOUND_PAGE


def test_api_paths_membership(tmp_path):
    app = make_app(tmp_path)
    paths = api_paths(app)
    assert paths is not None
    inside = ["/api", "/api/", "/api/items/abc", "/users/x.json", "/files/a/b/c/meta"]
    inside.append("/files/a")  # only API routes start with /files/
    outside = ["/", "/users/1", "/users/abc", "/nowhere", "*", "", "host:80"]
    assert [p for p in inside if p not in paths] == []
    assert [p for p in outside if p in paths] == []


# -- Accept: compared with werkzeug ------------------------------------------------------

_RANGES = [
    "text/html",
    "application/json",
    "*/*",
    "text/*",
    "application/*",
    "application/xml",
    "application/xhtml+xml",
    "image/png",
    "TEXT/HTML",
    "Application/JSON",
    "*/json",
    "html",
]
_QS = ["", ";q=1", ";q=0", ";q=0.5", ";q=0.8", ";q=0.9", ";q=1.0", ";q=0.001", ";q=2", ";q=x"]
_SPACE = ["", " ", "\t"]


@st.composite
def accept_headers(draw):
    items = draw(
        st.lists(
            st.tuples(st.sampled_from(_RANGES), st.sampled_from(_QS), st.sampled_from(_SPACE)),
            max_size=5,
        )
    )
    return ",".join(f"{space}{media}{q}" for media, q, space in items)


def werkzeug_prefers(accept, first, second):
    best = parse_accept_header(accept, MIMEAccept).best_match([first, second])
    return best == second


@settings(max_examples=400, deadline=None)
@given(accept_headers())
def test_accept_prefers_json_as_werkzeug_best_match(accept):
    assert accept_prefers_json(accept) == werkzeug_prefers(accept, "text/html", "application/json")


@settings(max_examples=400, deadline=None)
@given(accept_headers())
def test_accept_prefers_html_as_werkzeug_best_match(accept):
    assert accept_prefers_html(accept) == werkzeug_prefers(accept, "application/json", "text/html")


@pytest.mark.parametrize(
    ("accept", "json_wins"),
    [
        ("application/json", True),
        ("application/json, */*;q=0.1", True),
        ("application/json, */*", True),  # the range naming JSON is more specific
        ("application/*", True),
        ("application/json;q=0.9, text/html;q=0.8", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("application/json, text/html", False),  # a tie goes to HTML
        ("*/*", False),
        ("", False),
        ("application/json;q=0", False),
        ("*/*;q=1, application/json;q=0", False),  # the most specific range wins
    ],
)
def test_accept_examples(accept, json_wins):
    assert accept_prefers_json(accept) is json_wins
    assert json.dumps(accept_prefers_json(accept))  # a plain bool
