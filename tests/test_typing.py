"""The public type aliases: importable, and usable as annotations by mypy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import digwebs
import digwebs.typing as dt

ROOT = Path(__file__).resolve().parents[1]


def test_every_alias_in_all_exists() -> None:
    for name in dt.__all__:
        assert getattr(dt, name) is not None, name


def test_package_is_marked_typed() -> None:
    # PEP 561: without py.typed, mypy ignores digwebs' hints in users' projects.
    assert (Path(digwebs.__file__).parent / "py.typed").is_file()


@pytest.mark.slow
def test_mypy_accepts_a_typed_project_and_rejects_a_wrong_one(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    good = tmp_path / "good.py"
    good.write_text(
        textwrap.dedent(
            """
            from digwebs import Response
            from digwebs.typing import HandlerResult, Middleware, Next, StartResponse
            from digwebs.context import RequestContext

            def timing(ctx: RequestContext, next: Next) -> Response:
                return next()

            mw: Middleware = timing

            def handler() -> HandlerResult:
                return "hello", 200, {"X-A": "1"}

            def start(sr: StartResponse) -> None:
                sr("200 OK", [])
            """
        )
    )
    bad = tmp_path / "bad.py"
    bad.write_text(
        textwrap.dedent(
            """
            from digwebs.typing import Middleware

            def not_middleware(x: int) -> int:
                return x

            mw: Middleware = not_middleware
            """
        )
    )

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )

    ok = run(good)
    assert ok.returncode == 0, ok.stdout
    wrong = run(bad)
    assert wrong.returncode == 1 and "incompatible type" in wrong.stdout.lower(), wrong.stdout
