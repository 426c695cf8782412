"""The version is written once, in pyproject.toml, and read from the metadata."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import digwebs
from digwebs_cli._templates import digwebs_version

REPO = Path(__file__).resolve().parents[1]


def test_every_reader_gives_the_pyproject_version():
    with (REPO / "pyproject.toml").open("rb") as f:
        declared = tomllib.load(f)["project"]["version"]
    assert digwebs.__version__ == declared
    assert importlib.metadata.version("digwebs") == declared
    assert digwebs_version() == declared


def test_no_source_file_writes_a_version():
    # A version literal anywhere in the packages would be a second place to
    # bump (the one before issue 10: __version__ = "0.1.0" in __init__.py).
    literal = re.compile(r"""__version__\s*=|version\s*=\s*["']\d""")
    written = [
        str(p.relative_to(REPO))
        for package in ("digwebs", "digwebs_cli")
        for p in (REPO / package).rglob("*.py")
        if literal.search(p.read_text())
    ]
    assert written == []
