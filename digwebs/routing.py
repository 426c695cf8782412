"""URL rules, converters and the router.

Matching cost does not grow with the number of routes: a path made only of
static text is one dict lookup; any other path walks a segment tree whose
nodes hold a dict of static children (tried first) and a list of dynamic
children ordered from most to least specific. The order, and which rule wins
when several could match, is werkzeug's ``StateMachineMatcher``'s:

* a static segment beats any parameter; among parameters, a segment with
  more static text beats one with less (``<name>.json`` before ``<name>``),
  then one with more parameters, then the converter of lower ``weight``
  (uuid 40, int 50, float 60, string 100, path 200);
* a ``<path:...>`` parameter and everything after it in the rule are one
  step that takes the rest of the path, matched as one regular expression:
  ``/<path:p>/edit`` answers ``/a/b/edit`` with ``p='a/b'`` however it is
  ordered against ``/<path:p>``, and ``/<a>/<b>`` answers ``/he/he`` before
  ``/<path:x>`` is tried;
* rules of one shape share a tree node (``/u/<a>`` and ``/u/<b>``); for each
  method the first registered rule of a node wins;
* the first branch (in that order) that ends where the path ends and has a
  rule for the method wins; one that only has rules for other methods
  records them for the 405's ``Allow`` and the search goes on; one whose
  slash-terminated twin has a rule for the method is a 308 to that URL
  (``GET /bar`` -> ``/bar/`` even when ``/bar`` has a POST rule).

Since rules of a shape share nodes, a thousand routes under
``/repos/<owner>/<repo>/...`` still cost one step per path segment. The
application matches with :meth:`Router.compile`, the same walk written out
as Python source. Where digwebs differs from werkzeug: converters are tried
while walking, so a value one refuses (an int past Python's digit limit)
lets the next alternative try instead of ending in a 404; an explicit HEAD
rule beats a GET rule's implicit HEAD; OPTIONS follows a trailing-slash
redirect like the method it asks about.

A path that does not start with ``/`` (``*`` of ``OPTIONS *``, the
``host:port`` of ``CONNECT``, an empty string) is never routed: the router
answers "no rule" (``None`` from :meth:`Router.lookup`, :class:`NotFound`
from :meth:`Router.match`), never a redirect or a 405.
"""

from __future__ import annotations

import math
import re
import typing as t
import uuid
from decimal import Decimal
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
        return quote(str(value), safe=_SEGMENT_SAFE)

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
    """``url_for`` could not build a URL (unknown name, missing or unfit value)."""


_KIND_STRING, _KIND_INT, _KIND_OTHER = 0, 1, 2


class _Many(tuple):  # type: ignore[type-arg]
    """The values of one dynamic step that holds several parameters.

    A type of its own, so that a converter returning a tuple is not mistaken
    for it when the values are spread onto the parameter names.
    """

    __slots__ = ()


class _SlashRequired(Exception):
    """The path lacks the trailing slash of a rule for the method (a 308)."""


# A piece of a parsed path segment: static text or a parameter.
_Piece = str | tuple[str, Converter]


class _Segment:
    """A dynamic step of the tree: one parameter, text mixed with parameters,
    or (``greedy``) a ``<path:...>`` and the rest of the rule after it.

    ``weight`` is werkzeug's ``Weighting`` of the step: more static pieces
    first, then longer ones, then more parameters, then lighter converters.
    ``shape`` tells steps apart: rules with equal shapes share a tree node.
    """

    __slots__ = (
        "converters", "regex", "greedy", "weight", "shape", "convert", "kind", "suffixed",
        "_groups",
    )  # fmt: skip

    def __init__(
        self, segments: list[list[_Piece]], greedy: bool = False, suffixed: bool = False
    ) -> None:
        pieces = [piece for segment in segments for piece in segment]
        self.converters = [p[1] for p in pieces if not isinstance(p, str)]
        self.greedy = greedy
        # The rule ended with "/" after its <path:...>: the regex takes the
        # slash apart, and the step is followed by a static "" step.
        self.suffixed = suffixed
        self.regex: re.Pattern[str] | None = None
        # The regex's group of each converter, in order (regex steps only).
        self._groups: list[str] = []
        statics = [
            (k, -len(p)) for k, p in enumerate(p for p in pieces if isinstance(p, str) and p)
        ]
        weights = [c.weight for c in self.converters]
        self.weight = (-len(statics), tuple(statics), -len(weights), tuple(weights))
        shape: list[tuple[str, ...]] = []
        for segment in segments:
            if shape:
                shape.append(("/",))
            shape += [("s", p) if isinstance(p, str) else ("c", p[1].shape) for p in segment]
        if suffixed:
            shape.append(("/?",))
        self.shape = tuple(shape)
        # PERF: the fast walk inlines the two most common converters.
        self.kind = _KIND_OTHER
        if not greedy and len(pieces) == 1:
            conv = t.cast(tuple[str, Converter], pieces[0])[1]
            if type(conv) is StringConverter:
                self.kind = _KIND_STRING
            elif type(conv) is IntConverter:
                self.kind = _KIND_INT
            self.convert = conv.to_python
            return
        # Named groups: a converter's own regex may hold groups.
        pattern = "/".join(
            "".join(
                re.escape(p) if isinstance(p, str) else f"(?P<_{k}>{p[1].regex})"
                for k, p in enumerate(segment, start=sum(map(len, segments[:j])))
            )
            for j, segment in enumerate(segments)
        )
        if suffixed:
            # As werkzeug: "/x/<path:p>/" takes "/x/a" too, for the redirect.
            pattern = pattern[:-1] + "(?<!/)(?P<_slash>/?)"
        # DOTALL: a path value may hold a newline (%0A) like any character.
        self.regex = re.compile(pattern + r"\Z", re.DOTALL)
        self._groups = [f"_{k}" for k, p in enumerate(pieces) if not isinstance(p, str)]
        self.convert = self._convert_many

    def _convert_many(self, value: str) -> _Many:
        """The converted parameters of ``value``; ValueError if it does not match."""
        m = self.regex.match(value)  # type: ignore[union-attr]
        if m is None:
            raise ValueError(value)
        return _Many(
            c.to_python(m.group(g)) for c, g in zip(self.converters, self._groups, strict=True)
        )

    def match_rest(self, rest: str) -> tuple[_Many, bool] | None:
        """Match a greedy step against the rest of the path, ``"/"``-joined.

        Returns the converted parameters and whether the trailing slash of a
        suffixed step was there, or ``None``.
        """
        m = self.regex.match(rest)  # type: ignore[union-attr]
        if m is None:
            return None
        try:
            values = _Many(
                c.to_python(m.group(g)) for c, g in zip(self.converters, self._groups, strict=True)
            )
        except ValueError:
            return None
        return values, bool(self.suffixed and m.group("_slash"))


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
        # Parsed steps: str for static segments, _Segment for dynamic ones.
        self.segments: list[str | _Segment] = []
        # What build() joins: quoted static text, or (name, converter).
        self._build_parts: list[str | tuple[str, Converter]] = []
        self.path = self._parse(path, {**DEFAULT_CONVERTERS, **(converters or {})})
        self.is_static = all(isinstance(s, str) for s in self.segments)
        # Steps that yield several values (_Many) need spreading.
        self.has_many = any(isinstance(s, _Segment) and s.regex is not None for s in self.segments)
        # Set by the application when it composes the chains; ``direct`` only
        # for a route no middleware wraps (see results.Endpoint.as_direct).
        self.chain: t.Any = None
        self.direct: t.Any = None
        self.is_api = False

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
                self.segments.append(_Segment(rest, greedy=True, suffixed=suffixed))
                if suffixed:
                    self.segments.append("")
                break
            if all(isinstance(p, str) for p in pieces):
                self.segments.append("".join(t.cast(list[str], pieces)))
            else:
                self.segments.append(_Segment([pieces]))
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


class _Node:
    __slots__ = ("static", "dynamic", "rules", "_shapes")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.dynamic: list[tuple[_Segment, _Node]] = []
        self.rules: dict[str, Rule] = {}
        self._shapes: dict[tuple[tuple[str, ...], ...], _Node] = {}

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
            # Stable: steps of equal weight keep their registration order.
            self.dynamic.sort(key=lambda item: item[0].weight)
        return node


class Router:
    """Holds the rules; matches paths and builds URLs.

    ``match`` returns ``(rule, params)`` or raises :class:`NotFound`,
    :class:`MethodNotAllowed` or :class:`RequestRedirect`. Several rules may
    share a name (one function with several routes): :meth:`build` picks
    among them.
    """

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.converters: dict[str, type[Converter]] = dict(DEFAULT_CONVERTERS)
        self._static: dict[str, dict[str, Rule]] = {}
        self._root = _Node()
        # Full name -> its rules, most parameters first, then in registration order.
        self._by_name: dict[str, list[Rule]] = {}
        # Short name -> the full name it stands for (None: several do).
        self._short_names: dict[str, str | None] = {}
        self._shadowed: list[tuple[Rule, Rule]] = []

    def add(self, rule: Rule) -> Rule:
        """Add ``rule``; ``ValueError`` if its name belongs to another endpoint.

        Handlers are compared with ``==``, so the same bound method, a new
        object each time it is read, may be registered under one name twice.
        """
        named = self._by_name.get(rule.name) if rule.name else None
        if named and named[0].endpoint != rule.endpoint:
            raise ValueError(
                f"route name {rule.name!r} is already used by {named[0].path!r}; "
                "give one of them another name=..."
            )
        node = self._root
        for segment in rule.segments:
            node = node.child_for(segment)
        winners: list[Rule] = []
        for method in sorted(rule.methods):
            existing = node.rules.get(method)
            if existing is not None and existing is not rule and method in existing.methods:
                # Same shape and method: the earlier rule always wins.
                winners.append(existing)
                continue
            self._set(node, rule, method)
            if method == "GET" and "HEAD" not in node.rules:
                # GET handlers answer HEAD too, unless a rule claims HEAD itself.
                self._set(node, rule, "HEAD")
        if len(winners) == len(rule.methods):
            # Only a rule no request can reach is shadowed.
            self._shadowed += [(winner, rule) for winner in dict.fromkeys(winners)]
        self.rules.append(rule)
        if rule.name:
            self._name(rule)
        return rule

    def _name(self, rule: Rule) -> None:
        name = t.cast(str, rule.name)
        named = self._by_name.setdefault(name, [])
        if rule not in named:
            named.append(rule)
            # Stable: equal counts keep their registration order.
            named.sort(key=lambda r: -len(r.arg_names))
        short = name.rpartition(".")[2]
        if short != name:
            prior = self._short_names.get(short, name)
            if prior is not None and prior != name:
                # Two full names: one short name only if both name one handler.
                if self._by_name[prior][0].endpoint != rule.endpoint:
                    prior = None
            self._short_names[short] = prior

    def _set(self, node: _Node, rule: Rule, method: str) -> None:
        node.rules[method] = rule
        if rule.is_static:
            self._static.setdefault(rule.path, {})[method] = rule

    def shadowed(self) -> list[tuple[Rule, Rule]]:
        """Pairs ``(winner, shadowed)``: the second rule never answers any request.

        That is a rule of the same shape as earlier ones that, between them,
        take every method it has (a rule never shadows itself; a GET rule's
        implicit HEAD gives way to an explicit HEAD rule). Rules of other
        shapes are never reported: some path tells them apart.
        """
        return list(self._shadowed)

    def all_methods(self) -> set[str]:
        """Every method some rule accepts, with HEAD (for GET) and OPTIONS.

        What ``OPTIONS *`` answers in ``Allow``.
        """
        methods = {"OPTIONS"}
        for rule in self.rules:
            methods |= rule.methods
        return self._allow(methods)

    def match(self, method: str, path: str) -> tuple[Rule, dict[str, t.Any]]:
        """Find the rule for ``method`` and ``path``.

        Raises :class:`NotFound` (a path not starting with ``/`` included),
        :class:`MethodNotAllowed` (with the allowed methods) or
        :class:`RequestRedirect`, whose ``new_url`` is the slash-terminated
        path, percent-encoded (``/caf%C3%A9/`` for ``/café``); the caller adds
        the mount point and the query string.
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
        if segments[0] or len(segments) == 1:
            return None  # not a path: "*", "host:port", ""
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
                    try:
                        values.append(int(segment))
                    except ValueError:  # more digits than int() converts
                        break
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
                if rule.has_many:
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
        try:
            rule = self._walk(self._root, segments, 1, method, values, allowed)
        except _SlashRequired:
            # Percent-encoded as werkzeug does, so that a decoded "%", a
            # newline or non-ASCII text in the path give a valid Location.
            # (surrogatepass: a lone surrogate, which no decoded request path
            # holds, must not make this raise.)
            url = quote(path + "/", safe=_PATH_SAFE, errors="surrogatepass")
            raise RequestRedirect(url) from None
        if rule is not None:
            return rule, self._params(rule, values) if values else {}
        if allowed:
            raise MethodNotAllowed(self._allow(allowed))
        return None

    @staticmethod
    def _params(rule: Rule, values: list[t.Any]) -> dict[str, t.Any]:
        flat: list[t.Any] = []
        for v in values:
            if type(v) is _Many:
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
        """Every method some rule accepts for ``path`` (empty if none, or not a path)."""
        allowed: set[str] = set()
        segments = path.split("/")
        if segments[0] or len(segments) == 1:
            return allowed
        self._walk(self._root, segments, 1, "\0", [], allowed)
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
        """Depth-first search in werkzeug's order (see the module docstring).

        Raises :class:`_SlashRequired` where the path ends on a node whose
        static ``""`` child has a rule for the method.
        """
        if i == len(segments):
            rules = node.rules
            if rules:
                rule = rules.get(method)
                if rule is not None:
                    return rule
                allowed.update(rules)
            slash = node.static.get("")
            if slash is not None and slash.rules:
                # OPTIONS is answered for every rule: it follows the slash
                # too, unless the path itself has rules to list.
                if method in slash.rules or (method == "OPTIONS" and not rules):
                    raise _SlashRequired()
            return None
        segment = segments[i]
        child = node.static.get(segment)
        if child is not None:
            found = self._walk(child, segments, i + 1, method, values, allowed)
            if found is not None:
                return found
        for seg, child in node.dynamic:
            if seg.greedy:
                # The step takes the rest of the path (but a trailing "").
                matched = seg.match_rest("/".join(segments[i:]))
                if matched is None:
                    continue
                many, slash_seen = matched
                values.append(many)
                end = len(segments) - 1 if slash_seen else len(segments)
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

    def _named(self, name: str) -> list[Rule]:
        full = name if name in self._by_name else self._short_names.get(name)
        if full is None:
            if name in self._short_names:
                raise BuildError(
                    f"route name {name!r} is ambiguous; use the full 'module.function' name"
                )
            raise BuildError(f"no route is named {name!r}")
        return self._by_name[full]

    def find(self, name: str) -> Rule:
        """Look a rule up by its full name, or by its unique short name.

        With several rules of that name, the one with most parameters (the
        first registered among equals). Raises :class:`BuildError`.
        """
        return self._named(name)[0]

    def build(self, name: str, /, values: t.Mapping[str, t.Any], method: str | None = None) -> str:
        """Build the URL of the rule named ``name`` (see :meth:`Rule.build`).

        ``None`` values count as not given. Of the rules of that name (full
        or unique short name alike), the first whose parameters the values
        all fill, taking rules with more parameters first, as werkzeug does:
        ``/foo/`` and ``/foo/<int:page>`` give ``/foo/2`` for ``page=2`` and
        ``/foo/`` without it. Without ``method``, rules that answer GET are
        tried before the others; with it, only rules for that method.
        """
        rules = self._named(name)
        given = {k: v for k, v in values.items() if v is not None}
        if len(rules) == 1 and method is None:
            return rules[0].build(given)
        if method is None:
            for rule in rules:
                if "GET" in rule.methods and all(a in given for a in rule.arg_names):
                    return rule.build(given)
        for rule in rules:
            if (method is None or method in rule.methods) and all(
                a in given for a in rule.arg_names
            ):
                return rule.build(given)
        needs = "; ".join(
            f"{r.path!r} needs {', '.join(r.arg_names) or 'nothing'}"
            for r in rules
            if method is None or method in r.methods
        )
        raise BuildError(
            f"cannot build URL for {name!r}"
            + (f" for {method}" if method else "")
            + f" from {', '.join(sorted(given)) or 'no values'}: "
            + (needs or "no rule answers that method")
        )
