"""``digwebs generate``: add code to an existing project.

``digwebs generate controller posts index show new create`` writes
``controllers/posts.py`` with one handler per action, a view per page action
in ``views/posts/`` and ``tests/test_posts.py``. The code comes from the
templates in ``templates/generators/controller``.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
import tomllib
import typing as t
from pathlib import Path

import click
import jinja2

from ._templates import generator_template_dir
from .errors import DigwebsCliError

_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclasses.dataclass(frozen=True)
class _Convention:
    method: str
    path: str  # appended to the controller's base path
    view: bool


# Rails-style actions. HTML forms can only GET and POST, so the actions that
# change data are POST routes that redirect (post/redirect/get).
CONVENTIONS: dict[str, _Convention] = {
    "index": _Convention("GET", "", True),
    "show": _Convention("GET", "/<int:item_id>", True),
    "new": _Convention("GET", "/new", True),
    "create": _Convention("POST", "", False),
    "edit": _Convention("GET", "/<int:item_id>/edit", True),
    "update": _Convention("POST", "/<int:item_id>", False),
    "destroy": _Convention("POST", "/<int:item_id>/delete", False),
    "delete": _Convention("POST", "/<int:item_id>/delete", False),
}

DEFAULT_ACTIONS = ("index",)

# Names the generated module imports; an action with one of them would shadow it.
_RESERVED_ACTIONS = frozenset({"get", "post", "view", "redirect", "url_for"})


@dataclasses.dataclass(frozen=True)
class Action:
    """One handler to generate, with everything its templates need."""

    name: str
    method: str
    path: str
    endpoint: str
    view: bool
    template: str | None
    args: tuple[str, ...]
    example_path: str
    heading: str
    redirect_args: str
    redirect_path: str


@click.group("generate")
def generate_command() -> None:
    """Add code to the project in the current folder."""


@generate_command.command("controller")
@click.argument("name")
@click.argument("actions", nargs=-1)
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The project to add to.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def controller_command(name: str, actions: tuple[str, ...], project_dir: Path, force: bool) -> None:
    """Add controllers/NAME.py with one handler per ACTION, views and tests.

    Conventional actions get conventional routes: index (GET /NAME),
    show (GET /NAME/<id>), new (GET /NAME/new), create (POST /NAME),
    edit (GET /NAME/<id>/edit), update (POST /NAME/<id>) and destroy or
    delete (POST /NAME/<id>/delete). Any other ACTION becomes a page at
    GET /NAME/ACTION. Without ACTION: index.
    """
    _check_project(project_dir)
    _check_static_collision(name, project_dir)
    planned = plan_controller(name, actions or DEFAULT_ACTIONS, project_dir)
    existing = [path for path in planned if path.exists()]
    if existing and not force:
        listed = ", ".join(f"'{p.relative_to(project_dir)}'" for p in existing)
        raise DigwebsCliError(f"Refusing to overwrite {listed}. Pass --force to replace.")
    for path, content in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        verb = "replaced" if path in existing else "created"
        click.echo(f"{verb:>9}  {path.relative_to(project_dir)}")


def plan_controller(name: str, action_names: t.Sequence[str], project_dir: Path) -> dict[Path, str]:
    """Return the files (path -> content) for a controller, without writing."""
    check_identifier(name, "controller name")
    seen: set[str] = set()
    for action in action_names:
        check_identifier(action, "action name")
        if action in _RESERVED_ACTIONS:
            raise DigwebsCliError(
                f"'{action}' cannot be an action: the controller imports a function "
                "of that name from digwebs. Choose another name."
            )
        if action in seen:
            raise DigwebsCliError(f"Action '{action}' is given twice.")
        seen.add(action)
    if {"destroy", "delete"} <= seen:
        raise DigwebsCliError("'destroy' and 'delete' are the same route; give only one.")

    actions = build_actions(name, action_names)
    env = _environment()
    context = {
        "name": name,
        "title": _title(name),
        "actions": actions,
        "endpoints": {a.name: a.endpoint for a in actions},
        "imports": _imports(actions),
        "extends": (project_dir / "views" / "base.html").is_file(),
    }
    files = {
        project_dir / "controllers" / f"{name}.py": env.get_template("controller.py.jinja"),
        project_dir / "tests" / f"test_{name}.py": env.get_template("test.py.jinja"),
    }
    planned = {path: template.render(context) for path, template in files.items()}
    view = env.get_template("view.html.jinja")
    for planned_action in actions:
        if planned_action.template is not None:
            path = project_dir / "views" / planned_action.template
            planned[path] = view.render(context, a=planned_action)
    return planned


def build_actions(name: str, action_names: t.Sequence[str]) -> list[Action]:
    """Work out method, path, endpoint, view and test data for each action."""
    base = "/" + name.replace("_", "-")
    title = _title(name)
    names = set(action_names)
    actions = []
    for action in action_names:
        conv = CONVENTIONS.get(action) or _Convention("GET", "/" + action.replace("_", "-"), True)
        path = base + conv.path
        has_id = "<int:item_id>" in path
        endpoint = f"{name}.{action}"
        # Where a form post goes afterwards: the item, else the list, else home.
        if action == "update" and "show" in names:
            redirect_args = f'"{name}.show", item_id=item_id'
            redirect_path = base + "/1"
        elif "index" in names:
            redirect_args = f'"{name}.index"'
            redirect_path = base
        else:
            redirect_args, redirect_path = '"home.index"', "/"
        actions.append(
            Action(
                name=action,
                method=conv.method,
                path=path,
                endpoint=endpoint,
                view=conv.view,
                template=f"{name}/{action}.html" if conv.view else None,
                args=("item_id",) if has_id else (),
                example_path=path.replace("<int:item_id>", "1"),
                heading=_heading(title, action),
                redirect_args=redirect_args,
                redirect_path=redirect_path,
            )
        )
    return actions


def check_identifier(value: str, what: str) -> None:
    """Refuse names that cannot be a Python module or function name, saying why."""
    if keyword.iskeyword(value):
        raise DigwebsCliError(
            f"'{value}' is a Python keyword, so it cannot be a {what} (the {what} is "
            f"also a Python name). Choose another, for example '{value}s' or 'my_{value}'."
        )
    if not _NAME_RE.fullmatch(value):
        raise DigwebsCliError(
            f"'{value}' is not a valid {what}. Use lower-case letters, digits and '_', "
            "starting with a letter (for example 'posts')."
        )


def _title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _heading(title: str, action: str) -> str:
    return {
        "index": f"<h1>{title}</h1>",
        "show": f"<h1>{title} #1</h1>",
        "new": f"<h1>{title}: new</h1>",
        "edit": f"<h1>{title}: edit #1</h1>",
    }.get(action, f"<h1>{title}: {action.replace('_', ' ')}</h1>")


def _imports(actions: list[Action]) -> list[str]:
    names = {a.method.lower() for a in actions}
    if any(a.view for a in actions):
        names.add("view")
    if any(not a.view for a in actions):
        names |= {"redirect", "url_for"}
    return sorted(names)


def _check_static_collision(name: str, project_dir: Path) -> None:
    """Refuse a controller whose base path is where the static files are served."""
    base = "/" + name.replace("_", "-")
    for static_path in _static_url_paths(project_dir):
        prefix = static_path.rstrip("/")
        if prefix and (base == prefix or base.startswith(prefix + "/")):
            raise DigwebsCliError(
                f"'{name}' cannot be a controller: its pages would be under {base}, where "
                f"the project serves its static files ({prefix}). Choose another name."
            )


def _static_url_paths(project_dir: Path) -> set[str]:
    """The ``static_url_path`` of the project in every environment it configures."""
    paths = {"/static"}  # the runtime's default
    found = {}
    for config in sorted((project_dir / "config").glob("*.toml")):
        try:
            with config.open("rb") as f:
                value = tomllib.load(f).get("static_url_path")
        except (OSError, tomllib.TOMLDecodeError):
            continue  # digwebs routes --check and the app itself report a broken config
        if isinstance(value, str):
            found[config.stem] = value
    if "default" in found:
        paths = {found["default"]}
    paths.update(v for k, v in found.items() if k != "default")
    return paths


def _check_project(project_dir: Path) -> None:
    if not (project_dir / "controllers").is_dir():
        where = "the current folder" if project_dir == Path(".") else f"'{project_dir}'"
        raise DigwebsCliError(
            f"No 'controllers' folder in {where}: run this inside a digwebs project "
            "(one made by 'digwebs new'), or pass --project-dir."
        )


def _environment() -> jinja2.Environment:
    # Other delimiters than jinja2's defaults: the views we generate are
    # themselves jinja2 templates and must keep their {{ }} and {% %}.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(generator_template_dir("controller")),
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
