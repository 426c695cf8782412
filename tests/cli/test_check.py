"""``digwebs check [--deploy]`` on a project made by ``digwebs new``.

Every ``--deploy`` finding is triggered from a fresh project's production
config and is absent from the clean one (in-process, through
:func:`digwebs_cli.check.deploy_findings`); the command itself runs on the
project (its app imported in a child process, as a worker would).
"""

from __future__ import annotations

import os
from pathlib import Path

import click.testing
import pytest

from digwebs_cli.check import deploy_findings
from digwebs_cli.main import cli
from digwebs_cli.serve_settings import load_project_config, resolve_settings

REPO = Path(__file__).resolve().parents[2]
SECRET = "8f1c2e9a7b3d4c6e0f5a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"


@pytest.fixture
def project(generated_copy: Path) -> Path:
    """A fresh copy of the generated project, the current folder, no DIGWEBS_* set."""
    return generated_copy


@pytest.fixture
def deployable(project, monkeypatch):
    """The fresh project plus what it needs for production: a secret and its host names."""
    monkeypatch.setenv("DIGWEBS_SECRET_KEY", SECRET)
    monkeypatch.setenv("DIGWEBS_ALLOWED_HOSTS", '["example.com"]')
    return project


def check(*args: str) -> click.testing.Result:
    return click.testing.CliRunner().invoke(cli, ["check", *args])


def finding_ids(output: str) -> list[str]:
    return [line.split()[1] for line in output.splitlines() if line.startswith(("error", "warn"))]


def ids_for(project: Path, env: str = "production") -> list[str]:
    config, secret_problem = load_project_config(project, env)
    settings = resolve_settings(project, {}, {}, env, "--env")
    return [f.id for f in deploy_findings(config, settings, secret_problem)]


# -- the command --------------------------------------------------------------


def test_a_fresh_project_with_a_secret_and_hosts_passes_deploy(deployable):
    result = check("--deploy")
    assert result.exit_code == 0, result.output
    assert result.output == "digwebs check (production, --deploy): no problems found\n"


def test_a_fresh_project_needs_a_secret_and_hosts(project):
    result = check("--deploy")
    assert result.exit_code == 1, result.output
    assert finding_ids(result.output) == ["hosts.E001", "security.E001"]
    lines = result.output.splitlines()
    assert lines[0].startswith("error    hosts.E001 allowed_hosts is empty")
    assert "DIGWEBS_SECRET_KEY" in lines[1]
    assert lines[-1] == "digwebs check (production, --deploy): 2 errors, 0 warnings"


def test_without_deploy_development_is_fine(project):
    result = check()
    assert result.exit_code == 0, result.output
    assert result.output == "digwebs check (development): no problems found\n"


def test_warnings_alone_exit_0(deployable, monkeypatch):
    monkeypatch.setenv("DIGWEBS_SERVER__WORKERS", '"threads"')  # (no gevent: a faster import)
    monkeypatch.setenv("DIGWEBS_CSRF_PROTECTION", "false")
    result = check("--deploy")
    assert result.exit_code == 0, result.output
    assert finding_ids(result.output) == ["csrf.W001"]
    assert result.output.splitlines()[0].startswith("warning  csrf.W001 csrf_protection is off")


def test_the_app_must_import(deployable):
    (deployable / "controllers" / "broken.py").write_text("import no_such_module_here\n")
    result = check()
    assert result.exit_code == 1, result.output
    assert finding_ids(result.output) == ["app.E001"]
    assert "no_such_module_here" in result.output


def test_the_app_needs_routes(deployable):
    for path in (deployable / "controllers").glob("*.py"):
        path.unlink()
    result = check()
    assert result.exit_code == 1, result.output
    assert finding_ids(result.output) == ["app.E002"]


def test_a_config_that_does_not_load(deployable):
    (deployable / "config" / "default.toml").write_text("this is = = not toml\n")
    result = check("--deploy")
    assert result.exit_code == 1, result.output
    assert finding_ids(result.output) == ["config.E001"]
    assert "invalid TOML" in result.output


def test_server_settings_that_contradict(deployable, monkeypatch):
    monkeypatch.setenv("DIGWEBS_SERVER__WORKERS", '"threads"')
    monkeypatch.setenv("DIGWEBS_SERVER__RELOAD", "true")
    monkeypatch.setenv("DIGWEBS_SERVER__WORKERZ", '"sync"')
    result = check("--deploy")
    assert result.exit_code == 1, result.output
    assert finding_ids(result.output) == ["server.E002", "server.W005"]


def test_deploy_reads_production_even_if_dotenv_says_development(deployable, monkeypatch):
    monkeypatch.setenv("DIGWEBS_SERVER__WORKERS", '"threads"')
    (deployable / ".env").write_text("DIGWEBS_ENV=development\n")
    result = check("--deploy")
    assert result.exit_code == 0, result.output
    assert "(production, --deploy)" in result.output
    assert check("--deploy", "--env", "development").exit_code == 1  # debug is on there


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--env", "staging"], "Error: unknown environment 'staging' (--env)"),
        (["--bogus"], "Error: No such option '--bogus'"),
    ],
)
def test_usage_errors_exit_2(project, args, expected):
    result = check(*args)
    assert result.exit_code == 2, result.output
    assert len(result.output.splitlines()) == 1 and result.output.startswith(expected)


def test_not_in_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DIGWEBS_")]:
        monkeypatch.delenv(name)
    result = check("--deploy")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: no app to serve")


# -- every --deploy finding, triggered and absent -----------------------------


def test_the_clean_production_config_has_no_findings(deployable):
    assert ids_for(deployable) == []


CASES = [
    # (environment variables, lines for config/production.toml, the finding)
    ({"DIGWEBS_SECRET_KEY": None}, "", "security.E001"),
    ({"DIGWEBS_SECRET_KEY": "short-but-16-chars"}, "", "security.W001"),
    ({"DIGWEBS_SECRET_KEY": "a" * 40}, "", "security.W001"),
    ({"DIGWEBS_DEBUG": "true"}, "", "security.E002"),
    ({"DIGWEBS_TEMPLATES_AUTO_RELOAD": "true"}, "", "config.W001"),
    ({"DIGWEBS_ALLOWED_HOSTS": None}, "", "hosts.E001"),
    ({"DIGWEBS_ALLOWED_HOSTS": '["*"]'}, "", "hosts.E001"),
    ({"DIGWEBS_TRUSTED_PROXIES": '["0.0.0.0/0"]'}, "", "proxies.E001"),
    ({"DIGWEBS_TRUSTED_PROXIES": "[]"}, "", "proxies.W001"),
    ({"DIGWEBS_SERVER__HOST": '"0.0.0.0"'}, "", "proxies.W002"),
    ({"DIGWEBS_SERVER__HOST": '"0.0.0.0"', "DIGWEBS_TRUSTED_PROXIES": "[]"}, "", "server.W001"),
    ({"DIGWEBS_SECURITY_HEADERS__STRICT_TRANSPORT_SECURITY": '""'}, "", "https.W001"),
    ({"DIGWEBS_SESSION_COOKIE_SECURE": "false"}, "", "https.W002"),
    ({"DIGWEBS_SESSION_COOKIE_HTTPONLY": "false"}, "", "cookies.W001"),
    ({"DIGWEBS_SESSION_COOKIE_SAMESITE": '"Sometimes"'}, "", "cookies.E001"),
    (
        {"DIGWEBS_SESSION_COOKIE_SAMESITE": '"None"', "DIGWEBS_SESSION_COOKIE_SECURE": "false"},
        "",
        "cookies.E002",
    ),
    ({"DIGWEBS_SESSION_COOKIE_SAMESITE": '"none"'}, "", "cookies.W002"),
    ({"DIGWEBS_CSRF_PROTECTION": "false"}, "", "csrf.W001"),
    ({"DIGWEBS_SECURITY_HEADERS__X_CONTENT_TYPE_OPTIONS": '""'}, "", "headers.W001"),
    ({"DIGWEBS_SECURITY_HEADERS__X_FRAME_OPTIONS": "false"}, "", "headers.W002"),
    ({"DIGWEBS_SECURITY_HEADERS__REFERRER_POLICY": '""'}, "", "headers.W003"),
    ({}, "[security_headers]\nx_frame_options = 5\n", "headers.E001"),
    ({"DIGWEBS_SERVER__WORKERS": '"sync"', "DIGWEBS_SERVER__TIMEOUT": "120"}, "", "server.W002"),
    ({"DIGWEBS_SERVER__WORKERS": '"sync"', "DIGWEBS_SERVER__TIMEOUT": "0"}, "", "server.W002"),
    ({"DIGWEBS_SERVER__TIMEOUT": "0"}, "", "server.W003"),
    (
        {"DIGWEBS_SERVER__WORKERS": '"threads"', "DIGWEBS_SERVER__HEADER_TIMEOUT": "120"},
        "",
        "server.W004",
    ),
]


@pytest.mark.parametrize("env, toml, expected", CASES, ids=[c[2] for c in CASES])
def test_each_finding(deployable, monkeypatch, env, toml, expected):
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    if toml:
        path = deployable / "config" / "production.toml"
        path.write_text(toml + path.read_text())
    assert expected in ids_for(deployable)


def test_the_development_secret_in_production(deployable, monkeypatch):
    monkeypatch.delenv("DIGWEBS_SECRET_KEY")
    dev = (deployable / "config" / "development.toml").read_text()
    secret_line = next(line for line in dev.splitlines() if line.startswith("secret_key"))
    path = deployable / "config" / "production.toml"
    path.write_text(secret_line + "\n" + path.read_text())
    config, problem = load_project_config(deployable, "production")
    assert problem is not None and "config/development.toml" in problem
    assert "security.E001" in ids_for(deployable)


def test_a_frame_ancestors_policy_replaces_x_frame_options(deployable, monkeypatch):
    monkeypatch.setenv("DIGWEBS_SECURITY_HEADERS__X_FRAME_OPTIONS", '""')
    monkeypatch.setenv(
        "DIGWEBS_SECURITY_HEADERS__CONTENT_SECURITY_POLICY", "\"frame-ancestors 'none'\""
    )
    assert ids_for(deployable) == []


def test_no_body_limit(deployable):
    config, _ = load_project_config(deployable, "production")
    config["max_content_length"] = None  # Digwebs(max_content_length=None)
    assert [f.id for f in deploy_findings(config, None, None)] == ["config.W002"]
