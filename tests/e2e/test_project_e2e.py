"""The whole user journey, from an installed wheel, in subprocesses.

Build a wheel of this repository, install it into a fresh virtual environment,
then, from a folder outside the repository: ``digwebs new``, ``digwebs
generate controller``, ``digwebs routes --check`` and the generated project's
own tests. This also proves that the template ships inside the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 300):
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, f"{args} exited {result.returncode}\n{output}"
    return result


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a user who has nothing of this repository around."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DIGWEBS_", "PYTHON", "VIRTUAL_ENV", "COOKIECUTTER_", "PYTEST_"))
    }
    env["HOME"] = str(home)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    args = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out]
    try:
        import hatchling  # noqa: F401

        args.append("--no-build-isolation")  # the backend is already here: no download
    except ImportError:
        pass
    _run([*args, REPO], cwd=out, env=dict(os.environ), timeout=300)
    (built,) = out.glob("digwebs-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel (and pytest) installed; its bin/."""
    root = tmp_path_factory.mktemp("venv")
    venv.create(root, with_pip=True)
    bin_dir = root / ("Scripts" if os.name == "nt" else "bin")
    env = _clean_env(Path.home())  # the user's pip cache and configuration
    _run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheel, "pytest"], root, env, 600)
    return bin_dir


def test_new_generate_routes_and_project_tests(installed, tmp_path):
    env = _clean_env(tmp_path / "home")
    work = tmp_path / "sites"
    work.mkdir()
    digwebs = installed / "digwebs"
    python = installed / "python"

    version = _run([digwebs, "--version"], work, env).stdout
    assert "digwebs" in version and "0." in version

    # The template comes from the installed wheel, not from this checkout.
    where = _run(
        [python, "-c", "from digwebs_cli._templates import bundled_template_dir as d; print(d())"],
        work,
        env,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.parent), where

    created = _run([digwebs, "new", "myblog", "--no-input"], work, env)
    assert "cd myblog" in created.stdout
    assert "wsgiapp imports" in created.stdout
    project = work / "myblog"
    assert (project / "wsgiapp.py").is_file()

    generated = _run(
        [digwebs, "generate", "controller", "posts", "index", "show", "new", "create", "edit",
         "update", "destroy"],
        project,
        env,
    )  # fmt: skip
    assert "created  controllers/posts.py" in generated.stdout

    table = _run([digwebs, "routes"], project, env).stdout
    assert "posts.show" in table and "/posts/<int:item_id>" in table

    check = _run([digwebs, "routes", "--check"], project, env)
    assert check.stdout.startswith("No problems found")

    tests = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env)
    assert " passed" in tests.stdout and "failed" not in tests.stdout
