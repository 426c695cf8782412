"""The ``digwebs`` click group.

Commands are imported lazily, by name, so ``digwebs --help`` and ``digwebs new``
stay fast and work in any folder, and a command whose optional dependencies
are missing cannot break the others.
"""

from __future__ import annotations

import importlib
import typing as t
from pathlib import Path

import click

from .errors import DigwebsCliError

# command name -> "module:attribute" of its click command
_COMMANDS: dict[str, str] = {
    "check": "digwebs_cli.check:check_command",
    "deploy": "digwebs_cli.deploy:deploy_command",
    "new": "digwebs_cli.new:new_command",
    "generate": "digwebs_cli.generate:generate_command",
    "routes": "digwebs_cli.routes:routes_command",
    "serve": "digwebs_cli.serve:serve_command",
    "shell": "digwebs_cli.shell:shell_command",
}


def _one_line(exc: click.UsageError) -> DigwebsCliError:
    """A usage error as one ``Error:`` line that names the command's --help."""
    ctx = exc.ctx
    where = f" Try '{ctx.command_path} --help'." if ctx is not None else ""
    return DigwebsCliError(exc.format_message() + where)


class _LazyGroup(click.Group):
    """The group: commands imported on first use; usage errors are one line.

    click prints a usage error as the usage text, a hint and the error: three
    lines for one mistake. Here every command's (and the group's own) usage
    error is the one ``Error:`` line of :class:`DigwebsCliError`, exit code 2.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except DigwebsCliError:
            raise
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> t.Any:
        try:
            return super().invoke(ctx)
        except DigwebsCliError:
            raise
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in _COMMANDS:
            return command
        module_name, attr = _COMMANDS[cmd_name].split(":")
        loaded = getattr(importlib.import_module(module_name), attr)
        return t.cast(click.Command, loaded)


# Commands that work on the project in the current folder and so read its .env.
_PROJECT_COMMANDS = frozenset({"serve", "routes", "shell", "check", "deploy"})


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="digwebs", prog_name="digwebs")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Scaffold, serve and inspect digwebs projects."""
    # click runs the group before it parses the command's own options, so a
    # DIGWEBS_SERVE_PORT or DIGWEBS_ENV in .env counts for `serve`'s options.
    if ctx.invoked_subcommand in _PROJECT_COMMANDS:
        from .discovery import load_env_file

        load_env_file(Path.cwd())


def main() -> None:
    """Console-script entry point.

    No ``auto_envvar_prefix``: ``digwebs serve`` names its own variables
    (``DIGWEBS_SERVE_<OPTION>``, which the runtime's config skips), and
    every other ``DIGWEBS_<KEY>`` variable is the app's config key ``<key>``.
    With click's automatic variables ``DIGWEBS_ROUTES_SORT`` would be both a
    ``routes`` option and the config key ``routes_sort``, and
    ``DIGWEBS_NEW_FORCE`` would silently overwrite files.
    """
    cli()
