"""Turning what handlers return (or raise) into WSGI responses.

This is the tail of the hot path: :class:`Endpoint` calls the handler (in
a route's chain, or on the direct lane); :func:`settle`, the result core,
turns the common values into a response's parts for both lanes;
:func:`to_response` is the one slow path for everything else;
:mod:`digwebs.sending` hands status, headers and body to the server. Error
pages, responses built from an exception instead of a return value, are in
:mod:`digwebs.error_pages`.
"""

from __future__ import annotations

import inspect
import typing as t

# Error pages moved to error_pages.py; their names stay importable from here.
from .error_pages import NOT_FOUND_PAGE as NOT_FOUND_PAGE
from .error_pages import call_error_handler as call_error_handler
from .error_pages import debug_page as debug_page
from .error_pages import error_template as error_template
from .error_pages import http_error_response as http_error_response
from .error_pages import internal_error_response as internal_error_response
from .error_pages import prefers_json as prefers_json
from .errors import HttpError, Redirect
from .security_headers import add_to as _add_security
from .security_headers import for_app as _security_headers

# Sending moved to sending.py; finish and send_bytes stay importable from here.
from .sending import _has_length, _may_have_body
from .sending import finish as finish
from .sending import send_bytes as send_bytes
from .wrappers.response import _DICT_BUILDERS, _STATUS_LINES, Response, header_list, json_bytes

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .context import RequestContext
    from .routing import Rule

StartResponse = t.Callable[..., t.Any]
# A route's whole handling when nothing wraps it: the WSGI body when it
# answered the server itself, else the Response to finish.
DirectEndpoint = t.Callable[
    ["RequestContext", "dict[str, t.Any]", StartResponse], "list[bytes] | Response"
]
# What settle() makes of a handler's value: body, status, the handler's own
# headers (a dict, pairs or None) and the Content-Type (None: the default).
Parts = tuple[bytes, int, t.Any, "str | None"]

_JSON_TYPE = "application/json"


class ViewResultError(TypeError):
    """A ``@view`` handler returned something other than a dict."""


def settle(rv: t.Any, api: bool = False) -> Parts | None:
    """The result core: a handler's value of a common shape, as its response's parts.

    The chain lane and :func:`to_response` start here; the direct lane has
    it written out (:meth:`Endpoint.direct_lane`). The shapes: ``str`` and
    ``bytes`` (200, the default type), ``dict`` and ``list`` (200, JSON), and a
    tuple of a ``str`` or ``bytes`` body with an ``int`` (or no) status and
    headers, ``(body, status[, headers])`` or ``(body, headers)``. Anything
    else is ``None``: the caller takes the one slow path,
    :func:`to_response`'s general branch, which gives the same answer for
    these shapes too (tests/test_results.py compares the two).

    :param api: the route is ``@api``: only ``dict`` and ``list`` are fast
        (a ``str`` becomes a JSON string the slow way).
    """
    cls = rv.__class__
    if cls is dict or cls is list:
        return json_bytes(rv), 200, None, _JSON_TYPE
    if api:
        return None
    if cls is tuple:
        size = len(rv)
        if size == 3:
            body, status, headers = rv
        elif size == 2:
            body, status = rv
            headers = None
            if not isinstance(status, int | str):  # (body, headers)
                status, headers = None, status
        else:
            return None
        if status is None:
            status = 200
        elif status.__class__ is not int:
            return None
        if body.__class__ is str:
            return body.encode(), status, headers, None
        if body.__class__ is bytes:
            return body, status, headers, None
        return None
    if cls is str:
        return rv.encode(), 200, None, None
    if cls is bytes:
        return rv, 200, None, None
    return None


class Endpoint:
    """The innermost part of a route: call the handler, turn its value into an answer.

    It builds the two forms the application runs (:meth:`chain_link` and
    :meth:`direct_lane`), both of which settle the value with :func:`settle`
    and fall back to the one slow path, :func:`to_response`.
    """

    __slots__ = ("app", "fn", "template", "as_json", "response_class", "arg_names")

    def __init__(self, app: Digwebs, rule: Rule, fn: t.Callable[..., t.Any]) -> None:
        self.app = app
        self.fn = fn
        self.arg_names = rule.arg_names
        self.template: str | None = getattr(fn, "__digwebs_view__", None)
        self.as_json: bool = bool(getattr(fn, "__digwebs_api__", False))
        self.response_class = app.response_class

    def __call__(self, ctx: RequestContext) -> Response:
        """Call the handler with the request's parameters; return its Response."""
        params = ctx.params
        rv = self.fn(**params) if params else self.fn()
        return self._convert(rv, ctx)

    def chain_link(self) -> t.Callable[[RequestContext], Response]:
        """The innermost link of the route's chain: the handler's value as a Response.

        PERF: a closure over fixed values, not this object's ``__call__``
        (CPython calls a plain function far more cheaply), and the handler
        called as :meth:`direct_lane` calls it.
        """
        if self.template is not None:
            return self.__call__
        fn, slow, api, only = self.fn, self._convert, self.as_json, self._only()
        from_parts = self.response_class._from_parts

        def endpoint(ctx: RequestContext) -> Response:
            params = ctx.params
            if only is not None:
                rv = fn(params[only])  # type: ignore[index]  # (set by the router)
            else:
                rv = fn(**params) if params else fn()
            if ctx._response is None:
                parts = settle(rv, api)
                if parts is not None:
                    return from_parts(*parts)
            return slow(rv, ctx)

        return endpoint

    def direct_lane(self) -> DirectEndpoint | None:
        """For a route nothing wraps: call the handler and answer the server.

        A value :func:`settle` takes, of a status with a body, goes straight
        to ``start_response`` (security headers, Content-Length, HEAD as
        :func:`~digwebs.sending.send_bytes` has them), with no
        :class:`Response` built and taken apart again. Anything else, or a
        handler that touched ``ctx.response`` or the session, gets the
        Response the chain link would have made, for ``wsgi_app`` to finish.
        ``None`` for a view.

        PERF: :func:`settle` and ``send_bytes`` are written out in the lane
        (two calls fewer on the commonest requests: 8-12% of a static
        route's time). tests/test_results.py gives both lanes the same
        values, including every shape ``settle`` takes, and compares the
        answers byte for byte.
        """
        if self.template is not None:
            return None
        fn, slow, api, only = self.fn, self._convert, self.as_json, self._only()
        from_parts = self.response_class._from_parts
        default_type = self.response_class.default_content_type
        body_status_lines = _BODY_STATUS_LINES
        security = _security_headers(self.app)
        plain, https, names = security
        # PERF: the header lists of a value with no headers of its own (str,
        # bytes, dict, list), security headers included, built once; with
        # no https-only header the scheme need not be looked at.
        by_scheme = plain != https
        text = (("Content-Type", default_type), *plain)
        text_https = (("Content-Type", default_type), *https)
        json_ = (("Content-Type", _JSON_TYPE), *plain)
        json_https = (("Content-Type", _JSON_TYPE), *https)
        # Header-dict names -> (header_list's builder for them, whether they
        # set no security header), for the shapes this route returned.
        shapes: dict[tuple[str, ...], tuple[t.Any, bool]] = {}

        def direct(
            ctx: RequestContext, environ: dict[str, t.Any], start_response: StartResponse
        ) -> list[bytes] | Response:
            params = ctx.params
            if only is not None:
                rv = fn(params[only])  # type: ignore[index]  # (set by the router)
            else:
                rv = fn(**params) if params else fn()
            if ctx._response is not None:
                return slow(rv, ctx)
            # settle(rv), written out (its most frequent shapes first).
            cls = rv.__class__
            if cls is tuple:
                size = len(rv)
                if size == 3:
                    body, status, headers = rv
                elif size == 2:
                    body, status = rv
                    headers = None
                    if not isinstance(status, int | str):  # (body, headers)
                        status, headers = None, status
                else:
                    return slow(rv, ctx)
                if status is None:
                    status = 200
                elif status.__class__ is not int:
                    return slow(rv, ctx)
                if body.__class__ is str:
                    body = body.encode()
                elif body.__class__ is not bytes:
                    return slow(rv, ctx)
                content_type = None
            elif cls is str:
                body, status, headers, content_type = rv.encode(), 200, None, None
            elif cls is dict or cls is list:
                body, status, headers, content_type = json_bytes(rv), 200, None, _JSON_TYPE
            elif cls is bytes:
                body, status, headers, content_type = rv, 200, None, None
            else:
                return slow(rv, ctx)
            line = body_status_lines.get(status)
            if line is None or ctx._session is not None:
                return from_parts(body, status, headers, content_type)
            secure = by_scheme and environ.get("wsgi.url_scheme") == "https"
            if headers is None:
                if content_type is None:
                    pairs = [*(text_https if secure else text)]
                else:
                    pairs = [*(json_https if secure else json_)]
                no_length = True
            else:
                extra = https if secure else plain
                # PERF: a header dict of a shape seen before is built by
                # header_list's builder for those names, called here, and
                # gets the security headers unscanned when the shape sets
                # none of them (add_to's answer is then the plain +=).
                known = shapes.get(tuple(headers)) if headers.__class__ is dict else None
                built = None
                if known is not None:
                    try:
                        built = known[0](headers, content_type or default_type)
                    except (TypeError, AttributeError):  # as header_list falls back
                        pass
                if built is not None:
                    pairs, no_length = built
                    if known[1]:  # type: ignore[index]
                        pairs += extra
                    else:
                        _add_security(pairs, extra, names)
                else:
                    pairs, no_length = header_list(headers, content_type or default_type)
                    # As finish() adds them, with the https question answered above.
                    if len(pairs) == 1:  # only its Content-Type
                        pairs += extra
                    elif names:  # the handler's own may replace some
                        _add_security(pairs, extra, names)
                    if headers.__class__ is dict and len(shapes) < 64:
                        _learn_shape(shapes, tuple(headers), names)
            # send_bytes(environ, start_response, line, pairs, no_length, body), written out.
            if no_length or not _has_length(pairs):
                pairs.append(("Content-Length", str(len(body))))
            start_response(line, pairs)
            if environ["REQUEST_METHOD"] == "HEAD":
                return []
            return [body]

        def direct_api(
            ctx: RequestContext, environ: dict[str, t.Any], start_response: StartResponse
        ) -> list[bytes] | Response:
            # @api: settle(rv, api=True) takes dict and list only.
            params = ctx.params
            if only is not None:
                rv = fn(params[only])  # type: ignore[index]  # (set by the router)
            else:
                rv = fn(**params) if params else fn()
            cls = rv.__class__
            if (cls is not dict and cls is not list) or ctx._response is not None:
                return slow(rv, ctx)
            body = json_bytes(rv)
            if ctx._session is not None:
                return from_parts(body, 200, None, _JSON_TYPE)
            secure = by_scheme and environ.get("wsgi.url_scheme") == "https"
            pairs = [*(json_https if secure else json_), ("Content-Length", str(len(body)))]
            start_response("200 OK", pairs)
            if environ["REQUEST_METHOD"] == "HEAD":
                return []
            return [body]

        return direct_api if api else direct

    # The names before issue 10.
    as_function = chain_link
    as_direct = direct_lane

    def _only(self) -> str | None:
        # PERF: a call with one positional argument costs a third of fn(**params).
        return _only_parameter(self.fn, self.arg_names)

    def _convert(self, rv: t.Any, ctx: RequestContext) -> Response:
        if self.template is not None:
            return self._render_view(rv, ctx)
        return to_response(self.app, rv, ctx, as_json=self.as_json)

    def _render_view(self, rv: t.Any, ctx: RequestContext) -> Response:
        from .templating import view_result

        result = view_result(self.app, self.fn, t.cast(str, self.template), rv)
        return to_response(self.app, result, ctx)


def _learn_shape(
    shapes: dict[tuple[str, ...], tuple[t.Any, bool]],
    shape: tuple[str, ...],
    security_names: frozenset[str],
) -> None:
    """File header_list's builder for the header names ``shape``, if it has one."""
    build = _DICT_BUILDERS.get(shape)
    if build is not None:
        shapes[shape] = (build, not any(name.lower() in security_names for name in shape))


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
    """Set a handler's status and headers on ``resp`` (the slow path's tuple).

    As :func:`settle`'s answer has them: each name the handler gives replaces
    the headers of that name already there, and a name repeated in a list of
    pairs is sent as often as it is given (two ``Link`` or ``Set-Cookie``),
    but Content-Type, which is one header (the last given).
    """
    if status is not None:
        resp.status = status
    if not headers:
        return
    target = resp.headers
    if isinstance(headers, t.Mapping):
        target.update(headers)
        return
    given: set[str] = set()
    for name, value in headers:
        key = name.lower()
        if key in given and key != "content-type":
            target.add(name, value)
        else:
            given.add(key)
            target[name] = value


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


def to_response(app: Digwebs, rv: t.Any, ctx: RequestContext, *, as_json: bool = False) -> Response:
    """Turn a handler's (or middleware's) return value into a response.

    The one slow path: common shapes are settled by :func:`settle` when
    nothing was prepared on ``ctx.response``; everything else is handled
    here, merging what was prepared (see :func:`carry_over`).

    :param as_json: the route is ``@api``: any value but a Response or an
        :class:`HttpError` is sent as JSON, and a returned error (not a
        redirect) is rendered as JSON.
    """
    cls = app.response_class
    base = ctx._response
    if base is None:
        parts = settle(rv, as_json)
        if parts is not None:
            return cls._from_parts(*parts)
    status = headers = None
    if type(rv) is tuple:
        rv, status, headers = _split_tuple(rv)
    if isinstance(rv, Response):
        resp = rv
        if base is not None and base is not rv:
            carry_over(base, resp)
    elif isinstance(rv, HttpError):  # returned, not raised
        if as_json and not isinstance(rv, Redirect):
            resp = rv.get_response(as_json=True)
        else:
            resp = rv.get_response()
        if base is not None:
            carry_over(base, resp)
    elif as_json:
        resp = base if base is not None else cls()
        resp.body = json_bytes(rv)
        resp.content_type = _JSON_TYPE
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
