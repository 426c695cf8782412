"""Every code block of the documentation site runs, so a page cannot lie.

Each Markdown page under ``docs/`` is run in its own subprocess (gevent's
monkey-patching or a controller package of one page cannot leak into another
page or into this test run), in a fresh temporary folder that is the page's
project, with the checkout's ``digwebs`` importable and the venv's
``digwebs`` command first on PATH. The blocks run in page order and share
one Python namespace, as a reader who follows the page would:

``python``
    executed; an exception fails the page.
``pycon``
    a doctest (``>>>`` lines and the output they print).
``console``
    ``$ command`` lines run by bash in the page's folder (a ``cd`` and an
    ``export`` carry over to later commands and blocks); the lines after a
    command are its expected output
    (trailing spaces ignored, a line ``...`` matches any number of lines,
    ``...`` inside a line any text, and the page's folder is written
    ``$PROJECT``). No output lines: only the exit
    status is checked. A non-zero exit fails unless the expected output
    ends with ``[exit N]`` naming it.
``sh``
    the whole block run by ``bash -e`` in the page's folder.
``toml`` / ``json``
    parsed, so a snippet of configuration is at least valid.

A MyST comment line right before a block changes what happens to it:

``% docs: file PATH``
    the block is written to ``PATH`` in the page's folder (a controller, a
    view, a config file); a ``.py`` file is compiled, a ``.toml`` parsed.
    Written as ```` ```{code-block} LANG ```` with ``:caption: PATH``, the
    page shows the file's name; the caption must be that path.
``% docs: no-run REASON``
    the block is shown only (a server that never exits, a machine-wide
    install); the reason is required.
``% docs: needs PROGRAM``
    the block runs only where ``PROGRAM`` (``nginx``) is installed; it is
    skipped elsewhere, and fails under ``CI``, whose ``.ci/run`` installs it.

Any other language (``text``, ``nginx``, ``ini``, ...) must carry one of the
two markers: an unmarked block of a language the runner cannot check fails,
so nothing is left unchecked by accident.
"""

from __future__ import annotations

import dataclasses
import doctest
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
import types
import typing as t
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
# Team notes in docs/ that are not pages of the site.
NOT_PAGES = {"CONTRACT.md", "ARCHITECTURE.md", "README.md"}
RUNNABLE = {"python", "pycon", "console", "sh", "toml", "json"}
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_MARKER = re.compile(r"^%\s*docs:\s*(?P<kind>file|no-run|needs)\b\s*(?P<arg>.*)$")


@dataclasses.dataclass
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marker: str | None = None  # "file" or "no-run"
    arg: str = ""
    caption: str | None = None  # a {code-block}'s :caption:

    @property
    def where(self) -> str:
        page = self.page.relative_to(REPO) if self.page.is_relative_to(REPO) else self.page
        return f"{page}:{self.line}"


def pages() -> list[Path]:
    """Every Markdown page of the site, in a stable order."""
    return sorted(p for p in DOCS.rglob("*.md") if p.name not in NOT_PAGES)


def parse_blocks(page: Path, source: str | None = None) -> list[Block]:
    """The fenced code blocks of ``page`` with the marker each one carries.

    MyST directives (```` ```{note} ````) are not code and are skipped; a
    ```` ```{code-block} LANG ```` counts as a ``LANG`` block.
    """
    text = page.read_text(encoding="utf-8") if source is None else source
    lines = text.split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, info = match["fence"], match["info"].strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not (
            lines[i].strip().startswith(fence[0] * len(fence))
            and set(lines[i].strip()) == {fence[0]}
        ):
            body.append(lines[i])
            i += 1
        i += 1
        lang = info.split()[0] if info else ""
        caption = None
        if lang.startswith("{"):
            if lang != "{code-block}" or len(info.split()) < 2:
                continue  # a directive (note, toctree, click, auto...), not code
            lang = info.split()[1]
            # The directive's options (":caption: store.py"), then its content.
            while body and (option := re.match(r"^:([\w-]+):\s*(.*)$", body[0])):
                if option[1] == "caption":
                    caption = option[2].strip()
                body.pop(0)
            if body and not body[0].strip():
                body.pop(0)
        block = Block(
            page, start + 1, lang, textwrap.dedent("\n".join(body)) + "\n", caption=caption
        )
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0 and (marker := _MARKER.match(lines[j].strip())):
            block.marker, block.arg = marker["kind"], marker["arg"].strip()
        blocks.append(block)
    return blocks


def check_markers(blocks: list[Block]) -> list[str]:
    """Problems with the blocks' markers, one message each (empty: fine)."""
    problems = []
    for block in blocks:
        if block.marker == "no-run" and not block.arg:
            problems.append(f"{block.where}: 'docs: no-run' needs a reason")
        elif block.marker == "needs" and not block.arg:
            problems.append(f"{block.where}: 'docs: needs' names a program")
        elif block.marker == "file" and not block.arg:
            problems.append(f"{block.where}: 'docs: file' needs a path")
        elif block.marker == "file" and block.caption not in (None, block.arg):
            problems.append(
                f"{block.where}: the caption {block.caption!r} is not the file written, "
                f"{block.arg!r}"
            )
        elif block.marker in (None, "needs") and block.lang not in RUNNABLE:
            problems.append(
                f"{block.where}: a {block.lang or 'plain'!r} block cannot be run: mark it "
                "'% docs: file PATH' or '% docs: no-run REASON'"
            )
    return problems


# -- running one page (in the subprocess) ------------------------------------


class PageFailure(Exception):
    """A block of the page did not do what the page says."""


def _console_commands(text: str) -> list[tuple[str, list[str]]]:
    """``$ command`` lines (``\\`` continues one) and the output after each."""
    commands: list[tuple[str, list[str]]] = []
    lines = text.rstrip("\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            if commands:
                commands[-1][1].append(line)
            elif line.strip():
                raise PageFailure(f"output before the first '$ ' command: {line!r}")
            i += 1
            continue
        command = line[2:]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            # A continuation line may carry the shell's "> " prompt.
            more = lines[i][2:] if lines[i].startswith("> ") else lines[i]
            command = command + "\n" + more  # bash reads the \\-newline itself
        commands.append((command, []))
        i += 1
    return commands


def _output_matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line equality where an expected ``...`` line matches any lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(_output_matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return (
        bool(actual)
        and _line_matches(expected[0], actual[0])
        and _output_matches(expected[1:], actual[1:])
    )


def _line_matches(expected: str, actual: str) -> bool:
    """Equal, where ``...`` inside an expected line matches any text."""
    if "..." not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual) is not None


class PageRunner:
    """Runs the blocks of one page in ``workdir``, in order."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.cwd = workdir
        # A real module, so that code which looks its module up (dataclasses,
        # pickle, digwebs' default route names) finds one.
        module = types.ModuleType("__docs__")
        sys.modules[module.__name__] = module
        self.namespace: dict[str, t.Any] = module.__dict__
        self.skipped: list[str] = []

    def run(self, blocks: list[Block]) -> int:
        """Run every block; return how many ran (or were written/parsed)."""
        ran = 0
        for block in blocks:
            try:
                ran += self.run_block(block)
            except PageFailure as exc:
                raise PageFailure(f"{block.where} ({block.lang}): {exc}") from None
            except Exception as exc:
                raise PageFailure(
                    f"{block.where} ({block.lang}): {type(exc).__name__}: {exc}"
                ) from exc
        return ran

    def run_block(self, block: Block) -> int:
        """Run one block; 0 if it is only shown."""
        if block.marker == "no-run":
            return 0
        if block.marker == "needs" and shutil.which(block.arg) is None:
            # CI installs every such tool (.ci/run): there, a missing one fails.
            if os.environ.get("CI"):
                raise PageFailure(f"needs {block.arg!r}, which is not installed")
            self.skipped.append(f"{block.where} (no {block.arg})")
            return 0
        if block.marker == "file":
            path = self.cwd / block.arg
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text, encoding="utf-8")
            if path.suffix == ".py":
                compile(block.text, block.where, "exec")
            elif path.suffix == ".toml":
                tomllib.loads(block.text)
            return 1
        lang = block.lang
        if lang == "python":
            os.chdir(self.cwd)
            exec(compile(block.text, block.where, "exec"), self.namespace)
        elif lang == "pycon":
            os.chdir(self.cwd)
            test = doctest.DocTestParser().get_doctest(
                block.text, self.namespace, block.where, str(block.page), block.line
            )
            report: list[str] = []
            runner = doctest.DocTestRunner(
                optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
            )
            runner.run(test, out=report.append, clear_globs=False)
            if runner.failures:
                raise PageFailure("doctest failed:\n" + "".join(report))
        elif lang == "console":
            for command, expected in _console_commands(block.text):
                self.shell(command, expected)
        elif lang == "sh":
            self.shell(block.text, None)
        elif lang == "toml":
            tomllib.loads(block.text)
        elif lang == "json":
            json.loads(block.text)
        else:  # check_markers refused it already
            raise PageFailure(f"cannot run a {lang!r} block")
        return 1

    def shell(self, command: str, expected: list[str] | None) -> None:
        """Run ``command`` with bash in the current folder; check its output."""
        cwd_file = self.workdir / ".docs-cwd"
        # What the command exported carries over to later commands, as in
        # the reader's shell (bash's own bookkeeping variables excepted).
        env_file = self.workdir / ".docs-env"
        script = (
            f"[ -f {env_file} ] && . {env_file}\n{command}\n__status=$?\n"
            f"pwd > {cwd_file}\n"
            f"export -p | grep -v -E '^declare -x (PWD|OLDPWD|SHLVL|_)=' > {env_file}\n"
            "exit $__status\n"
        )
        flags = ["-e"] if expected is None else []
        proc = subprocess.run(
            ["bash", *flags, "-c", script],
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            env=_child_environment(self.workdir),
        )
        if cwd_file.exists():
            self.cwd = Path(cwd_file.read_text().strip())
            cwd_file.unlink()
        out = (proc.stdout + proc.stderr).replace(str(self.workdir), "$PROJECT")
        actual = [line.rstrip() for line in out.rstrip("\n").split("\n")] if out.strip() else []
        want_status = 0
        if expected:
            expected = [line.rstrip() for line in expected]
            while expected and not expected[-1]:
                expected.pop()
            if expected and (status := re.fullmatch(r"\[exit (\d+)\]", expected[-1])):
                want_status = int(status[1])
                expected.pop()
        if proc.returncode != want_status:
            raise PageFailure(f"$ {command}\nexited {proc.returncode}, not {want_status}:\n{out}")
        if expected and not _output_matches(expected, actual):
            raise PageFailure(
                f"$ {command}\nprinted:\n"
                + "\n".join(actual)
                + "\n\nthe page says:\n"
                + "\n".join(expected)
            )


def _child_environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGWEBS_", "PYTEST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(REPO)
    env["HOME"] = str(workdir)  # cookiecutter keeps its replay files under HOME
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "100"
    env.pop("PYTHONWARNINGS", None)
    return env


def run_page_in_subprocess(page: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``page``'s blocks in a fresh interpreter rooted in ``workdir``."""
    return subprocess.run(
        [sys.executable, "-W", "error", __file__, str(page), str(workdir)],
        cwd=workdir,
        env=_child_environment(workdir),
        capture_output=True,
        text=True,
        timeout=300,
    )


# -- the tests ----------------------------------------------------------------


def _page_params() -> list[t.Any]:
    # The tutorial builds a whole project and runs its tests: an e2e test.
    return [
        pytest.param(p, id=str(p.relative_to(DOCS)), marks=[pytest.mark.slow])
        if p.parent.name == "tutorial"
        else pytest.param(p, id=str(p.relative_to(DOCS)))
        for p in pages()
    ]


@pytest.mark.parametrize("page", _page_params())
def test_page_examples_run(page: Path, tmp_path: Path) -> None:
    """Every block of ``page`` runs as the page says."""
    problems = check_markers(parse_blocks(page))
    assert not problems, "\n".join(problems)
    proc = run_page_in_subprocess(page, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_there_are_pages_and_examples() -> None:
    """The site exists and shows code; an empty glob would pass vacuously."""
    assert len(pages()) >= 10
    assert sum(len(parse_blocks(p)) for p in pages()) >= 50


def test_the_api_reference_lists_every_exported_name() -> None:
    """Each public name of ``digwebs/__init__.py`` is documented on the API page."""
    import digwebs

    page = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. \w+:: (?:digwebs\.)?(\w+)", page, flags=re.M))
    exported = {name for name in vars(digwebs) if not name.startswith("_")}
    exported -= {
        name for name, value in vars(digwebs).items() if isinstance(value, types.ModuleType)
    }
    missing = sorted(exported - documented)
    assert not missing, f"docs/reference/api.md does not document: {missing}"


def test_the_configuration_guide_lists_every_setting() -> None:
    """Each key of ``digwebs.config.DEFAULTS`` has a row on the configuration page."""
    from digwebs.config import DEFAULTS

    page = (DOCS / "guides" / "configuration.md").read_text(encoding="utf-8")
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    named = {key for row in rows for key in re.findall(r"`\[?(\w+)\]?`", row.split("|")[1])}
    missing = sorted(set(DEFAULTS) - named)
    assert not missing, f"docs/guides/configuration.md has no row for: {missing}"


def _run_source(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    page = tmp_path / "page.md"
    page.write_text(source, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    return run_page_in_subprocess(page, work)


def test_a_broken_python_example_fails(tmp_path: Path) -> None:
    """An example written against an API that is not there fails the page."""
    good = "```python\nfrom digwebs import Digwebs, get\n```\n"
    assert _run_source(tmp_path / "a", good).returncode == 0
    bad = "```python\nfrom digwebs import Digwebs, get_route\n```\n"
    proc = _run_source(tmp_path / "b", bad)
    assert proc.returncode == 1
    assert "page.md:1 (python): ImportError" in proc.stdout


def test_wrong_console_output_fails(tmp_path: Path) -> None:
    """A shown output that the command does not print fails the page."""
    ok = "```console\n$ echo one; echo two; echo three\none\n...\nthree\n```\n"
    proc = _run_source(tmp_path / "a", ok)
    assert proc.returncode == 0, proc.stdout
    proc = _run_source(tmp_path / "b", "```console\n$ echo one\ntwo\n```\n")
    assert proc.returncode == 1 and "the page says:\ntwo" in proc.stdout
    failing = "```console\n$ digwebs routes --no-such-option\n```\n"
    assert _run_source(tmp_path / "c", failing).returncode == 1
    expected_failure = "```console\n$ sh -c 'exit 2'\n[exit 2]\n```\n"
    assert _run_source(tmp_path / "d", expected_failure).returncode == 0


def test_blocks_share_the_page_and_its_folder(tmp_path: Path) -> None:
    """A file block is written where a later block finds it; cd carries over."""
    source = (
        "% docs: file sub/hello.txt\n\n```text\nhi\n```\n\n"
        "```console\n$ cd sub\n```\n\n"
        "```python\nx = open('hello.txt').read()\n```\n\n"
        "```pycon\n>>> x\n'hi\\n'\n```\n"
    )
    proc = _run_source(tmp_path, source)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_markers_are_checked(tmp_path: Path) -> None:
    """An unrunnable block must say so, with a reason."""
    page = tmp_path / "p.md"
    source = (
        "```text\nshown\n```\n\n% docs: no-run\n```nginx\nx;\n```\n\n"
        "% docs: no-run starts a server\n```console\n$ digwebs serve\n```\n\n"
        "```{note}\nnot code\n```\n\n"
        "% docs: file a.py\n```{code-block} python\n:caption: b.py\n\nx = 1\n```\n"
    )
    problems = check_markers(parse_blocks(page, source))
    assert problems == [
        f"{page}:1: a 'text' block cannot be run: mark it '% docs: file PATH' or "
        "'% docs: no-run REASON'",
        f"{page}:6: 'docs: no-run' needs a reason",
        f"{page}:20: the caption 'b.py' is not the file written, 'a.py'",
    ]
    written = parse_blocks(page, source)[-1]
    assert (written.lang, written.text, written.caption) == ("python", "x = 1\n", "b.py")


def main(argv: list[str]) -> int:
    """Subprocess entry: ``test_docs_examples.py PAGE WORKDIR``."""
    page, workdir = Path(argv[0]).resolve(), Path(argv[1]).resolve()
    blocks = parse_blocks(page)
    runner = PageRunner(workdir)
    try:
        ran = runner.run(blocks)
    except PageFailure as exc:
        print(exc)
        return 1
    print(f"{page.name}: {ran} of {len(blocks)} blocks ran")
    for where in runner.skipped:
        print(f"skipped: {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
