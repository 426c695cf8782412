"""Jinja filters that write a value as TOML or Python, as a person would.

Listed in ``_extensions`` of ``cookiecutter.json``; cookiecutter (and
``digwebs new``) import it from this folder. Jinja's ``tojson`` is made for
HTML and writes ``<``, ``>``, ``&`` and ``'`` as ``\\u003c``-style escapes,
which are valid TOML but not what anyone would type.
"""

import json

from jinja2.ext import Extension


def toml_value(value):
    """``value`` as a TOML value: strings are basic strings, escaped only where TOML must."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    # JSON's string escapes are a subset of TOML's basic-string escapes as
    # long as non-ASCII text stays literal (TOML has no surrogate pairs).
    return json.dumps(str(value), ensure_ascii=False)


def python_literal(value):
    """``value`` as a Python literal (``repr``): ``"Ada's"`` stays ``"Ada's"``."""
    return repr(value)


class TomlExtension(Extension):
    """Adds the filters ``toml`` (``name = {{ cookiecutter.title|toml }}``) and
    ``python`` (``TITLE = {{ cookiecutter.title|python }}``)."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["toml"] = toml_value
        environment.filters["python"] = python_literal
