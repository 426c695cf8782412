"""The HTTP errors (digwebs.errors): abort, HttpError and its subclasses, redirect."""

from __future__ import annotations

import pytest
from _helpers import serve_and_get

from digwebs import HttpError, abort, redirect
from digwebs.errors import Forbidden, MethodNotAllowed, NotFound, Redirect


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (409, "Conflict"),
        (410, "Gone"),
        (413, "Too Large"),
        (422, "Unprocessable"),
        (429, "Too Many Requests"),
        (500, "Internal Server Error"),
        (503, "Service Unavailable"),
    ],
)
def test_abort_with_code(app, code, name):
    r = serve_and_get(app, lambda: abort(code))
    assert r.status_code == code and name in r.text


def test_abort_with_description_is_escaped(app):
    r = serve_and_get(app, lambda: abort(403, "<b>staff</b> only"))
    assert r.status_code == 403 and "&lt;b&gt;staff&lt;/b&gt; only" in r.text


def test_abort_raises_the_matching_class():
    with pytest.raises(NotFound) as info:
        abort(404, "gone")
    assert (info.value.code, info.value.description, info.value.name) == (404, "gone", "Not Found")
    with pytest.raises(MethodNotAllowed) as info405:
        abort(405, valid_methods=["GET"])
    assert info405.value.headers == {"Allow": "GET"}


def test_abort_with_headers(app):
    r = serve_and_get(app, lambda: abort(401, headers={"WWW-Authenticate": 'Basic realm="x"'}))
    assert (r.status_code, r.headers["WWW-Authenticate"]) == (401, 'Basic realm="x"')


def test_http_error_subclass_and_instance_code(app, client):
    class Teapot(HttpError):
        code = 418
        description = "short and stout"

    app.add_route("/tea", lambda: (_ for _ in ()).throw(Teapot()), name="tea")
    app.add_route("/x", lambda: (_ for _ in ()).throw(HttpError("custom", code=499)), name="x")
    r = client.get("/tea")
    assert (r.status_code, "short and stout" in r.text) == (418, True)
    assert client.get("/x").status_code == 499


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect(app, code):
    r = serve_and_get(app, lambda: redirect("/target?a=1", code))
    assert (r.status_code, r.headers["Location"]) == (code, "/target?a=1")


def test_redirect_default_302_raised_or_returned(app, client):
    def raising():
        raise redirect("https://example.com/x")

    app.add_route("/raise", raising)
    app.add_route("/return", lambda: redirect("/y"), name="ret")
    assert (client.get("/raise").status_code, client.get("/raise").headers["Location"]) == (
        302,
        "https://example.com/x",
    )
    assert (client.get("/return").status_code, client.get("/return").location) == (302, "/y")


@pytest.mark.parametrize("url", ["/a\r\nSet-Cookie: x=1", "/a\nb", "/a\rb"])
def test_redirect_refuses_header_injection(url):
    with pytest.raises(ValueError, match="newline"):
        redirect(url)


def test_redirect_quotes_unsafe_characters():
    assert redirect("/caf\u00e9 x").location == "/caf%C3%A9%20x"


@pytest.mark.parametrize("code", [200, 404, 299, 400])
def test_redirect_needs_a_3xx_code(code):
    with pytest.raises(ValueError):
        Redirect("/x", code)


def test_http_error_get_response_directly():
    resp = Forbidden("no").get_response()
    assert resp.status_code == 403 and b"no" in resp.body
    assert Forbidden().get_response(as_json=True).content_type == "application/json"
