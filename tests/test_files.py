"""The file-serving core (digwebs.files), through the /static route and on its own.

Paths that never leave their folder, the content type, conditional requests,
ranges and the streamed FileBody (with the server's ``wsgi.file_wrapper``).
The routes that use it, ``static_url`` and ``send_file`` are test_static.py's.
"""

from __future__ import annotations

import os
import time
from email.utils import formatdate
from wsgiref.util import FileWrapper

import pytest
from _helpers import BIG, CSS, static_project

from digwebs import Digwebs
from digwebs.files import FileBody, content_disposition, parse_range, safe_join
from digwebs.testing import build_environ


@pytest.fixture
def project(tmp_path):
    return static_project(tmp_path)


@pytest.fixture
def app(project):
    # The /static route is all these tests ask for; test_static.py's app adds send_file routes.
    return Digwebs(project, debug=False)


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


# -- Content-Disposition --------------------------------------------------------


def test_content_disposition_quoting():
    assert content_disposition("attachment", 'a"b\\c.txt') == (
        'attachment; filename="a\\"b\\\\c.txt"; filename*=UTF-8\'\'a%22b%5Cc.txt'
    )
    assert content_disposition("inline", "\u65e5\u672c.txt").startswith('inline; filename=".txt"')
    for bad in ["a\r\nSet-Cookie: x=1", "a\nb", "a\x00"]:
        with pytest.raises(ValueError):
            content_disposition("attachment", bad)
