"""Static files: the /static route, favicon, static_url and send_file (the core: test_files.py)."""

from __future__ import annotations

import os
import re
import time
import typing as t

import pytest
from _helpers import CSS, static_project

import digwebs.static as static_module
from digwebs import Digwebs, send_file
from digwebs.static import send_from_directory, static_url


@pytest.fixture
def project(tmp_path):
    return static_project(tmp_path)


@pytest.fixture
def app(project):
    app = Digwebs(project, debug=False)

    @app.get("/download")
    def download():
        return send_file("files/report.pdf", download_name="Quartalsbericht \u00fcber 2024.pdf")

    @app.get("/inline")
    def inline():
        return send_file("files/report.pdf")

    @app.get("/escape")
    def escape():
        return send_file("../outside.txt")

    @app.get("/missing")
    def missing():
        return send_file("files/nope.pdf")

    @app.get("/absolute")
    def absolute():
        return send_file(os.path.join(app.root_path, "files", "report.pdf"), max_age=60)

    @app.get("/files/<path:name>")
    def files(name):
        return send_from_directory("files", name)

    @app.get("/page")
    def page():
        return static_url("css/app.css")

    return app


@pytest.fixture
def client(app):
    return app.test_client()


# -- serving ------------------------------------------------------------------


def test_serves_file_with_type_and_validators(client):
    r = client.get("/static/css/app.css")
    assert r.status_code == 200
    assert r.data == CSS
    assert r.headers["Content-Type"] == "text/css; charset=utf-8"
    assert r.headers["Content-Length"] == str(len(CSS))
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', r.headers["ETag"])
    assert r.headers["Last-Modified"].endswith(" GMT")
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Cache-Control"] == "public, max-age=3600"


def test_static_max_age_config(project):
    app = Digwebs(project, debug=False, static_max_age=120)
    r = app.test_client().get("/static/css/app.css")
    assert r.headers["Cache-Control"] == "public, max-age=120"


def test_custom_static_url_path(project):
    app = Digwebs(project, debug=False, static_url_path="/assets/")
    c = app.test_client()
    assert c.get("/assets/css/app.css").data == CSS
    assert c.get("/static/css/app.css").status_code == 404
    assert app.url_for("static", filename="css/app.css") == "/assets/css/app.css"


def test_missing_file_and_folder_are_404(client):
    assert client.get("/static/nope.css").status_code == 404
    assert client.get("/static/css").status_code == 404
    assert client.get("/static/css/").status_code == 404
    assert client.get("/static/").status_code == 404


def test_no_static_folder_no_route(tmp_path):
    app = Digwebs(tmp_path, debug=False)
    assert [r.name for r in app.routes()] == []
    assert app.test_client().get("/static/x.css").status_code == 404


def test_empty_file(client):
    r = client.get("/static/empty.txt", headers={"Range": "bytes=0-10"})
    assert r.status_code == 200
    assert r.data == b""
    assert r.headers["Content-Length"] == "0"


def test_post_is_405(client):
    assert client.post("/static/css/app.css").status_code == 405


# -- static_url and cache busting ---------------------------------------------


def test_static_url_and_long_cache(client, app, project):
    app.config["templates_auto_reload"] = True  # files change while serving
    url = client.get("/page").text
    m = re.fullmatch(r"/static/css/app\.css\?v=([0-9a-f]{8,})", url)
    assert m, url
    r = client.get(url)
    assert r.status_code == 200 and r.data == CSS
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # A stale or made-up hash gets the ordinary max-age.
    assert (
        client.get("/static/css/app.css?v=deadbeef").headers["Cache-Control"]
        == "public, max-age=3600"
    )

    path = project / "static" / "css" / "app.css"
    path.write_bytes(b"body { color: blue }\n")
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    new_url = client.get("/page").text
    assert new_url != url and new_url.startswith("/static/css/app.css?v=")
    assert client.get(new_url).headers["Cache-Control"].endswith("immutable")
    assert client.get(url).headers["Cache-Control"] == "public, max-age=3600"


def test_static_url_hash_is_looked_up_once_in_production(project):
    app = Digwebs(project, env="production", secret_key="s" * 32)
    path = project / "static" / "css" / "app.css"
    with app.test_request_context("/"):
        url = static_url("css/app.css")
        missing = static_url("css/later.css")
        calls = []
        real_safe_join = static_module.safe_join

        def counting(directory: str, filename: str) -> t.Any:
            calls.append(filename)
            return real_safe_join(directory, filename)

        static_module.safe_join = counting
        try:
            path.write_bytes(b"body { color: blue }\n")
            os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
            (project / "static" / "css" / "later.css").write_bytes(b"p {}\n")
            # the same URLs, from memory: a deployment changes files with a restart
            assert static_url("css/app.css") == url
            assert static_url("css/later.css") == missing == "/static/css/later.css"
            assert calls == []
        finally:
            static_module.safe_join = real_safe_join
    # a new process (here: a new app) sees the new content
    fresh = Digwebs(project, env="production", secret_key="s" * 32)
    with fresh.test_request_context("/"):
        assert static_url("css/app.css") != url
        assert static_url("css/later.css").startswith("/static/css/later.css?v=")


def test_static_url_missing_file_and_outside_request(app):
    with app.test_request_context("/"):
        assert static_url("css/nope.css") == "/static/css/nope.css"
        assert static_url("../secret.txt") == "/static/../secret.txt"
        assert static_url("/css/app.css").startswith("/static/css/app.css?v=")
        assert static_url("caf\u00e9.txt").startswith("/static/caf%C3%A9.txt?v=")
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/mnt"}):
        assert static_url("css/app.css").startswith("/mnt/static/css/app.css?v=")


def test_static_url_in_template(project):
    (project / "views").mkdir()
    (project / "views" / "index.html").write_text("<link href=\"{{ static_url('css/app.css') }}\">")
    app = Digwebs(project, debug=False)

    @app.get("/")
    def index():
        return app.render_template("index.html", {})

    body = app.test_client().get("/").text
    assert re.fullmatch(r'<link href="/static/css/app\.css\?v=[0-9a-f]+">', body), body


def test_url_for_static(app):
    assert app.url_for("static", filename="css/app.css") == "/static/css/app.css"
    assert app.url_for("static", filename="caf\u00e9.txt") == "/static/caf%C3%A9.txt"
    static = next(r for r in app.routes() if r.name == "static")
    assert static.path == "/static/<path:filename>" and static.methods == ("GET",)


# -- favicon --------------------------------------------------------------------


def test_favicon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200
    assert r.data == b"\0\0\1\0icon"
    assert r.headers["Content-Type"] == "image/vnd.microsoft.icon"
    assert client.get("/static/favicon.ico").data == b"\0\0\1\0icon"


def test_favicon_absent(project):
    (project / "static" / "favicon.ico").unlink()
    app = Digwebs(project, debug=False)
    assert app.test_client().get("/favicon.ico").status_code == 404
    assert "/favicon.ico" not in [r.path for r in app.routes()]


def test_user_favicon_route_not_shadowed(project):
    app = Digwebs(project, debug=False)

    @app.get("/favicon.ico")
    def my_icon():
        return b"mine"

    assert app.test_client().get("/favicon.ico").data == b"mine"
    assert [r.path for r in app.routes()].count("/favicon.ico") == 1


def test_static_routes_registered_once(app):
    app.routes()
    app.routes()
    assert [r.name for r in app.routes()].count("static") == 1


# -- send_file ------------------------------------------------------------------


def test_send_file_download_name(client):
    r = client.get("/download")
    assert r.status_code == 200
    assert r.data == b"%PDF-1.4 fake"
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Disposition"] == (
        'attachment; filename="Quartalsbericht uber 2024.pdf"; '
        "filename*=UTF-8''Quartalsbericht%20%C3%BCber%202024.pdf"
    )
    assert r.headers["Cache-Control"] == "no-cache"
    assert "ETag" in r.headers and "Last-Modified" in r.headers


def test_send_file_inline_and_conditional(client):
    r = client.get("/inline")
    assert r.status_code == 200 and "Content-Disposition" not in r.headers
    assert client.get("/inline", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    r = client.get("/inline", headers={"Range": "bytes=-4"})
    assert r.status_code == 206 and r.data == b"fake"
    assert client.get("/inline", headers={"Range": "bytes=99-"}).status_code == 416
    assert client.head("/inline").headers["Content-Length"] == str(len(b"%PDF-1.4 fake"))


def test_send_file_absolute_and_max_age(client):
    r = client.get("/absolute")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "max-age=60"


def test_send_file_refuses_escape_and_missing(client):
    assert client.get("/escape").status_code == 404
    assert client.get("/missing").status_code == 404


def test_send_from_directory(client):
    assert client.get("/files/report.pdf").data == b"%PDF-1.4 fake"
    assert client.get("/files/../secret.txt").status_code == 404
    assert client.get("/files/%2e%2e/secret.txt").status_code == 404


def test_send_file_nul_and_attachment_default_name(app):
    with app.test_request_context("/"):
        from digwebs.errors import NotFound

        with pytest.raises(NotFound):
            send_file("files/report.pdf\x00.txt")
        resp = send_file("files/report.pdf", as_attachment=True)
        assert resp.headers["Content-Disposition"].startswith('attachment; filename="report.pdf"')
        resp.body.close()


def test_file_serving_core_lives_in_digwebs_files_and_stays_importable_here():
    # The core moved to digwebs.files (issue 10 item 4); digwebs.static
    # re-exports the very same objects.
    import importlib
    from pathlib import Path

    files = importlib.import_module("digwebs.files")
    for name in ("FileBody", "safe_join", "parse_range", "content_disposition", "guess_type"):
        assert getattr(static_module, name) is getattr(files, name), name
    for module in (static_module, files):
        assert module.__file__ is not None
        assert len(Path(module.__file__).read_text().splitlines()) <= 500, module.__name__
