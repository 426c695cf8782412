"""Finding the template and rendering a project from it with cookiecutter.

:func:`resolve_template` turns ``--template`` (a folder, a zip or a git
URL; none: the bundled one) into a folder, cloned or unzipped into a
scratch folder rather than cookiecutter's cache. :func:`render_project`
hands cookiecutter's ``generate_files`` the finished answers, renders into
a staging folder and records in the project's ``pyproject.toml`` what it
was generated from. The user's cookiecutter config and replay files are
never read or written.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import tempfile
import tomllib
import typing as t
from pathlib import Path

from ._messages import one_line
from ._templates import bundled_template_dir, digwebs_version
from .errors import DigwebsCliError

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


def resolve_template(template: str | None, scratch: Path, no_input: bool) -> Path:
    """Return the folder of ``--template`` (``None``: the bundled template).

    :param scratch: the folder a git or zip template is fetched into.
    :param no_input: whether cookiecutter may prompt while fetching (a zip's password).
    """
    if template is None:
        return bundled_template_dir()
    from cookiecutter.config import BUILTIN_ABBREVIATIONS
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.hooks import run_pre_prompt_hook
    from cookiecutter.repository import (
        determine_repo_dir,
        expand_abbreviations,
        is_repo_url,
        is_zip_file,
    )

    expanded = expand_abbreviations(template, BUILTIN_ABBREVIATIONS)
    if not is_repo_url(expanded):
        # A local path: say what is wrong with it once (cookiecutter's own
        # message lists every place it looked, the path among them twice).
        path = Path(expanded).expanduser()
        if not path.exists():
            raise DigwebsCliError(f"Cannot use template '{template}': no such folder or zip file.")
        if path.is_dir() and not (path / "cookiecutter.json").is_file():
            raise DigwebsCliError(
                f"Cannot use template '{template}': it is a folder without cookiecutter.json, "
                "so not a cookiecutter template."
            )
        if not path.is_dir() and not is_zip_file(expanded):
            raise DigwebsCliError(
                f"Cannot use template '{template}': it is neither a folder nor a .zip file."
            )
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
        with _quiet_cookiecutter(scratch):
            # A template's pre_prompt hook may prepare a copy of the template.
            repo_dir = str(run_pre_prompt_hook(repo_dir))
    except (CookiecutterException, OSError, ValueError) as exc:
        raise DigwebsCliError(
            f"Cannot use template '{template}': {one_line(exc, with_type=False)}"
        ) from None
    return Path(repo_dir)


def render_project(
    repo_dir: Path,
    questions: dict[str, t.Any],
    answers: dict[str, t.Any],
    template: str | None,
    staging: Path,
    scratch: Path,
) -> Path:
    """Render the template with *answers* into *staging*; return the project's folder.

    The project's ``pyproject.toml`` gets ``[tool.digwebs]`` (the version,
    the template and the answers) unless the template writes it itself.

    :param template: ``--template`` as given (``None``: the bundled one).
    :param scratch: the folder deleted afterwards (cookiecutter's hook files go there).
    """
    context = _full_context(answers, questions, template, repo_dir, staging)
    rendered = _render(repo_dir, context, staging, scratch)
    _record_answers(rendered, template, _public(answers))
    return rendered


def _public(answers: dict[str, t.Any]) -> dict[str, t.Any]:
    return {k: v for k, v in answers.items() if not k.startswith("_")}


def _full_context(
    answers: dict[str, t.Any],
    questions: dict[str, t.Any],
    template: str | None,
    repo_dir: Path,
    staging: Path,
) -> dict[str, t.Any]:
    """The context cookiecutter's ``cookiecutter()`` would hand ``generate_files``."""
    cookiecutter = dict(answers)
    cookiecutter["_template"] = template or str(repo_dir)
    cookiecutter["_output_dir"] = str(staging)
    cookiecutter["_repo_dir"] = str(repo_dir)
    cookiecutter["_checkout"] = None
    original = {k: v for k, v in questions.items() if not k.startswith("_")}
    return {"cookiecutter": cookiecutter, "_cookiecutter": original}


@contextlib.contextmanager
def template_imports(repo_dir: Path) -> t.Iterator[None]:
    """Let the template's Jinja extensions (``_extensions``) import from its folder.

    cookiecutter does the same around its own rendering; the modules are
    forgotten afterwards so that another template's are not mixed up with them.
    """
    saved_path = list(sys.path)
    before = set(sys.modules)
    sys.path.append(str(repo_dir))
    try:
        yield
    finally:
        sys.path[:] = saved_path
        root = str(repo_dir)
        for mod_name in set(sys.modules) - before:
            module_file = getattr(sys.modules[mod_name], "__file__", None) or ""
            if module_file.startswith(root):
                del sys.modules[mod_name]


def _render(repo_dir: Path, context: dict[str, t.Any], staging: Path, scratch: Path) -> Path:
    """Render the template with the finished ``context`` into ``staging``."""
    from cookiecutter.exceptions import (
        CookiecutterException,
        FailedHookException,
        UndefinedVariableInTemplate,
    )
    from cookiecutter.generate import generate_files
    from jinja2 import TemplateError

    try:
        with _quiet_cookiecutter(scratch), template_imports(repo_dir):
            result = generate_files(
                repo_dir=str(repo_dir),
                context=context,
                output_dir=str(staging),
                accept_hooks=True,
            )
    except FailedHookException as exc:
        # The hook printed its own reason just above.
        raise DigwebsCliError(
            f"The template's hook refused the project ({one_line(exc, with_type=False)}); "
            "nothing was written."
        ) from None
    except UndefinedVariableInTemplate as exc:
        # Its str() appends the whole context; the two messages are enough.
        raise DigwebsCliError(
            f"The template did not render: {exc.message}: {one_line(exc.error, with_type=False)}"
        ) from None
    except (CookiecutterException, TemplateError) as exc:
        raise DigwebsCliError(
            f"The template did not render: {one_line(exc, with_type=False)}"
        ) from None
    return Path(result)


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
            f"The template produced an invalid pyproject.toml: {one_line(exc, with_type=False)}"
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
