"""The innermost part of every route: calling the handler, and its two lanes.

:class:`Endpoint` builds, once per route at start-up, the form the
application runs: the chain lane's innermost link (:meth:`Endpoint.chain_link`,
a :class:`~digwebs.Response` for the middleware around it) or, for a route
nothing wraps, the direct lane (:meth:`Endpoint.direct_lane`), which answers
the server itself. Both settle the handler's value as
:func:`digwebs.results.settle` does and fall back to the one slow path,
:func:`digwebs.results.to_response`.
"""

from __future__ import annotations

import inspect
import typing as t

from . import results
from .security_headers import add_to as _add_security
from .security_headers import for_app as _security_headers
from .sending import _has_length, _may_have_body
from .wrappers.response import _DICT_BUILDERS, _STATUS_LINES, header_list, json_bytes

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .context import RequestContext
    from .routing import Rule
    from .wrappers.response import Response

__all__ = ["DirectEndpoint", "Endpoint", "StartResponse"]

StartResponse = t.Callable[..., t.Any]
# A route's whole handling when nothing wraps it: the WSGI body when it
# answered the server itself, else the Response to finish.
DirectEndpoint = t.Callable[
    ["RequestContext", "dict[str, t.Any]", StartResponse], "list[bytes] | Response"
]
_JSON_TYPE = "application/json"

# The status lines of the codes whose responses carry a body.
_BODY_STATUS_LINES = {code: line for code, line in _STATUS_LINES.items() if _may_have_body(code)}


class Endpoint:
    """The innermost part of a route: call the handler, turn its value into an answer.

    It builds the two forms the application runs (:meth:`chain_link` and
    :meth:`direct_lane`), both of which settle the value as
    :func:`~digwebs.results.settle` does and fall back to the one slow path,
    :func:`~digwebs.results.to_response`.
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
                parts = results.settle(rv, api)
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
        # Header-dict names -> (header_list's builder for them or None,
        # whether they set no security header), for the shapes this route
        # returned.
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
            # settle(rv), its commonest shapes written out; the other tuples
            # ((body, status), (body, headers), a str status...) are its own.
            cls = rv.__class__
            if cls is tuple and len(rv) == 3 and rv[1].__class__ is int:
                body, status, headers = rv
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
                parts = results.settle(rv)
                if parts is None:
                    return slow(rv, ctx)
                body, status, headers, content_type = parts
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
                if known is not None and known[0] is not None:
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
                    if known is None and headers.__class__ is dict and len(shapes) < 64:
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
        return results.to_response(self.app, rv, ctx, as_json=self.as_json)

    def _render_view(self, rv: t.Any, ctx: RequestContext) -> Response:
        from .templating import view_result

        result = view_result(self.app, self.fn, t.cast(str, self.template), rv)
        return results.to_response(self.app, result, ctx)


def _learn_shape(
    shapes: dict[tuple[str, ...], tuple[t.Any, bool]],
    shape: tuple[str, ...],
    security_names: frozenset[str],
) -> None:
    """File header_list's builder for the header names ``shape`` (``None``: it has none).

    Called after ``header_list`` has seen the shape, when its builder (or
    its verdict that there is none) exists, so a shape is filed once.
    """
    build = _DICT_BUILDERS.get(shape)
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
