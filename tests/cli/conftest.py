"""Fixtures for the command-line tests: a runner and an isolated home."""

from __future__ import annotations

import os
import shutil
import sys
import typing as t
from pathlib import Path

import click.testing
import pytest
from _helpers import new_project

from digwebs_cli.main import cli


@pytest.fixture
def isolated_home(tmp_path_factory, monkeypatch):
    """Point HOME and cookiecutter's user paths at an empty temporary folder.

    cookiecutter expands ``~`` when it is imported, so HOME alone is not
    enough: its DEFAULT_CONFIG and USER_CONFIG_PATH are patched too
    (cookiecutter's own ``isolated_filesystem`` fixture does the same).
    """
    import cookiecutter.config

    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("COOKIECUTTER_CONFIG", raising=False)
    for name in [n for n in os.environ if n.startswith("DIGWEBS_")]:
        monkeypatch.delenv(name)
    config = cookiecutter.config
    monkeypatch.setattr(config, "USER_CONFIG_PATH", str(home / ".cookiecutterrc"))
    monkeypatch.setitem(config.DEFAULT_CONFIG, "replay_dir", str(home / ".cookiecutter_replay"))
    monkeypatch.setitem(config.DEFAULT_CONFIG, "cookiecutters_dir", str(home / ".cookiecutters"))
    return home


@pytest.fixture
def app_folder(tmp_path, monkeypatch, restore_imports):
    """Make an empty tmp_path the current folder, with no DIGWEBS_* variables.

    The whole of os.environ is restored afterwards (a command's ``.env`` file
    sets variables directly), and the cache of ``.env`` files read is cleared
    before and after. The test writes its own ``wsgiapp.py``.
    """
    from digwebs_cli import discovery

    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("DIGWEBS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    discovery.forget_env_files()
    yield tmp_path
    discovery.forget_env_files()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def runner():
    return click.testing.CliRunner()


@pytest.fixture
def invoke(runner, isolated_home) -> t.Callable[..., click.testing.Result]:
    """``invoke("new", "myblog", ...)`` runs the ``digwebs`` group in-process."""

    def invoke(*args: str, **kwargs: t.Any) -> click.testing.Result:
        return runner.invoke(cli, list(args), **kwargs)

    return invoke


@pytest.fixture
def restore_imports(tmp_path_factory):
    """Forget the modules and sys.path entries of the projects a test loaded.

    Every generated project has a ``wsgiapp`` and a ``controllers`` package;
    without this the second test would get the first test's modules. Only
    modules from temporary folders are dropped: re-importing digwebs itself
    would make new exception classes that the old app never raises.
    """

    base = str(tmp_path_factory.getbasetemp())
    path = list(sys.path)

    def from_tmp(module: object) -> bool:
        files = [getattr(module, "__file__", None) or "", *getattr(module, "__path__", [])]
        return any(str(f).startswith(base) for f in files)

    def forget() -> None:
        """Drop them now, e.g. before loading a project again in the same test."""
        for name, module in list(sys.modules.items()):
            if from_tmp(module):
                del sys.modules[name]
        sys.path[:] = path

    yield forget
    forget()


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """A project made by ``digwebs new site --no-input`` (once; copy it before changing it)."""
    base = tmp_path_factory.mktemp("generated")
    return new_project(base, base)


@pytest.fixture
def generated_copy(generated, tmp_path, monkeypatch, restore_imports) -> t.Iterator[Path]:
    """A fresh copy of :func:`generated`, the current folder, with no DIGWEBS_* variable set.

    The environment (which a command's ``.env`` may fill) is restored after.
    """
    from digwebs_cli import discovery

    root = tmp_path / "site"
    shutil.copytree(generated, root)
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("DIGWEBS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(root)
    discovery.forget_env_files()
    yield root
    discovery.forget_env_files()
    os.environ.clear()
    os.environ.update(saved)
