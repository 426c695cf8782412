"""``digwebs shell``: the project's app loaded, a request context pushed."""

from __future__ import annotations

import sys
import types

import click.testing
import pytest

from digwebs_cli.main import cli

APP = """\
import os
from digwebs import Digwebs

app = Digwebs(root_path=os.path.dirname(os.path.abspath(__file__)))

@app.get("/items/<int:item_id>", name="items.show")
def show(item_id):
    return str(item_id)
"""

PLAIN_WSGI = """\
def app(environ, start_response):
    start_response("200 OK", [])
    return [b""]
"""


@pytest.fixture
def project(app_folder, monkeypatch):
    """A folder with wsgiapp.py, made the current folder; os.environ is restored after."""
    monkeypatch.delenv("PYTHONSTARTUP", raising=False)
    (app_folder / "wsgiapp.py").write_text(APP)
    return app_folder


@pytest.fixture
def no_ipython(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)  # import IPython -> ImportError


def run(*args: str, **kwargs) -> click.testing.Result:
    return click.testing.CliRunner().invoke(cli, ["shell", *args], **kwargs)


def one_line_error(result: click.testing.Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    (line,) = result.output.splitlines()
    assert line.startswith("Error: "), line
    return line


def test_c_runs_code_with_the_names_predefined(project):
    code = (
        "print(type(app).__name__, ctx.request.environ is request.environ, request.method,"
        " request.path);"
        "g.user = 'ada'; print(g.user);"
        "session['n'] = 1; print(dict(session));"
        "print(url_for('items.show', item_id=7))"
    )
    result = run("-c", code)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["Digwebs True GET /", "ada", "{'n': 1}", "/items/7"]


def test_c_sees_the_config_and_dot_env(project):
    (project / ".env").write_text("DIGWEBS_SITE_TITLE=From dotenv\n")
    result = run("-c", "print(app.config.site_title, app.config.env)")
    assert result.exit_code == 0, result.output
    assert result.output == "From dotenv development\n"


def test_c_error_prints_the_traceback_of_the_code_only(project):
    result = run("-c", "x = 1\n1 / 0")
    assert result.exit_code == 1
    assert "ZeroDivisionError: division by zero" in result.output
    assert 'File "<string>", line 2' in result.output
    assert "shell.py" not in result.output and "click" not in result.output


def test_c_syntax_error(project):
    result = run("-c", "def (")
    assert result.exit_code == 1
    assert "SyntaxError" in result.output
    assert "shell.py" not in result.output


def test_c_sys_exit_is_the_exit_code(project):
    assert run("-c", "import sys; sys.exit(3)").exit_code == 3
    assert run("-c", "raise SystemExit(0)").exit_code == 0


def test_interactive_console_without_ipython(project, no_ipython):
    result = run(input="print(url_for('items.show', item_id=3))\nprint(request.path)\n")
    assert result.exit_code == 0, result.output
    assert "digwebs shell" in result.output  # the banner
    for name in ("app", "ctx", "request", "g", "session", "url_for"):
        assert name in result.output
    assert "/items/3" in result.output


def test_ipython_is_used_when_installed(project, monkeypatch):
    calls = []
    fake = types.ModuleType("IPython")

    def start_ipython(argv=None, user_ns=None, **kwargs):
        from digwebs import request

        calls.append((argv, sorted(user_ns), request.path))

    fake.start_ipython = start_ipython
    monkeypatch.setitem(sys.modules, "IPython", fake)
    result = run()
    assert result.exit_code == 0, result.output
    ((argv, names, path),) = calls
    assert argv == []
    assert {"app", "ctx", "request", "g", "session", "url_for"} <= set(names)
    assert path == "/"  # the request context is pushed while IPython runs


def test_plain_uses_the_standard_console_even_with_ipython(project, monkeypatch):
    fake = types.ModuleType("IPython")
    fake.start_ipython = lambda **kwargs: pytest.fail("IPython was started")
    monkeypatch.setitem(sys.modules, "IPython", fake)
    result = run("--plain", input="print(40 + 2)\n")
    assert result.exit_code == 0, result.output
    assert "42" in result.output


def test_pythonstartup_runs_in_the_console(project, no_ipython, monkeypatch, tmp_path):
    startup = tmp_path / "startup.py"
    startup.write_text("answer = 42\n")
    monkeypatch.setenv("PYTHONSTARTUP", str(startup))
    result = run(input="print(answer)\n")
    assert result.exit_code == 0, result.output
    assert "42" in result.output


def test_path_option_sets_the_request(project):
    code = "print(request.method, request.path, request.args['q'])"
    result = run("--path", "/items/5?q=1", "--method", "POST", "-c", code)
    assert result.exit_code == 0, result.output
    assert result.output == "POST /items/5 1\n"


@pytest.mark.parametrize(
    "args",
    [
        ["--app", "nowhere:app"],
        ["--app", "not an import string"],
        ["--bogus"],
        ["-c"],
        ["--path", "no-slash"],
        ["--method", "GE T"],
        ["extra", "arguments"],
    ],
)
def test_bad_arguments_are_one_line(project, args):
    line = one_line_error(run(*args, "-c", "pass") if args != ["-c"] else run(*args))
    assert len(line) < 300


def test_an_app_that_is_not_digwebs_is_refused(project):
    (project / "wsgiapp.py").write_text(PLAIN_WSGI)
    line = one_line_error(run("-c", "pass"))
    assert "digwebs" in line


def test_outside_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIGWEBS_APP", raising=False)
    line = one_line_error(run("-c", "pass"))
    assert "wsgiapp.py" in line


def test_shell_is_listed_in_help():
    result = click.testing.CliRunner().invoke(cli, ["--help"])
    assert "shell" in result.output
    result = click.testing.CliRunner().invoke(cli, ["shell", "--help"])
    assert result.exit_code == 0 and "-c" in result.output and "IPython" in result.output
