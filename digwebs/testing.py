"""A test client that drives the application through its real WSGI entry.

Every request goes through :func:`wsgiref.validate.validator`, so each test
also checks that the application speaks correct WSGI.
"""

from __future__ import annotations

import io
import json as _json
import mimetypes
import os
import secrets
import typing as t
from urllib.parse import urlencode, urlsplit
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

from .datastructures import Headers
from .request import parse_cookie_header

__all__ = ["TestClient", "TestResponse", "build_environ"]

Files = t.Mapping[str, t.Any]


def _encode_multipart(data: t.Mapping[str, t.Any], files: Files) -> tuple[bytes, str]:
    boundary = "digwebs-" + secrets.token_hex(12)
    out = io.BytesIO()

    def part(headers: str, payload: bytes) -> None:
        out.write(f"--{boundary}\r\n{headers}\r\n\r\n".encode())
        out.write(payload)
        out.write(b"\r\n")

    for name, value in data.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            part(f'Content-Disposition: form-data; name="{name}"', str(item).encode())
    for name, spec in files.items():
        # spec: (filename, bytes|file[, content_type]) or a path-like / open file
        if isinstance(spec, tuple):
            filename, content, *rest = spec
            content_type = rest[0] if rest else None
        elif isinstance(spec, os.PathLike):
            filename = os.path.basename(spec)
            with open(spec, "rb") as fh:
                content, content_type = fh.read(), None
        else:
            filename = os.path.basename(getattr(spec, "name", "upload"))
            content, content_type = spec, None
        if hasattr(content, "read"):
            content = content.read()
        if isinstance(content, str):
            content = content.encode()
        content_type = (
            content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        )
        part(
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}",
            content,
        )
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def build_environ(
    path: str = "/",
    method: str = "GET",
    *,
    query: t.Mapping[str, t.Any] | str | None = None,
    headers: t.Mapping[str, str] | None = None,
    data: t.Mapping[str, t.Any] | bytes | str | None = None,
    json: t.Any = None,
    files: Files | None = None,
    content_type: str | None = None,
    environ_overrides: t.Mapping[str, t.Any] | None = None,
) -> dict[str, t.Any]:
    """Build a WSGI environ for a request, as a server would."""
    split = urlsplit(path)
    query_string = split.query
    if query:
        extra = query if isinstance(query, str) else urlencode(query, doseq=True)
        query_string = f"{query_string}&{extra}" if query_string else extra
    body = b""
    if json is not None:
        body = _json.dumps(json).encode()
        content_type = content_type or "application/json"
    elif files:
        body, content_type = _encode_multipart(dict(data or {}), files)  # type: ignore[arg-type]
    elif isinstance(data, dict):
        body = urlencode(data, doseq=True).encode()
        content_type = content_type or "application/x-www-form-urlencoded"
    elif isinstance(data, str):
        body = data.encode()
    elif isinstance(data, bytes):
        body = data
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": method.upper(),
        # WSGI: PATH_INFO is the percent-decoded path as latin-1 text.
        "PATH_INFO": _unquote_path(split.path or "/"),
        "QUERY_STRING": query_string,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
    }
    if body or method.upper() in ("POST", "PUT", "PATCH"):
        environ["CONTENT_LENGTH"] = str(len(body))
    if content_type:
        environ["CONTENT_TYPE"] = content_type
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ["HTTP_" + key] = value
    setup_testing_defaults(environ)
    environ.update(environ_overrides or {})
    return environ


def _unquote_path(path: str) -> str:
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(path).decode("latin-1")


class TestResponse:
    """What the test client got back."""

    __test__ = False  # not a pytest test class

    def __init__(self, status: str, headers: list[tuple[str, str]], data: bytes) -> None:
        self.status = status
        self.status_code = int(status.split(" ", 1)[0])
        self.headers = Headers(headers)
        self.data = data

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    @property
    def json(self) -> t.Any:
        return _json.loads(self.data) if self.data else None

    @property
    def content_type(self) -> str | None:
        return t.cast("str | None", self.headers.get("Content-Type"))

    @property
    def location(self) -> str | None:
        return t.cast("str | None", self.headers.get("Location"))

    def __repr__(self) -> str:
        return f"<TestResponse {self.status}>"


class TestClient:
    """Send requests to an application; cookies are kept across calls."""

    __test__ = False

    def __init__(self, app: t.Callable[..., t.Any], validate: bool = True) -> None:
        self.app = app
        self.cookies: dict[str, str] = {}
        self._wsgi = validator(app) if validate else app

    def open(self, path: str, method: str = "GET", **kwargs: t.Any) -> TestResponse:
        follow = kwargs.pop("follow_redirects", False)
        headers = dict(kwargs.pop("headers", None) or {})
        if self.cookies and not any(k.lower() == "cookie" for k in headers):
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        environ = build_environ(path, method, headers=headers, **kwargs)
        captured: dict[str, t.Any] = {}

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> t.Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, response_headers
            return lambda data: None

        result = self._wsgi(environ, start_response)
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        response = TestResponse(captured["status"], captured["headers"], data)
        self._store_cookies(response)
        if follow and response.status_code in (301, 302, 303, 307, 308) and response.location:
            next_method = method if response.status_code in (307, 308) else "GET"
            return self.open(response.location, next_method, follow_redirects=True)
        return response

    def _store_cookies(self, response: TestResponse) -> None:
        for header in response.headers.getlist("Set-Cookie"):
            pair, _, attrs = header.partition(";")
            name, _, value = pair.partition("=")
            attr_text = attrs.lower()
            expired = "max-age=0" in attr_text.replace(" ", "")
            if expired:
                self.cookies.pop(name.strip(), None)
            else:
                parsed = parse_cookie_header(pair)
                self.cookies[name.strip()] = parsed.get(name.strip(), value)

    def get(self, path: str, **kwargs: t.Any) -> TestResponse:
        return self.open(path, "GET", **kwargs)

    def post(self, path: str, **kwargs: t.Any) -> TestResponse:
        return self.open(path, "POST", **kwargs)

    def put(self, path: str, **kwargs: t.Any) -> TestResponse:
        return self.open(path, "PUT", **kwargs)

    def patch(self, path: str, **kwargs: t.Any) -> TestResponse:
        return self.open(path, "PATCH", **kwargs)

    def delete(self, path: str, **kwargs: t.Any) -> TestResponse:
        return self.open(path, "DELETE", **kwargs)

    def head(self, path: str, **kwargs: t.Any) -> TestResponse:
        return self.open(path, "HEAD", **kwargs)

    def options(self, path: str, **kwargs: t.Any) -> TestResponse:
        return self.open(path, "OPTIONS", **kwargs)
