"""The template's questions (``cookiecutter.json``) and the answers to them.

:func:`read_questions` reads them, :func:`check_extra_keys` refuses an
``--extra`` key the template does not ask about, and
:func:`collect_answers` answers each question in the template's order:
from NAME, from ``--extra``, from the rendered default (``--no-input``) or
at a prompt. Every answer is checked as it is given (a bad one is one
``Error:`` line), and an answer is literal text: only the template's
defaults are rendered as Jinja.
"""

from __future__ import annotations

import json
import re
import shlex
import typing as t
from pathlib import Path

import click

from ._messages import one_line, short_path
from ._templates import digwebs_source, digwebs_version
from .errors import DigwebsCliError

# Control characters (C0, DEL, C1): an answer is one line of printable text.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# cookiecutter's spellings of yes and no for boolean questions.
_YES = frozenset({"1", "true", "t", "yes", "y", "on"})
_NO = frozenset({"0", "false", "f", "no", "n", "off"})


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


def read_questions(repo_dir: Path) -> dict[str, t.Any]:
    """Return the template's questions: its ``cookiecutter.json``, a JSON object."""
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
