"""Module-level decorators that *mark* handlers for ``app.load()`` to find.

They never wrap the function, so marks written above or below each other (and
above or below ``@app.get``) are all seen: the application reads them when it
composes its routes.
"""

from __future__ import annotations

import typing as t

from .routing import method_names

__all__ = ["route", "get", "post", "put", "patch", "delete", "api"]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def route(
    path: str, methods: t.Iterable[str] = ("GET",), name: str | None = None
) -> t.Callable[[F], F]:
    """Mark ``fn`` as the handler of ``path`` for ``methods``.

    A function may carry several routes. ``name`` is what ``url_for`` uses;
    it defaults to ``"module.function"`` (the bare function name also works
    when it is unique). ``methods`` is a list of names: a string raises
    :class:`TypeError` here, where the mistake is.
    """
    methods = method_names(methods)

    def mark(fn: F) -> F:
        routes = fn.__dict__.setdefault("__digwebs_routes__", [])
        routes.append((path, methods, name))
        return fn

    return mark


def get(path: str, name: str | None = None) -> t.Callable[[F], F]:
    """Mark a GET handler (HEAD is answered by it too)."""
    return route(path, ("GET",), name)


def post(path: str, name: str | None = None) -> t.Callable[[F], F]:
    """Mark a POST handler."""
    return route(path, ("POST",), name)


def put(path: str, name: str | None = None) -> t.Callable[[F], F]:
    """Mark a PUT handler."""
    return route(path, ("PUT",), name)


def patch(path: str, name: str | None = None) -> t.Callable[[F], F]:
    """Mark a PATCH handler."""
    return route(path, ("PATCH",), name)


def delete(path: str, name: str | None = None) -> t.Callable[[F], F]:
    """Mark a DELETE handler."""
    return route(path, ("DELETE",), name)


def api(fn: F) -> F:
    """Make a handler JSON-only.

    Its result is always sent as JSON, and errors it raises (``abort``,
    :class:`~digwebs.errors.APIError` and its subclasses) are answered as
    ``{"error", "data", "message"}`` JSON with their status code.
    """
    fn.__digwebs_api__ = True  # type: ignore[attr-defined]
    return fn
