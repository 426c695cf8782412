"""``.env`` in the project folder: read by serve, routes and shell, never over real variables."""

from __future__ import annotations

import json
import os

import click.testing
import pytest

from digwebs_cli import discovery
from digwebs_cli.main import cli

APP = """\
import os
from digwebs import Digwebs

app = Digwebs(root_path=os.path.dirname(os.path.abspath(__file__)))

@app.get("/", name="index")
def index():
    return "hello"
"""


@pytest.fixture
def project(app_folder, monkeypatch):
    """A folder with wsgiapp.py, made the current folder; os.environ is restored after."""
    (app_folder / "wsgiapp.py").write_text(APP)
    return app_folder


def run(*args: str) -> click.testing.Result:
    return click.testing.CliRunner().invoke(cli, list(args))


def config_table(result: click.testing.Result) -> dict[str, list[str]]:
    return {
        line.split()[0]: line.split()[1:]
        for line in result.output.splitlines()
        if line.startswith("  ") and line.split()
    }


def test_serve_reads_its_options_from_dot_env(project):
    (project / ".env").write_text("# settings for this checkout\nDIGWEBS_SERVE_PORT=9123\n")
    result = run("serve", "--print-config")
    assert result.exit_code == 0, result.output
    assert config_table(result)["port"][0] == "9123"


def test_real_environment_variables_win(project, monkeypatch):
    (project / ".env").write_text("DIGWEBS_SERVE_PORT=9123\nDIGWEBS_SERVE_HOST=0.0.0.0\n")
    monkeypatch.setenv("DIGWEBS_SERVE_PORT", "9000")
    table = config_table(run("serve", "--print-config"))
    assert table["port"][0] == "9000"
    assert table["host"][0] == "0.0.0.0"


def test_the_environment_from_dot_env_picks_the_config_file(project):
    (project / ".env").write_text("DIGWEBS_ENV=production\n")
    table = config_table(run("serve", "--print-config"))
    assert table["env"][0] == "production"


def test_routes_reads_dot_env(project):
    (project / "other.py").write_text(APP.replace('"/"', '"/other"'))
    (project / ".env").write_text('DIGWEBS_APP="other:app"\n')
    result = run("routes", "--json")
    assert result.exit_code == 0, result.output
    assert [r["path"] for r in json.loads(result.output)] == ["/other"]


def test_export_quotes_comments_and_interpolation(project):
    (project / ".env").write_text(
        "export DIGWEBS_SERVE_PORT=9124  # a comment\n"
        "BASE='/srv/site'\n"
        'DIGWEBS_SERVE_WORKERS="sync"\n'
        "DIGWEBS_TEST_PATH=${BASE}/data\n"
    )
    table = config_table(run("serve", "--print-config"))
    assert table["port"][0] == "9124"
    assert table["worker_class"][0] == "sync"
    assert os.environ["DIGWEBS_TEST_PATH"] == "/srv/site/data"


def test_a_line_that_does_not_parse_is_a_one_line_error(project):
    (project / ".env").write_text("GOOD=1\nthis is not an assignment\n")
    for command in (["serve", "--print-config"], ["routes"]):
        result = run(*command)
        assert result.exit_code == 2, result.output
        (line,) = result.output.splitlines()
        assert line.startswith("Error: ") and ".env" in line and "line 2" in line
        assert "Traceback" not in result.output


def test_a_file_that_is_not_utf8_is_a_one_line_error(project):
    (project / ".env").write_bytes(b"NAME=caf\xe9\n")
    result = run("routes")
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert ".env" in line and "UTF-8" in line


def test_new_and_generate_do_not_read_dot_env(project, isolated_home):
    (project / ".env").write_text("this does not parse\n")
    assert run("new", "myblog", "--no-input").exit_code == 0
    assert run("generate", "controller", "posts", "--project-dir", "myblog").exit_code == 0


def test_loaded_once_per_folder(project):
    (project / ".env").write_text("DIGWEBS_SERVE_PORT=9125\n")
    assert discovery.load_env_file(project) == {"DIGWEBS_SERVE_PORT": "9125"}
    (project / ".env").write_text("DIGWEBS_SERVE_PORT=1\n")
    assert discovery.load_env_file(project) == {"DIGWEBS_SERVE_PORT": "9125"}
    assert os.environ["DIGWEBS_SERVE_PORT"] == "9125"


def test_no_dot_env_is_fine(project):
    assert discovery.load_env_file(project) == {}
    assert run("serve", "--print-config").exit_code == 0


def test_scaffold_ships_an_example_and_ignores_dot_env(invoke, tmp_path):
    assert invoke("new", "myblog", "--no-input", "-o", str(tmp_path)).exit_code == 0
    project = tmp_path / "myblog"
    example = (project / ".env.example").read_text()
    assert "DIGWEBS_" in example
    ignored = (project / ".gitignore").read_text().splitlines()
    import fnmatch

    assert any(fnmatch.fnmatch(".env", pattern) for pattern in ignored)
    assert not any(fnmatch.fnmatch(".env.example", pattern) for pattern in ignored)
    readme = (project / "README.md").read_text()
    assert ".env" in readme and "config/default.toml" in readme
    # the order of the sources, lowest first, is spelled out
    order = ["config/default.toml", "config/<env>.toml", "DIGWEBS_", ".env"]
    section = readme[readme.index("## Configuration") :]
    positions = [section.index(word) for word in order]
    assert positions == sorted(positions), positions
