"""``digwebs new``: create a project from a cookiecutter template.

The bundled template (``templates/`` in the source tree) is rendered with the
cookiecutter library. Three things are added around it:

- **Checks first.** NAME, the target folder and every ``--extra`` key are
  checked before anything is written; cookiecutter itself ignores unknown
  keys and leaves partial output behind on failure.
- **Atomic output.** The project is rendered into a hidden folder next to the
  target and renamed into place only when rendering and the template's hooks
  all succeeded.
- **Isolation.** The user's ``~/.cookiecutterrc`` (or ``COOKIECUTTER_CONFIG``)
  and replay files are neither read nor written, so the same command gives the
  same project on every machine.
"""

from __future__ import annotations

import contextlib
import json
import keyword
import logging
import os
import re
import shutil
import tempfile
import tomllib
import typing as t
from pathlib import Path

import click

from ._templates import bundled_template_dir, digwebs_version
from .errors import DigwebsCliError

# A folder name that is also a Python identifier once '-' becomes '_'.
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")

# Names that cannot be a project: it would depend on itself.
_RESERVED_SLUGS = frozenset({"digwebs", "digwebs_cli"})


@click.command("new")
@click.version_option(package_name="digwebs", prog_name="digwebs")
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
    help="Answer a template question, e.g. -x description='My blog'. Repeatable.",
)
@click.option(
    "--template",
    metavar="PATH_OR_URL",
    help="Render this cookiecutter template (folder, zip or git URL) instead of the bundled one.",
)
@click.option("--force", is_flag=True, help="Write into NAME even if it exists and is not empty.")
def new_command(
    name: str,
    output_dir: Path,
    no_input: bool,
    extras: tuple[str, ...],
    template: str | None,
    force: bool,
) -> None:
    """Create the project NAME from a template.

    NAME is the folder that is created (in --output-dir) and, with '-'
    replaced by '_', the project's Python name. Nothing is written unless the
    whole project renders and passes its own checks.
    """
    slug = check_name(name)
    extra_context = parse_extras(extras)
    target = (output_dir / name).absolute()
    check_target(target, force)

    with contextlib.ExitStack() as stack:
        scratch = Path(tempfile.mkdtemp(prefix="digwebs-new-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)

        repo_dir = _resolve_template(template, scratch, no_input)
        questions = _read_questions(repo_dir)
        check_extra_keys(extra_context, questions)
        context = _context_for(questions, extra_context, name, slug, target)

        created: list[Path] = []
        try:
            _make_dirs(target.parent, created)
            staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
            stack.callback(shutil.rmtree, staging, ignore_errors=True)
            rendered, answers = _render(repo_dir, context, no_input, staging, scratch)
            _record_answers(rendered, template, answers)
            _move_into_place(rendered, target)
        except BaseException as exc:
            stack.close()  # the staging folder goes first, then what we created
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            if isinstance(exc, OSError):
                where = _display_path(Path(exc.filename)) if exc.filename else "the output folder"
                raise DigwebsCliError(
                    f"Cannot write to '{where}': {exc.strerror or exc}."
                ) from None
            raise

    if template is not None:
        # The bundled template's post-generation hook prints the next steps.
        click.echo(f"Created '{_display_path(target)}'.")


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
        raise DigwebsCliError(f"'{_display_path(target)}' exists and is not a folder.")
    if not force and any(target.iterdir()):
        raise DigwebsCliError(
            f"'{_display_path(target)}' already exists and is not empty. Choose another "
            "NAME or --output-dir, or pass --force to write into it."
        )


def check_extra_keys(extra_context: dict[str, str], questions: dict[str, t.Any]) -> None:
    """Refuse --extra keys that the template does not ask about.

    cookiecutter silently ignores unknown top-level keys, so a typo such as
    ``-x descripton=...`` would otherwise quietly produce the default.
    """
    known = sorted(k for k in questions if not k.startswith("_"))
    unknown = [k for k in extra_context if k not in known]
    if unknown:
        raise DigwebsCliError(
            f"Unknown --extra key '{unknown[0]}': the template asks only about "
            + ", ".join(f"'{k}'" for k in known)
            + "."
        )


def _resolve_template(template: str | None, scratch: Path, no_input: bool) -> Path:
    if template is None:
        return bundled_template_dir()
    from cookiecutter.config import BUILTIN_ABBREVIATIONS
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.repository import determine_repo_dir

    try:
        # Clone or unzip into our scratch folder, not ~/.cookiecutters: that
        # cache would ask "delete and re-download?" and may be stale.
        repo_dir, _cleanup = determine_repo_dir(
            template=template,
            abbreviations=BUILTIN_ABBREVIATIONS,
            clone_to_dir=str(scratch / "clones"),
            checkout=None,
            no_input=no_input,
        )
    except (CookiecutterException, OSError, ValueError) as exc:
        raise DigwebsCliError(f"Cannot use template '{template}': {_one_line(exc)}") from None
    return Path(repo_dir)


def _read_questions(repo_dir: Path) -> dict[str, t.Any]:
    path = repo_dir / "cookiecutter.json"
    try:
        questions = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DigwebsCliError(f"Cannot read '{path}': {_one_line(exc)}") from None
    if not isinstance(questions, dict):
        raise DigwebsCliError(f"'{path}' must hold a JSON object.")
    return questions


def _context_for(
    questions: dict[str, t.Any],
    extra_context: dict[str, str],
    name: str,
    slug: str,
    target: Path,
) -> dict[str, str]:
    """Add what NAME and digwebs know to the user's --extra answers."""
    context = dict(extra_context)
    if "project_name" in questions:
        given = context.setdefault("project_name", name)
        if given != name:
            raise DigwebsCliError(
                f"--extra project_name='{given}' contradicts NAME '{name}'. "
                "Give the project name once, as NAME."
            )
    elif "project_slug" in questions:
        context.setdefault("project_slug", slug)
    internal = {"_digwebs_version": digwebs_version(), "__cd_path": _display_path(target)}
    context.update({k: v for k, v in internal.items() if k in questions})
    return context


def _render(
    repo_dir: Path,
    context: dict[str, str],
    no_input: bool,
    staging: Path,
    scratch: Path,
) -> tuple[Path, dict[str, t.Any]]:
    """Render the template into ``staging``; return the folder and the answers."""
    from cookiecutter.exceptions import (
        CookiecutterException,
        FailedHookException,
        UndefinedVariableInTemplate,
    )
    from cookiecutter.main import cookiecutter
    from jinja2 import TemplateError

    replay_dir = scratch / "replay"
    try:
        with _quiet_cookiecutter(scratch):
            result = cookiecutter(
                str(repo_dir),
                no_input=no_input,
                extra_context=context,
                output_dir=str(staging),
                # A dict here means "do not read ~/.cookiecutterrc or
                # COOKIECUTTER_CONFIG; use the defaults with these changes", so
                # the replay file is written where we can read it back.
                default_config={
                    "replay_dir": str(replay_dir),
                    "cookiecutters_dir": str(scratch / "clones"),
                },
            )
    except FailedHookException as exc:
        # The hook printed its own reason just above.
        raise DigwebsCliError(
            f"The template's hook refused the project ({_one_line(exc)}); nothing was written."
        ) from None
    except UndefinedVariableInTemplate as exc:
        # Its str() appends the whole context; the two messages are enough.
        raise DigwebsCliError(
            f"The template did not render: {exc.message}: {_one_line(exc.error)}"
        ) from None
    except (CookiecutterException, TemplateError) as exc:
        raise DigwebsCliError(f"The template did not render: {_one_line(exc)}") from None
    except ValueError as exc:  # an answer that is not one of a choice's options
        raise DigwebsCliError(_one_line(exc)) from None
    except EOFError:
        click.echo()  # end the unanswered prompt's line
        raise DigwebsCliError(
            "The template asked a question but there is no input to answer it. "
            "Pass --no-input to use the defaults."
        ) from None
    answers: dict[str, t.Any] = {}
    for replay_file in replay_dir.glob("*.json"):
        recorded = json.loads(replay_file.read_text(encoding="utf-8"))["cookiecutter"]
        answers = {k: v for k, v in recorded.items() if not k.startswith("_")}
    return Path(result), answers


@contextlib.contextmanager
def _quiet_cookiecutter(scratch: Path) -> t.Iterator[None]:
    # cookiecutter logs a failing hook with logger.exception(); with no handler
    # configured, Python's last-resort handler would print a traceback under
    # our one-line error. The hook's own message already says what failed.
    log = logging.getLogger("cookiecutter")
    handler = logging.NullHandler()
    log.addHandler(handler)
    propagate, log.propagate = log.propagate, False
    # cookiecutter renders each hook into a NamedTemporaryFile(delete=False)
    # and never removes it; point tempfile at the scratch folder we delete.
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, str(scratch)
    try:
        yield
    finally:
        tempfile.tempdir = saved_tempdir
        log.propagate = propagate
        log.removeHandler(handler)


def _record_answers(project: Path, template: str | None, answers: dict[str, t.Any]) -> None:
    """Append ``[tool.digwebs]`` with the version and answers to pyproject.toml."""
    pyproject = project / "pyproject.toml"
    if not pyproject.is_file():
        return
    text = pyproject.read_text(encoding="utf-8")
    try:
        if "digwebs" in tomllib.loads(text).get("tool", {}):
            return  # the template records it itself
    except tomllib.TOMLDecodeError as exc:
        raise DigwebsCliError(
            f"The template produced an invalid pyproject.toml: {_one_line(exc)}"
        ) from None
    lines = [
        "",
        "# Written by `digwebs new`: what this project was generated from.",
        "[tool.digwebs]",
        f"version = {_toml_value(digwebs_version())}",
        f"template = {_toml_value(template or 'bundled')}",
        "",
        "[tool.digwebs.answers]",
    ]
    for key, value in answers.items():
        if value is not None:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    pyproject.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY_RE.fullmatch(key) else _toml_value(key)


def _toml_value(value: t.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + ", ".join(items) + " }"
    # JSON string escapes are a subset of TOML basic-string escapes as long as
    # non-ASCII stays literal (TOML has no surrogate-pair escapes).
    return json.dumps(str(value), ensure_ascii=False)


def _move_into_place(rendered: Path, target: Path) -> None:
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        # Same folder, same file system: a rename, which is atomic.
        os.replace(rendered, target)
        return
    # --force into a non-empty folder: find every conflict before moving a file.
    moves: list[tuple[Path, Path]] = []
    for source in sorted(rendered.rglob("*")):
        dest = target / source.relative_to(rendered)
        if source.is_dir():
            if dest.exists() and not dest.is_dir():
                raise DigwebsCliError(f"Cannot write folder '{dest}': a file is in the way.")
        elif dest.is_dir():
            raise DigwebsCliError(f"Cannot write file '{dest}': a folder is in the way.")
        else:
            moves.append((source, dest))
    for source, dest in moves:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, dest)


def _make_dirs(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, recording each in ``created``."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    # cookiecutter's own messages often start with "Error: " already.
    return message.removeprefix("Error: ").removeprefix("error: ")
