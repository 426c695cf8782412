"""Koa-style middleware and the composition of each route's chain.

A middleware is ``fn(ctx, next)``: it may work before calling ``next()``, look
at or change the :class:`~digwebs.Response` that ``next()`` returns,
or return its own value without calling ``next`` at all (short-circuit).

Chains are composed once, when the application is finalised (:func:`compose`):
each link is a pair of closures built then, holding the middleware and the
link inside it, so a request calls pre-built functions and creates no
closure of its own. Which middleware wrap a route, and in what order, is
settled here too (:func:`ordered`, :func:`route_links`), once, when the
application composes its chains (``Digwebs._finalize``): global middleware
outside the route's CSRF link, outside prefix middleware, outside the
route's ``@use`` list.
"""

from __future__ import annotations

import inspect
import typing as t
from dataclasses import dataclass

from .context import _cv_ctx

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .context import RequestContext
    from .routing import Rule
    from .wrappers.response import Response

__all__ = ["MiddlewareInfo", "middleware", "use"]

Middleware = t.Callable[["RequestContext", t.Callable[[], t.Any]], t.Any]
F = t.TypeVar("F", bound=t.Callable[..., t.Any])


@dataclass(frozen=True)
class MiddlewareInfo:
    """Where a middleware comes from and what it applies to (for ``digwebs routes``).

    ``name`` is ``"module.qualname"``; ``file`` and ``line`` are where it is
    defined (``"?"`` and 0 when it has no code object). ``scope`` is
    ``"global"`` (every request), ``"prefix"`` (routes under ``prefix``) or
    ``"route"`` (one route's ``@use``).
    """

    name: str
    module: str
    file: str
    line: int
    order: int
    scope: str  # "global" | "prefix" | "route"
    prefix: str | None = None


@dataclass(frozen=True)
class MiddlewareEntry:
    """A registered middleware: the function, its description, its registration number."""

    fn: Middleware
    info: MiddlewareInfo
    seq: int  # registration order, to keep equal orders stable

    def applies_to(self, path: str) -> bool:
        """Tell whether this middleware wraps the route of rule ``path``.

        True for a global one; for a prefix one, when ``path`` is the prefix
        (with or without its trailing slash) or lies under it: prefix
        ``/api`` covers ``/api`` and ``/api/users``, not ``/apix``.
        """
        prefix = self.info.prefix
        if prefix is None:
            return True
        base = prefix.rstrip("/")
        return path == prefix or path == base or path.startswith(base + "/")


def describe(
    fn: t.Callable[..., t.Any], order: int, scope: str, prefix: str | None
) -> MiddlewareInfo:
    """Describe middleware ``fn`` for :class:`MiddlewareInfo`.

    A decorated function (``functools.wraps``) is described by the function
    it wraps, so the file and line are where the user wrote it.
    """
    target = inspect.unwrap(fn)
    code = getattr(target, "__code__", None)
    module = getattr(target, "__module__", None) or "?"
    qualname = getattr(target, "__qualname__", None) or type(target).__name__
    return MiddlewareInfo(
        name=f"{module}.{qualname}",
        module=module,
        file=code.co_filename if code else "?",
        line=code.co_firstlineno if code else 0,
        order=order,
        scope=scope,
        prefix=prefix,
    )


def ordered(entries: t.Iterable[MiddlewareEntry]) -> list[MiddlewareEntry]:
    """The application's middleware, outermost first: lower order, then registration."""
    return sorted(entries, key=lambda e: (e.info.order, e.seq))


def route_links(
    app: Digwebs, rule: Rule, fn: t.Callable[..., t.Any]
) -> list[tuple[Middleware, MiddlewareInfo]]:
    """What wraps the route ``rule`` (handler ``fn``) only, outermost first.

    The CSRF link (:func:`digwebs.csrf.route_guard`), so that it runs
    before any middleware of the route can act; then the prefix middleware
    whose prefix covers the route; then the handler's ``@use`` list. Global
    middleware is not included: it wraps every request, outside these.
    """
    from .csrf import route_guard  # (csrf describes its links with this module)

    guard = route_guard(app, rule, fn)
    links = [] if guard is None else [guard]
    links += [
        (e.fn, e.info)
        for e in ordered(app._middleware)
        if e.info.prefix is not None and e.applies_to(rule.path)
    ]
    links += [(m, describe(m, 0, "route", None)) for m in getattr(fn, "__digwebs_use__", ())]
    return links


def middleware(order: int = 0, prefix: str | None = None) -> t.Callable[[F], F]:
    """Mark ``fn(ctx, next)`` as a middleware for ``app.load()`` to register.

    The function is returned unchanged (only marked), so it can still be
    called and tested directly.

    :param order: lower runs further out; equal orders run in the order
        they were registered.
    :param prefix: wrap only the routes whose path is this prefix or lies
        under it (``"/api"`` covers ``/api/users``); every request without.
    """

    def mark(fn: F) -> F:
        fn.__digwebs_middleware__ = {"order": order, "prefix": prefix}  # type: ignore[attr-defined]
        return fn

    return mark


def use(*fns: Middleware) -> t.Callable[[F], F]:
    """Wrap one route handler in the given middleware, first one outermost.

    Works above or below the route decorator; stacked ``@use`` decorators
    run top to bottom. They run inside the global and prefix middleware.
    """

    def mark(handler: F) -> F:
        existing = list(getattr(handler, "__digwebs_use__", ()))
        # Decorators apply bottom-up; prepend so the topmost @use runs first.
        handler.__digwebs_use__ = [*fns, *existing]  # type: ignore[attr-defined]
        return handler

    return mark


def _link(
    fn: Middleware,
    inner: t.Callable[[RequestContext], Response],
    to_response: t.Callable[[t.Any, RequestContext], Response],
) -> t.Callable[[RequestContext], Response]:
    """One middleware around the rest of the chain.

    Built once per route at start-up. PERF: plain functions rather than
    objects with ``__call__``, which CPython calls several times slower.
    """

    def next_() -> Response:
        # The zero-argument ``next`` handed to the middleware. What it returns
        # becomes ctx.response, as in koa: a middleware that writes
        # ctx.response after next() writes the response being sent.
        ctx = _cv_ctx.get()
        resp = ctx._response = inner(ctx)
        return resp

    def link(ctx: RequestContext) -> Response:
        rv = fn(ctx, next_)
        # A short-circuiting middleware may return anything a handler may.
        if not isinstance(rv, ctx.app.response_class):
            rv = to_response(rv, ctx)
        return rv

    return link


def compose(
    entries: t.Sequence[Middleware],
    innermost: t.Callable[[RequestContext], Response],
    to_response: t.Callable[[t.Any, RequestContext], Response],
) -> t.Callable[[RequestContext], Response]:
    """Wrap ``innermost`` in ``entries``, the first entry outermost.

    Called once per chain at start-up; the result is what a request calls.
    A middleware's ``next()`` returns the inner chain's
    :class:`~digwebs.Response` and makes it ``ctx.response``; a
    value a middleware returns instead of a response is turned into one by
    ``to_response``, as a handler's would be.
    """
    chain = innermost
    for fn in reversed(entries):
        chain = _link(fn, chain, to_response)
    return chain
