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

from ._messages import usage_error
from .errors import DigwebsCliError
from .locator import AppLocator, app_option

# command name -> ("module:attribute" of its click command, its short help).
# The help is written here too so that `digwebs --help` lists the commands
# without importing one (tests/cli/test_main.py keeps the two texts equal).
_COMMANDS: dict[str, tuple[str, str]] = {
    "check": (
        "digwebs_cli.check:check_command",
        "Check the project's settings and app (--deploy: for production).",
    ),
    "deploy": (
        "digwebs_cli.deploy:deploy_command",
        "Print nginx, systemd or container files for the project.",
    ),
    "new": ("digwebs_cli.new:new_command", "Create the project NAME from a template."),
    "generate": (
        "digwebs_cli.generate:generate_command",
        "Add code to the project in the current folder.",
    ),
    "routes": (
        "digwebs_cli.routes:routes_command",
        "List the routes of the app in the current folder.",
    ),
    "serve": (
        "digwebs_cli.serve:serve_command",
        "Serve the project under gunicorn (sync, threads or gevent).",
    ),
    "shell": (
        "digwebs_cli.shell:shell_command",
        "A Python shell with the app loaded and a request context pushed.",
    ),
}


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ._templates import digwebs_version

    click.echo(f"digwebs, version {digwebs_version()}")
    ctx.exit()


#: ``--version``, declared once: the group has it, and every command the
#: group loads gets it too (``digwebs new --version`` works as ``digwebs
#: --version`` does).
VERSION_OPTION = click.Option(
    ["--version"],
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)


def _give_version_option(command: click.Command) -> None:
    """Add :data:`VERSION_OPTION` to ``command`` and, for a group, to its commands."""
    if VERSION_OPTION not in command.params:
        command.params.append(VERSION_OPTION)
    for sub in getattr(command, "commands", {}).values():
        _give_version_option(sub)


class _LazyGroup(click.Group):
    """The group: commands imported on first use; usage errors are one line.

    click prints a usage error as the usage text, a hint and the error: three
    lines for one mistake. Here every command's (and the group's own) usage
    error is the one ``Error:`` line of :class:`DigwebsCliError`, exit code 2.
    ``digwebs --help`` lists the commands from :data:`_COMMANDS` and imports
    none of them.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the group's own options; a usage error is one line."""
        try:
            return super().parse_args(ctx, args)
        except DigwebsCliError:
            raise
        except click.UsageError as exc:
            raise usage_error(exc) from None

    def invoke(self, ctx: click.Context) -> t.Any:
        """Run the command; its usage errors (and those of its options) are one line."""
        try:
            return super().invoke(ctx)
        except DigwebsCliError:
            raise
        except click.UsageError as exc:
            raise usage_error(exc) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the names of every command, loaded or not, sorted."""
        return sorted({*super().list_commands(ctx), *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import command ``cmd_name`` (once) and give it ``--version``."""
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in _COMMANDS:
            return command
        module_name, attr = _COMMANDS[cmd_name][0].split(":")
        loaded = t.cast(click.Command, getattr(importlib.import_module(module_name), attr))
        _give_version_option(loaded)
        return loaded

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their short help, without importing them."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in _COMMANDS:
                # a stand-in, to shorten the text exactly as click would
                stand_in = click.Command(name, short_help=_COMMANDS[name][1])
                text = stand_in.get_short_help_str(limit)
            else:  # added with add_command: already imported
                command = super().get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                text = command.get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


# Commands that work on the project in the current folder and so read its .env.
_PROJECT_COMMANDS = frozenset({"serve", "routes", "shell", "check", "deploy"})


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    params=[VERSION_OPTION],
)
@app_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Scaffold, serve and inspect digwebs projects.

    --app (or DIGWEBS_APP) names the app for the commands that work on one
    (serve, routes, shell, check, deploy); each of them takes --app too.
    """
    # the command line's one AppLocator: the commands are handed it
    ctx.ensure_object(AppLocator)
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
