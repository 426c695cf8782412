"""``digwebs routes``: the route table, route matching and a static check.

The app is found the way ``digwebs serve`` finds it (``--app``,
``DIGWEBS_APP``, else ``wsgiapp.py`` in the current folder; see
:mod:`digwebs_cli.discovery`) and loaded, which imports its controllers.
Nothing is served and no request is made.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import typing as t
from pathlib import Path

import click

from ._messages import one_line as _one_line
from ._messages import short_path as _short_path
from .errors import DigwebsCliError
from .locator import AppLocator, app_option, pass_locator

if t.TYPE_CHECKING:
    from digwebs import Digwebs, MatchResult, RouteInfo

SORT_KEYS: dict[str, t.Callable[[RouteInfo], t.Any]] = {
    "path": lambda r: (r.path, r.methods),
    "methods": lambda r: (r.methods, r.path),
    "name": lambda r: (r.name, r.path),
    "handler": lambda r: (r.handler_name, r.path),
}

# <name>, <conv:name>, <conv(args):name> (the runtime normalises :name to <name>).
_PARAM_RE = re.compile(r"<(?:(?P<conv>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")

# A value each converter accepts, to build a URL that a rule must answer.
_SAMPLES = {
    "default": "sample",
    "string": "sample",
    "str": "sample",
    "int": "7",
    "float": "7.5",
    "uuid": "12345678-1234-5678-1234-567812345678",
    "path": "sample/path",
}

_TEMPLATE_SUFFIXES = {".html", ".htm", ".xml", ".txt", ".j2", ".jinja", ".jinja2"}


@click.command("routes")
@app_option
@click.option(
    "--sort",
    type=click.Choice(["path", "methods", "name", "handler", "order"]),
    default="path",
    show_default=True,
    help="Order of the rows; 'order' is registration order.",
)
@click.option(
    "--method",
    "methods",
    multiple=True,
    metavar="METHOD",
    help="Only routes that answer METHOD (HEAD matches GET routes). Repeatable.",
)
@click.option(
    "--grep",
    metavar="TEXT",
    help="Only routes whose path, name, handler or view contain TEXT.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--match",
    "match_request",
    metavar='"METHOD PATH"',
    help='Show which route answers a request, e.g. --match "GET /posts/42"; exit 1 if none.',
)
@click.option(
    "--check",
    is_flag=True,
    help="Report missing views, shadowed rules and unknown url_for names; exit 1 if any.",
)
@pass_locator
def routes_command(
    locator: AppLocator,
    sort: str,
    methods: tuple[str, ...],
    grep: str | None,
    as_json: bool,
    match_request: str | None,
    check: bool,
) -> None:
    """List the routes of the app in the current folder.

    Each row shows the methods, the path, the name url_for uses, the handler
    and where it is defined, what it renders (a view, JSON, other) and the
    middleware that wraps it, in the order it runs (outermost first).
    """
    if match_request is not None and check:
        raise DigwebsCliError("--match and --check do not go together; run them one at a time.")
    cwd = Path.cwd()
    app = load(locator, cwd)
    routes = _routes_of(app)
    if match_request is not None:
        ok = show_match(app, match_request, cwd, as_json)
        raise SystemExit(0 if ok else 1)
    if check:
        problems = check_app(app, routes, cwd)
        _print_problems(problems, routes, as_json)
        raise SystemExit(1 if problems else 0)
    selected = select_routes(routes, sort, methods, grep)
    if as_json:
        click.echo(json.dumps([route_to_dict(r, cwd) for r in selected], indent=2))
    else:
        click.echo(format_table(selected, cwd))


# -- loading -----------------------------------------------------------------


def load(locator: AppLocator | str | None, cwd: Path) -> Digwebs:
    """Find, import and load the app; every failure is a one-line error.

    :param locator: the command line's app (an ``--app`` value also works).
    :param cwd: the project folder (the current folder: where the locator looks).
    """
    if not isinstance(locator, AppLocator):
        locator = AppLocator(locator)
    import_string = locator.import_string()
    app = locator.load()
    if not callable(getattr(app, "routes", None)):
        raise DigwebsCliError(
            f"'{import_string}' is a WSGI application but not a digwebs one: "
            "it has no route table to show."
        )
    return app


def _routes_of(app: Digwebs) -> list[RouteInfo]:
    try:
        return list(app.routes())
    except Exception as exc:  # composing the chains runs project code
        raise DigwebsCliError(f"The app's routes could not be listed: {_one_line(exc)}") from None


# -- the table ---------------------------------------------------------------


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


# -- --match -----------------------------------------------------------------


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


# -- --check -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, order=True)
class Problem:
    """Something that would only fail once a request hits it."""

    file: str
    line: int
    kind: str  # "missing-view" | "shadowed-route" | "unknown-url-name" | "missing-url-param" | ...
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def check_app(app: Digwebs, routes: list[RouteInfo], cwd: Path) -> list[Problem]:
    """Find the problems a request would otherwise be first to hit."""
    problems = [
        *check_views(app, routes, cwd),
        *check_shadowing(app, routes, cwd),
        *check_url_for(app, routes, cwd),
    ]
    return sorted(set(problems))


def check_views(app: Digwebs, routes: list[RouteInfo], cwd: Path) -> list[Problem]:
    """Report each ``@view`` route whose template the app's loader cannot find."""
    import jinja2

    env = app.jinja_env
    problems = []
    for route in routes:
        if route.renders != "view" or not route.template:
            continue
        try:
            env.loader.get_source(env, route.template)
        except jinja2.TemplateNotFound:
            folder = _short_path(app.template_folder, cwd)
            problems.append(
                Problem(
                    _short_path(route.file, cwd),
                    route.line,
                    "missing-view",
                    f"{route.name}: view '{route.template}' does not exist in '{folder}'.",
                )
            )
    return problems


def check_shadowing(app: Digwebs, routes: list[RouteInfo], cwd: Path) -> list[Problem]:
    """Report rules an earlier rule makes unreachable, for some or all URLs.

    Exact duplicates come from the router; other overlaps are found by
    matching a URL built from each rule's own pattern (:func:`sample_url`).
    """
    pairs: list[tuple[tuple[str, str], tuple[str, str], str]] = []
    # The router knows exact duplicates (same shape, same method).
    for winner, loser in app.router.shadowed():
        for method in sorted(set(winner.methods) & set(loser.methods)):
            pairs.append(((winner.path, str(winner.name)), (loser.path, str(loser.name)), method))
    # Other overlaps show up by matching a URL built for each rule: if another
    # rule answers it, that rule shadows this one for at least that URL.
    for route in routes:
        url = sample_url(route.path)
        if url is None:
            continue
        for method in route.methods:
            try:
                answer = app.match(method, url).route
            except Exception:  # the sample does not fit a custom converter
                continue
            if (answer.path, answer.name) != (route.path, route.name):
                pairs.append(((answer.path, answer.name), (route.path, route.name), method))

    by_key = {(r.path, r.name): r for r in routes}
    problems = []
    for winner_key, loser_key, method in pairs:
        first, hidden = by_key.get(winner_key), by_key.get(loser_key)
        if first is None or hidden is None:
            continue
        problems.append(
            Problem(
                _short_path(hidden.file, cwd),
                hidden.line,
                "shadowed-route",
                f"{hidden.name}: '{method} {hidden.path}' is shadowed by {first.name} "
                f"'{method} {first.path}' ({_short_path(first.file, cwd)}:{first.line}), "
                "which is matched first.",
            )
        )
    return problems


def sample_url(path: str) -> str | None:
    """Return a URL that rule ``path`` matches, or None if a converter is unknown."""
    unknown = False

    def sample(m: re.Match[str]) -> str:
        nonlocal unknown
        conv = m.group("conv") or "default"
        if conv == "any":
            return (m.group("args") or "").split(",")[0].strip().strip("'\"")
        if conv not in _SAMPLES:
            unknown = True
            return ""
        return _SAMPLES[conv]

    url = _PARAM_RE.sub(sample, path)
    return None if unknown else url


def check_url_for(app: Digwebs, routes: list[RouteInfo], cwd: Path) -> list[Problem]:
    """Report ``url_for()`` calls that name no route or miss a path parameter.

    Only calls with a constant name are checked, in the templates and in
    the modules of ``controllers/`` and ``middlewares/``; a call that passes
    ``*args`` or ``**values`` is not reported for missing parameters.
    """
    params = {r.name: _path_params(r.path) for r in routes}
    problems: list[Problem] = []
    for file, line, name, given, open_ended in _url_for_calls(app, cwd, problems):
        resolved = _resolve_name(app, name, params)
        if resolved is None:
            problems.append(
                Problem(file, line, "unknown-url-name", f"url_for('{name}') names no route.")
            )
            continue
        missing = [p for p in params[resolved] if p not in given]
        if missing and not open_ended:
            listed = ", ".join(f"'{p}'" for p in missing)
            problems.append(
                Problem(
                    file,
                    line,
                    "missing-url-param",
                    f"url_for('{name}') does not give {listed}, which the route "
                    f"'{resolved}' needs.",
                )
            )
    return problems


def _resolve_name(app: Digwebs, name: str, params: dict[str, list[str]]) -> str | None:
    if name in params:
        return name
    find = getattr(getattr(app, "router", None), "find", None)
    if find is None:
        return None
    try:
        rule = find(name)  # the runtime accepts a unique short name too
    except Exception:
        return None
    return str(rule.name) if rule.name in params else None


def _path_params(path: str) -> list[str]:
    return [m.group("name") for m in _PARAM_RE.finditer(path)]


# (file, line, route name, keyword names given, has **kwargs or *args)
_Call = tuple[str, int, str, set[str], bool]


def _url_for_calls(app: Digwebs, cwd: Path, problems: list[Problem]) -> t.Iterator[_Call]:
    yield from _url_for_in_templates(app, cwd, problems)
    root = Path(app.root_path)
    for package in ("controllers", "middlewares"):
        for path in sorted((root / package).rglob("*.py")):
            yield from _url_for_in_python(path, cwd)


def _url_for_in_templates(app: Digwebs, cwd: Path, problems: list[Problem]) -> t.Iterator[_Call]:
    """url_for calls in every template, found by walking jinja2's AST.

    Templates that do not parse, and ``{% extends %}``, ``{% include %}`` or
    ``{% import %}`` of a template that does not exist, are problems of their
    own: they fail on the first request that renders them.
    """
    import jinja2
    from jinja2 import nodes

    env = app.jinja_env
    folder = Path(app.template_folder)
    for path in sorted(p for p in folder.rglob("*") if p.suffix in _TEMPLATE_SUFFIXES):
        file = _short_path(str(path), cwd)
        try:
            tree = env.parse(path.read_text(encoding="utf-8"))
        except jinja2.TemplateSyntaxError as exc:
            message = f"template syntax error: {exc.message}"
            problems.append(Problem(file, exc.lineno or 0, "template-syntax", message))
            continue
        except (OSError, UnicodeDecodeError):
            continue
        for ref in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            name = getattr(ref.template, "value", None)
            if not isinstance(name, str) or getattr(ref, "ignore_missing", False):
                continue
            try:
                env.loader.get_source(env, name)
            except jinja2.TemplateNotFound:
                tag = type(ref).__name__.lower().replace("fromimport", "from ... import")
                message = f"{{% {tag} %}} of '{name}', which does not exist."
                problems.append(Problem(file, ref.lineno, "missing-template", message))
        for call in tree.find_all(nodes.Call):
            target = call.node
            called: str | None
            if isinstance(target, nodes.Name):
                called = target.name
            else:
                called = getattr(target, "attr", None)
            if called != "url_for" or not call.args or not isinstance(call.args[0], nodes.Const):
                continue
            name = call.args[0].value
            if not isinstance(name, str):
                continue
            given = {kw.key for kw in call.kwargs}
            open_ended = call.dyn_args is not None or call.dyn_kwargs is not None
            yield file, call.lineno, name, given, open_ended


def _url_for_in_python(path: Path, cwd: Path) -> t.Iterator[_Call]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (SyntaxError, OSError, UnicodeDecodeError):
        return  # loading the app would already have failed on it
    file = _short_path(str(path), cwd)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        first = node.args[0]
        if called != "url_for" or not isinstance(first, ast.Constant):
            continue
        if not isinstance(first.value, str):
            continue
        given = {kw.arg for kw in node.keywords if kw.arg is not None}
        open_ended = any(kw.arg is None for kw in node.keywords) or any(
            isinstance(a, ast.Starred) for a in node.args
        )
        yield file, node.lineno, first.value, given, open_ended


def _print_problems(problems: list[Problem], routes: list[RouteInfo], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"problems": [dataclasses.asdict(p) for p in problems]}, indent=2))
        return
    for problem in problems:
        click.echo(str(problem))
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        click.echo(f"{len(problems)} {noun} found.")
    else:
        click.echo(f"No problems found in {len(routes)} routes.")
