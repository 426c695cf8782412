"""A mistake on the command line is one ``Error:`` line and exit code 2, for every command."""

from __future__ import annotations

import pytest

from digwebs_cli.main import cli


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus"],
        ["nosuch"],
        ["new"],
        ["new", "site", "--bogus"],
        ["generate", "controller"],
        ["generate", "nosuch"],
        ["routes", "--sort", "zz"],
        ["serve", "--bogus"],
        ["serve", "--port", "notaport"],
        ["shell", "--bogus"],
    ],
    ids=" ".join,
)
def test_a_usage_error_is_one_line(runner, isolated_home, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, args, prog_name="digwebs")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    assert "Usage:" not in result.output
