"""A test client that drives the application through its real WSGI entry.

Every request goes through :func:`wsgiref.validate.validator`, so each test
also checks that the application speaks correct WSGI, with one exception:
a response may go without ``Content-Type`` (HTTP does not require one, and a
redirect or an ``OPTIONS`` answer has no body to describe; wsgiref's
validator insists on it).
"""

from __future__ import annotations

import io
import json as _json
import mimetypes
import os
import secrets
import typing as t
from urllib.parse import urlencode, urljoin, urlsplit
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

from .cookies import parse_cookie_header, quote_cookie_value
from .datastructures import Headers

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .context import RequestContext

__all__ = ["RedirectLoopError", "TestClient", "TestResponse", "build_environ"]

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
    """Build the WSGI environ a server would pass for this request.

    The environ is complete (:func:`wsgiref.util.setup_testing_defaults`
    fills what is not given): ``http://localhost/`` from ``127.0.0.1``.

    :param path: the target, percent-encoded as on the request line; a
        query string in it is kept.
    :param method: the method, upper-cased.
    :param query: more query parameters, a mapping (a list value gives one
        ``key=value`` each) or an encoded string, appended to ``path``'s.
    :param headers: request headers; ``Content-Type`` and ``Content-Length``
        go to ``CONTENT_TYPE`` and ``CONTENT_LENGTH`` as WSGI requires.
    :param data: the body: a dict is form-encoded (multipart when ``files``
        is given), a ``str`` is UTF-8 encoded, ``bytes`` are sent as they are.
    :param json: a value sent as a JSON body (``application/json``); takes
        precedence over ``data``.
    :param files: uploads by field name: ``(filename, bytes or file[,
        content_type])``, a path (:class:`os.PathLike`) or an open binary file.
    :param content_type: the ``Content-Type``, instead of the one the body
        kind implies.
    :param environ_overrides: keys set last, over everything above.
    """
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


def request_context(
    app: Digwebs, path: str = "/", method: str = "GET", **kwargs: t.Any
) -> RequestContext:
    """A request context for ``app`` as a request through ``wsgi_app`` sees it.

    Behind :meth:`Digwebs.test_request_context`: the environ of
    :func:`build_environ` with the trusted proxies' rewrite, without composing
    the app, so that routes may still be registered after.
    """
    from .context import RequestContext
    from .proxies import TrustedProxies

    environ = build_environ(path, method, **kwargs)
    proxies = app.trusted_proxies if app._finalized else TrustedProxies.from_config(app.config)
    if proxies is not None:
        proxies.rewrite(environ)
    return RequestContext(app, app._new_request(environ))


def _unquote_path(path: str) -> str:
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(path).decode("latin-1")


class TestResponse:
    """What the test client got back: ``status``, ``status_code``, ``headers``, ``data``.

    ``history`` holds the redirect responses that ``follow_redirects=True``
    followed to get here, oldest first (empty otherwise).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, status: str, headers: list[tuple[str, str]], data: bytes) -> None:
        self.status = status
        self.status_code = int(status.split(" ", 1)[0])
        self.headers = Headers(headers)
        self.data = data
        self.history: tuple[TestResponse, ...] = ()

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes become U+FFFD)."""
        return self.data.decode("utf-8", "replace")

    @property
    def json(self) -> t.Any:
        """The body parsed as JSON, or ``None`` for an empty body.

        :raises json.JSONDecodeError: the body is not JSON.
        """
        return _json.loads(self.data) if self.data else None

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header, parameters included, or ``None``."""
        return t.cast("str | None", self.headers.get("Content-Type"))

    @property
    def location(self) -> str | None:
        """The ``Location`` header as sent (not resolved), or ``None``."""
        return t.cast("str | None", self.headers.get("Location"))

    def __repr__(self) -> str:
        return f"<TestResponse {self.status}>"


class RedirectLoopError(RuntimeError):
    """Raised when ``follow_redirects=True`` would go round in circles.

    That is, a redirect that would repeat a hop exactly, or more than
    :attr:`TestClient.max_redirects` of them; the message shows the chain.
    """


# The redirects the client follows. 301, 302 and 303 become GET (HEAD stays
# HEAD) without a body; 307 and 308 repeat the method and the body.
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_KEEPS_METHOD = frozenset({307, 308})
# Headers that describe a body, dropped with it.
_BODY_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding"})
# Environ keys a follow-up request sets itself rather than inherit.
_REQUEST_KEYS = frozenset(
    {"REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH", "wsgi.input"}
)
# Stands for "no Content-Type" while the response passes wsgiref's validator.
_NO_CONTENT_TYPE = "digwebs-testing/no-content-type"


def _tolerate_missing_content_type(app: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Let a response without Content-Type through wsgiref's validator.

    The app's ``start_response`` gets a placeholder the client removes again.
    """

    def wrapped(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> t.Any:
        def add_placeholder(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> t.Any:
            code = status.split(" ", 1)[0] if isinstance(status, str) else ""
            if code not in ("204", "304") and not any(
                isinstance(name, str) and name.lower() == "content-type" for name, _ in headers
            ):
                headers = [*headers, ("Content-Type", _NO_CONTENT_TYPE)]
            return start_response(status, headers, exc_info)

        return app(environ, add_placeholder)

    return wrapped


class TestClient:
    """Send requests to an application; cookies are kept across calls.

    Each request goes through the application's WSGI entry, wrapped in
    :func:`wsgiref.validate.validator` unless ``validate=False``, so a test
    also checks that the application speaks correct WSGI.

    ``follow_redirects=True`` follows 301, 302, 303, 307 and 308 as
    werkzeug's test client does: the request's headers go along; 307 and 308
    resend the method and the body (with its Content-Type), even when the
    redirecting handler read it; 301, 302 and 303 become GET without body or
    body headers, except that HEAD stays HEAD. Cookies set on the way are
    sent on the next hop (unless the request gave its own ``Cookie``
    header). A relative ``Location`` is resolved against the request's URL;
    one on another host is not followed (:class:`RuntimeError`). An exact
    repeat of an earlier hop, or more than :attr:`max_redirects` hops, raises
    :class:`RedirectLoopError`.
    """

    __test__ = False

    #: How many redirects one request may follow before RedirectLoopError.
    max_redirects = 20

    def __init__(self, app: t.Callable[..., t.Any], validate: bool = True) -> None:
        self.app = app
        self.cookies: dict[str, str] = {}
        self._wsgi = validator(_tolerate_missing_content_type(app)) if validate else app

    def open(self, path: str, method: str = "GET", **kwargs: t.Any) -> TestResponse:
        """Send one request and return the response.

        Takes the options of :func:`build_environ`, and
        ``follow_redirects=True`` to return the last response of the
        redirects it follows (the others are in its ``history``). The
        ``Cookie`` header carries the cookies kept so far unless ``headers``
        gives one.

        :raises RedirectLoopError: following redirects went round in circles.
        :raises RuntimeError: a redirect leads to another host.
        """
        follow = kwargs.pop("follow_redirects", False)
        headers = dict(kwargs.pop("headers", None) or {})
        environ = build_environ(path, method, headers=self._with_cookies(headers), **kwargs)
        stream = environ["wsgi.input"]
        # Taken before the application reads it: a 307 resends it.
        body = stream.getvalue() if isinstance(stream, io.BytesIO) else b""
        response = self._run(environ)
        if not follow:
            return response
        return self._follow(response, environ, path, headers, body, kwargs)

    def _with_cookies(self, headers: dict[str, str]) -> dict[str, str]:
        if self.cookies and not any(k.lower() == "cookie" for k in headers):
            # Stored decoded; sent quoted again, as the browser echoes them.
            cookie = "; ".join(f"{k}={quote_cookie_value(v)}" for k, v in self.cookies.items())
            return {**headers, "Cookie": cookie}
        return headers

    def _run(self, environ: dict[str, t.Any]) -> TestResponse:
        captured: dict[str, t.Any] = {}

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> t.Callable[[bytes], None]:
            captured["status"] = status
            captured["headers"] = [h for h in response_headers if h[1] != _NO_CONTENT_TYPE]
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
        return response

    def _follow(
        self,
        response: TestResponse,
        environ: dict[str, t.Any],
        path: str,
        headers: dict[str, str],
        body: bytes,
        options: dict[str, t.Any],
    ) -> TestResponse:
        method = environ["REQUEST_METHOD"]
        content_type: str | None = environ.get("CONTENT_TYPE")
        host = environ.get("HTTP_HOST") or environ["SERVER_NAME"]
        url = urljoin(f"{environ['wsgi.url_scheme']}://{host}", path)
        given = options.get("environ_overrides") or {}
        overrides = {k: v for k, v in given.items() if k not in _REQUEST_KEYS}
        history: list[TestResponse] = []
        chain = [f"{method} {url}"]
        seen = {(method, url, body, tuple(self.cookies.items()))}

        while response.status_code in REDIRECT_CODES and response.location:
            history.append(response)
            target = urljoin(url, response.location)
            chain.append(f"{response.status_code} -> {target}")
            if len(history) > self.max_redirects:
                raise RedirectLoopError(
                    f"stopped after {self.max_redirects} redirects (TestClient.max_redirects): "
                    + " ".join(chain)
                )
            split = urlsplit(target)
            if (split.hostname or "") != (urlsplit(url).hostname or ""):
                raise RuntimeError(
                    f"cannot follow a redirect to another host: {target} (from {url})"
                )
            if response.status_code not in _KEEPS_METHOD:
                method = "HEAD" if method == "HEAD" else "GET"
                body, content_type = b"", None
                headers = {k: v for k, v in headers.items() if k.lower() not in _BODY_HEADERS}
            key = (method, target, body, tuple(self.cookies.items()))
            if key in seen:
                raise RedirectLoopError("redirect loop: " + " ".join(chain))
            seen.add(key)
            port = split.port or (443 if split.scheme == "https" else 80)
            hop_overrides = {
                **overrides,
                "wsgi.url_scheme": split.scheme,
                "HTTP_HOST": split.netloc,
                "SERVER_PORT": str(port),
            }
            environ = build_environ(
                f"{split.path or '/'}?{split.query}" if split.query else split.path or "/",
                method,
                headers=self._with_cookies(headers),
                data=body,
                content_type=content_type,
                environ_overrides=hop_overrides,
            )
            url = target
            response = self._run(environ)
        response.history = tuple(history)
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
        """Send a GET request; the same as ``open(path, "GET", **kwargs)``."""
        return self.open(path, "GET", **kwargs)

    def post(self, path: str, **kwargs: t.Any) -> TestResponse:
        """Send a POST request; the same as ``open(path, "POST", **kwargs)``."""
        return self.open(path, "POST", **kwargs)

    def put(self, path: str, **kwargs: t.Any) -> TestResponse:
        """Send a PUT request; the same as ``open(path, "PUT", **kwargs)``."""
        return self.open(path, "PUT", **kwargs)

    def patch(self, path: str, **kwargs: t.Any) -> TestResponse:
        """Send a PATCH request; the same as ``open(path, "PATCH", **kwargs)``."""
        return self.open(path, "PATCH", **kwargs)

    def delete(self, path: str, **kwargs: t.Any) -> TestResponse:
        """Send a DELETE request; the same as ``open(path, "DELETE", **kwargs)``."""
        return self.open(path, "DELETE", **kwargs)

    def head(self, path: str, **kwargs: t.Any) -> TestResponse:
        """Send a HEAD request; the same as ``open(path, "HEAD", **kwargs)``."""
        return self.open(path, "HEAD", **kwargs)

    def options(self, path: str, **kwargs: t.Any) -> TestResponse:
        """Send a OPTIONS request; the same as ``open(path, "OPTIONS", **kwargs)``."""
        return self.open(path, "OPTIONS", **kwargs)
