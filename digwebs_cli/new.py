"""``digwebs new``: create a project from a cookiecutter template.

The bundled template (``templates/`` in the source tree) is rendered with the
cookiecutter library. What digwebs adds around it:

- **NAME says the folder and the Python name.** ``project_name`` and
  ``project_slug`` are never asked; ``--extra`` may repeat them but not
  contradict them.
- **Every answer is checked as it is given.** At a prompt a bad answer gets
  one ``Error:`` line and the question again; a bad ``--extra`` value (or
  default under ``--no-input``) is one line and exit code 2, before anything
  is written. Answers are one line of text; a choice must be one of its
  options; the template may list answers that cannot be empty in its
  ``_digwebs_required`` key.
- **Answers are literal text.** The template's *defaults* are Jinja
  expressions (``"{{ cookiecutter.project_name|title }}"``) and are rendered;
  what the user typed or passed with ``--extra`` is never rendered, so
  ``{{ 7*7 }}`` stays ``{{ 7*7 }}``. digwebs asks the questions itself
  (cookiecutter would render every answer) and hands cookiecutter's
  ``generate_files`` the finished context.
- **Atomic output.** The project is rendered into a hidden folder next to the
  target and moved into place only when rendering and the template's hooks
  all succeeded. With ``--force`` into a folder that has files, every file
  that differs from the new one is listed as it is replaced.
- **Isolation.** The user's ``~/.cookiecutterrc`` (or ``COOKIECUTTER_CONFIG``)
  and replay files are neither read nor written, so the same command gives the
  same project on every machine.
- ``--git`` starts a repository with one commit of exactly the files written;
  the end of the output says what was created and what to run next.

The questions and answers are :mod:`digwebs_cli.template_questions`, the
rendering :mod:`digwebs_cli.template_rendering`, the move into place and
``--git`` :mod:`digwebs_cli.project_output`; this module is the command.
"""

from __future__ import annotations

import contextlib
import keyword
import re
import shlex
import shutil
import tempfile
import typing as t
from pathlib import Path

import click

# The names imported "as" themselves are re-exported: they were first
# defined here.
from ._messages import short_path
from .errors import DigwebsCliError
from .project_output import WriteReport, git_commit, make_dirs, move_into_place
from .project_output import check_git as check_git
from .template_questions import check_extra_keys as check_extra_keys
from .template_questions import collect_answers as collect_answers
from .template_questions import read_questions
from .template_rendering import render_project, resolve_template, template_imports

# A folder name that is also a Python identifier once '-' becomes '_'.
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")

# Names that cannot be a project: it would depend on itself.
_RESERVED_SLUGS = frozenset({"digwebs", "digwebs_cli"})


@click.command("new")
@click.argument("name")
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder in which the project folder NAME is created.",
)
@click.option("--no-input", is_flag=True, help="Do not prompt; use the defaults everywhere.")
@click.option(
    "-x",
    "--extra",
    "extras",
    multiple=True,
    metavar="KEY=VALUE",
    help="Answer a template question, e.g. -x description='My blog'. Repeatable. "
    "Values are literal text.",
)
@click.option(
    "--template",
    metavar="PATH_OR_URL",
    help="Render this cookiecutter template (folder, zip or git URL) instead of the bundled one.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into NAME even if it has files; each file that differs is listed as replaced.",
)
@click.option("--git", is_flag=True, help="Start a git repository in NAME with a first commit.")
def new_command(
    name: str,
    output_dir: Path,
    no_input: bool,
    extras: tuple[str, ...],
    template: str | None,
    force: bool,
    git: bool,
) -> None:
    """Create the project NAME from a template.

    NAME is the folder that is created (in --output-dir) and, with '-'
    replaced by '_', the project's Python name. Nothing is written unless the
    whole project renders and passes its own checks.
    """
    slug = check_name(name)
    given = parse_extras(extras)
    target = (output_dir / name).absolute()
    check_target(target, force)
    git_exe = check_git(target) if git else None

    with contextlib.ExitStack() as stack:
        scratch = Path(tempfile.mkdtemp(prefix="digwebs-new-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)

        repo_dir = resolve_template(template, scratch, no_input)
        questions = read_questions(repo_dir)
        check_extra_keys(given, questions)
        with template_imports(repo_dir):
            answers = collect_answers(questions, given, name, slug, target, no_input)

        created: list[Path] = []
        try:
            make_dirs(target.parent, created)
            staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
            stack.callback(shutil.rmtree, staging, ignore_errors=True)
            rendered = render_project(repo_dir, questions, answers, template, staging, scratch)
            report = move_into_place(rendered, target)
        except BaseException as exc:
            stack.close()  # the staging folder goes first, then what we created
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            if isinstance(exc, OSError):
                where = (
                    short_path(Path(exc.filename), import_roots=False)
                    if exc.filename
                    else "the output folder"
                )
                raise DigwebsCliError(
                    f"Cannot write to '{where}': {exc.strerror or exc}."
                ) from None
            raise

    commit = git_commit(git_exe, target, report.written) if git_exe else None
    _print_summary(target, template, report, commit)


def check_name(name: str) -> str:
    """Return the Python slug for the project NAME, or refuse the name."""
    if not _NAME_RE.fullmatch(name):
        raise DigwebsCliError(
            f"'{name}' is not a valid project name. Use letters, digits, '_' and '-', "
            "starting with a letter, at most 64 characters (for example 'myblog')."
        )
    slug = name.lower().replace("-", "_")
    if keyword.iskeyword(slug) or slug in _RESERVED_SLUGS:
        raise DigwebsCliError(
            f"'{name}' cannot be a project name: '{slug}' is reserved in Python or by digwebs. "
            "Choose another name."
        )
    return slug


def parse_extras(extras: t.Iterable[str]) -> dict[str, str]:
    """Turn ``KEY=VALUE`` strings into a dict (the last of a repeated key wins)."""
    context: dict[str, str] = {}
    for item in extras:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DigwebsCliError(
                f"--extra '{item}' is not KEY=VALUE. Write it as, for example, "
                "-x description='My blog'."
            )
        context[key] = value
    return context


def check_target(target: Path, force: bool) -> None:
    """Refuse a target that exists, is not an empty folder, without --force."""
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir():
        raise DigwebsCliError(
            f"'{short_path(target, import_roots=False)}' exists and is not a folder."
        )
    if not force and any(target.iterdir()):
        raise DigwebsCliError(
            f"'{short_path(target, import_roots=False)}' already exists and is not empty. "
            "Choose another "
            "NAME or --output-dir, or pass --force to write into it."
        )


def _print_summary(
    target: Path, template: str | None, report: WriteReport, commit: str | None
) -> None:
    """What was created, and the commands to run next."""
    where = short_path(target, import_roots=False)
    for rel in report.replaced:
        click.echo(f"  replaced  {rel}")
    parts = [f"{len(report.created)} files created"]
    if report.replaced:
        parts.append(f"{len(report.replaced)} replaced (listed above)")
    if report.unchanged:
        parts.append(f"{len(report.unchanged)} unchanged")
    if report.kept:
        parts.append(f"{report.kept} of yours kept")
    tops = sorted({rel.split("/")[0] + ("/" if "/" in rel else "") for rel in report.written})
    shown = [top for top in tops if not top.startswith(".")]
    click.echo(f"Created '{where}': {', '.join(parts)}.")
    if shown:
        click.echo("  " + "  ".join(shown))
    if commit:
        click.echo(f"Started a git repository there with a first commit ({commit}).")
    click.echo()
    click.echo("Next:")
    click.echo(f"  cd {shlex.quote(where)}")
    if template is None:
        click.echo("  python -m pytest      # run the tests (README.md: set up a fresh venv)")
        click.echo("  digwebs serve         # then open http://127.0.0.1:8000/")
        click.echo("  digwebs routes        # see which function answers which URL")
