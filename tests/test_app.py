"""The Digwebs object: construction, config, registering on it, dispatching, its modules' size."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

import digwebs
from digwebs import Digwebs


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


def test_repr(app):
    assert repr(app) == f"<Digwebs {app.root_path!r}>"


def test_concurrent_first_requests_compose_the_chains_once(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    app = Digwebs(tmp_path, debug=False)
    app.use(lambda ctx, next: next())
    app.add_route("/<int:n>", lambda n: str(n * 2))
    with ThreadPoolExecutor(max_workers=32) as pool:
        texts = list(pool.map(lambda n: app.test_client().get(f"/{n}").text, range(64)))
    assert texts == [str(n * 2) for n in range(64)]


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


@pytest.mark.parametrize("module", ["app", "urls", "error_handling", "error_pages"])
def test_the_application_modules_stay_short(module):
    # Issue 10: no module over about 500 lines; url_for and the error
    # handling left app.py for digwebs.urls and digwebs.error_handling.
    import importlib

    path = importlib.import_module(f"digwebs.{module}").__file__
    with open(path, encoding="utf-8") as f:
        assert sum(1 for _ in f) <= 500
