"""The ``digwebs`` group: lazy commands, one ``--version``, one-line messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from digwebs_cli import _messages, main
from digwebs_cli._templates import digwebs_version
from digwebs_cli.errors import DigwebsCliError
from digwebs_cli.main import cli

REPO = Path(__file__).resolve().parents[2]

# What `digwebs --help` must not import: every command module, and the
# heavy dependencies of the commands it does not run.
_NOT_FOR_HELP = ("gunicorn", "jinja2", "cookiecutter", "dotenv", "digwebs")


def _modules_after(args: list[str], cwd: Path) -> list[str]:
    code = (
        "import sys\n"
        "from digwebs_cli.main import cli\n"
        f"try:\n    cli({args!r}, prog_name='digwebs')\n"
        "except SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGWEBS_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    *_, modules = done.stderr.rstrip().rsplit("\n", 1)
    return modules.split()


@pytest.mark.parametrize("args", [["--help"], ["--version"], []], ids=" ".join)
def test_help_imports_no_command(tmp_path, args):
    loaded = _modules_after(args, tmp_path)
    assert "digwebs_cli.main" in loaded
    heavy = [m for m in loaded if m.split(".")[0] in _NOT_FOR_HELP]
    assert heavy == []
    commands = {target.split(":")[0] for target, _ in main._COMMANDS.values()}
    assert commands.isdisjoint(loaded)


def test_a_command_imports_only_itself(tmp_path):
    loaded = _modules_after(["generate", "--help"], tmp_path)
    assert "digwebs_cli.generate" in loaded
    assert "digwebs_cli.serve" not in loaded and "gunicorn" not in loaded


@pytest.mark.parametrize("name", sorted(main._COMMANDS))
def test_listed_help_is_the_commands_own(name):
    ctx = click.Context(cli)
    command = cli.get_command(ctx, name)
    assert command is not None
    assert main._COMMANDS[name][1] == command.get_short_help_str(limit=200)


def test_help_lists_every_command(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:")[1]
    for name, (_, short_help) in main._COMMANDS.items():
        assert f"  {name}  " in listed and short_help[:30] in listed


_EVERY_COMMAND = [
    [],
    ["check"],
    ["deploy"],
    ["deploy", "nginx"],
    ["deploy", "systemd"],
    ["deploy", "container"],
    ["generate"],
    ["generate", "controller"],
    ["new"],
    ["routes"],
    ["serve"],
    ["shell"],
]


@pytest.mark.parametrize("command", _EVERY_COMMAND, ids=lambda c: " ".join(c) or "digwebs")
def test_every_command_shows_the_version(runner, command):
    result = runner.invoke(cli, [*command, "--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"digwebs, version {digwebs_version()}\n"


def test_version_is_declared_once():
    sources = [p.read_text() for p in (REPO / "digwebs_cli").rglob("*.py")]
    declared = sum(s.count('"--version"') + s.count("click.version_option(") for s in sources)
    assert declared == 1


# -- one-line messages ---------------------------------------------------------


def test_one_line_joins_lines_and_names_the_type():
    exc = ValueError("first line\n   second\tline\n")
    assert _messages.one_line(exc) == "ValueError: first line second line"
    assert _messages.one_line(exc, with_type=False) == "first line second line"


def test_one_line_of_an_empty_message_is_the_type():
    assert _messages.one_line(KeyError()) == "KeyError"
    assert _messages.one_line(RuntimeError(""), with_type=False) == "RuntimeError"


def test_one_line_drops_a_leading_error_prefix():
    # cookiecutter's messages start with "Error: ", printed after click's own
    assert _messages.one_line(Exception("Error: no such repo"), with_type=False) == "no such repo"


def test_usage_error_names_the_help():
    ctx = click.Context(click.Command("serve"), info_name="serve")
    error = _messages.usage_error(click.UsageError("No such option: --bogus", ctx))
    assert isinstance(error, DigwebsCliError) and error.exit_code == 2
    assert error.format_message() == "No such option: --bogus Try 'serve --help'."


def test_short_path_inside_the_project(tmp_path):
    (tmp_path / "controllers").mkdir()
    target = tmp_path / "controllers" / "home.py"
    assert _messages.short_path(str(target), tmp_path) == "controllers/home.py"
    assert _messages.short_path(target, tmp_path) == "controllers/home.py"


def test_short_path_of_an_installed_module_is_its_import_path(tmp_path):
    assert _messages.short_path(click.__file__, tmp_path) == "click/__init__.py"
    kept = _messages.short_path(click.__file__, tmp_path, import_roots=False)
    assert kept == click.__file__


def test_short_path_elsewhere_is_unchanged(tmp_path):
    assert _messages.short_path("/nowhere/x.py", tmp_path) == "/nowhere/x.py"
    assert _messages.short_path("../other", tmp_path) == "../other"
    assert _messages.short_path(None, tmp_path) == "<unknown file>"


# -- gunicorn: imported by `digwebs serve` only ----------------------------------


def test_the_gunicorn_classes_are_module_level():
    import inspect

    from digwebs_cli import gunicorn_app

    for name in ("DigwebsApplication", "DigwebsArbiter", "DigwebsLogger"):
        cls = getattr(gunicorn_app, name)
        assert inspect.isclass(cls) and cls.__qualname__ == name  # not built in a function


def test_only_serve_imports_gunicorn_app():
    importers = sorted(
        p.name
        for p in (REPO / "digwebs_cli").rglob("*.py")
        if "gunicorn_app import" in p.read_text() and p.name != "gunicorn_app.py"
    )
    assert importers == ["serve.py"]


def test_print_config_and_check_import_no_gunicorn(tmp_path):
    (tmp_path / "wsgiapp.py").write_text("def app(environ, start_response):\n    return []\n")
    loaded = _modules_after(["serve", "--print-config"], tmp_path)
    assert "digwebs_cli.serve" in loaded and "gunicorn" not in loaded


# -- layout ----------------------------------------------------------------------

_CLI_MODULES = sorted((REPO / "digwebs_cli").rglob("*.py"))


@pytest.mark.parametrize(
    "path", _CLI_MODULES, ids=lambda p: p.relative_to(REPO / "digwebs_cli").as_posix()
)
def test_every_cli_module_stays_short(path):
    # Issue 10: no module over about 500 lines (tests/test_app.py checks
    # digwebs' own); deploy.py, new.py, serve_settings.py, routes.py and
    # _gevent_support.py were split along their concepts to get there.
    with path.open(encoding="utf-8") as f:
        assert sum(1 for _ in f) <= 500, f"{path.name} is over 500 lines: split it by concept"
