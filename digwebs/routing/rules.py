"""Rules: one URL pattern parsed into the steps the tree stores, and built back into URLs.

:class:`Rule` parses ``/users/<int:id>`` once, at registration, into static
text and :class:`~.tree._DynamicStep` steps (what matching needs) and into
the parts :meth:`Rule.build` joins (what ``url_for`` needs).
"""

from __future__ import annotations

import re
import typing as t
from urllib.parse import quote, urlencode

from .converters import _PATH_SAFE, _QUERY_SAFE, DEFAULT_CONVERTERS, Converter
from .tree import _DynamicStep, _Piece

__all__ = ["BuildError", "Rule", "method_names"]

# <name>, <int:name>, <conv(arg):name>
_PARAM = re.compile(r"<(?:(?P<conv>[a-zA-Z_]\w*)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[a-zA-Z_]\w*)>")
_SHORTHAND = re.compile(r"^:([a-zA-Z_]\w*)$")


class BuildError(LookupError):
    """``url_for`` could not build a URL (unknown name, missing or unfit value)."""


class Rule:
    """One URL pattern bound to an endpoint for a set of methods.

    ``methods`` is a list (any iterable but a string) of method names; a
    GET rule answers HEAD too unless a rule claims HEAD itself.
    """

    def __init__(
        self,
        path: str,
        endpoint: t.Any,
        methods: t.Iterable[str] = ("GET",),
        name: str | None = None,
        converters: t.Mapping[str, type[Converter]] | None = None,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError(f"route path {path!r} must start with '/'")
        self.endpoint = endpoint
        self.methods = frozenset(method_names(methods))
        if not self.methods:
            raise ValueError(f"route {path!r} has no methods")
        self.name = name
        # Parameter names in path order (a tuple: matching zips values onto it).
        self.arg_names: tuple[str, ...] = ()
        # Parsed steps: str for static segments, _DynamicStep for dynamic ones.
        self.segments: list[str | _DynamicStep] = []
        # What build() joins: quoted static text, or (name, converter).
        self._build_parts: list[str | tuple[str, Converter]] = []
        self.path = self._parse(path, {**DEFAULT_CONVERTERS, **(converters or {})})
        self.is_static = all(isinstance(s, str) for s in self.segments)
        # What runs for a request (its chain, its lane) is the application's:
        # digwebs.app.Route, the subclass it registers, holds it.

    def _parse(self, path: str, converters: t.Mapping[str, type[Converter]]) -> str:
        normalised = []
        names: list[str] = []
        parsed: list[list[_Piece]] = []
        for raw in path.split("/")[1:]:
            short = _SHORTHAND.match(raw)
            if short:
                raw = f"<{short.group(1)}>"
            normalised.append(raw)
            pieces: list[_Piece] = []
            pos = 0
            for m in _PARAM.finditer(raw):
                if m.start() > pos:
                    pieces.append(raw[pos : m.start()])
                conv_name = m.group("conv") or "default"
                conv_cls = converters.get(conv_name)
                if conv_cls is None:
                    raise ValueError(f"unknown converter {conv_name!r} in route {path!r}")
                args = [a.strip() for a in (m.group("args") or "").split(",") if a.strip()]
                name = m.group("name")
                if name in names:
                    raise ValueError(f"parameter {name!r} appears twice in route {path!r}")
                names.append(name)
                pieces.append((name, conv_cls(*args)))
                pos = m.end()
            if pos < len(raw):
                pieces.append(raw[pos:])
            text = "".join(p for p in pieces if isinstance(p, str))
            if "<" in text or ">" in text:
                raise ValueError(f"malformed parameter in route {path!r}")
            if any(not isinstance(p, str) and p[1].greedy for p in pieces) and len(pieces) > 1:
                raise ValueError("a <path:...> parameter must be a whole path segment")
            parsed.append(pieces)
            # Static text is quoted once, here (non-ASCII text included).
            self._build_parts.append("/")
            self._build_parts += [
                quote(p, safe=_PATH_SAFE) if isinstance(p, str) else p for p in pieces
            ]
        self.arg_names = tuple(names)
        for j, pieces in enumerate(parsed):
            if len(pieces) == 1 and not isinstance(pieces[0], str) and pieces[0][1].greedy:
                # The path parameter and all after it: one step.
                rest = parsed[j:]
                suffixed = len(rest) > 1 and rest[-1] == []
                self.segments.append(_DynamicStep(rest, greedy=True, suffixed=suffixed))
                if suffixed:
                    self.segments.append("")
                break
            if all(isinstance(p, str) for p in pieces):
                self.segments.append("".join(t.cast(list[str], pieces)))
            else:
                self.segments.append(_DynamicStep([pieces]))
        return "/" + "/".join(normalised)

    def build(self, values: t.Mapping[str, t.Any], /) -> str:
        """Return this rule's path filled with ``values``; the others become the query.

        Static text and values are percent-encoded as UTF-8 (``/`` too in a
        value, except for ``<path:...>``). Query values that are lists,
        tuples or sets give one ``key=value`` each; ``None`` is left out,
        alone or in a list, as werkzeug does. Raises :class:`BuildError` for
        a missing parameter or one its converter cannot write.
        """
        out = []
        for part in self._build_parts:
            if isinstance(part, str):
                out.append(part)
                continue
            name, conv = part
            value = values.get(name)
            if value is None:
                raise BuildError(
                    f"cannot build URL for {self.name!r}: missing value for {name!r} "
                    f"(rule {self.path!r} needs {', '.join(self.arg_names)})"
                )
            try:
                out.append(conv.to_url(value))
            except ValueError as exc:
                raise BuildError(
                    f"cannot build URL for {self.name!r}: {name!r} cannot be {value!r} "
                    f"in rule {self.path!r} ({exc})"
                ) from None
        url = "".join(out)
        query = _query(values, self.arg_names)
        return f"{url}?{query}" if query else url

    def __repr__(self) -> str:
        return f"<Rule {'|'.join(sorted(self.methods))} {self.path} -> {self.name}>"


def method_names(methods: t.Iterable[str]) -> tuple[str, ...]:
    """``methods`` upper-cased, in order; :class:`TypeError` for a string or a non-str name.

    A string is refused because iterating it would register ``G``, ``E``
    and ``T`` for ``"GET"``.
    """
    if isinstance(methods, (str, bytes)):
        raise TypeError("methods must be a list of method names, not a string")
    names = tuple(methods)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"method names must be strings, not {name!r}")
    return tuple(name.upper() for name in names)


def _query(values: t.Mapping[str, t.Any], skip: tuple[str, ...]) -> str:
    """The query string of the values not in ``skip``, werkzeug's way."""
    items: list[tuple[str, t.Any]] = []
    for key, value in values.items():
        if value is None or key in skip:
            continue
        if isinstance(value, (list, tuple, set)):
            items += [(key, v) for v in value if v is not None]
        else:
            items.append((key, value))
    return urlencode(items, safe=_QUERY_SAFE) if items else ""
