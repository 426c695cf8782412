"""``digwebs serve`` development defaults: reload on unless ``--no-reload``, ``.env`` as a source.

In-process with click's runner (``--print-config``) and the worker's ``.env``
refresh called directly; the live reload test is in tests/e2e/test_serve_reload_live.py.
"""

from __future__ import annotations

import glob
import os
import warnings

import click.testing
import pytest

from digwebs_cli import discovery, serve_settings
from digwebs_cli.gunicorn_app import refresh_env_file
from digwebs_cli.main import cli

PLAIN_APP = """\
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.fixture
def project(app_folder):
    """wsgiapp.py in the current folder; os.environ and the .env cache restored after."""
    (app_folder / "wsgiapp.py").write_text(PLAIN_APP)
    (app_folder / "config").mkdir()
    return app_folder


def config(*args: str) -> dict[str, tuple[str, str]]:
    result = click.testing.CliRunner().invoke(
        cli, ["serve", "--print-config", *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    table = {}
    for line in result.output.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            parts = line.split(None, 2)
            table.setdefault(parts[0], (parts[1], parts[2] if len(parts) == 3 else ""))
    return table


def test_development_reloads_by_default(project):
    table = config()
    assert table["reload"] == ("True", "default (development)")
    assert table["reload_extra_files"][0] != "[]"


def test_production_never_reloads_by_default(project):
    table = config("--env", "production")
    assert table["reload"] == ("False", "default (production)")
    assert table["reload_extra_files"][0] == "[]"


def test_no_reload_and_reload_name_the_flag_used(project):
    assert config("--no-reload")["reload"] == ("False", "--no-reload")
    assert config("--env", "production", "--reload")["reload"] == ("True", "--reload")


def test_reload_from_the_environment_and_the_config(project, monkeypatch):
    (project / "config" / "development.toml").write_text("[server]\nreload = false\n")
    assert config()["reload"] == ("False", "config/development.toml [server]")
    monkeypatch.setenv("DIGWEBS_SERVER__RELOAD", "true")
    assert config()["reload"] == ("True", "DIGWEBS_SERVER__RELOAD")


def test_a_setting_from_dot_env_says_so(project):
    (project / ".env").write_text(
        "DIGWEBS_SERVER__PORT=9123\nDIGWEBS_SERVER__THREADS=3\nDIGWEBS_ENV=production\n"
    )
    table = config()
    assert table["port"] == ("9123", "DIGWEBS_SERVER__PORT (.env)")
    assert table["threads"] == ("3", "DIGWEBS_SERVER__THREADS (.env)")
    assert table["env"] == ("production", "DIGWEBS_ENV (.env)")


def test_a_real_variable_over_dot_env_is_not_from_dot_env(project, monkeypatch):
    (project / ".env").write_text("DIGWEBS_SERVER__PORT=9123\n")
    monkeypatch.setenv("DIGWEBS_SERVER__PORT", "9000")
    assert config()["port"] == ("9000", "DIGWEBS_SERVER__PORT")


def test_an_app_from_dot_env_says_so(project):
    (project / "other.py").write_text(PLAIN_APP)
    (project / ".env").write_text("DIGWEBS_APP=other:app\n")
    assert config()["app"] == ("other:app", "DIGWEBS_APP (.env)")


def test_a_bad_value_from_dot_env_names_the_file(project):
    (project / ".env").write_text("DIGWEBS_SERVER__PORT=many\n")
    result = click.testing.CliRunner().invoke(cli, ["serve", "--print-config"])
    assert result.exit_code == 2
    assert "Error: DIGWEBS_SERVER__PORT (.env) must be a whole number, not 'many'" in result.output


def test_dot_env_is_watched_even_before_it_exists(tmp_path):
    from gunicorn.config import Config

    patterns = serve_settings.reload_patterns(tmp_path)
    cfg = Config()
    with warnings.catch_warnings():  # (patterns that match nothing yet: on purpose)
        warnings.simplefilter("ignore", RuntimeWarning)
        cfg.set("reload_extra_files", patterns)  # gunicorn refuses a missing plain file
    (tmp_path / ".env.example").write_text("")
    assert [f for p in patterns for f in glob.glob(p, recursive=True)] == []
    (tmp_path / ".env").write_text("")
    assert [f for p in patterns for f in glob.glob(p, recursive=True)] == [str(tmp_path / ".env")]


def test_a_worker_reads_dot_env_again(project, monkeypatch):
    """A reloaded worker forks from the master, which read .env once: it re-reads it."""
    (project / ".env").write_text("DIGWEBS_GREETING=one\nDIGWEBS_GONE=x\nDIGWEBS_MINE=file\n")
    monkeypatch.setenv("DIGWEBS_MINE", "real")
    discovery.load_env_file(project)
    assert os.environ["DIGWEBS_GREETING"] == "one"
    (project / ".env").write_text(
        "DIGWEBS_GREETING=two\nDIGWEBS_NEW=y\nDIGWEBS_MINE=file\nDIGWEBS_ENV=production\n"
    )
    os.environ["DIGWEBS_ENV"] = "development"  # what `serve` chose: stays
    refresh_env_file(project, "development")
    assert os.environ["DIGWEBS_GREETING"] == "two"
    assert os.environ["DIGWEBS_NEW"] == "y"
    assert "DIGWEBS_GONE" not in os.environ  # removed from the file
    assert os.environ["DIGWEBS_MINE"] == "real"  # a real variable still wins
    assert os.environ["DIGWEBS_ENV"] == "development"
    assert discovery.load_env_file(project)["DIGWEBS_GREETING"] == "two"
