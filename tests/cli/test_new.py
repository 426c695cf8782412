"""``digwebs new``: rendering the bundled template, options and errors."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import click.testing
import pytest

from digwebs_cli._templates import bundled_template_dir, digwebs_version
from digwebs_cli.main import cli


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _pyproject(project: Path) -> dict:
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))


def _assert_one_line_error(result: click.testing.Result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def make_template(tmp_path):
    """Write a small cookiecutter template; return its folder."""

    def make(files: dict[str, str], questions: dict | None = None) -> Path:
        root = tmp_path / "custom-template"
        context = {"project_name": "demo", "flavour": ["plain", "spicy"]}
        (root).mkdir()
        (root / "cookiecutter.json").write_text(json.dumps(questions or context))
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root

    return make


def test_bundled_template_is_found_in_the_source_tree():
    folder = bundled_template_dir()
    assert (folder / "cookiecutter.json").is_file()
    assert (folder / "{{cookiecutter.project_name}}" / "wsgiapp.py").is_file()


def test_new_renders_the_project(invoke, tmp_path):
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    project = tmp_path / "myblog"
    for expected in [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "wsgiapp.py",
        "controllers/home.py",
        "controllers/api.py",
        "controllers/contact.py",
        "middlewares/timing.py",
        "views/base.html",
        "views/index.html",
        "views/errors/404.html",
        "views/errors/500.html",
        "static/css/site.css",
        "static/js/site.js",
        "static/images/logo.svg",
        "static/favicon.ico",
        "config/default.toml",
        "config/development.toml",
        "config/production.toml",
        "tests/conftest.py",
    ]:
        assert (project / expected).is_file(), expected
    # Nothing but the project: no staging folder, no bytecode from the hook.
    assert [p.name for p in tmp_path.iterdir()] == ["myblog"]
    assert not any(p.name == "__pycache__" for p in project.rglob("*"))


def test_views_are_copied_without_rendering(invoke, tmp_path):
    invoke("new", "myblog", "--no-input", "-o", str(tmp_path))
    project = tmp_path / "myblog"
    template = bundled_template_dir() / "{{cookiecutter.project_name}}"
    for view in (template / "views").rglob("*.html"):
        copied = project / view.relative_to(template)
        assert copied.read_bytes() == view.read_bytes()
    assert '{% extends "base.html" %}' in (project / "views/index.html").read_text()
    favicon = template / "static" / "favicon.ico"
    assert (project / "static/favicon.ico").read_bytes() == favicon.read_bytes()


def test_python_and_config_files_are_rendered(invoke, tmp_path):
    invoke("new", "my-blog", "--no-input", "-o", str(tmp_path))
    project = tmp_path / "my-blog"
    for path in project.rglob("*"):
        if path.suffix in {".py", ".toml", ".md"}:
            assert "cookiecutter" not in path.read_text(), path
    assert 'site_title = "My Blog"' in (project / "config/default.toml").read_text()
    assert _pyproject(project)["project"]["name"] == "my_blog"


def test_secret_key_is_random_and_only_in_development(invoke, tmp_path):
    keys = []
    for name in ("one", "two"):
        invoke("new", name, "--no-input", "-o", str(tmp_path))
        config = tmp_path / name / "config"
        development = tomllib.loads((config / "development.toml").read_text())
        assert len(development["secret_key"]) >= 32
        keys.append(development["secret_key"])
        for other in ("default.toml", "production.toml"):
            assert "secret_key" not in tomllib.loads((config / other).read_text())
    assert keys[0] != keys[1]


def test_pyproject_records_version_and_answers(invoke, tmp_path):
    invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "-x", "author=Ada Lovelace")
    data = _pyproject(tmp_path / "myblog")
    assert data["project"]["dependencies"] == [f"digwebs>={digwebs_version()}"]
    assert data["project"]["optional-dependencies"]["test"]
    recorded = data["tool"]["digwebs"]
    assert recorded["version"] == digwebs_version()
    assert recorded["template"] == "bundled"
    assert recorded["answers"] == {
        "project_name": "myblog",
        "project_slug": "myblog",
        "title": "Myblog",
        "description": "A website built with digwebs.",
        "author": "Ada Lovelace",
    }
    assert data["project"]["authors"] == [{"name": "Ada Lovelace"}]


def test_extra_sets_answers(invoke, tmp_path):
    result = invoke(
        "new", "myblog", "--no-input", "-o", str(tmp_path),
        "-x", "title=Notes of Ada", "--extra", 'description=Ada\'s "notes"',
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    project = tmp_path / "myblog"
    assert (project / "README.md").read_text().startswith("# Notes of Ada\n")
    assert _pyproject(project)["project"]["description"] == 'Ada\'s "notes"'


def test_output_dir_is_created(invoke, tmp_path):
    out = tmp_path / "a" / "b"
    result = invoke("new", "myblog", "--no-input", "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "myblog" / "wsgiapp.py").is_file()


def test_default_output_dir_is_the_current_folder(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("new", "myblog", "--no-input").exit_code == 0
    assert (tmp_path / "myblog" / "wsgiapp.py").is_file()


@pytest.mark.parametrize(
    "name",
    ["1blog", "my blog", "my.blog", "a/b", "../evil", "class", "digwebs", "blög", "x" * 65, ""],
)
def test_invalid_name_is_refused(invoke, tmp_path, name):
    result = invoke("new", name, "--no-input", "-o", str(tmp_path / "out"))
    _assert_one_line_error(result, "name")
    assert not (tmp_path / "out").exists()


def test_unknown_extra_key_is_refused(invoke, tmp_path):
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "-x", "descripton=x")
    _assert_one_line_error(result, "'descripton'", "'description'")
    assert _tree(tmp_path) == []


@pytest.mark.parametrize("extra", ["description", "=value", "_digwebs_version=9"])
def test_malformed_or_private_extra_is_refused(invoke, tmp_path, extra):
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "-x", extra)
    _assert_one_line_error(result, "--extra" if "=" not in extra[1:] else "Unknown")
    assert _tree(tmp_path) == []


def test_extra_project_name_must_agree_with_name(invoke, tmp_path):
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "-x", "project_name=x")
    _assert_one_line_error(result, "contradicts")
    result = invoke("new", "a", "--no-input", "-o", str(tmp_path), "-x", "project_name=a")
    assert result.exit_code == 0


def test_existing_non_empty_folder_needs_force(invoke, tmp_path):
    target = tmp_path / "myblog"
    target.mkdir()
    (target / "README.md").write_text("mine")
    (target / "notes.txt").write_text("keep me")

    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path))
    _assert_one_line_error(result, "--force", "not empty")
    assert _tree(target) == ["README.md", "notes.txt"]

    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "--force")
    assert result.exit_code == 0, result.output
    assert (target / "notes.txt").read_text() == "keep me"
    assert (target / "README.md").read_text().startswith("# Myblog")
    assert (target / "wsgiapp.py").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["myblog"]


def test_existing_empty_folder_is_used(invoke, tmp_path):
    (tmp_path / "myblog").mkdir()
    assert invoke("new", "myblog", "--no-input", "-o", str(tmp_path)).exit_code == 0
    assert (tmp_path / "myblog" / "wsgiapp.py").is_file()


def test_force_refuses_a_file_where_a_folder_goes(invoke, tmp_path):
    target = tmp_path / "myblog"
    target.mkdir()
    (target / "views").write_text("a file, not a folder")
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "--force")
    _assert_one_line_error(result, "views")
    assert _tree(target) == ["views"]


def test_target_that_is_a_file_is_refused(invoke, tmp_path):
    (tmp_path / "myblog").write_text("")
    _assert_one_line_error(invoke("new", "myblog", "--no-input", "-o", str(tmp_path)), "folder")


def test_user_cookiecutter_config_and_replay_are_ignored(
    invoke, tmp_path, isolated_home, monkeypatch
):
    rc = isolated_home / "custom-rc.yaml"
    rc.write_text('default_context:\n  description: "From the user config"\n')
    monkeypatch.setenv("COOKIECUTTER_CONFIG", str(rc))
    (isolated_home / ".cookiecutterrc").write_text("default_context:\n  title: Hijacked\n")
    # A replay "folder" that is a file would make cookiecutter's replay dump fail.
    (isolated_home / ".cookiecutter_replay").write_text("not a folder")

    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    answers = _pyproject(tmp_path / "out" / "myblog")["tool"]["digwebs"]["answers"]
    assert answers["description"] == "A website built with digwebs."
    assert answers["title"] == "Myblog"
    assert (isolated_home / ".cookiecutter_replay").read_text() == "not a folder"
    assert not (isolated_home / ".cookiecutters").exists()


def test_prompts_use_the_answers_typed(invoke, tmp_path):
    # title, description, author (NAME says the folder and the Python name)
    result = invoke("new", "myblog", "-o", str(tmp_path), input="My Notes\n\nAda\n")
    assert result.exit_code == 0, result.output
    answers = _pyproject(tmp_path / "myblog")["tool"]["digwebs"]["answers"]
    assert answers["title"] == "My Notes"
    assert answers["author"] == "Ada"
    assert answers["project_name"] == "myblog"


def test_input_that_ends_before_the_last_question_writes_nothing(invoke, tmp_path):
    result = invoke("new", "myblog", "-o", str(tmp_path), input="My Notes\n\n")
    assert result.exit_code == 2
    assert "no input" in result.stderr
    assert _tree(tmp_path) == []


def test_hook_prints_the_next_steps(isolated_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = click.testing.CliRunner(capture="fd")
    result = runner.invoke(cli, ["new", "myblog", "--no-input", "-o", "sites"])
    assert result.exit_code == 0, result.output
    assert "cd sites/myblog" in result.output
    assert "digwebs serve" in result.output
    assert "digwebs routes" in result.output


def test_custom_template(invoke, tmp_path, make_template):
    template = make_template(
        {
            "{{cookiecutter.project_name}}-src/hello.txt": "{{ cookiecutter.flavour }}\n",
            "{{cookiecutter.project_name}}-src/pyproject.toml": '[project]\nname = "x"\n',
        }
    )
    result = invoke(
        "new", "site", "--no-input", "-o", str(tmp_path / "out"),
        "--template", str(template), "-x", "flavour=spicy",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created" in result.stdout
    # NAME is the folder, whatever the template calls its own.
    project = tmp_path / "out" / "site"
    assert (project / "hello.txt").read_text() == "spicy\n"
    recorded = _pyproject(project)["tool"]["digwebs"]
    assert recorded["template"] == str(template)
    assert recorded["answers"] == {"project_name": "site", "flavour": "spicy"}


def test_custom_template_choice_must_be_valid(invoke, tmp_path, make_template):
    template = make_template({"{{cookiecutter.project_name}}/a.txt": "a"})
    result = invoke(
        "new", "site", "--no-input", "-o", str(tmp_path / "out"),
        "--template", str(template), "-x", "flavour=bland",
    )  # fmt: skip
    _assert_one_line_error(result, "bland")
    assert not (tmp_path / "out").exists()


def test_failed_rendering_leaves_nothing_behind(invoke, tmp_path, make_template):
    template = make_template(
        {
            "{{cookiecutter.project_name}}/a.txt": "fine",
            "{{cookiecutter.project_name}}/b.txt": "{{ cookiecutter.missing }}",
        }
    )
    out = tmp_path / "out"
    result = invoke("new", "site", "--no-input", "-o", str(out), "--template", str(template))
    _assert_one_line_error(result, "b.txt", "missing")
    assert not out.exists()


def test_failing_hook_leaves_nothing_behind(invoke, tmp_path, make_template):
    template = make_template(
        {
            "{{cookiecutter.project_name}}/a.txt": "fine",
            "hooks/post_gen_project.py": "import sys\nsys.exit(3)\n",
        }
    )
    out = tmp_path / "out"
    out.mkdir()
    result = invoke("new", "site", "--no-input", "-o", str(out), "--template", str(template))
    _assert_one_line_error(result, "hook", "nothing was written")
    assert _tree(out) == []


def test_missing_template_is_a_one_line_error(invoke, tmp_path):
    result = invoke("new", "site", "--no-input", "--template", str(tmp_path / "nope"))
    _assert_one_line_error(result, "nope")


def test_new_help():
    result = click.testing.CliRunner().invoke(cli, ["new", "--help"])
    assert result.exit_code == 0
    for option in ("--output-dir", "--no-input", "--extra", "--template", "--force"):
        assert option in result.output


@pytest.mark.parametrize(
    "command", [["new"], ["generate"], ["generate", "controller"], ["routes"], []]
)
@pytest.mark.parametrize("option", ["--version", "--help", "-h"])
def test_every_command_has_version_and_help(command, option):
    result = click.testing.CliRunner().invoke(cli, [*command, option])
    assert result.exit_code == 0, result.output
    if option == "--version":
        assert result.output == f"digwebs, version {digwebs_version()}\n"
    else:
        assert result.output.startswith("Usage: ")


def test_zipped_template(invoke, tmp_path, make_template):
    import shutil

    template = make_template({"{{cookiecutter.project_name}}/a.txt": "{{ cookiecutter.flavour }}"})
    archive = shutil.make_archive(str(tmp_path / "tpl"), "zip", template.parent, template.name)
    out = tmp_path / "out"
    result = invoke("new", "site", "--no-input", "-o", str(out), "--template", archive)
    assert result.exit_code == 0, result.output
    assert (out / "site" / "a.txt").read_text() == "plain"


def test_no_temporary_files_are_left_behind(invoke, tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert invoke("new", "myblog", "--no-input", "-o", str(tmp_path / "out")).exit_code == 0
    # cookiecutter writes each rendered hook to a temporary file it never deletes.
    assert list(scratch.iterdir()) == []
    assert invoke("new", "myblog", "--no-input", "-o", str(tmp_path / "out")).exit_code == 2
    assert list(scratch.iterdir()) == []


def test_unwritable_output_dir_is_a_one_line_error(invoke, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        result = invoke("new", "myblog", "--no-input", "-o", str(locked / "a" / "b"))
        _assert_one_line_error(result, "Cannot write to", "locked")
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


def test_output_dir_under_a_file_is_refused(invoke, tmp_path):
    (tmp_path / "file").write_text("")
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path / "file" / "sub"))
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_no_input_at_a_prompt(invoke, tmp_path):
    result = invoke("new", "myblog", "-o", str(tmp_path), input="")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: The template asked a question but there is no input to answer it. "
        "Pass --no-input to use the defaults."
    ]
    assert list(tmp_path.iterdir()) == []


# -- issue 13: defects a new user hit ----------------------------------------


def _run_project_tests(project: Path) -> str:
    import re
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGWEBS_", "PYTEST_"))}
    env["PYTHONPATH"] = str(repo)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"\d+ passed", proc.stdout)
    return proc.stdout


def test_empty_title_is_refused_in_one_line(invoke, tmp_path):
    # defect 2: an empty title made a project whose own tests failed
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "-x", "title=")
    _assert_one_line_error(result, "title", "empty")
    assert _tree(tmp_path) == []
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "-x", "title=   ")
    _assert_one_line_error(result, "title", "empty")


def test_answers_with_markup_and_quotes_make_a_project_whose_tests_pass(invoke, tmp_path):
    title = 'Ada\'s <b>blog</b> & "notes" {{ 7*7 }} {% raw %} \\u003c'
    result = invoke(
        "new", "myblog", "--no-input", "-o", str(tmp_path),
        "-x", f"title={title}", "-x", "description=Curly {{ braces", "-x", "author=Zoë {#",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    project = tmp_path / "myblog"
    assert tomllib.loads((project / "config/default.toml").read_text())["site_title"] == title
    assert _pyproject(project)["project"]["description"] == "Curly {{ braces"
    _run_project_tests(project)


def test_interactive_prompts_do_not_ask_what_name_says(invoke, tmp_path):
    # defect 3: the folder and the Python name come from NAME only
    result = invoke("new", "my-blog", "-o", str(tmp_path), input="Notes\n\nAda\n")
    assert result.exit_code == 0, result.output
    assert "Folder name" not in result.output and "Python-safe" not in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["my-blog"]
    answers = _pyproject(tmp_path / "my-blog")["tool"]["digwebs"]["answers"]
    assert answers["project_name"] == "my-blog"
    assert answers["project_slug"] == "my_blog"
    assert answers["title"] == "Notes"


def test_a_bad_answer_is_refused_at_once_and_asked_again(invoke, tmp_path):
    # defect 4: one line, at the question, and the question again
    # Spaces only: refused at once, then the title is asked again.
    result = invoke("new", "other", "-o", str(tmp_path), input="   \nNotes\n\n\n")
    assert result.exit_code == 0, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "title" in errors[0] and "empty" in errors[0]
    assert result.output.count("Title shown on the pages [") == 2
    answers = _pyproject(tmp_path / "other")["tool"]["digwebs"]["answers"]
    assert answers["title"] == "Notes"


def test_a_bad_choice_is_asked_again(invoke, tmp_path, make_template):
    template = make_template({"{{cookiecutter.project_name}}/a.txt": "{{ cookiecutter.flavour }}"})
    result = invoke(
        "new", "site", "-o", str(tmp_path / "out"), "--template", str(template),
        input="bland\n2\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "bland" in errors[0] and "spicy" in errors[0]
    assert (tmp_path / "out/site/a.txt").read_text() == "spicy"


@pytest.mark.parametrize("value", ["{{ 7*7 }}", "Curly {{ braces", "{% if %}", "{# x", "}}{{"])
def test_extra_values_are_literal_text(invoke, tmp_path, value):
    # defect 5: answers are never rendered as Jinja
    args = ["-o", str(tmp_path), "-x", f"description={value}"]
    result = invoke("new", "myblog", "--no-input", *args)
    assert result.exit_code == 0, result.output
    project = tmp_path / "myblog"
    assert _pyproject(project)["project"]["description"] == value
    assert _pyproject(project)["tool"]["digwebs"]["answers"]["description"] == value
    assert f"\n{value}\n" in (project / "README.md").read_text()


def test_typed_answers_are_literal_text(invoke, tmp_path):
    result = invoke("new", "myblog", "-o", str(tmp_path), input="{{ 7*7 }}\n\n\n")
    assert result.exit_code == 0, result.output
    assert _pyproject(tmp_path / "myblog")["tool"]["digwebs"]["answers"]["title"] == "{{ 7*7 }}"


def test_defaults_are_still_rendered(invoke, tmp_path):
    invoke("new", "my_fine-blog", "--no-input", "-o", str(tmp_path))
    answers = _pyproject(tmp_path / "my_fine-blog")["tool"]["digwebs"]["answers"]
    assert answers["title"] == "My Fine Blog"


@pytest.mark.parametrize("value", ["two\nlines", "tab\there", "nul\x00"])
def test_answers_are_one_line_of_text(invoke, tmp_path, value):
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "-x", f"title={value}")
    _assert_one_line_error(result, "title")


def test_missing_template_path_is_said_once(invoke, tmp_path):
    # defect 6
    missing = tmp_path / "nonexistent"
    result = invoke("new", "site", "--no-input", "--template", str(missing))
    _assert_one_line_error(result)
    assert result.stderr.count(str(missing)) == 1, result.stderr
    folder = tmp_path / "empty"
    folder.mkdir()
    result = invoke("new", "site", "--no-input", "--template", str(folder))
    _assert_one_line_error(result, "cookiecutter.json")
    assert result.stderr.count(str(folder)) == 1, result.stderr


def test_pyproject_is_written_as_a_person_would(invoke, tmp_path):
    # defect 7: no \u003e or \u0027 escapes in the TOML
    invoke(
        "new", "myblog", "--no-input", "-o", str(tmp_path),
        "-x", "description=Ada's <blog> & notes", "-x", "author=O'Brien",
    )  # fmt: skip
    project = tmp_path / "myblog"
    text = (project / "pyproject.toml").read_text()
    assert "\\u00" not in text, text
    assert "digwebs>=" in text
    assert 'description = "Ada\'s <blog> & notes"' in text
    assert _pyproject(project)["project"]["authors"] == [{"name": "O'Brien"}]
    for config in (project / "config").glob("*.toml"):
        assert "\\u00" not in config.read_text(), config


def test_force_lists_what_it_replaces(invoke, tmp_path):
    # defect 8: never replace a user's change without saying so
    assert invoke("new", "myblog", "--no-input", "-o", str(tmp_path)).exit_code == 0
    project = tmp_path / "myblog"
    (project / "README.md").write_text("my own notes\n")
    (project / "controllers/home.py").write_text("# mine\n")
    (project / "notes.txt").write_text("keep me")
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "--force")
    assert result.exit_code == 0, result.output
    replaced = [line.split()[-1] for line in result.output.splitlines() if "replaced" in line]
    assert "README.md" in replaced and "controllers/home.py" in replaced
    # files that did not change are not reported as replaced
    assert "views/base.html" not in replaced and "wsgiapp.py" not in replaced
    assert (project / "notes.txt").read_text() == "keep me"


def test_pyproject_dependency_and_readme_say_where_digwebs_comes_from(invoke, tmp_path):
    # defect 1: the README's install steps name the place digwebs is installed from
    from digwebs_cli._templates import digwebs_source

    invoke("new", "myblog", "--no-input", "-o", str(tmp_path))
    readme = (tmp_path / "myblog" / "README.md").read_text()
    source = digwebs_source()
    assert source is not None  # the test runs from a checkout (editable or not)
    assert f"pip install {source}" in readme or f"pip install '{source}'" in readme
    assert readme.index("pip install") < readme.index('pip install -e ".[test]"')


def test_digwebs_source_of_an_editable_install(monkeypatch):
    from digwebs_cli import _templates

    repo = Path(__file__).resolve().parents[2]
    assert _templates.source_from_direct_url(
        json.dumps({"url": repo.as_uri(), "dir_info": {"editable": True}})
    ) == str(repo)
    wheel = repo / "dist" / "digwebs-0.1.0-py3-none-any.whl"
    assert _templates.source_from_direct_url(
        json.dumps({"url": wheel.as_uri(), "archive_info": {}})
    ) == str(wheel)
    assert (
        _templates.source_from_direct_url(
            json.dumps(
                {
                    "url": "https://example.org/digwebs.git",
                    "vcs_info": {"vcs": "git", "commit_id": "abc123"},
                }
            )
        )
        == "git+https://example.org/digwebs.git@abc123"
    )
    assert _templates.source_from_direct_url("not json") is None


# -- --git and the summary ---------------------------------------------------


@pytest.fixture
def git_identity(monkeypatch):
    """A git identity of its own: the test does not depend on the machine's."""
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Ada Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ada@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Ada Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "ada@example.com")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def _git_out(project: Path, *args: str) -> str:
    import subprocess

    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def test_git_starts_a_repository_with_a_first_commit(invoke, tmp_path, git_identity):
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "--git")
    assert result.exit_code == 0, result.output
    project = tmp_path / "myblog"
    assert "first commit" in result.output
    assert _git_out(project, "status", "--porcelain") == ""
    tracked = set(_git_out(project, "ls-files").split())
    assert {"wsgiapp.py", ".gitignore", "controllers/home.py", "views/base.html"} <= tracked
    assert _git_out(project, "log", "--format=%s").strip() == "New project from digwebs new"


def test_git_inside_a_repository_is_refused_before_writing(invoke, tmp_path, git_identity):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "--git")
    _assert_one_line_error(result, "--git", "inside the git repository")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git"]


def test_git_with_force_commits_only_the_projects_files(invoke, tmp_path, git_identity):
    target = tmp_path / "myblog"
    target.mkdir()
    (target / "private.txt").write_text("mine")
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path), "--git", "--force")
    assert result.exit_code == 0, result.output
    assert "private.txt" not in _git_out(target, "ls-files")
    assert "1 of yours kept" in result.output


def test_git_without_an_identity_is_refused_before_writing(invoke, tmp_path, monkeypatch):
    home = tmp_path / "nohome"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                 "GIT_COMMITTER_EMAIL", "EMAIL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    # git falls back to user@hostname unless told to insist on a configured identity
    (home / "gitconfig").write_text("[user]\n\tuseConfigOnly = true\n")
    out = tmp_path / "out"
    out.mkdir()
    result = invoke("new", "myblog", "--no-input", "-o", str(out), "--git")
    _assert_one_line_error(result, "git config --global user.name")
    assert list(out.iterdir()) == []


def test_summary_says_what_was_created_and_what_to_run(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("new", "myblog", "--no-input")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Created 'myblog': ") and "files created" in lines[0]
    assert "controllers/" in lines[1] and "wsgiapp.py" in lines[1]
    assert "  cd myblog" in lines
    assert any(line.strip().startswith("digwebs serve") for line in lines)
    assert any(line.strip().startswith("python -m pytest") for line in lines)
