"""URL rules, converters and the router.

Matching cost does not grow with the number of routes: a path made only of
static text is one dict lookup; any other path walks a segment tree whose
nodes hold a dict of static children (tried first) and a short list of
dynamic children ordered from most to least specific, as werkzeug's
``StateMachineMatcher`` does. Rules that share a shape (``/u/<a>`` and
``/u/<int:b>``'s parents, say) share tree nodes, so a thousand routes under
``/repos/<owner>/<repo>/...`` still cost one step per path segment.

405 and ``Allow`` come from the same walk: terminal nodes that match the path
but not the method are remembered on the way. The application matches with
:meth:`Router.compile`, the same walk written out as Python source.
"""

from __future__ import annotations

import re
import typing as t
import uuid
from urllib.parse import quote, urlencode

from .errors import MethodNotAllowed, NotFound, RequestRedirect

__all__ = [
    "Converter",
    "StringConverter",
    "IntConverter",
    "FloatConverter",
    "UUIDConverter",
    "PathConverter",
    "Rule",
    "Router",
    "BuildError",
]


class Converter:
    """Turns one path segment into a Python value and back.

    ``to_python`` raises :class:`ValueError` for a segment it does not accept;
    the router then treats the rule as not matching (a 404, never a 500).
    ``weight`` orders dynamic alternatives: lower is tried first.
    """

    regex = r"[^/]+"
    weight = 100
    # A converter that may span several segments (only ``path``).
    greedy = False

    def __init__(self, *args: str) -> None:
        self.args = args

    def to_python(self, value: str) -> t.Any:
        return value

    def to_url(self, value: t.Any) -> str:
        return quote(str(value), safe="")

    @property
    def shape(self) -> str:
        return f"{type(self).__name__}{self.args}"


class StringConverter(Converter):
    """Any non-empty text without a slash (the default)."""

    def to_python(self, value: str) -> str:
        if not value:
            raise ValueError("empty segment")
        return value


class IntConverter(Converter):
    """Non-negative decimal integers written with ASCII digits."""

    regex = r"\d+"
    weight = 50

    def to_python(self, value: str) -> int:
        # isdigit alone would accept '²' or Arabic-Indic digits.
        if value.isascii() and value.isdigit():
            return int(value)
        raise ValueError(value)

    def to_url(self, value: t.Any) -> str:
        return str(int(value))


class FloatConverter(Converter):
    """Non-negative decimals such as ``1.5`` (digits, one dot, digits)."""

    regex = r"\d+\.\d+"
    weight = 60

    def to_python(self, value: str) -> float:
        whole, dot, frac = value.partition(".")
        if dot and whole.isascii() and whole.isdigit() and frac.isascii() and frac.isdigit():
            return float(value)
        raise ValueError(value)

    def to_url(self, value: t.Any) -> str:
        return repr(float(value))


class UUIDConverter(Converter):
    """A UUID in its canonical hyphenated form."""

    regex = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    weight = 40

    def to_python(self, value: str) -> uuid.UUID:
        if len(value) != 36:
            raise ValueError(value)
        return uuid.UUID(value)


class PathConverter(Converter):
    """The rest of the path, slashes included (at least one character)."""

    regex = r".+"
    weight = 200
    greedy = True

    def to_python(self, value: str) -> str:
        if not value:
            raise ValueError("empty path")
        return value

    def to_url(self, value: t.Any) -> str:
        return quote(str(value), safe="/")


DEFAULT_CONVERTERS: dict[str, type[Converter]] = {
    "default": StringConverter,
    "string": StringConverter,
    "str": StringConverter,
    "int": IntConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
    "path": PathConverter,
}

# <name>, <int:name>, <conv(arg):name>
_PARAM = re.compile(r"<(?:(?P<conv>[a-zA-Z_]\w*)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[a-zA-Z_]\w*)>")
_SHORTHAND = re.compile(r"^:([a-zA-Z_]\w*)$")


class BuildError(LookupError):
    """``url_for`` could not build a URL (unknown name or missing value)."""


_KIND_STRING, _KIND_INT, _KIND_OTHER = 0, 1, 2


class _Segment:
    """A dynamic path segment: one converter, or text mixed with converters."""

    __slots__ = ("converters", "regex", "greedy", "weight", "shape", "convert", "kind")

    def __init__(self, pieces: list[str | Converter]) -> None:
        self.converters = [p for p in pieces if isinstance(p, Converter)]
        self.greedy = any(c.greedy for c in self.converters)
        self.regex: re.Pattern[str] | None = None
        # PERF: the fast walk inlines the two most common converters.
        self.kind = _KIND_OTHER
        if len(pieces) == 1:
            conv = t.cast(Converter, pieces[0])
            if type(conv) is StringConverter:
                self.kind = _KIND_STRING
            elif type(conv) is IntConverter:
                self.kind = _KIND_INT
            self.weight = conv.weight
            self.convert = conv.to_python
            self.shape = conv.shape
        else:
            if self.greedy:
                raise ValueError("a <path:...> parameter must be a whole path segment")
            pattern = "".join(
                f"({p.regex})" if isinstance(p, Converter) else re.escape(p) for p in pieces
            )
            self.regex = re.compile(pattern + r"\Z")
            # Text around the parameter makes a segment more specific.
            self.weight = 10
            self.shape = "".join(p.shape if isinstance(p, Converter) else p for p in pieces)
            self.convert = self._convert_mixed

    def _convert_mixed(self, value: str) -> tuple[t.Any, ...]:
        m = self.regex.match(value)  # type: ignore[union-attr]
        if m is None:
            raise ValueError(value)
        return tuple(c.to_python(v) for c, v in zip(self.converters, m.groups(), strict=True))


class Rule:
    """One URL pattern bound to an endpoint for a set of methods."""

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
        self.methods = frozenset(m.upper() for m in methods)
        if not self.methods:
            raise ValueError(f"route {path!r} has no methods")
        self.name = name
        # Parameter names in path order (a tuple: matching zips values onto it).
        self.arg_names: tuple[str, ...] = ()
        # Parsed segments: str for static text, _Segment for dynamic ones.
        self.segments: list[str | _Segment] = []
        self._build_parts: list[str | tuple[str, Converter]] = []
        self.path = self._parse(path, {**DEFAULT_CONVERTERS, **(converters or {})})
        self.is_static = all(isinstance(s, str) for s in self.segments)
        # Mixed segments ("<name>.json") yield tuples that need flattening.
        self.has_mixed = any(isinstance(s, _Segment) and s.regex is not None for s in self.segments)
        # Set by the application when it composes the chains; ``direct`` only
        # for a route no middleware wraps (see results.Endpoint.as_direct).
        self.chain: t.Any = None
        self.direct: t.Any = None
        self.is_api = False

    def _parse(self, path: str, converters: t.Mapping[str, type[Converter]]) -> str:
        normalised = []
        names: list[str] = []
        for raw in path.split("/")[1:]:
            short = _SHORTHAND.match(raw)
            if short:
                raw = f"<{short.group(1)}>"
            normalised.append(raw)
            if "<" not in raw:
                self.segments.append(raw)
                self._build_parts.append("/" + raw)
                continue
            pieces: list[str | Converter] = []
            pos = 0
            self._build_parts.append("/")
            for m in _PARAM.finditer(raw):
                if m.start() > pos:
                    pieces.append(raw[pos : m.start()])
                    self._build_parts.append(raw[pos : m.start()])
                conv_name = m.group("conv") or "default"
                conv_cls = converters.get(conv_name)
                if conv_cls is None:
                    raise ValueError(f"unknown converter {conv_name!r} in route {path!r}")
                args = [a.strip() for a in (m.group("args") or "").split(",") if a.strip()]
                conv = conv_cls(*args)
                name = m.group("name")
                if name in names:
                    raise ValueError(f"parameter {name!r} appears twice in route {path!r}")
                names.append(name)
                pieces.append(conv)
                self._build_parts.append((name, conv))
                pos = m.end()
            if pos < len(raw):
                pieces.append(raw[pos:])
                self._build_parts.append(raw[pos:])
            text = "".join(p for p in pieces if isinstance(p, str))
            if "<" in text or ">" in text:
                raise ValueError(f"malformed parameter in route {path!r}")
            self.segments.append(_Segment(pieces))
        self.arg_names = tuple(names)
        return "/" + "/".join(normalised)

    def build(self, values: t.Mapping[str, t.Any]) -> str:
        """Return this rule's path filled with ``values``; extras become a query."""
        out = []
        for part in self._build_parts:
            if isinstance(part, str):
                out.append(part)
            else:
                name, conv = part
                if name not in values or values[name] is None:
                    raise BuildError(
                        f"cannot build URL for {self.name!r}: missing value for {name!r} "
                        f"(rule {self.path!r} needs {', '.join(self.arg_names)})"
                    )
                out.append(conv.to_url(values[name]))
        url = "".join(out) or "/"
        extra = {k: v for k, v in values.items() if k not in self.arg_names and v is not None}
        if extra:
            url += "?" + urlencode(extra, doseq=True)
        return url

    def __repr__(self) -> str:
        return f"<Rule {'|'.join(sorted(self.methods))} {self.path} -> {self.name}>"


class _Node:
    __slots__ = ("static", "dynamic", "rules", "_shapes")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.dynamic: list[tuple[_Segment, _Node]] = []
        self.rules: dict[str, Rule] = {}
        self._shapes: dict[str, _Node] = {}

    def child_for(self, segment: str | _Segment) -> _Node:
        if isinstance(segment, str):
            node = self.static.get(segment)
            if node is None:
                node = self.static[segment] = _Node()
            return node
        node = self._shapes.get(segment.shape)
        if node is None:
            node = self._shapes[segment.shape] = _Node()
            self.dynamic.append((segment, node))
            self.dynamic.sort(key=lambda item: item[0].weight)
        return node


_NO_MATCH = (None, None)


class Router:
    """Holds the rules; matches paths and builds URLs.

    ``match`` returns ``(rule, params)`` or raises :class:`NotFound`,
    :class:`MethodNotAllowed` or :class:`RequestRedirect`.
    """

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.converters: dict[str, type[Converter]] = dict(DEFAULT_CONVERTERS)
        self._static: dict[str, dict[str, Rule]] = {}
        self._root = _Node()
        self._by_name: dict[str, Rule] = {}
        self._short_names: dict[str, Rule | None] = {}
        self._shadowed: list[tuple[Rule, Rule]] = []

    def add(self, rule: Rule) -> Rule:
        node = self._root
        for segment in rule.segments:
            node = node.child_for(segment)
        for method in sorted(rule.methods):
            existing = node.rules.get(method)
            if existing is not None and method in existing.methods:
                # Same shape and method: the earlier rule always wins.
                self._shadowed.append((existing, rule))
                continue
            self._set(node, rule, method)
            if method == "GET" and "HEAD" not in node.rules:
                # GET handlers answer HEAD too, unless a rule claims HEAD itself.
                self._set(node, rule, "HEAD")
        self.rules.append(rule)
        if rule.name:
            if rule.name in self._by_name and self._by_name[rule.name] is not rule:
                other = self._by_name[rule.name]
                if other.endpoint is not rule.endpoint:
                    raise ValueError(
                        f"route name {rule.name!r} is already used by {other.path!r}; "
                        "give one of them another name=..."
                    )
            else:
                self._by_name[rule.name] = rule
            short = rule.name.rpartition(".")[2]
            if short != rule.name:
                prior = self._short_names.get(short, rule)
                self._short_names[short] = (
                    rule
                    if prior is rule or (prior is not None and prior.endpoint is rule.endpoint)
                    else None
                )
        return rule

    def _set(self, node: _Node, rule: Rule, method: str) -> None:
        node.rules[method] = rule
        if rule.is_static:
            self._static.setdefault(rule.path, {})[method] = rule

    def shadowed(self) -> list[tuple[Rule, Rule]]:
        """Pairs ``(winner, shadowed)`` of rules the second of which never matches."""
        return list(self._shadowed)

    def match(self, method: str, path: str) -> tuple[Rule, dict[str, t.Any]]:
        """Find the rule for ``method`` and ``path``.

        Raises :class:`NotFound`, :class:`MethodNotAllowed` (with the allowed
        methods) or :class:`RequestRedirect` (to the slash-terminated URL).
        """
        found = self.lookup(method, path)
        if found is None:
            raise NotFound()
        return found

    def lookup(self, method: str, path: str) -> tuple[Rule, dict[str, t.Any]] | None:
        """Like :meth:`match`, but return ``None`` instead of raising 404.

        PERF: the hot path of every request. Static paths are one dict
        lookup; other paths first follow the branch a full search would try
        first, in one loop without backtracking or recursion. Only when that
        branch fails does :meth:`_walk` search every alternative.
        """
        by_method = self._static.get(path)
        if by_method is not None:
            rule = by_method.get(method)
            if rule is not None:
                return rule, {}
        return self._lookup_segments(method, path, path.split("/"))

    def _lookup_segments(
        self, method: str, path: str, segments: list[str]
    ) -> tuple[Rule, dict[str, t.Any]] | None:
        """:meth:`lookup` of a path that is not a static rule, already split."""
        node = self._root
        values: list[t.Any] = []
        for i in range(1, len(segments)):
            segment = segments[i]
            child = node.static.get(segment)
            if child is None:
                dynamic = node.dynamic
                if len(dynamic) != 1:
                    break
                seg, child = dynamic[0]
                kind = seg.kind
                if kind == _KIND_STRING:
                    if not segment:
                        break
                    values.append(segment)
                elif kind == _KIND_INT:
                    if not (segment.isdigit() and segment.isascii()):
                        break
                    values.append(int(segment))
                else:
                    if seg.greedy:
                        break
                    try:
                        values.append(seg.convert(segment))
                    except ValueError:
                        break
            node = child
        else:
            rule = node.rules.get(method)
            if rule is not None:
                if not values:
                    return rule, {}
                if rule.has_mixed:
                    return rule, self._params(rule, values)
                if len(values) == 1:
                    return rule, {rule.arg_names[0]: values[0]}
                return rule, dict(zip(rule.arg_names, values, strict=True))
        return self._search(method, path, segments)

    def compile(self) -> t.Callable[[str, str], tuple[Rule, dict[str, t.Any]] | None]:
        """Return a function that does what :meth:`lookup` does, faster.

        The tree as it is now is written out as Python source (see
        :mod:`digwebs._route_compiler`); rules added later are not seen by it.
        """
        from ._route_compiler import compile_lookup

        return compile_lookup(self)

    def _search(
        self, method: str, path: str, segments: list[str]
    ) -> tuple[Rule, dict[str, t.Any]] | None:
        allowed: set[str] = set()
        values: list[t.Any] = []
        rule = self._walk(self._root, segments, 1, method, values, allowed)
        if rule is not None:
            return rule, self._params(rule, values) if values else {}
        if allowed:
            raise MethodNotAllowed(self._allow(allowed))
        if not path.endswith("/"):
            probe: set[str] = set()
            if self._walk(self._root, (path + "/").split("/"), 1, method, [], probe) or probe:
                raise RequestRedirect(path + "/")
        return None

    @staticmethod
    def _params(rule: Rule, values: list[t.Any]) -> dict[str, t.Any]:
        flat: list[t.Any] = []
        for v in values:
            if type(v) is tuple:
                flat.extend(v)
            else:
                flat.append(v)
        return dict(zip(rule.arg_names, flat, strict=True))

    @staticmethod
    def _allow(methods: set[str]) -> set[str]:
        if "GET" in methods:
            methods.add("HEAD")
        methods.add("OPTIONS")
        return methods

    def allowed_methods(self, path: str) -> set[str]:
        """Every method some rule accepts for ``path`` (empty if none)."""
        allowed: set[str] = set()
        self._walk(self._root, path.split("/"), 1, "\0", [], allowed)
        return self._allow(allowed) if allowed else allowed

    def _walk(
        self,
        node: _Node,
        segments: t.Sequence[str],
        i: int,
        method: str,
        values: list[t.Any],
        allowed: set[str],
    ) -> Rule | None:
        if i == len(segments):
            rules = node.rules
            if rules:
                rule = rules.get(method)
                if rule is not None:
                    return rule
                allowed.update(rules)
            return None
        segment = segments[i]
        child = node.static.get(segment)
        if child is not None:
            found = self._walk(child, segments, i + 1, method, values, allowed)
            if found is not None:
                return found
        for seg, child in node.dynamic:
            if seg.greedy:
                # Try the longest tail first so /files/<path:p> takes it all.
                for end in range(len(segments), i, -1):
                    try:
                        value = seg.convert("/".join(segments[i:end]))
                    except ValueError:
                        continue
                    values.append(value)
                    found = self._walk(child, segments, end, method, values, allowed)
                    if found is not None:
                        return found
                    values.pop()
                continue
            try:
                value = seg.convert(segment)
            except ValueError:
                continue
            values.append(value)
            found = self._walk(child, segments, i + 1, method, values, allowed)
            if found is not None:
                return found
            values.pop()
        return None

    def find(self, name: str) -> Rule:
        """Look a rule up by its full name, or by its unique short name."""
        rule = self._by_name.get(name) or self._short_names.get(name)
        if rule is None:
            if name in self._short_names:
                raise BuildError(
                    f"route name {name!r} is ambiguous; use the full 'module.function' name"
                )
            raise BuildError(f"no route is named {name!r}")
        return rule

    def build(self, name: str, values: t.Mapping[str, t.Any]) -> str:
        """Build the URL of the rule named ``name`` (see :meth:`Rule.build`)."""
        return self.find(name).build(values)
