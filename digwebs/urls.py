"""``url_for`` for handlers, templates and middleware."""

from __future__ import annotations

import typing as t

from .context import _get_app

__all__ = ["url_for"]


def url_for(name: str, /, **values: t.Any) -> str:
    """Build the URL of the route called ``name`` in the current application.

    ``name`` is positional-only, so a route parameter may be called ``name``
    too (``url_for("hello", name="x")``). Path parameters are filled from
    ``values``; the others become the query string (quoted; ``None`` left
    out). When several routes share the name, the one whose parameters the
    values fill is used (see :meth:`digwebs.routing.Router.build`).
    ``_anchor`` adds a ``#fragment``.
    """
    return _get_app().url_for(name, **values)
