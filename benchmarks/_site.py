"""The ``site`` row of inproc.py: the generated project's home page as served in production.

Issue 12 ("the defaults cost little"): the page that ``digwebs new`` writes,
rendered by the project itself with ``--env production`` (a real secret,
``allowed_hosts``, the project's middleware, the session read that
``get_flashed_messages`` does, CSRF, the security headers, its jinja
templates), against

* ``flask``: Flask serving the same page the way a Flask user would: the same
  ``views/`` templates through ``render_template``, Flask's cookie session, an
  ``after_request`` hook setting the same security headers;
* ``digwebs-off``: the same digwebs project with the protections off
  (``csrf_protection = false``, every ``security_headers`` value ``""``,
  ``allowed_hosts = []``);
* ``raw``: the fastest correct WSGI code sending the same bytes: the same
  templates compiled once, URLs computed at start-up, the headers a
  constant.

Every contender must send the same body bytes (checked before timing), and
the request carries a signed session cookie each framework can read. Whatever
the framework does at run time is measured: the row builds the project with
the digwebs of this checkout and asks it for its own security headers.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import typing as t
from contextlib import contextmanager
from pathlib import Path

SECRET = "b" * 64
HOST = "127.0.0.1"
#: Flask's session cookie is renamed so that both cookies fit one Cookie header
FLASK_COOKIE = "flask_session"
SESSION_DATA = {"user": "ada", "visits": 3}
OFF_ENV = {
    "DIGWEBS_CSRF_PROTECTION": "false",
    "DIGWEBS_ALLOWED_HOSTS": "[]",
    "DIGWEBS_SECURITY_HEADERS__X_CONTENT_TYPE_OPTIONS": "",
    "DIGWEBS_SECURITY_HEADERS__REFERRER_POLICY": "",
    "DIGWEBS_SECURITY_HEADERS__X_FRAME_OPTIONS": "",
    "DIGWEBS_SECURITY_HEADERS__STRICT_TRANSPORT_SECURITY": "",
}
PRODUCTION_ENV = {
    "DIGWEBS_ENV": "production",
    "DIGWEBS_SECRET_KEY": SECRET,
    "DIGWEBS_ALLOWED_HOSTS": f'["{HOST}"]',
}
# the project's own headers, shown in the row's notes (set by security_headers())
_PROJECT: dict[str, t.Any] = {}


def project() -> Path:
    """A project made by ``digwebs new`` in a temporary folder (once per process)."""
    if "path" in _PROJECT:
        return t.cast(Path, _PROJECT["path"])
    base = Path(tempfile.mkdtemp(prefix="digwebs-bench-site-"))
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGWEBS_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    env["HOME"] = str(base)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "digwebs_cli",
            "new",
            "site",
            "--no-input",
            "--output-dir",
            str(base),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"digwebs new failed: {(proc.stdout + proc.stderr)[-500:]}")
    _PROJECT["path"] = base / "site"
    return base / "site"


@contextmanager
def _environment(values: dict[str, str]) -> t.Iterator[None]:
    """Set *values* (and no other DIGWEBS_* variable) while the app is built."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("DIGWEBS_")}
    for k in saved:
        del os.environ[k]
    os.environ.update(values)
    try:
        yield
    finally:
        for k in values:
            os.environ.pop(k, None)
        os.environ.update(saved)


def _load_digwebs(extra: dict[str, str]) -> t.Any:
    from digwebs import Digwebs

    folder = project()
    with _environment({**PRODUCTION_ENV, **extra}):
        app = Digwebs(root_path=str(folder)).load()
    return app


def digwebs_app(protected: bool = True) -> t.Any:
    """The generated project's app in production; *protected* False: the protections off."""
    return _load_digwebs({} if protected else OFF_ENV)


def digwebs_cookie(app: t.Any) -> tuple[str, str]:
    """A session cookie the digwebs app accepts: (name, value)."""
    from itsdangerous import URLSafeTimedSerializer

    from digwebs import sessions

    serializer = URLSafeTimedSerializer(str(app.config["secret_key"]), salt=sessions._SALT)
    return str(app.config["session_cookie_name"]), serializer.dumps(SESSION_DATA)


def security_headers() -> list[tuple[str, str]]:
    """The security headers the production project sends on an http page, as digwebs
    answers them (asked once; what Flask's hook and the raw app then send)."""
    if "headers" not in _PROJECT:
        app = digwebs_app()
        status, headers, _body = _call(app, _page_environ(app))
        names = {
            "x-content-type-options",
            "referrer-policy",
            "x-frame-options",
            "strict-transport-security",
            "content-security-policy",
            "cross-origin-opener-policy",
            "permissions-policy",
        }
        _PROJECT["headers"] = [(k, v) for k, v in headers if k.lower() in names]
    return t.cast(list[tuple[str, str]], _PROJECT["headers"])


def _call(app: t.Any, environ: dict[str, t.Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    import io

    got: dict[str, t.Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Any:
        got["status"], got["headers"] = status, headers
        return None

    env = dict(environ)
    env["wsgi.input"] = io.BytesIO(b"")
    body = app(env, start_response)
    try:
        out = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return got["status"], list(got["headers"]), out


def _page_environ(app: t.Any) -> dict[str, t.Any]:
    import sys as _sys

    name, value = digwebs_cookie(app)
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": HOST,
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": HOST,
        "HTTP_HOST": f"{HOST}:8000",
        "HTTP_COOKIE": f"{name}={value}",
        "wsgi.url_scheme": "http",
        "wsgi.errors": _sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


# -- what every contender renders --------------------------------------------------

ENDPOINTS = {
    "home.index": "/",
    "contact.form": "/contact",
    "api.status": "/api/status",
    "api.items": "/api/items",
}
STATIC = ("favicon.ico", "css/site.css", "images/logo.svg", "js/site.js")


def static_urls() -> dict[str, str]:
    """``static_url(path)`` of the project's files, as digwebs computes them."""
    from digwebs import static as dstatic

    app = digwebs_app()
    with app.test_request_context("/") if hasattr(app, "test_request_context") else _null():
        try:
            return {p: dstatic.static_url(p) for p in STATIC}
        except Exception:  # no request context API: hash the files ourselves
            return {p: f"/static/{p}?v={_hash(project() / 'static' / p)}" for p in STATIC}


@contextmanager
def _null() -> t.Iterator[None]:
    yield


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def index_context() -> dict[str, t.Any]:
    """The home page's context, from the project's own controller."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_site_home", project() / "controllers" / "home.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = module.index
    fn = getattr(fn, "__wrapped__", fn)
    return t.cast(dict[str, t.Any], fn())


def site_title() -> str:
    import tomllib

    with open(project() / "config" / "default.toml", "rb") as fh:
        return str(tomllib.load(fh).get("site_title") or "digwebs")


def raw_app() -> t.Callable[..., t.Any]:
    """The fastest correct WSGI app for the page: templates compiled once, URLs
    and headers computed at start-up; the request's path picks the page."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(project() / "views")), autoescape=True
    )
    urls = static_urls()

    class _Request:
        path = "/"

    env.globals.update(
        url_for=ENDPOINTS.__getitem__,
        static_url=urls.__getitem__,
        config={"site_title": site_title()},
        request=_Request(),
        get_flashed_messages=lambda: [],
    )
    template = env.get_template("index.html")
    context = index_context()
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        *security_headers(),
        ("Vary", "Cookie"),
    ]

    def app(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> list[bytes]:
        if environ["PATH_INFO"] != "/":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        # the page is rendered per request, as every framework here does
        body = template.render(context).encode("utf-8")
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return app


def flask_app() -> t.Any:
    """The same page from Flask, written as a Flask user would."""
    from flask import Blueprint, Flask, render_template

    app = Flask(
        "bench_site",
        template_folder=str(project() / "views"),
        static_folder=str(project() / "static"),
    )
    app.config.update(SECRET_KEY=SECRET, SESSION_COOKIE_NAME=FLASK_COOKIE, site_title=site_title())
    urls = static_urls()
    app.jinja_env.globals["static_url"] = urls.__getitem__
    context = index_context()
    home, contact, api = (
        Blueprint("home", "home"),
        Blueprint("contact", "contact"),
        Blueprint("api", "api"),
    )

    @home.get("/")
    def index() -> str:
        return render_template("index.html", **context)

    @contact.get("/contact")
    def form() -> str:
        return ""

    @api.get("/api/status")
    def status() -> str:
        return ""

    @api.get("/api/items")
    def items() -> str:
        return ""

    for bp in (home, contact, api):
        app.register_blueprint(bp)
    headers = security_headers()

    @app.after_request
    def add_security_headers(response: t.Any) -> t.Any:
        for name, value in headers:
            response.headers[name] = value
        return response

    return app


def flask_cookie(app: t.Any) -> tuple[str, str]:
    """A session cookie Flask's app accepts: (name, value)."""
    serializer = app.session_interface.get_signing_serializer(app)
    return FLASK_COOKIE, serializer.dumps(SESSION_DATA)


def expected_body() -> bytes:
    """The page's bytes, as the raw app sends them (computed once)."""
    if "body" not in _PROJECT:
        app = digwebs_app()
        _PROJECT["body"] = _call(raw_app(), _page_environ(app))[2]
    return t.cast(bytes, _PROJECT["body"])


def digwebs_cookie_static() -> tuple[str, str]:
    """digwebs' session cookie for :data:`SECRET` without building the app (name, value)."""
    from itsdangerous import URLSafeTimedSerializer

    from digwebs import sessions
    from digwebs.config import DEFAULTS

    serializer = URLSafeTimedSerializer(SECRET, salt=sessions._SALT)
    return str(DEFAULTS["session_cookie_name"]), serializer.dumps(SESSION_DATA)


def flask_cookie_static() -> tuple[str, str]:
    """Flask's session cookie for :data:`SECRET` (name, value)."""
    from flask import Flask

    app = Flask("bench_site_cookie")
    app.config.update(SECRET_KEY=SECRET, SESSION_COOKIE_NAME=FLASK_COOKIE)
    return flask_cookie(app)
