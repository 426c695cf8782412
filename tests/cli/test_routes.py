"""``digwebs routes``: the table, filters, --json, --match and --check."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from digwebs_cli.routes import parse_request_line, sample_url

pytestmark = pytest.mark.usefixtures("restore_imports")

BUNDLED_ROUTES = [
    ("GET", "/", "home.index"),
    ("GET", "/api/items", "api.items"),
    ("GET", "/api/items/<int:item_id>", "api.item"),
    ("GET", "/api/status", "api.status"),
    ("GET", "/contact", "contact.form"),
    ("POST", "/contact", "contact.submit"),
]


@pytest.fixture
def project(invoke, tmp_path, monkeypatch) -> Path:
    """A freshly generated project, as the current folder."""
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    root = tmp_path / "myblog"
    monkeypatch.chdir(root)
    return root


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())


def _rows(output: str) -> list[list[str]]:
    """The table's rows of the project's own routes, split into cells.

    Routes the framework adds (static files, favicon) are left out.
    """
    lines = output.splitlines()
    assert lines[0].split() == [
        "Methods", "Path", "Name", "Handler", "Location", "Renders", "Middleware",
    ]  # fmt: skip
    assert set(lines[1]) <= {"-", " "}
    rows = [line.split() for line in lines[2:]]
    return [row for row in rows if not row[3].startswith("digwebs.")]


def test_table_lists_every_route_sorted_by_path(invoke, project):
    result = invoke("routes")
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert [tuple(row[:3]) for row in rows] == BUNDLED_ROUTES
    home = rows[0]
    assert home[3:] == [
        "controllers.home.index", "controllers/home.py:6", "view", "index.html",
        "middlewares.timing.timing",
    ]  # fmt: skip
    assert rows[3][5] == "json"


def test_table_columns_are_aligned(invoke, project):
    lines = invoke("routes").output.splitlines()
    for column in ("Path", "Name", "Handler", "Location", "Renders", "Middleware"):
        start = lines[0].index(column)
        for line in lines[2:]:
            assert line[start - 2 : start] == "  " and line[start] != " ", (column, line)


@pytest.mark.parametrize(
    ("sort", "first", "last"),
    [
        ("name", "api.item", "home.index"),
        ("handler", "controllers.api.list_items", "controllers.home.index"),
        ("methods", "GET", "POST"),
    ],
)
def test_sort(invoke, project, sort, first, last):
    rows = _rows(invoke("routes", "--sort", sort).output)
    column = {"name": 2, "handler": 3, "methods": 0}[sort]
    assert rows[0][column] == first
    assert rows[-1][column] == last


def test_sort_order_is_registration_order(invoke, project):
    rows = _rows(invoke("routes", "--sort", "order").output)
    # controllers load alphabetically (api, contact, home), functions top-down
    assert [row[2] for row in rows] == [
        "api.status", "api.items", "api.item", "contact.form", "contact.submit", "home.index",
    ]  # fmt: skip


def test_bad_sort_is_a_usage_error(invoke, project):
    result = invoke("routes", "--sort", "size")
    assert result.exit_code == 2
    assert "'size' is not one of" in result.stderr


@pytest.mark.parametrize(
    ("methods", "names"),
    [
        (["--method", "POST"], ["contact.submit"]),
        (["--method", "post"], ["contact.submit"]),
        (["--method", "HEAD"], [r[2] for r in BUNDLED_ROUTES if r[0] == "GET"]),
        (["--method", "DELETE"], []),
        (["--method", "GET", "--method", "POST"], [r[2] for r in BUNDLED_ROUTES]),
    ],
)
def test_method_filter(invoke, project, methods, names):
    output = invoke("routes", *methods).output
    if not names:
        assert output == "No routes match.\n"
    else:
        assert [row[2] for row in _rows(output)] == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("api/items", ["api.items", "api.item"]),  # path
        ("CONTACT.", ["contact.form", "contact.submit"]),  # name, any case
        ("list_items", ["api.items"]),  # handler
        ("index.html", ["home.index"]),  # view
    ],
)
def test_grep(invoke, project, text, names):
    assert [row[2] for row in _rows(invoke("routes", "--grep", text).output)] == names


def test_json_has_stable_keys(invoke, project):
    result = invoke("routes", "--json", "--grep", "<int:item_id>")
    assert result.exit_code == 0, result.output
    (route,) = json.loads(result.stdout)
    assert route == {
        "methods": ["GET"],
        "path": "/api/items/<int:item_id>",
        "name": "api.item",
        "handler": "controllers.api.show_item",
        "file": "controllers/api.py",
        "line": route["line"],
        "renders": "json",
        "template": None,
        "middleware": [
            {
                "name": "middlewares.timing.timing",
                "file": "middlewares/timing.py",
                "line": route["middleware"][0]["line"],
                "order": 10,
                "scope": "global",
                "prefix": None,
            }
        ],
    }
    assert isinstance(route["line"], int) and route["line"] > 0


def test_middleware_chain_is_in_running_order(invoke, project):
    _write(
        project,
        "middlewares/auth.py",
        """
        from digwebs import middleware


        @middleware(order=5, prefix="/api")
        def api_key(ctx, next):
            return next()


        @middleware(order=1)
        def request_id(ctx, next):
            return next()
        """,
    )
    routes = {r["name"]: r for r in json.loads(invoke("routes", "--json").stdout)}
    assert all(len(r["middleware"]) >= 2 for r in routes.values())
    chain = [(m["name"], m["scope"]) for m in routes["api.status"]["middleware"]]
    # Global middleware runs outside prefix middleware, lower order outermost.
    assert chain == [
        ("middlewares.auth.request_id", "global"),
        ("middlewares.timing.timing", "global"),
        ("middlewares.auth.api_key", "prefix"),
    ]
    home = invoke("routes", "--grep", "home.index").output
    assert "middlewares.auth.request_id > middlewares.timing.timing" in home
    assert "api_key" not in home


def test_app_option_and_environment_variable(invoke, project, tmp_path, monkeypatch):
    _write(project, "site_app.py", "from wsgiapp import app as site\n")
    result = invoke("routes", "--app", "site_app:site", "--method", "POST")
    assert [row[2] for row in _rows(result.output)] == ["contact.submit"]

    monkeypatch.setenv("DIGWEBS_APP", "site_app:site")
    (project / "wsgiapp.py").unlink()  # so only the variable can find it
    result = invoke("routes", "--method", "POST")
    assert result.exit_code == 0, result.output
    assert [row[2] for row in _rows(result.output)] == ["contact.submit"]


def test_no_app_is_a_one_line_error(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("routes")
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ") and "wsgiapp.py" in line and "--app" in line


def test_broken_controller_is_a_one_line_error(invoke, project):
    _write(project, "controllers/oops.py", "import digwebs\n\nraise RuntimeError('boom')\n")
    result = invoke("routes")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "boom" in line and "Traceback" not in result.output


def test_match_route_with_parameters(invoke, project):
    result = invoke("routes", "--match", "GET /api/items/42?verbose=1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "GET /api/items/42: answered by"
    assert lines[1].split() == ["route", "api.item", "GET", "/api/items/<int:item_id>"]
    assert lines[2].split()[:2] == ["handler", "controllers.api.show_item"]
    assert lines[3].split() == ["params", "item_id=42"]
    assert lines[4].split() == ["renders", "json"]
    assert lines[5].split() == [
        "middleware", "middlewares.timing.timing", "(global,", "order", "10)",
    ]  # fmt: skip


def test_match_json(invoke, project):
    result = invoke("routes", "--match", "GET /api/items/42", "--json")
    data = json.loads(result.stdout)
    assert data["status"] == 200
    assert data["params"] == {"item_id": 42}
    assert data["route"]["name"] == "api.item"


def test_match_bare_path_means_get_and_head_uses_get(invoke, project):
    assert "home.index" in invoke("routes", "--match", "/").output
    assert "home.index" in invoke("routes", "--match", "HEAD /").output


def test_match_405_lists_allowed_methods(invoke, project):
    result = invoke("routes", "--match", "DELETE /contact")
    assert result.exit_code == 1
    assert result.output == (
        "DELETE /contact: 405 Method Not Allowed. Routes match this path, "
        "but only for GET, HEAD, OPTIONS, POST.\n"
    )
    data = json.loads(invoke("routes", "--match", "DELETE /contact", "--json").stdout)
    assert data == {
        "method": "DELETE",
        "path": "/contact",
        "status": 405,
        "allowed": ["GET", "HEAD", "OPTIONS", "POST"],
    }


def test_match_404(invoke, project):
    result = invoke("routes", "--match", "GET /api/items/abc")
    assert result.exit_code == 1
    assert result.output == "GET /api/items/abc: 404 Not Found. No route matches this path.\n"


def test_match_trailing_slash_redirect(invoke, project):
    _write(
        project,
        "controllers/docs.py",
        """
        from digwebs import get


        @get("/docs/", name="docs.index")
        def index():
            return "docs"
        """,
    )
    result = invoke("routes", "--match", "GET /docs")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("GET /docs: 308 Permanent Redirect to /docs/, answered by:\n")
    assert "docs.index" in result.output


@pytest.mark.parametrize("text", ["", "GET", "GET posts", "GET /a /b", "1 /x"])
def test_match_needs_method_and_path(invoke, project, text):
    result = invoke("routes", "--match", text)
    assert result.exit_code == 2
    assert "METHOD /path" in result.stderr


def test_parse_request_line():
    assert parse_request_line("post /a/b?c=d#e") == ("POST", "/a/b")
    assert parse_request_line("/x") == ("GET", "/x")


def test_sample_url():
    assert sample_url("/a/<int:n>/<name>") == "/a/7/sample"
    assert sample_url("/f/<path:rest>") == "/f/sample/path"
    assert sample_url("/c/<any(red, blue):colour>") == "/c/red"
    assert sample_url("/c/<custom:x>") is None


def test_check_passes_on_a_new_project_and_after_generate(invoke, project, restore_imports):
    result = invoke("routes", "--check")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"No problems found in \d+ routes.\n", result.output)
    routes_before = len(json.loads(invoke("routes", "--json").stdout))
    assert invoke("generate", "controller", "posts", "index", "show", "new", "create",
                  "edit", "update", "destroy").exit_code == 0  # fmt: skip
    restore_imports()  # a new process would import the project afresh
    result = invoke("routes", "--check")
    assert result.output == f"No problems found in {routes_before + 7} routes.\n", result.output


@pytest.fixture
def broken(project) -> Path:
    _write(
        project,
        "controllers/broken.py",
        """
        from digwebs import get, url_for, view


        @view("missing.html")
        @get("/missing", name="broken.missing")
        def missing():
            return {}


        @get("/api/status", name="broken.status")
        def status_again():
            return "shadowed exactly"


        @get("/u/<a>", name="broken.first")
        def first(a):
            return a


        @get("/u/<b>", name="broken.second")
        def second(b):
            return url_for("ghost")
        """,
    )
    _write(
        project,
        "views/broken/refs.html",
        """
        {% extends "base.html" %}
        {% block content %}
        {% include "nowhere.html" %}
        <a href="{{ url_for('nope') }}">x</a>
        <a href="{{ url_for('api.item') }}">x</a>
        <a href="{{ url_for('api.item', **kw) }}">fine: open-ended</a>
        <a href="{{ url_for('item', item_id=1) }}">fine: unique short name</a>
        {% endblock %}
        """,
    )
    _write(project, "views/broken/syntax.html", "{% if %}\n")
    return project


def test_check_reports_each_problem_with_its_place(invoke, broken):
    result = invoke("routes", "--check")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "controllers/broken.py:4: broken.missing: view 'missing.html' does not exist in 'views'.",
        "controllers/broken.py:10: broken.status: 'GET /api/status' is shadowed by api.status "
        "'GET /api/status' (controllers/api.py:12), which is matched first.",
        "controllers/broken.py:20: broken.second: 'GET /u/<b>' is shadowed by broken.first "
        "'GET /u/<a>' (controllers/broken.py:15), which is matched first.",
        "controllers/broken.py:22: url_for('ghost') names no route.",
        "views/broken/refs.html:3: {% include %} of 'nowhere.html', which does not exist.",
        "views/broken/refs.html:4: url_for('nope') names no route.",
        "views/broken/refs.html:5: url_for('api.item') does not give 'item_id', which the "
        "route 'api.item' needs.",
        "views/broken/syntax.html:1: template syntax error: Expected an expression, "
        "got 'end of statement block'",
        "8 problems found.",
    ]


def test_check_json(invoke, broken):
    result = invoke("routes", "--check", "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert sorted({p["kind"] for p in problems}) == [
        "missing-template", "missing-url-param", "missing-view", "shadowed-route",
        "template-syntax", "unknown-url-name",
    ]  # fmt: skip
    assert set(problems[0]) == {"file", "line", "kind", "message"}


def test_check_and_match_do_not_combine(invoke, project):
    result = invoke("routes", "--check", "--match", "GET /")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1


def test_routes_help(invoke):
    result = invoke("routes", "--help")
    assert result.exit_code == 0
    for option in ("--app", "--sort", "--method", "--grep", "--json", "--match", "--check"):
        assert option in result.output
