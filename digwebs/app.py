"""The application: registration, composition at start-up and the WSGI entry.

A request's path through this module and the others is walked in
``docs/ARCHITECTURE.md``; discovery (``load``) is in :mod:`digwebs.loading`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import typing as t
from pathlib import Path

from . import error_handling, loading, results, sending, urls
from .chains import MiddlewareEntry, MiddlewareInfo, compose, describe, ordered, route_links
from .config import load_config
from .context import RequestContext, _cv_ctx
from .endpoint import DirectEndpoint, Endpoint
from .errors import HttpError, MethodNotAllowed, RequestRedirect
from .loading import MatchResult, RouteInfo
from .proxies import TrustedProxies
from .routing import Router, Rule, method_names
from .urls import default_route_name as default_route_name
from .wrappers.request import Request
from .wrappers.response import Response

if t.TYPE_CHECKING:
    from .testing import TestClient

__all__ = ["Digwebs", "RouteInfo", "MatchResult"]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])
logger = logging.getLogger("digwebs")


# PERF: bound once; the WSGI entry uses them on every request.
_new_object = object.__new__
_set_ctx = _cv_ctx.set
_reset_ctx = _cv_ctx.reset
_finish = sending.finish
_unrouted = error_handling.unrouted
_refuse = error_handling.refuse


class Route(Rule):
    """A route as the application holds it: the router's :class:`Rule`, and what runs.

    The router stores and matches it as any rule; ``_finalize`` sets what the
    application composed for it: ``chain`` (its middleware around the
    endpoint), ``direct`` (the direct lane, ``None`` when anything wraps the
    route) and ``is_api`` (``@api``: its errors are JSON).
    """

    chain: t.Callable[[RequestContext], Response]
    direct: DirectEndpoint | None = None
    is_api: bool = False


class Digwebs:
    """A digwebs application, and a WSGI callable.

    ``root_path`` is the project folder holding ``controllers/``,
    ``middlewares/``, ``views/``, ``static/`` and ``config/``; it defaults to
    the folder of the module that creates the application. Keyword arguments
    are configuration values (see :mod:`digwebs.config`).
    """

    request_class: type[Request] = Request
    response_class: type[Response] = Response

    def __init__(self, root_path: str | os.PathLike[str] | None = None, **config: t.Any) -> None:
        if root_path is None:
            caller = sys._getframe(1).f_globals.get("__file__")
            root_path = os.path.dirname(os.path.abspath(caller)) if caller else os.getcwd()
        self.root_path = str(Path(root_path).resolve())
        self.config = load_config(self.root_path, config)
        self.template_folder = os.path.join(self.root_path, "views")
        self.static_folder = os.path.join(self.root_path, "static")
        self.router = Router()
        # The compiled matcher, bound in _finalize().
        self._lookup: t.Callable[[str, str], tuple[Route, dict[str, t.Any]] | None]
        self.logger = logger
        self.error_handlers: dict[int | type[BaseException], t.Callable[..., t.Any]] = {}
        self.context_processors: list[t.Callable[[], dict[str, t.Any]]] = []
        self.template_filters: dict[str, t.Callable[..., t.Any]] = {}
        self.template_globals: dict[str, t.Any] = {}
        self._middleware: list[MiddlewareEntry] = []
        self._routes: list[tuple[Route, t.Callable[..., t.Any]]] = []
        self._loaded = False
        self._finalized = False
        self._finalize_lock = threading.Lock()
        # The global middleware around _dispatch; None: there is none (the
        # direct lane is possible).
        self._global_chain: t.Callable[[RequestContext], Response] | None = None
        self._jinja_env: t.Any = None
        self._session_interface: t.Any = None
        self._static_registered = False
        self._plain_classes = False
        # The config's max_content_length, read once at start-up for wsgi_app.
        self._body_limit: int | None = None
        #: The ``trusted_proxies`` of the config (None: none), from the first request on.
        self.trusted_proxies: TrustedProxies | None = None
        # The front door (proxy rewrite, then host check) and the Host values
        # it already let in when there is no rewrite (see _finalize).
        self._front: t.Callable[[dict[str, t.Any]], HttpError | None] = self._first_front
        self._known_hosts: t.Container[t.Any] | None = None

    # -- registration -------------------------------------------------------

    def _check_setup(self, what: str) -> None:
        if self._finalized:
            raise RuntimeError(
                f"cannot {what}: the application has already handled a request or listed its "
                "routes, and its chains are composed. Register everything before that, e.g. "
                "in controllers/ and middlewares/ loaded by app.load()."
            )

    def add_route(
        self,
        path: str,
        fn: t.Callable[..., t.Any],
        methods: t.Iterable[str] = ("GET",),
        name: str | None = None,
    ) -> Route:
        """Register ``fn`` as the handler of ``path`` for ``methods``; return its route."""
        self._check_setup(f"add route {path!r}")
        route = Route(path, fn, methods, name or default_route_name(fn), self.router.converters)
        self.router.add(route)
        self._routes.append((route, fn))
        return route

    def route(
        self, path: str, methods: t.Iterable[str] = ("GET",), name: str | None = None
    ) -> t.Callable[[F], F]:
        """Decorator form of :meth:`add_route`."""
        methods = method_names(methods)  # a string is refused here, not later

        def register(fn: F) -> F:
            self.add_route(path, fn, methods, name)
            return fn

        return register

    def get(self, path: str, name: str | None = None) -> t.Callable[[F], F]:
        """Decorator: register the function as the GET handler of ``path``."""
        return self.route(path, ("GET",), name)

    def post(self, path: str, name: str | None = None) -> t.Callable[[F], F]:
        """Decorator: register the function as the POST handler of ``path``."""
        return self.route(path, ("POST",), name)

    def put(self, path: str, name: str | None = None) -> t.Callable[[F], F]:
        """Decorator: register the function as the PUT handler of ``path``."""
        return self.route(path, ("PUT",), name)

    def patch(self, path: str, name: str | None = None) -> t.Callable[[F], F]:
        """Decorator: register the function as the PATCH handler of ``path``."""
        return self.route(path, ("PATCH",), name)

    def delete(self, path: str, name: str | None = None) -> t.Callable[[F], F]:
        """Decorator: register the function as the DELETE handler of ``path``."""
        return self.route(path, ("DELETE",), name)

    def use(
        self, fn: t.Callable[..., t.Any], order: int = 0, prefix: str | None = None
    ) -> t.Callable[..., t.Any]:
        """Add middleware ``fn(ctx, next)``; lower ``order`` runs further out.

        Without ``prefix`` it wraps every request, 404s included; with one,
        only the routes whose path is under it.
        """
        self._check_setup("add middleware")
        scope = "global" if prefix is None else "prefix"
        info = describe(fn, order, scope, prefix)
        self._middleware.append(MiddlewareEntry(fn, info, len(self._middleware)))
        return fn

    def errorhandler(self, code_or_exception: int | type[BaseException]) -> t.Callable[[F], F]:
        """Register ``fn(error)`` to answer an HTTP status or exception class."""

        def register(fn: F) -> F:
            self.error_handlers[code_or_exception] = fn
            return fn

        return register

    def context_processor(self, fn: F) -> F:
        """Register ``fn() -> dict`` whose items every template sees."""
        self.context_processors.append(fn)
        return fn

    def template_filter(self, name: str | None = None) -> t.Callable[[F], F]:
        """Register a jinja2 filter, named after the function by default."""

        def register(fn: F) -> F:
            self.template_filters[name or fn.__name__] = fn
            if self._jinja_env is not None:
                self._jinja_env.filters[name or fn.__name__] = fn
            return fn

        return register

    # -- discovery ----------------------------------------------------------

    def load(self) -> Digwebs:
        """Import ``controllers/`` and ``middlewares/`` and register what they mark.

        Returns the application, so ``app = Digwebs().load()`` reads well.
        Loading twice does nothing the second time (see :mod:`digwebs.loading`).
        """
        return loading.load(self)

    # -- composition --------------------------------------------------------

    def _finalize(self) -> None:
        """Compose everything a request runs, once, before the first request.

        The route table is closed (static routes added, the matcher
        compiled); each route gets its chain and its lane; the global
        middleware is composed around :meth:`_dispatch`; the front door is
        built (:func:`digwebs.error_handling.front_door`). Registration is refused from here on.
        """
        with self._finalize_lock:
            if self._finalized:
                return
            self._register_static()
            global_mw = [e.fn for e in self._ordered_middleware() if e.info.prefix is None]
            # (Every rule of this router is a Route: add_route makes them.)
            self._lookup = t.cast(t.Any, self.router.compile())
            for route, fn in self._routes:
                links = [link for link, _ in self._route_middleware(route, fn)]
                endpoint = Endpoint(self, route, fn)
                route.is_api = endpoint.as_json
                route.chain = compose(links, endpoint.chain_link(), self.make_response)
                # The lane, chosen here and only here: a route that nothing
                # wraps (no global, prefix, @use or CSRF link) answers the
                # server directly.
                route.direct = None if links or global_mw else endpoint.direct_lane()
            if global_mw:
                self._global_chain = compose(global_mw, self._dispatch, self.make_response)
            self._body_limit = self.config.get("max_content_length")
            self._front, self._known_hosts = error_handling.front_door(self)
            # The allocation shortcut in wsgi_app only skips __init__ calls
            # that do nothing but store their arguments.
            self._plain_classes = self.request_class.__init__ is Request.__init__
            self._finalized = True

    def _first_front(self, environ: dict[str, t.Any]) -> HttpError | None:
        # The front door is built with the chains; a request arriving first
        # composes them, then passes the real door.
        if not self._finalized:
            self._finalize()
        return self._front(environ)

    def _register_static(self) -> None:
        from .static import register_static_routes

        register_static_routes(self)

    def _ordered_middleware(self) -> list[MiddlewareEntry]:
        """App-level middleware, outermost first (see :func:`chains.ordered`)."""
        return ordered(self._middleware)

    def _route_middleware(
        self, rule: Rule, fn: t.Callable[..., t.Any]
    ) -> list[tuple[t.Callable[..., t.Any], MiddlewareInfo]]:
        """What wraps this route only (see :func:`chains.route_links`)."""
        return route_links(self, rule, fn)

    def routes(self) -> list[RouteInfo]:
        """The route table, in registration order."""
        if not self._finalized:
            self._finalize()
        return [loading.route_info(self, rule, fn) for rule, fn in self._routes]

    def match(self, method: str, path: str) -> MatchResult:
        """Which route answers ``method path``; raises like a request would."""
        if not self._finalized:
            self._finalize()
        rule, params = self.router.match(method.upper(), path)
        fn = next(f for r, f in self._routes if r is rule)
        return MatchResult(loading.route_info(self, rule, fn), params)

    def url_for(self, name: str, /, **values: t.Any) -> str:
        """Build the URL of route ``name``; values it does not take become the query.

        ``_external``, ``_scheme`` and ``_anchor`` as in Flask; the mount point
        and the host rules are described at :func:`digwebs.urls.build`.
        """
        return urls.build(self, name, values)

    # -- the request --------------------------------------------------------

    def wsgi_app(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Iterable[bytes]:
        """Handle one WSGI request: the application proper, which ``__call__`` calls.

        First the front door: a trusted proxy's ``X-Forwarded-*`` headers are
        applied to ``environ`` (:mod:`digwebs.proxies`) and a bad host is
        answered 400 (:mod:`digwebs.hosts`). Then one of two lanes, fixed for
        each route at start-up (:meth:`_finalize`):

        * with global middleware, the chain lane only: the global chain
          around :meth:`_dispatch`, which asks the matcher once and runs the
          route's chain (:meth:`_run`: its prefix, ``@use`` and CSRF links
          around the endpoint) or answers from the matcher's verdict
          (:func:`error_handling.unrouted`: 404, 405, OPTIONS, 308);
        * without, the same steps written out here, where a route that
          nothing wraps runs its direct lane (``route.direct``), which hands
          the common answers to ``start_response`` itself and returns the
          body (anything else comes back as a Response).

        A Response, from either lane, gets the session saved and is finished
        (:func:`digwebs.sending.finish`).

        Errors raised on the way are answered by :meth:`handle_http_error`
        or :meth:`handle_exception`. ``docs/ARCHITECTURE.md`` walks it all.
        """
        # The front door, before anything reads the request: believe a
        # trusted proxy's X-Forwarded-* headers, then refuse a bad host.
        # PERF: without proxies, a Host seen before costs one set lookup.
        known = self._known_hosts
        if known is None or environ.get("HTTP_HOST") not in known:
            refused = self._front(environ)
            if refused is not None:
                return _refuse(self, environ, start_response, refused)
        # PERF: Request(environ) and RequestContext(app, request), without
        # the cost of two __init__ calls (see _finalize for subclasses).
        if self._plain_classes:
            request = _new_object(self.request_class)
            request.environ = environ
            request.max_content_length = self._body_limit
            ctx = _new_object(RequestContext)
            ctx.app = self
            ctx.request = request
        else:
            request = self._new_request(environ)
            ctx = RequestContext(self, request)
        token = _set_ctx(ctx)
        try:
            try:
                chain = self._global_chain
                if chain is None:
                    # The dispatch routine, with the route's direct lane run
                    # here. PERF: one call fewer for the commonest request
                    # (tests/test_endpoint.py serves every answer with
                    # and without global middleware, which takes _dispatch).
                    method = environ["REQUEST_METHOD"]
                    path = environ.get("PATH_INFO") or "/"
                    try:
                        found = self._lookup(method, path if path.isascii() else request.path)
                    except (RequestRedirect, MethodNotAllowed) as exc:
                        resp = _unrouted(self, ctx, exc, method, path)
                    else:
                        if found is None:
                            resp = _unrouted(self, ctx, None, method, path)
                        else:
                            route, ctx.params = found
                            ctx.route = route
                            direct = route.direct
                            if direct is None:
                                resp = self._run(ctx, route)
                            else:
                                answer = direct(ctx, environ, start_response)
                                if answer.__class__ is list:  # it answered the server
                                    return answer
                                resp = answer  # type: ignore[assignment]
                else:
                    resp = chain(ctx)
            except HttpError as exc:
                resp = self.handle_http_error(ctx, exc)
            except Exception as exc:
                resp = self.handle_exception(ctx, exc)
            if ctx._session is not None:
                try:
                    self.session_interface.save(self, ctx._session, resp)
                except Exception as exc:  # e.g. no secret_key to sign it with
                    resp = self.handle_exception(ctx, exc)
            return _finish(ctx, resp, start_response)
        finally:
            _reset_ctx(token)

    def __call__(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Iterable[bytes]:
        """The WSGI entry: calls :meth:`wsgi_app`.

        As in Flask, WSGI middleware wraps ``app.wsgi_app`` rather than the
        app (``app.wsgi_app = Middleware(app.wsgi_app)``), so ``app`` stays
        the object with routes and config.
        """
        return self.wsgi_app(environ, start_response)

    def _new_request(self, environ: dict[str, t.Any]) -> Request:
        """A ``request_class`` for ``environ``, with this app's body limit."""
        request = self.request_class(environ)
        request.max_content_length = self.config.get("max_content_length")
        return request

    def _dispatch(self, ctx: RequestContext) -> Response:
        """Route the request, once, and run what answers it: the dispatch routine.

        The innermost global link (``wsgi_app`` does the same, with direct
        lanes, when there is none): a match sets ``ctx.route`` and
        ``ctx.params`` and runs the chain (:meth:`_run`), so middleware sees
        a response; anything else is :func:`digwebs.error_handling.unrouted`'s.
        """
        environ = ctx.request.environ
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO") or "/"
        try:
            found = self._lookup(method, path if path.isascii() else ctx.request.path)
        except (RequestRedirect, MethodNotAllowed) as exc:
            return _unrouted(self, ctx, exc, method, path)
        if found is None:
            return _unrouted(self, ctx, None, method, path)
        route, ctx.params = found
        ctx.route = route
        return self._run(ctx, route)

    def _run(self, ctx: RequestContext, route: Route) -> Response:
        """Run a matched route's chain; an HttpError comes back as its response."""
        try:
            return route.chain(ctx)
        except HttpError as exc:
            return self.handle_http_error(ctx, exc)

    def make_response(self, rv: t.Any, ctx: RequestContext | None = None) -> Response:
        """Turn anything a handler may return into a :class:`Response`."""
        return results.to_response(self, rv, ctx or _cv_ctx.get())

    def handle_http_error(self, ctx: RequestContext, exc: HttpError) -> Response:
        """Answer an :class:`HttpError` through a registered handler or its page.

        Cookies and headers already set on ``ctx.response`` are sent with the
        error's answer; see :func:`digwebs.error_handling.handle_http_error`.
        """
        return error_handling.handle_http_error(self, ctx, exc)

    def handle_exception(self, ctx: RequestContext, exc: Exception) -> Response:
        """Log an unhandled exception and answer 500 (with details in debug).

        See :func:`digwebs.error_handling.handle_exception`.
        """
        return error_handling.handle_exception(self, ctx, exc)

    # -- templates, sessions, tests ------------------------------------------

    @property
    def debug(self) -> bool:
        """Whether the ``debug`` setting is on (tracebacks in error pages)."""
        return bool(self.config.get("debug"))

    @property
    def jinja_env(self) -> t.Any:
        """The jinja2 environment, created on first use."""
        if self._jinja_env is None:
            from .templating import create_environment

            self._jinja_env = create_environment(self)
        return self._jinja_env

    def render_template(self, name: str, context: t.Mapping[str, t.Any]) -> str:
        """Render ``views/<name>`` with ``context`` (and the context processors)."""
        from .templating import render_template

        return render_template(self, name, context)

    @property
    def session_interface(self) -> t.Any:
        """What loads and saves the signed-cookie session, created on first use."""
        if self._session_interface is None:
            from .sessions import SessionInterface

            self._session_interface = SessionInterface()
        return self._session_interface

    def test_client(self) -> TestClient:
        """A client that sends requests through the real WSGI entry."""
        from .testing import TestClient

        return TestClient(self)

    def test_request_context(
        self, path: str = "/", method: str = "GET", **kwargs: t.Any
    ) -> RequestContext:
        """A request context to use in ``with`` outside of a real request.

        The arguments are :func:`digwebs.testing.build_environ`'s.
        """
        from .testing import request_context

        return request_context(self, path, method, **kwargs)

    def __repr__(self) -> str:
        return f"<Digwebs {self.root_path!r}>"
