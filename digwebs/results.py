"""Turning what handlers return (or raise) into WSGI responses.

This is the tail of the hot path: :class:`Endpoint` calls the handler and
converts its value, :func:`finish` hands status, headers and body to the
server. Error pages, responses built from an exception instead of a return
value, are in :mod:`digwebs.error_pages`.
"""

from __future__ import annotations

import inspect
import typing as t

from .context import _cv_ctx

# Error pages moved to error_pages.py; their names stay importable from here.
from .error_pages import NOT_FOUND_PAGE as NOT_FOUND_PAGE
from .error_pages import call_error_handler as call_error_handler
from .error_pages import debug_page as debug_page
from .error_pages import error_template as error_template
from .error_pages import http_error_response as http_error_response
from .error_pages import internal_error_response as internal_error_response
from .error_pages import prefers_json as prefers_json
from .errors import HttpError, Redirect
from .response import _STATUS_LINES, Response, header_list, json_bytes, status_line
from .security_headers import add_to as _add_security
from .security_headers import for_app as _security_headers

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .context import RequestContext
    from .routing import Rule

StartResponse = t.Callable[..., t.Any]
# A route's whole handling when it has no middleware: the WSGI body when it
# could answer the server itself, else the Response to finish.
DirectEndpoint = t.Callable[["RequestContext", StartResponse], "list[bytes] | Response"]

_JSON_TYPE = "application/json"


class ViewResultError(TypeError):
    """A ``@view`` handler returned something other than a dict."""


class Endpoint:
    """The innermost link of a route's chain: call the handler, convert."""

    __slots__ = ("app", "fn", "template", "as_json", "response_class", "arg_names")

    def __init__(self, app: Digwebs, rule: Rule, fn: t.Callable[..., t.Any]) -> None:
        self.app = app
        self.fn = fn
        self.arg_names = rule.arg_names
        self.template: str | None = getattr(fn, "__digwebs_view__", None)
        self.as_json: bool = bool(getattr(fn, "__digwebs_api__", False))
        self.response_class = app.response_class
        rule.is_api = self.as_json

    def __call__(self, ctx: RequestContext) -> Response:
        params = ctx.params
        rv = self.fn(**params) if params else self.fn()
        return self._convert(rv, ctx)

    def as_function(self) -> t.Callable[[RequestContext], Response]:
        """The same as calling this object, as a plain function.

        PERF: CPython calls a Python function from Python code far more
        cheaply than an object's ``__call__``; the chain's innermost link runs
        on every request, so it is built once as a closure over fixed values.
        """
        fn, response_class, from_parts = (
            self.fn,
            self.response_class,
            self.response_class._from_parts,
        )
        if self.template is not None:
            return self.__call__
        slow = self._convert
        dumps, json_type = json_bytes, _JSON_TYPE

        if self.as_json:

            def api_endpoint(ctx: RequestContext) -> Response:
                params = ctx.params
                rv = fn(**params) if params else fn()
                if ctx._response is None and rv.__class__ in (dict, list):
                    return from_parts(dumps(rv), 200, (), json_type)
                return slow(rv, ctx)

            return api_endpoint

        def endpoint(ctx: RequestContext) -> Response:
            params = ctx.params
            rv = fn(**params) if params else fn()
            if ctx._response is None:
                cls = rv.__class__
                if cls is response_class:
                    return rv  # type: ignore[no-any-return]
                if cls is tuple and len(rv) == 3 and type(rv[1]) is int:
                    body = rv[0]
                    if type(body) is str:
                        body = body.encode()
                    if type(body) is bytes:
                        return from_parts(body, rv[1], rv[2] or ())
                elif cls is str:
                    return from_parts(rv.encode(), 200, ())
                elif cls is dict or cls is list:
                    return from_parts(dumps(rv), 200, (), json_type)
                elif cls is bytes:
                    return from_parts(rv, 200, ())
            return slow(rv, ctx)

        return endpoint

    def as_direct(self) -> DirectEndpoint | None:
        """For a route with no middleware: call the handler and answer the server.

        PERF: the commonest results (a ``(body, status, headers)`` tuple,
        ``bytes``, ``str``, a ``dict`` or ``list`` for JSON) go straight to
        ``start_response``, with no :class:`Response` built and taken apart
        again. Anything else, or a handler that touched ``ctx.response`` or the
        session, gets the :class:`Response` the chain would have made, for the
        caller to finish. ``None`` when the route renders a view. The caller
        (wsgi_app) drops the body of an answer to HEAD.
        """
        if self.template is not None:
            return None
        fn, slow = self.fn, self._convert
        dumps, json_type = json_bytes, _JSON_TYPE
        default_type = self.response_class.default_content_type
        body_status_lines = _BODY_STATUS_LINES
        # The security headers, fixed at start-up, and the header lists of
        # the common answers built from them once; with no https-only header
        # configured the scheme need not be looked at.
        plain, secure, names = _security_headers(self.app)
        by_scheme = plain != secure
        text, text_https = (
            (("Content-Type", default_type), *plain),
            (
                ("Content-Type", default_type),
                *secure,
            ),
        )
        json_, json_https = (
            (("Content-Type", json_type), *plain),
            (
                ("Content-Type", json_type),
                *secure,
            ),
        )

        # PERF: a call with one positional argument costs a third of fn(**params).
        only = _only_parameter(fn, self.arg_names)

        def direct(ctx: RequestContext, start_response: StartResponse) -> list[bytes] | Response:
            params = ctx.params
            if only is not None:
                rv = fn(params[only])  # type: ignore[index]  # (set by the router)
            else:
                rv = fn(**params) if params else fn()
            if ctx._response is not None or ctx._session is not None:
                return slow(rv, ctx)
            cls = type(rv)
            if cls is str or cls is bytes:
                body = rv if cls is bytes else rv.encode()
                https = by_scheme and ctx.request.environ.get("wsgi.url_scheme") == "https"
                # What finish() does for a bytes body (wsgi_app drops it for HEAD).
                length = ("Content-Length", str(len(body)))
                start_response("200 OK", [*text_https, length] if https else [*text, length])
                return [body]
            if cls is dict or cls is list:
                body = dumps(rv)
                https = by_scheme and ctx.request.environ.get("wsgi.url_scheme") == "https"
                length = ("Content-Length", str(len(body)))
                start_response("200 OK", [*json_https, length] if https else [*json_, length])
                return [body]
            if cls is tuple and len(rv) == 3:
                body, code, headers = rv
                if type(body) is str:
                    body = body.encode()
                line = body_status_lines.get(code) if type(code) is int else None
                if line is None or type(body) is not bytes:
                    return slow(rv, ctx)
                header_pairs, no_length = header_list(headers, default_type)
                if not no_length:
                    return slow(rv, ctx)
                https = by_scheme and ctx.request.environ.get("wsgi.url_scheme") == "https"
                extra = secure if https else plain
                if len(header_pairs) > 1:  # the handler's own may replace some
                    _add_security(header_pairs, extra, names)
                else:
                    header_pairs += extra
                header_pairs.append(("Content-Length", str(len(body))))
                start_response(line, header_pairs)
                return [body]
            return slow(rv, ctx)

        def direct_api(
            ctx: RequestContext, start_response: StartResponse
        ) -> list[bytes] | Response:
            params = ctx.params
            rv = fn(**params) if params else fn()
            cls = type(rv)
            if (cls is dict or cls is list) and ctx._response is None and ctx._session is None:
                body = dumps(rv)
                https = by_scheme and ctx.request.environ.get("wsgi.url_scheme") == "https"
                length = ("Content-Length", str(len(body)))
                start_response("200 OK", [*json_https, length] if https else [*json_, length])
                return [body]
            return slow(rv, ctx)  # @api turns everything else into JSON the careful way

        return direct_api if self.as_json else direct

    def _convert(self, rv: t.Any, ctx: RequestContext) -> Response:
        if self.template is not None:
            return self._render_view(rv, ctx)
        if self.as_json:
            return self._to_json(rv, ctx)
        return to_response(self.app, rv, ctx)

    def _render_view(self, rv: t.Any, ctx: RequestContext) -> Response:
        from .templating import view_result

        result = view_result(self.app, self.fn, t.cast(str, self.template), rv)
        return to_response(self.app, result, ctx)

    def _to_json(self, rv: t.Any, ctx: RequestContext) -> Response:
        if isinstance(rv, Response):
            return to_response(self.app, rv, ctx)
        if isinstance(rv, HttpError):  # returned, not raised: still JSON under @api
            resp = rv.get_response(as_json=not isinstance(rv, Redirect))
            if ctx._response is not None:
                carry_over(ctx._response, resp)
            return resp
        status = headers = None
        if type(rv) is tuple:
            rv, status, headers = _split_tuple(rv)
        resp = ctx._response or self.response_class()
        resp.body = json_bytes(rv)
        resp.content_type = _JSON_TYPE
        _apply(resp, status, headers)
        return resp


def _only_parameter(fn: t.Callable[..., t.Any], arg_names: tuple[str, ...]) -> str | None:
    """The route's one parameter, if ``fn`` takes it first and by position alike.

    Then ``fn(value)`` does what ``fn(name=value)`` does: any other parameter
    has a default, and a wrapper taking ``*args, **kwargs`` does not qualify
    (its signature is read as written, not the wrapped function's).
    """
    if len(arg_names) != 1:
        return None
    try:
        parameters = list(inspect.signature(fn, follow_wrapped=False).parameters.values())
    except (TypeError, ValueError):  # no signature to read (some builtins)
        return None
    if not parameters:
        return None
    first, rest = parameters[0], parameters[1:]
    if first.name != arg_names[0] or first.kind is not first.POSITIONAL_OR_KEYWORD:
        return None
    for parameter in rest:
        required = parameter.default is parameter.empty
        if required and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            return None
    return first.name


def _may_have_body(code: int) -> bool:
    return code >= 200 and code != 204 and code != 304


# The status lines of the codes whose responses carry a body.
_BODY_STATUS_LINES = {code: line for code, line in _STATUS_LINES.items() if _may_have_body(code)}


def _split_tuple(rv: tuple[t.Any, ...]) -> tuple[t.Any, t.Any, t.Any]:
    if len(rv) == 3:
        return rv[0], rv[1], rv[2]
    if len(rv) == 2:
        second = rv[1]
        if isinstance(second, int | str):
            return rv[0], second, None
        return rv[0], None, second
    raise TypeError(
        "a handler returned a tuple of the wrong size: use (body, status), "
        "(body, headers) or (body, status, headers)"
    )


def _apply(resp: Response, status: t.Any, headers: t.Any) -> None:
    if status is not None:
        resp.status = status
    if headers:
        resp.headers.update(headers)


# Headers that describe a response's own body or target: a response keeps
# its own, never the ones prepared on ctx.response for another body.
_REPRESENTATION_HEADERS = frozenset(
    (
        "content-type",
        "content-length",
        "content-encoding",
        "content-language",
        "content-location",
        "content-range",
        "content-disposition",
        "transfer-encoding",
        "accept-ranges",
        "etag",
        "last-modified",
        "location",
        "allow",
    )
)


def carry_over(prepared: Response, resp: Response) -> Response:
    """Send what a handler put on ``ctx.response`` with the response it chose.

    The rule: a handler (or middleware) that sets cookies or headers on
    ``ctx.response`` and then returns or raises another response (a
    :func:`~digwebs.redirect`, :func:`~digwebs.abort`, a :class:`Response`)
    still sends them. Every ``Set-Cookie`` is added; any other header is added
    unless ``resp`` sets that name itself; headers about the body or the target
    (Content-Type, Content-Length, Location, ETag, ...) stay ``resp``'s own.
    An unhandled exception (a 500) sends none of them: the work was not done.
    """
    target = resp.headers
    own = {name.lower() for name, _ in resp._header_list}
    for name, value in prepared._header_list:
        lname = name.lower()
        if lname == "set-cookie" or (lname not in own and lname not in _REPRESENTATION_HEADERS):
            target.add(name, value)
    return resp


def site_path(url: str) -> str:
    """``url`` (a path the framework built) made to start with exactly one ``/``.

    A path beginning ``//`` or ``/\\`` is read by browsers as another host's
    URL; ``SCRIPT_NAME`` is a header some servers take from the client, so a
    mount point of ``//evil.example`` must not make a redirect leave the site.
    """
    if url[1:2] in ("/", "\\") or url[:1] != "/":
        return "/" + url.lstrip("/\\")
    return url


def options_response(app: Digwebs, methods: t.Iterable[str]) -> Response:
    """The answer to OPTIONS: ``Allow``, an empty body, and so no Content-Type."""
    resp = app.response_class(b"", 200, {"Allow": ", ".join(sorted(methods))})
    del resp.headers["Content-Type"]
    return resp


def to_response(app: Digwebs, rv: t.Any, ctx: RequestContext) -> Response:
    """Turn a handler's (or middleware's) return value into a response."""
    cls = app.response_class
    status = headers = None
    base = ctx._response
    if type(rv) is tuple:
        rv, status, headers = _split_tuple(rv)
        if base is None and (type(status) is int or status is None):
            body_type = type(rv)
            if body_type is bytes:
                return cls._from_parts(rv, status or 200, headers or ())
            if body_type is str:
                return cls._from_parts(rv.encode(), status or 200, headers or ())
    if isinstance(rv, Response):
        resp = rv
        if base is not None and base is not rv:
            carry_over(base, resp)
    elif isinstance(rv, HttpError):
        resp = rv.get_response()
        if base is not None:
            carry_over(base, resp)
    elif isinstance(rv, str | bytes):
        if base is None:
            resp = cls(rv)
        else:
            resp = base
            resp.body = rv.encode() if isinstance(rv, str) else rv
    elif rv is None:
        resp = base if base is not None else cls(b"")
    elif isinstance(rv, dict | list):
        resp = base if base is not None else cls()
        resp.body = json_bytes(rv)
        resp.content_type = _JSON_TYPE
    elif hasattr(rv, "__iter__"):
        resp = base if base is not None else cls()
        resp.body = rv
    else:
        raise TypeError(
            f"a handler returned {type(rv).__name__!r}, which digwebs cannot send; return "
            "str, bytes, dict, list, a Response, an iterable of bytes, None, or a tuple "
            "(body, status[, headers])"
        )
    if status is not None or headers:
        _apply(resp, status, headers)
    return resp


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


def finish(
    ctx: RequestContext, resp: Response, start_response: t.Callable[..., t.Any]
) -> t.Iterable[bytes]:
    """Hand status and headers to the server and return the body iterable.

    Every answer leaves with the application's security headers (those the
    response does not set itself), before its Content-Length.
    """
    code = resp.status_code
    headers = resp._header_list
    body = resp.body
    environ = ctx.request.environ
    try:
        security = ctx.app._security_headers  # type: ignore[attr-defined]
    except AttributeError:  # the first answer of this application
        security = _security_headers(ctx.app)
    extra = security[1] if environ.get("wsgi.url_scheme") == "https" else security[0]
    # PERF: most responses carry only their Content-Type: nothing to compare.
    if len(headers) == 1 and headers[0][0] == "Content-Type":
        headers += extra
    else:
        _add_security(headers, extra, security[2])
    if type(body) is not bytes and isinstance(body, str) and _may_have_body(code):
        body = resp.body = body.encode()
    # PERF: the commonest response first: a bytes body that may carry one.
    if type(body) is bytes and _may_have_body(code):
        if resp._no_length or not _has_length(headers):
            headers.append(("Content-Length", str(len(body))))
        start_response(resp._status or _STATUS_LINES.get(code) or status_line(code), headers)
        if environ["REQUEST_METHOD"] == "HEAD":
            return []
        return [body]
    head = environ["REQUEST_METHOD"] == "HEAD"
    if not _may_have_body(code):
        # These responses never carry a body, nor a type or length for one.
        headers[:] = [
            (k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")
        ]
        close = getattr(body, "close", None)
        if close is not None:
            close()
        iterable: t.Iterable[bytes] = []
    else:
        wrapper = environ.get("wsgi.file_wrapper")
        file_body = getattr(body, "wsgi_file", None)
        if head:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            iterable = []
        elif file_body is not None and wrapper is not None:
            iterable = wrapper(*file_body())
        else:
            iterable = _StreamWithContext(ctx, body)
    start_response(resp._status or _STATUS_LINES.get(code) or status_line(code), headers)
    return iterable


def _has_length(headers: list[tuple[str, str]]) -> bool:
    # An explicit Content-Length is kept, never doubled.
    return any(len(name) == 14 and name.lower() == "content-length" for name, _ in headers)
