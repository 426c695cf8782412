"""``digwebs check [--deploy]``: find what would go wrong before it does.

As Django's ``manage.py check --deploy``: one line per finding,
``error    <ID> <what, and how to fix it>`` or ``warning  <ID> ...``, then a
summary line; the exit status is 1 when there is an error, 0 otherwise (a
usage error stays 2).

Without ``--deploy`` the checks that hold in any environment: the config
loads, the ``[server]`` settings resolve and agree with each other, the app
imports the way a worker imports it (a child process, after gevent's
patching under ``--workers gevent``) and has routes.

``--deploy`` (whose environment is production unless ``--env`` says
otherwise) adds what a production site needs: the secret, debug off,
allowed hosts, trusted proxies, HTTPS, cookie flags, CSRF, the security
headers, and what the server settings imply.

The findings are computed by :func:`deploy_findings` from the config and
the server settings alone, so each can be tested without a project.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import click

from digwebs_cli.errors import DigwebsCliError
from digwebs_cli.locator import AppLocator, app_option, pass_locator

if t.TYPE_CHECKING:  # pragma: no cover
    from digwebs_cli.serve_settings import Settings

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_ALL_INTERFACES = ("0.0.0.0", "::", "")
_SYNC_TIMEOUT = 30.0  # seconds: longer, and one slow request holds a sync process that long
_HEADER_TIMEOUT = 30.0
_SECRET_MIN_LENGTH = 32
_SECRET_MIN_UNIQUE = 5


class Finding(t.NamedTuple):
    """One finding: ``level`` is ``"error"`` or ``"warning"``; ``id`` like ``security.E001``."""

    level: str
    id: str
    text: str

    def line(self) -> str:
        """The finding as ``digwebs check`` prints it."""
        return f"{self.level:<7}  {self.id} {self.text}"


def _error(id: str, text: str) -> Finding:
    return Finding("error", id, text)


def _warning(id: str, text: str) -> Finding:
    return Finding("warning", id, text)


# --------------------------------------------------------------------------
# --deploy: the config and the server settings


def deploy_findings(
    config: t.Mapping[str, t.Any], settings: Settings | None, secret_problem: str | None
) -> list[Finding]:
    """What a production deployment of this config and these server settings gets wrong.

    :param config: the app's config for the environment checked
        (:func:`digwebs_cli.serve_settings.load_project_config`).
    :param settings: the ``digwebs serve`` settings for it, or None when they
        do not resolve (that is reported by the base checks).
    :param secret_problem: why digwebs refuses the secret_key, or None.
    """
    from digwebs import hosts, proxies, security_headers
    from digwebs.config import ConfigError

    found: list[Finding] = []
    add = found.append

    # -- the secret and debug
    secret = config.get("secret_key")
    if secret_problem is not None:
        add(_error("security.E001", secret_problem))
    elif secret is not None:
        text = str(secret)
        if len(text) < _SECRET_MIN_LENGTH or len(set(text)) < _SECRET_MIN_UNIQUE:
            add(
                _warning(
                    "security.W001",
                    f"secret_key has {len(text)} characters ({len(set(text))} different): "
                    "sessions and CSRF tokens are only as strong as it is. Use a long random "
                    "one: python -c 'import secrets; print(secrets.token_hex(32))'.",
                )
            )
    if config.get("debug"):
        add(
            _error(
                "security.E002",
                "debug is on: an error page shows source code, local variables and the "
                "config to anyone. Set debug = false in config/production.toml (and unset "
                "DIGWEBS_DEBUG).",
            )
        )
    if config.get("templates_auto_reload"):
        add(
            _warning(
                "config.W001",
                "templates_auto_reload is on: every render checks the template files for "
                "changes. Leave it unset in production (it follows debug).",
            )
        )
    if config.get("max_content_length") is None:
        add(
            _warning(
                "config.W002",
                "max_content_length is unset, so request bodies of any size are read: set "
                "a limit in bytes, e.g. max_content_length = 16777216.",
            )
        )

    # -- hosts and proxies (the runtime's own findings)
    try:
        for text in hosts.host_problems(config):
            add(_error("hosts.E001", text))
    except ConfigError as exc:
        add(_error("hosts.E002", str(exc)))
    try:
        for text in proxies.proxy_problems(config):
            add(_error("proxies.E001", text))
        trusted = proxies.parse_trusted_proxies(config.get("trusted_proxies") or [])
    except ConfigError as exc:
        add(_error("proxies.E002", str(exc)))
        trusted = ()
    if settings is not None:
        host = settings.host.strip("[]").lower()
        local_proxies = bool(trusted) and all(net.is_loopback for net in trusted)
        if host in _LOOPBACK and not trusted:
            add(
                _warning(
                    "proxies.W001",
                    f"the server listens on {settings.host} only, so a proxy on this machine "
                    "forwards to it, but trusted_proxies is empty: the app sees every client "
                    'as 127.0.0.1 and every request as http. Set trusted_proxies = ["127.0.0.1"].',
                )
            )
        elif host in _ALL_INTERFACES and local_proxies:
            add(
                _warning(
                    "proxies.W002",
                    f"the server listens on every interface, {settings.host} "
                    f"({settings.label('host')}) although its proxy is on this machine: "
                    "clients can reach it around the proxy. Listen on 127.0.0.1 ([server] host).",
                )
            )
        elif host in _ALL_INTERFACES and not trusted:
            add(
                _warning(
                    "server.W001",
                    f"the server listens on every interface, {settings.host} "
                    f"({settings.label('host')}) with no proxy in front: nothing buffers slow "
                    "clients, terminates TLS or serves static files. Put nginx in front (digwebs "
                    'deploy nginx), listen on 127.0.0.1 and set trusted_proxies = ["127.0.0.1"].',
                )
            )

    # -- HTTPS and cookies
    table = config.get("security_headers")
    try:
        headers = security_headers.parse(table)
    except ConfigError as exc:
        add(_error("headers.E001", str(exc)))
        headers = None
    names = {name.lower(): value for name, value in headers.https} if headers else {}
    if headers is not None and "strict-transport-security" not in names:
        add(
            _warning(
                "https.W001",
                "the Strict-Transport-Security header is off: a browser that once reached "
                "the site over https may still be sent to http://. Set [security_headers] "
                'strict_transport_security = "max-age=31536000; includeSubDomains".',
            )
        )
    secure = config.get("session_cookie_secure")
    if secure is False:
        add(
            _warning(
                "https.W002",
                "session_cookie_secure is false: the session cookie is sent over plain http "
                "too, where anyone on the network can read it. Remove the setting (the "
                "cookie is then Secure on https requests) or set it to true.",
            )
        )
    if config.get("session_cookie_httponly") is False:
        add(
            _warning(
                "cookies.W001",
                "session_cookie_httponly is false: any script on the page (an XSS) can read "
                "the session cookie. Remove the setting (HttpOnly is the default).",
            )
        )
    samesite = config.get("session_cookie_samesite")
    samesite_text = str(samesite).title() if samesite else ""
    if samesite and samesite_text not in ("Strict", "Lax", "None"):
        add(
            _error(
                "cookies.E001",
                f"session_cookie_samesite is {samesite!r}: it must be 'Lax' (the default), "
                "'Strict' or 'None'.",
            )
        )
    elif samesite_text == "None" and secure is not True:
        level = _error if secure is False else _warning
        add(
            level(
                "cookies.E002" if secure is False else "cookies.W002",
                "session_cookie_samesite is 'None' but the cookie is not always Secure: "
                "browsers drop such a cookie, and digwebs refuses to set it on an http "
                "request. Set session_cookie_secure = true (https only), or use 'Lax'.",
            )
        )

    # -- CSRF and the other headers
    if not config.get("csrf_protection", True):
        add(
            _warning(
                "csrf.W001",
                "csrf_protection is off: another site can make a visitor's browser post "
                "forms here with their session. Turn it on, and exempt only what must "
                "take cross-site posts (webhooks) with @csrf_exempt.",
            )
        )
    if headers is not None:
        if "x-content-type-options" not in names:
            add(
                _warning(
                    "headers.W001",
                    "the X-Content-Type-Options header is off: a browser may run an upload "
                    "as a script or a page. Set [security_headers] x_content_type_options "
                    '= "nosniff".',
                )
            )
        csp = names.get("content-security-policy", "")
        if "x-frame-options" not in names and "frame-ancestors" not in csp:
            add(
                _warning(
                    "headers.W002",
                    "neither X-Frame-Options nor a CSP frame-ancestors is sent: another site "
                    "can show these pages in a frame and trick clicks (clickjacking). Set "
                    '[security_headers] x_frame_options = "DENY".',
                )
            )
        if "referrer-policy" not in names:
            add(
                _warning(
                    "headers.W003",
                    "the Referrer-Policy header is off: full URLs (with their query "
                    "strings) leak to other sites in Referer. Set [security_headers] "
                    'referrer_policy = "strict-origin-when-cross-origin".',
                )
            )

    # -- what the server settings imply
    if settings is not None:
        found += _server_findings(settings)
    return found


def _server_findings(settings: Settings) -> list[Finding]:
    found: list[Finding] = []
    if settings.workers == "sync" and (settings.timeout == 0 or settings.timeout > _SYNC_TIMEOUT):
        shown = "never" if settings.timeout == 0 else f"{settings.timeout:g} s"
        found.append(
            _warning(
                "server.W002",
                f"sync workers with a timeout of {shown} ({settings.label('timeout')}): a "
                "sync process serves one request at a time, so one slow request holds it "
                f'that long. Use workers = "threads" or "gevent", or a timeout of '
                f"{_SYNC_TIMEOUT:g} s or less.",
            )
        )
    elif settings.timeout == 0:
        found.append(
            _warning(
                "server.W003",
                f"timeout is 0 ({settings.label('timeout')}): a worker that hangs is never "
                "restarted. Give it a number of seconds (30 is the default).",
            )
        )
    if settings.workers in ("sync", "threads") and settings.header_timeout > _HEADER_TIMEOUT:
        found.append(
            _warning(
                "server.W004",
                f"header_timeout is {settings.header_timeout:g} s "
                f"({settings.label('header_timeout')}): a client that sends its request "
                "head slowly holds a worker that long (slowloris). Keep it at 10 s (the "
                "default) or less.",
            )
        )
    return found


# --------------------------------------------------------------------------
# The checks that hold in any environment


def base_findings(
    settings: Settings | None, settings_problem: str | None, secret_problem: str | None
) -> list[Finding]:
    """The server settings agree, the app imports (as a worker would) and has routes."""
    from digwebs_cli.serve_checks import _check_app_in_child, gevent_problem, option_problems

    found: list[Finding] = []
    if settings is None:
        found.append(
            _error("server.E001", settings_problem or "the server settings do not resolve")
        )
        return found
    for text in [*settings.deprecations, *settings.warnings]:
        found.append(_warning("server.W005", text))
    for text in option_problems(settings):
        found.append(_error("server.E002", text))
    if settings.workers == "gevent" and gevent_problem() is not None:
        return found  # option_problems said why; the app cannot be imported as a worker would
    result = _check_app_in_child(settings)
    if not result.get("ok"):
        error = str(result.get("error", "the app failed to import"))
        if not (secret_problem is not None and "secret_key" in error):
            # (a refused secret_key is reported once, as security.E001)
            found.append(_error("app.E001", f"the app {settings.app} does not import: {error}"))
    elif result.get("kind") == "digwebs":
        if not int(result.get("routes", 0)):
            found.append(
                _error(
                    "app.E002",
                    f"the app {settings.app} has no routes: add a function with @get(...) "
                    "to a module in controllers/.",
                )
            )
    else:
        found.append(
            _warning(
                "app.W001",
                f"{settings.app} is a WSGI callable ({result.get('kind')}), not a Digwebs app: "
                "its routes cannot be checked.",
            )
        )
    for text in result.get("blocking", []):
        found.append(_error("app.E003", text))
    return found


# --------------------------------------------------------------------------
# The command


@click.command(
    "check", short_help="Check the project's settings and app (--deploy: for production)."
)
@click.option(
    "--deploy",
    is_flag=True,
    help="Also check what a production deployment needs (secret, debug, hosts, proxies, "
    "HTTPS, cookies, CSRF, headers, server settings).",
)
@click.option(
    "--env",
    metavar="development|production",
    help="Whose config to check [default: production with --deploy, else $DIGWEBS_ENV or "
    "development].",
)
@app_option
@pass_locator
def check_command(locator: AppLocator, deploy: bool, env: str | None) -> None:
    """Check the project in the current folder; one line per finding.

    \b
    Lines are `error    <ID> <text>` or `warning  <ID> <text>`, then a
    summary. Exit status 1 when there is an error, else 0.

    Always: the config loads, the [server] settings agree, the app imports
    as a worker imports it and has routes. With --deploy, for production:
    secret_key, debug, allowed_hosts, trusted_proxies, HTTPS (HSTS, Secure
    cookie), cookie flags, CSRF, security headers, and what the server
    settings imply (listening address, worker model and timeouts).
    """
    import os

    from digwebs_cli.serve_settings import (
        ENVIRONMENTS,
        load_project_config,
        resolve_settings,
    )

    cwd = Path.cwd()
    if env is not None:
        chosen, source = env, "--env"
    elif deploy:
        chosen, source = "production", "--deploy"
    else:
        chosen = os.environ.get("DIGWEBS_ENV") or "development"
        source = "DIGWEBS_ENV" if os.environ.get("DIGWEBS_ENV") else "default"
    chosen = chosen.strip().lower()
    if chosen not in ENVIRONMENTS:
        raise DigwebsCliError(
            f"unknown environment {chosen!r} ({source}): choose development or production"
        )
    # not a project: a usage error (exit 2), not a finding
    locator.find()

    found: list[Finding] = []
    config: t.Mapping[str, t.Any] | None = None
    secret_problem: str | None = None
    try:
        config, secret_problem = load_project_config(cwd, chosen)
    except DigwebsCliError as exc:
        found.append(_error("config.E001", exc.format_message()))
    settings: Settings | None = None
    settings_problem: str | None = None
    if config is not None:
        try:
            settings = resolve_settings(cwd, {}, {}, chosen, source, locator)
        except DigwebsCliError as exc:
            settings_problem = exc.format_message()
        if secret_problem is not None and not deploy and chosen == "production":
            found.append(_error("security.E001", secret_problem))
        found += base_findings(settings, settings_problem, secret_problem)
        if deploy:
            found += deploy_findings(config, settings, secret_problem)
    # errors first, each kind in a stable order
    found.sort(key=lambda f: (f.level != "error", f.id))
    for finding in found:
        click.echo(finding.line())
    errors = sum(f.level == "error" for f in found)
    warnings = len(found) - errors
    what = f"{chosen}{', --deploy' if deploy else ''}"
    if not found:
        click.echo(f"digwebs check ({what}): no problems found")
    else:
        click.echo(
            f"digwebs check ({what}): {errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''}"
        )
    if errors:
        raise SystemExit(1)
