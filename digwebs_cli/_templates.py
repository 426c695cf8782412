"""Find the templates that ship with digwebs.

The cookiecutter project template lives in the top-level ``templates/``
folder of the source tree. The wheel maps it to ``digwebs_cli/templates``
(hatchling ``force-include`` in ``pyproject.toml``), so an installed digwebs
finds it next to this module and a source checkout finds it one level up.
"""

from __future__ import annotations

import importlib.metadata
import json
import tomllib
import urllib.parse
import urllib.request
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


def digwebs_source() -> str | None:
    """Return what to give ``pip install`` to get this digwebs on another venv.

    digwebs is not on the public package index (an unrelated project holds
    the name there), so a generated project's README must say where to
    install it from. The answer is where the running digwebs came from:

    - installed from a wheel, a folder or a git URL: that path or URL, as
      pip recorded it (``direct_url.json``, PEP 610);
    - not installed (a checkout on ``PYTHONPATH``): the checkout's folder;
    - installed from a package index: None, the index has it.
    """
    checkout = _HERE.parent
    try:
        dist = importlib.metadata.distribution("digwebs")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None and _is_running_code(dist):
        direct_url = dist.read_text("direct_url.json")
        if direct_url is None:
            return None  # from an index
        return source_from_direct_url(direct_url)
    if _is_digwebs_checkout(checkout):
        return str(checkout)
    return None


def source_from_direct_url(text: str) -> str | None:
    """Turn a PEP 610 ``direct_url.json`` into an argument for ``pip install``."""
    try:
        data = json.loads(text)
        url = str(data["url"])
    except (ValueError, KeyError, TypeError):
        return None
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs"):
        commit = vcs.get("commit_id") or vcs.get("requested_revision")
        return f"{vcs['vcs']}+{url}" + (f"@{commit}" if commit else "")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "file":
        return urllib.request.url2pathname(parsed.path)
    return url


def _is_running_code(dist: importlib.metadata.Distribution) -> bool:
    """Whether ``dist`` is the digwebs whose code is running now.

    A checkout on ``PYTHONPATH`` may run while another digwebs (or the
    unrelated project of that name) is installed in the environment.
    """
    direct_url = dist.read_text("direct_url.json")
    if direct_url is not None:
        source = source_from_direct_url(direct_url)
        if source is not None and Path(source).is_dir():  # editable or folder install
            if Path(source).resolve() == _HERE.parent:
                return True
    here = _HERE / "__init__.py"
    for file in dist.files or ():
        if str(file).replace("\\", "/") == "digwebs_cli/__init__.py":
            return Path(str(dist.locate_file(file))).resolve() == here
    return False


def _is_digwebs_checkout(folder: Path) -> bool:
    try:
        with (folder / "pyproject.toml").open("rb") as f:
            return bool(tomllib.load(f)["project"]["name"] == "digwebs")
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        return False
