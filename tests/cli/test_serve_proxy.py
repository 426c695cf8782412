"""``digwebs serve`` derives gunicorn's proxy trust from the app's ``trusted_proxies``.

gunicorn trusts 127.0.0.1 for ``X-Forwarded-Proto`` by default; digwebs
trusts nobody by default. ``digwebs serve`` hands gunicorn the app's own
list, so the two cannot disagree: live tests against a real ``digwebs
serve`` and the settings as ``--print-config`` shows them.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click.testing
import pytest
from _helpers import free_port

from digwebs_cli.main import cli

REPO = Path(__file__).resolve().parents[2]

# A plain WSGI app: what gunicorn itself put in the environ, with no
# framework between it and the answer.
SCHEME_APP = """\
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    body = environ["wsgi.url_scheme"] + " " + environ.get("SCRIPT_NAME", "")
    return [body.encode()]
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "wsgiapp.py").write_text(SCHEME_APP)
    (tmp_path / "config").mkdir()
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DIGWEBS_")]:
        monkeypatch.delenv(name)
    return tmp_path


def print_config(*args: str) -> dict[str, str]:
    result = click.testing.CliRunner().invoke(
        cli, ["serve", "--print-config", *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    table = {}
    for line in result.output.splitlines():
        parts = line.split(None, 2)
        if line.startswith("  ") and len(parts) >= 2:
            table.setdefault(parts[0], " ".join(parts[1:]))
    return table


def test_no_trusted_proxies_means_gunicorn_trusts_nobody(project):
    table = print_config()
    assert table["trusted_proxies"] == "[] default"
    assert table["forwarded_allow_ips"] == "''"
    assert table["secure_scheme_headers"] == "{}"
    assert table["forwarder_headers"] == "''"


def test_trusted_proxies_from_the_environment(project, monkeypatch):
    monkeypatch.setenv("DIGWEBS_TRUSTED_PROXIES", '["127.0.0.1", "10.0.0.0/8", "::1"]')
    table = print_config()
    assert table["trusted_proxies"] == "127.0.0.1,10.0.0.0/8,::1 DIGWEBS_TRUSTED_PROXIES"
    assert table["forwarded_allow_ips"] == "127.0.0.1,10.0.0.0/8,::1"
    assert table["secure_scheme_headers"] == "X-FORWARDED-PROTO=https"


def test_trusted_proxies_from_the_env_config_file(project):
    (project / "config" / "default.toml").write_text('trusted_proxies = ["192.0.2.1"]\n')
    (project / "config" / "production.toml").write_text('trusted_proxies = ["127.0.0.1"]\n')
    assert print_config()["trusted_proxies"] == "192.0.2.1 config/default.toml"
    table = print_config("--env", "production")
    assert table["trusted_proxies"] == "127.0.0.1 config/production.toml"


@pytest.mark.parametrize(
    "value", ['["localhost"]', '["10.0.0.300"]', '["10.1.2.3/8"]', '"not a list"', "3"]
)
def test_a_bad_trusted_proxy_is_one_error_line(project, monkeypatch, value):
    monkeypatch.setenv("DIGWEBS_TRUSTED_PROXIES", value)
    result = click.testing.CliRunner().invoke(cli, ["serve", "--print-config"])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "trusted_proxies" in lines[0]
    assert lines[0].endswith("(set in DIGWEBS_TRUSTED_PROXIES)")


def test_gunicorn_accepts_the_derived_settings(project, monkeypatch):
    """gunicorn's own validators take every derived value (CIDRs included)."""
    from gunicorn.config import Config

    from digwebs_cli.serve_settings import gunicorn_options, resolve_settings

    monkeypatch.setenv("DIGWEBS_TRUSTED_PROXIES", '["127.0.0.1", "10.0.0.0/8", "fd00::/8"]')
    settings = resolve_settings(project, {}, {}, "production", "--env")
    cfg = Config()
    for key in ("forwarded_allow_ips", "secure_scheme_headers", "forwarder_headers"):
        cfg.set(key, gunicorn_options(settings)[key])
    assert cfg.forwarded_allow_ips == ["127.0.0.1", "10.0.0.0/8", "fd00::/8"]
    assert cfg.secure_scheme_headers == {"X-FORWARDED-PROTO": "https"}
    assert cfg.forwarder_headers == []


# -- live: a real digwebs serve ---------------------------------------------


def _get(port: int, headers: dict[str, str]) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/", headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200
        return resp.read().decode()
    finally:
        conn.close()


def _serve_and_ask(project: Path, headers: dict[str, str], **env: str) -> str:
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("DIGWEBS_")}
    child_env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", **env)
    log = (project / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "digwebs_cli",
            "serve",
            "--env",
            "production",
            "--workers",
            "threads",
            "--port",
            str(port),
        ],
        cwd=project,
        env=child_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (project / f"serve-{port}.log").read_text()
            try:
                return _get(port, headers)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


FORGED = {"X-Forwarded-Proto": "https", "SCRIPT_NAME": "/forged"}


def test_live_untrusted_forwarded_proto_changes_nothing(project):
    # 127.0.0.1 is gunicorn's default trusted address: digwebs serve must undo that
    assert _serve_and_ask(project, FORGED) == "http "


def test_live_trusted_proxy_sets_https(project):
    answer = _serve_and_ask(project, FORGED, DIGWEBS_TRUSTED_PROXIES='["127.0.0.1"]')
    # https from the trusted peer; SCRIPT_NAME is never taken from a header
    assert answer == "https "


def test_a_bad_trusted_proxy_in_a_file_names_the_file(project):
    (project / "config" / "production.toml").write_text('trusted_proxies = ["nginx"]\n')
    result = click.testing.CliRunner().invoke(cli, ["serve", "--env", "production", "--check"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().endswith("(set in config/production.toml)"), result.output
