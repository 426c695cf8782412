"""``digwebs deploy container``'s files: a Containerfile and its ``.containerignore``.

:func:`containerfile` writes a slim-Python image that runs ``digwebs serve``
as a non-root user; :data:`CONTAINERIGNORE` is what stays out of the image.
"""

from __future__ import annotations

import re

from digwebs_cli.deploy.project import Project
from digwebs_cli.errors import DigwebsCliError

CONTAINERIGNORE = """\
# Kept out of the image (made by `digwebs deploy container --ignore-file`)
.git
.venv
venv
.env
__pycache__
*.pyc
.pytest_cache
.mypy_cache
.ruff_cache
node_modules
build
dist
*.egg-info
Containerfile
Dockerfile
.containerignore
.dockerignore
"""


def containerfile(project: Project, port: int, python: str) -> str:
    """A Containerfile for *project*: slim Python, a non-root user, ``digwebs serve``."""
    if not re.fullmatch(r"\d+\.\d+", python):
        raise DigwebsCliError(f"--python must be a version like 3.12, not {python!r}")
    healthcheck = (
        "import http.client as h; c = h.HTTPConnection('127.0.0.1', "
        f"{port}, timeout=3); c.request('GET', '/'); c.getresponse()"
    )
    cmd = ["digwebs", "serve", "--env", project.env, "--host", "0.0.0.0", "--port", str(port)]
    out = [
        f"# The {project.name!r} site in a container (made by `digwebs deploy container`).",
        "#   podman build -t NAME -f Containerfile .     (or docker build)",
        f"#   podman run -p {port}:{port} -e DIGWEBS_SECRET_KEY=... NAME",
        "# digwebs is not on the public package index: put a digwebs wheel in wheels/",
        "# first (pip wheel --no-deps -w wheels /path/to/digwebs); the build needs it.",
        "# Behind a proxy (nginx, a load balancer), set DIGWEBS_TRUSTED_PROXIES to its",
        "# address or network, e.g. -e DIGWEBS_TRUSTED_PROXIES='[\"10.0.0.0/8\"]'.",
        f"FROM docker.io/library/python:{python}-slim",
        "",
        "ENV PYTHONDONTWRITEBYTECODE=1 \\",
        "    PYTHONUNBUFFERED=1 \\",
        "    PIP_NO_CACHE_DIR=1 \\",
        "    PIP_DISABLE_PIP_VERSION_CHECK=1 \\",
        f"    DIGWEBS_ENV={project.env}",
        "",
        "# an unprivileged user owns nothing but its home: the code is read-only to it",
        "RUN useradd --create-home --uid 10001 --user-group app",
        "WORKDIR /srv/app",
        "",
        "# dependencies first, so a code change does not reinstall them",
        "COPY pyproject.toml README.md ./",
        "COPY wheels/ ./wheels/",
        'RUN pip install --find-links ./wheels ".[production]"',
        "COPY . .",
        "",
        "USER app",
        f"EXPOSE {port}",
        "# alive when it answers at all (a 400 for the Host 127.0.0.1 counts)",
        "HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\",
        f"    CMD {_json_list(['python', '-c', healthcheck])}",
        f"CMD {_json_list(cmd)}",
    ]
    return "\n".join(out) + "\n"


def _json_list(items: list[str]) -> str:
    import json

    return json.dumps(items)
