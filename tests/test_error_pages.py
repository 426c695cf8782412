"""Error pages (digwebs.error_pages) in development and production, error views, logging.

The tests that run on :func:`boom_app` stay here, the error handlers and the
log among them: the development page must show the file of its handler
(this one). The other tests of which handler answers an error, and of what
is logged, are test_error_handling.py's.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from _helpers import serve_and_get

from digwebs import Digwebs, abort, render, request, view

SECRET = "a-long-production-secret-0123456789"
XSS = "<script>alert('x')</script>"


def write(root: Path, name: str, text: str) -> None:
    path = root / "views" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def boom_app(root: Path, **config: object) -> Digwebs:
    app = Digwebs(root_path=root, **config)

    @app.get("/boom")
    def boom():
        raise ValueError(f"bad value {XSS}")

    @app.get("/missing")
    def missing():
        abort(404)

    @app.get("/ok")
    def ok():
        return "fine"

    return app


def dev_app(root: Path) -> Digwebs:
    return boom_app(root)  # development is the default environment


def prod_app(root: Path) -> Digwebs:
    return boom_app(root, env="production", secret_key=SECRET)


# -- development page ------------------------------------------------------------------


def test_development_page_shows_exception_traceback_request_line_and_headers(tmp_path):
    client = dev_app(tmp_path).test_client()
    resp = client.get("/boom", query={"q": "1"}, headers={"X-Trace-Me": "header-value"})
    assert resp.status_code == 500
    assert resp.content_type.startswith("text/html")
    text = resp.text
    assert "ValueError" in text
    assert "bad value" in text
    assert "Traceback" in text
    assert "in boom" in text  # the frame of the handler
    assert __file__ in text  # with its file
    assert "GET http://localhost/boom?q=1" in text
    assert "X-Trace-Me" in text and "header-value" in text


def test_development_page_escapes_everything(tmp_path):
    client = dev_app(tmp_path).test_client()
    resp = client.get("/boom", headers={"X-Evil": "<img src=x onerror=alert(1)>"})
    text = resp.text
    assert "<script>" not in text
    assert "<img" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_development_page_escapes_the_request_path(tmp_path):
    app = dev_app(tmp_path)

    @app.get("/<path:rest>")
    def anything(rest):
        raise RuntimeError("nope")

    resp = app.test_client().get("/%3Cb%3Ebold%3C/b%3E")
    assert resp.status_code == 500
    assert "<b>bold" not in resp.text


def test_debug_in_production_shows_the_development_page(tmp_path):
    app = boom_app(tmp_path, env="production", secret_key=SECRET, debug=True)
    assert "Traceback" in app.test_client().get("/boom").text


# -- production page ---------------------------------------------------------------------


def test_production_page_has_no_internals(tmp_path):
    client = prod_app(tmp_path).test_client()
    resp = client.get("/boom", headers={"X-Trace-Me": "header-value"})
    assert resp.status_code == 500
    text = resp.text
    assert "Internal Server Error" in text
    leaks = ("Traceback", "ValueError", "bad value", "script", "boom", __file__)
    for leak in (*leaks, "header-value", "X-Trace-Me"):
        assert leak not in text


def test_production_500_as_json_when_json_is_wanted(tmp_path):
    client = prod_app(tmp_path).test_client()
    resp = client.get("/boom", headers={"Accept": "application/json"})
    assert resp.status_code == 500
    assert "bad value" not in resp.text
    assert resp.json["error"]


def test_development_and_production_404_pages(tmp_path):
    for app in (dev_app(tmp_path), prod_app(tmp_path)):
        client = app.test_client()
        for path in ("/missing", "/no-such-page"):
            resp = client.get(path)
            assert resp.status_code == 404
            assert "Not Found" in resp.text
            assert "Traceback" not in resp.text


# -- error views ----------------------------------------------------------------------


def test_errors_404_template_used_automatically(tmp_path):
    write(tmp_path, "errors/404.html", "<h1>Lost: {{ code }} {{ request.path }}</h1>")
    client = prod_app(tmp_path).test_client()
    for path in ("/no-such-page", "/missing"):
        resp = client.get(path)
        assert resp.status_code == 404
        assert resp.text == f"<h1>Lost: 404 {path}</h1>"
        assert resp.content_type.startswith("text/html")


def test_errors_404_template_in_development_too(tmp_path):
    write(tmp_path, "errors/404.html", "custom 404")
    resp = dev_app(tmp_path).test_client().get("/nowhere")
    assert (resp.status_code, resp.text) == (404, "custom 404")


def test_errors_500_template_used_automatically_in_production(tmp_path):
    write(tmp_path, "errors/500.html", "<h1>Sorry ({{ code }})</h1>{{ error.description }}")
    resp = prod_app(tmp_path).test_client().get("/boom")
    assert resp.status_code == 500
    assert resp.text.startswith("<h1>Sorry (500)</h1>")
    assert "bad value" not in resp.text


def test_errors_500_template_gives_way_to_the_debug_page_in_development(tmp_path):
    write(tmp_path, "errors/500.html", "sorry")
    resp = dev_app(tmp_path).test_client().get("/boom")
    assert resp.status_code == 500
    assert "Traceback" in resp.text


def test_broken_500_template_still_answers_500(tmp_path, caplog):
    write(tmp_path, "errors/500.html", "{{ undefined_function() }}")
    with caplog.at_level(logging.ERROR, logger="digwebs"):
        resp = prod_app(tmp_path).test_client().get("/boom")
    assert resp.status_code == 500
    assert "Internal Server Error" in resp.text
    assert "bad value" not in resp.text


def test_errors_template_is_escaped(tmp_path):
    write(tmp_path, "errors/404.html", "{{ request.path }}")
    resp = prod_app(tmp_path).test_client().get("/<script>")
    assert resp.status_code == 404
    assert resp.text == "/&lt;script&gt;"


def test_error_views_are_not_used_for_json_clients(tmp_path):
    write(tmp_path, "errors/404.html", "html page")
    resp = prod_app(tmp_path).test_client().get("/nowhere", headers={"Accept": "application/json"})
    assert resp.status_code == 404
    assert resp.json["error"]


# -- errorhandler ------------------------------------------------------------------------


def test_errorhandler_404_returning_render(tmp_path):
    write(tmp_path, "notfound.html", "<p>No {{ path }} here ({{ error.code }})</p>")
    app = prod_app(tmp_path)

    @app.errorhandler(404)
    def not_found(error):
        return render("notfound.html", path=request.path, error=error)

    resp = app.test_client().get("/gone")
    assert resp.status_code == 404
    assert resp.text == "<p>No /gone here (404)</p>"


@pytest.mark.parametrize("order", ["view_outside", "view_inside"])
def test_errorhandler_404_with_view(tmp_path, order):
    write(tmp_path, "notfound.html", "<p>{{ message }} {{ code }}</p>")
    app = prod_app(tmp_path)

    def not_found(error):
        return {"message": "<Nothing>", "code": error.code}

    if order == "view_outside":
        view("notfound.html")(app.errorhandler(404)(not_found))
    else:
        app.errorhandler(404)(view("notfound.html")(not_found))

    resp = app.test_client().get("/gone")
    assert resp.status_code == 404
    assert resp.content_type.startswith("text/html")
    assert resp.text == "<p>&lt;Nothing&gt; 404</p>"


def test_errorhandler_beats_the_errors_template(tmp_path):
    write(tmp_path, "errors/404.html", "template")
    app = prod_app(tmp_path)

    @app.errorhandler(404)
    def not_found(error):
        return "handler"

    resp = app.test_client().get("/gone")
    assert (resp.status_code, resp.text) == (404, "handler")


def test_errorhandler_may_choose_its_status(tmp_path):
    app = prod_app(tmp_path)

    @app.errorhandler(404)
    def not_found(error):
        return "teapot", 418

    assert app.test_client().get("/gone").status_code == 418


def test_errorhandler_500_with_view_in_production(tmp_path, caplog):
    write(tmp_path, "oops.html", "<p>oops {{ kind }}</p>")
    app = prod_app(tmp_path)

    @app.errorhandler(500)
    @view("oops.html")
    def server_error(error):
        return {"kind": "server"}

    with caplog.at_level(logging.ERROR, logger="digwebs"):
        resp = app.test_client().get("/boom")
    assert resp.status_code == 500
    assert resp.text == "<p>oops server</p>"
    # The exception is still logged.
    assert any(r.exc_info and isinstance(r.exc_info[1], ValueError) for r in caplog.records)


def test_errorhandler_for_an_exception_class(tmp_path):
    app = prod_app(tmp_path)

    class PaymentRequired(Exception):
        pass

    @app.get("/pay")
    def pay():
        raise PaymentRequired("card declined")

    @app.errorhandler(PaymentRequired)
    def payment(error):
        return f"please pay: {error}", 402

    resp = app.test_client().get("/pay")
    assert (resp.status_code, resp.text) == (402, "please pay: card declined")


def test_failing_errorhandler_falls_back_to_the_plain_page(tmp_path, caplog):
    app = prod_app(tmp_path)

    @app.errorhandler(500)
    def broken(error):
        raise RuntimeError("the handler broke too")

    with caplog.at_level(logging.ERROR, logger="digwebs"):
        resp = app.test_client().get("/boom")
    assert resp.status_code == 500
    assert "the handler broke too" not in resp.text
    assert "Internal Server Error" in resp.text
    assert any("Error handler" in r.getMessage() for r in caplog.records)


def test_error_view_returning_a_non_dict_is_a_500_naming_it(tmp_path):
    write(tmp_path, "notfound.html", "x")
    app = dev_app(tmp_path)

    @app.errorhandler(404)
    @view("notfound.html")
    def bad_not_found(error):
        return 42

    resp = app.test_client().get("/gone")
    assert resp.status_code == 500
    assert "bad_not_found" in resp.text


# -- logging -------------------------------------------------------------------------------


def test_unhandled_exception_is_logged_once_with_method_and_path(tmp_path, caplog):
    app = prod_app(tmp_path)

    @app.post("/submit")
    def submit():
        raise KeyError("kaboom")

    with caplog.at_level(logging.DEBUG, logger="digwebs"):
        resp = app.test_client().post("/submit", query={"a": "1"}, data={"x": "1"})
    assert resp.status_code == 500
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(records) == 1
    [record] = records
    assert record.name == "digwebs"
    message = record.getMessage()
    assert "POST" in message and "/submit" in message
    assert "\n" not in message  # one line; the traceback rides in exc_info
    assert isinstance(record.exc_info[1], KeyError)


def test_http_errors_and_good_requests_are_not_logged_as_errors(tmp_path, caplog):
    client = prod_app(tmp_path).test_client()
    with caplog.at_level(logging.DEBUG, logger="digwebs"):
        client.get("/ok")
        client.get("/missing")
        client.get("/no-such-page")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_logger_is_the_digwebs_logger(tmp_path):
    assert prod_app(tmp_path).logger is logging.getLogger("digwebs")


def test_handle_exception_directly_logs_and_answers(tmp_path, caplog):
    app = prod_app(tmp_path)
    with app.test_request_context("/direct", method="DELETE") as c:
        with caplog.at_level(logging.ERROR, logger="digwebs"):
            resp = app.handle_exception(c, ValueError("direct"))
    assert resp.status_code == 500
    [record] = caplog.records
    assert "DELETE" in record.getMessage() and "/direct" in record.getMessage()


# -- debug or not, JSON or not ------------------------------------------------------------
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

    r = serve_and_get(app, broken)
    assert r.status_code == 500
    assert ("Traceback" in r.text) is page
    assert ("ValueError: secret &lt;detail&gt;" in r.text) is page
    assert "secret <detail>" not in r.text  # escaped when shown, absent otherwise


def test_error_response_as_json_for_json_clients(app, client):
    r = client.get("/missing", headers={"Accept": "application/json"})
    assert (r.status_code, r.json["error"]) == (404, "http:404")
