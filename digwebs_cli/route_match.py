"""``digwebs routes --match "METHOD PATH"``: which route answers a request.

:func:`show_match` asks the app's router as a request would (a 308
redirect is followed to the route that answers it, 404 and 405 are said as
such) and prints the answer as text or JSON; no request is made.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import click

from ._messages import one_line as _one_line
from .errors import DigwebsCliError
from .route_table import renders_text, route_to_dict

if t.TYPE_CHECKING:
    from digwebs import Digwebs, MatchResult


def show_match(app: Digwebs, request_line: str, cwd: Path, as_json: bool) -> bool:
    """Print which route answers ``METHOD PATH``; return False if none does."""
    from digwebs.errors import MethodNotAllowed, NotFound, RequestRedirect

    method, path = parse_request_line(request_line)
    result: dict[str, t.Any] = {"method": method, "path": path}
    try:
        try:
            match = app.match(method, path)
        except RequestRedirect as redirect:
            result.update(status=308, redirect=redirect.new_url)
            match = app.match(method, redirect.new_url.split("?", 1)[0])
    except MethodNotAllowed as exc:
        result.update(status=405, allowed=list(exc.valid_methods))
    except NotFound:
        result.update(status=404)
    except Exception as exc:  # a converter or the router itself failed
        raise DigwebsCliError(f"Matching '{method} {path}' failed: {_one_line(exc)}") from None
    else:
        result.setdefault("status", 200)
        result.update(
            route=route_to_dict(match.route, cwd),
            params={k: _jsonable(v) for k, v in match.params.items()},
        )

    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(_describe_match(result, match if "route" in result else None))
    return "route" in result


def parse_request_line(text: str) -> tuple[str, str]:
    """``"GET /posts/42?x=1"`` -> ``("GET", "/posts/42")``; a bare path means GET."""
    parts = text.split()
    if len(parts) == 1 and parts[0].startswith("/"):
        parts = ["GET", parts[0]]
    if len(parts) != 2 or not parts[1].startswith("/") or not parts[0].isalpha():
        raise DigwebsCliError(
            f"--match '{text}' is not 'METHOD /path'. Write it as, for example, "
            '--match "GET /posts/42".'
        )
    return parts[0].upper(), parts[1].split("?", 1)[0].split("#", 1)[0]


def _describe_match(result: dict[str, t.Any], match: MatchResult | None) -> str:
    request = f"{result['method']} {result['path']}"
    status = result["status"]
    if status == 404:
        return f"{request}: 404 Not Found. No route matches this path."
    if status == 405:
        allowed = ", ".join(result["allowed"])
        return f"{request}: 405 Method Not Allowed. Routes match this path, but only for {allowed}."
    assert match is not None  # a route answered: 200 or 308
    route = result["route"]
    lines = []
    if status == 308:
        lines.append(f"{request}: 308 Permanent Redirect to {result['redirect']}, answered by:")
    else:
        lines.append(f"{request}: answered by")
    middleware = [
        f"{m['name']} ({m['scope']}{', ' + m['prefix'] if m['prefix'] else ''}, order {m['order']})"
        for m in route["middleware"]
    ]
    fields = [
        ("route", f"{route['name']}  {','.join(route['methods'])} {route['path']}"),
        ("handler", f"{route['handler']}  ({route['file']}:{route['line']})"),
        ("params", ", ".join(f"{k}={v!r}" for k, v in match.params.items()) or "-"),
        ("renders", renders_text(match.route)),
        ("middleware", " > ".join(middleware) or "-"),
    ]
    lines += [f"  {label:<12}{value}" for label, value in fields]
    return "\n".join(lines)


def _jsonable(value: t.Any) -> t.Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
