"""Error handling (digwebs.error_handling): which handler answers an error, and what is logged.

``@app.errorhandler`` by code, HttpError class or exception class (and its
subclasses), and the log: an unhandled exception at ERROR with its method
and path, an expected one or an HttpError not at all. The pages themselves,
and the handler and logging tests that run on its ``boom_app``, are
test_error_pages.py's.
"""

from __future__ import annotations

import logging

import pytest
from _helpers import serve_and_get

from digwebs import Digwebs, abort, api, request, sending
from digwebs.errors import BadRequest, NotFound


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


# -- logging -------------------------------------------------------------------------------


def test_unhandled_exception_is_500_and_logs_the_traceback(tmp_path, caplog):
    app = Digwebs(tmp_path, debug=False)

    def broken():
        raise RuntimeError("kaboom")

    with caplog.at_level(logging.ERROR, logger="digwebs"):
        r = serve_and_get(app, broken)
    assert r.status_code == 500 and "kaboom" not in r.text and "Traceback" not in r.text
    (record,) = [rec for rec in caplog.records if rec.name == "digwebs"]
    assert record.levelno == logging.ERROR and "GET /" in record.getMessage()
    assert record.exc_info[0] is RuntimeError
    assert "kaboom" in caplog.text and "Traceback" in caplog.text and "def broken" not in r.text


def test_http_errors_are_not_logged(app, client, caplog):
    app.add_route("/", lambda: abort(404))
    with caplog.at_level(logging.DEBUG, logger="digwebs"):
        client.get("/")
        client.get("/missing")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("accept", [None, "*/*", "text/html,*/*;q=0.8", "application/json"])
@pytest.mark.parametrize("kind", ["plain", "api route", "404 template", "handler", "development"])
def test_the_cached_404_answers_as_the_exception_does(tmp_path, accept, kind):
    # PERF in error_handling.not_found: the cached page against raising NotFound.
    env = "development" if kind == "development" else "production"
    app = Digwebs(tmp_path, env=env, secret_key="k" * 40)
    app.add_route("/here", lambda: "here", name="here")
    if kind == "api route":
        app.add_route("/api/items", api(lambda: {}), name="items")
    if kind == "404 template":
        (tmp_path / "views" / "errors").mkdir(parents=True)
        (tmp_path / "views" / "errors" / "404.html").write_text("<p>gone: {{ code }}</p>")
    if kind == "handler":
        app.errorhandler(404)(lambda e: ("custom", 404))
    client = app.test_client()
    headers = {"Accept": accept} if accept else {}
    for path in ("/missing", "/api/missing"):
        fast = client.get(path, headers=headers)
        with app.test_request_context(path, headers=headers) as ctx:
            plain = sending.finish(ctx, app.handle_http_error(ctx, NotFound()), _start)
            status, sent = _start.last
        assert (fast.status, sorted(fast.headers.items()), fast.data) == (
            status,
            sorted(sent),
            b"".join(plain),
        ), (kind, accept, path)


def _start(status, headers, exc_info=None):
    _start.last = (status, headers)
