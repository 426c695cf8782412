"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

import digwebs.context
from digwebs import Digwebs, request


@pytest.fixture(autouse=True)
def _no_digwebs_environment(monkeypatch):
    """Keep DIGWEBS_* variables of the developer's shell out of every test."""
    for name in [n for n in os.environ if n.startswith("DIGWEBS_")]:
        monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _context_leak_detector():
    """Fail a test that leaves a request context pushed behind it."""
    yield
    assert digwebs.context._cv_ctx.get(None) is None, "a request context leaked out of the test"


@pytest.fixture
def app(tmp_path):
    """An empty application rooted in a temporary folder, debug off."""
    return Digwebs(tmp_path, debug=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Write a project's files; sys.path and imported packages are restored afterwards.

    ``project({"controllers/home.py": "..."})`` writes the files (dedented)
    under ``tmp_path`` and returns it. Some test modules define a
    ``project`` fixture of their own, which takes the place of this one.
    """
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


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def echo(app):
    """Register ``/echo`` (any method) that returns what ``read(request)`` gives."""

    def register(read, methods=("GET", "POST", "PUT", "PATCH", "DELETE")):
        app.add_route("/echo", lambda: read(request), methods, name="echo")
        app.add_route("/echo/<path:rest>", lambda rest: read(request), methods, name="echo_rest")

    return register
