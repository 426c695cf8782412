"""The test client: verbs, request options, response attributes, cookies, WSGI validation."""

from __future__ import annotations

import pytest

from digwebs import Response, request, response
from digwebs.testing import TestClient, build_environ


@pytest.fixture
def mirror(app):
    """``/m`` answers every verb with a JSON description of the request."""

    def describe():
        return {
            "method": request.method,
            "path": request.path,
            "query": request.query.to_dict(flat=False),
            "header": request.headers.get("X-H"),
            "form": request.form.to_dict(flat=False),
            "json": request.json if request.is_json else None,
            "files": {k: [f.filename, f.read().decode()] for k, f in request.files.items()},
        }

    app.add_route("/m", describe, ["GET", "POST", "PUT", "PATCH", "DELETE"])
    return app


@pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete"])
def test_verbs(mirror, client, verb):
    r = getattr(client, verb)("/m")
    assert (r.status_code, r.json["method"]) == (200, verb.upper())


def test_head_and_options(mirror, client):
    head, options = client.head("/m"), client.options("/m")
    assert (head.status_code, head.data) == (200, b"")
    assert options.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def test_query_as_mapping_string_or_in_the_path(mirror, client):
    assert client.get("/m", query={"a": ["1", "2"], "b": "\u00e9"}).json["query"] == {
        "a": ["1", "2"],
        "b": ["\u00e9"],
    }
    assert client.get("/m?x=1", query="y=2").json["query"] == {"x": ["1"], "y": ["2"]}


def test_headers(mirror, client):
    assert client.get("/m", headers={"X-H": "v"}).json["header"] == "v"


def test_data_json_and_files(mirror, client):
    assert client.post("/m", data={"a": "1"}).json["form"] == {"a": ["1"]}
    assert client.put("/m", json={"k": [1]}).json["json"] == {"k": [1]}
    r = client.patch("/m", data={"t": "x"}, files={"f": ("n.txt", "content")})
    assert (r.json["form"], r.json["files"]) == ({"t": ["x"]}, {"f": ["n.txt", "content"]})


def test_files_from_an_open_file(mirror, client, tmp_path):
    path = tmp_path / "upload.txt"
    path.write_text("from disk")
    with path.open("rb") as fh:
        r = client.post("/m", files={"f": fh})
    assert r.json["files"] == {"f": ["upload.txt", "from disk"]}


def test_raw_data(app, client):
    app.add_route("/", lambda: request.body, ["POST"])
    assert client.post("/", data=b"\x00\x01").data == b"\x00\x01"
    assert client.post("/", data="text").text == "text"


def test_response_attributes(app, client):
    app.add_route("/", lambda: ({"v": "\u00e9"}, 201, {"X-A": "1"}))
    r = client.get("/")
    assert (r.status, r.status_code, r.headers["x-a"], r.content_type) == (
        "201 Created",
        201,
        "1",
        "application/json",
    )
    assert (r.data, r.text, r.json) == (
        '{"v":"\u00e9"}'.encode(),
        '{"v":"\u00e9"}',
        {"v": "\u00e9"},
    )
    assert repr(r) == "<TestResponse 201 Created>"


def test_json_of_empty_body_is_none(app, client):
    app.add_route("/", lambda: None)
    assert client.get("/").json is None


def test_cookies_are_kept_across_calls_and_deleted(app, client):
    @app.get("/set")
    def set_():
        response.set_cookie("sid", "abc 1")
        return "set"

    app.add_route("/read", lambda: request.cookies, name="read")

    @app.get("/del")
    def del_():
        response.delete_cookie("sid")

    client.get("/set")
    assert client.cookies == {"sid": "abc 1"} and client.get("/read").json == {"sid": "abc 1"}
    client.get("/del")
    assert client.cookies == {} and client.get("/read").json == {}


def test_explicit_cookie_header_wins(app, client):
    app.add_route("/read", lambda: request.cookies, name="read")
    client.cookies["a"] = "1"
    assert client.get("/read", headers={"Cookie": "b=2"}).json == {"b": "2"}


def test_each_client_has_its_own_cookies(app):
    app.add_route("/set", lambda: Response(b"", headers=[("Set-Cookie", "x=1")]), name="set")
    one, two = app.test_client(), app.test_client()
    one.get("/set")
    assert (one.cookies, two.cookies) == ({"x": "1"}, {})


def test_follow_redirects(app, client):
    from digwebs import redirect

    app.add_route("/old", lambda: redirect("/new"), name="old")
    app.add_route("/new", lambda: "arrived", name="new")
    r = client.get("/old", follow_redirects=True)
    assert (r.status_code, r.text) == (200, "arrived")


def test_requests_go_through_the_wsgi_validator():
    def bad_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return "a str is not a valid WSGI body"

    with pytest.raises(AssertionError):
        TestClient(bad_app).get("/")


def test_build_environ_is_valid_wsgi():
    env = build_environ(
        "/p%20q?a=1",
        "post",
        query={"b": "2"},
        headers={"X-Y": "z", "Content-Type": "text/x"},
        data=b"hi",
    )
    assert (env["REQUEST_METHOD"], env["PATH_INFO"], env["QUERY_STRING"]) == (
        "POST",
        "/p q",
        "a=1&b=2",
    )
    assert (env["HTTP_X_Y"], env["CONTENT_TYPE"], env["CONTENT_LENGTH"]) == ("z", "text/x", "2")
    assert env["wsgi.input"].read() == b"hi" and env["wsgi.url_scheme"] == "http"


def test_test_request_context_accepts_client_options(app):
    with app.test_request_context("/x", "PUT", json={"a": 1}, headers={"X-H": "h"}):
        assert (request.method, request.json, request.headers["X-H"]) == ("PUT", {"a": 1}, "h")


def test_files_from_a_path(mirror, client, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("by path")
    r = client.post("/m", files={"f": path})
    assert r.json["files"] == {"f": ["notes.txt", "by path"]}
