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

Also what they translate to in gunicorn's terms, and ``--print-config``,
which shows the result and where each value came from. gunicorn's proxy
trust (``forwarded_allow_ips``, ``secure_scheme_headers``) is not a setting
of its own: it is derived from the app config's ``trusted_proxies``, so
gunicorn and digwebs always believe the same peers.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import secrets
import tomllib
import typing as t
from pathlib import Path

import click

from digwebs_cli.errors import DigwebsCliError

if t.TYPE_CHECKING:  # pragma: no cover
    from digwebs.config import Config
    from digwebs_cli.locator import AppLocator

# --------------------------------------------------------------------------
# Settings

ENVIRONMENTS = ("development", "production")
WORKER_MODELS = ("sync", "threads", "gevent")
WORKER_CLASSES = {
    "sync": "digwebs_cli.workers.DigwebsSyncWorker",
    "threads": "digwebs_cli.workers.DigwebsThreadWorker",
    "gevent": "digwebs_cli._gevent_support.DigwebsGeventWorker",
}
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


def env_file_variables(cwd: Path) -> dict[str, str]:
    """The variables the project's ``.env`` supplied (not those a real variable overrode).

    The file is read once per process (the ``digwebs`` group has usually
    read it already, before the options were parsed).
    """
    from digwebs_cli.discovery import load_env_file

    return load_env_file(cwd)


def variable_source(name: str, from_env_file: t.Container[str]) -> str:
    """How ``--print-config`` names environment variable *name*: ``NAME`` or ``NAME (.env)``."""
    return f"{name} (.env)" if name in from_env_file else name


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


def read_server_config(
    cwd: Path,
    env: str,
    from_env_file: t.Container[str] = (),
    config: t.Mapping[str, t.Any] | None = None,
) -> tuple[dict[str, t.Any], dict[str, str]]:
    """The project's ``[server]`` table, as :mod:`digwebs.config` layers it, and its sources.

    The values are ``config["server"]`` of :func:`load_project_config`
    (``config/default.toml``, then ``config/<env>.toml``, then
    ``DIGWEBS_SERVER__<KEY>`` variables): the one layering the app gets
    too, read in the master without importing the app. The sources say,
    for each key, where its value was set (:func:`server_key_source`).

    :param config: the loaded config, when the caller has it already.
    """
    if config is None:
        config, _ = load_project_config(cwd, env)
    table = config.get("server", {})
    if not isinstance(table, dict):
        where = config_key_source(cwd, env, "server", from_env_file)
        raise DigwebsCliError(f"{where}: server must be a table ([server]), not a value")
    values = dict(table)
    sources = {key: server_key_source(cwd, env, key, from_env_file) for key in values}
    return values, sources


def server_key_source(cwd: Path, env: str, key: str, from_env_file: t.Container[str] = ()) -> str:
    """Where ``[server]`` key *key* was set, as ``--print-config`` names it.

    ``DIGWEBS_SERVER__KEY`` (``(.env)`` when the project's ``.env`` set it),
    else ``config/<env>.toml [server]``, else ``config/default.toml
    [server]``, else ``default``. Only names the source: the value is
    :mod:`digwebs.config`'s.
    """
    for name in os.environ:
        # digwebs.config's rule: the prefix as written, the rest in any case
        if name.startswith("DIGWEBS_") and name[8:].lower() == f"server__{key.lower()}":
            return variable_source(name, from_env_file)
    for filename in (f"{env}.toml", "default.toml"):
        table = _toml_of(cwd / "config" / filename).get("server")
        if isinstance(table, dict) and key in table:
            return f"config/{filename} [server]"
    return "default"


def _toml_of(path: Path) -> dict[str, t.Any]:
    """The TOML file at *path*, or ``{}`` (missing or broken: load_config reports it)."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


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


# --------------------------------------------------------------------------
# The app's own config (read in the master, never by importing the app)


def load_project_config(cwd: Path, env: str) -> tuple[Config, str | None]:
    """The config the app of *cwd* gets in *env*, and why its secret_key is refused.

    :func:`digwebs.config.load_config` with ``DIGWEBS_ENV`` set to *env*
    (``.env`` has been read into the environment already, as for the app).
    A production config without a usable secret_key is still returned (with
    a throwaway secret in its place), so that ``digwebs check`` can report
    every other finding and ``digwebs deploy`` can be run before the secret
    is in place on the server; the second value is then the reason digwebs
    refuses it. Any other problem is a :class:`DigwebsCliError`.
    """
    from digwebs.config import ConfigError, load_config

    environ = dict(os.environ, DIGWEBS_ENV=env)
    secret_problem: str | None = None
    try:
        return load_config(cwd, environ=environ), None
    except ConfigError as exc:
        message = str(exc)
        if not message.startswith("secret_key "):
            raise _config_error(cwd, env, message) from None
        secret_problem = message
    environ["DIGWEBS_SECRET_KEY"] = secrets.token_hex(32)
    try:
        config = load_config(cwd, environ=environ)
    except ConfigError as exc:
        raise _config_error(cwd, env, str(exc)) from None
    config["secret_key"] = None  # not the project's: never let it be used
    return config, secret_problem


def _config_error(cwd: Path, env: str, message: str) -> DigwebsCliError:
    """A config error, naming where the key it is about was set (when it names one)."""
    key = message.split(" ", 1)[0].split(".", 1)[0]
    where = ""
    if key.isidentifier():
        source = config_key_source(cwd, env, key, env_file_variables(cwd))
        if source != "default":
            where = f" (set in {source})"
    # digwebs.config names files by their full path: the project's relative
    message = message.replace(f"{Path(cwd) / 'config'}{os.sep}", f"config{os.sep}")
    return DigwebsCliError(f"the {env} config does not load: {message}{where}")


def config_key_source(cwd: Path, env: str, key: str, from_env_file: t.Container[str] = ()) -> str:
    """Where the app config's top-level *key* comes from, as ``--print-config`` names it."""
    name = "DIGWEBS_" + key.upper()
    if name in os.environ:
        return variable_source(name, from_env_file)
    for filename in (f"{env}.toml", "default.toml"):
        if key in _toml_of(cwd / "config" / filename):
            return f"config/{filename}"
    return "default"


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


def gunicorn_options(settings: Settings) -> dict[str, t.Any]:
    """The gunicorn settings *settings* translate to."""
    model = settings.workers
    options: dict[str, t.Any] = {
        "bind": [settings.address],
        "workers": settings.processes,
        "worker_class": WORKER_CLASSES[model],
        "threads": settings.threads if model == "threads" else 1,
        "worker_connections": settings.connections,
        "backlog": settings.backlog,
        # gunicorn takes whole seconds
        "timeout": math.ceil(settings.timeout),
        "graceful_timeout": math.ceil(settings.graceful_timeout),
        "keepalive": math.ceil(settings.keepalive),
        "reload": settings.reload,
        "reload_extra_files": reload_patterns(settings.cwd) if settings.reload else [],
        "accesslog": "-" if settings.access_log else None,
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
        "errorlog": "-",
        "loglevel": "info",
        "preload_app": False,  # never: under gevent the app must be imported after patching
        "proc_name": f"digwebs {settings.app}",
        "control_socket_disable": True,
        "chdir": str(settings.cwd),
        # The app's trusted_proxies, and nobody else, may tell gunicorn the
        # request came over https (gunicorn's own default trusts 127.0.0.1,
        # which would let any local process, or a proxy digwebs does not
        # trust, set wsgi.url_scheme). One header, the one nginx sends and
        # digwebs reads: gunicorn's other two would only add ways to get a
        # 400 for headers that disagree.
        "forwarded_allow_ips": ",".join(settings.trusted_proxies),
        "secure_scheme_headers": (
            {"X-FORWARDED-PROTO": "https"} if settings.trusted_proxies else {}
        ),
        # never SCRIPT_NAME / PATH_INFO from request headers: the prefix
        # comes from X-Forwarded-Prefix, read by digwebs from trusted proxies
        "forwarder_headers": "",
    }
    return options


def reload_patterns(root: Path) -> list[str]:
    """Files whose change restarts the workers, besides every imported module.

    Python files of the project (top level and its package folders), views,
    config and ``.env`` (a restarted worker reads it again: see
    :func:`digwebs_cli.gunicorn_app.refresh_env_file`). gunicorn expands the
    glob patterns on every scan, so files created later are watched too
    (from their first change on: a new file only sets its baseline).
    Folders that hold no project code (static files, virtual environments,
    node_modules) are left out: the poller stats every file every second.
    """
    patterns = [
        str(root / "*.py"),
        str(root / "config" / "*.toml"),
        str(root / "views" / "**" / "*"),
        # a glob, not the path: gunicorn refuses a plain file that does not
        # exist (yet); ".en[v]" matches .env alone (not .env.example), and a
        # pattern starting with "." may match a hidden file
        str(root / ".en[v]"),
    ]
    skip = {"static", "views", "config", "node_modules", "__pycache__", "build", "dist", "tests"}
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        entries = []
    for entry in entries:
        if not entry.is_dir() or entry.name.startswith(".") or entry.name in skip:
            continue
        if (Path(entry.path) / "pyvenv.cfg").exists() or entry.name.endswith(".egg-info"):
            continue
        patterns.append(str(Path(entry.path) / "**" / "*.py"))
    return patterns


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
