"""The tests mirror the runtime (issue 10): ``digwebs/a/b.py`` is tested in ``tests/a/test_b.py``.

A reader looking for the tests of a module finds them by its path, and a
test module's name says which module it tests. A second test module for one
module is named after it too: ``test_<name>_<aspect>.py``
(``test_local_operators.py``, ``test_urls_external.py``). The two short lists
below name what does not follow the rule, and say why; a later change that
makes an entry unnecessary must remove it (the last test checks).

The test folders have no ``__init__.py``: pytest's default ``prepend`` import
mode imports each test module by its file name, which is why no two test
modules may share one (``tests/wrappers/test_request.py`` beside a
``tests/cli/test_request.py`` would need packages or ``--import-mode=importlib``).
"""

from __future__ import annotations

import collections
from pathlib import Path

import digwebs

TESTS = Path(__file__).resolve().parent
RUNTIME = Path(digwebs.__file__).resolve().parent

# Modules of digwebs whose tests are not at the mirrored path: the module, and where they are.
COVERED_ELSEWHERE = {
    # A package's __init__ only re-exports (test_public_names checks the names) or documents.
    "__init__": "test_public_names.py (the exports) and test_version.py (__version__)",
    "routing/__init__": "test_public_names.py (digwebs.routing's names)",
    "wrappers/__init__": "nothing to test: a docstring, it imports nothing",
}

# Top-level test modules named after no one module: what each covers instead.
ACROSS_MODULES = {
    "test_docs_examples": "the documentation's code blocks run",
    "test_docstrings": "every public definition has a docstring",
    "test_layout": "this file: the tests mirror the runtime",
    "test_names": "renamed public names keep working, exceptions are exported",
    "test_public_names": "every public name stays importable where it was",
    "test_version": "the version is read from the package metadata",
    "test_response_flow": "what reaches the client through app, chains and results",
}

# Folders under tests/ that are not the runtime's.
NOT_RUNTIME = {
    "apps": "project folders the CLI and end-to-end tests serve",
    "cli": "digwebs_cli's tests",
    "e2e": "end-to-end tests: real servers, browsers, nginx",
}


def runtime_modules() -> list[str]:
    """Every module of digwebs as its path below the package, without ``.py``."""
    return sorted(p.relative_to(RUNTIME).with_suffix("").as_posix() for p in RUNTIME.rglob("*.py"))


def mirrored(module: str) -> Path:
    """The test module that tests ``module``: ``routing/tree`` -> ``tests/routing/test_tree.py``."""
    folder, _, name = module.rpartition("/")
    return TESTS / folder / f"test_{name}.py"


def runtime_test_modules() -> list[Path]:
    """The test modules of the runtime: tests/ and its folders, without NOT_RUNTIME."""
    found = []
    for path in sorted(TESTS.rglob("test_*.py")):
        parts = path.relative_to(TESTS).parts
        if parts[0] not in NOT_RUNTIME:
            found.append(path)
    return found


def named_after_a_module(path: Path) -> bool:
    """Whether ``test_<name>[_<aspect>].py`` names a module of the same folder of digwebs."""
    folder = RUNTIME / path.parent.relative_to(TESTS)
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    name = path.stem.removeprefix("test_")
    return any(name == module or name.startswith(module + "_") for module in modules)


def test_every_module_has_a_test_module_at_its_mirrored_path() -> None:
    missing = [
        f"digwebs/{module}.py: no {mirrored(module).relative_to(TESTS.parent)}"
        for module in runtime_modules()
        if module not in COVERED_ELSEWHERE and not mirrored(module).is_file()
    ]
    assert not missing, "\n".join(missing)


def test_every_test_folder_mirrors_a_package_of_digwebs() -> None:
    folders = [p for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))]
    strays = [
        f"tests/{p.name}/: digwebs has no package {p.name}"
        for p in folders
        if p.name not in NOT_RUNTIME and not (RUNTIME / p.name / "__init__.py").is_file()
    ]
    assert not strays, "\n".join(strays)


def test_every_test_module_is_named_after_a_module_it_tests() -> None:
    # Among them, a test module named after a module that no longer exists
    # (test_middleware.py once chains.py took its place), and one named after
    # a package, whose tests live in its folder (tests/routing/).
    strays = [
        str(path.relative_to(TESTS.parent))
        for path in runtime_test_modules()
        if not named_after_a_module(path)
        and not (path.parent == TESTS and path.stem in ACROSS_MODULES)
    ]
    assert not strays, "\n".join(strays)


def test_no_two_test_modules_share_a_file_name() -> None:
    by_name: dict[str, list[str]] = collections.defaultdict(list)
    for path in sorted(TESTS.rglob("test_*.py")):
        by_name[path.name].append(str(path.relative_to(TESTS.parent)))
    shared = [", ".join(paths) for paths in by_name.values() if len(paths) > 1]
    assert not shared, "\n".join(shared)


def test_every_exception_is_still_needed() -> None:
    modules = runtime_modules()
    stale = [
        f"COVERED_ELSEWHERE[{m!r}]: no such module" for m in COVERED_ELSEWHERE if m not in modules
    ]
    stale += [
        f"COVERED_ELSEWHERE[{m!r}]: {mirrored(m).relative_to(TESTS.parent)} exists now"
        for m in COVERED_ELSEWHERE
        if mirrored(m).is_file()
    ]
    for stem in ACROSS_MODULES:
        path = TESTS / f"{stem}.py"
        if not path.is_file():
            stale.append(f"ACROSS_MODULES[{stem!r}]: no tests/{stem}.py")
        elif named_after_a_module(path):
            stale.append(f"ACROSS_MODULES[{stem!r}]: it is named after a module")
    assert not stale, "\n".join(stale)
