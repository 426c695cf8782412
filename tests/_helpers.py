"""Plain helpers that several test modules share (the shared fixtures are in conftest.py).

Imported as ``_helpers``: pytest puts ``tests/`` on ``sys.path`` when it
loads ``tests/conftest.py`` (its default ``prepend`` import mode), for the
modules in the folders below too.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import typing as t
from pathlib import Path

from digwebs import Digwebs
from digwebs.routing import Router, Rule

if t.TYPE_CHECKING:
    from digwebs.testing import TestResponse

# -- routing --------------------------------------------------------------------------------

UUID_TEXT = "12345678-1234-5678-1234-567812345678"


def echo_params(**params: t.Any) -> dict[str, list[str]]:
    """A handler that answers its parameters: name -> [type name, str(value)]."""
    return {k: [type(v).__name__, str(v)] for k, v in params.items()}


def compiled_and_walk(*rules: tuple[str, tuple[str, ...]]) -> tuple[Router, t.Any]:
    """A router of ``(path, methods)`` rules, and its compiled lookup."""
    router = Router()
    for path, methods in rules:
        router.add(Rule(path, path, methods, path))
    return router, router.compile()


# -- loading --------------------------------------------------------------------------------

# A project's controllers/ (with a subpackage) and middlewares/: what load() finds.
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


# -- static files --------------------------------------------------------------------------

CSS = b"body { color: red }\n"
BIG = bytes(range(256)) * 1024  # 256 KiB: four 64 KiB blocks


def static_project(tmp_path: Path) -> Path:
    """A project whose static/ folder has a file of each kind the tests serve, and some bait."""
    root = tmp_path / "proj"
    static = root / "static"
    (static / "css").mkdir(parents=True)
    (static / "js").mkdir()
    (static / "img").mkdir()
    (static / "css" / "app.css").write_bytes(CSS)
    (static / "js" / "app.js").write_bytes(b"console.log(1)\n")
    (static / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    (static / "data.json").write_bytes(b'{"a": 1}')
    (static / "blob.unknownext").write_bytes(b"xyz")
    (static / "big.bin").write_bytes(BIG)
    (static / "hello.txt").write_bytes(b"0123456789")
    (static / "empty.txt").write_bytes(b"")
    (static / "favicon.ico").write_bytes(b"\0\0\1\0icon")
    (static / "caf\u00e9.txt").write_bytes(b"cafe")
    (static / ".env").write_bytes(b"SECRET=1")
    (static / ".git").mkdir()
    (static / ".git" / "config").write_bytes(b"[core]")
    (root / "secret.txt").write_bytes(b"top secret")
    (root / "files").mkdir()
    (root / "files" / "report.pdf").write_bytes(b"%PDF-1.4 fake")
    (tmp_path / "outside.txt").write_bytes(b"outside")
    return root


# -- errors ----------------------------------------------------------------------------------


def serve_and_get(app: Digwebs, handler: t.Callable[..., t.Any], **kwargs: t.Any) -> TestResponse:
    """Route ``handler`` at ``/`` (GET and POST) and answer a GET of it."""
    app.add_route("/", handler, ["GET", "POST"])
    return app.test_client().get("/", **kwargs)


# -- processes: servers and generated projects -----------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: ours without DIGWEBS_*, with this checkout importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGWEBS_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def new_project(base: Path, home: Path) -> Path:
    """Run ``digwebs new site --no-input`` in ``base`` with ``HOME`` at ``home``; its path."""
    command = ["-m", "digwebs_cli", "new", "site", "--no-input", "--output-dir", str(base)]
    proc = subprocess.run(
        [sys.executable, *command],
        env=child_env(HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return base / "site"
