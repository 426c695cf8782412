"""Find the templates that ship with digwebs.

The cookiecutter project template lives in the top-level ``templates/``
folder of the source tree. The wheel maps it to ``digwebs_cli/templates``
(hatchling ``force-include`` in ``pyproject.toml``), so an installed digwebs
finds it next to this module and a source checkout finds it one level up.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from .errors import DigwebsCliError

_HERE = Path(__file__).resolve().parent

# Installed wheel first, then a source checkout (editable install or tests).
_CANDIDATES = (_HERE / "templates", _HERE.parent / "templates")


def bundled_template_dir() -> Path:
    """Return the folder of the bundled cookiecutter project template."""
    for candidate in _CANDIDATES:
        if (candidate / "cookiecutter.json").is_file():
            return candidate
    raise DigwebsCliError(
        "The project template that ships with digwebs is missing (looked in "
        + " and ".join(f"'{c}'" for c in _CANDIDATES)
        + "). Reinstall digwebs."
    )


def generator_template_dir(kind: str) -> Path:
    """Return the folder of the ``digwebs generate KIND`` templates."""
    folder = bundled_template_dir() / "generators" / kind
    if not folder.is_dir():
        raise DigwebsCliError(
            f"The '{kind}' generator templates are missing from '{folder}'. Reinstall digwebs."
        )
    return folder


def digwebs_version() -> str:
    """Return the version of digwebs, installed or checked out."""
    try:
        return importlib.metadata.version("digwebs")
    except importlib.metadata.PackageNotFoundError:
        pass
    # Running from a source tree that was never installed (for example with
    # PYTHONPATH pointing at it): the version is in its pyproject.toml.
    pyproject = _HERE.parent / "pyproject.toml"
    try:
        with pyproject.open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0.0.0"
