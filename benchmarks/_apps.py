"""WSGI applications for the in-process benchmark (``benchmarks/inproc.py``).

Every contender builds, for every scenario, an application doing the *same
work* as the hand-written raw WSGI app: the raw app is the floor each framework
is measured against.  Framework imports are local to the builders so that a
missing or broken framework only fails its own cells.

Builders are methods named after the scenario kind: ``hello()``,
``routes(n)``, ``json()``, ``template(views)``, ``notfound()``,
``form_post()``.  A builder raises :class:`Skip` when a contender cannot take
part in a scenario (reported as "skip", not as a failure).
"""

from __future__ import annotations

import binascii
import codecs
import json as _json
import os
from urllib.parse import unquote_plus, unquote_to_bytes

# --------------------------------------------------------------------------
# Shared scenario data
# --------------------------------------------------------------------------

BODY_10K = b"0123456789abcdef" * 640  # 10 KiB
assert len(BODY_10K) == 10240

HELLO_ACCOUNT = "12345"
HELLO_LIMIT = "10"

JSON_ITEM_ID = 42


def json_item(item_id: int) -> dict:
    """The small dict every json handler returns (built per request)."""
    return {
        "id": item_id,
        "name": f"item-{item_id}",
        "price": 9.99,
        "tags": ["alpha", "beta"],
        "in_stock": True,
    }


TEMPLATE_NAME = "page.html"
TEMPLATE_SOURCE = """\
<!doctype html>
<html>
<head><title>{{ title }}</title></head>
<body>
<h1>{{ title }}</h1>
<ul class="items">
{% for item in items %}
  <li id="item-{{ item.id }}"><a href="/items/{{ item.id }}">{{ item.name }}</a>
    <span class="price">{{ item.price }}</span>{% if item.sale %} <em>sale</em>{% endif %}</li>
{% endfor %}
</ul>
<p>{{ items|length }} items</p>
</body>
</html>
"""
TEMPLATE_TITLE = "Items & <things>"
TEMPLATE_ITEMS = [
    {"id": i, "name": f"<item {i} & co>", "price": f"{i * 1.25:.2f}", "sale": i % 3 == 0}
    for i in range(20)
]

FORM_FIELDS = [
    ("a", "1"),
    ("b", "h%C3%A9llo+w%C3%B6rld"),
    ("c", "3"),
    ("d", "four+and+more"),
    ("e", "x%26y%3Dz"),
]
FORM_BODY = "&".join(f"{k}={v}" for k, v in FORM_FIELDS).encode("ascii")
FORM_EXPECTED = "a=1;b=héllo wörld".encode()

NOTFOUND_ROUTES = 8  # the notfound app has this many REST routes plus /hello and /api/items

# Route table shapes, cycled by index i.  For n divisible by 4 the last route
# registered is the parameterised "issues" route, the last static one is the
# "orgs" route two before it.
#   0 static  /repos/static/k{i}/list
#   1 param   /users/<user>/k{i}/repos
#   2 static  /orgs/static/k{i}/members
#   3 param   /repos/<owner>/<repo>/issues/<int:number>/k{i}
_ROUTE_SYNTAX = {
    # style: (static0, users, static2, issues)
    "flask": (
        "/repos/static/k{i}/list",
        "/users/<user>/k{i}/repos",
        "/orgs/static/k{i}/members",
        "/repos/<owner>/<repo>/issues/<int:number>/k{i}",
    ),
    "bottle": (
        "/repos/static/k{i}/list",
        "/users/<user>/k{i}/repos",
        "/orgs/static/k{i}/members",
        "/repos/<owner>/<repo>/issues/<number:int>/k{i}",
    ),
    "falcon": (
        "/repos/static/k{i}/list",
        "/users/{{user}}/k{i}/repos",
        "/orgs/static/k{i}/members",
        "/repos/{{owner}}/{{repo}}/issues/{{number:int}}/k{i}",
    ),
}
_ROUTE_SYNTAX["digwebs"] = _ROUTE_SYNTAX["flask"]
KIND_STATIC0, KIND_USERS, KIND_STATIC2, KIND_ISSUES = range(4)


def route_table(n: int, style: str) -> list[tuple[int, int, str]]:
    """[(i, kind, rule)] in registration order, in the syntax of ``style``."""
    shapes = _ROUTE_SYNTAX[style]
    return [(i, i % 4, shapes[i % 4].format(i=i)) for i in range(n)]


def route_hits(n: int) -> dict[str, tuple[str, bytes]]:
    """The two requests of a routesN scenario: path -> expected body."""
    assert n % 4 == 0 and n >= 4
    last = n - 1  # KIND_ISSUES
    static = n - 2  # KIND_STATIC2
    return {
        "last": (
            f"/repos/octocat/hello-world/issues/42/k{last}",
            f"octocat/hello-world#42 k{last}".encode(),
        ),
        "static": (f"/orgs/static/k{static}/members", f"static k{static}".encode()),
    }


def _static_text(i: int) -> str:
    return f"static k{i}"


def _users_text(user: str, i: int) -> str:
    return f"user {user} k{i}"


def _issues_text(owner: str, repo: str, number: int, i: int) -> str:
    # ":d" fails on a str, so a router that forgets the int conversion answers 500.
    return f"{owner}/{repo}#{number:d} k{i}"


class Skip(Exception):
    """The contender does not take part in this scenario."""


# The raw apps decode as digwebs and werkzeug do: "+" is a space, escapes
# are UTF-8, bytes of escapes that are not UTF-8 stay %XX, invalid escapes
# stay as they are, and a repeated key gives its first value.
def _requote(exc):
    bad = exc.object[exc.start : exc.end]
    return "".join(f"%{b:02X}" for b in bad), exc.end


codecs.register_error("bench.requote", _requote)


def query_get(qs: str, name: str, default: str) -> str:
    """The raw apps' query parse: the first value of one parameter, decoded.

    Lazy: nothing but that one value is decoded; without "%" or "+" in the
    query (the usual case) it is found by str.find alone.
    """
    if "%" in qs or "+" in qs:
        for part in qs.split("&"):
            key, _, val = part.partition("=")
            if part and unquote_plus(key, errors="bench.requote") == name:
                return unquote_plus(val, errors="bench.requote")
        return default
    n = len(name)
    i = 0
    while True:
        if qs.startswith(name, i):
            end = i + n
            if end == len(qs) or qs[end] == "&":
                return ""
            if qs[end] == "=":
                stop = qs.find("&", end)
                return qs[end + 1 :] if stop < 0 else qs[end + 1 : stop]
        i = qs.find("&", i) + 1
        if i == 0:
            return default


_TO_QP = bytes.maketrans(b"=%+\r\n", b"\x00= \x01\x01")


def form_value(value: bytes) -> str:
    """One urlencoded value (bytes of a valid UTF-8 body), decoded.

    Percent escapes in one C call (binascii.a2b_qp reads "=XX"), falling
    back to urllib for anything it would read differently.
    """
    if value.find(b"%") < 0:
        return value.replace(b"+", b" ").decode("utf-8")
    raw = binascii.a2b_qp(value.translate(_TO_QP))
    if (
        len(raw) == len(value) - 2 * value.count(b"%")
        and raw.count(b"\x00") == value.count(b"=")
        and raw.count(b"\x01") == 0
    ):
        return raw.replace(b"\x00", b"=").decode("utf-8", "bench.requote")
    return unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8", "bench.requote")


def form_fields(body: bytes, names: tuple[str, ...]) -> dict[str, str] | None:
    """The first value of each of ``names`` in an urlencoded body; None if the
    body is not UTF-8 (digwebs answers 400).

    Lazy: the body is split once and walked only until every name is found;
    only the values asked for are decoded; keys only when they hold "%"/"+".
    """
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    wanted = {name.encode(): name for name in names} if all(n.isascii() for n in names) else {}
    found: dict[str, str] = {}
    for pair in body.split(b"&"):
        key, _, value = pair.partition(b"=")
        if key.find(b"%") >= 0 or key.find(b"+") >= 0:
            name = form_value(key)
        else:
            name = wanted.get(key)
            if name is None:
                continue
        if name in names and name not in found:
            found[name] = form_value(value)
            if len(found) == len(names):
                break
    return found


def _jinja_env(views: str):
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(views), autoescape=True)


# --------------------------------------------------------------------------
# raw: hand-written WSGI, the floor
# --------------------------------------------------------------------------


class RawApps:
    name = "raw"

    def hello(self):
        body = BODY_10K
        clen = str(len(body))

        def app(environ, start_response):
            path = environ["PATH_INFO"]
            if path.startswith("/hello/") and path.endswith("/test"):
                account_id = path[7:-5]
                if not account_id.isascii():  # WSGI: UTF-8 bytes as latin-1
                    account_id = account_id.encode("latin-1").decode("utf-8", "replace")
                if account_id and "/" not in account_id:
                    ua = environ.get("HTTP_USER_AGENT")
                    if not ua:
                        start_response("400 Bad Request", [("Content-Type", "text/plain")])
                        return [b"no user agent"]
                    limit = query_get(environ.get("QUERY_STRING", ""), "limit", "10")
                    start_response(
                        "200 OK",
                        [
                            ("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", clen),
                            ("X-Account", account_id),
                            ("X-Limit", limit),
                        ],
                    )
                    return [body]
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]

        return app

    def routes(self, n):
        static: dict[str, bytes] = {}
        users: dict[str, int] = {}
        issues: dict[str, int] = {}
        for i, kind, rule in route_table(n, "flask"):
            if kind in (KIND_STATIC0, KIND_STATIC2):
                static[rule] = _static_text(i).encode()
            elif kind == KIND_USERS:
                users[f"k{i}"] = i
            else:
                issues[f"k{i}"] = i

        def text(body, start_response):
            start_response(
                "200 OK",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]

        def app(environ, start_response):
            path = environ["PATH_INFO"]
            if not path.isascii():  # WSGI: the path's UTF-8 bytes as latin-1
                path = path.encode("latin-1").decode("utf-8", "replace")
            if environ["REQUEST_METHOD"] in ("GET", "HEAD"):
                body = static.get(path)
                if body is not None:
                    return text(body, start_response)
                parts = path.split("/")
                nparts = len(parts)
                if nparts == 7 and parts[1] == "repos" and parts[4] == "issues":
                    i = issues.get(parts[6])
                    if (
                        i is not None
                        and parts[2]
                        and parts[3]
                        and parts[5].isascii()
                        and parts[5].isdigit()
                    ):
                        return text(
                            _issues_text(parts[2], parts[3], int(parts[5]), i).encode(),
                            start_response,
                        )
                elif nparts == 5 and parts[1] == "users" and parts[4] == "repos":
                    i = users.get(parts[3])
                    if i is not None and parts[2]:
                        return text(_users_text(parts[2], i).encode(), start_response)
            start_response(
                "404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")]
            )
            return [b"Not Found"]

        return app

    def json(self):
        # json.dumps without its keyword checks: the encoder it uses by default.
        dumps = _json.JSONEncoder().encode

        def app(environ, start_response):
            path = environ["PATH_INFO"]
            if path.startswith("/api/items/"):
                tail = path[11:]
                if tail.isascii() and tail.isdigit():
                    body = dumps(json_item(int(tail))).encode()
                    start_response(
                        "200 OK",
                        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                    )
                    return [body]
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]

        return app

    def template(self, views):
        tpl = _jinja_env(views).get_template(TEMPLATE_NAME)

        def app(environ, start_response):
            if environ["PATH_INFO"] == "/page":
                body = tpl.render(title=TEMPLATE_TITLE, items=TEMPLATE_ITEMS).encode()
                start_response(
                    "200 OK",
                    [
                        ("Content-Type", "text/html; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                    ],
                )
                return [body]
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]

        return app

    def notfound(self):
        # Same dispatch as the routes app, plus the hello and json routes.
        routes = self.routes(NOTFOUND_ROUTES)
        hello = self.hello()
        items = self.json()

        def app(environ, start_response):
            path = environ["PATH_INFO"]
            if path.startswith("/hello/"):
                return hello(environ, start_response)
            if path.startswith("/api/items/"):
                return items(environ, start_response)
            return routes(environ, start_response)

        return app

    def form_post(self):
        names = ("a", "b")

        def app(environ, start_response):
            if environ["PATH_INFO"] == "/form" and environ["REQUEST_METHOD"] == "POST":
                ctype = environ.get("CONTENT_TYPE", "")
                if ctype.startswith("application/x-www-form-urlencoded"):
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    form = form_fields(environ["wsgi.input"].read(length), names)
                    if form is None or len(form) < 2:
                        start_response("400 Bad Request", [("Content-Type", "text/plain")])
                        return [b"Bad Request"]
                    body = f"a={form['a']};b={form['b']}".encode()
                    start_response(
                        "200 OK",
                        [
                            ("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body))),
                        ],
                    )
                    return [body]
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]

        return app


def _raw_site(self):
    """The site row's raw app: the same page bytes, nothing else (benchmarks/_site.py)."""
    import _site

    return _site.raw_app()


RawApps.site = _raw_site  # type: ignore[attr-defined]


class _FrameworkApps:
    """The hello, routes, json and notfound builders, shared by the frameworks.

    A framework contender supplies ``_app()`` (a new, empty application) and
    the route adders ``_add_hello(app)``, ``_add_json(app)`` and
    ``_add_routes(app, n)``; the notfound app is all three on one application.
    ``template(views)`` and ``form_post()`` stay with each contender.
    """

    def hello(self):
        app = self._app()
        self._add_hello(app)
        return app

    def routes(self, n):
        app = self._app()
        self._add_routes(app, n)
        return app

    def json(self):
        app = self._app()
        self._add_json(app)
        return app

    def notfound(self):
        app = self._app()
        self._add_hello(app)
        self._add_json(app)
        self._add_routes(app, NOTFOUND_ROUTES)
        return app

    def site(self):
        """The generated project's home page (benchmarks/_site.py); not every contender."""
        raise Skip(f"{self.name}: the site row compares digwebs with Flask only")


# --------------------------------------------------------------------------
# falcon
# --------------------------------------------------------------------------


class FalconApps(_FrameworkApps):
    name = "falcon"

    def _app(self):
        import falcon

        return falcon.App()

    def _add_hello(self, app):
        import falcon

        body = BODY_10K

        class Hello:
            def on_get(self, req, resp, account_id):
                ua = req.user_agent
                if not ua:
                    raise falcon.HTTPBadRequest(title="no user agent")
                limit = req.get_param("limit") or "10"
                resp.content_type = falcon.MEDIA_TEXT
                resp.data = body
                resp.set_header("X-Account", account_id)
                resp.set_header("X-Limit", limit)

        app.add_route("/hello/{account_id}/test", Hello())

    def _add_json(self, app):
        class Item:
            def on_get(self, req, resp, item_id):
                resp.media = json_item(item_id)

        app.add_route("/api/items/{item_id:int}", Item())

    def _add_routes(self, app, n):
        import falcon

        text_type = falcon.MEDIA_TEXT

        class Static:
            def __init__(self, i):
                self.data = _static_text(i).encode()

            def on_get(self, req, resp):
                resp.content_type = text_type
                resp.data = self.data

        class Users:
            def __init__(self, i):
                self.i = i

            def on_get(self, req, resp, user):
                resp.content_type = text_type
                resp.text = _users_text(user, self.i)

        class Issues:
            def __init__(self, i):
                self.i = i

            def on_get(self, req, resp, owner, repo, number):
                resp.content_type = text_type
                resp.text = _issues_text(owner, repo, number, self.i)

        for i, kind, rule in route_table(n, "falcon"):
            res = {
                KIND_STATIC0: Static,
                KIND_STATIC2: Static,
                KIND_USERS: Users,
                KIND_ISSUES: Issues,
            }[kind](i)
            app.add_route(rule, res)

    def template(self, views):
        import falcon

        tpl = _jinja_env(views).get_template(TEMPLATE_NAME)

        class Page:
            def on_get(self, req, resp):
                resp.content_type = falcon.MEDIA_HTML
                resp.text = tpl.render(title=TEMPLATE_TITLE, items=TEMPLATE_ITEMS)

        app = self._app()
        app.add_route("/page", Page())
        return app

    def form_post(self):
        import falcon

        class Form:
            def on_post(self, req, resp):
                form = req.get_media()  # URLEncodedFormHandler, a default media handler
                resp.content_type = falcon.MEDIA_TEXT
                resp.text = f"a={form['a']};b={form['b']}"

        app = self._app()
        app.add_route("/form", Form())
        return app


# --------------------------------------------------------------------------
# bottle
# --------------------------------------------------------------------------


class BottleApps(_FrameworkApps):
    name = "bottle"

    def _app(self):
        import bottle

        return bottle.Bottle()

    def _add_hello(self, app):
        import bottle

        request, response, body = bottle.request, bottle.response, BODY_10K

        def hello(account_id):
            ua = request.get_header("User-Agent")
            if not ua:
                bottle.abort(400, "no user agent")
            limit = request.query.get("limit", "10")
            response.content_type = "text/plain; charset=utf-8"
            response.set_header("X-Account", account_id)
            response.set_header("X-Limit", limit)
            return body

        app.route("/hello/<account_id>/test", "GET", hello)

    def _add_json(self, app):
        def item(item_id):
            return json_item(item_id)

        app.route("/api/items/<item_id:int>", "GET", item)

    def _add_routes(self, app, n):
        import bottle

        response = bottle.response

        def make(i, kind):
            if kind in (KIND_STATIC0, KIND_STATIC2):
                data = _static_text(i).encode()

                def static():
                    response.content_type = "text/plain; charset=utf-8"
                    return data

                return static
            if kind == KIND_USERS:

                def users(user):
                    response.content_type = "text/plain; charset=utf-8"
                    return _users_text(user, i)

                return users

            def issues(owner, repo, number):
                response.content_type = "text/plain; charset=utf-8"
                return _issues_text(owner, repo, number, i)

            return issues

        for i, kind, rule in route_table(n, "bottle"):
            app.route(rule, "GET", make(i, kind), name=f"r{i}")

    def template(self, views):
        import bottle

        lookup = [views + os.sep]  # the same list object every call: bottle caches by id()
        settings = {"autoescape": True}

        def page():
            return bottle.jinja2_template(
                TEMPLATE_NAME,
                template_lookup=lookup,
                template_settings=settings,
                title=TEMPLATE_TITLE,
                items=TEMPLATE_ITEMS,
            )

        app = self._app()
        app.route("/page", "GET", page)
        return app

    def form_post(self):
        import bottle

        request, response = bottle.request, bottle.response

        def form():
            forms = request.forms
            response.content_type = "text/plain; charset=utf-8"
            return f"a={forms.getunicode('a')};b={forms.getunicode('b')}"

        app = self._app()
        app.route("/form", "POST", form)
        return app


# --------------------------------------------------------------------------
# flask
# --------------------------------------------------------------------------


def _tuple_route_handler(i, kind):
    """Handler for route i of route_table, returning (body, status, headers).

    Flask and digwebs accept the same handler shape, so both use these.
    """
    text = {"Content-Type": "text/plain; charset=utf-8"}
    if kind in (KIND_STATIC0, KIND_STATIC2):
        data = _static_text(i).encode()

        def static():
            return data, 200, text

        return static
    if kind == KIND_USERS:

        def users(user):
            return _users_text(user, i), 200, text

        return users

    def issues(owner, repo, number):
        return _issues_text(owner, repo, number, i), 200, text

    return issues


class FlaskApps(_FrameworkApps):
    name = "flask"

    def site(self):
        import _site

        return _site.flask_app()

    def _app(self, **kw):
        import flask

        return flask.Flask("bench_flask_app", root_path=os.path.dirname(__file__), **kw)

    def _add_hello(self, app):
        from flask import abort, request

        body = BODY_10K

        @app.get("/hello/<account_id>/test")
        def hello(account_id):
            ua = request.headers.get("User-Agent")
            if not ua:
                abort(400)
            limit = request.args.get("limit", "10")
            return (
                body,
                200,
                {
                    "Content-Type": "text/plain; charset=utf-8",
                    "X-Account": account_id,
                    "X-Limit": limit,
                },
            )

    def _add_json(self, app):
        @app.get("/api/items/<int:item_id>")
        def item(item_id):
            return json_item(item_id)

    def _add_routes(self, app, n):
        make = _tuple_route_handler

        for i, kind, rule in route_table(n, "flask"):
            app.add_url_rule(rule, endpoint=f"r{i}", view_func=make(i, kind), methods=["GET"])

    def template(self, views):
        from flask import render_template

        app = self._app(template_folder=views)

        @app.get("/page")
        def page():
            return render_template(TEMPLATE_NAME, title=TEMPLATE_TITLE, items=TEMPLATE_ITEMS)

        return app

    def form_post(self):
        from flask import request

        app = self._app()

        @app.post("/form")
        def form():
            f = request.form
            return f"a={f['a']};b={f['b']}", 200, {"Content-Type": "text/plain; charset=utf-8"}

        return app


# --------------------------------------------------------------------------
# digwebs (see docs/CONTRACT.md)
# --------------------------------------------------------------------------


class DigwebsApps(_FrameworkApps):
    name = "digwebs"

    def site(self):
        """The generated project itself, loaded in production with its protections on."""
        import _site

        return _site.digwebs_app(protected=True)

    def __init__(self, root_path: str):
        # root_path holds views/ (the template scenario); the benchmark never calls load().
        self.root_path = root_path

    def _app(self):
        import secrets

        from digwebs import Digwebs

        # As deployed: production (debug off, templates compiled once, no per-request
        # stat of errors/404.html), like the other frameworks' defaults.
        return Digwebs(
            root_path=self.root_path, env="production", secret_key=secrets.token_urlsafe(32)
        )

    @staticmethod
    def _named(fn, name):
        # Route endpoint names default to module.function: give each generated
        # handler its own name so 1000 closures do not collide.
        fn.__name__ = fn.__qualname__ = name
        return fn

    def _add_hello(self, app):
        from digwebs import abort, request

        body = BODY_10K

        @app.get("/hello/<account_id>/test")
        def hello(account_id):
            ua = request.headers.get("User-Agent")
            if not ua:
                abort(400)
            limit = request.query.get("limit", "10")
            return (
                body,
                200,
                {
                    "Content-Type": "text/plain; charset=utf-8",
                    "X-Account": account_id,
                    "X-Limit": limit,
                },
            )

    def _add_json(self, app):
        @app.get("/api/items/<int:item_id>")
        def item(item_id):
            return json_item(item_id)

    def _add_routes(self, app, n):
        make = _tuple_route_handler

        for i, kind, rule in route_table(n, "digwebs"):
            app.get(rule)(self._named(make(i, kind), f"r{i}"))

    def template(self, views):
        import digwebs

        render = getattr(digwebs, "render", None)
        if render is None:
            raise Skip("digwebs.render is not available yet (templates come in a later issue)")
        if os.path.realpath(views) != os.path.realpath(os.path.join(self.root_path, "views")):
            raise Skip(f"views folder {views} is not <root_path>/views")
        app = self._app()

        @app.get("/page")
        def page():
            return render(TEMPLATE_NAME, title=TEMPLATE_TITLE, items=TEMPLATE_ITEMS)

        return app

    def form_post(self):
        from digwebs import request

        app = self._app()

        @app.post("/form")
        def form():
            f = request.form
            return f"a={f['a']};b={f['b']}", 200, {"Content-Type": "text/plain; charset=utf-8"}

        return app


class DigwebsOffApps:
    """digwebs with the protections off; takes part in the site row only."""

    name = "digwebs-off"

    def site(self):
        import _site

        return _site.digwebs_app(protected=False)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def skip(*args, **kwargs):
            raise Skip("digwebs-off runs in the site row only")

        return skip
