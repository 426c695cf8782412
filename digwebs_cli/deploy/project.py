"""The project in the current folder, as the deployment files need it.

:func:`load_project` reads its name (``pyproject.toml``), its config for one
environment and its ``[server]`` settings, the way ``digwebs serve`` reads
them; :func:`check_port` is the port check of the nginx and container
commands.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing as t
from pathlib import Path

from digwebs_cli.errors import DigwebsCliError
from digwebs_cli.locator import AppLocator


@dataclasses.dataclass
class Project:
    """What the deployment files say about the project in *root*."""

    root: Path
    name: str  # a name usable for nginx upstreams and systemd units
    env: str
    config: t.Mapping[str, t.Any]
    server_port: int
    keepalive: float
    graceful_timeout: float
    workers: str

    @property
    def static_folder(self) -> Path:
        """The folder nginx serves ``/static/`` from (the app's ``<root>/static``)."""
        return self.root / "static"


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug or "site"


def _project_name(root: Path) -> str:
    try:
        with (root / "pyproject.toml").open("rb") as fh:
            name = tomllib.load(fh).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        name = None
    return _slug(name if isinstance(name, str) and name else root.name)


def load_project(env: str, locator: AppLocator | str | None = None) -> Project:
    """The project in the current folder, its config and server settings for *env*.

    Not being in a project (no ``wsgiapp.py``, no ``--app``/``DIGWEBS_APP``)
    or a config that does not load is a :class:`DigwebsCliError`.

    :param locator: the command line's app (an import string also works).
    """
    from digwebs_cli.discovery import load_env_file
    from digwebs_cli.project_config import load_project_config
    from digwebs_cli.serve_settings import resolve_settings

    if not isinstance(locator, AppLocator):
        locator = AppLocator(locator)
    root = Path.cwd().resolve()
    load_env_file(root)
    settings = resolve_settings(root, {}, {}, env, "--env", locator)
    config, _ = load_project_config(root, env)
    return Project(
        root=root,
        name=_project_name(root),
        env=env,
        config=config,
        server_port=settings.port,
        keepalive=settings.keepalive,
        graceful_timeout=settings.graceful_timeout,
        workers=settings.workers,
    )


def check_port(value: int, what: str) -> int:
    """Return *value* if it is a TCP port (1 to 65535); refuse it otherwise.

    :param what: how the message names the value (``--port``).
    """
    if not 1 <= value <= 65535:
        raise DigwebsCliError(f"{what} must be from 1 to 65535, not {value}")
    return value
