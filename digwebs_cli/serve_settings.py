"""The settings of ``digwebs serve``: the :class:`Settings` dataclass and its resolution.

One rule, highest priority first:

1. the command line (``--port 9000``);
2. the project's config, read by :func:`digwebs.config.load_config` as the
   app reads it: ``DIGWEBS_SERVER__<KEY>`` environment variables
   (``DIGWEBS_SERVER__PORT=9000``: ``DIGWEBS_<KEY>`` is every config key's
   variable, ``__`` descends into a table), then the ``[server]`` table of
   ``config/<env>.toml``, then of ``config/default.toml`` (keys: the option
   names with ``_``: ``port``, ``workers``, ``access_log``, ...);
3. built-in defaults, some of them the environment's: in development the
   server reloads on changes and logs every request (and, under gevent,
   warns about a blocked loop); in production it does none of that.

The app is ``--app``, else ``DIGWEBS_APP``, else ``[server] app``, else
``wsgiapp.py`` (:class:`digwebs_cli.locator.AppLocator`); the environment
is ``--env``, else ``DIGWEBS_ENV``, else development.

``DIGWEBS_SERVE_<OPTION>`` variables (``DIGWEBS_SERVE_PORT``), one letter
from the config's and once ranked above them, are deprecated: each still
works, as its ``DIGWEBS_SERVER__<KEY>`` would (which wins when both are
set), with a warning that names the new variable.

A variable that came from the project's ``.env`` file (read by
:func:`digwebs_cli.discovery.load_env_file` before the options are parsed;
a real environment variable wins over it) counts where that variable
would, and ``--print-config`` names it ``NAME (.env)``.

Also ``--print-config``, which shows the result, where each value came
from and what it translates to in gunicorn's terms (those are
:mod:`digwebs_cli.gunicorn_settings`'s). gunicorn's proxy trust
(``forwarded_allow_ips``, ``secure_scheme_headers``) is not a setting of
its own: it is derived from the app config's ``trusted_proxies``, so
gunicorn and digwebs always believe the same peers. The project's config,
and where each of its values was set, are read by
:mod:`digwebs_cli.project_config` (for ``digwebs check`` and ``digwebs
deploy`` too).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing as t
from pathlib import Path

import click

from digwebs_cli.errors import DigwebsCliError

# The names imported "as" themselves are re-exported: they were first
# defined here.
from digwebs_cli.gunicorn_settings import WORKER_CLASSES as WORKER_CLASSES
from digwebs_cli.gunicorn_settings import gunicorn_options as gunicorn_options
from digwebs_cli.gunicorn_settings import reload_patterns as reload_patterns
from digwebs_cli.project_config import config_key_source as config_key_source
from digwebs_cli.project_config import env_file_variables as env_file_variables
from digwebs_cli.project_config import load_project_config as load_project_config
from digwebs_cli.project_config import read_server_config as read_server_config
from digwebs_cli.project_config import server_key_source as server_key_source
from digwebs_cli.project_config import variable_source as variable_source

if t.TYPE_CHECKING:  # pragma: no cover
    from digwebs_cli.locator import AppLocator

# --------------------------------------------------------------------------
# Settings

ENVIRONMENTS = ("development", "production")
WORKER_MODELS = ("sync", "threads", "gevent")
# digwebs' subclasses of a gunicorn worker, shown by --print-config under the
# stock name first
_SUBCLASSED = {
    "digwebs_cli.workers.DigwebsThreadWorker": "gthread",
    "digwebs_cli.workers.DigwebsSyncWorker": "sync",
}
_WORKER_ALIASES = {
    "gthread": "threads",
    "thread": "threads",
    "threaded": "threads",
    "greenlet": "gevent",
    "greenlets": "gevent",
    "async": "gevent",
}
# deprecated: DIGWEBS_SERVE_<OPTION>, read as CONFIG_ENV_PREFIX + <KEY> (with a warning)
ENV_PREFIX = "DIGWEBS_SERVE_"
CONFIG_ENV_PREFIX = "DIGWEBS_SERVER__"  # digwebs.config's override of [server] keys
# settings whose built-in default depends on the environment
_ENV_DEFAULTS = ("reload", "access_log", "warn_blocking")


@dataclasses.dataclass
class Settings:
    """The effective settings of one ``digwebs serve`` run."""

    cwd: Path
    env: str
    app: str
    host: str = "127.0.0.1"
    port: int = 8000
    workers: str = "threads"
    processes: int = 1
    threads: int = 8
    connections: int = 1000
    timeout: float = 30.0
    graceful_timeout: float = 30.0
    keepalive: float = 2.0
    # seconds a client has to send its whole request head (--workers threads and sync)
    header_timeout: float = 10.0
    reload: bool = False
    access_log: bool = True
    warn_blocking: float = 0.0  # milliseconds, 0 = off
    # the app config's trusted_proxies, as gunicorn takes them ("127.0.0.1",
    # "10.0.0.0/8"): the peers whose X-Forwarded-* headers gunicorn and digwebs believe
    trusted_proxies: tuple[str, ...] = ()
    # setting name -> where its value came from ("--port", "DIGWEBS_SERVE_PORT",
    # "config/default.toml [server]", "default")
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    warnings: list[str] = dataclasses.field(default_factory=list)
    # deprecated variables in use: reported as warnings, never a failed --check
    deprecations: list[str] = dataclasses.field(default_factory=list)

    def given(self, name: str) -> bool:
        """Whether *name* was set by the user (not a built-in default)."""
        return self.sources.get(name, "default") != "default"

    def label(self, name: str) -> str:
        """How to name setting *name* in a message: as the user set it."""
        source = self.sources.get(name, "default")
        if source.startswith("--") or source.startswith("DIGWEBS_"):
            return source
        if source == "default":
            return "--" + name.replace("_", "-")
        return f"{name} in {source}"

    @property
    def address(self) -> str:
        """``host:port``, an IPv6 host in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The ``http://host:port`` address the server is reachable at."""
        return f"http://{self.address}"

    @property
    def backlog(self) -> int:
        """The listen queue: room for every connection a process may hold."""
        return max(2048, self.connections)

    def concurrency(self) -> str:
        """How many requests the server serves at once, in words (for the start-up line)."""
        procs = f"{self.processes} process{'es' if self.processes != 1 else ''}"
        if self.workers == "sync":
            return f"{procs}, 1 request at a time each"
        if self.workers == "threads":
            return f"{procs} x {self.threads} thread{'s' if self.threads != 1 else ''}"
        return f"{procs} x {self.connections} connections"


def _to_int(settings_label: str, value: t.Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool):
        raise DigwebsCliError(f"{settings_label} must be a whole number, not {value!r}")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise DigwebsCliError(f"{settings_label} must be a whole number, not {value!r}") from None
    if number < low or (high is not None and number > high):
        bound = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise DigwebsCliError(f"{settings_label} must be {bound}, not {number}")
    return number


def _to_float(settings_label: str, value: t.Any, low: float = 0.0) -> float:
    if isinstance(value, bool):
        raise DigwebsCliError(f"{settings_label} must be a number, not {value!r}")
    try:
        number = float(value) if isinstance(value, (int, float)) else float(str(value).strip())
    except ValueError:
        raise DigwebsCliError(f"{settings_label} must be a number, not {value!r}") from None
    if number < low or number != number:
        raise DigwebsCliError(f"{settings_label} must be {low:g} or more, not {number:g}")
    return number


def _to_bool(settings_label: str, value: t.Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise DigwebsCliError(f"{settings_label} must be true or false, not {value!r}")


def _to_warn_blocking(settings_label: str, value: t.Any) -> float:
    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "false")):
        return 0.0
    return _to_float(settings_label, value)


def _to_workers(settings_label: str, value: t.Any) -> str:
    text = str(value).strip().lower()
    if text in WORKER_MODELS:
        return text
    hint = _WORKER_ALIASES.get(text) or next(
        iter(difflib.get_close_matches(text, WORKER_MODELS, n=1)), None
    )
    did_you_mean = f" (did you mean {hint!r}?)" if hint else ""
    raise DigwebsCliError(
        f"unknown worker model {value!r} for {settings_label}{did_you_mean}: "
        "choose sync, threads or gevent"
    )


def _to_host(settings_label: str, value: t.Any) -> str:
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text or any(c.isspace() for c in text):
        raise DigwebsCliError(f"{settings_label} must be a host name or address, not {value!r}")
    return text


def _to_app(settings_label: str, value: t.Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DigwebsCliError(f"{settings_label} must be an import string like wsgiapp:app")
    return value.strip()


_CONVERTERS: dict[str, t.Callable[[str, t.Any], t.Any]] = {
    "app": _to_app,
    "host": _to_host,
    "port": lambda lbl, v: _to_int(lbl, v, 0, 65535),
    "workers": _to_workers,
    "processes": lambda lbl, v: _to_int(lbl, v, 1, 1024),
    "threads": lambda lbl, v: _to_int(lbl, v, 1, 10000),
    "connections": lambda lbl, v: _to_int(lbl, v, 1, 1_000_000),
    "timeout": _to_float,
    "graceful_timeout": _to_float,
    "keepalive": _to_float,
    "header_timeout": lambda lbl, v: max(_to_float(lbl, v), 0.1),
    "reload": _to_bool,
    "access_log": _to_bool,
    "warn_blocking": _to_warn_blocking,
}
# the settings a [server] table or an option can give, in --print-config order
_KEYS = tuple(_CONVERTERS)


def deprecated_variable(option: str, canonical: str, canonical_set: bool) -> tuple[str, str] | None:
    """The deprecated ``DIGWEBS_SERVE_<OPTION>`` variable's name and a warning, or None.

    :param option: the option's name with ``_`` (``port``).
    :param canonical: the variable that replaces it (``DIGWEBS_SERVER__PORT``).
    :param canonical_set: whether *canonical* is set: then it wins and the
        old variable is ignored.
    """
    name = ENV_PREFIX + option.upper()
    if name not in os.environ:
        return None
    if canonical_set:
        return name, f"{name} is deprecated and ignored: {canonical} is set, and wins"
    return name, f"{name} is deprecated: write {canonical}, the config's variable"


def resolve_settings(
    cwd: Path,
    cli_values: dict[str, t.Any],
    cli_sources: dict[str, str],
    env: str,
    env_source: str,
    locator: AppLocator | None = None,
) -> Settings:
    """Merge defaults < the project's ``[server]`` config < the command line.

    *cli_values* holds what click parsed from the command line (an ``app``
    in it is ``--app``, for callers without a locator), *cli_sources*
    where each came from. The app comes from *locator* (``--app``, then
    ``DIGWEBS_APP``, then ``[server] app``, then ``wsgiapp.py``).
    """
    from digwebs.proxies import gunicorn_forwarded_allow_ips
    from digwebs_cli.locator import AppLocator

    cli_values = dict(cli_values)
    if locator is None:
        locator = AppLocator(cli_values.get("app"))
    cli_values.pop("app", None)
    from_env_file = env_file_variables(cwd)
    config, _ = load_project_config(cwd, env)
    config_values, config_sources = read_server_config(cwd, env, from_env_file, config)
    merged: dict[str, t.Any] = {}
    sources: dict[str, str] = {"env": env_source}
    warnings: list[str] = []
    deprecations: list[str] = []
    for key, value in config_values.items():
        if key not in _KEYS:
            hint = next(iter(difflib.get_close_matches(key, _KEYS, n=1)), None)
            did_you_mean = f" (did you mean {hint!r}?)" if hint else ""
            warnings.append(
                f"unknown setting {key!r} in {config_sources[key]}{did_you_mean} is ignored"
            )
            continue
        merged[key] = value
        sources[key] = config_sources[key]
    for key in _KEYS:
        canonical = CONFIG_ENV_PREFIX + key.upper()
        canonical_set = sources.get(key, "").startswith(CONFIG_ENV_PREFIX)
        old = deprecated_variable(key, canonical, canonical_set)
        if old is None:
            continue
        name, warning = old
        deprecations.append(warning)
        if not canonical_set:
            merged[key] = os.environ[name]
            sources[key] = variable_source(name, from_env_file)
    for key, value in cli_values.items():
        if value is not None:
            merged[key] = value
            sources[key] = cli_sources[key]

    converted: dict[str, t.Any] = {}
    probe = Settings(cwd=cwd, env=env, app="", sources=sources)
    for key, value in merged.items():
        converted[key] = _CONVERTERS[key](probe.label(key), value)

    config_app = converted.pop("app", None)
    app, sources["app"] = locator.find(config_app, sources.get("app", ""))

    settings = Settings(
        cwd=cwd, env=env, app=app, sources=sources, warnings=warnings, deprecations=deprecations
    )
    for key, value in converted.items():
        setattr(settings, key, value)
    # defaults that depend on the environment and the worker model
    if "reload" not in converted:
        # development reloads on code, view, config and .env changes;
        # production never does unless asked
        settings.reload = env == "development"
    if "access_log" not in converted:
        settings.access_log = env == "development"
    if "warn_blocking" not in converted:
        settings.warn_blocking = (
            100.0 if env == "development" and settings.workers == "gevent" else 0
        )
    for key in _KEYS:
        sources.setdefault(key, "default")
    # gunicorn's view of the proxies is derived from the app's: see gunicorn_options
    sources["trusted_proxies"] = config_key_source(cwd, env, "trusted_proxies", from_env_file)
    allow = gunicorn_forwarded_allow_ips(config)  # load_config has validated it
    settings.trusted_proxies = tuple(allow.split(",")) if allow else ()
    return settings


# --------------------------------------------------------------------------
# --print-config


def print_config(settings: Settings) -> None:
    """Print the effective settings, each with where it came from (``--print-config``)."""
    click.echo(
        "digwebs serve: effective settings (command line > DIGWEBS_SERVER__* > "
        f"config/{settings.env}.toml > config/default.toml > defaults)"
    )
    rows = [("app", settings.app), ("env", settings.env)]
    rows += [(key, getattr(settings, key)) for key in _KEYS if key != "app"]
    for key, value in rows:
        shown = value
        if isinstance(value, float) and value == int(value):
            shown = int(value)
        if key == "warn_blocking":
            shown = f"{shown} ms" if value else "off"
        source = settings.sources.get(key, "default")
        if source == "default" and key in _ENV_DEFAULTS:
            source = f"default ({settings.env})"
        click.echo(f"  {key:<17}{str(shown):<24}{source}")
    proxies = ",".join(settings.trusted_proxies) or "[]"
    proxies_source = settings.sources.get("trusted_proxies", "default")
    click.echo(f"  {'trusted_proxies':<17}{proxies:<23} {proxies_source}")
    click.echo(f"  {'url':<17}{settings.url}")
    click.echo("gunicorn settings:")
    for key, option in gunicorn_options(settings).items():
        if key == "reload_extra_files":
            option = f"{len(option)} patterns" if option else "[]"
        if key in ("forwarded_allow_ips", "forwarder_headers"):
            option = option or "''"
        if key == "secure_scheme_headers":
            option = ",".join(f"{k}={v}" for k, v in option.items()) or "{}"
        if key == "worker_class" and option in _SUBCLASSED:
            # what it is, then digwebs' subclass of it
            option = f"{_SUBCLASSED[option]} ({option})"
        click.echo(f"  {key:<24}{option}")
    for text in [*settings.deprecations, *settings.warnings]:
        click.echo(f"warning: {text}")
