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


def _readme_blocks(readme: str) -> dict[str, list[str]]:
    """The indented command blocks of a README, by the ``## `` heading above them."""
    blocks: dict[str, list[str]] = {}
    heading = ""
    for line in readme.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif line.startswith("    ") and heading:
            blocks.setdefault(heading, []).append(line.strip())
    return blocks


def test_generated_readme_steps_work_on_a_fresh_machine(installed, wheel, tmp_path):
    """Issue 13, defect 1: the generated README's steps, run as written.

    The project is made with the digwebs installed from the wheel; then, in a
    shell that has nothing but the system Python, the README's "Run it",
    "Test it" and "Deploy it" commands run in the project folder. The only
    change: `digwebs serve` (which would serve until stopped) runs as
    `digwebs serve --check`, which validates everything and imports the app
    as a worker would, then exits.
    """
    env = _clean_env(Path.home())  # the user's pip cache and configuration
    env.pop("DIGWEBS_SECRET_KEY", None)
    work = tmp_path / "sites"
    work.mkdir()
    _run([installed / "digwebs", "new", "myblog", "--no-input"], work, env)
    project = work / "myblog"
    readme = (project / "README.md").read_text()
    assert f"pip install {wheel}" in readme  # where this digwebs came from

    blocks = _readme_blocks(readme)
    script = ["set -eux"]
    for heading in ("Run it", "Test it"):
        script += [
            "digwebs serve --check" if line == "digwebs serve" else line for line in blocks[heading]
        ]
    deploy = blocks["Deploy it"]
    assert "digwebs serve --check" in " ".join(deploy)
    # Deploying installs gevent; the last line would serve: --check is already there.
    script += [line for line in deploy if line != "digwebs serve"]
    result = _run(["bash", "-c", "\n".join(script)], project, env, timeout=900)
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert (project / ".venv" / "bin" / "digwebs").is_file()


def test_root_readme_install_puts_digwebs_on_path(tmp_path):
    """Issue 13, defect 1: the root README's install steps, outside make."""
    readme = (REPO / "README.md").read_text()
    start = readme.index("## Install")
    block = readme[start : readme.index("\n## ", start + 1)]
    commands = [
        line.split("#")[0].strip()
        for line in block.split("```sh", 1)[1].split("```", 1)[0].splitlines()
        if line.split("#")[0].strip()
    ]
    assert any(c.startswith("pip install") for c in commands), commands
    env = _clean_env(tmp_path / "home")
    env["HOME"] = str(tmp_path / "home")
    env["PIP_CACHE_DIR"] = str(Path.home() / ".cache" / "pip")
    script = ["set -eux", f"cd {REPO}"]
    script += [c.replace("~", str(tmp_path / "home")) for c in commands]
    script += ["command -v digwebs", "digwebs --version"]
    (tmp_path / "home").mkdir()
    result = _run(["bash", "-c", "\n".join(script)], tmp_path, env, timeout=900)
    assert str(tmp_path / "home") in result.stdout  # digwebs on PATH from that venv
    assert "digwebs, version" in result.stdout
