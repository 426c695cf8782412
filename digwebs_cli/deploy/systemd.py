"""``digwebs deploy systemd``'s file: a template unit, one ``digwebs serve`` per port.

:func:`systemd_unit` writes ``<name>@.service`` (``myblog@8001``), reloaded
gracefully on HUP and hardened; the paths in it are refused when a unit
file would read them differently.
"""

from __future__ import annotations

import pwd
import re
import sys
from pathlib import Path

from digwebs_cli.deploy.project import Project
from digwebs_cli.errors import DigwebsCliError


def _owner(path: Path) -> str:
    try:
        return pwd.getpwuid(path.stat().st_uid).pw_name
    except (KeyError, OSError):
        return "root"


def _default_venv(root: Path) -> Path:
    """The project's ``.venv`` if it has one, else the environment running digwebs now."""
    if (root / ".venv" / "bin" / "python").exists():
        return root / ".venv"
    return Path(sys.prefix)


_SYSTEMD_UNSAFE = re.compile(r'[\s"\'\\%$;\x00-\x1f\x7f]')


def _systemd_path(path: Path, what: str) -> str:
    text = str(path)
    if _SYSTEMD_UNSAFE.search(text):
        raise DigwebsCliError(
            f"{what} {text!r} holds a space, quote, %, $ or another character a "
            "unit file would read differently: use a plain path"
        )
    return text


def systemd_unit(
    project: Project, user: str | None, venv: Path | None, environment_file: Path | None
) -> str:
    """A template unit ``<name>@.service``: one ``digwebs serve`` per port (the instance)."""
    root = project.root
    venv = (venv or _default_venv(root)).absolute()
    digwebs = venv / "bin" / "digwebs"
    user = user or _owner(root)
    env_file = environment_file or Path("/etc") / project.name / "env"
    stop = int(project.graceful_timeout) + 10
    name = project.name
    out = [
        f"# {name}@.service: one `digwebs serve` of {name!r} per port (made by",
        "# `digwebs deploy systemd`). Install and start two instances:",
        f"#   sudo cp {name}@.service /etc/systemd/system/",
        "#   sudo systemctl daemon-reload",
        f"#   sudo systemctl enable --now {name}@8001 {name}@8002",
        f"# Rolling restart: `systemctl reload {name}@8001` (graceful: new workers,",
        "# then the old ones finish their requests), or restart one port at a time.",
        "# Secrets (DIGWEBS_SECRET_KEY=...) go in the EnvironmentFile, mode 0600.",
    ]
    if user == "root":
        out.append("# NOTE: this runs as root: pass --user to pick an unprivileged account.")
    out += [
        "",
        "[Unit]",
        f"Description={name} (digwebs serve, port %i)",
        "After=network.target",
        "",
        "[Service]",
        # gunicorn tells systemd when it is ready (sd_notify), so a restart of
        # the next instance waits until this one accepts connections
        "Type=notify",
        "NotifyAccess=main",
        f"User={user}",
        f"WorkingDirectory={_systemd_path(root, 'the project folder')}",
        f"Environment=DIGWEBS_ENV={project.env}",
        "Environment=PYTHONUNBUFFERED=1",
        f"EnvironmentFile=-{_systemd_path(env_file, '--environment-file')}",
        f"ExecStart={_systemd_path(digwebs, 'the digwebs command')} serve "
        f"--env {project.env} --port %i",
        "ExecReload=/bin/kill -HUP $MAINPID",
        # SIGTERM: gunicorn's graceful stop (requests in flight finish)
        "KillMode=mixed",
        f"TimeoutStopSec={stop}",
        "Restart=on-failure",
        "RestartSec=1",
        "",
        "# Hardening: the app reads its folder and writes nothing but /tmp",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "LockPersonality=yes",
        "SystemCallArchitectures=native",
        "CapabilityBoundingSet=",
        "# A folder the app writes to (uploads, a SQLite database) needs a line:",
        f"# ReadWritePaths={root}/var",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(out) + "\n"
