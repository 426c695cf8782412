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
"""

from __future__ import annotations

import contextlib
import json
import keyword
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
import typing as t
from pathlib import Path

import click

from ._messages import one_line, short_path
from ._templates import bundled_template_dir, digwebs_source, digwebs_version
from .errors import DigwebsCliError

# A folder name that is also a Python identifier once '-' becomes '_'.
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
# Control characters (C0, DEL, C1): an answer is one line of printable text.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Names that cannot be a project: it would depend on itself.
_RESERVED_SLUGS = frozenset({"digwebs", "digwebs_cli"})

# cookiecutter's spellings of yes and no for boolean questions.
_YES = frozenset({"1", "true", "t", "yes", "y", "on"})
_NO = frozenset({"0", "false", "f", "no", "n", "off"})


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

        repo_dir = _resolve_template(template, scratch, no_input)
        questions = _read_questions(repo_dir)
        check_extra_keys(given, questions)
        with _template_imports(repo_dir):
            answers = collect_answers(questions, given, name, slug, target, no_input)

        created: list[Path] = []
        try:
            _make_dirs(target.parent, created)
            staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
            stack.callback(shutil.rmtree, staging, ignore_errors=True)
            context = _full_context(answers, questions, template, repo_dir, staging)
            rendered = _render(repo_dir, context, staging, scratch)
            _record_answers(rendered, template, _public(answers))
            report = _move_into_place(rendered, target)
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

    commit = _git_commit(git_exe, target, report.written) if git_exe else None
    _print_summary(target, template, report, commit)


class _Report(t.NamedTuple):
    """What moving the rendered project into place did, by path (relative)."""

    created: list[str]
    replaced: list[str]
    unchanged: list[str]
    kept: int  # files of the user's that the template does not have

    @property
    def written(self) -> list[str]:
        return sorted(self.created + self.replaced + self.unchanged)


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


def _read_questions(repo_dir: Path) -> dict[str, t.Any]:
    path = repo_dir / "cookiecutter.json"
    try:
        questions = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DigwebsCliError(f"Cannot read '{path}': {one_line(exc, with_type=False)}") from None
    if not isinstance(questions, dict):
        raise DigwebsCliError(f"'{path}' must hold a JSON object.")
    return questions


def collect_answers(
    questions: dict[str, t.Any],
    given: dict[str, str],
    name: str,
    slug: str,
    target: Path,
    no_input: bool,
) -> dict[str, t.Any]:
    """Answer the template's questions, in its order; return the answers.

    NAME answers ``project_name`` and ``project_slug``. Otherwise an
    ``--extra`` value wins, then (with ``--no-input``) the rendered default,
    then what the user types. Each answer is checked as it is given; only
    defaults are rendered as Jinja, answers are kept as they were written.
    """
    from cookiecutter.exceptions import UndefinedVariableInTemplate
    from cookiecutter.prompt import render_variable
    from cookiecutter.utils import create_env_with_context
    from jinja2 import TemplateError

    if {"template", "templates"} & set(questions):
        raise DigwebsCliError(
            "The template chooses between nested templates, which digwebs new does not "
            "support: pass the nested template's folder with --template."
        )
    from_name = {"project_name": name, "project_slug": slug}
    for key, value in given.items():
        if key in from_name and value != from_name[key]:
            raise DigwebsCliError(
                f"--extra {key}='{value}' contradicts NAME '{name}'. "
                "Give the project name once, as NAME."
            )
    internal = {
        "_digwebs_version": digwebs_version(),
        "_digwebs_install": _install_line(digwebs_source()),
        "__cd_path": short_path(target, import_roots=False),
    }
    prompts = questions.get("__prompts__") or {}
    required = set(questions.get("_digwebs_required") or ())
    env = create_env_with_context({"cookiecutter": questions})

    def default_of(key: str, raw: t.Any) -> t.Any:
        try:
            return render_variable(env, raw, answers)
        except UndefinedVariableInTemplate as exc:
            raise DigwebsCliError(
                f"The template's default for '{key}' did not render: "
                f"{one_line(exc.error, with_type=False)}"
            ) from None
        except TemplateError as exc:
            raise DigwebsCliError(
                f"The template's default for '{key}' did not render: "
                f"{one_line(exc, with_type=False)}"
            ) from None

    answers: dict[str, t.Any] = {}
    # cookiecutter's order: everything but dicts first (dict defaults may
    # refer to them), then the dicts.
    ordered = [k for k, v in questions.items() if not isinstance(v, dict) or k.startswith("_")]
    ordered += [k for k, v in questions.items() if isinstance(v, dict) and not k.startswith("_")]
    for key in ordered:
        raw = questions[key]
        if key == "__prompts__":
            continue
        if key in internal:
            answers[key] = internal[key]
        elif key.startswith("__"):
            answers[key] = default_of(key, raw)
        elif key.startswith("_"):
            answers[key] = raw
        elif key in from_name:
            answers[key] = from_name[key]
        else:
            # A default that is not used is not rendered (it might not render).
            needs_default = key not in given or isinstance(raw, list)
            default = default_of(key, raw) if needs_default else None
            question = _Question(key, raw, _prompt_text(prompts, key), key in required, default)
            if key in given:
                answers[key] = question.parse(given[key], source=f"--extra {key}")
            elif no_input:
                answers[key] = question.parse_default()
            else:
                answers[key] = question.ask()
    return answers


class _Question:
    """One question of the template: how to check, parse and ask its answer.

    ``default`` is the rendered default: for a choice, its rendered options
    (the first is the default).
    """

    def __init__(self, key: str, raw: t.Any, label: str, required: bool, default: t.Any) -> None:
        self.key = key
        self.raw = raw
        self.label = label
        self.required = required
        self.default = default
        self.options: list[t.Any] | None = None
        if isinstance(raw, list):
            if not default:
                raise DigwebsCliError(f"The template's choice '{key}' has no options.")
            self.options = list(default)

    def parse(self, text: str, source: str) -> t.Any:
        """Turn the text of an answer into its value; refuse it in one line."""
        problem, value = self._check(text)
        if problem:
            raise DigwebsCliError(f"{source}: {problem}")
        return value

    def parse_default(self) -> t.Any:
        """The default as the answer (``--no-input``); it is checked too."""
        if self.options is not None:
            return self.options[0]
        if isinstance(self.raw, bool | dict) or self.default is None:
            return self.default
        problem, value = self._check(str(self.default))
        if problem:
            raise DigwebsCliError(
                f"The template's default does not do: {problem} "
                f"Give an answer with -x {self.key}=VALUE."
            )
        return value

    def ask(self) -> t.Any:
        """Prompt until the answer is good; a bad one gets one ``Error:`` line."""
        if self.options is not None:
            numbered = ", ".join(f"{i}) {o}" for i, o in enumerate(self.options, 1))
            shown = str(self.options[0])
            text = f"{self.label} ({numbered}) [{shown}]: "
        elif isinstance(self.raw, bool):
            shown = "yes" if self.default else "no"
            text = f"{self.label} (yes/no) [{shown}]: "
        elif isinstance(self.raw, dict):
            shown = json.dumps(self.default, ensure_ascii=False)
            text = f"{self.label} (JSON) [{shown}]: "
        else:
            shown = "" if self.default is None else str(self.default)
            text = f"{self.label} [{shown}]: " if shown else f"{self.label}: "
        while True:
            try:
                # click's hook for input(), which its test runner replaces too.
                typed = click.termui.visible_prompt_func(text)
            except EOFError:
                click.echo()  # end the unanswered prompt's line
                raise DigwebsCliError(
                    "The template asked a question but there is no input to answer it. "
                    "Pass --no-input to use the defaults."
                ) from None
            problem, value = self._check(shown if typed == "" else typed)
            if problem is None:
                return value
            click.echo(f"Error: {problem}", err=True)

    def _check(self, text: str) -> tuple[str | None, t.Any]:
        """(None, value) for a good answer, (why not, None) for a bad one."""
        key = self.key
        if self.options is not None:
            names = [str(o) for o in self.options]
            if text in names:
                return None, self.options[names.index(text)]
            if text.isdigit() and 1 <= int(text) <= len(names):
                return None, self.options[int(text) - 1]
            listed = " or ".join(f"'{n}'" for n in names)
            return f"'{text}' is not a choice for '{key}': choose {listed}.", None
        if isinstance(self.raw, bool):
            word = text.strip().lower()
            if word in _YES or word in _NO:
                return None, word in _YES
            return f"'{text}' is not yes or no (the answer to '{key}').", None
        if isinstance(self.raw, dict):
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if not isinstance(value, dict):
                return f"the answer to '{key}' must be a JSON object, e.g. {{\"a\": 1}}.", None
            return None, value
        if _CONTROL_RE.search(text):
            return (
                f"the answer to '{key}' must be one line of text, without control characters.",
                None,
            )
        if self.required and not text.strip():
            return f"the answer to '{key}' ({self.label}) cannot be empty.", None
        return None, text


def _prompt_text(prompts: t.Any, key: str) -> str:
    prompt = prompts.get(key) if isinstance(prompts, dict) else None
    if isinstance(prompt, dict):  # a choice's prompts: {"__prompt__": ..., option: ...}
        prompt = prompt.get("__prompt__")
    return str(prompt) if prompt else key


def _install_line(source: str | None) -> str:
    """The ``pip install`` argument that gets this digwebs, or '' (from the index)."""
    return shlex.quote(source) if source else ""


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
def _template_imports(repo_dir: Path) -> t.Iterator[None]:
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
        with _quiet_cookiecutter(scratch), _template_imports(repo_dir):
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


def _move_into_place(rendered: Path, target: Path) -> _Report:
    """Move the rendered project to ``target``; say what happened to each file."""
    files = sorted(str(p.relative_to(rendered)) for p in rendered.rglob("*") if not p.is_dir())
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        # Same folder, same file system: a rename, which is atomic.
        os.replace(rendered, target)
        return _Report(created=files, replaced=[], unchanged=[], kept=0)
    # --force into a folder with files: find every conflict before moving one.
    for source in sorted(rendered.rglob("*")):
        dest = target / source.relative_to(rendered)
        if source.is_dir():
            if dest.exists() and not dest.is_dir():
                raise DigwebsCliError(f"Cannot write folder '{dest}': a file is in the way.")
        elif dest.is_dir():
            raise DigwebsCliError(f"Cannot write file '{dest}': a folder is in the way.")
    report = _Report(created=[], replaced=[], unchanged=[], kept=0)
    for rel in files:
        source, dest = rendered / rel, target / rel
        if not dest.exists():
            report.created.append(rel)
        elif dest.read_bytes() == source.read_bytes():
            report.unchanged.append(rel)
        else:
            report.replaced.append(rel)
    theirs = [p for p in target.rglob("*") if not p.is_dir()]
    kept = sum(1 for p in theirs if str(p.relative_to(target)) not in set(files))
    for rel in files:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(rendered / rel, dest)
    return report._replace(kept=kept)


def check_git(target: Path) -> str:
    """Refuse ``--git`` before anything is written if git cannot commit there."""
    git = shutil.which("git")
    if git is None:
        raise DigwebsCliError("--git needs the git command, which is not on PATH.")
    probe = target
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        return git  # check_target or the writing says what is wrong
    inside = _git(git, probe, "rev-parse", "--show-toplevel")
    if inside.returncode == 0:
        top = inside.stdout.strip()
        raise DigwebsCliError(
            f"--git: '{short_path(target, import_roots=False)}' would be inside the git "
            f"repository '{top}'. "
            "Leave out --git and commit the project there, or choose another --output-dir."
        )
    ident = _git(git, probe, "var", "GIT_COMMITTER_IDENT")
    if ident.returncode != 0:
        raise DigwebsCliError(
            "--git: git does not know who you are, so it cannot commit. Run "
            "git config --global user.name 'Your Name' and "
            "git config --global user.email you@example.com first."
        )
    return git


def _git(
    git: str, cwd: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    # A GIT_DIR or GIT_WORK_TREE of the user's shell would point elsewhere.
    env = {k: v for k, v in os.environ.items() if k not in {"GIT_DIR", "GIT_WORK_TREE"}}
    return subprocess.run(
        [git, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def _git_commit(git: str, target: Path, files: list[str]) -> str:
    """``git init``, add exactly the files written, commit; return the short hash."""
    steps: list[tuple[str, ...]] = [
        ("init", "--quiet"),
        ("add", "--force", "--pathspec-from-file=-", "--pathspec-file-nul"),
        ("commit", "--quiet", "--no-verify", "-m", "New project from digwebs new"),
        ("rev-parse", "--short", "HEAD"),
    ]
    result = None
    for args in steps:
        stdin = "\0".join(files) if args[0] == "add" else None
        result = _git(git, target, *args, stdin=stdin)
        if result.returncode != 0:
            why = " ".join((result.stderr or result.stdout).split()) or "no reason given"
            raise DigwebsCliError(f"The project was created, but git {args[0]} failed: {why}")
    assert result is not None
    return result.stdout.strip()


def _print_summary(target: Path, template: str | None, report: _Report, commit: str | None) -> None:
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


def _make_dirs(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, recording each in ``created``."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)
