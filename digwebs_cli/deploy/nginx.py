"""``digwebs deploy nginx``'s file: nginx in front of N ``digwebs serve`` instances.

:func:`nginx_config` writes a ``server`` snippet (an ``upstream``, a
``map`` and a ``server`` for nginx's ``http`` block), or with ``--full`` a
self-contained nginx.conf around it; :func:`nginx_string` quotes what goes
into it and refuses what nginx would read differently.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from digwebs_cli.deploy.project import Project, check_port
from digwebs_cli.errors import DigwebsCliError

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
    return host, check_port(port, "--listen port")


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
    check_port(options.base_port, "--port")
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
