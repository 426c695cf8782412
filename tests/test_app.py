"""The application: construction, registration, load() discovery and the route table."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from pathlib import Path

import pytest

import digwebs
from digwebs import Digwebs, RouteInfo, request
from digwebs.routing import BuildError


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Write a project's files; sys.path and imported packages are restored afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)

    def write(files: dict[str, str]) -> Path:
        for rel, text in files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return tmp_path

    yield write
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_app_is_a_wsgi_callable(app):
    app.add_route("/", lambda: "hi")
    seen = {}
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": None}
    body = app(environ, lambda status, headers: seen.update(status=status, headers=headers))
    assert seen["status"] == "200 OK" and b"".join(body) == b"hi"
    assert ("Content-Type", "text/html; charset=utf-8") in seen["headers"]


def test_root_path_defaults_to_the_folder_of_the_creating_module(project):
    root = project({"myapp.py": "from digwebs import Digwebs\napp = Digwebs()\n"})
    sys.path.insert(0, str(root))
    module = importlib.import_module("myapp")
    assert module.app.root_path == str(root.resolve())
    assert module.app.template_folder == os.path.join(str(root.resolve()), "views")
    assert module.app.static_folder == os.path.join(str(root.resolve()), "static")


def test_root_path_default_here():
    assert Digwebs().root_path == str(Path(__file__).parent.resolve())


def test_config_keywords(tmp_path):
    app = Digwebs(tmp_path, debug=False, max_content_length=100, custom="x")
    assert (app.config.debug, app.config["max_content_length"], app.config.custom) == (
        False,
        100,
        "x",
    )
    assert Digwebs(tmp_path).debug is True  # development by default
    assert Digwebs(tmp_path, env="production", secret_key="x" * 16).debug is False


@pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete"])
def test_verb_decorators(app, client, verb):
    @getattr(app, verb)("/thing")
    def handler():
        return verb

    r = client.open("/thing", verb.upper())
    assert (r.status_code, r.text) == (200, verb)
    assert app.routes()[0].methods == (verb.upper(),)


def test_route_with_several_methods_and_a_name(app, client):
    @app.route("/form", methods=["get", "POST"], name="form")
    def form():
        return digwebs.request.method

    assert (client.get("/form").text, client.post("/form").text) == ("GET", "POST")
    info = app.routes()[0]
    assert (info.methods, info.name, app.url_for("form")) == (("GET", "POST"), "form", "/form")


def test_add_route(app, client):
    def fn(id):
        return f"#{id}"

    rule = app.add_route("/x/<int:id>", fn, ["PUT"], "x")
    assert rule.name == "x" and client.put("/x/4").text == "#4"


def test_decorators_return_the_function_unchanged(app):
    def fn():
        return ""

    assert app.get("/")(fn) is fn and digwebs.get("/")(fn) is fn


def test_module_level_decorators_only_mark(app):
    @digwebs.post("/b")
    @digwebs.get("/a", name="a")
    def handler():
        return ""

    assert handler.__digwebs_routes__ == [("/a", ("GET",), "a"), ("/b", ("POST",), None)]
    assert app.routes() == []


@pytest.mark.parametrize("when", ["request", "routes"])
@pytest.mark.parametrize(
    "register",
    [
        lambda app: app.add_route("/late", lambda: ""),
        lambda app: app.get("/late")(lambda: ""),
        lambda app: app.use(lambda c, n: n()),
    ],
)
def test_registration_after_the_first_request_raises(app, client, when, register):
    app.add_route("/", lambda: "x")
    client.get("/") if when == "request" else app.routes()
    with pytest.raises(RuntimeError, match="already handled a request"):
        register(app)


CONTROLLERS = {
    "controllers/__init__.py": "",
    "controllers/home.py": """
        from digwebs import get, post, route, api

        @get("/")
        def index():
            return "home"

        @get("/hello/<name>")
        @get("/hi/<name>", name="hi")
        def hello(name):
            return f"hello {name}"

        @route("/submit", methods=["POST", "PUT"])
        def submit():
            return "submitted"

        def helper():  # not marked: not a route
            return "nope"
        """,
    "controllers/admin/__init__.py": "",
    "controllers/admin/users.py": """
        from digwebs import api, current_app

        @current_app.get("/admin/users")
        @api
        def users():
            return ["ann", "bob"]
        """,
    "middlewares/__init__.py": "",
    "middlewares/tag.py": """
        from digwebs import middleware

        @middleware(order=5)
        def tag(ctx, next):
            resp = next()
            resp.headers["X-Tag"] = "tagged"
            return resp
        """,
}


def test_load_discovers_controllers_subpackages_and_middlewares(project):
    app = Digwebs(project(CONTROLLERS), debug=False)
    assert app.load() is app
    client = app.test_client()
    assert client.get("/").text == "home"
    assert client.get("/hello/ann").text == client.get("/hi/ann").text == "hello ann"
    assert client.put("/submit").text == "submitted"
    r = client.get("/admin/users")
    assert r.json == ["ann", "bob"] and r.headers["X-Tag"] == "tagged"
    assert client.get("/missing").headers["X-Tag"] == "tagged"


def test_load_route_table(project):
    app = Digwebs(project(CONTROLLERS), debug=False).load()
    table = {(r.path, r.methods): r for r in app.routes()}
    assert set(table) == {
        ("/", ("GET",)),
        ("/hello/<name>", ("GET",)),
        ("/hi/<name>", ("GET",)),
        ("/submit", ("POST", "PUT")),
        ("/admin/users", ("GET",)),
    }
    hi = table[("/hi/<name>", ("GET",))]
    assert (hi.name, hi.handler_name, hi.renders) == ("hi", "controllers.home.hello", "other")
    assert hi.file.endswith(os.path.join("controllers", "home.py")) and hi.line > 1
    users = table[("/admin/users", ("GET",))]
    # route names are relative to controllers/; the handler keeps its full name
    assert users.renders == "json" and users.name == "admin.users.users"
    assert users.handler_name == "controllers.admin.users.users"
    assert [m.name for m in users.middleware] == ["middlewares.tag.tag"]


def test_route_names_before_issue_10_still_build_with_a_warning(project):
    app = Digwebs(project(CONTROLLERS), debug=False).load()
    with app.test_request_context("/"):
        assert app.url_for("admin.users.users") == "/admin/users"
        with pytest.warns(DeprecationWarning, match="use 'admin.users.users'"):
            assert app.url_for("controllers.admin.users.users") == "/admin/users"
        with pytest.raises(BuildError):
            app.url_for("controllers.nothing.here")


def test_the_old_name_warning_points_at_the_caller_of_either_url_for(project):
    # url_for moved to digwebs.urls (issue 10): the warning still names the
    # line that built the URL, through the method and the module function.
    from digwebs import url_for

    app = Digwebs(project(CONTROLLERS), debug=False).load()
    with app.test_request_context("/"):
        for build in (app.url_for, url_for):
            with pytest.warns(DeprecationWarning) as caught:
                build("controllers.admin.users.users")
            assert caught[0].filename == __file__


def test_a_handler_outside_controllers_keeps_its_module_in_the_name():
    app = Digwebs(root_path="/nonexistent-root")

    @app.get("/x")
    def handler() -> str:
        return "x"

    name = app.routes()[0].name
    assert name.startswith(f"{__name__}.test_") and name.endswith(".<locals>.handler")


def test_load_is_idempotent(project):
    app = Digwebs(project(CONTROLLERS), debug=False)
    app.load()
    app.load()
    assert len(app.routes()) == 5


def test_load_imports_its_own_controllers_when_its_root_is_already_on_sys_path(tmp_path, project):
    other = tmp_path / "other"
    (other / "controllers").mkdir(parents=True)
    (other / "controllers" / "__init__.py").write_text("")
    (other / "controllers" / "only.py").write_text(
        "from digwebs import get\n@get('/only')\ndef only():\n    return 'only'\n"
    )
    sys.path.append(str(other))  # listed, but after the first project's root
    first = Digwebs(project(CONTROLLERS), debug=False).load()
    second = Digwebs(other, debug=False).load()
    assert [r.path for r in second.routes()] == ["/only"] and len(first.routes()) == 5


def test_load_without_packages_is_fine(app):
    assert app.load().routes() == []


def test_load_imports_this_projects_packages_not_an_earlier_ones(tmp_path, project):
    first = Digwebs(project(CONTROLLERS), debug=False).load()
    other = tmp_path / "other"
    (other / "controllers").mkdir(parents=True)
    (other / "controllers" / "__init__.py").write_text("")
    (other / "controllers" / "only.py").write_text(
        "from digwebs import get\n@get('/only')\ndef only():\n    return 'only'\n"
    )
    sys.path.insert(0, str(other))
    second = Digwebs(other, debug=False).load()
    assert [r.path for r in second.routes()] == ["/only"]
    assert len(first.routes()) == 5


def test_current_app_get_outside_load_raises():
    with pytest.raises(RuntimeError):
        digwebs.current_app.get("/x")


def test_routes_returns_route_info_in_registration_order(app):
    @app.get("/b")
    def b():
        return ""

    @app.post("/a")
    @digwebs.api
    def a():
        return {}

    infos = app.routes()
    assert all(isinstance(i, RouteInfo) for i in infos)
    assert [(i.path, i.methods, i.renders, i.template) for i in infos] == [
        ("/b", ("GET",), "other", None),
        ("/a", ("POST",), "json", None),
    ]
    assert infos[0].handler is b and infos[0].line == b.__code__.co_firstlineno
    assert infos[0].file == __file__


def test_routes_shows_view_routes(app):
    @app.get("/page")
    @digwebs.view("page.html")
    def page():
        return {}

    info = app.routes()[0]
    assert (info.renders, info.template) == ("view", "page.html")


def test_route_info_is_frozen(app):
    app.add_route("/", lambda: "")
    with pytest.raises(AttributeError):
        app.routes()[0].path = "/x"  # type: ignore[misc]


def test_match_does_not_run_the_handler(app):
    calls = []
    app.add_route("/x/<int:n>", lambda n: calls.append(n), name="x")
    result = app.match("GET", "/x/9")
    assert (result.route.name, result.params, calls) == ("x", {"n": 9}, [])


def test_repr(app):
    assert repr(app) == f"<Digwebs {app.root_path!r}>"


def test_load_registers_a_reexported_function_once(project):
    files = dict(CONTROLLERS)
    files["controllers/__init__.py"] = "from .home import index as index\n"
    app = Digwebs(project(files), debug=False).load()
    paths = [r.path for r in app.routes()]
    assert len(paths) == 5 and paths.count("/") == 1


def test_concurrent_first_requests_compose_the_chains_once(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    app = Digwebs(tmp_path, debug=False)
    app.use(lambda ctx, next: next())
    app.add_route("/<int:n>", lambda n: str(n * 2))
    with ThreadPoolExecutor(max_workers=32) as pool:
        texts = list(pool.map(lambda n: app.test_client().get(f"/{n}").text, range(64)))
    assert texts == [str(n * 2) for n in range(64)]


def test_url_for_before_the_first_request_does_not_freeze_registration(app):
    app.add_route("/a", lambda: "a", name="a")
    assert app.url_for("a") == "/a"
    app.add_route("/b", lambda: "b", name="b")
    assert app.test_client().get("/b").text == "b"


def test_wrapping_wsgi_app_routes_calls_through_the_wrapper(app):
    app.add_route("/", lambda: "inner")
    seen = []
    inner = app.wsgi_app

    def outer(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app = outer
    assert app.test_client().get("/").text == "inner"
    assert seen == ["/"]
    assert isinstance(app, Digwebs)


def test_query_with_one_pair_or_a_bare_key(app):
    with app.test_request_context("/?limit=10"):
        assert request.query.to_dict() == {"limit": "10"}
    with app.test_request_context("/?flag"):
        assert request.query.getlist("flag") == [""]
    with app.test_request_context("/"):
        assert request.query.to_dict() == {}


# -- one dispatch routine, app state off the router's Rule (issue 10 items 1-2) --


def _count_lookups(app):
    """Count the calls of the matcher ``app`` compiles when it composes its chains."""
    calls = []
    compile_ = app.router.compile

    def compile_counting():
        lookup = compile_()

        def counting(method, path):
            calls.append((method, path))
            return lookup(method, path)

        return counting

    app.router.compile = compile_counting
    app.routes()  # composes the chains and compiles the matcher
    return calls


@pytest.mark.parametrize("global_middleware", [False, True])
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/only-post", 405),
        ("OPTIONS", "/only-post", 200),
        ("GET", "/dir", 308),
        ("GET", "/caf\u00e9", 308),
        ("GET", "/nothing", 404),
        ("GET", "/dir/", 200),
        ("POST", "/only-post", 200),
    ],
)
def test_the_router_is_asked_once_per_request(tmp_path, global_middleware, method, path, status):
    app = Digwebs(tmp_path, csrf_protection=False)
    app.add_route("/only-post", lambda: "posted", ["POST"], name="post")
    app.add_route("/dir/", lambda: "dir", name="dir")
    app.add_route("/caf\u00e9/", lambda: "dir", name="cafe")
    if global_middleware:
        app.use(lambda ctx, next: next())
    calls = _count_lookups(app)
    res = app.test_client().open(path, method=method, follow_redirects=False)
    assert res.status_code == status
    assert len(calls) == 1


def test_the_router_rule_holds_no_application_state(app):
    from digwebs.routing import Rule

    rule = Rule("/x", lambda: "x")
    assert not any(hasattr(rule, name) for name in ("chain", "direct", "is_api"))
    route = app.add_route("/x", lambda: "x")
    app.routes()
    assert isinstance(route, Rule)  # the router stores and returns it
    assert callable(route.chain) and callable(route.direct) and route.is_api is False


def test_load_lives_in_the_loading_module(project):
    from digwebs import loading

    root = project({"controllers/__init__.py": "", "controllers/home.py": HOME})
    app = Digwebs(root)
    assert loading.load(app) is app and app.load() is app
    assert app.test_client().get("/").data == b"home"


HOME = """
from digwebs import get

@get("/")
def index():
    return "home"
"""


@pytest.mark.parametrize("module", ["app", "urls", "error_handling", "error_pages"])
def test_the_application_modules_stay_short(module):
    # Issue 10: no module over about 500 lines; url_for and the error
    # handling left app.py for digwebs.urls and digwebs.error_handling.
    import importlib

    path = importlib.import_module(f"digwebs.{module}").__file__
    with open(path, encoding="utf-8") as f:
        assert sum(1 for _ in f) <= 500
