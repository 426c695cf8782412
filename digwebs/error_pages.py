"""Error pages: how an error becomes a response, HTML or JSON.

Everything that turns an exception into an answer lives here: the registered
error handlers, the project's ``views/errors/<code>.html`` pages, the built-in
pages, the development page (in :mod:`digwebs.debug_page`), and the choice
between HTML and JSON.

The choice (:func:`wants_json`): an error is JSON, in the
:class:`~digwebs.errors.APIError` shape ``{"error", "data", "message"}``,
when

* the matched route is an ``@api`` route, or
* no route matched (404, 405, or an error raised before routing) and the
  path belongs to an API (:class:`ApiPaths`), or
* the client prefers JSON to HTML by its ``Accept`` header
  (:func:`accept_prefers_json`).

Everything else gets HTML. A 404 for anything else takes the cached page
(:data:`NOT_FOUND_PAGE`), so a scan of missing pages stays cheap.
"""

from __future__ import annotations

import os
import re
import traceback
import typing as t

from .errors import APIError, HttpError, InternalServerError, NotFound, Redirect
from .wrappers.response import Response

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .context import RequestContext

__all__ = [
    "NOT_FOUND_PAGE",
    "ApiPaths",
    "accept_prefers_json",
    "accept_prefers_html",
    "api_paths",
    "wants_json",
    "prefers_json",
    "call_error_handler",
    "error_template",
    "http_error_response",
    "internal_error_response",
    "debug_page",
]

#: The built-in 404 page, encoded once: answering a missing page builds no exception.
NOT_FOUND_PAGE = NotFound().get_body().encode()

# -- the Accept header -----------------------------------------------------------------

# A q value as RFC 9110 and werkzeug read it; an item with any other q is skipped.
_Q_VALUE = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
_HTML = ("text", "html")
_JSON = ("application", "json")


def _accept_items(accept: str) -> list[tuple[str, str, float]]:
    """``(type, subtype, q)`` of each media range of an ``Accept`` header."""
    items = []
    for raw in accept.split(","):
        media, *params = raw.split(";")
        media = media.strip(" \t").lower()
        if "/" not in media:
            continue  # not a media range: matches nothing
        kind, _, sub = media.partition("/")
        q = 1.0
        valid = True
        for param in params:
            key, _, value = param.partition("=")
            if key.strip(" \t").lower() == "q":
                value = value.strip(" \t")
                if _Q_VALUE.fullmatch(value) is None or not 0 <= float(value) <= 1:
                    valid = False
                else:
                    q = float(value)
        if valid and not (kind == "*" and sub != "*"):  # "*/json" is no range
            items.append((kind, sub, q))
    return items


def _quality(items: list[tuple[str, str, float]], wanted: tuple[str, str]) -> tuple[float, int]:
    """``(q, specificity)`` of the most specific range matching ``wanted`` (RFC 9110)."""
    best: tuple[int, float] | None = None
    for kind, sub, q in items:
        if kind == "*":
            spec = 0
        elif kind != wanted[0]:
            continue
        elif sub == "*":
            spec = 1
        elif sub == wanted[1]:
            spec = 2
        else:
            continue
        if best is None or (spec, q) > best:
            best = (spec, q)
    return (0.0, -1) if best is None else (best[1], best[0])


def _best(accept: str) -> tuple[str, str] | None:
    """``text/html`` or ``application/json``, whichever the client prefers.

    None when it accepts neither. A tie goes to the more specific range the
    client named, then to HTML (werkzeug's ``best_match`` with HTML first).
    """
    items = _accept_items(accept)
    html_q, html_spec = _quality(items, _HTML)
    json_q, json_spec = _quality(items, _JSON)
    if json_q > 0 and (json_q > html_q or (json_q == html_q and json_spec > html_spec)):
        return _JSON
    return _HTML if html_q > 0 else None


# PERF: clients send few distinct Accept headers; the 404 of a scan of
# missing pages must not parse the same one again on every request.
_PREFERS_JSON: dict[str, bool] = {}
_CACHE_SIZE = 256


def accept_prefers_json(accept: str | None) -> bool:
    """True when this ``Accept`` header ranks JSON above HTML.

    The ranking is RFC 9110's (the most specific range naming a type gives
    its quality), as werkzeug's ``MIMEAccept.best_match(["text/html",
    "application/json"])`` does: ``application/json`` and ``application/json,
    */*;q=0.1`` prefer JSON; a browser's ``text/html,...,*/*;q=0.8``, ``*/*``
    and no header at all do not. Media ranges with parameters other than
    ``q`` match as if they had none.
    """
    if not accept:
        return False
    known = _PREFERS_JSON.get(accept)
    if known is None:
        if len(_PREFERS_JSON) >= _CACHE_SIZE:
            _PREFERS_JSON.clear()  # bounded: a client cannot grow it without limit
        known = _PREFERS_JSON[accept] = _best(accept) == _JSON
    return known


def accept_prefers_html(accept: str | None) -> bool:
    """True when this ``Accept`` header ranks HTML strictly above JSON (a browser)."""
    if not accept:
        return False
    items = _accept_items(accept)
    html = _quality(items, _HTML)
    return html[0] > 0 and html > _quality(items, _JSON)


# -- which paths belong to an API ---------------------------------------------------------

_PARAM = re.compile(r"<(?:([A-Za-z_]\w*)(?:\([^>]*\))?:)?\w+>")


class ApiPaths:
    """Tells whether a path no route answered belongs to the application's API.

    A path belongs to an API when

    * it has the shape of an ``@api`` route with its converters ignored:
      ``/api/items/abc`` for ``/api/items/<int:item_id>``, whose converter
      refused ``abc``, and ``PUT /api/items/1`` where only GET is routed; or
    * its first segment is the first segment of some ``@api`` route and of no
      other route: with every route under ``/api/`` an ``@api`` route,
      ``/api/no-such-thing`` is the API's 404 too.

    Built once from :meth:`Digwebs.routes` (the route table no longer
    changes once requests are served); asking costs one split and a set
    lookup for a path outside every API.
    """

    def __init__(self, app: Digwebs) -> None:
        api_first: set[str] = set()
        other_first: set[str] = set()
        shapes = []
        # A first segment with a parameter in it may be any text.
        self.any_first = False
        for info in app.routes():
            first = info.path.split("/", 2)[1]
            if info.renders != "json":
                other_first.add(first)
                continue
            if _PARAM.search(first):
                self.any_first = True
            else:
                api_first.add(first)
            shapes.append(self._shape(app, info.path))
        #: First segments under which an API route exists (a cheap first test).
        self.first_segments = frozenset(api_first)
        #: First segments that only API routes use: a namespace such as ``api``.
        self.namespaces = frozenset(api_first - other_first)
        self.shape = re.compile("|".join(shapes), re.DOTALL) if shapes else None

    @staticmethod
    def _shape(app: Digwebs, path: str) -> str:
        """A regular expression for ``path`` with each parameter matching any text."""
        pattern = []
        pos = 0
        for m in _PARAM.finditer(path):
            pattern.append(re.escape(path[pos : m.start()]))
            converter = app.router.converters.get(m.group(1) or "default")
            pattern.append(".+" if getattr(converter, "greedy", False) else "[^/]+")
            pos = m.end()
        pattern.append(re.escape(path[pos:]))
        return f"(?:{''.join(pattern)})\\Z"

    def __contains__(self, path: str) -> bool:
        parts = path.split("/", 2)
        if len(parts) < 2 or parts[0]:
            return False  # not a path ("*", "host:port")
        first = parts[1]
        if first not in self.first_segments and not self.any_first:
            return False
        if first in self.namespaces:
            return True
        return self.shape is not None and self.shape.match(path) is not None


def api_paths(app: Digwebs) -> ApiPaths | None:
    """The application's :class:`ApiPaths`, built on first use; None without ``@api`` routes."""
    cache = app.__dict__
    if "_api_paths" not in cache:
        paths = ApiPaths(app)
        cache["_api_paths"] = paths if paths.shape is not None else None
    return t.cast("ApiPaths | None", cache["_api_paths"])


def _request_path(ctx: RequestContext) -> str:
    path: str = ctx.request.environ.get("PATH_INFO") or "/"
    return path if path.isascii() else ctx.request.path


def wants_json(ctx: RequestContext) -> bool:
    """Whether an error for this request is answered in JSON (see the module docstring)."""
    route = ctx.route
    if route is not None:
        if route.is_api:
            return True
    else:
        paths = api_paths(ctx.app)
        if paths is not None and _request_path(ctx) in paths:
            return True
    return accept_prefers_json(ctx.request.environ.get("HTTP_ACCEPT"))


# The name results.py and app.py used before the move.
prefers_json = wants_json


# -- answering an error ---------------------------------------------------------------------


def call_error_handler(
    app: Digwebs,
    ctx: RequestContext,
    handler: t.Callable[..., t.Any],
    exc: BaseException,
    code: int,
) -> Response:
    """Answer ``exc`` with a registered ``@app.errorhandler`` function.

    The handler's value is converted like a route's; a ``@view`` on the
    handler renders its template. The error's own headers (``Allow`` of a
    405) are kept unless the handler sets them.
    """
    from .results import to_response

    # A fresh response carrying the error's status: a handler that just
    # returns a page keeps the status without writing (page, 404).
    ctx._response = app.response_class(b"", code)
    rv = handler(exc)
    template = getattr(handler, "__digwebs_view__", None)
    if template is not None:  # @app.errorhandler(404) with @view("...")
        from .templating import view_result

        rv = view_result(app, handler, template, rv)
    resp = to_response(app, rv, ctx)
    if isinstance(exc, HttpError):
        for name, value in exc.headers.items():
            resp.headers.setdefault(name, value)
    return resp


def error_template(app: Digwebs, code: int) -> str | None:
    """``errors/<code>.html`` if the project has it, else None.

    Looked up on disk every time in development (so a new page shows up at
    once), and once per code in production.
    """
    cache: dict[int, str | None] = app.__dict__.setdefault("_error_templates", {})
    if code in cache:
        return cache[code]
    name = f"errors/{code}.html"
    found = name if os.path.isfile(os.path.join(app.template_folder, name)) else None
    if not app.config.get("templates_auto_reload"):
        cache[code] = found
    return found


def http_error_response(
    app: Digwebs, ctx: RequestContext, exc: HttpError, handler: t.Callable[..., t.Any] | None
) -> Response:
    """The answer to ``exc``: its handler's, else JSON, else the project's page, else ours."""
    if handler is not None:
        return call_error_handler(app, ctx, handler, exc, exc.code)
    if isinstance(exc, APIError) or (not isinstance(exc, Redirect) and wants_json(ctx)):
        return exc.get_response(as_json=True)
    if not isinstance(exc, Redirect):
        resp = _error_page(app, exc)
        if resp is not None:
            for name, value in exc.headers.items():
                resp.headers[name] = value
            return resp
    return exc.get_response()


def _error_page(app: Digwebs, error: HttpError) -> Response | None:
    """The project's ``views/errors/<code>.html`` page for ``error``, if it has one."""
    template = error_template(app, error.code)
    if template is None:
        return None
    html = app.render_template(template, {"error": error, "code": error.code})
    return app.response_class(html, error.code)


def _debug_json(exc: BaseException) -> dict[str, t.Any]:
    """The development 500 in JSON: the APIError shape, the traceback as ``data``."""
    return {
        "error": "http:500",
        "data": "".join(traceback.format_exception(exc)),
        "message": f"{type(exc).__name__}: {exc}",
    }


def internal_error_response(app: Digwebs, ctx: RequestContext, exc: Exception) -> Response:
    """The last resort: a 500 that never raises and never leaks in production.

    In debug, JSON clients and API routes get the traceback in JSON, and a
    client that prefers HTML (a browser, even on an API route) gets the
    development page; otherwise the project's ``errors/500.html`` or ours.
    """
    try:
        if app.debug:
            accept = ctx.request.environ.get("HTTP_ACCEPT")
            if wants_json(ctx) and not accept_prefers_html(accept):
                return Response.json(_debug_json(exc), 500)
            return app.response_class(debug_page(ctx, exc), 500)
        error = InternalServerError()
        if wants_json(ctx):
            return error.get_response(as_json=True)
        return _error_page(app, error) or error.get_response()
    except Exception as inner:
        app.logger.error("Rendering the error page failed", exc_info=inner)
        return app.response_class(b"<h1>Internal Server Error</h1>", 500)


def debug_page(ctx: RequestContext, exc: BaseException) -> str:
    """The development error page for ``exc`` (see :mod:`digwebs.debug_page`)."""
    from .debug_page import render

    return render(ctx, exc)
