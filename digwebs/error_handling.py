"""Error handling: which answer an error gets, inside and outside the route.

:mod:`digwebs.error_pages` renders an error as a page (HTML or JSON); this
module decides which error a request that went wrong is answered with and
runs the project's handlers: an :class:`~digwebs.errors.HttpError` raised in
a route or middleware (:func:`handle_http_error`), any other exception
(:func:`handle_exception`, a 500), a request no route matches
(:func:`not_found`), a target that is not a path (:func:`not_a_path`), and
the front door (:func:`front_door`), which refuses a bad host before routing
(:func:`refuse`).
:class:`~digwebs.Digwebs` calls these; its ``handle_http_error`` and
``handle_exception`` methods delegate here.
"""

from __future__ import annotations

import typing as t

from . import error_pages, results, sending
from .context import RequestContext, _cv_ctx
from .errors import BadRequest, HttpError, MethodNotAllowed, NotFound, RequestRedirect
from .hosts import HostCheck
from .proxies import TrustedProxies

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .wrappers.response import Response

__all__ = [
    "find_error_handler",
    "handle_http_error",
    "handle_exception",
    "not_found",
    "not_a_path",
    "refuse",
    "front_door",
]


def find_error_handler(
    app: Digwebs, exc: BaseException, code: int | None
) -> t.Callable[..., t.Any] | None:
    """The handler registered for ``exc``: its class (or a base), else its ``code``.

    ``None`` when the application registered none that fits.
    """
    handlers = app.error_handlers
    if not handlers:
        return None
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return handlers.get(code) if code is not None else None


def handle_http_error(app: Digwebs, ctx: RequestContext, exc: HttpError) -> Response:
    """Answer an :class:`HttpError` through a registered handler or its page.

    Cookies and headers already set on ``ctx.response`` are sent with the
    error's answer (set a cookie, then redirect or abort): see
    :func:`results.carry_over`.
    """
    prepared = ctx._response
    handler = find_error_handler(app, exc, exc.code)
    resp = error_pages.http_error_response(app, ctx, exc, handler)
    if prepared is not None and prepared is not resp:
        results.carry_over(prepared, resp)
    return resp


def handle_exception(app: Digwebs, ctx: RequestContext, exc: Exception) -> Response:
    """Answer an exception a handler raised: its own handler, else a logged 500.

    A handler registered for the exception's class (or a base class)
    answers it, and nothing is logged: it was expected (as in Flask). Any
    other exception is logged at ERROR and answered by a registered 500
    handler or the built-in page (with details in debug); a handler that
    fails too is logged and the built-in page answers.
    """
    handler = find_error_handler(app, exc, None)
    if handler is None:
        req = ctx.request
        app.logger.error("Exception on %s %s", req.method, req.path, exc_info=exc)
        handler = find_error_handler(app, exc, 500)
    if handler is not None:
        try:
            return error_pages.call_error_handler(app, ctx, handler, exc, 500)
        except Exception as inner:  # the error page itself failed
            app.logger.error("Error handler for 500 failed", exc_info=inner)
    return error_pages.internal_error_response(app, ctx, exc)


def unrouted(
    app: Digwebs,
    ctx: RequestContext,
    verdict: RequestRedirect | MethodNotAllowed | None,
    method: str,
    path: str,
) -> Response:
    """Answer a request no route takes, from the matcher's one verdict.

    No route (``None``) is a 404, or a 400 for a target that is not a path
    (``OPTIONS *`` gets its answer); another method's route
    (:class:`MethodNotAllowed`) a 405, or the ``Allow`` answer to OPTIONS;
    a path whose slash-terminated twin is a route (:class:`RequestRedirect`)
    a 308 there, keeping the query string and mount point. The matcher is
    never asked again.
    """
    if verdict is None:
        return not_found(app, ctx) if path[0] == "/" else not_a_path(app, ctx, method)
    if isinstance(verdict, RequestRedirect):
        # Keep the query string and mount point on the canonical URL,
        # which stays on this site whatever SCRIPT_NAME says.
        qs = ctx.request.environ.get("QUERY_STRING")
        target = ctx.request.script_root + verdict.new_url + (f"?{qs}" if qs else "")
        return app.handle_http_error(ctx, RequestRedirect(results.site_path(target)))
    if method == "OPTIONS":
        return results.options_response(app, verdict.valid_methods)
    return app.handle_http_error(ctx, verdict)


def not_found(app: Digwebs, ctx: RequestContext) -> Response:
    """Answer a request no route matches: 404.

    PERF: with no error handler, 404 template, ``@api`` path or JSON client,
    the page is the same every time; it is built from cached bytes instead
    of an exception, and whether the app has such a template or path is
    asked once (per request in development, where a template may appear).
    tests/test_error_handling.py compares it with the exception's answer.
    """
    if not app.error_handlers:
        plain = app.__dict__.get("_plain_404")
        if plain is None:
            plain = (
                error_pages.api_paths(app) is None and error_pages.error_template(app, 404) is None
            )
            if not app.config.get("templates_auto_reload"):
                app.__dict__["_plain_404"] = plain
        if plain:
            accept = ctx.request.environ.get("HTTP_ACCEPT")
            if not accept or not error_pages.accept_prefers_json(accept):
                return app.response_class._from_parts(error_pages.NOT_FOUND_PAGE, 404, ())
    return app.handle_http_error(ctx, NotFound())


def not_a_path(app: Digwebs, ctx: RequestContext, method: str) -> Response:
    """Answer a request target that is not a path (``*``, ``host:port``).

    Such targets are never routed: ``OPTIONS *`` asks about the server as
    a whole and gets every method some route allows; anything else
    (``CONNECT 127.0.0.1:80``, ``GET *``) is the client's mistake, a 400.
    """
    path = ctx.request.environ.get("PATH_INFO")
    if method == "OPTIONS" and path == "*":
        return results.options_response(app, app.router.all_methods())
    return app.handle_http_error(
        ctx, BadRequest("The request target must be a path starting with '/'.")
    )


def refuse(
    app: Digwebs,
    environ: dict[str, t.Any],
    start_response: t.Callable[..., t.Any],
    exc: HttpError,
) -> t.Iterable[bytes]:
    """Answer a request the front door refused (a bad host), unrouted.

    It gets a request context of its own (so the project's 400 handler may
    read the request), and is finished as any answer is.
    """
    ctx = RequestContext(app, app._new_request(environ))
    token = _cv_ctx.set(ctx)
    try:
        try:
            resp = app.handle_http_error(ctx, exc)
        except Exception as inner:  # the project's 400 handler failed
            resp = app.handle_exception(ctx, inner)
        return sending.finish(ctx, resp, start_response)
    finally:
        _cv_ctx.reset(token)


def front_door(
    app: Digwebs,
) -> tuple[t.Callable[[dict[str, t.Any]], HttpError | None], t.Container[t.Any] | None]:
    """Compose what ``wsgi_app`` runs before routing: proxy rewrite, then host check.

    Sets ``app.trusted_proxies`` and returns the door (``None`` lets the
    request in, an :class:`HttpError` is answered by :func:`refuse`) and the
    Host values it already let in. PERF: with no rewrite, a Host seen before
    is let in by ``wsgi_app``'s own set lookup, without a call; with one,
    there is no such set (``None``): every request passes the door.
    """
    proxies = app.trusted_proxies = TrustedProxies.from_config(app.config)
    check = HostCheck.from_config(app.config)
    if proxies is None:
        return check, check.known
    rewrite = proxies.rewrite

    def front(environ: dict[str, t.Any]) -> HttpError | None:
        rewrite(environ)
        return check(environ)

    return front, None
