"""A ``digwebs serve`` run's settings in gunicorn's terms.

:func:`gunicorn_options` translates a :class:`~digwebs_cli.serve_settings.Settings`
into gunicorn's settings (``--print-config`` shows them, and
:mod:`digwebs_cli.gunicorn_app` hands them to gunicorn);
:data:`WORKER_CLASSES` names the worker class of each worker model and
:func:`reload_patterns` the files whose change restarts the workers.
gunicorn itself is not imported here.
"""

from __future__ import annotations

import math
import os
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:  # pragma: no cover
    from digwebs_cli.serve_settings import Settings

WORKER_CLASSES = {
    "sync": "digwebs_cli.workers.DigwebsSyncWorker",
    "threads": "digwebs_cli.workers.DigwebsThreadWorker",
    "gevent": "digwebs_cli._gevent_support.DigwebsGeventWorker",
}


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
