"""``digwebs serve``: run the project under gunicorn.

Three worker models, all gunicorn's own workers run programmatically (a
``gunicorn.app.base.BaseApplication`` subclass, no shelling out):

* ``sync``    -- gunicorn's sync worker (subclassed in :mod:`digwebs_cli.workers`
  to give each request head ``--header-timeout`` seconds): one request at a
  time per process;
* ``threads`` -- gunicorn's gthread worker: ``--threads`` requests at a time
  per process (the default model);
* ``gevent``  -- gunicorn's gevent worker (subclassed in
  :mod:`digwebs_cli._gevent_support` to yield after every request), where one
  process serves ``--connections`` requests at a time.

The app is imported inside every worker from its import string, never in the
master process, so under gevent the standard library is monkey-patched before
the app (and its database driver) is imported.

Where the settings come from, in which order, is described in
:mod:`digwebs_cli.serve_settings`;
``--print-config`` shows the result and where each value came from.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import click

from digwebs_cli.discovery import check_module_exists
from digwebs_cli.errors import DigwebsCliError
from digwebs_cli.listen import bind_socket
from digwebs_cli.locator import AppLocator, app_option, pass_locator
from digwebs_cli.serve_checks import option_problems, run_check
from digwebs_cli.serve_settings import (
    ENVIRONMENTS,
    deprecated_variable,
    env_file_variables,
    print_config,
    resolve_settings,
    variable_source,
)

# --------------------------------------------------------------------------
# The command


def _source_of(ctx: click.Context, name: str, from_env_file: t.Container[str]) -> str | None:
    """Where option *name* came from: the flag used, its environment variable, or None.

    For a flag pair the flag given (``--no-reload``, not ``--reload``); for a
    variable the project's ``.env`` supplied, ``NAME (.env)``.
    """
    source = ctx.get_parameter_source(name)
    param = next(p for p in ctx.command.params if p.name == name)
    if source is click.core.ParameterSource.COMMANDLINE:
        secondary = getattr(param, "secondary_opts", None)
        if secondary and ctx.params.get(name) is False:
            return str(secondary[0])
        return str(param.opts[0])
    if source is click.core.ParameterSource.ENVIRONMENT:
        envvars = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or ())
        if not envvars:  # click's auto_envvar_prefix (the digwebs command sets none)
            return "environment"
        used = next((v for v in envvars if os.environ.get(v) is not None), envvars[0])
        return variable_source(used, from_env_file)
    return None


def _option(flag: str, help_text: str, **kwargs: t.Any) -> t.Callable[..., t.Any]:
    """A ``digwebs serve`` option: the command line's value of a ``[server]`` setting."""
    return click.option(flag, help=help_text, **kwargs)


@click.command(
    "serve",
    short_help="Serve the project under gunicorn (sync, threads or gevent).",
    context_settings={"max_content_width": 100},
)
@app_option
@_option("--host", "Address to listen on [default: 127.0.0.1].", metavar="HOST")
@_option("--port", "Port to listen on [default: 8000].", metavar="PORT")
@_option("--workers", "Worker model [default: threads].", metavar="sync|threads|gevent")
@_option("--processes", "Worker processes [default: 1].", metavar="N")
@_option("--threads", "Threads per process, --workers threads only [default: 8].", metavar="N")
@_option(
    "--connections",
    "Concurrent connections per process (gevent, threads) [default: 1000].",
    metavar="N",
)
@_option(
    "--timeout", "Restart a worker silent for S seconds; 0 = never [default: 30].", metavar="S"
)
@_option(
    "--graceful-timeout",
    "On shutdown, how long requests in flight may take [default: 30].",
    metavar="S",
)
@_option(
    "--header-timeout",
    "Seconds a client has to send its request line and headers, then 408 "
    "(every worker model; under gevent from the head's first byte, an idle "
    "connection closing at the keep-alive timeout) [default: 10].",
    metavar="S",
)
@_option(
    "--reload/--no-reload",
    "Restart workers when Python files, views, config or .env change "
    "[default: on in development, off in production].",
    default=None,
)
@_option(
    "--env",
    "Environment: picks config/<env>.toml; DIGWEBS_ENV for the app [default: development].",
    metavar="development|production",
    envvar="DIGWEBS_ENV",
)
@_option(
    "--access-log/--no-access-log", "Log every request [default: on in development].", default=None
)
@_option(
    "--warn-blocking",
    "gevent: report a greenlet that blocks the loop for more than MS ms, "
    "with its stack; 0 = off [default: 100 in development, off in production].",
    metavar="MS",
)
@_option(
    "--check", "Validate settings, worker model and app, then exit without serving.", is_flag=True
)
@_option(
    "--print-config",
    "Show the effective settings and where each came from, then exit.",
    is_flag=True,
)
@pass_locator
@click.pass_context
def serve_command(ctx: click.Context, locator: AppLocator, /, **params: t.Any) -> None:
    """Serve the project in the current folder under gunicorn.

    \b
    Worker models:
      sync     one request at a time per process (--processes N); a client
               has --header-timeout seconds to send its request head
      threads  --threads N requests at a time per process (gunicorn gthread;
               request heads are read off the threads, so slow clients hold none)
      gevent   --connections N requests at a time in one process; the app is
               imported after gevent has patched the standard library

    Settings come from the command line, then the project's config as the
    app reads it: DIGWEBS_SERVER__<KEY> environment variables (e.g.
    DIGWEBS_SERVER__PORT=9000; DIGWEBS_<KEY> is every config key's
    variable), then the [server] table of config/<env>.toml and of
    config/default.toml (keys as the options: port, workers, access_log,
    warn_blocking...). The app: --app, DIGWEBS_APP, [server] app, else
    wsgiapp.py; the environment: --env, else DIGWEBS_ENV. --print-config
    shows the result and where each value came from.

    DIGWEBS_SERVE_<OPTION> variables (DIGWEBS_SERVE_PORT) are deprecated:
    each still counts as its DIGWEBS_SERVER__<KEY> would (which wins when
    both are set), with a warning.

    Ctrl-C or SIGTERM stops gracefully: requests in flight finish (up to
    --graceful-timeout). --check validates all of it, imports the app as a
    worker would and serves nothing.
    """
    cwd = Path.cwd()
    check = params.pop("check")
    show_config = params.pop("print_config")

    from_env_file = env_file_variables(cwd)
    env_value = params.pop("env")
    env_source = _source_of(ctx, "env", from_env_file) or "default"
    deprecated = deprecated_variable("env", "DIGWEBS_ENV", env_source.startswith("DIGWEBS_ENV"))
    env_warnings = []
    if deprecated is not None:
        name, warning = deprecated
        env_warnings.append(warning)
        if env_value is None:
            env_value = os.environ[name]
            env_source = variable_source(name, from_env_file)
    env = (env_value or "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise DigwebsCliError(
            f"unknown environment {env_value!r} ({env_source}): choose development or production"
        )

    cli_values: dict[str, t.Any] = {}
    cli_sources: dict[str, str] = {}
    for key, value in params.items():
        source = _source_of(ctx, key, from_env_file)
        if source is None:
            continue
        cli_values[key] = value
        cli_sources[key] = source

    settings = resolve_settings(cwd, cli_values, cli_sources, env, env_source, locator)
    settings.deprecations[:0] = env_warnings
    if show_config:
        print_config(settings)
        return
    # without importing anything: the app is imported in the workers only
    check_module_exists(settings.app, cwd)
    if check:
        run_check(settings)
        return

    problems = option_problems(settings)
    if problems:
        raise DigwebsCliError(problems[0])
    for text in [*settings.deprecations, *settings.warnings]:
        click.echo(f"digwebs: warning: {text}", err=True)

    listener = bind_socket(settings)
    # the app reads its environment from DIGWEBS_ENV, in every worker
    os.environ["DIGWEBS_ENV"] = settings.env
    # gunicorn itself is imported here, by the one command that runs it
    from digwebs_cli.gunicorn_app import DigwebsApplication

    try:
        application = DigwebsApplication(settings, listener)
    except BaseException:
        listener.close()
        raise
    application.run()
