"""Every public definition of digwebs has a docstring (issue 10, item 7).

"Public" means: a class or function whose name has no leading underscore,
defined in a module whose dotted name has no component with a leading
underscore, plus the methods, class methods, static methods and properties
(dunder-free, no leading underscore) of such a class, and nested public
classes. The module itself counts too, and so does each click command (by
its callback's docstring, which is its ``--help``). What a docstring is:

* the object's own ``__doc__``, not empty;
* for a method that overrides a method of a digwebs base class, that base
  method's docstring (an override that keeps the contract keeps the text,
  as Sphinx's autodoc and :func:`inspect.getdoc` read it). A docstring
  inherited from ``dict`` or ``collections.abc`` does not count: it
  describes the builtin, not what digwebs guarantees;
* not the signature text that :func:`dataclasses.dataclass` and
  :class:`typing.NamedTuple` write when a class has none.

Every module is checked (``NOT_YET``, the modules exempt while they were
being written, is empty); a new module is checked from the start.

Run ``python tests/test_docstrings.py`` for the count per module. When this
test was written (at db7fffa), the rule above counted 381 public definitions
in 42 modules, 76 of them without a docstring; 48 of the 230 in the modules
checked here (at 50d9cc6, where issue 10 began: 85 of 339; the issue's
"133 of 278" was counted another way).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import sys
import types
import typing as t
from pathlib import Path

import click
import pytest

if __name__ == "__main__":
    # Run as a script: count this checkout's packages, whatever is installed.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PACKAGES = ("digwebs", "digwebs_cli")

# Modules still being edited by other engineers (issue 10): their missing
# docstrings are reported by ``main()`` but do not fail the test yet.
NOT_YET: frozenset[str] = frozenset()


def public_modules() -> list[str]:
    """Return the dotted names of the public modules of :data:`PACKAGES`, sorted."""
    names: list[str] = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names.append(package_name)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.append(info.name)
    return sorted(names)


def _own_doc(obj: object) -> str | None:
    """Return the docstring written for ``obj``, or None (generated text is None)."""
    if isinstance(obj, type):
        doc = obj.__dict__.get("__doc__")
        if not isinstance(doc, str):
            return None
        # dataclass and NamedTuple write "Name(field, ...)" when there is none.
        generated = dataclasses.is_dataclass(obj) or hasattr(obj, "_fields")
        if generated and doc.startswith(obj.__name__ + "("):
            return None
    else:
        doc = getattr(obj, "__doc__", None)
    return doc if isinstance(doc, str) and doc.strip() else None


def _unwrap(member: object) -> object | None:
    """Return the documented object behind a class ``__dict__`` entry, or None."""
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    if isinstance(member, (property, types.FunctionType, type)):
        return member
    if hasattr(member, "func") and hasattr(member, "attrname"):  # cached_property
        return member
    return None


def _inherited_doc(cls: type, name: str) -> str | None:
    """Return the docstring of ``name`` on a digwebs base class of ``cls``, or None."""
    for base in cls.__mro__[1:]:
        if name in base.__dict__ and base.__module__.split(".")[0] in PACKAGES:
            target = _unwrap(base.__dict__[name])
            doc = _own_doc(target) if target is not None else None
            if doc:
                return doc
    return None


def _class_members(cls: type, qualname: str) -> t.Iterator[tuple[str, str | None]]:
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        target = _unwrap(member)
        if target is None:
            continue
        if isinstance(target, type):
            if target.__qualname__ != f"{cls.__qualname__}.{name}":
                continue  # an alias to a class defined elsewhere
            yield from _definitions_of_class(target, f"{qualname}.{name}")
            continue
        yield f"{qualname}.{name}", _own_doc(target) or _inherited_doc(cls, name)


def _definitions_of_class(cls: type, qualname: str) -> t.Iterator[tuple[str, str | None]]:
    yield qualname, _own_doc(cls)
    yield from _class_members(cls, qualname)


def public_definitions(module_name: str) -> list[tuple[str, str | None]]:
    """Return ``(dotted name, docstring or None)`` for each public definition of a module.

    The module itself comes first; then every public class and function whose
    ``__module__`` is this module (re-exports are checked where they are
    defined), with the members of each class.
    """
    module = importlib.import_module(module_name)
    found: list[tuple[str, str | None]] = [(module_name, _own_doc(module))]
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if isinstance(obj, click.Command):
            # A CLI command: its callback's docstring is its --help text.
            if getattr(obj.callback, "__module__", None) == module_name:
                found.append((f"{module_name}.{name}", _own_doc(obj.callback)))
            continue
        if getattr(obj, "__module__", None) != module_name:
            continue
        if isinstance(obj, type):
            if obj.__qualname__ == name:
                found.extend(_definitions_of_class(obj, f"{module_name}.{name}"))
        elif isinstance(obj, types.FunctionType):
            found.append((f"{module_name}.{name}", _own_doc(obj)))
    return found


@pytest.mark.parametrize("module_name", [m for m in public_modules() if m not in NOT_YET])
def test_public_definitions_have_docstrings(module_name: str) -> None:
    missing = [name for name, doc in public_definitions(module_name) if doc is None]
    assert not missing, (
        f"{len(missing)} public definitions without a docstring (write one; a module"
        " another engineer is still writing may go in NOT_YET meanwhile):\n" + "\n".join(missing)
    )


def _summary_is_one_line(doc: str) -> bool:
    lines = inspect.cleandoc(doc).splitlines()
    return len(lines) == 1 or not lines[1].strip()


@pytest.mark.parametrize("module_name", [m for m in public_modules() if m not in NOT_YET])
def test_a_docstring_opens_with_a_one_line_summary(module_name: str) -> None:
    # Pallets' style: one summary line, then a blank line, then the details.
    long = [
        name
        for name, doc in public_definitions(module_name)
        if doc is not None and not _summary_is_one_line(doc)
    ]
    assert not long, "summary lines that run on:\n" + "\n".join(long)


def test_not_yet_lists_only_existing_modules() -> None:
    # A module renamed or removed must leave NOT_YET too, or it is never checked.
    assert NOT_YET <= set(public_modules())


def test_walker_sees_what_it_must() -> None:
    found = dict(public_definitions("digwebs.local"))
    assert all(found.values())
    assert "digwebs.local" in found  # the module itself
    assert "digwebs.local.LocalProxy" in found  # a class
    assert "digwebs.local.LocalStack.push" in found  # a method
    assert "digwebs.local.LocalStack.top" in found  # a property
    assert "digwebs_cli.routes.routes_command" in dict(public_definitions("digwebs_cli.routes"))
    assert not any(".__" in name or "._" in name for name in found)


def test_walker_rejects_generated_and_builtin_docs() -> None:
    @dataclasses.dataclass
    class Bare:
        x: int

    class Keys(dict[str, int]):
        def get(self, key: str, default: int = 0) -> int:  # type: ignore[override]
            return super().get(key, default)

    assert _own_doc(Bare) is None
    assert _inherited_doc(Keys, "get") is None
    assert dict(_class_members(Keys, "Keys")) == {"Keys.get": None}
    assert not _summary_is_one_line("Two\n    lines.\n\n    Details.")
    assert _summary_is_one_line("One line.\n\n    Details.")


def main() -> int:
    """Print, per module, the public definitions and how many have no docstring."""
    total = undocumented = 0
    for module_name in public_modules():
        found = public_definitions(module_name)
        missing = [name for name, doc in found if doc is None]
        total += len(found)
        undocumented += len(missing)
        mark = " (not yet checked)" if module_name in NOT_YET else ""
        print(f"{module_name}: {len(found)} public, {len(missing)} without{mark}")
        for name in missing:
            print(f"    {name}")
    print(f"total: {total} public definitions, {undocumented} without a docstring")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
