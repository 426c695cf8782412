"""Plain helpers that several test modules share (the shared fixtures are in conftest.py).

Imported as ``_helpers``: pytest puts ``tests/`` on ``sys.path`` when it
loads ``tests/conftest.py`` (its default ``prepend`` import mode), for the
modules in the folders below too.
"""

from __future__ import annotations

import typing as t

from digwebs.routing import Router, Rule

# -- routing --------------------------------------------------------------------------------

UUID_TEXT = "12345678-1234-5678-1234-567812345678"


def echo_params(**params: t.Any) -> dict[str, list[str]]:
    """A handler that answers its parameters: name -> [type name, str(value)]."""
    return {k: [type(v).__name__, str(v)] for k, v in params.items()}


def compiled_and_walk(*rules: tuple[str, tuple[str, ...]]) -> tuple[Router, t.Any]:
    """A router of ``(path, methods)`` rules, and its compiled lookup."""
    router = Router()
    for path, methods in rules:
        router.add(Rule(path, path, methods, path))
    return router, router.compile()
