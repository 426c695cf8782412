"""``digwebs shell``: a Python shell with the project's app and a request.

The app is found and loaded the way ``digwebs serve`` and ``digwebs routes``
find it (``--app``, ``DIGWEBS_APP``, else ``wsgiapp.py`` in the current
folder; see :mod:`digwebs_cli.discovery`), with the project's ``.env`` read
first. A request context for ``--method`` and ``--path`` (``GET /``) is
pushed for the whole session, so ``request``, ``g``, ``session`` and
``url_for`` work as they do in a handler. Predefined names: ``app``, ``ctx``,
``request``, ``g``, ``session`` and ``url_for``.

The shell is IPython when it is installed (``--plain`` for the standard one),
else the standard library's :mod:`code` console with tab completion and the
``PYTHONSTARTUP`` file run first, as ``python`` does. ``-c CODE`` runs CODE
and exits, as ``python -c``: an exception in CODE prints its traceback and
exits 1, ``sys.exit(n)`` exits n. Bad arguments get one line and exit code 2.
"""

from __future__ import annotations

import code as code_module
import importlib
import os
import re
import sys
import traceback
import typing as t

import click

from .errors import DigwebsCliError
from .locator import AppLocator, app_option, pass_locator

if t.TYPE_CHECKING:
    from digwebs import Digwebs

PREDEFINED = ("app", "ctx", "request", "g", "session", "url_for")

_METHOD_RE = re.compile(r"[A-Z]{1,20}")


@click.command("shell")
@app_option
@click.option("-c", "code", metavar="CODE", help="Run CODE with the names predefined, then exit.")
@click.option(
    "--path",
    default="/",
    show_default=True,
    metavar="PATH",
    help="Path (and ?query) of the request whose context is pushed.",
)
@click.option("--method", default="GET", show_default=True, help="Method of that request.")
@click.option("--plain", is_flag=True, help="The standard Python console even if IPython is here.")
@pass_locator
def shell_command(
    locator: AppLocator, code: str | None, path: str, method: str, plain: bool
) -> None:
    """A Python shell with the app loaded and a request context pushed.

    app, ctx, request, g, session and url_for are predefined. The shell is
    IPython when it is installed (--plain: the standard console), else
    Python's own with tab completion and $PYTHONSTARTUP. -c CODE runs CODE
    and exits, as python -c does.
    """
    if not path.startswith("/"):
        raise DigwebsCliError(f"--path '{path}' must start with '/', e.g. --path /posts/1")
    method = method.strip().upper()
    if not _METHOD_RE.fullmatch(method):
        raise DigwebsCliError(f"--method '{method}' is not an HTTP method, e.g. GET or POST")

    app, import_string = _load(locator)
    try:
        ctx = app.test_request_context(path, method)
    except Exception as exc:  # a request the app's request class refuses
        raise DigwebsCliError(f"Cannot build a request for {method} {path}: {exc}") from None
    namespace = predefined_names(app, ctx)
    with ctx:
        if code is not None:
            raise SystemExit(run_code(code, namespace))
        banner = (
            f"digwebs shell: {import_string} ({app.config.get('env', 'development')}), "
            f"in a request context for {method} {path}.\n"
            f"Predefined: {', '.join(PREDEFINED)}."
        )
        interact(namespace, banner, plain)


def _load(locator: AppLocator) -> tuple[Digwebs, str]:
    import_string = locator.import_string()
    app = locator.load()
    if not callable(getattr(app, "test_request_context", None)):
        raise DigwebsCliError(
            f"'{import_string}' is a WSGI application but not a digwebs one: "
            "digwebs shell needs a digwebs app to push a request context for."
        )
    return app, import_string


def predefined_names(app: Digwebs, ctx: t.Any) -> dict[str, t.Any]:
    """The shell's globals: the app, the context and the context locals."""
    from digwebs import g, request, session, url_for

    return {
        "__name__": "__main__",
        "__builtins__": __builtins__,
        "app": app,
        "ctx": ctx,
        "request": request,
        "g": g,
        "session": session,
        "url_for": url_for,
    }


def run_code(source: str, namespace: dict[str, t.Any]) -> int:
    """Run ``source`` as ``python -c`` would; return the exit code.

    A traceback shows CODE's own frames (``File "<string>"``), not the shell's.
    """
    try:
        compiled = compile(source, "<string>", "exec")
    except SyntaxError as exc:
        traceback.print_exception(type(exc), exc, None, file=sys.stderr)
        return 1
    try:
        exec(compiled, namespace)
    except SystemExit as exc:
        return _exit_code(exc)
    except BaseException as exc:
        # Drop this function's frame: the first frame is CODE's.
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        traceback.print_exception(type(exc), exc, tb, file=sys.stderr)
        return 1
    return 0


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # sys.exit("message"), as Python does
    return 1


def interact(namespace: dict[str, t.Any], banner: str, plain: bool) -> None:
    """IPython if installed and not ``plain``, else the standard console."""
    if not plain:
        try:
            # By name: IPython is optional and ships no type information.
            ipython = importlib.import_module("IPython")
        except ImportError:
            pass
        else:
            click.echo(banner)
            # argv=[]: IPython must not read digwebs's own command line.
            ipython.start_ipython(argv=[], user_ns=namespace)
            return
    _standard_console(namespace, banner)


def _standard_console(namespace: dict[str, t.Any], banner: str) -> None:
    try:
        import readline
        import rlcompleter
    except ImportError:  # Windows without pyreadline: no completion
        pass
    else:
        readline.set_completer(rlcompleter.Completer(namespace).complete)
        readline.parse_and_bind("tab: complete")
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        # As `python` does for its interactive prompt; errors do not stop the shell.
        try:
            with open(startup, encoding="utf-8") as f:
                exec(compile(f.read(), startup, "exec"), namespace)
        except Exception:
            traceback.print_exc()
    code_module.interact(banner=banner, local=namespace, exitmsg="")
