"""Errors the command line reports as one line and a non-zero exit."""

from __future__ import annotations

import click


class DigwebsCliError(click.ClickException):
    """Bad input from the user: printed as ``Error: <message>``, exit code 2.

    Unlike :class:`click.UsageError` it does not repeat the usage line, so the
    user sees exactly one line that says what is wrong and how to fix it.
    """

    exit_code = 2
