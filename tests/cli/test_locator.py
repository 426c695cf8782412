"""``--app`` is located once, at the group or the command, and handed to the command."""

from __future__ import annotations

import json

import click.testing
import pytest

from digwebs_cli import discovery, locator
from digwebs_cli.errors import DigwebsCliError
from digwebs_cli.locator import AppLocator
from digwebs_cli.main import cli

SITE = """\
import os
from digwebs import Digwebs
app = Digwebs(root_path=os.path.dirname(__file__))
@app.get("/{name}", name="{name}")
def {name}():
    return "{name}"
"""


@pytest.fixture
def two_apps(app_folder, restore_imports):
    """``wsgiapp.py`` (route /home) and ``other.py`` (route /other) in the current folder."""
    (app_folder / "wsgiapp.py").write_text(SITE.format(name="home"))
    (app_folder / "other.py").write_text(SITE.format(name="other"))
    (app_folder / "config").mkdir()
    return app_folder


@pytest.fixture
def calls(monkeypatch):
    """Count the import-string lookups and app loads of one command line."""
    seen = {"find": 0, "load": 0}
    find, load = locator.find_import_string, discovery.load_app

    def counting_find(*args, **kwargs):
        seen["find"] += 1
        return find(*args, **kwargs)

    def counting_load(*args, **kwargs):
        seen["load"] += 1
        return load(*args, **kwargs)

    monkeypatch.setattr(locator, "find_import_string", counting_find)
    monkeypatch.setattr(discovery, "load_app", counting_load)
    return seen


def invoke(*args: str) -> click.testing.Result:
    return click.testing.CliRunner().invoke(cli, list(args))


def paths_of(result: click.testing.Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [route["path"] for route in json.loads(result.output)]


def test_routes_without_app_uses_wsgiapp(two_apps):
    assert paths_of(invoke("routes", "--json")) == ["/home"]


@pytest.mark.parametrize(
    "args",
    [
        ("--app", "other:app", "routes", "--json"),
        ("routes", "--app", "other:app", "--json"),
        ("routes", "--json", "--app", "other.py"),
    ],
    ids=" ".join,
)
def test_app_at_the_group_or_the_command(two_apps, args):
    assert paths_of(invoke(*args)) == ["/other"]


def test_the_commands_app_wins_over_the_groups(two_apps):
    result = invoke("--app", "nowhere:app", "routes", "--app", "other:app", "--json")
    assert paths_of(result) == ["/other"]


def test_the_app_is_located_and_loaded_once(two_apps, calls):
    result = invoke("--app", "other:app", "shell", "-c", "print(app.url_for('other'))")
    assert result.exit_code == 0, result.output
    assert result.output == "/other\n"
    assert calls == {"find": 1, "load": 1}


@pytest.mark.parametrize(
    "args",
    [
        ("--app", "other:app", "serve", "--print-config"),
        ("serve", "--print-config", "--app", "other:app"),
    ],
    ids=" ".join,
)
def test_serve_gets_the_located_app(two_apps, calls, args):
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "  app              other:app               --app" in result.output
    assert calls["find"] == 1 and calls["load"] == 0  # serve imports it in the workers only


def test_check_and_deploy_get_the_located_app(two_apps, monkeypatch):
    monkeypatch.setenv("DIGWEBS_SECRET_KEY", "x" * 40)
    result = invoke("--app", "nowhere:app", "check")
    assert result.exit_code == 1, result.output
    assert "the app nowhere:app does not import" in result.output
    result = invoke("--app", "nowhere.py", "deploy", "nginx")
    assert result.exit_code == 2
    assert "Error: --app 'nowhere.py': no such Python file" in result.output


def test_a_bad_group_app_is_one_line(two_apps):
    result = invoke("--app", "not an import string", "routes")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("Error: --app")


def test_digwebs_app_and_its_source(two_apps, monkeypatch):
    monkeypatch.setenv("DIGWEBS_APP", "other:app")
    assert AppLocator().find() == ("other:app", "DIGWEBS_APP")
    assert AppLocator("wsgiapp").find() == ("wsgiapp", "--app")
    assert paths_of(invoke("routes", "--json")) == ["/other"]


def test_digwebs_app_from_dot_env_says_so(two_apps):
    (two_apps / ".env").write_text("DIGWEBS_APP=other:app\n")
    discovery.load_env_file(two_apps)
    assert AppLocator().find() == ("other:app", "DIGWEBS_APP (.env)")


def test_the_config_app_ranks_below_digwebs_app(two_apps, monkeypatch):
    found = AppLocator().find("other:app", "config/default.toml [server]")
    assert found == ("other:app", "config/default.toml [server]")
    monkeypatch.setenv("DIGWEBS_APP", "wsgiapp:app")
    assert AppLocator().find("other:app", "x") == ("wsgiapp:app", "DIGWEBS_APP")


def test_no_app_anywhere(app_folder):
    with pytest.raises(DigwebsCliError, match="no wsgiapp.py here"):
        AppLocator().find()


def test_help_and_new_need_no_app(app_folder, isolated_home):
    result = invoke("--app", "nowhere:app", "--help")
    assert result.exit_code == 0 and "--app MODULE:ATTR" in result.output
