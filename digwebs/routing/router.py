"""The router: holds the rules, matches a method and a path, builds URLs by name.

Matching is the tree of :mod:`.tree` (searched by :func:`~.tree.walk`, or
by the function :meth:`Router.compile` writes out); names map to rules for
:meth:`Router.build`.
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote

from ..errors import MethodNotAllowed, NotFound, RequestRedirect
from .converters import _PATH_SAFE, DEFAULT_CONVERTERS, Converter
from .rules import BuildError, Rule
from .tree import _Node, _SlashRequired, rule_params, walk

__all__ = ["Router"]


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
        for step in rule.segments:
            node = node.child_for(step)
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

        A static path is one dict lookup; any other is a search of the tree
        (:func:`~.tree.walk`). The application does not call this per
        request: it matches with the function :meth:`compile` returns, which
        gives the same answers faster.
        """
        by_method = self._static.get(path)
        if by_method is not None:
            rule = by_method.get(method)
            if rule is not None:
                return rule, {}
        return self._search(method, path, path.split("/"))

    def compile(self) -> t.Callable[[str, str], tuple[Rule, dict[str, t.Any]] | None]:
        """Return a function that does what :meth:`lookup` does, faster.

        The tree as it is now is written out as Python source (see
        :mod:`digwebs.routing.compiler`); rules added later are not seen by it.
        """
        from .compiler import compile_lookup

        return compile_lookup(self)

    def _search(
        self, method: str, path: str, segments: list[str]
    ) -> tuple[Rule, dict[str, t.Any]] | None:
        """:meth:`lookup` by the generic walk, of a path already split on ``/``.

        What the compiled matcher falls back to for every path it does not settle.
        """
        if segments[0] or len(segments) == 1:
            return None  # not a path: "*", "host:port", ""
        allowed: set[str] = set()
        values: list[t.Any] = []
        try:
            rule = walk(self._root, segments, 1, method, values, allowed)
        except _SlashRequired:
            # Percent-encoded as werkzeug does, so that a decoded "%", a
            # newline or non-ASCII text in the path give a valid Location.
            # (surrogatepass: a lone surrogate, which no decoded request path
            # holds, must not make this raise.)
            url = quote(path + "/", safe=_PATH_SAFE, errors="surrogatepass")
            raise RequestRedirect(url) from None
        if rule is not None:
            return rule, rule_params(rule, values) if values else {}
        if allowed:
            raise MethodNotAllowed(self._allow(allowed))
        return None

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
        walk(self._root, segments, 1, "\0", [], allowed)
        return self._allow(allowed) if allowed else allowed

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
