"""Converters: how one path parameter is matched, turned into a value, and written back.

A :class:`Converter` is what a ``<conv:name>`` in a rule names; the router
asks it for a value while matching and ``url_for`` asks it for text while
building. The quoting rules URL building shares with :mod:`.rules` live here
too, beside the converters that apply them.
"""

from __future__ import annotations

import math
import re
import typing as t
import uuid
from decimal import Decimal
from urllib.parse import quote

__all__ = [
    "Converter",
    "StringConverter",
    "IntConverter",
    "FloatConverter",
    "UUIDConverter",
    "PathConverter",
    "DEFAULT_CONVERTERS",
]

# What URL building leaves unquoted, as werkzeug does: the characters a path
# segment may hold as they are (https://url.spec.whatwg.org/#url-path-segment-string).
# A "/" in a parameter's value is quoted except for <path:...>, so that the
# URL keeps the segments of its rule.
_SEGMENT_SAFE = "!$&'()*+,:;=@"
_PATH_SAFE = _SEGMENT_SAFE + "/"
# ... and in the query (https://url.spec.whatwg.org/#percent-encoded-bytes).
_QUERY_SAFE = "!$'()*,/:;?@"


class Converter:
    """Turns one path segment into a Python value and back.

    ``to_python`` raises :class:`ValueError` for a segment it does not accept;
    the router then treats the rule as not matching and tries the next
    alternative (a 404 if there is none, never a 500). ``to_url`` raises
    :class:`ValueError` for a value it cannot write; ``url_for`` then raises
    :class:`BuildError`. ``weight`` orders dynamic alternatives: lower is
    tried first. ``regex`` is what the converter matches where a segment
    holds more than the parameter (``<name>.json``) or after a
    ``<path:...>``; alone in its segment only ``to_python`` decides.

    :param args: the arguments a rule gives in ``<conv(a, b):name>``, as
        stripped strings (none for ``<conv:name>``).
    """

    regex = r"[^/]+"
    weight = 100
    # A converter that may span several segments (only ``path``).
    greedy = False

    def __init__(self, *args: str) -> None:
        self.args = args

    def to_python(self, value: str) -> t.Any:
        """Return the Python value of the matched text; :class:`ValueError` if it has none."""
        return value

    def to_url(self, value: t.Any) -> str:
        """Return ``value`` as percent-encoded path text; :class:`ValueError` if it cannot be."""
        return quote(str(value), safe=_SEGMENT_SAFE)

    @property
    def shape(self) -> str:
        """A key equal for converters that match the same texts (their rules share tree nodes)."""
        return f"{type(self).__name__}{self.args}"


class StringConverter(Converter):
    """Any non-empty text without a slash (the default)."""

    def to_python(self, value: str) -> str:
        if not value:
            raise ValueError("empty segment")
        return value


class IntConverter(Converter):
    """Non-negative decimal integers written with ASCII digits.

    A number of more digits than Python converts (``sys.get_int_max_str_digits``,
    4300 by default) is not matched. ``url_for`` refuses negative values.
    """

    regex = r"[0-9]+"
    weight = 50

    def to_python(self, value: str) -> int:
        # isdigit alone would accept '²' or Arabic-Indic digits; int() raises
        # ValueError past the digit limit, which is a non-match too.
        if value.isascii() and value.isdigit():
            return int(value)
        raise ValueError(value)

    def to_url(self, value: t.Any) -> str:
        number = int(value)
        if number < 0:
            raise ValueError(f"{value!r} is negative")
        return str(number)


class FloatConverter(Converter):
    """Non-negative finite decimals such as ``1.5`` (digits, one dot, digits).

    URLs are built in that same form, never in scientific notation:
    ``0.00001`` gives ``0.00001``, ``1e16`` gives ``10000000000000000.0``,
    with the fewest digits that read back as the same float. Negative and
    non-finite values cannot be built; a number too large for a float
    (``9...9.5`` with 400 digits) does not match.
    """

    regex = r"[0-9]+\.[0-9]+"
    weight = 60

    def to_python(self, value: str) -> float:
        whole, dot, frac = value.partition(".")
        if dot and whole.isascii() and whole.isdigit() and frac.isascii() and frac.isdigit():
            number = float(value)
            if number != math.inf:
                return number
        raise ValueError(value)

    def to_url(self, value: t.Any) -> str:
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{value!r} is not a finite non-negative number")
        # repr gives the shortest digits that read back as the same float;
        # Decimal writes them out without an exponent.
        text = format(Decimal(repr(number + 0.0)), "f")  # + 0.0: -0.0 is 0.0
        return text if "." in text else text + ".0"


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class UUIDConverter(Converter):
    """A UUID in its canonical hyphenated form (either case)."""

    regex = _UUID.pattern
    weight = 40

    def to_python(self, value: str) -> uuid.UUID:
        # uuid.UUID alone takes braces, "urn:uuid:" and underscores too.
        if _UUID.fullmatch(value) is None:
            raise ValueError(value)
        return uuid.UUID(value)

    def to_url(self, value: t.Any) -> str:
        if isinstance(value, uuid.UUID):
            return str(value)
        text = str(value)
        if _UUID.fullmatch(text) is None:
            raise ValueError(f"{value!r} is not a UUID")
        return text


class PathConverter(Converter):
    """The rest of the path, slashes included: at least one character, not ``/`` first.

    A rule's ``<path:...>`` and everything after it match the rest of the
    path as one regular expression, the path taking as little as it can
    (werkzeug's ``[^/].*?``): ``/<path:p>/<path:q>`` gives ``p`` one segment.
    """

    regex = r"[^/].*?"
    weight = 200
    greedy = True

    def to_python(self, value: str) -> str:
        if not value:
            raise ValueError("empty path")
        return value

    def to_url(self, value: t.Any) -> str:
        return quote(str(value), safe=_PATH_SAFE)


# The converter names every router knows; ``Router.converters`` starts as a copy.
DEFAULT_CONVERTERS: dict[str, type[Converter]] = {
    "default": StringConverter,
    "string": StringConverter,
    "str": StringConverter,
    "int": IntConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
    "path": PathConverter,
}
