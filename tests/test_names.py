"""Renamed public names keep working, and exceptions are exported (issue 10, item 6)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

import digwebs.errors
from digwebs.errors import HttpError, HttpNotImplemented, abort

# Old name -> (module, new name). Each still imports, with a DeprecationWarning.
RENAMED = {
    "NotImplementedHttp": ("digwebs.errors", "HttpNotImplemented"),
}

# Modules (of this engineer's files) whose exception classes must all be in
# ``__all__``; the other modules follow when their owners add them.
EXPORTING_MODULES = (
    "digwebs.errors",
    "digwebs.routing",
    "digwebs.routing.rules",
    "digwebs.testing",
)


@pytest.mark.parametrize("old", sorted(RENAMED))
def test_a_renamed_name_still_imports_with_a_warning(old: str) -> None:
    module_name, new = RENAMED[old]
    module = importlib.import_module(module_name)
    with pytest.warns(DeprecationWarning, match=f"'{new}'") as record:
        value = getattr(module, old)
    assert value is getattr(module, new)
    # stacklevel points at the caller, so the warning names the user's line.
    assert record[0].filename == __file__


def test_the_old_error_name_works_with_from_import() -> None:
    with pytest.warns(DeprecationWarning, match="HttpNotImplemented"):
        from digwebs.errors import NotImplementedHttp  # noqa: F401
    with pytest.raises(HttpNotImplemented):
        abort(501)


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="NoSuchError"):
            digwebs.errors.NoSuchError  # noqa: B018
        with pytest.raises(ImportError):
            from digwebs.errors import NoSuchError  # noqa: F401


def test_importing_the_module_and_star_import_do_not_warn() -> None:
    # A module __getattr__ must not be reached by the normal import paths.
    code = (
        "import warnings; warnings.simplefilter('error');"
        "import digwebs, digwebs.errors; from digwebs.errors import *;"
        "assert 'NotImplementedHttp' not in dir()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_501_error_says_what_it_is() -> None:
    error = HttpNotImplemented()
    assert (error.code, error.name) == (501, "Not Implemented")
    assert issubclass(HttpNotImplemented, HttpError)
    assert not issubclass(HttpNotImplemented, NotImplementedError)


@pytest.mark.parametrize("module_name", EXPORTING_MODULES)
def test_every_exception_class_is_in_all(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exceptions = {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and isinstance(obj, type)
        and issubclass(obj, BaseException)
        and obj.__module__.startswith("digwebs")
    }
    assert exceptions, module_name
    assert exceptions - set(module.__all__) == set()


def test_every_code_abort_knows_has_an_exported_class() -> None:
    by_code = digwebs.errors._BY_CODE
    assert {cls.__name__ for cls in by_code.values()} <= set(digwebs.errors.__all__)
    for code, cls in by_code.items():
        with pytest.raises(cls):
            abort(code)
