"""What ``digwebs serve`` validates before serving, and ``--check``.

The worker model (is gevent usable here?), option combinations that
contradict each other, the listening address, and the app itself, imported
in a child process the way a worker imports it (after gevent's patching,
under ``--workers gevent``), with any loop-blocking C drivers it pulls in.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import click

from digwebs_cli.blocking_drivers import blocking_driver_problems
from digwebs_cli.errors import DigwebsCliError
from digwebs_cli.listen import bind_socket
from digwebs_cli.serve_settings import WORKER_CLASSES, Settings

GEVENT_MIN_VERSION = (24, 10, 1)  # what gunicorn's gevent worker requires
INSTALL_GEVENT = "pip install 'digwebs[gevent]'"

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
            # the project's own routes: not the static files digwebs adds
            result["routes"] = sum(
                1 for route in app.routes() if not route.handler_name.startswith("digwebs.")
            )
        else:
            result["kind"] = type(app).__name__
        result["ok"] = True
        if request["workers"] == "gevent":
            # and what a gevent worker imports besides the app
            import digwebs_cli._gevent_support  # noqa: F401

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
    code = prelude + "from digwebs_cli.serve_checks import _check_child_main; _check_child_main()"
    request = {
        "app": settings.app,
        "cwd": str(settings.cwd),
        "workers": settings.workers,
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
    for text in settings.deprecations:
        warn(text)
    for text in settings.warnings:
        fail(text)  # an unknown [server] key is a mistake --check should catch
    problems = option_problems(settings)
    for text in problems:
        fail(text)
    gevent_missing = settings.workers == "gevent" and gevent_problem() is not None
    if settings.workers != "gevent":
        ok(f"worker model {settings.workers}: gunicorn's {WORKER_CLASSES[settings.workers]} worker")
    elif not gevent_missing:
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

    if gevent_missing:
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
