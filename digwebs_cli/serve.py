"""``digwebs serve``: run the project under gunicorn.

Three worker models, all gunicorn's own workers run programmatically (a
``gunicorn.app.base.BaseApplication`` subclass, no shelling out):

* ``sync``    -- gunicorn's sync worker: one request at a time per process;
* ``threads`` -- gunicorn's gthread worker: ``--threads`` requests at a time
  per process (the default model);
* ``gevent``  -- gunicorn's gevent worker (subclassed in
  :mod:`digwebs_cli._gevent_support` to yield after every request), where one
  process serves ``--connections`` requests at a time.

The app is imported inside every worker from its import string, never in the
master process, so under gevent the standard library is monkey-patched before
the app (and its database driver) is imported.

Settings, highest priority first:

1. the command line;
2. ``DIGWEBS_SERVE_<OPTION>`` environment variables, one per option
   (``DIGWEBS_SERVE_PORT=9000``, ``DIGWEBS_SERVE_WORKERS=gevent``), plus
   ``DIGWEBS_APP`` for ``--app`` and ``DIGWEBS_ENV`` for ``--env``;
3. ``DIGWEBS_SERVER__<KEY>`` variables, the runtime config's own override of
   a ``[server]`` key (``DIGWEBS_SERVER__PORT=9000``, see digwebs.config);
4. the ``[server]`` table of ``config/<env>.toml``, then of
   ``config/default.toml`` (keys: the option names with ``_``: ``port``,
   ``workers``, ``access_log``, ``warn_blocking``, ...);
5. built-in defaults.

``--print-config`` shows the result and where each value came from.
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import functools
import json
import math
import mmap
import os
import signal
import socket
import subprocess
import sys
import tomllib
import typing as t
from pathlib import Path

import click

from digwebs_cli.discovery import check_module_exists
from digwebs_cli.errors import DigwebsCliError

# --------------------------------------------------------------------------
# Settings

ENVIRONMENTS = ("development", "production")
WORKER_MODELS = ("sync", "threads", "gevent")
WORKER_CLASSES = {
    "sync": "sync",
    "threads": "gthread",
    "gevent": "digwebs_cli._gevent_support.DigwebsGeventWorker",
}
_WORKER_ALIASES = {
    "gthread": "threads",
    "thread": "threads",
    "threaded": "threads",
    "greenlet": "gevent",
    "greenlets": "gevent",
    "async": "gevent",
}
ENV_PREFIX = "DIGWEBS_SERVE_"
CONFIG_ENV_PREFIX = "DIGWEBS_SERVER__"  # digwebs.config's override of [server] keys
GEVENT_MIN_VERSION = (24, 10, 1)  # what gunicorn's gevent worker requires
INSTALL_GEVENT = "pip install 'digwebs[gevent]'"

# name -> built-in default (None: depends on other settings, see _defaults)
_KEYS = (
    "app",
    "host",
    "port",
    "workers",
    "processes",
    "threads",
    "connections",
    "timeout",
    "graceful_timeout",
    "keepalive",
    "reload",
    "access_log",
    "warn_blocking",
)


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
    reload: bool = False
    access_log: bool = True
    warn_blocking: float = 0.0  # milliseconds, 0 = off
    # setting name -> where its value came from ("--port", "DIGWEBS_SERVE_PORT",
    # "config/default.toml [server]", "default")
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    warnings: list[str] = dataclasses.field(default_factory=list)

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
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def concurrency(self) -> str:
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
    "reload": _to_bool,
    "access_log": _to_bool,
    "warn_blocking": _to_warn_blocking,
}


def read_server_config(cwd: Path, env: str) -> tuple[dict[str, t.Any], dict[str, str]]:
    """The merged ``[server]`` tables of ``config/default.toml`` and ``config/<env>.toml``.

    Read with :mod:`tomllib` in the master process: the app is never imported
    there. Returns the values and, for each, the file it came from.
    """
    values: dict[str, t.Any] = {}
    sources: dict[str, str] = {}
    for name in ("default.toml", f"{env}.toml"):
        path = cwd / "config" / name
        if not path.is_file():
            continue
        rel = f"config/{name}"
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise DigwebsCliError(f"{rel} is not valid TOML: {exc}") from None
        except OSError as exc:
            raise DigwebsCliError(f"cannot read {rel}: {exc.strerror}") from None
        table = data.get("server", {})
        if not isinstance(table, dict):
            raise DigwebsCliError(f"{rel}: server must be a table ([server]), not a value")
        for key, value in table.items():
            values[key] = value
            sources[key] = f"{rel} [server]"
    # the runtime's own override of config keys: DIGWEBS_SERVER__PORT=9000
    for name, raw in os.environ.items():
        if name.startswith(CONFIG_ENV_PREFIX) and len(name) > len(CONFIG_ENV_PREFIX):
            key = name[len(CONFIG_ENV_PREFIX) :].lower()
            try:
                values[key] = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                values[key] = raw
            sources[key] = name
    return values, sources


def resolve_settings(
    cwd: Path,
    cli_values: dict[str, t.Any],
    cli_sources: dict[str, str],
    env: str,
    env_source: str,
) -> Settings:
    """Merge defaults < config/default.toml < config/<env>.toml < env vars < command line.

    *cli_values* holds what click parsed (from the command line or a
    ``DIGWEBS_SERVE_*`` variable), *cli_sources* where each came from.
    """
    from digwebs_cli.discovery import find_import_string

    config_values, config_sources = read_server_config(cwd, env)
    merged: dict[str, t.Any] = {}
    sources: dict[str, str] = {"env": env_source}
    warnings: list[str] = []
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
    for key, value in cli_values.items():
        if value is not None:
            merged[key] = value
            sources[key] = cli_sources[key]

    converted: dict[str, t.Any] = {}
    probe = Settings(cwd=cwd, env=env, app="", sources=sources)
    for key, value in merged.items():
        converted[key] = _CONVERTERS[key](probe.label(key), value)

    # the app: --app / DIGWEBS_SERVE_APP, then DIGWEBS_APP, then [server] app, then wsgiapp.py
    app_option = converted.pop("app", None)
    from_config = sources.get("app", "").endswith("[server]") or sources.get("app", "").startswith(
        CONFIG_ENV_PREFIX
    )
    if app_option is not None and from_config:
        if os.environ.get("DIGWEBS_APP", "").strip():
            app_option = None  # the environment wins over the config file
            sources["app"] = "DIGWEBS_APP"
    elif app_option is None:
        sources["app"] = (
            "DIGWEBS_APP" if os.environ.get("DIGWEBS_APP", "").strip() else "wsgiapp.py"
        )
    app = find_import_string(app_option, cwd)

    settings = Settings(cwd=cwd, env=env, app=app, sources=sources, warnings=warnings)
    for key, value in converted.items():
        setattr(settings, key, value)
    # defaults that depend on the environment and the worker model
    if "access_log" not in converted:
        settings.access_log = env == "development"
    if "warn_blocking" not in converted:
        settings.warn_blocking = (
            100.0 if env == "development" and settings.workers == "gevent" else 0
        )
    for key in _KEYS:
        sources.setdefault(key, "default")
    return settings


# --------------------------------------------------------------------------
# Validation


def gevent_problem() -> str | None:
    """Why the gevent worker model cannot be used here, or None if it can."""
    import importlib.metadata
    import importlib.util

    if importlib.util.find_spec("gevent") is None:
        return f"the gevent worker model needs gevent, which is not installed: {INSTALL_GEVENT}"
    try:
        version = importlib.metadata.version("gevent")
    except importlib.metadata.PackageNotFoundError:
        version = None
    if version is not None:
        numbers = tuple(int(p) for p in (version.split(".") + ["0", "0"])[:3] if p.isdigit())
        if len(numbers) == 3 and numbers < GEVENT_MIN_VERSION:
            wanted = ".".join(map(str, GEVENT_MIN_VERSION))
            return (
                f"gevent {version} is too old for gunicorn's gevent worker "
                f"(needs {wanted}+): {INSTALL_GEVENT}"
            )
    if importlib.util.find_spec("packaging") is None:
        # gunicorn's gevent worker imports it (gunicorn[gevent] pulls it in)
        return f"gunicorn's gevent worker needs the 'packaging' package: {INSTALL_GEVENT}"
    return None


def option_problems(settings: Settings) -> list[str]:
    """Settings that contradict each other or cannot be served."""
    problems: list[str] = []
    model = settings.workers
    if model == "gevent":
        problem = gevent_problem()
        if problem:
            problems.append(problem)
    if settings.given("threads") and model != "threads":
        more = " (size a gevent process with --connections)" if model == "gevent" else ""
        problems.append(
            f"{settings.label('threads')} applies to --workers threads only, not {model}{more}"
        )
    if settings.given("connections") and model == "sync":
        problems.append(
            f"{settings.label('connections')} does not apply to --workers sync, which serves "
            "one request at a time per process: use --processes, or --workers threads/gevent"
        )
    if settings.given("warn_blocking") and settings.warn_blocking and model != "gevent":
        problems.append(
            f"{settings.label('warn_blocking')} watches the gevent event loop: "
            "it needs --workers gevent"
        )
    if settings.reload and settings.env == "production":
        problems.append(
            f"{settings.label('reload')} is for development: it restarts workers on every "
            "file change; drop it, or use --env development"
        )
    return problems


# --------------------------------------------------------------------------
# Listening socket


def bind_socket(settings: Settings) -> socket.socket:
    """Bind and listen on host:port in the master, before gunicorn starts.

    A port in use (or any other failure) is a one-line error here, and
    gunicorn is handed the bound socket, so there is no race between this
    check and the real bind.
    """
    where = f"{settings.host}:{settings.port}"
    try:
        infos = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise DigwebsCliError(
            f"cannot listen on {settings.label('host')} {settings.host!r}: {exc.strerror}"
        ) from None
    family, socktype, proto, _, address = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(max(2048, settings.connections))
    except OSError as exc:
        sock.close()
        raise DigwebsCliError(_bind_error(settings, where, exc)) from None
    settings.port = sock.getsockname()[1]
    return sock


def _bind_error(settings: Settings, where: str, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {settings.port} on {settings.host} is already in use: stop the other "
            "server, or pick another port with --port"
        )
    if exc.errno == errno.EACCES:
        return (
            f"not allowed to listen on {where}: ports below 1024 need root; "
            "use a higher --port (e.g. 8000) behind a proxy"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {settings.host} is not an address of this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"


# --------------------------------------------------------------------------
# Loop-blocking drivers under gevent


def _psycopg2_unpatched() -> bool:
    module = sys.modules.get("psycopg2")
    extensions = getattr(module, "extensions", None) or sys.modules.get("psycopg2.extensions")
    get_wait_callback = getattr(extensions, "get_wait_callback", None)
    if get_wait_callback is None:
        return True
    try:
        return get_wait_callback() is None
    except Exception:
        return True


# module -> (is it blocking now?, what to do instead)
BLOCKING_DRIVERS: dict[str, tuple[t.Callable[[], bool], str]] = {
    "psycopg2": (
        _psycopg2_unpatched,
        "psycopg2 waits for PostgreSQL inside C and blocks the gevent loop: "
        "pip install psycogreen, and call psycogreen.gevent.patch_psycopg() "
        "at the top of wsgiapp.py, before anything connects",
    ),
    "MySQLdb": (
        lambda: (
            not getattr(sys.modules.get("MySQLdb"), "__digwebs_cooperative__", False)
            and "pymysql" not in sys.modules
        ),
        "mysqlclient (MySQLdb) waits for MySQL inside C and blocks the gevent loop: "
        "use PyMySQL (pip install pymysql; pure Python, so gevent makes it cooperative), "
        "e.g. call pymysql.install_as_MySQLdb() before MySQLdb is imported",
    ),
    "pylibmc": (
        lambda: True,
        "pylibmc talks to memcached inside C and blocks the gevent loop: "
        "use pymemcache (pure Python) instead",
    ),
    "pymssql": (
        lambda: True,
        "pymssql talks to SQL Server inside C and blocks the gevent loop: "
        "use python-tds or run the queries in gevent's threadpool",
    ),
    "cx_Oracle": (
        lambda: True,
        "cx_Oracle blocks the gevent loop: use python-oracledb in thin mode (pure Python)",
    ),
    "zmq": (
        lambda: "zmq.green" not in sys.modules,
        "pyzmq blocks the gevent loop: import zmq.green as zmq instead of zmq",
    ),
}


def blocking_driver_problems() -> list[str]:
    """Loop-blocking C drivers imported (so far) in this gevent process, with the fix."""
    problems = []
    for module, (is_blocking, fix) in BLOCKING_DRIVERS.items():
        if module in sys.modules:
            try:
                blocking = is_blocking()
            except Exception:
                blocking = True
            if blocking:
                problems.append(fix)
    return problems


# --------------------------------------------------------------------------
# --check: import the app in a child process that mirrors a worker

_CHECK_MARKER = "DIGWEBS-CHECK-RESULT "


def _check_child_main() -> None:
    """Entry point of the ``--check`` child: import the app like a worker would."""
    request = json.loads(sys.stdin.read())
    result: dict[str, t.Any] = {"ok": False}
    try:
        from digwebs_cli.discovery import _digwebs_class, load_app

        app = load_app(request["app"], Path(request["cwd"]))
        digwebs_cls = _digwebs_class()
        if digwebs_cls is not None and isinstance(app, digwebs_cls):
            result["kind"] = "digwebs"
            result["routes"] = len(app.routes())
        else:
            result["kind"] = type(app).__name__
        result["ok"] = True
        if request["workers"] == "gevent":
            if request.get("worker_import"):
                import importlib

                importlib.import_module(request["worker_import"])
            result["blocking"] = blocking_driver_problems()
    except DigwebsCliError as exc:
        result["error"] = exc.format_message()
    except BaseException as exc:  # report anything, never a traceback
        result["error"] = f"{type(exc).__name__}: {exc}"
    sys.stdout.flush()
    sys.stdout.write("\n" + _CHECK_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


def _check_app_in_child(settings: Settings) -> dict[str, t.Any]:
    prelude = ""
    if settings.workers == "gevent":
        # exactly like a gevent worker: patch first, then import the app
        prelude = "from gevent import monkey; monkey.patch_all(); "
    code = prelude + "from digwebs_cli.serve import _check_child_main; _check_child_main()"
    request = {
        "app": settings.app,
        "cwd": str(settings.cwd),
        "workers": settings.workers,
        "worker_import": "digwebs_cli._gevent_support" if settings.workers == "gevent" else None,
    }
    env = dict(os.environ, DIGWEBS_ENV=settings.env)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd=settings.cwd,
            env=env,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"importing {settings.app} took more than 120 s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(_CHECK_MARKER):
            return t.cast(dict[str, t.Any], json.loads(line[len(_CHECK_MARKER) :]))
    last = next((ln for ln in reversed(proc.stderr.splitlines()) if ln.strip()), "")
    return {
        "ok": False,
        "error": f"importing the app crashed the process: {last or proc.returncode}",
    }


def run_check(settings: Settings) -> None:
    """``--check``: validate everything, serve nothing. Exit 2 on any problem."""
    errors: list[str] = []

    def ok(text: str) -> None:
        click.echo(f"  ok       {text}")

    def warn(text: str) -> None:
        click.echo(f"  warning  {text}")

    def fail(text: str) -> None:
        errors.append(text)
        click.echo(f"  error    {text}")

    click.echo(f"digwebs serve --check ({settings.cwd})")
    for text in settings.warnings:
        fail(text)  # an unknown [server] key is a mistake --check should catch
    problems = option_problems(settings)
    for text in problems:
        fail(text)
    if settings.workers != "gevent":
        ok(f"worker model {settings.workers}: gunicorn's {WORKER_CLASSES[settings.workers]} worker")
    elif gevent_problem() is None:
        ok(f"worker model gevent: gunicorn's gevent worker, {settings.connections} connections")
    if not problems:
        ok(f"settings: {settings.concurrency()}, {settings.env}")

    try:
        sock = bind_socket(dataclasses.replace(settings))
    except DigwebsCliError as exc:
        fail(exc.format_message())
    else:
        sock.close()
        ok(f"{settings.host}:{settings.port} is free to listen on")

    if settings.workers == "gevent" and gevent_problem() is not None:
        warn(f"the app was not imported: a gevent worker cannot run here ({settings.app})")
    else:
        result = _check_app_in_child(settings)
        if not result.get("ok"):
            fail(result.get("error", "the app failed to import"))
        elif result.get("kind") == "digwebs":
            routes = int(result.get("routes", 0))
            if routes:
                ok(f"app {settings.app} imports: a Digwebs app with {routes} routes")
            else:
                fail(
                    f"app {settings.app} has no routes: add a function with @get(...) to a "
                    "module in controllers/"
                )
        else:
            ok(f"app {settings.app} imports: a WSGI callable ({result.get('kind')})")
            warn(f"{settings.app} is not a Digwebs app: its routes cannot be checked")
        for text in result.get("blocking", []):
            fail(text)
        if result.get("ok") and settings.workers == "gevent" and not result.get("blocking"):
            ok("no known loop-blocking C drivers imported")

    if errors:
        count = len(errors)
        raise DigwebsCliError(
            f"--check found {count} problem{'s' if count != 1 else ''}; nothing was served"
        )
    click.echo("digwebs serve --check: everything is in order")


# --------------------------------------------------------------------------
# --print-config


def gunicorn_options(settings: Settings) -> dict[str, t.Any]:
    """The gunicorn settings *settings* translate to."""
    model = settings.workers
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    options: dict[str, t.Any] = {
        "bind": [f"{host}:{settings.port}"],
        "workers": settings.processes,
        "worker_class": WORKER_CLASSES[model],
        "threads": settings.threads if model == "threads" else 1,
        "worker_connections": settings.connections,
        "backlog": max(2048, settings.connections),
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
    }
    return options


def reload_patterns(root: Path) -> list[str]:
    """Files whose change restarts the workers, besides every imported module.

    Python files of the project (top level and its package folders), views
    and config. Folders that hold no project code (static files, virtual
    environments, node_modules) are left out: the poller stats every file
    every second.
    """
    patterns = [
        str(root / "*.py"),
        str(root / "config" / "*.toml"),
        str(root / "views" / "**" / "*"),
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
    click.echo(
        "digwebs serve: effective settings (command line > DIGWEBS_SERVE_* > "
        f"DIGWEBS_SERVER__* > config/{settings.env}.toml > config/default.toml > defaults)"
    )
    rows = [("app", settings.app), ("env", settings.env)]
    rows += [(key, getattr(settings, key)) for key in _KEYS if key != "app"]
    for key, value in rows:
        shown = value
        if isinstance(value, float) and value == int(value):
            shown = int(value)
        if key == "warn_blocking":
            shown = f"{shown} ms" if value else "off"
        click.echo(f"  {key:<17}{str(shown):<24}{settings.sources.get(key, 'default')}")
    click.echo(f"  {'url':<17}{settings.url}")
    click.echo("gunicorn settings:")
    for key, value in gunicorn_options(settings).items():
        if key in ("reload_extra_files",):
            value = f"{len(value)} patterns" if value else "[]"
        click.echo(f"  {key:<24}{value}")
    for text in settings.warnings:
        click.echo(f"warning: {text}")


# --------------------------------------------------------------------------
# The gunicorn application, arbiter and logger (built on first use, so that
# `digwebs --help` does not import gunicorn)

# The worker process's gunicorn Worker object (set by the post_fork hook).
_WORKER: t.Any = None


def _post_fork(server: t.Any, worker: t.Any) -> None:
    global _WORKER
    _WORKER = worker


def _post_worker_init(worker: t.Any) -> None:
    # Ctrl-C in a terminal signals the whole process group, workers included:
    # make SIGINT as graceful as SIGTERM (a second Ctrl-C makes the master quit
    # at once). gunicorn's default is to drop requests in flight.
    signal.signal(signal.SIGINT, worker.handle_exit)


@functools.cache
def _gunicorn_classes() -> t.Any:
    from gunicorn import glogging
    from gunicorn import sock as gsock
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter
    from gunicorn.errors import HaltServer

    class DigwebsLogger(glogging.Logger):  # type: ignore[misc]
        """gunicorn's logger without the start-up chatter: digwebs prints its own line."""

        _KEEP_INFO = ("Worker reloading", "Autorestarting worker")
        _DROP_WARNING = ("Reloader is on",)

        def info(self, msg: str, *args: t.Any, **kwargs: t.Any) -> None:
            if isinstance(msg, str) and msg.startswith(self._KEEP_INFO):
                self.error_log.info(msg, *args, **kwargs)

        def warning(self, msg: str, *args: t.Any, **kwargs: t.Any) -> None:
            if isinstance(msg, str) and msg.startswith(self._DROP_WARNING):
                return
            self.error_log.warning(msg, *args, **kwargs)

        def error(self, msg: str, *args: t.Any, **kwargs: t.Any) -> None:
            # a worker that could not import the app: the master reports it as
            # one line (DigwebsArbiter.halt); say nothing twice
            if (
                isinstance(msg, str)
                and msg.startswith("Worker (pid:")
                and args
                and args[-1] == Arbiter.APP_LOAD_ERROR
            ):
                return
            self.error_log.error(msg, *args, **kwargs)

    class DigwebsArbiter(Arbiter):  # type: ignore[misc]
        """gunicorn's arbiter on digwebs' socket, graceful on Ctrl-C."""

        def start(self) -> None:
            app = self.app
            if app.listener is not None and not self.LISTENERS:  # type: ignore[has-type]
                fd = os.dup(app.listener.fileno())
                name = app.listener.getsockname()
                sock_type = gsock._sock_type(name)
                self.LISTENERS = [sock_type(name, self.cfg, self.log, fd=fd)]
                app.listener.close()
                app.listener = None
            super().start()

        def _stopping(self, why: str) -> None:
            grace = self.cfg.graceful_timeout
            _say(
                f"digwebs: {why}: finishing requests in flight (up to {grace:g} s); "
                "press Ctrl-C again to stop at once"
            )

        def handle_term(self) -> None:
            self._stopping("SIGTERM")
            raise StopIteration

        def handle_int(self) -> None:
            self._stopping("Ctrl-C")
            raise StopIteration

        def stop(self, graceful: bool = True) -> None:
            # While stopping, reaping a second worker that failed the same way
            # raises HaltServer again (gunicorn's reap_workers): keep stopping.
            for _ in range(len(self.WORKERS) + 3):
                try:
                    super().stop(graceful)
                    return
                except HaltServer:
                    continue

        def halt(self, reason: str | None = None, exit_status: int = 0) -> None:
            if exit_status == self.APP_LOAD_ERROR:
                message = self.app.read_load_error()
                if message:
                    if hasattr(self, "_stop_control_server"):
                        self._stop_control_server()
                    self.stop()
                    raise DigwebsCliError(message)
            super().halt(reason, exit_status)

    class DigwebsApplication(BaseApplication):  # type: ignore[misc]
        """Runs the project's app under gunicorn; the app is imported in each worker."""

        def __init__(self, settings: Settings, listener: socket.socket | None) -> None:
            self.settings = settings
            self.listener = listener
            self.digwebs_warn_blocking_ms = settings.warn_blocking
            # a worker that fails to import the app writes why here (the master reads it)
            self._error_r, self._error_w = os.pipe()
            os.set_blocking(self._error_r, False)
            # one token: the first worker to load the app prints the start line
            self._token_r, self._token_w = os.pipe()
            os.set_blocking(self._token_r, False)
            os.write(self._token_w, b"1")
            # set to 1 once any worker has loaded the app (shared across forks)
            self._booted = mmap.mmap(-1, 1)
            super().__init__(usage=None, prog="digwebs serve")

        def load_config(self) -> None:
            options = gunicorn_options(self.settings)
            options.update(
                logger_class=DigwebsLogger,
                post_fork=_post_fork,
                post_worker_init=_post_worker_init,
            )
            for key, value in options.items():
                if key in self.cfg.settings:  # e.g. control_socket_disable: gunicorn 25.1+
                    self.cfg.set(key, value)

        # -- in the worker ------------------------------------------------

        def load(self) -> t.Any:
            from digwebs_cli.discovery import load_app

            settings = self.settings
            try:
                app = load_app(settings.app, settings.cwd)
            except DigwebsCliError as exc:
                return self._load_failed(exc.format_message())
            except BaseException as exc:  # noqa: BLE001 - must never show a traceback
                return self._load_failed(
                    f"importing {settings.app} failed: {type(exc).__name__}: {exc}"
                )
            if settings.workers == "gevent":
                for text in blocking_driver_problems():
                    _say(f"digwebs: warning: {text}", err=True)
            self._booted[0] = 1
            try:
                first = os.read(self._token_r, 1)
            except BlockingIOError:
                first = b""
            if first:
                extra = ", reload on" if settings.reload else ""
                _say(
                    f"digwebs: serving {settings.app} at {settings.url} ({settings.workers}: "
                    f"{settings.concurrency()}; {settings.env}{extra}). Ctrl-C to stop"
                )
            return app

        def _load_failed(self, message: str) -> t.Any:
            from gunicorn.arbiter import Arbiter

            if self.settings.reload and self._booted[0]:
                # a change broke the app: keep the server up, show the error,
                # and wait for the next change (the reloader is watching)
                _say(f"digwebs: reload failed: {message}", err=True)
                return _failed_app(message)
            data = (message.replace("\n", " ") + "\n").encode()[:4000]
            try:
                os.write(self._error_w, data)
            except OSError:
                pass
            raise SystemExit(Arbiter.APP_LOAD_ERROR)

        # -- in the master -------------------------------------------------

        def read_load_error(self) -> str:
            try:
                data = os.read(self._error_r, 65536)
            except BlockingIOError:
                return ""
            lines = data.decode(errors="replace").splitlines()
            return lines[0] if lines else ""

        def run(self) -> None:
            master = os.getpid()
            try:
                DigwebsArbiter(self).run()
            except SystemExit as exc:
                if os.getpid() != master:
                    # a worker process leaving (gunicorn has cleaned up): exit
                    # here, not through the caller's stack, which belongs to
                    # the master (click, or a test runner that called us)
                    for stream in (sys.stdout, sys.stderr):
                        try:
                            stream.flush()
                        except (OSError, ValueError):
                            pass
                    code = exc.code
                    os._exit(code if isinstance(code, int) else (0 if code is None else 1))
                code = exc.code
                if code in (0, None):
                    _say("digwebs: stopped")
                    return
                message = self.read_load_error()
                if message:
                    raise DigwebsCliError(message) from None
                raise DigwebsCliError(
                    f"the server stopped: {_exit_reason(code)} (see the log above)"
                ) from None

    return DigwebsApplication


def _exit_reason(code: t.Any) -> str:
    if code == 3:
        return "a worker failed to boot"
    if code == 4:
        return "the app failed to load"
    return f"exit status {code}"


def _failed_app(message: str) -> t.Callable[..., t.Any]:
    body = (
        f"digwebs: the app failed to load after a change:\n{message}\n\n"
        "Fix it and save the file again: the server reloads by itself.\n"
    ).encode()

    def failed(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> list[bytes]:
        start_response(
            "500 Internal Server Error",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return failed


def _say(text: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    try:
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


# --------------------------------------------------------------------------
# The command


def _source_of(ctx: click.Context, name: str, envvars: t.Sequence[str]) -> str | None:
    source = ctx.get_parameter_source(name)
    if source is click.core.ParameterSource.COMMANDLINE:
        param = next(p for p in ctx.command.params if p.name == name)
        return str(param.opts[0])
    if source is click.core.ParameterSource.ENVIRONMENT:
        return next((v for v in envvars if os.environ.get(v) is not None), envvars[0])
    return None


def _env_names(key: str) -> list[str]:
    return [ENV_PREFIX + key.upper()]


@click.command(
    "serve",
    short_help="Serve the project under gunicorn (sync, threads or gevent).",
    context_settings={"max_content_width": 100},
)
@click.version_option(package_name="digwebs", prog_name="digwebs")
@click.option(
    "--app",
    metavar="MODULE:ATTR",
    envvar=_env_names("app"),
    help="The app to serve [default: $DIGWEBS_APP, else wsgiapp:app].",
)
@click.option(
    "--host",
    metavar="HOST",
    envvar=_env_names("host"),
    help="Address to listen on [default: 127.0.0.1].",
)
@click.option(
    "--port", metavar="PORT", envvar=_env_names("port"), help="Port to listen on [default: 8000]."
)
@click.option(
    "--workers",
    metavar="sync|threads|gevent",
    envvar=_env_names("workers"),
    help="Worker model [default: threads].",
)
@click.option(
    "--processes",
    metavar="N",
    envvar=_env_names("processes"),
    help="Worker processes [default: 1].",
)
@click.option(
    "--threads",
    metavar="N",
    envvar=_env_names("threads"),
    help="Threads per process, --workers threads only [default: 8].",
)
@click.option(
    "--connections",
    metavar="N",
    envvar=_env_names("connections"),
    help="Concurrent connections per process (gevent, threads) [default: 1000].",
)
@click.option(
    "--timeout",
    metavar="S",
    envvar=_env_names("timeout"),
    help="Restart a worker silent for S seconds; 0 = never [default: 30].",
)
@click.option(
    "--graceful-timeout",
    metavar="S",
    envvar=_env_names("graceful_timeout"),
    help="On shutdown, how long requests in flight may take [default: 30].",
)
@click.option(
    "--reload/--no-reload",
    default=None,
    envvar=_env_names("reload"),
    help="Restart workers when Python files, views or config change.",
)
@click.option(
    "--env",
    metavar="development|production",
    envvar=["DIGWEBS_SERVE_ENV", "DIGWEBS_ENV"],
    help="Environment: picks config/<env>.toml; DIGWEBS_ENV for the app [default: development].",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    envvar=_env_names("access_log"),
    help="Log every request [default: on in development].",
)
@click.option(
    "--warn-blocking",
    metavar="MS",
    envvar=_env_names("warn_blocking"),
    help="gevent: report a greenlet that blocks the loop for more than MS ms, "
    "with its stack; 0 = off [default: 100 in development, off in production].",
)
@click.option(
    "--check",
    is_flag=True,
    envvar=_env_names("check"),
    help="Validate settings, worker model and app, then exit without serving.",
)
@click.option(
    "--print-config",
    is_flag=True,
    envvar=_env_names("print_config"),
    help="Show the effective settings and where each came from, then exit.",
)
@click.pass_context
def serve_command(ctx: click.Context, /, **params: t.Any) -> None:
    """Serve the project in the current folder under gunicorn.

    \b
    Worker models:
      sync     one request at a time per process (--processes N)
      threads  --threads N requests at a time per process (gunicorn gthread)
      gevent   --connections N requests at a time in one process; the app is
               imported after gevent has patched the standard library

    Settings come from the command line, then DIGWEBS_SERVE_<OPTION>
    environment variables (e.g. DIGWEBS_SERVE_PORT=9000; DIGWEBS_APP and
    DIGWEBS_ENV work too), then DIGWEBS_SERVER__<KEY> variables, then the
    [server] table of config/<env>.toml and of config/default.toml (keys as
    the options: port, workers, access_log, warn_blocking...). --print-config
    shows the result and where each value came from.

    Ctrl-C or SIGTERM stops gracefully: requests in flight finish (up to
    --graceful-timeout). --check validates all of it, imports the app as a
    worker would and serves nothing.
    """
    cwd = Path.cwd()
    check = params.pop("check")
    show_config = params.pop("print_config")

    env_value = params.pop("env")
    env_source = _source_of(ctx, "env", ["DIGWEBS_SERVE_ENV", "DIGWEBS_ENV"]) or "default"
    env = (env_value or "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise DigwebsCliError(
            f"unknown environment {env_value!r} ({env_source}): choose development or production"
        )

    cli_values: dict[str, t.Any] = {}
    cli_sources: dict[str, str] = {}
    for key, value in params.items():
        source = _source_of(ctx, key, _env_names(key))
        if source is None:
            continue
        cli_values[key] = value
        cli_sources[key] = source

    settings = resolve_settings(cwd, cli_values, cli_sources, env, env_source)
    if not show_config:
        # without importing anything: the app is imported in the workers only
        check_module_exists(settings.app, cwd)

    if show_config:
        print_config(settings)
        return
    if check:
        run_check(settings)
        return

    problems = option_problems(settings)
    if problems:
        raise DigwebsCliError(problems[0])
    for text in settings.warnings:
        click.echo(f"digwebs: warning: {text}", err=True)

    listener = bind_socket(settings)
    # the app reads its environment from DIGWEBS_ENV, in every worker
    os.environ["DIGWEBS_ENV"] = settings.env
    try:
        application = _gunicorn_classes()(settings, listener)
    except BaseException:
        listener.close()
        raise
    application.run()
