"""The route table of ``digwebs routes``: selecting and sorting rows, as text or JSON.

:func:`select_routes` applies ``--method``, ``--grep`` and ``--sort``;
:func:`format_table` renders the aligned table and :func:`route_to_dict`
the JSON form of one route (its keys are stable: scripts read them).
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from ._messages import short_path as _short_path

if t.TYPE_CHECKING:
    from digwebs import RouteInfo

SORT_KEYS: dict[str, t.Callable[[RouteInfo], t.Any]] = {
    "path": lambda r: (r.path, r.methods),
    "methods": lambda r: (r.methods, r.path),
    "name": lambda r: (r.name, r.path),
    "handler": lambda r: (r.handler_name, r.path),
}


def select_routes(
    routes: list[RouteInfo], sort: str, methods: t.Iterable[str], grep: str | None
) -> list[RouteInfo]:
    """Return the routes that answer one of ``methods`` and contain ``grep``, sorted.

    :param sort: a key of :data:`SORT_KEYS`, or ``"order"`` to keep the
        registration order.
    :param methods: method names in any case (none: every route); HEAD
        selects GET routes too, which answer it.
    :param grep: text looked for, in any case, in the path, the name, the
        handler and the view.
    """
    wanted = {m.upper() for m in methods}
    if "HEAD" in wanted:
        wanted.add("GET")  # GET routes answer HEAD too
    selected = [r for r in routes if not wanted or wanted & set(r.methods)]
    if grep:
        needle = grep.lower()
        selected = [
            r
            for r in selected
            if any(
                needle in (v or "").lower() for v in (r.path, r.name, r.handler_name, r.template)
            )
        ]
    if sort != "order":
        selected.sort(key=SORT_KEYS[sort])
    return selected


def renders_text(route: RouteInfo) -> str:
    """Return the Renders cell: ``view <template>``, ``json`` or ``other``."""
    if route.renders == "view":
        return f"view {route.template}"
    return route.renders


def middleware_text(route: RouteInfo) -> str:
    """Return the Middleware cell: the names outermost first, ``>``-joined, or ``-``."""
    return " > ".join(m.name for m in route.middleware) or "-"


def format_table(routes: list[RouteInfo], cwd: Path) -> str:
    """Render routes as an aligned, plain-text table (``No routes match.`` for none)."""
    header = ("Methods", "Path", "Name", "Handler", "Location", "Renders", "Middleware")
    rows = [
        (
            ",".join(r.methods),
            r.path,
            r.name,
            r.handler_name,
            f"{_short_path(r.file, cwd)}:{r.line}",
            renders_text(r),
            middleware_text(r),
        )
        for r in routes
    ]
    if not rows:
        return "No routes match."
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, tuple("-" * w for w in widths), *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def route_to_dict(route: RouteInfo, cwd: Path) -> dict[str, t.Any]:
    """Return the JSON form of a route; its keys are stable (scripts read them)."""
    return {
        "methods": list(route.methods),
        "path": route.path,
        "name": route.name,
        "handler": route.handler_name,
        "file": _short_path(route.file, cwd),
        "line": route.line,
        "renders": route.renders,
        "template": route.template,
        "middleware": [
            {
                "name": m.name,
                "file": _short_path(m.file, cwd),
                "line": m.line,
                "order": m.order,
                "scope": m.scope,
                "prefix": m.prefix,
            }
            for m in route.middleware
        ],
    }
