"""load() (digwebs.loading): discovery of controllers/ and middlewares/, and the route table."""

from __future__ import annotations

import os
import sys

import pytest
from _helpers import CONTROLLERS

import digwebs
from digwebs import Digwebs, RouteInfo

HOME = """
from digwebs import get

@get("/")
def index():
    return "home"
"""


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


def test_load_registers_a_reexported_function_once(project):
    files = dict(CONTROLLERS)
    files["controllers/__init__.py"] = "from .home import index as index\n"
    app = Digwebs(project(files), debug=False).load()
    paths = [r.path for r in app.routes()]
    assert len(paths) == 5 and paths.count("/") == 1


def test_load_lives_in_the_loading_module(project):
    from digwebs import loading

    root = project({"controllers/__init__.py": "", "controllers/home.py": HOME})
    app = Digwebs(root)
    assert loading.load(app) is app and app.load() is app
    assert app.test_client().get("/").data == b"home"
