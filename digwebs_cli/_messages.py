"""How the command line words an error: one line, and paths as the user sees them.

Every command reports a failure as the one ``Error:`` line of
:class:`~digwebs_cli.errors.DigwebsCliError`. The pieces of that line are
built here, once: an exception as one line of text (:func:`one_line`), a
click usage error as that line (:func:`usage_error`), and a file name
shortened to what the user would type (:func:`short_path`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from digwebs_cli.errors import DigwebsCliError


def one_line(exc: BaseException, *, with_type: bool = True) -> str:
    """Return ``exc`` as one line: ``TypeName: message``, whitespace collapsed.

    A message spread over several lines (a traceback-like text, a TOML
    error's pointer) is joined into one line, so a message built from it
    stays one line. A leading ``Error:`` (cookiecutter's messages carry one)
    is dropped: the line is printed after click's own ``Error:``.

    :param exc: the exception to describe.
    :param with_type: start with the exception's class name; without it,
        only the message (the class name when the message is empty).
    """
    text = " ".join(str(exc).split())
    text = text.removeprefix("Error: ").removeprefix("error: ")
    name = type(exc).__name__
    if not with_type:
        return text or name
    return f"{name}: {text}" if text else name


def usage_error(exc: click.UsageError) -> DigwebsCliError:
    """Return a click usage error as one ``Error:`` line that names the command's --help.

    click prints a usage error as the usage text, a hint and the error:
    three lines for one mistake.
    """
    ctx = exc.ctx
    where = f" Try '{ctx.command_path} --help'." if ctx is not None else ""
    return DigwebsCliError(exc.format_message() + where)


def short_path(
    filename: str | os.PathLike[str] | None,
    cwd: Path | None = None,
    *,
    import_roots: bool = True,
) -> str:
    """Return ``filename`` as the user would write it from ``cwd``.

    Relative to ``cwd`` (the current folder by default) when the file is
    inside it; else, for a source file, relative to the deepest import root
    on :data:`sys.path` that holds it (``digwebs/app.py`` rather than a
    site-packages path); else unchanged. ``None`` or an empty name is
    ``<unknown file>``.

    :param import_roots: shorten by import roots; off for a path the user
        will type (``cd`` it), which must stay a real path from ``cwd``.
    """
    if not filename:
        return "<unknown file>"
    text = os.fspath(filename)
    base = Path.cwd() if cwd is None else Path(cwd)
    try:
        path = Path(text).resolve()
        project = base.resolve()
    except (OSError, RuntimeError):
        return text
    if path.is_relative_to(project):
        return str(path.relative_to(project))
    if not import_roots or not os.path.isabs(text):
        return text  # outside the project, as the user wrote it ("../other")
    given = Path(text)
    roots = [Path(p) for p in sys.path if p and os.path.isabs(p)]
    inside = [root for root in roots if given.is_relative_to(root)]
    if not inside:
        return text
    # among import roots the deepest one (site-packages rather than the
    # lib/ folder that holds it)
    return str(given.relative_to(max(inside, key=lambda r: len(r.parts))))
