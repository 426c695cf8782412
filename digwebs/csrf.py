"""Cross-site request forgery protection (being built: issue 12)."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .middleware import MiddlewareInfo
    from .routing import Rule


def route_guard(
    app: Digwebs, rule: Rule, fn: t.Callable[..., t.Any]
) -> tuple[t.Callable[..., t.Any], MiddlewareInfo] | None:
    """The CSRF check of ``rule`` as a middleware link, or None when none applies."""
    return None
