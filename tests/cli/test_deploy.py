"""``digwebs deploy nginx|systemd|container`` on a project made by ``digwebs new``.

The nginx configuration is checked by the real nginx (``nginx -t``, and a
live nginx in the foreground serving the static folder and refusing ways
out of it); the systemd unit by ``systemd-analyze verify``; the
Containerfile by a parser of its instructions (there is no container
runtime here).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click.testing
import pytest
from _helpers import free_port

from digwebs_cli.main import cli

REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


@pytest.fixture
def project(generated_copy: Path) -> Path:
    """A fresh copy of the generated project, the current folder, no DIGWEBS_* set."""
    return generated_copy


def deploy(*args: str) -> click.testing.Result:
    return click.testing.CliRunner().invoke(cli, ["deploy", *args])


def ok(*args: str) -> str:
    result = deploy(*args)
    assert result.exit_code == 0, result.output
    return result.output


def one_error(result: click.testing.Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


# -- nginx: what it says ------------------------------------------------------


def test_nginx_upstream_and_proxy_settings(project):
    text = ok("nginx", "--instances", "3", "--port", "8001", "--listen", "80")
    servers = re.findall(r"server 127\.0\.0\.1:(\d+) max_fails=0;", text)
    assert servers == ["8001", "8002", "8003"]
    for line in (
        "keepalive 32;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host $http_host;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $http_host;",
        'proxy_set_header X-Forwarded-Prefix "";',
        "proxy_next_upstream error timeout http_502 http_503;",
        "proxy_connect_timeout 1s;",
        "listen 80;",
        "server_name _;",
        "client_max_body_size 16777216;",
        "gzip on;",
    ):
        assert line in text, line
    assert "non_idempotent" not in text.replace("(no non_idempotent here)", "")
    static = str(project / "static")
    assert f'alias "{static}/";' in text
    assert "location ^~ /static/ {" in text
    assert f'alias "{static}/favicon.ico";' in text


def test_nginx_takes_the_config(project, monkeypatch):
    (project / "config" / "production.toml").write_text(
        'max_content_length = 1048576\nallowed_hosts = ["example.com", "*.example.org"]\n'
        "[server]\nport = 9100\nkeepalive = 5\n"
    )
    text = ok("nginx", "--instances", "2")
    assert "client_max_body_size 1048576;" in text
    assert "server_name example.com *.example.org;" in text
    assert re.findall(r"server 127\.0\.0\.1:(\d+)", text) == ["9100", "9101"]
    assert "keepalive_timeout 2500ms;" in text  # half the instances' keep-alive
    # the command line wins over allowed_hosts; a missing limit is nginx's 0 (none)
    monkeypatch.setenv("DIGWEBS_MAX_CONTENT_LENGTH", "0")
    text = ok("nginx", "--server-name", "a.example", "--server-name", "b.example")
    assert "server_name a.example b.example;" in text
    assert "client_max_body_size 0;" in text


def test_nginx_sync_workers_get_no_upstream_keepalive(project, monkeypatch):
    # gunicorn's sync worker closes every connection: nothing to keep alive
    monkeypatch.setenv("DIGWEBS_SERVER__WORKERS", '"sync"')
    assert "keepalive 32;" not in ok("nginx")


def test_nginx_output_file_is_never_overwritten_without_force(project, tmp_path):
    target = tmp_path / "site.conf"
    ok("nginx", "--output", str(target))
    first = target.read_text()
    assert "upstream site_app" in first
    target.write_text("mine")
    assert "exists" in one_error(deploy("nginx", "--output", str(target)))
    assert target.read_text() == "mine"
    ok("nginx", "--output", str(target), "--force")
    assert target.read_text() == first


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--instances", "0"], "--instances must be 1 or more"),
        (["--port", "0"], "--port must be from 1 to 65535"),
        (["--port", "70000"], "--port must be from 1 to 65535"),
        (["--port", "65535", "--instances", "2"], "past 65535"),
        (["--port", "8000", "--instances", "4", "--listen", "8002"], "one of the instances"),
        (["--port", "8000", "--listen", "127.0.0.1:8001"], "one of the instances"),
        (["--listen", "99999"], "--listen port must be from 1 to 65535"),
        (["--listen", "web"], "is not a port"),
        (["--prefix", "/tmp/x"], "--prefix applies to a whole nginx.conf"),
        (["--ssl-certificate", "/tmp/c.pem"], "go together"),
        (["--server-name", "a b;"], "not a host name"),
        (["--instances", "two"], "'two' is not a valid integer"),
        (["--env", "staging"], "unknown environment"),
    ],
)
def test_nginx_bad_arguments(project, args, expected):
    assert expected in one_error(deploy("nginx", *args))


@pytest.mark.parametrize("kind", ["nginx", "systemd", "container"])
def test_not_in_a_project(kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DIGWEBS_")]:
        monkeypatch.delenv(name)
    assert "no app to serve" in one_error(deploy(kind))


def test_nginx_refuses_a_project_path_nginx_would_misread(generated, tmp_path, monkeypatch):
    root = tmp_path / "my$site"
    shutil.copytree(generated, root)
    monkeypatch.chdir(root)
    assert "nginx cannot take literally" in one_error(deploy("nginx"))


# -- nginx: the real thing ----------------------------------------------------


def nginx_test(conf: Path) -> subprocess.CompletedProcess[str]:
    assert NGINX is not None
    return subprocess.run(
        [NGINX, "-t", "-q", "-e", "stderr", "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )


@needs_nginx
def test_nginx_t_accepts_the_full_config_as_printed(project, tmp_path):
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    ok("nginx", "--full", "--prefix", str(prefix), "--listen", "127.0.0.1:8080", "-o", str(conf))
    proc = nginx_test(conf)
    assert proc.returncode == 0, proc.stderr + conf.read_text()


@needs_nginx
def test_nginx_t_accepts_the_snippet_inside_http(project, tmp_path):
    """The snippet as sites-enabled/ holds it: included in the http block."""
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    snippet = prefix / "site.conf"
    ok("nginx", "--listen", "127.0.0.1:8080", "-o", str(snippet))
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"pid {prefix}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {prefix}/body;\n"
        f"  proxy_temp_path {prefix}/proxy;\n  include {snippet};\n}}\n"
    )
    proc = nginx_test(conf)
    assert proc.returncode == 0, proc.stderr + snippet.read_text()


@needs_nginx
def test_nginx_t_accepts_tls(project, tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    ok(
        "nginx",
        "--full",
        "--prefix",
        str(prefix),
        "--listen",
        "127.0.0.1:8443",
        "--ssl-certificate",
        str(cert),
        "--ssl-certificate-key",
        str(key),
        "-o",
        str(conf),
    )
    text = conf.read_text()
    assert "listen 127.0.0.1:8443 ssl;" in text
    assert 'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains"' in text
    proc = nginx_test(conf)
    assert proc.returncode == 0, proc.stderr


class _Upstream(BaseHTTPRequestHandler):
    """Stands in for the instances: says which path reached it."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        seen = {
            name: self.headers.get(name)
            for name in ("Host", "X-Forwarded-Host", "X-Forwarded-Prefix", "X-Forwarded-For")
        }
        body = f"app saw {self.path} {json.dumps(seen, sort_keys=True)}".encode()
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: t.Any) -> None:
        pass


def _raw_get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True, skip_host="Host" in headers)
        for name, value in headers.items():
            conn.putheader(name.replace("_", "-"), value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


TRAVERSALS = [
    "/static/../config/production.toml",
    "/static/..%2fconfig/production.toml",
    "/static/%2e%2e/config/production.toml",
    "/static/.%2e/%2e%2e/config/production.toml",
    "/static//../config/production.toml",
    "/static/css/../../config/production.toml",
    "/static/css/..%2f..%2fconfig/production.toml",
    "/static..%2fconfig/production.toml",
    "/static../config/production.toml",
    "/static%2f..%2fconfig/production.toml",
    "/favicon.ico/../config/production.toml",
    "/static/%252e%252e/config/production.toml",
    "/static/.secret",
    "/static/css/.secret",
]


@needs_nginx
def test_live_nginx_serves_static_and_no_way_out(project, tmp_path):
    (project / "static" / ".secret").write_text("SECRET-DOTFILE")
    (project / "static" / "css" / ".secret").write_text("SECRET-DOTFILE")
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    listen = free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    # --user root: pytest's folders are private to their owner, who may be root
    user = ["--user", "root"] if os.geteuid() == 0 else []
    ok(
        "nginx",
        "--full",
        "--prefix",
        str(prefix),
        "--instances",
        "1",
        "--port",
        str(upstream.server_address[1]),
        "--listen",
        f"127.0.0.1:{listen}",
        *user,
        "-o",
        str(conf),
    )
    proc = subprocess.Popen(
        [NGINX, "-e", "stderr", "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, headers, body = _raw_get(listen, "/static/css/site.css")
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        css = (project / "static" / "css" / "site.css").read_bytes()
        assert (status, body) == (200, css)
        assert headers["content-type"].startswith("text/css")
        assert headers["cache-control"] == "public, max-age=3600"
        assert headers["x-content-type-options"] == "nosniff"
        status, headers, _ = _raw_get(listen, "/static/css/site.css?v=0123abcd")
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        status, headers, _ = _raw_get(listen, "/static/css/site.css", Accept_Encoding="gzip")
        assert headers.get("content-encoding") == "gzip"
        status, _, body = _raw_get(listen, "/favicon.ico")
        assert (status, body) == (200, (project / "static" / "favicon.ico").read_bytes())
        # the app's pages go to the upstream
        _, _, body = _raw_get(
            listen,
            "/about",
            Host="site.test:8443",
            X_Forwarded_Prefix="/evil",
            X_Forwarded_For="10.6.6.6",
        )
        path, seen = body.decode().split(" ", 3)[2:]
        assert path == "/about"
        # the Host as sent, port included; the client's own X-Forwarded-* replaced
        assert json.loads(seen) == {
            "Host": "site.test:8443",
            "X-Forwarded-Host": "site.test:8443",
            "X-Forwarded-Prefix": None,
            "X-Forwarded-For": "127.0.0.1",
        }

        secret = (project / "config" / "production.toml").read_bytes()
        for path in TRAVERSALS:
            status, _, body = _raw_get(listen, path)
            assert secret not in body and b"SECRET" not in body, path
            assert status in (400, 403, 404), (path, status, body)
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful stop of nginx's master, by its pid
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
        upstream.shutdown()
        upstream.server_close()


# -- systemd ------------------------------------------------------------------


def test_systemd_unit(project):
    text = ok("systemd", "--user", "www-data", "--venv", "/srv/site/.venv")
    for line in (
        "ExecStart=/srv/site/.venv/bin/digwebs serve --env production --port %i",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "User=www-data",
        f"WorkingDirectory={project}",
        "EnvironmentFile=-/etc/site/env",
        "Type=notify",
    ):
        assert line in text.splitlines(), line


def test_systemd_unit_parses(project):
    """Every line is a comment, a [Section] or Key=value of a known section."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in ok("systemd").splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None and re.fullmatch(r"[A-Za-z]+", key), line
        current.setdefault(key, []).append(value)
    assert set(sections) == {"Unit", "Service", "Install"}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_verify(project, tmp_path):
    unit = tmp_path / "site@.service"
    # a venv that exists, so that verify finds ExecStart's command
    ok("systemd", "--venv", str(Path(sys.prefix)), "-o", str(unit))
    if not (Path(sys.prefix) / "bin" / "digwebs").exists():
        pytest.skip("no digwebs console script in this environment")
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--user", "no body"], "is not a user name"),
        (["--venv", "/srv/my site"], "a unit file would read differently"),
        (["--env", "prod"], "unknown environment"),
    ],
)
def test_systemd_bad_arguments(project, args, expected):
    assert expected in one_error(deploy("systemd", *args))


# -- container ----------------------------------------------------------------

# Every Containerfile instruction (Dockerfile reference)
INSTRUCTIONS = {
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
}


def parse_containerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = pending + line
        pending = ""
        word, _, rest = whole.strip().partition(" ")
        instructions.append((word, rest.strip()))
    assert not pending, "a continuation at the end of the file"
    return instructions


def test_containerfile_parses(project):
    instructions = parse_containerfile(ok("container"))
    words = [word for word, _ in instructions]
    assert set(words) <= INSTRUCTIONS, set(words) - INSTRUCTIONS
    assert words[0] == "FROM" and re.fullmatch(r".*python:3\.\d+-slim", instructions[0][1])
    args = dict(instructions)
    assert args["USER"] == "app"
    assert args["EXPOSE"] == "8000"
    cmd = json.loads(args["CMD"])
    assert cmd == ["digwebs", "serve", "--env", "production", "--host", "0.0.0.0", "--port", "8000"]
    health = args["HEALTHCHECK"]
    options, _, health_cmd = health.partition(" CMD ")
    assert "--interval=" in options
    exec_form = json.loads(health_cmd)
    compile(exec_form[2], "<healthcheck>", "exec")  # the python -c line is Python
    # the non-root user comes before CMD, the code is copied before it runs
    assert words.index("USER") < words.index("CMD")
    assert "DIGWEBS_ENV=production" in args["ENV"]


def test_containerfile_options(project):
    instructions = dict(parse_containerfile(ok("container", "--port", "9000", "--python", "3.12")))
    assert instructions["FROM"].endswith("python:3.12-slim")
    assert instructions["EXPOSE"] == "9000"
    assert "bad" in one_error(deploy("container", "--python", "bad"))
    assert "--port must be from 1 to 65535" in one_error(deploy("container", "--port", "0"))


def test_containerignore(project):
    lines = ok("container", "--ignore-file").splitlines()
    for name in (".env", ".venv", ".git", "__pycache__"):
        assert name in lines


def test_the_readme_deploy_commands_run(project):
    """Every `digwebs deploy` line of the generated README works as written."""
    import shlex

    readme = (project / "README.md").read_text()
    lines = [line.strip() for line in readme.splitlines() if line.startswith("    digwebs deploy ")]
    assert {shlex.split(line)[2] for line in lines} == {"nginx", "systemd", "container"}
    for line in lines:
        words = shlex.split(line.split(">")[0])
        result = click.testing.CliRunner().invoke(cli, words[1:])
        assert result.exit_code == 0, (line, result.output)
