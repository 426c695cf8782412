"""The segment tree rules are stored in, and the generic walk that searches it.

A rule is a list of steps: static text (a ``str``) or a dynamic
:class:`_DynamicStep` (one parameter, text mixed with parameters, or a
``<path:...>`` and the rest of the rule). :meth:`Router.add
<digwebs.routing.Router.add>` files each rule under the :class:`_Node` its
steps lead to; :func:`walk` is the depth-first search in werkzeug's order
that every answer the compiled matcher (:mod:`.compiler`) does not settle
comes from, so it is the reference the compiled matcher is tested against.
"""

from __future__ import annotations

import re
import typing as t

from .converters import Converter, IntConverter, StringConverter

if t.TYPE_CHECKING:
    from .rules import Rule

# What the compiled matcher writes inline for a one-parameter step: the two
# most common converters as plain tests, any other as a call.
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


class _DynamicStep:
    """A step of a rule that is not plain text, and what it matches.

    One parameter, text mixed with parameters (``<name>.json``), or
    (``greedy``) a ``<path:...>`` and the rest of the rule after it.

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


class _Node:
    """One tree node: static children by text, dynamic ones in the order they are tried.

    ``rules`` maps each method to the rule that answers it on a path ending here.
    """

    __slots__ = ("static", "dynamic", "rules", "_shapes")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.dynamic: list[tuple[_DynamicStep, _Node]] = []
        self.rules: dict[str, Rule] = {}
        self._shapes: dict[tuple[tuple[str, ...], ...], _Node] = {}

    def child_for(self, step: str | _DynamicStep) -> _Node:
        """Return the child ``step`` leads to, created if there is none yet."""
        if isinstance(step, str):
            node = self.static.get(step)
            if node is None:
                node = self.static[step] = _Node()
            return node
        node = self._shapes.get(step.shape)
        if node is None:
            node = self._shapes[step.shape] = _Node()
            self.dynamic.append((step, node))
            # Stable: steps of equal weight keep their registration order.
            self.dynamic.sort(key=lambda item: item[0].weight)
        return node


def walk(
    node: _Node,
    segments: t.Sequence[str],
    i: int,
    method: str,
    values: list[t.Any],
    allowed: set[str],
) -> Rule | None:
    """Depth-first search in werkzeug's order (see :mod:`digwebs.routing`).

    Returns the rule for ``method`` under ``node`` matching ``segments[i:]``
    and leaves its converted parameters in ``values`` (a :class:`_Many` per
    step that holds several); adds to ``allowed`` the methods of paths that
    match for other methods. Raises :class:`_SlashRequired` where the path
    ends on a node whose static ``""`` child has a rule for the method.
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
        found = walk(child, segments, i + 1, method, values, allowed)
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
            found = walk(child, segments, end, method, values, allowed)
            if found is not None:
                return found
            values.pop()
            continue
        try:
            value = seg.convert(segment)
        except ValueError:
            continue
        values.append(value)
        found = walk(child, segments, i + 1, method, values, allowed)
        if found is not None:
            return found
        values.pop()
    return None


def rule_params(rule: Rule, values: list[t.Any]) -> dict[str, t.Any]:
    """Return the parameters of ``rule`` by name, from the ``values`` :func:`walk` collected."""
    flat: list[t.Any] = []
    for v in values:
        if type(v) is _Many:
            flat.extend(v)
        else:
            flat.append(v)
    return dict(zip(rule.arg_names, flat, strict=True))
