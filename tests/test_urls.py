"""url_for (digwebs.urls): the router's path, then the query, the mount point and the fragment.

Also the names routes get by default, and the names they had before issue 10
(``controllers.home.index``), which still build, with a warning.
"""

from __future__ import annotations

import pytest
from _helpers import CONTROLLERS, echo_params

from digwebs import Digwebs, url_for
from digwebs.routing import BuildError, Router, Rule


def test_url_for_fills_params_and_puts_extras_in_the_query(app):
    app.add_route("/posts/<int:id>/<slug>", echo_params, name="post")
    assert app.url_for("post", id=3, slug="hi") == "/posts/3/hi"
    assert app.url_for("post", id=3, slug="a b/c", q="x&y=z", tag=["a", "b"]) == (
        "/posts/3/a%20b%2Fc?q=x%26y%3Dz&tag=a&tag=b"
    )
    assert app.url_for("post", id=1, slug="s", _anchor="top") == "/posts/1/s#top"


def test_url_for_default_names_and_short_names(app):
    def listing():
        return ""

    app.add_route("/list", listing)
    assert app.routes()[0].name == f"{__name__}.{listing.__qualname__}"
    assert app.url_for(f"{__name__}.{listing.__qualname__}") == "/list"
    assert app.url_for("listing") == "/list"


def test_url_for_errors(app):
    app.add_route("/p/<int:id>", echo_params, name="p")
    with pytest.raises(BuildError, match="missing value for 'id'"):
        app.url_for("p")
    with pytest.raises(BuildError, match="no route is named"):
        app.url_for("nope")


def test_url_for_function_uses_the_current_app(app, client):
    app.add_route("/p/<path:rest>", echo_params, name="p")

    @app.get("/")
    def index():
        return url_for("p", rest="a b/c")

    assert client.get("/").text == "/p/a%20b/c"


def test_url_for_inside_a_mounted_app_includes_script_name(app):
    app.add_route("/p", echo_params, name="p")
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/mnt"}):
        assert url_for("p") == "/mnt/p"


# -- issue 9: url_for ---------------------------------------------------------


def test_url_for_takes_a_parameter_called_name(app, client):
    @app.get("/hello/<name>")
    def hello(name):
        return url_for("hello", name=name)

    assert app.url_for("hello", name="x") == "/hello/x"
    assert client.get("/hello/ann").text == "/hello/ann"
    router = Router()
    router.add(Rule("/s/<self>/<name>/<values>", "e", name="r"))
    assert router.build("r", {"self": 1, "name": 2, "values": 3}) == "/s/1/2/3"


# -- route names: the default one, and the names from before issue 10 ---------


def test_a_handler_outside_controllers_keeps_its_module_in_the_name():
    app = Digwebs(root_path="/nonexistent-root")

    @app.get("/x")
    def handler() -> str:
        return "x"

    name = app.routes()[0].name
    assert name.startswith(f"{__name__}.test_") and name.endswith(".<locals>.handler")


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


# -- building a URL does not close registration ------------------------------


def test_url_for_before_the_first_request_does_not_freeze_registration(app):
    app.add_route("/a", lambda: "a", name="a")
    assert app.url_for("a") == "/a"
    app.add_route("/b", lambda: "b", name="b")
    assert app.test_client().get("/b").text == "b"
