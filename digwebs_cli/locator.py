"""Which app a ``digwebs`` command line is about, found once (Flask's ``ScriptInfo``).

``--app`` is an option of the group (``digwebs --app blog:app routes``) and,
as before, of each command that works on an app (``digwebs routes --app
blog:app``); both set the same :class:`AppLocator`, the context object of
the whole command line, and the command asks it for the app. Nothing is
imported until a command asks: ``--help``, ``--version`` and ``new`` work
in any folder.

Where the app comes from, first match wins (see
:mod:`digwebs_cli.discovery` for the syntax):

1. ``--app`` (the command's, when both are given);
2. the ``DIGWEBS_APP`` environment variable (the project's ``.env`` counts);
3. for ``serve``, ``check`` and ``deploy``: the ``app`` key of the
   ``[server]`` config table;
4. ``wsgiapp.py`` in the current folder, which means ``wsgiapp:app``.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import click

from digwebs_cli.discovery import DEFAULT_MODULE_FILE, ENV_VAR, find_import_string

if t.TYPE_CHECKING:  # pragma: no cover
    from digwebs import Digwebs

__all__ = ["AppLocator", "app_option", "pass_locator"]


class AppLocator:
    """The app of one ``digwebs`` command line: where it is, and the app once loaded.

    :param app_option: the value of ``--app``, if it was given.
    """

    def __init__(self, app_option: str | None = None) -> None:
        #: The value of ``--app`` (the group's or the command's), or None.
        self.app_option = app_option
        self._found: dict[str | None, tuple[str, str]] = {}
        self._loaded: dict[str, Digwebs] = {}

    def find(
        self, config_app: str | None = None, config_source: str = "[server] app"
    ) -> tuple[str, str]:
        """Return the app's import string and where it came from; found once.

        The source is what ``serve --print-config`` shows: ``--app``,
        ``DIGWEBS_APP`` (``DIGWEBS_APP (.env)`` when the project's ``.env``
        set it), *config_source*, or ``wsgiapp.py``. Not finding one, or a
        value that is not an import string, is a
        :class:`~digwebs_cli.errors.DigwebsCliError`.

        :param config_app: the ``[server]`` table's ``app``, which ranks
            below ``DIGWEBS_APP`` and above ``wsgiapp.py``.
        :param config_source: where *config_app* was set.
        """
        if config_app in self._found:
            return self._found[config_app]
        cwd = Path.cwd()
        if self.app_option is not None:
            found = find_import_string(self.app_option, cwd), "--app"
        elif os.environ.get(ENV_VAR) is not None:
            from digwebs_cli.discovery import load_env_file

            from_env_file = ENV_VAR in load_env_file(cwd)
            source = f"{ENV_VAR} (.env)" if from_env_file else ENV_VAR
            found = find_import_string(None, cwd), source
        elif config_app:
            found = find_import_string(config_app, cwd), config_source
        else:
            found = find_import_string(None, cwd), DEFAULT_MODULE_FILE
        self._found[config_app] = found
        return found

    def import_string(self) -> str:
        """Return the app's ``module:attr`` import string (no config: ``routes``, ``shell``)."""
        return self.find()[0]

    def load(self) -> Digwebs:
        """Import and load the app (once): :func:`digwebs_cli.discovery.load_app`."""
        from digwebs_cli.discovery import load_app

        import_string = self.import_string()
        if import_string not in self._loaded:
            self._loaded[import_string] = load_app(import_string, Path.cwd())
        return self._loaded[import_string]


#: Pass the command line's :class:`AppLocator` as a command's first argument.
pass_locator = click.make_pass_decorator(AppLocator, ensure=True)


def _remember_app(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(AppLocator).app_option = value


def app_option(function: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Add ``--app MODULE:ATTR`` to a command; its value goes to the :class:`AppLocator`.

    The command does not receive the value itself: it takes the locator
    (:data:`pass_locator`), which the group's ``--app`` sets too.
    """
    return click.option(
        "--app",
        "app_import",
        metavar="MODULE:ATTR",
        expose_value=False,
        callback=_remember_app,
        help=f"The app [default: ${ENV_VAR}, else wsgiapp:app].",
    )(function)
