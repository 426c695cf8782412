"""``digwebs routes --check``: what would fail only once a request hits it.

:func:`check_app` reports ``@view`` templates that do not exist
(:func:`check_views`), rules an earlier rule makes unreachable
(:func:`check_shadowing`), and ``url_for()`` calls, in the templates and in
``controllers/`` and ``middlewares/``, that name no route or miss a path
parameter (:func:`check_url_for`), each as a :class:`Problem` at its file
and line; templates that do not parse, or extend or include one that does
not exist, are problems too.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import typing as t
from pathlib import Path

import click

from ._messages import short_path as _short_path

if t.TYPE_CHECKING:
    from digwebs import Digwebs, RouteInfo

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


def print_problems(problems: list[Problem], routes: list[RouteInfo], as_json: bool) -> None:
    """Print the problems (and their count) as text, or as JSON with ``as_json``."""
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
