"""Static files: the /static route, favicon, static_url and send_file."""

from __future__ import annotations

import os
import re
import time
import typing as t
from email.utils import formatdate
from wsgiref.util import FileWrapper

import pytest

import digwebs.static as static_module
from digwebs import Digwebs, send_file
from digwebs.static import (
    FileBody,
    content_disposition,
    parse_range,
    safe_join,
    send_from_directory,
    static_url,
)
from digwebs.testing import build_environ

CSS = b"body { color: red }\n"
BIG = bytes(range(256)) * 1024  # 256 KiB: four 64 KiB blocks


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    static = root / "static"
    (static / "css").mkdir(parents=True)
    (static / "js").mkdir()
    (static / "img").mkdir()
    (static / "css" / "app.css").write_bytes(CSS)
    (static / "js" / "app.js").write_bytes(b"console.log(1)\n")
    (static / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    (static / "data.json").write_bytes(b'{"a": 1}')
    (static / "blob.unknownext").write_bytes(b"xyz")
    (static / "big.bin").write_bytes(BIG)
    (static / "hello.txt").write_bytes(b"0123456789")
    (static / "empty.txt").write_bytes(b"")
    (static / "favicon.ico").write_bytes(b"\0\0\1\0icon")
    (static / "caf\u00e9.txt").write_bytes(b"cafe")
    (static / ".env").write_bytes(b"SECRET=1")
    (static / ".git").mkdir()
    (static / ".git" / "config").write_bytes(b"[core]")
    (root / "secret.txt").write_bytes(b"top secret")
    (root / "files").mkdir()
    (root / "files" / "report.pdf").write_bytes(b"%PDF-1.4 fake")
    (tmp_path / "outside.txt").write_bytes(b"outside")
    return root


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


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/static/js/app.js", "text/javascript; charset=utf-8"),
        ("/static/img/logo.png", "image/png"),
        ("/static/data.json", "application/json"),
        ("/static/hello.txt", "text/plain; charset=utf-8"),
        ("/static/blob.unknownext", "application/octet-stream"),
        ("/static/caf%C3%A9.txt", "text/plain; charset=utf-8"),
    ],
)
def test_content_types(client, path, expected):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == expected


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


# -- no way out ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/css/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E%2Fsecret.txt",
        "/static/css/%2e%2e/%2e%2e/secret.txt",
        "/static/%252e%252e/secret.txt",
        "/static/%252e%252e%252fsecret.txt",
        "/static/..%5Csecret.txt",
        "/static/css%5C..%5C..%5Csecret.txt",
        "/static/%5Cetc%5Cpasswd",
        "/static//etc/passwd",
        "/static///etc/passwd",
        "/static/C:/Windows/win.ini",
        "/static/c:secret.txt",
        "/static/css/app.css%00.png",
        "/static/%00",
        "/static/.env",
        "/static/.git/config",
        "/static/css/./app.css",
        "/static/link_out.txt",
        "/static/linkdir_out/outside.txt",
    ],
)
def test_escape_attempts_are_404(client, project, path):
    outside = project.parent / "outside.txt"
    os.symlink(outside, project / "static" / "link_out.txt")
    os.symlink(project.parent, project / "static" / "linkdir_out")
    r = client.get(path)
    assert r.status_code == 404, path
    assert b"top secret" not in r.data and b"outside" not in r.data


def test_symlink_inside_is_served(client, project):
    os.symlink(project / "static" / "css" / "app.css", project / "static" / "alias.css")
    r = client.get("/static/alias.css")
    assert r.status_code == 200 and r.data == CSS


def test_safe_join_unit(project):
    folder = str(project / "static")
    assert safe_join(folder, "css/app.css")[0] == os.path.realpath(folder + "/css/app.css")
    for bad in [
        "",
        "/etc/passwd",
        "..",
        "a/../../x",
        "a\\b",
        "x\x00",
        "C:x",
        ".env",
        "css//app.css",
    ]:
        assert safe_join(folder, bad) is None, bad
    assert safe_join(folder, "css") is None  # a folder, not a file
    assert safe_join(folder, str(project / "secret.txt")) is None


# -- conditional requests -----------------------------------------------------


def test_if_none_match_304(client):
    etag = client.get("/static/css/app.css").headers["ETag"]
    for value in [etag, f"W/{etag}", f'"nope", {etag}', "*"]:
        r = client.get("/static/css/app.css", headers={"If-None-Match": value})
        assert r.status_code == 304, value
        assert r.data == b""
        assert r.headers["ETag"] == etag
        assert "Cache-Control" in r.headers and "Last-Modified" in r.headers
        assert "Content-Type" not in r.headers and "Content-Length" not in r.headers
    assert (
        client.get("/static/css/app.css", headers={"If-None-Match": '"other"'}).status_code == 200
    )


def test_if_modified_since_304(client):
    lm = client.get("/static/css/app.css").headers["Last-Modified"]
    r = client.get("/static/css/app.css", headers={"If-Modified-Since": lm})
    assert r.status_code == 304 and r.data == b""
    old = formatdate(time.time() - 86400 * 365, usegmt=True)
    assert client.get("/static/css/app.css", headers={"If-Modified-Since": old}).status_code == 200
    garbage = client.get("/static/css/app.css", headers={"If-Modified-Since": "yesterday-ish"})
    assert garbage.status_code == 200


def test_if_none_match_wins_over_if_modified_since(client):
    lm = client.get("/static/css/app.css").headers["Last-Modified"]
    r = client.get(
        "/static/css/app.css", headers={"If-None-Match": '"other"', "If-Modified-Since": lm}
    )
    assert r.status_code == 200 and r.data == CSS


def test_etag_changes_with_file(client, project):
    etag = client.get("/static/hello.txt").headers["ETag"]
    path = project / "static" / "hello.txt"
    path.write_bytes(b"changed content")
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    r = client.get("/static/hello.txt", headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.data == b"changed content"
    assert r.headers["ETag"] != etag


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


# -- HEAD and ranges ----------------------------------------------------------


def test_head(client):
    r = client.head("/static/big.bin")
    assert r.status_code == 200
    assert r.data == b""
    assert r.headers["Content-Length"] == str(len(BIG))
    assert r.headers["Content-Type"] == "application/octet-stream"
    # HEAD ignores Range (range handling is defined for GET only).
    r = client.head("/static/hello.txt", headers={"Range": "bytes=0-1"})
    assert r.status_code == 200 and r.headers["Content-Length"] == "10"


@pytest.mark.parametrize(
    ("header", "body", "content_range"),
    [
        ("bytes=0-3", b"0123", "bytes 0-3/10"),
        ("bytes=2-5", b"2345", "bytes 2-5/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=-100", b"0123456789", "bytes 0-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
        ("bytes=9-9", b"9", "bytes 9-9/10"),
        ("bytes= 1 - 2 ", b"12", "bytes 1-2/10"),
        ("BYTES=0-0,", b"0", "bytes 0-0/10"),
        ("bytes=3-" + "9" * 40, b"3456789", "bytes 3-9/10"),
    ],
)
def test_range_206(client, header, body, content_range):
    r = client.get("/static/hello.txt", headers={"Range": header})
    assert r.status_code == 206
    assert r.data == body
    assert r.headers["Content-Range"] == content_range
    assert r.headers["Content-Length"] == str(len(body))
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "header", ["bytes=10-", "bytes=10-20", "bytes=-0", "bytes=" + "9" * 40 + "-"]
)
def test_range_416(client, header):
    r = client.get("/static/hello.txt", headers={"Range": header})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "bytes */10"


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-1,4-5",
        "bytes=0-1, 20-30",
        "bytes=5-2",
        "bytes=abc",
        "bytes=-",
        "items=0-1",
        "0-1",
        "bytes=1.5-2",
    ],
)
def test_multi_or_malformed_range_is_200(client, header):
    r = client.get("/static/hello.txt", headers={"Range": header})
    assert r.status_code == 200
    assert r.data == b"0123456789"
    assert "Content-Range" not in r.headers


def test_if_range(client):
    first = client.get("/static/hello.txt")
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]
    r = client.get("/static/hello.txt", headers={"Range": "bytes=0-1", "If-Range": etag})
    assert r.status_code == 206 and r.data == b"01"
    r = client.get("/static/hello.txt", headers={"Range": "bytes=0-1", "If-Range": lm})
    assert r.status_code == 206
    for stale in ['"old"', f"W/{etag}", "Thu, 01 Jan 1970 00:00:00 GMT"]:
        r = client.get("/static/hello.txt", headers={"Range": "bytes=0-1", "If-Range": stale})
        assert r.status_code == 200 and r.data == b"0123456789", stale


def test_parse_range_unit():
    assert parse_range("bytes=0-0", 1) == (0, 0)
    assert parse_range("bytes=0-1,2-3", 10) is None
    assert parse_range("bytes=x", 10) is None


# -- streaming and the file wrapper -------------------------------------------


def _call(app, path, **kwargs):
    environ = build_environ(path, **kwargs)
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)
        return lambda data: None

    return app(environ, start_response), seen


def test_big_file_is_streamed_in_blocks(app):
    result, seen = _call(app, "/static/big.bin")
    try:
        chunks = list(result)
    finally:
        result.close()
    assert seen["status"] == "200 OK"
    assert len(chunks) == 4 and all(len(c) == 64 * 1024 for c in chunks)
    assert b"".join(chunks) == BIG
    assert seen["headers"]["Content-Length"] == str(len(BIG))


def test_range_is_streamed_in_blocks(app):
    result, seen = _call(app, "/static/big.bin", headers={"Range": "bytes=100-200099"})
    try:
        chunks = list(result)
    finally:
        result.close()
    assert seen["status"].startswith("206")
    assert len(chunks) == 4
    assert b"".join(chunks) == BIG[100:200100]


def test_body_closed_early_closes_file(app):
    result, _ = _call(app, "/static/big.bin")
    first = next(iter(result))
    assert len(first) == 64 * 1024
    result.close()
    with pytest.raises(StopIteration):
        next(iter(result))


def test_file_body_opens_lazily(project):
    body = FileBody(str(project / "static" / "hello.txt"), 2, 3, whole=False)
    assert body._file is None and body.wsgi_file is None
    assert list(body) == [b"234"]
    assert body._file is None  # closed at the end
    body.close()


class RecordingWrapper(FileWrapper):
    instances: list[RecordingWrapper] = []

    def __init__(self, filelike, blksize=8192):
        super().__init__(filelike, blksize)
        self.blksize_given = blksize
        RecordingWrapper.instances.append(self)


def test_wsgi_file_wrapper_used(client):
    RecordingWrapper.instances.clear()
    r = client.get("/static/big.bin", environ_overrides={"wsgi.file_wrapper": RecordingWrapper})
    assert r.status_code == 200 and r.data == BIG
    assert len(RecordingWrapper.instances) == 1
    wrapper = RecordingWrapper.instances[0]
    assert wrapper.blksize_given == 64 * 1024
    assert wrapper.filelike.closed


def test_wsgi_file_wrapper_not_used_for_ranges_or_head(client):
    RecordingWrapper.instances.clear()
    overrides = {"wsgi.file_wrapper": RecordingWrapper}
    r = client.get("/static/big.bin", headers={"Range": "bytes=0-9"}, environ_overrides=overrides)
    assert r.status_code == 206 and r.data == BIG[:10]
    r = client.head("/static/big.bin", environ_overrides=overrides)
    assert r.status_code == 200 and r.data == b""
    r = client.get("/static/big.bin", headers={"If-None-Match": "*"}, environ_overrides=overrides)
    assert r.status_code == 304
    assert RecordingWrapper.instances == []


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


def test_content_disposition_quoting():
    assert content_disposition("attachment", 'a"b\\c.txt') == (
        'attachment; filename="a\\"b\\\\c.txt"; filename*=UTF-8\'\'a%22b%5Cc.txt'
    )
    assert content_disposition("inline", "\u65e5\u672c.txt").startswith('inline; filename=".txt"')
    for bad in ["a\r\nSet-Cookie: x=1", "a\nb", "a\x00"]:
        with pytest.raises(ValueError):
            content_disposition("attachment", bad)


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
