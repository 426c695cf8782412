"""``digwebs deploy``: the files that run a project in production.

Three commands, each printing one file for the project in the current
folder (or writing it with ``--output FILE``, which never overwrites a file
without ``--force``):

* ``digwebs deploy nginx``: an nginx configuration that balances N
  ``digwebs serve`` instances on 127.0.0.1, serves ``/static/`` itself and
  retries an instance that is restarting on the next one;
* ``digwebs deploy systemd``: a template unit, one instance per port
  (``myblog@8001``), reloaded gracefully on HUP;
* ``digwebs deploy container``: a Containerfile (and, with
  ``--ignore-file``, its ``.containerignore``).

The values come from the project's config for ``--env`` (production by
default), read as ``digwebs serve`` reads it: ``max_content_length``,
``allowed_hosts``, ``static_url_path``, the security headers and the
``[server]`` table. A production config without its secret yet is fine:
the secret lives on the server, not in these files.
"""

from __future__ import annotations

import dataclasses
import pwd
import re
import sys
import tomllib
import typing as t
from pathlib import Path

import click

from digwebs_cli.errors import DigwebsCliError
from digwebs_cli.locator import AppLocator, app_option, pass_locator

# --------------------------------------------------------------------------
# The project, as the deployment files need it


@dataclasses.dataclass
class Project:
    """What the deployment files say about the project in *root*."""

    root: Path
    name: str  # a name usable for nginx upstreams and systemd units
    env: str
    config: t.Mapping[str, t.Any]
    server_port: int
    keepalive: float
    graceful_timeout: float
    workers: str

    @property
    def static_folder(self) -> Path:
        """The folder nginx serves ``/static/`` from (the app's ``<root>/static``)."""
        return self.root / "static"


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug or "site"


def _project_name(root: Path) -> str:
    try:
        with (root / "pyproject.toml").open("rb") as fh:
            name = tomllib.load(fh).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        name = None
    return _slug(name if isinstance(name, str) and name else root.name)


def load_project(env: str, locator: AppLocator | str | None = None) -> Project:
    """The project in the current folder, its config and server settings for *env*.

    Not being in a project (no ``wsgiapp.py``, no ``--app``/``DIGWEBS_APP``)
    or a config that does not load is a :class:`DigwebsCliError`.

    :param locator: the command line's app (an import string also works).
    """
    from digwebs_cli.discovery import load_env_file
    from digwebs_cli.serve_settings import load_project_config, resolve_settings

    if not isinstance(locator, AppLocator):
        locator = AppLocator(locator)
    root = Path.cwd().resolve()
    load_env_file(root)
    settings = resolve_settings(root, {}, {}, env, "--env", locator)
    config, _ = load_project_config(root, env)
    return Project(
        root=root,
        name=_project_name(root),
        env=env,
        config=config,
        server_port=settings.port,
        keepalive=settings.keepalive,
        graceful_timeout=settings.graceful_timeout,
        workers=settings.workers,
    )


def _emit(text: str, output: Path | None, force: bool) -> None:
    """Print *text*, or write it to *output* (never over a file without *force*)."""
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists() and not force:
        raise DigwebsCliError(f"{output} exists: pass --force to overwrite it")
    try:
        output.write_text(text)
    except OSError as exc:
        raise DigwebsCliError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}", err=True)


def _port(value: int, what: str) -> int:
    if not 1 <= value <= 65535:
        raise DigwebsCliError(f"{what} must be from 1 to 65535, not {value}")
    return value


# --------------------------------------------------------------------------
# nginx

_NGINX_UNSAFE = re.compile(r'[$"\\\x00-\x1f\x7f]')

# Text types worth compressing (text/html is always on the list in nginx).
_GZIP_TYPES = (
    "text/css text/plain text/xml text/javascript application/javascript "
    "application/json application/xml application/rss+xml image/svg+xml"
)

# --full: a types table of its own, so the file depends on nothing installed
_MIME_TYPES = {
    "text/html": "html htm",
    "text/css": "css",
    "text/plain": "txt",
    "text/xml": "xml",
    "application/javascript": "js mjs",
    "application/json": "json map",
    "application/manifest+json": "webmanifest",
    "application/pdf": "pdf",
    "application/wasm": "wasm",
    "image/svg+xml": "svg svgz",
    "image/png": "png",
    "image/jpeg": "jpg jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/x-icon": "ico",
    "font/woff": "woff",
    "font/woff2": "woff2",
    "font/ttf": "ttf",
    "font/otf": "otf",
    "audio/mpeg": "mp3",
    "video/mp4": "mp4",
    "video/webm": "webm",
}


def nginx_string(value: str, what: str) -> str:
    """*value* as a quoted nginx string; refuse what nginx would read differently.

    nginx has no escape for ``$`` (a variable) in a plain string, so a path
    or header value that holds one (or a quote, a backslash, a control
    character) is refused rather than silently changed.
    """
    if _NGINX_UNSAFE.search(value):
        raise DigwebsCliError(
            f"{what} {value!r} holds a character nginx cannot take literally ($, quote, "
            "backslash or a control character)"
        )
    return f'"{value}"'


def _listen(value: str) -> tuple[str | None, int]:
    """``--listen`` as (address or None, port): ``80``, ``127.0.0.1:8080``, ``[::1]:80``."""
    text = value.strip()
    host: str | None = None
    port_text = text
    if ":" in text:
        host, _, port_text = text.rpartition(":")
        host = host.strip("[]") or None
    try:
        port = int(port_text)
    except ValueError:
        raise DigwebsCliError(
            f"--listen {value!r} is not a port or ADDRESS:PORT (e.g. 80, 127.0.0.1:8080)"
        ) from None
    return host, _port(port, "--listen port")


@dataclasses.dataclass
class NginxOptions:
    """What ``digwebs deploy nginx`` was asked for."""

    instances: int
    base_port: int
    listen: str
    server_names: tuple[str, ...]
    full: bool = False
    prefix: Path | None = None
    user: str | None = None
    ssl_certificate: Path | None = None
    ssl_certificate_key: Path | None = None


def _check_nginx_options(options: NginxOptions) -> tuple[str | None, int]:
    if options.instances < 1:
        raise DigwebsCliError(f"--instances must be 1 or more, not {options.instances}")
    if options.instances > 1000:
        raise DigwebsCliError(f"--instances must be 1000 or fewer, not {options.instances}")
    _port(options.base_port, "--port")
    last = options.base_port + options.instances - 1
    if last > 65535:
        raise DigwebsCliError(
            f"--port {options.base_port} with --instances {options.instances} ends at port "
            f"{last}, past 65535: pick a lower --port"
        )
    host, listen_port = _listen(options.listen)
    loopback_or_any = host in (None, "127.0.0.1", "0.0.0.0", "localhost", "::", "::1")
    if loopback_or_any and options.base_port <= listen_port <= last:
        raise DigwebsCliError(
            f"--listen port {listen_port} is one of the instances' ports "
            f"{options.base_port}-{last}: pick another --listen or --port"
        )
    if not options.full and (options.prefix is not None or options.user is not None):
        flag = "--prefix" if options.prefix is not None else "--user"
        raise DigwebsCliError(f"{flag} applies to a whole nginx.conf: add --full")
    if (options.ssl_certificate is None) != (options.ssl_certificate_key is None):
        raise DigwebsCliError("--ssl-certificate and --ssl-certificate-key go together")
    return host, listen_port


def nginx_config(project: Project, options: NginxOptions) -> str:
    """The nginx configuration of *project*: a ``server`` snippet, or a whole nginx.conf.

    The snippet (an ``upstream``, a ``map`` and a ``server``) belongs in
    nginx's ``http`` block (``/etc/nginx/sites-enabled/``); with ``full`` it
    is wrapped in a self-contained nginx.conf whose pid file, logs and temp
    folders lie under ``prefix`` (relative to nginx's ``-p`` prefix when no
    prefix is given), so ``nginx -p DIR -c DIR/nginx.conf`` runs it as any user.
    """
    host, listen_port = _check_nginx_options(options)
    name = project.name
    upstream = f"{name}_app"
    cache_var = f"${name}_static_cache"
    config = project.config
    ssl = options.ssl_certificate is not None
    last = options.base_port + options.instances - 1

    limit = config.get("max_content_length")
    # nginx's 0 means no limit, like max_content_length = None
    body_size = 0 if limit is None else int(limit)
    max_age = int(config.get("static_max_age") or 0)
    static_url = str(config.get("static_url_path") or "").rstrip("/")
    server_names = options.server_names or tuple(
        str(h) for h in config.get("allowed_hosts") or () if str(h) != "*"
    )
    names = " ".join(server_names) if server_names else "_"
    for host_name in server_names:
        if not re.fullmatch(r"[A-Za-z0-9.*_~^:\[\]-]+", host_name):
            raise DigwebsCliError(f"server name {host_name!r} is not a host name nginx takes")

    # the security headers the app sends, for the files nginx serves itself
    from digwebs import security_headers
    from digwebs.config import ConfigError

    try:
        parsed = security_headers.parse(config.get("security_headers"))
    except ConfigError as exc:
        raise DigwebsCliError(str(exc)) from None
    static_headers = [
        f"add_header {header} {nginx_string(value, header)} always;"
        for header, value in (parsed.https if ssl else parsed.plain)
    ]

    listen_addr = f"{'[' + host + ']' if host and ':' in host else host}:{listen_port}"
    listen = listen_addr if host else str(listen_port)
    keepalive_ms = int(project.keepalive * 1000) // 2

    out: list[str] = []
    add = out.append
    add(f"# nginx in front of {options.instances} digwebs serve instance(s) of {name!r},")
    add(f"# 127.0.0.1:{options.base_port}..{last} (made by `digwebs deploy nginx`).")
    add("# Start one instance per port, e.g. with `digwebs deploy systemd`:")
    add(f"#   digwebs serve --env {project.env} --port {options.base_port}")
    add("")
    add(f"upstream {upstream} {{")
    add("    # max_fails=0: an instance is never taken out of rotation. nginx's")
    add("    # default (max_fails=1 fail_timeout=10s) keeps a restarted instance idle")
    add("    # for 10 s after one refused connection, and when every instance has had")
    add("    # one failure (a restart, a kept-alive connection closed under a request)")
    add("    # answers 502 without trying any. On 127.0.0.1 a refused connection costs")
    add("    # microseconds, and the request moves on to the next instance.")
    for port in range(options.base_port, last + 1):
        add(f"    server 127.0.0.1:{port} max_fails=0;")
    if project.workers != "sync" and keepalive_ms > 0:
        add("    # idle connections kept open to the instances; closed by nginx before")
        add("    # the instance's own keep-alive (--keepalive) would close them, so a")
        add("    # request (a POST, which is never retried) never meets a closing one")
        add("    keepalive 32;")
        add(f"    keepalive_timeout {keepalive_ms}ms;")
    add("}")
    add("")
    if static_url:
        add("# /static/ URLs that carry the content hash (?v=...) never change: cache them")
        add("# for a year; others for static_max_age")
        add(f"map $arg_v {cache_var} {{")
        add(f'    ""      "public, max-age={max_age}";')
        add('    default "public, max-age=31536000, immutable";')
        add("}")
        add("")
    add("server {")
    if ssl:
        add(f"    listen {listen} ssl;")
        cert = nginx_string(str(options.ssl_certificate), "--ssl-certificate")
        key = nginx_string(str(options.ssl_certificate_key), "--ssl-certificate-key")
        add(f"    ssl_certificate {cert};")
        add(f"    ssl_certificate_key {key};")
        add("    ssl_protocols TLSv1.2 TLSv1.3;")
    else:
        add(f"    listen {listen};")
        add("    # TLS: `--ssl-certificate FILE --ssl-certificate-key FILE` (then the app")
        add("    # sees https and sends HSTS), or terminate TLS in front of this server.")
    add(f"    server_name {names};")
    add("")
    add("    # max_content_length of the app: a larger body is refused here already")
    add(f"    client_max_body_size {body_size};")
    add("")
    add("    gzip on;")
    add("    gzip_vary on;")
    add("    gzip_proxied any;")
    add("    gzip_min_length 256;")
    add(f"    gzip_types {_GZIP_TYPES};")
    add("")
    if static_url:
        folder = str(project.static_folder)
        alias = nginx_string(folder + "/", "the static folder")
        add("    # Static files straight from the project's folder. ^~: no regex location")
        add("    # takes these over; the trailing slashes of location and alias match,")
        add("    # so no URL reaches outside the folder.")
        add(f"    location ^~ {static_url}/ {{")
        add(f"        alias {alias};")
        quoted_folder = nginx_string(folder, "the static folder")
        add(f"        disable_symlinks if_not_owner from={quoted_folder};")
        add(f"        add_header Cache-Control {cache_var} always;")
        for line in static_headers:
            add(f"        {line}")
        add("        access_log off;")
        add("        # dotfiles are not served (as digwebs does not)")
        add("        location ~ /\\. {")
        add("            return 404;")
        add("        }")
        add("    }")
        if (project.static_folder / "favicon.ico").is_file():
            add("    location = /favicon.ico {")
            add(f"        alias {nginx_string(folder + '/favicon.ico', 'the favicon')};")
            add(f'        add_header Cache-Control "public, max-age={max_age}" always;')
            add("        access_log off;")
            add("    }")
        add("")
    add("    location / {")
    add(f"        proxy_pass http://{upstream};")
    add("        # HTTP/1.1 with no Connection header: keep-alive to the instances")
    add("        proxy_http_version 1.1;")
    add('        proxy_set_header Connection "";')
    add("        # What the app believes when trusted_proxies holds this nginx's")
    add("        # address (127.0.0.1 on this machine). nginx is the edge: the client's")
    add("        # own X-Forwarded-* are replaced, never passed on (an empty value sends")
    add("        # no header). Behind another proxy, use $proxy_add_x_forwarded_for and")
    add("        # add that proxy to trusted_proxies too.")
    add("        # $http_host: the Host the client sent, port included ($host drops")
    add("        # it), so absolute URLs and the CSRF origin check see the real site.")
    add("        proxy_set_header Host $http_host;")
    add("        proxy_set_header X-Forwarded-For $remote_addr;")
    add("        proxy_set_header X-Forwarded-Proto $scheme;")
    add("        proxy_set_header X-Forwarded-Host $http_host;")
    add('        proxy_set_header X-Forwarded-Prefix "";')
    add('        proxy_set_header Forwarded "";')
    add("        # A refused or timed-out connection, or a 502/503 from an instance that")
    add("        # is stopping, is retried on the next instance; nginx never retries a")
    add("        # POST, PATCH or LOCK once it was sent (no non_idempotent here).")
    add("        proxy_next_upstream error timeout http_502 http_503;")
    add("        proxy_connect_timeout 1s;")
    add("    }")
    add("}")
    snippet = "\n".join(out) + "\n"
    if not options.full:
        return snippet
    return _full_nginx_conf(snippet, options)


def _full_nginx_conf(snippet: str, options: NginxOptions) -> str:
    prefix = options.prefix

    def path(name: str) -> str:
        return nginx_string(str(prefix / name) if prefix is not None else name, "--prefix")

    out: list[str] = []
    add = out.append
    add("# A whole nginx.conf (made by `digwebs deploy nginx --full`). Run it with")
    if prefix is None:
        add("#   nginx -p DIR -c DIR/nginx.conf    (pid, logs and temp files in DIR)")
    else:
        add(f"#   nginx -c {prefix}/nginx.conf    (pid, logs and temp files in {prefix})")
    add("# and add -g 'daemon off;' to keep it in the foreground.")
    if options.user:
        add(f"user {options.user};")
    add("worker_processes auto;")
    add(f"pid {path('nginx.pid')};")
    add(f"error_log {path('error.log')} warn;")
    add("")
    add("events {")
    add("    worker_connections 1024;")
    add("}")
    add("")
    add("http {")
    add("    types {")
    for mime, extensions in _MIME_TYPES.items():
        add(f"        {mime} {extensions};")
    add("    }")
    add("    default_type application/octet-stream;")
    add(f"    access_log {path('access.log')};")
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        add(f"    {kind}_temp_path {path(kind + '_temp')};")
    add("    sendfile on;")
    add("    tcp_nopush on;")
    add("    server_tokens off;")
    add("")
    for line in snippet.splitlines():
        add(f"    {line}" if line else "")
    add("}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# systemd


def _owner(path: Path) -> str:
    try:
        return pwd.getpwuid(path.stat().st_uid).pw_name
    except (KeyError, OSError):
        return "root"


def _default_venv(root: Path) -> Path:
    """The project's ``.venv`` if it has one, else the environment running digwebs now."""
    if (root / ".venv" / "bin" / "python").exists():
        return root / ".venv"
    return Path(sys.prefix)


_SYSTEMD_UNSAFE = re.compile(r'[\s"\'\\%$;\x00-\x1f\x7f]')


def _systemd_path(path: Path, what: str) -> str:
    text = str(path)
    if _SYSTEMD_UNSAFE.search(text):
        raise DigwebsCliError(
            f"{what} {text!r} holds a space, quote, %, $ or another character a "
            "unit file would read differently: use a plain path"
        )
    return text


def systemd_unit(
    project: Project, user: str | None, venv: Path | None, environment_file: Path | None
) -> str:
    """A template unit ``<name>@.service``: one ``digwebs serve`` per port (the instance)."""
    root = project.root
    venv = (venv or _default_venv(root)).absolute()
    digwebs = venv / "bin" / "digwebs"
    user = user or _owner(root)
    env_file = environment_file or Path("/etc") / project.name / "env"
    stop = int(project.graceful_timeout) + 10
    name = project.name
    out = [
        f"# {name}@.service: one `digwebs serve` of {name!r} per port (made by",
        "# `digwebs deploy systemd`). Install and start two instances:",
        f"#   sudo cp {name}@.service /etc/systemd/system/",
        "#   sudo systemctl daemon-reload",
        f"#   sudo systemctl enable --now {name}@8001 {name}@8002",
        f"# Rolling restart: `systemctl reload {name}@8001` (graceful: new workers,",
        "# then the old ones finish their requests), or restart one port at a time.",
        "# Secrets (DIGWEBS_SECRET_KEY=...) go in the EnvironmentFile, mode 0600.",
    ]
    if user == "root":
        out.append("# NOTE: this runs as root: pass --user to pick an unprivileged account.")
    out += [
        "",
        "[Unit]",
        f"Description={name} (digwebs serve, port %i)",
        "After=network.target",
        "",
        "[Service]",
        # gunicorn tells systemd when it is ready (sd_notify), so a restart of
        # the next instance waits until this one accepts connections
        "Type=notify",
        "NotifyAccess=main",
        f"User={user}",
        f"WorkingDirectory={_systemd_path(root, 'the project folder')}",
        f"Environment=DIGWEBS_ENV={project.env}",
        "Environment=PYTHONUNBUFFERED=1",
        f"EnvironmentFile=-{_systemd_path(env_file, '--environment-file')}",
        f"ExecStart={_systemd_path(digwebs, 'the digwebs command')} serve "
        f"--env {project.env} --port %i",
        "ExecReload=/bin/kill -HUP $MAINPID",
        # SIGTERM: gunicorn's graceful stop (requests in flight finish)
        "KillMode=mixed",
        f"TimeoutStopSec={stop}",
        "Restart=on-failure",
        "RestartSec=1",
        "",
        "# Hardening: the app reads its folder and writes nothing but /tmp",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "LockPersonality=yes",
        "SystemCallArchitectures=native",
        "CapabilityBoundingSet=",
        "# A folder the app writes to (uploads, a SQLite database) needs a line:",
        f"# ReadWritePaths={root}/var",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# container

CONTAINERIGNORE = """\
# Kept out of the image (made by `digwebs deploy container --ignore-file`)
.git
.venv
venv
.env
__pycache__
*.pyc
.pytest_cache
.mypy_cache
.ruff_cache
node_modules
build
dist
*.egg-info
Containerfile
Dockerfile
.containerignore
.dockerignore
"""


def containerfile(project: Project, port: int, python: str) -> str:
    """A Containerfile for *project*: slim Python, a non-root user, ``digwebs serve``."""
    if not re.fullmatch(r"\d+\.\d+", python):
        raise DigwebsCliError(f"--python must be a version like 3.12, not {python!r}")
    healthcheck = (
        "import http.client as h; c = h.HTTPConnection('127.0.0.1', "
        f"{port}, timeout=3); c.request('GET', '/'); c.getresponse()"
    )
    cmd = ["digwebs", "serve", "--env", project.env, "--host", "0.0.0.0", "--port", str(port)]
    out = [
        f"# The {project.name!r} site in a container (made by `digwebs deploy container`).",
        "#   podman build -t NAME -f Containerfile .     (or docker build)",
        f"#   podman run -p {port}:{port} -e DIGWEBS_SECRET_KEY=... NAME",
        "# digwebs is not on the public package index: put a digwebs wheel in wheels/",
        "# first (pip wheel --no-deps -w wheels /path/to/digwebs); the build needs it.",
        "# Behind a proxy (nginx, a load balancer), set DIGWEBS_TRUSTED_PROXIES to its",
        "# address or network, e.g. -e DIGWEBS_TRUSTED_PROXIES='[\"10.0.0.0/8\"]'.",
        f"FROM docker.io/library/python:{python}-slim",
        "",
        "ENV PYTHONDONTWRITEBYTECODE=1 \\",
        "    PYTHONUNBUFFERED=1 \\",
        "    PIP_NO_CACHE_DIR=1 \\",
        "    PIP_DISABLE_PIP_VERSION_CHECK=1 \\",
        f"    DIGWEBS_ENV={project.env}",
        "",
        "# an unprivileged user owns nothing but its home: the code is read-only to it",
        "RUN useradd --create-home --uid 10001 --user-group app",
        "WORKDIR /srv/app",
        "",
        "# dependencies first, so a code change does not reinstall them",
        "COPY pyproject.toml README.md ./",
        "COPY wheels/ ./wheels/",
        'RUN pip install --find-links ./wheels ".[production]"',
        "COPY . .",
        "",
        "USER app",
        f"EXPOSE {port}",
        "# alive when it answers at all (a 400 for the Host 127.0.0.1 counts)",
        "HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\",
        f"    CMD {_json_list(['python', '-c', healthcheck])}",
        f"CMD {_json_list(cmd)}",
    ]
    return "\n".join(out) + "\n"


def _json_list(items: list[str]) -> str:
    import json

    return json.dumps(items)


# --------------------------------------------------------------------------
# The commands

_env_option = click.option(
    "--env",
    default="production",
    show_default=True,
    metavar="development|production",
    help="Whose config to read (config/<env>.toml).",
)
_output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the file here instead of printing it.",
)
_force_option = click.option("--force", is_flag=True, help="Overwrite --output if it exists.")


def _environment(env: str) -> str:
    from digwebs_cli.serve_settings import ENVIRONMENTS

    value = env.strip().lower()
    if value not in ENVIRONMENTS:
        raise DigwebsCliError(f"unknown environment {env!r}: choose development or production")
    return value


@click.group("deploy", short_help="Print nginx, systemd or container files for the project.")
def deploy_command() -> None:
    """Print the files that run the project in production.

    \b
      digwebs deploy nginx      nginx in front of N instances
      digwebs deploy systemd    a template unit, one instance per port
      digwebs deploy container  a Containerfile (--ignore-file: .containerignore)

    Each prints to stdout; --output FILE writes the file instead (--force
    to overwrite).
    """


@deploy_command.command("nginx")
@click.option(
    "--instances",
    type=int,
    default=2,
    show_default=True,
    metavar="N",
    help="How many `digwebs serve` instances nginx balances.",
)
@click.option(
    "--port",
    "base_port",
    type=int,
    metavar="BASE",
    help="The first instance's port; the others follow [default: [server] port].",
)
@click.option(
    "--listen",
    default="80",
    show_default=True,
    metavar="PORT|ADDR:PORT",
    help="Where nginx listens.",
)
@click.option(
    "--server-name",
    "server_names",
    multiple=True,
    metavar="NAME",
    help="Host names of the site, repeatable [default: allowed_hosts].",
)
@click.option(
    "--full",
    is_flag=True,
    help="A whole nginx.conf (events, http, pid, temp paths) instead of a "
    "server snippet for sites-enabled/.",
)
@click.option(
    "--prefix",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="--full: put the pid file, logs and temp folders in DIR.",
)
@click.option("--user", metavar="NAME", help="--full: the user nginx's workers run as.")
@click.option(
    "--ssl-certificate",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Serve https with this certificate (and its key).",
)
@click.option(
    "--ssl-certificate-key",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The certificate's private key.",
)
@_env_option
@app_option
@_output_option
@_force_option
@pass_locator
def nginx_command(
    locator: AppLocator,
    instances: int,
    base_port: int | None,
    listen: str,
    server_names: tuple[str, ...],
    full: bool,
    prefix: Path | None,
    user: str | None,
    ssl_certificate: Path | None,
    ssl_certificate_key: Path | None,
    env: str,
    output: Path | None,
    force: bool,
) -> None:
    """Print an nginx configuration that balances the project's instances.

    An upstream of --instances N at 127.0.0.1:BASE..BASE+N-1 with keep-alive,
    retries of idempotent requests on the next instance while one restarts,
    the forwarded headers the app's trusted_proxies believe, /static/ and
    /favicon.ico served from the project's folder (content-hash URLs cached
    for a year), gzip, and client_max_body_size from max_content_length.

    By default a server snippet for nginx's sites-enabled/ (inside http);
    with --full a self-contained nginx.conf that `nginx -t -c FILE` accepts.
    """
    project = load_project(_environment(env), locator)
    options = NginxOptions(
        instances=instances,
        base_port=project.server_port if base_port is None else base_port,
        listen=listen,
        server_names=server_names,
        full=full,
        prefix=prefix.absolute() if prefix is not None else None,
        user=user,
        ssl_certificate=ssl_certificate.absolute() if ssl_certificate else None,
        ssl_certificate_key=ssl_certificate_key.absolute() if ssl_certificate_key else None,
    )
    _emit(nginx_config(project, options), output, force)


@deploy_command.command("systemd")
@click.option(
    "--user",
    metavar="NAME",
    help="The account the instances run as [default: the project folder's owner].",
)
@click.option(
    "--venv",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="The virtual environment with digwebs and the project installed "
    "[default: ./.venv, else the one running this command].",
)
@click.option(
    "--environment-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Secrets as KEY=value lines [default: /etc/<name>/env].",
)
@_env_option
@app_option
@_output_option
@_force_option
@pass_locator
def systemd_command(
    locator: AppLocator,
    user: str | None,
    venv: Path | None,
    environment_file: Path | None,
    env: str,
    output: Path | None,
    force: bool,
) -> None:
    """Print a systemd template unit: one instance per port (NAME@PORT).

    ExecStart runs `digwebs serve --env production --port %i` from the
    project's virtual environment; `systemctl reload` sends HUP (a graceful
    reload); the unit restarts on failure and runs hardened (read-only
    system, no new privileges).
    """
    project = load_project(_environment(env), locator)
    if user is not None and not re.fullmatch(r"[a-z_][a-z0-9_.-]*\$?", user):
        raise DigwebsCliError(f"--user {user!r} is not a user name")
    _emit(systemd_unit(project, user, venv, environment_file), output, force)


@deploy_command.command("container")
@click.option(
    "--port",
    type=int,
    default=8000,
    show_default=True,
    metavar="PORT",
    help="The port the app listens on in the container.",
)
@click.option(
    "--python",
    default=f"{sys.version_info[0]}.{sys.version_info[1]}",
    show_default=True,
    metavar="X.Y",
    help="The python image's version.",
)
@click.option("--ignore-file", is_flag=True, help="Print the .containerignore instead.")
@_env_option
@app_option
@_output_option
@_force_option
@pass_locator
def container_command(
    locator: AppLocator,
    port: int,
    python: str,
    ignore_file: bool,
    env: str,
    output: Path | None,
    force: bool,
) -> None:
    """Print a Containerfile for the project (or, with --ignore-file, its .containerignore).

    A slim Python base, the project installed with its production extra, a
    non-root user, EXPOSE, a HEALTHCHECK and `digwebs serve --env production
    --host 0.0.0.0` as the command.
    """
    project = load_project(_environment(env), locator)
    _port(port, "--port")
    text = CONTAINERIGNORE if ignore_file else containerfile(project, port, python)
    _emit(text, output, force)
