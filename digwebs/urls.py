"""``url_for`` for handlers, templates and middleware."""

from __future__ import annotations

import typing as t

from .context import _get_app

__all__ = ["url_for"]


def url_for(name: str, **values: t.Any) -> str:
    """Build the URL of the route called ``name`` in the current application.

    Path parameters are filled from ``values``; the others become the query
    string (quoted). ``_anchor`` adds a ``#fragment``.
    """
    return _get_app().url_for(name, **values)
