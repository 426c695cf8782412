"""The module-level decorators (digwebs.decorators): they mark a handler and return it unchanged."""

from __future__ import annotations

import digwebs


def test_decorators_return_the_function_unchanged(app):
    def fn():
        return ""

    assert app.get("/")(fn) is fn and digwebs.get("/")(fn) is fn


def test_module_level_decorators_only_mark(app):
    @digwebs.post("/b")
    @digwebs.get("/a", name="a")
    def handler():
        return ""

    assert handler.__digwebs_routes__ == [("/a", ("GET",), "a"), ("/b", ("POST",), None)]
    assert app.routes() == []
