"""Koa-style middleware: order, short-circuit, prefixes, per-route @use, the route table."""

from __future__ import annotations

import sys
import textwrap

import pytest

from digwebs import Digwebs, Response, abort, g, middleware, request, use


def recorder(log, name):
    def mw(ctx, next):
        log.append(f"{name}>")
        resp = next()
        log.append(f"<{name}")
        return resp

    mw.__qualname__ = name
    return mw


def test_koa_style_before_and_after(app, client):
    def timing(ctx, next):
        ctx.started = "yes"
        resp = next()
        resp.headers["X-Started"] = ctx.started
        return resp

    app.use(timing)
    app.add_route("/", lambda: "body")
    r = client.get("/")
    assert (r.text, r.headers["X-Started"]) == ("body", "yes")


def test_lower_order_runs_outermost_and_router_innermost(app, client):
    log = []
    app.use(recorder(log, "c"), order=30)
    app.use(recorder(log, "a"), order=-10)
    app.use(recorder(log, "b"), order=0)
    app.use(recorder(log, "b2"), order=0)  # equal order: registration order

    @app.get("/")
    def index():
        log.append("handler")
        return "ok"

    client.get("/")
    assert log == ["a>", "b>", "b2>", "c>", "handler", "<c", "<b2", "<b", "<a"]


@pytest.mark.parametrize(
    ("value", "status", "text"),
    [
        ("denied", 200, "denied"),
        (("nope", 401), 401, "nope"),
        ({"error": "x"}, 200, '{"error":"x"}'),
        (Response(b"resp", 403), 403, "resp"),
    ],
)
def test_short_circuit_without_calling_next(app, client, value, status, text):
    calls = []
    app.use(lambda ctx, next: value)
    app.add_route("/", lambda: calls.append(1))
    r = client.get("/")
    assert (r.status_code, r.text, calls) == (status, text, [])


def test_middleware_can_replace_the_response(app, client):
    app.use(lambda ctx, next: Response(next().data.upper()))
    app.add_route("/", lambda: "quiet")
    assert client.get("/").text == "QUIET"


def test_global_middleware_wraps_404_and_405(app, client):
    def tag(ctx, next):
        resp = next()
        resp.headers["X-Seen"] = request.path
        return resp

    app.use(tag)
    app.add_route("/only-get", lambda: "x")
    r404, r405 = client.get("/missing"), client.post("/only-get")
    assert (r404.status_code, r404.headers["X-Seen"]) == (404, "/missing")
    assert (r405.status_code, r405.headers["X-Seen"]) == (405, "/only-get")


def test_global_middleware_sees_errors_raised_inside(app, client):
    seen = []

    def catcher(ctx, next):
        try:
            return next()
        except Exception as exc:
            seen.append(type(exc).__name__)
            raise

    app.use(catcher)
    app.add_route("/", lambda: 1 / 0)
    assert client.get("/").status_code == 500 and seen == ["ZeroDivisionError"]


def test_abort_in_middleware(app, client):
    app.use(lambda ctx, next: abort(403, "go away") if "X-Key" not in request.headers else next())
    app.add_route("/", lambda: "secret")
    r = client.get("/")
    assert (r.status_code, "go away" in r.text) == (403, True)
    assert client.get("/", headers={"X-Key": "1"}).text == "secret"


@pytest.mark.parametrize(
    ("path", "wrapped"),
    [
        ("/admin", True),
        ("/admin/users", True),
        ("/admin/a/b", True),
        ("/administrator", False),
        ("/", False),
    ],
)
def test_prefix_middleware_wraps_only_routes_under_it(app, client, path, wrapped):
    def admin_only(ctx, next):
        resp = next()
        resp.headers["X-Admin"] = "1"
        return resp

    app.use(admin_only, prefix="/admin")
    for i, rule in enumerate(["/admin", "/admin/users", "/admin/<path:p>", "/administrator", "/"]):
        app.add_route(rule, lambda **kw: "x", name=f"r{i}")
    r = client.get(path)
    assert r.status_code == 200 and ("X-Admin" in r.headers) is wrapped


def test_prefix_with_trailing_slash(app, client):
    app.use(lambda ctx, next: "blocked", prefix="/admin/")
    app.add_route("/admin/x", lambda: "x", name="x")
    app.add_route("/adminx", lambda: "y", name="y")
    assert (client.get("/admin/x").text, client.get("/adminx").text) == ("blocked", "y")


def test_prefix_middleware_runs_inside_global_whatever_its_order(app, client):
    log = []
    app.use(recorder(log, "global"), order=100)
    app.use(recorder(log, "prefix"), order=-100, prefix="/a")
    app.add_route("/a", lambda: log.append("handler"))
    client.get("/a")
    assert log == ["global>", "prefix>", "handler", "<prefix", "<global"]
    assert [m.scope for m in app.routes()[0].middleware] == ["global", "prefix"]


@pytest.mark.parametrize("placement", ["above", "below"])
def test_use_on_one_route_above_or_below_the_route_decorator(app, client, placement):
    log = []
    outer, inner = recorder(log, "outer"), recorder(log, "inner")

    def handler():
        log.append("handler")
        return "ok"

    if placement == "above":
        use(outer, inner)(app.get("/r")(handler))
    else:
        app.get("/r")(use(outer, inner)(handler))
    app.add_route("/plain", lambda: "plain", name="plain")
    assert client.get("/r").text == "ok" and client.get("/plain").text == "plain"
    assert log == ["outer>", "inner>", "handler", "<inner", "<outer"]


def test_stacked_use_topmost_runs_first(app, client):
    log = []

    @use(recorder(log, "first"))
    @app.get("/")
    @use(recorder(log, "second"), recorder(log, "third"))
    def index():
        return ""

    client.get("/")
    assert log[:3] == ["first>", "second>", "third>"]
    assert [m.name.rsplit(".", 1)[-1] for m in app.routes()[0].middleware] == [
        "first",
        "second",
        "third",
    ]


def test_use_with_module_level_decorators_and_g(app, client):
    def login(ctx, next):
        g.user = request.headers.get("X-User") or abort(401)
        return next()

    @use(login)
    def profile():
        return f"hi {g.user}"

    app.add_route("/me", profile)
    assert client.get("/me").status_code == 401
    assert client.get("/me", headers={"X-User": "ann"}).text == "hi ann"


def test_route_table_lists_each_chain_in_order_with_module_and_line(app):
    def glob(ctx, next):
        return next()

    def admin(ctx, next):
        return next()

    def per_route(ctx, next):
        return next()

    app.use(glob, order=1)
    app.use(admin, order=0, prefix="/admin")

    @app.get("/admin/x")
    @use(per_route)
    def x():
        return ""

    app.add_route("/y", lambda: "", name="y")
    chain_x, chain_y = (r.middleware for r in app.routes())
    assert [(m.name.rsplit(".", 1)[-1], m.scope, m.prefix, m.order) for m in chain_x] == [
        ("glob", "global", None, 1),
        ("admin", "prefix", "/admin", 0),
        ("per_route", "route", None, 0),
    ]
    assert [m.name.rsplit(".", 1)[-1] for m in chain_y] == ["glob"]
    assert {(m.module, m.file) for m in chain_x} == {(__name__, __file__)}
    assert chain_x[0].line == glob.__code__.co_firstlineno
    assert chain_x[2].line == per_route.__code__.co_firstlineno


def test_middleware_decorator_only_marks():
    @middleware(order=3, prefix="/p")
    def mw(ctx, next):
        return next()

    assert mw.__digwebs_middleware__ == {"order": 3, "prefix": "/p"}


def test_load_registers_middlewares_package_by_order(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    files = {
        "middlewares/__init__.py": "LOG = []\n",
        "middlewares/auth.py": """
            from digwebs import middleware
            from middlewares import LOG

            @middleware(order=20)
            def auth(ctx, next):
                LOG.append("auth")
                return next()

            @middleware(order=10, prefix="/admin")
            def admin(ctx, next):
                LOG.append("admin")
                return next()
            """,
        "middlewares/logging.py": """
            from digwebs import middleware
            from middlewares import LOG

            @middleware(order=-5)
            def log_requests(ctx, next):
                LOG.append("log")
                return next()
            """,
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    app = Digwebs(tmp_path, debug=False).load()
    app.add_route("/admin/x", lambda: "x", name="x")
    try:
        app.test_client().get("/admin/x")
        log = sys.modules["middlewares"].LOG
        assert log == ["log", "auth", "admin"]
        chain = app.routes()[0].middleware
        assert [m.name for m in chain] == [
            "middlewares.logging.log_requests",
            "middlewares.auth.auth",
            "middlewares.auth.admin",
        ]
        assert chain[1].file.endswith("auth.py") and chain[1].line == 5
    finally:
        for name in [m for m in sys.modules if m == "middlewares" or m.startswith("middlewares.")]:
            del sys.modules[name]
