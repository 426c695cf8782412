"""abort, HttpError, redirect, errorhandler, and unhandled exceptions."""

from __future__ import annotations

import logging

import pytest

from digwebs import Digwebs, HttpError, abort, redirect, request
from digwebs.errors import BadRequest, Forbidden, MethodNotAllowed, NotFound, Redirect


def call(app, handler, **kwargs):
    app.add_route("/", handler, ["GET", "POST"])
    return app.test_client().get("/", **kwargs)


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
    r = call(app, lambda: abort(code))
    assert r.status_code == code and name in r.text


def test_abort_with_description_is_escaped(app):
    r = call(app, lambda: abort(403, "<b>staff</b> only"))
    assert r.status_code == 403 and "&lt;b&gt;staff&lt;/b&gt; only" in r.text


def test_abort_raises_the_matching_class():
    with pytest.raises(NotFound) as info:
        abort(404, "gone")
    assert (info.value.code, info.value.description, info.value.name) == (404, "gone", "Not Found")
    with pytest.raises(MethodNotAllowed) as info405:
        abort(405, valid_methods=["GET"])
    assert info405.value.headers == {"Allow": "GET"}


def test_abort_with_headers(app):
    r = call(app, lambda: abort(401, headers={"WWW-Authenticate": 'Basic realm="x"'}))
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
    r = call(app, lambda: redirect("/target?a=1", code))
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


def test_errorhandler_for_a_code(app, client):
    @app.errorhandler(404)
    def not_found(error):
        return f"nothing at {request.path} ({error.code})"

    r = client.get("/nope")
    assert (r.status_code, r.text) == (404, "nothing at /nope (404)")


def test_errorhandler_for_abort_and_its_own_status(app, client):
    @app.errorhandler(403)
    def forbidden(error):
        return {"denied": error.description}, 451

    app.add_route("/", lambda: abort(403, "private"))
    r = client.get("/")
    assert (r.status_code, r.json) == (451, {"denied": "private"})


def test_errorhandler_for_an_exception_class_and_subclasses(app, client):
    class AppError(Exception):
        pass

    class Specific(AppError):
        pass

    @app.errorhandler(AppError)
    def handle(error):
        return f"handled {type(error).__name__}", 409

    def fail():
        raise Specific("x")

    app.add_route("/", fail)
    r = client.get("/")
    assert (r.status_code, r.text) == (409, "handled Specific")


def test_an_exception_its_handler_answers_is_not_logged_as_an_error(app, client, caplog):
    # As Flask: a handler registered for the exception's class handles it;
    # only an exception nothing handles (a 500, custom page or not) is logged.
    class AppError(Exception):
        pass

    app.errorhandler(AppError)(lambda e: ("handled", 409))
    app.errorhandler(500)(lambda e: "sorry")

    def handled():
        raise AppError("expected")

    app.add_route("/handled", handled)
    app.add_route("/unhandled", lambda: {}["missing"])
    with caplog.at_level(logging.ERROR, logger="digwebs"):
        assert client.get("/handled").status_code == 409
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
        assert client.get("/unhandled").text == "sorry"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info[0] is KeyError


def test_errorhandler_by_http_error_class(app, client):
    @app.errorhandler(BadRequest)
    def bad(error):
        return "bad!"

    app.add_route("/", lambda: request.json, ["POST"])
    r = client.post("/", data=b"{", headers={"Content-Type": "application/json"})
    assert (r.status_code, r.text) == (400, "bad!")


def test_errorhandler_405_keeps_allow(app, client):
    app.errorhandler(405)(lambda e: "no")
    app.add_route("/", lambda: "x")
    r = client.post("/")
    assert (r.status_code, r.text, r.headers["Allow"]) == (405, "no", "GET, HEAD, OPTIONS")


def test_errorhandler_500_for_unhandled_exceptions(app, client, caplog):
    app.errorhandler(500)(lambda e: f"sorry: {type(e).__name__}")
    app.add_route("/", lambda: {}["missing"])
    r = client.get("/")
    assert (r.status_code, r.text) == (500, "sorry: KeyError")


def test_unhandled_exception_is_500_and_logs_the_traceback(tmp_path, caplog):
    app = Digwebs(tmp_path, debug=False)

    def broken():
        raise RuntimeError("kaboom")

    with caplog.at_level(logging.ERROR, logger="digwebs"):
        r = call(app, broken)
    assert r.status_code == 500 and "kaboom" not in r.text and "Traceback" not in r.text
    (record,) = [rec for rec in caplog.records if rec.name == "digwebs"]
    assert record.levelno == logging.ERROR and "GET /" in record.getMessage()
    assert record.exc_info[0] is RuntimeError
    assert "kaboom" in caplog.text and "Traceback" in caplog.text and "def broken" not in r.text


@pytest.mark.parametrize(
    ("config", "page"),
    [
        ({"debug": True}, True),
        ({"debug": False}, False),
        ({}, True),  # development: debug is on by default
        ({"env": "production", "secret_key": "s" * 16}, False),
    ],
)
def test_traceback_page_only_in_debug(tmp_path, caplog, config, page):
    app = Digwebs(tmp_path, **config)

    def broken():
        raise ValueError("secret <detail>")

    r = call(app, broken)
    assert r.status_code == 500
    assert ("Traceback" in r.text) is page
    assert ("ValueError: secret &lt;detail&gt;" in r.text) is page
    assert "secret <detail>" not in r.text  # escaped when shown, absent otherwise


def test_http_errors_are_not_logged(app, client, caplog):
    app.add_route("/", lambda: abort(404))
    with caplog.at_level(logging.DEBUG, logger="digwebs"):
        client.get("/")
        client.get("/missing")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_error_response_as_json_for_json_clients(app, client):
    r = client.get("/missing", headers={"Accept": "application/json"})
    assert (r.status_code, r.json["error"]) == (404, "http:404")


def test_http_error_get_response_directly():
    resp = Forbidden("no").get_response()
    assert resp.status_code == 403 and b"no" in resp.body
    assert Forbidden().get_response(as_json=True).content_type == "application/json"
