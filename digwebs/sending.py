"""Handing an answer to the server: status line, headers, and the body iterable.

The end of every request: :func:`finish` takes the :class:`Response` a
route, middleware or error handler made, adds the application's security
headers and hands it over; :func:`send_bytes` is where a bytes body gets
its Content-Length and a HEAD answer loses its body (the direct lane of
:mod:`digwebs.results` writes both steps out for its answers). A streamed
body is iterated with its request's context active.
"""

from __future__ import annotations

import typing as t

from .context import _cv_ctx
from .security_headers import add_to as _add_security
from .security_headers import for_app as _security_headers
from .wrappers.response import _STATUS_LINES, status_line

if t.TYPE_CHECKING:
    from .context import RequestContext
    from .wrappers.response import Response

__all__ = ["finish", "send_bytes"]

StartResponse = t.Callable[..., t.Any]


def _may_have_body(code: int) -> bool:
    return code >= 200 and code != 204 and code != 304


class _StreamWithContext:
    """Iterate a streamed body with its request context active."""

    __slots__ = ("ctx", "iterable", "iterator")

    def __init__(self, ctx: RequestContext, iterable: t.Iterable[t.Any]) -> None:
        self.ctx = ctx
        self.iterable = iterable
        self.iterator = iter(iterable)

    def __iter__(self) -> _StreamWithContext:
        return self

    def __next__(self) -> bytes:
        token = _cv_ctx.set(self.ctx)
        try:
            chunk = next(self.iterator)
        finally:
            _cv_ctx.reset(token)
        return chunk.encode() if isinstance(chunk, str) else chunk

    def close(self) -> None:
        close = getattr(self.iterable, "close", None)
        if close is not None:
            token = _cv_ctx.set(self.ctx)
            try:
                close()
            finally:
                _cv_ctx.reset(token)


def send_bytes(
    environ: dict[str, t.Any],
    start_response: StartResponse,
    line: str,
    headers: list[tuple[str, str]],
    no_length: bool,
    body: bytes,
) -> list[bytes]:
    """Answer the server with a bytes body: both lanes end here.

    The one place a Content-Length is added (last, after the security
    headers, which ``headers`` already carries; never a second one:
    ``no_length`` says ``headers`` has none, else they are scanned) and a
    HEAD answer's body dropped. ``line`` is the status line of a status
    that carries a body.
    """
    if no_length or not _has_length(headers):
        headers.append(("Content-Length", str(len(body))))
    start_response(line, headers)
    if environ["REQUEST_METHOD"] == "HEAD":
        return []
    return [body]


def finish(
    ctx: RequestContext, resp: Response, start_response: t.Callable[..., t.Any]
) -> t.Iterable[bytes]:
    """Hand status and headers to the server and return the body iterable.

    Every answer leaves with the application's security headers (those the
    response does not set itself). A bytes body (a str one is encoded) goes
    through :func:`send_bytes`; a streamed body is iterated with the
    request's context active, or dropped (closed) for HEAD; a status that
    carries no body (1xx, 204, 304) loses its body, Content-Type and
    Content-Length.
    """
    code = resp.status_code
    headers = resp._header_list
    body = resp.body
    environ = ctx.request.environ
    try:
        security = ctx.app._security_headers  # type: ignore[attr-defined]
    except AttributeError:  # the first answer of this application
        security = _security_headers(ctx.app)
    line = resp._status or _STATUS_LINES.get(code) or status_line(code)
    # The security headers the response does not set itself (https-only ones
    # for https). PERF: most responses carry only their Content-Type.
    extra = security[1] if environ.get("wsgi.url_scheme") == "https" else security[0]
    if len(headers) == 1 and headers[0][0] == "Content-Type":
        headers += extra
    else:
        _add_security(headers, extra, security[2])
    has_body = _may_have_body(code)
    if has_body:
        if type(body) is not bytes and isinstance(body, str):
            body = resp.body = body.encode()
        if type(body) is bytes:  # the commonest response
            return send_bytes(environ, start_response, line, headers, resp._no_length, body)
    iterable: t.Iterable[bytes] = []
    if not has_body:
        # These responses never carry a body, nor a type or length for one.
        headers[:] = [
            (k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")
        ]
        _close(body)
    elif environ["REQUEST_METHOD"] == "HEAD":
        _close(body)
    else:
        wrapper = environ.get("wsgi.file_wrapper")
        file_body = getattr(body, "wsgi_file", None)
        if file_body is not None and wrapper is not None:
            iterable = wrapper(*file_body())
        else:
            iterable = _StreamWithContext(ctx, body)
    start_response(line, headers)
    return iterable


def _close(body: t.Any) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


def _has_length(headers: list[tuple[str, str]]) -> bool:
    # An explicit Content-Length is kept, never doubled.
    return any(len(name) == 14 and name.lower() == "content-length" for name, _ in headers)
