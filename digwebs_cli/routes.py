"""``digwebs routes``: the route table, route matching and a static check.

The app is found the way ``digwebs serve`` finds it (``--app``,
``DIGWEBS_APP``, else ``wsgiapp.py`` in the current folder; see
:mod:`digwebs_cli.discovery`) and loaded, which imports its controllers.
Nothing is served and no request is made.
This module is the command and the loading of the app; the table is
:mod:`digwebs_cli.route_table`, ``--match`` :mod:`digwebs_cli.route_match`
and ``--check`` :mod:`digwebs_cli.route_check`.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import click

# The names imported "as" themselves are re-exported: they were first
# defined here.
from ._messages import one_line as _one_line
from .errors import DigwebsCliError
from .locator import AppLocator, app_option, pass_locator
from .route_check import Problem as Problem
from .route_check import check_app as check_app
from .route_check import check_shadowing as check_shadowing
from .route_check import check_url_for as check_url_for
from .route_check import check_views as check_views
from .route_check import print_problems
from .route_check import sample_url as sample_url
from .route_match import parse_request_line as parse_request_line
from .route_match import show_match as show_match
from .route_table import SORT_KEYS as SORT_KEYS
from .route_table import format_table as format_table
from .route_table import middleware_text as middleware_text
from .route_table import renders_text as renders_text
from .route_table import route_to_dict as route_to_dict
from .route_table import select_routes as select_routes

if t.TYPE_CHECKING:
    from digwebs import Digwebs, RouteInfo


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
        print_problems(problems, routes, as_json)
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
