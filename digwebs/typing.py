"""The public type aliases of digwebs, for annotating applications.

Import them as ``from digwebs.typing import Middleware, StartResponse``.
They describe what the framework accepts and calls; the classes themselves
(:class:`~digwebs.Request`, :class:`~digwebs.Response`, ...) are exported
from :mod:`digwebs`.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from .context import RequestContext
    from .wrappers.response import Response

__all__ = [
    "WSGIEnvironment",
    "StartResponse",
    "WSGIApplication",
    "Headers",
    "HandlerResult",
    "Handler",
    "Next",
    "Middleware",
    "ErrorHandler",
]

#: The ``environ`` dict a WSGI server passes to the application (PEP 3333).
WSGIEnvironment: t.TypeAlias = dict[str, t.Any]

#: The server's ``start_response(status, headers, exc_info=None)`` callable.
StartResponse: t.TypeAlias = t.Callable[..., t.Any]

#: Any WSGI application, :class:`~digwebs.Digwebs` included.
WSGIApplication: t.TypeAlias = t.Callable[[WSGIEnvironment, StartResponse], t.Iterable[bytes]]

#: Headers a handler may return: a mapping or a list of ``(name, value)`` pairs.
Headers: t.TypeAlias = t.Mapping[str, t.Any] | t.Sequence[tuple[str, t.Any]]

#: What a route handler may return; :func:`digwebs.results.to_response` turns
#: each into a response: ``str``/``bytes`` bodies, a ``dict``/``list`` sent as
#: JSON, ``None`` (an empty body), a :class:`~digwebs.Response`, an
#: :class:`~digwebs.HttpError`, an iterable of chunks (streamed), or a tuple
#: ``(body, status)``, ``(body, headers)`` or ``(body, status, headers)``.
HandlerResult: t.TypeAlias = t.Union[
    str,
    bytes,
    dict[str, t.Any],
    list[t.Any],
    None,
    "Response",
    t.Iterable[t.Any],
    tuple[t.Any, int | str],
    tuple[t.Any, Headers],
    tuple[t.Any, int | str, Headers],
]

#: A route handler: called with the route's parameters as keyword arguments.
Handler: t.TypeAlias = t.Callable[..., HandlerResult]

#: The ``next`` a middleware is given: runs the rest of the chain.
Next: t.TypeAlias = t.Callable[[], "Response"]

#: Koa-style middleware ``fn(ctx, next)``: returns ``next()``'s response (or
#: its own, or anything a handler may return).
Middleware: t.TypeAlias = t.Callable[["RequestContext", Next], t.Any]

#: An error handler registered with :meth:`~digwebs.Digwebs.errorhandler`.
ErrorHandler: t.TypeAlias = t.Callable[[BaseException], HandlerResult]
