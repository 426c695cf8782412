"""``digwebs serve`` without serving: settings, --print-config, --check, one-line errors.

Everything here runs in-process with click's runner (``--check`` imports the
app in a child process, as a worker would). The live server tests are in
tests/e2e/test_serve_live.py.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import click.testing
import pytest

from digwebs_cli import blocking_drivers, serve_settings
from digwebs_cli.main import cli

APPS = Path(__file__).resolve().parent.parent / "apps"

PLAIN_APP = """\
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder with a plain WSGI wsgiapp.py, made the current directory."""
    (tmp_path / "wsgiapp.py").write_text(PLAIN_APP)
    (tmp_path / "config").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> click.testing.Result:
    return click.testing.CliRunner().invoke(cli, ["serve", *args], catch_exceptions=False)


def settings_of(result: click.testing.Result) -> dict[str, tuple[str, str]]:
    """--print-config output -> {name: (value, source)}."""
    table = {}
    for line in result.output.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            parts = line.split(None, 2)
            if len(parts) >= 2:
                table.setdefault(parts[0], (parts[1], parts[2] if len(parts) == 3 else ""))
    return table


def one_line_error(result: click.testing.Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


# -- settings and their precedence ------------------------------------------


def test_defaults(project):
    result = run("--print-config")
    assert result.exit_code == 0, result.output
    table = settings_of(result)
    assert table["app"] == ("wsgiapp:app", "wsgiapp.py")
    assert table["workers"] == ("threads", "default")
    assert table["host"] == ("127.0.0.1", "default")
    assert table["port"] == ("8000", "default")
    assert table["threads"][0] == "8"
    assert table["env"] == ("development", "default")
    assert table["access_log"][0] == "True"  # on in development
    assert table["worker_class"][0] == "gthread"
    assert table["preload_app"][0] == "False"


def test_precedence_of_every_layer(project, monkeypatch):
    (project / "config" / "default.toml").write_text("[server]\nport = 8100\nworkers = 'sync'\n")
    (project / "config" / "development.toml").write_text("[server]\nport = 8200\n")

    def port() -> tuple[str, str]:
        result = run("--print-config", *args)
        assert result.exit_code == 0, result.output
        return settings_of(result)["port"]

    args: tuple[str, ...] = ()
    monkeypatch.setenv("DIGWEBS_SERVER__PORT", "8300")
    args = ("--port", "8500")
    assert port() == ("8500", "--port")
    args = ()
    assert port() == ("8300", "DIGWEBS_SERVER__PORT")
    monkeypatch.delenv("DIGWEBS_SERVER__PORT")
    assert port() == ("8200", "config/development.toml [server]")
    (project / "config" / "development.toml").unlink()
    assert port() == ("8100", "config/default.toml [server]")
    table = settings_of(run("--print-config"))
    assert table["workers"] == ("sync", "config/default.toml [server]")
    # gunicorn's sync worker, subclassed for the header deadline
    assert table["worker_class"] == ("sync", "(digwebs_cli.workers.DigwebsSyncWorker)")


def test_env_picks_the_config_file(project, monkeypatch):
    (project / "config" / "production.toml").write_text(
        "[server]\nhost = '0.0.0.0'\nworkers = 'gevent'\naccess_log = true\n"
    )
    table = settings_of(run("--print-config", "--env", "production"))
    assert table["env"] == ("production", "--env")
    assert table["host"] == ("0.0.0.0", "config/production.toml [server]")
    assert table["workers"][0] == "gevent"
    assert table["warn_blocking"][0] == "off"  # off in production
    monkeypatch.setenv("DIGWEBS_ENV", "production")
    assert settings_of(run("--print-config"))["env"] == ("production", "DIGWEBS_ENV")


def test_gevent_development_defaults(project):
    table = settings_of(run("--print-config", "--workers", "gevent"))
    assert table["warn_blocking"][0] == "100"
    assert table["worker_class"][0] == "digwebs_cli._gevent_support.DigwebsGeventWorker"
    assert table["threads"][0] == "8"  # shown, but gunicorn gets 1
    assert table["connections"][0] == "1000"


def test_app_from_option_environment_and_config(project, monkeypatch):
    (project / "config" / "default.toml").write_text("[server]\napp = 'fromconfig:app'\n")
    assert settings_of(run("--print-config"))["app"] == (
        "fromconfig:app",
        "config/default.toml [server]",
    )
    monkeypatch.setenv("DIGWEBS_SERVER__APP", "fromserverenv:app")
    assert settings_of(run("--print-config"))["app"] == ("fromserverenv:app", "DIGWEBS_SERVER__APP")
    monkeypatch.setenv("DIGWEBS_APP", "fromenv:app")
    assert settings_of(run("--print-config"))["app"] == ("fromenv:app", "DIGWEBS_APP")
    assert settings_of(run("--print-config", "--app", "cli:app"))["app"] == ("cli:app", "--app")


def test_unknown_config_key_is_a_warning(project):
    (project / "config" / "default.toml").write_text("[server]\nprot = 9000\n")
    result = run("--print-config")
    assert result.exit_code == 0
    assert "unknown setting 'prot' in config/default.toml [server] (did you mean 'port'?)" in (
        result.output
    )


# -- one-line errors, exit 2 -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "config", "expected"),
    [
        (("--workers", "eventlet"), "", "unknown worker model 'eventlet' for --workers"),
        (("--workers", "gthread"), "", "(did you mean 'threads'?)"),
        ((), "[server]\nworkers = 'tornado'\n", "workers in config/default.toml [server]"),
        (("--port", "http"), "", "--port must be a whole number, not 'http'"),
        (("--port", "70000"), "", "--port must be from 0 to 65535"),
        (("--processes", "0"), "", "--processes must be from 1 to 1024"),
        (("--env", "staging"), "", "unknown environment 'staging'"),
        (
            ("--workers", "gevent", "--threads", "4"),
            "",
            "--threads applies to --workers threads only",
        ),
        (("--workers", "sync", "--connections", "50"), "", "--connections does not apply"),
        (("--reload", "--env", "production"), "", "--reload is for development"),
        (("--warn-blocking", "50"), "", "--warn-blocking watches the gevent event loop"),
        ((), "[server\nport = 1\n", "config does not load: config/default.toml: invalid TOML"),
        ((), "server = 1\n", "config/default.toml: server must be a table"),
        (("--app", "nowhere:app"), "", "module 'nowhere' not found"),
    ],
)
def test_bad_settings(project, args, config, expected):
    if config:
        (project / "config" / "default.toml").write_text(config)
    line = one_line_error(run(*args))
    assert expected in line


def test_no_app_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = one_line_error(run())
    assert "no wsgiapp.py here" in line


def test_gevent_not_installed(project, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "gevent" else real_find_spec(name, *a),
    )
    line = one_line_error(run("--workers", "gevent"))
    assert "needs gevent, which is not installed: pip install 'digwebs[gevent]'" in line


def test_port_in_use(project):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_line_error(run("--port", str(port)))
    assert f"port {port} on 127.0.0.1 is already in use" in line


def test_unknown_host(project):
    line = one_line_error(run("--host", "no-such-host.invalid"))
    assert "cannot listen on --host 'no-such-host.invalid'" in line


# -- --check ---------------------------------------------------------------


def copy_app(name: str, tmp_path: Path, monkeypatch) -> Path:
    target = tmp_path / name
    shutil.copytree(APPS / name, target)
    monkeypatch.chdir(target)
    return target


def test_check_passes_for_a_plain_wsgi_app(project):
    result = run("--check", "--port", "0")
    assert result.exit_code == 0, result.output
    assert "ok       app wsgiapp:app imports: a WSGI callable" in result.output
    assert "everything is in order" in result.output


def test_check_reports_every_problem(project):
    (project / "config" / "default.toml").write_text("[server]\ntimeuot = 5\n")
    (project / "wsgiapp.py").write_text("raise RuntimeError('boom at import')\n")
    result = run("--check", "--reload", "--env", "production", "--port", "0")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    out = result.output
    assert "error    unknown setting 'timeuot'" in out
    assert "error    --reload is for development" in out
    assert "error    importing 'wsgiapp' failed: RuntimeError: boom at import (wsgiapp.py:1)" in out
    assert "Error: --check found 3 problems; nothing was served" in out


def test_check_stricter_than_gunicorn_about_the_worker_model(project):
    line = one_line_error(run("--check", "--workers", "eventlet"))
    assert "unknown worker model" in line


def test_check_a_digwebs_app_without_routes(tmp_path, monkeypatch):
    copy_app("noroutes", tmp_path, monkeypatch)
    result = run("--check", "--port", "0")
    assert result.exit_code == 2, result.output
    assert "app wsgiapp:app has no routes" in result.output


def test_check_a_digwebs_app_with_routes(tmp_path, monkeypatch):
    root = copy_app("noroutes", tmp_path, monkeypatch)
    (root / "controllers").mkdir()
    (root / "controllers" / "home.py").write_text(
        "from digwebs import get\n\n@get('/')\ndef home():\n    return 'home'\n"
    )
    result = run("--check", "--port", "0", "--workers", "gevent")
    assert result.exit_code == 0, result.output
    assert "a Digwebs app with 1 routes" in result.output
    assert "no known loop-blocking C drivers imported" in result.output


def test_check_reports_unpatched_psycopg2_under_gevent(tmp_path, monkeypatch):
    copy_app("blocking", tmp_path, monkeypatch)
    result = run("--check", "--port", "0", "--workers", "gevent")
    assert result.exit_code == 2, result.output
    assert "psycopg2 waits for PostgreSQL inside C and blocks the gevent loop" in result.output
    assert "psycogreen.gevent.patch_psycopg()" in result.output
    # once patched (what psycogreen does), it is fine
    result = run("--check", "--port", "0", "--workers", "gevent", "--app", "patched:app")
    assert result.exit_code == 0, result.output
    # and threads do not care
    assert run("--check", "--port", "0").exit_code == 0


def test_blocking_driver_table_checks_mysqlclient(monkeypatch):
    import sys
    import types

    monkeypatch.setitem(sys.modules, "MySQLdb", types.ModuleType("MySQLdb"))
    problems = blocking_drivers.blocking_driver_problems()
    assert any("mysqlclient (MySQLdb)" in p and "PyMySQL" in p for p in problems)


def test_reload_watches_project_files_not_virtualenvs(tmp_path):
    for folder in ("controllers", "models", "static", "venv", ".venv", "node_modules"):
        (tmp_path / folder).mkdir()
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    patterns = serve_settings.reload_patterns(tmp_path)
    joined = "\n".join(patterns)
    assert str(tmp_path / "controllers" / "**" / "*.py") in patterns
    assert str(tmp_path / "models" / "**" / "*.py") in patterns
    assert str(tmp_path / "views" / "**" / "*") in patterns
    assert str(tmp_path / "config" / "*.toml") in patterns
    for skipped in ("static", "venv", ".venv", "node_modules"):
        assert str(tmp_path / skipped) + "/" not in joined


# -- the one rule for environment variables -----------------------------------


def test_the_config_variable_beats_the_config_files(project, monkeypatch):
    (project / "config" / "development.toml").write_text("[server]\nworkers = 'sync'\n")
    monkeypatch.setenv("DIGWEBS_SERVER__WORKERS", "gevent")
    assert settings_of(run("--print-config"))["workers"] == ("gevent", "DIGWEBS_SERVER__WORKERS")
    table = settings_of(run("--print-config", "--workers", "threads"))
    assert table["workers"] == ("threads", "--workers")


def test_a_deprecated_serve_variable_counts_as_the_config_variable(project, monkeypatch):
    (project / "config" / "default.toml").write_text("[server]\nport = 8100\n")
    monkeypatch.setenv("DIGWEBS_SERVE_PORT", "8400")
    result = run("--print-config")
    assert settings_of(result)["port"] == ("8400", "DIGWEBS_SERVE_PORT")
    assert "warning: DIGWEBS_SERVE_PORT is deprecated: write DIGWEBS_SERVER__PORT" in result.output
    assert settings_of(run("--print-config", "--port", "8500"))["port"] == ("8500", "--port")


def test_the_config_variable_wins_over_a_deprecated_one(project, monkeypatch):
    monkeypatch.setenv("DIGWEBS_SERVE_PORT", "8400")
    monkeypatch.setenv("DIGWEBS_SERVER__PORT", "8300")
    result = run("--print-config")
    assert settings_of(result)["port"] == ("8300", "DIGWEBS_SERVER__PORT")
    assert "DIGWEBS_SERVE_PORT is deprecated and ignored: DIGWEBS_SERVER__PORT is set" in (
        result.output
    )


def test_a_deprecated_variable_warns_when_serving(project, monkeypatch):
    monkeypatch.setenv("DIGWEBS_SERVE_WORKERS", "sync")
    result = run("--check", "--port", "0")
    assert result.exit_code == 0, result.output
    assert "DIGWEBS_SERVE_WORKERS is deprecated: write DIGWEBS_SERVER__WORKERS" in result.output


def test_digwebs_env_beats_the_deprecated_serve_env(project, monkeypatch):
    monkeypatch.setenv("DIGWEBS_SERVE_ENV", "production")
    result = run("--print-config")
    assert settings_of(result)["env"] == ("production", "DIGWEBS_SERVE_ENV")
    assert "DIGWEBS_SERVE_ENV is deprecated: write DIGWEBS_ENV" in result.output
    monkeypatch.setenv("DIGWEBS_ENV", "development")
    assert settings_of(run("--print-config"))["env"] == ("development", "DIGWEBS_ENV")


def test_the_settings_are_the_apps_config(project, monkeypatch):
    """serve reads [server] through digwebs.config, the layering the app gets, not its own."""
    import digwebs.config

    real = digwebs.config.load_config

    def load_config(*args, **kwargs):
        config = real(*args, **kwargs)
        config["server"] = {"port": 8765}
        return config

    monkeypatch.setattr(digwebs.config, "load_config", load_config)
    assert settings_of(run("--print-config"))["port"][0] == "8765"


def test_help_states_the_rule():
    result = click.testing.CliRunner().invoke(cli, ["serve", "--help"])
    text = " ".join(result.output.split())
    assert "DIGWEBS_SERVER__<KEY> environment variables" in text
    assert "DIGWEBS_SERVE_<OPTION> variables (DIGWEBS_SERVE_PORT) are deprecated" in text
    assert "The app: --app, DIGWEBS_APP, [server] app, else wsgiapp.py" in text
