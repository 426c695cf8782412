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

This module is the command line: the ``deploy`` group, its three commands
and their shared options. Each file is written by a module of its own:
:mod:`~digwebs_cli.deploy.nginx`, :mod:`~digwebs_cli.deploy.systemd` and
:mod:`~digwebs_cli.deploy.container`, from the project that
:mod:`~digwebs_cli.deploy.project` reads.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

# The names imported "as" themselves are re-exported: they were first
# defined here, and scripts and tests import them from digwebs_cli.deploy.
from digwebs_cli.deploy.container import CONTAINERIGNORE as CONTAINERIGNORE
from digwebs_cli.deploy.container import containerfile as containerfile
from digwebs_cli.deploy.nginx import NginxOptions as NginxOptions
from digwebs_cli.deploy.nginx import nginx_config as nginx_config
from digwebs_cli.deploy.nginx import nginx_string as nginx_string
from digwebs_cli.deploy.project import Project as Project
from digwebs_cli.deploy.project import check_port
from digwebs_cli.deploy.project import load_project as load_project
from digwebs_cli.deploy.systemd import systemd_unit as systemd_unit
from digwebs_cli.errors import DigwebsCliError
from digwebs_cli.locator import AppLocator, app_option, pass_locator

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
    check_port(port, "--port")
    text = CONTAINERIGNORE if ignore_file else containerfile(project, port, python)
    _emit(text, output, force)
