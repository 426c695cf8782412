"""``digwebs generate controller``: files, routes, refusals."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import jinja2
import pytest

from digwebs_cli.generate import CONVENTIONS

ALL_ACTIONS = ("index", "show", "new", "create", "edit", "update", "destroy")


@pytest.fixture
def project(invoke, tmp_path) -> Path:
    result = invoke("new", "myblog", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    return tmp_path / "myblog"


def _generate(invoke, project: Path, *args: str):
    return invoke("generate", "controller", *args, "--project-dir", str(project))


def _decorators(source: str) -> dict[str, list[str]]:
    """Map each function of a module to its decorators, as source text."""
    tree = ast.parse(source)
    return {
        node.name: [ast.unparse(d) for d in node.decorator_list]
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def test_default_action_is_index(invoke, project):
    result = _generate(invoke, project, "posts")
    assert result.exit_code == 0, result.output
    assert "created  controllers/posts.py" in result.output
    assert _decorators((project / "controllers/posts.py").read_text()) == {
        "index": ["view('posts/index.html')", "get('/posts')"],
    }
    assert (project / "views/posts/index.html").is_file()
    assert "def test_index(client):" in (project / "tests/test_posts.py").read_text()


def test_conventional_routes(invoke, project):
    assert _generate(invoke, project, "blog_posts", *ALL_ACTIONS, "archive").exit_code == 0
    routes = _decorators((project / "controllers/blog_posts.py").read_text())
    assert routes == {
        "index": ["view('blog_posts/index.html')", "get('/blog-posts')"],
        "show": [
            "view('blog_posts/show.html')",
            "get('/blog-posts/<int:item_id>')",
        ],
        "new": ["view('blog_posts/new.html')", "get('/blog-posts/new')"],
        "create": ["post('/blog-posts')"],
        "edit": [
            "view('blog_posts/edit.html')",
            "get('/blog-posts/<int:item_id>/edit')",
        ],
        "update": ["post('/blog-posts/<int:item_id>')"],
        "destroy": ["post('/blog-posts/<int:item_id>/delete')"],
        "archive": [
            "view('blog_posts/archive.html')",
            "get('/blog-posts/archive')",
        ],
    }
    views = sorted(p.name for p in (project / "views/blog_posts").iterdir())
    assert views == ["archive.html", "edit.html", "index.html", "new.html", "show.html"]


def test_generated_files_are_valid_python_and_jinja(invoke, project):
    assert _generate(invoke, project, "posts", *ALL_ACTIONS).exit_code == 0
    for path in ("controllers/posts.py", "tests/test_posts.py"):
        compile((project / path).read_text(), path, "exec")
    env = jinja2.Environment()
    for view in (project / "views/posts").iterdir():
        source = view.read_text()
        env.parse(source)
        assert source.startswith('{% extends "base.html" %}')
    new_form = (project / "views/posts/new.html").read_text()
    assert "url_for('posts.create')" in new_form
    edit_form = (project / "views/posts/edit.html").read_text()
    assert "url_for('posts.update', item_id=item_id)" in edit_form


def test_generated_forms_carry_the_csrf_token(invoke, project):
    assert _generate(invoke, project, "posts", *ALL_ACTIONS).exit_code == 0
    hidden = '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">'
    for page in ("new", "edit"):
        source = (project / f"views/posts/{page}.html").read_text()
        assert source.count('<form method="post"') == source.count(hidden) == 1, page


def test_generated_forms_render_a_token_the_app_accepts(invoke, project, monkeypatch):
    assert _generate(invoke, project, "posts", "new", "create").exit_code == 0
    # app.load() puts the project first on sys.path and imports its packages:
    # both are put back afterwards.
    monkeypatch.setattr(sys, "path", list(sys.path))
    packages = ("controllers", "middlewares")
    saved = {m: sys.modules.pop(m) for m in list(sys.modules) if m.split(".")[0] in packages}
    try:
        from digwebs import Digwebs

        app = Digwebs(project, debug=False, secret_key="generate-tests-secret-0123").load()
        client = app.test_client()
        page = client.get("/posts/new").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        sibling = {"Sec-Fetch-Site": "same-site"}
        assert client.post("/posts", data={"title": "x"}, headers=sibling).status_code == 403
        r = client.post("/posts", data={"title": "x", "csrf_token": token}, headers=sibling)
        assert r.status_code in (302, 303)
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] in packages]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_views_link_only_to_generated_actions(invoke, project):
    assert _generate(invoke, project, "posts", "show", "new").exit_code == 0
    show = (project / "views/posts/show.html").read_text()
    new = (project / "views/posts/new.html").read_text()
    assert "url_for" not in show + new


def test_form_posts_redirect_to_index_or_item(invoke, project):
    assert _generate(invoke, project, "posts", "index", "show", "create", "update").exit_code == 0
    source = (project / "controllers/posts.py").read_text()
    assert 'return redirect(url_for("posts.index"))' in source
    assert 'return redirect(url_for("posts.show", item_id=item_id))' in source
    tests = (project / "tests/test_posts.py").read_text()
    assert 'endswith("/posts/1")' in tests


def test_refuses_to_overwrite_without_force(invoke, project):
    assert _generate(invoke, project, "posts").exit_code == 0
    controller = project / "controllers/posts.py"
    controller.write_text("# edited by hand\n")

    result = _generate(invoke, project, "posts", "index", "show")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: Refusing to overwrite 'controllers/posts.py', 'tests/test_posts.py', "
        "'views/posts/index.html'. Pass --force to replace."
    ]
    assert controller.read_text() == "# edited by hand\n"
    assert not (project / "views/posts/show.html").exists()

    result = _generate(invoke, project, "posts", "index", "show", "--force")
    assert result.exit_code == 0, result.output
    assert "replaced  controllers/posts.py" in result.output
    assert "created  views/posts/show.html" in result.output
    assert "def show(item_id):" in controller.read_text()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["Posts"], "controller name"),
        (["1posts"], "controller name"),
        (["class"], "controller name"),
        (["posts", "Show"], "action name"),
        (["posts", "index", "index"], "twice"),
        (["posts", "destroy", "delete"], "same route"),
        (["posts", "view"], "imports"),
    ],
)
def test_bad_names_are_refused(invoke, project, args, needle):
    before = sorted(project.rglob("*"))
    result = _generate(invoke, project, *args)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and needle in result.stderr
    assert sorted(project.rglob("*")) == before


def test_outside_a_project(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("generate", "controller", "posts")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: No 'controllers' folder in the current folder: run this inside a digwebs "
        "project (one made by 'digwebs new'), or pass --project-dir.\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_current_folder_is_the_default_project(invoke, project, monkeypatch):
    monkeypatch.chdir(project)
    assert invoke("generate", "controller", "posts").exit_code == 0
    assert (project / "controllers/posts.py").is_file()


def test_project_without_base_layout_gets_standalone_views(invoke, tmp_path):
    (tmp_path / "controllers").mkdir()
    assert _generate(invoke, tmp_path, "posts", "index").exit_code == 0
    view = (tmp_path / "views/posts/index.html").read_text()
    assert view.startswith("<!doctype html>")
    assert "extends" not in view


def test_generate_help(invoke):
    result = invoke("generate", "--help")
    assert result.exit_code == 0 and "controller" in result.output
    result = invoke("generate", "controller", "--help")
    assert result.exit_code == 0
    assert "--force" in result.output and "destroy" in result.output


# -- issue 13, defect 9 ------------------------------------------------------


def test_help_and_routes_agree_for_every_action(invoke, project):
    # --help promises GET /NAME/ACTION for any action it does not list;
    # 'delete' is listed, as the other name of destroy, with its route.
    help_text = " ".join(invoke("generate", "controller", "--help").output.split())
    assert "destroy or delete (POST /NAME/<id>/delete)" in help_text
    assert _generate(invoke, project, "comments", "delete", "archive").exit_code == 0
    routes = _decorators((project / "controllers/comments.py").read_text())
    assert routes["delete"] == ["post('/comments/<int:item_id>/delete')"]
    assert routes["archive"][-1] == "get('/comments/archive')"


@pytest.mark.parametrize("action", sorted(CONVENTIONS))
def test_every_conventional_action_is_in_the_help(invoke, action):
    help_text = " ".join(invoke("generate", "controller", "--help").output.split())
    assert f"{action} (" in help_text or f"{action} or " in help_text


@pytest.mark.parametrize("word", ["class", "def", "import", "async"])
def test_a_keyword_is_refused_as_a_keyword(invoke, project, word):
    for args in ([word], ["posts", word]):
        result = _generate(invoke, project, *args)
        assert result.exit_code == 2
        (line,) = result.stderr.splitlines()
        assert "keyword" in line, line
        assert "lower-case" not in line, line


@pytest.mark.parametrize("name", ["static", "favicon_ico"])
def test_a_controller_that_collides_with_the_static_files_is_refused(invoke, project, name):
    before = sorted(project.rglob("*"))
    result = _generate(invoke, project, name)
    if name == "static":
        assert result.exit_code == 2
        (line,) = result.stderr.splitlines()
        assert "/static" in line
        assert sorted(project.rglob("*")) == before
    else:
        assert result.exit_code == 0, result.output


def test_static_url_path_of_the_project_is_respected(invoke, project):
    config = project / "config" / "default.toml"
    text = config.read_text().replace("site_title", 'static_url_path = "/assets"\nsite_title', 1)
    config.write_text(text)
    result = _generate(invoke, project, "assets")
    assert result.exit_code == 2 and "/assets" in result.stderr
    assert _generate(invoke, project, "static").exit_code == 0
