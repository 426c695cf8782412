"""The compiled matcher: a router's segment tree written out as one Python function.

The generic walk (:func:`.tree.walk`) pays per path segment a dict lookup,
a loop over the dynamic children, a converter call, a list append and a
recursive call. Here the first branch of that walk is unrolled into nested
``if`` statements, with every segment compared against string constants
and every parameter held in a local variable, so matching
``/hello/<name>/test`` is a split and three comparisons (falcon's
``CompiledRouter`` does the same). For ``/hello/<name>/test`` the generated
code reads::

    segs = path.split("/")
    n = len(segs)
    if n == 4:                      # one branch per path length
        s0, s1, s2, s3 = segs
        if not s0:                  # a path starts with "/"
            if s1 == 'hello':
                if s2:
                    if s3 == 'test':
                        rule = R1.get(method)
                        if rule is not None:
                            return rule, {'name': s2}
    return fallback(method, path, segs)

A parameter of another converter (float, uuid, one of the user's, or text
mixed with parameters such as ``<name>.json``) is one call of the
converter in a ``try``. Anything the unrolled walk does not settle (no
match, another method, a trailing-slash redirect, a segment that two
dynamic rules compete for, a ``<path:...>``, a value its converter refuses,
a target that is not a path) goes to the generic walk, so answers are the
same as :meth:`Router.lookup`'s; only the common case is faster. The walk
followed is the first branch of the generic depth-first search, which is
why its answer, when it has one, is the search's.
"""

from __future__ import annotations

import typing as t

from .tree import _KIND_INT, _KIND_STRING, _DynamicStep, _Node

if t.TYPE_CHECKING:
    from .router import Router
    from .rules import Rule

Lookup = t.Callable[[str, str], "tuple[Rule, dict[str, t.Any]] | None"]

# Up to this many static children are told apart by comparing strings one
# after another; more are found by a dict lookup and a binary search on the
# index it gives, so a node with 250 children costs 1 lookup and 8 compares.
_COMPARE_AT_MOST = 4
# Python refuses source nested 100 levels deep; deeper subtrees are left to
# the generic walk.
_MAX_INDENT = 80


class _Writer:
    """Accumulates the source of ``lookup`` and the constants it refers to."""

    def __init__(self, router: Router) -> None:
        self.lines = [
            "def lookup(method, path):",
            "    by_method = static_get(path)",
            "    if by_method is not None:",
            "        rule = by_method.get(method)",
            "        if rule is not None:",
            "            return rule, {}",
            "    segs = path.split('/')",
            "    n = len(segs)",
        ]
        self.namespace: dict[str, t.Any] = {
            "static_get": router._static.get,
            "fallback": router._search,
        }
        self._ends: dict[int, frozenset[int]] = {}

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def constant(self, prefix: str, value: t.Any) -> str:
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def ends(self, node: _Node, i: int) -> frozenset[int]:
        """The lengths ``n`` of the split paths the unrolled walk can match from ``node``.

        ``i`` is the node's depth; each node has one parent, hence one depth.
        """
        known = self._ends.get(id(node))
        if known is None:
            # A path may end on a node with rules, or (a redirect, settled
            # by the fallback) on one whose "" child has rules. Depth 1 is
            # the root: a split path that short is not a path at all.
            slash = node.static.get("")
            ends = node.rules or (i > 1 and slash is not None and slash.rules)
            found = {i} if ends else set()
            for child in node.static.values():
                found |= self.ends(child, i + 1)
            dynamic = _inlined_dynamic(node)
            if dynamic is not None:
                found |= self.ends(dynamic[1], i + 1)
            known = self._ends[id(node)] = frozenset(found)
        return known

    def root(self, root: _Node) -> None:
        # The split path's length picks the rules that can match at all, so
        # below this test no segment index is ever out of range.
        keyword = "if"
        for length in sorted(self.ends(root, 1)):
            self.emit(1, f"{keyword} n == {length}:")
            # One unpacking instead of an index per segment; s0 is what
            # comes before the first "/": a path has nothing there ("*" and
            # "host:port" are not paths and go to the fallback, which
            # refuses them).
            names = ", ".join(f"s{i}" for i in range(length))
            self.emit(2, f"{names} = segs")
            self.emit(2, "if not s0:")
            self.node(root, 1, [], 3, length)
            keyword = "elif"

    def node(self, node: _Node, i: int, values: list[str], indent: int, length: int) -> None:
        """Code for a walk that has consumed ``segs[1:i]`` and stands on ``node``."""
        if indent > _MAX_INDENT:
            self.emit(indent, "pass")
        elif i == length:
            self.rules(node.rules, [node], values, indent)
        else:
            self.children(node, i, values, indent, length)

    def rules(self, rules: t.Any, nodes: list[_Node], values: list[str], indent: int) -> None:
        """Return the rule for ``method`` from ``rules``, an expression (or a dict)."""
        if not isinstance(rules, str):
            if not rules:  # a redirect at most: the fallback's to say
                self.emit(indent, "pass")
                return
            rules = self.constant("R", rules)
        self.emit(indent, f"rule = {rules}.get(method)")
        self.emit(indent, "if rule is not None:")
        names = {rule.arg_names for node in nodes for rule in node.rules.values()}
        if not values:
            params = "{}"
        elif len(names) == 1:
            pairs = zip(names.pop(), values, strict=True)
            params = "{" + ", ".join(f"{name!r}: {value}" for name, value in pairs) + "}"
        else:
            # Rules of the same shape may name their parameters differently.
            params = f"dict(zip(rule.arg_names, ({', '.join(values)},)))"
        self.emit(indent + 1, f"return rule, {params}")

    def children(self, node: _Node, i: int, values: list[str], indent: int, length: int) -> None:
        segment = f"s{i}"  # unpacked by root()
        statics = [
            (name, child)
            for name, child in node.static.items()
            if length in self.ends(child, i + 1)
        ]
        dynamic = _inlined_dynamic(node)
        if dynamic is not None and length not in self.ends(dynamic[1], i + 1):
            dynamic = None
        keyword = "if"
        if len(statics) <= _COMPARE_AT_MOST:
            for name, child in statics:
                self.emit(indent, f"{keyword} {segment} == {name!r}:")
                self.node(child, i + 1, values, indent + 1, length)
                keyword = "elif"
        elif i + 1 == length:
            # Many routes that differ only in their last segment: one dict
            # lookup gives the rules of the one this path names.
            by_name = {name: child.rules for name, child in statics}
            self.emit(indent, f"rules = {self.constant('L', by_name)}.get({segment})")
            self.emit(indent, "if rules is not None:")
            self.rules("rules", [child for _, child in statics], values, indent + 1)
            keyword = "elif"
        else:
            index = {name: k for k, (name, _) in enumerate(statics)}
            self.emit(indent, f"k{i} = {self.constant('K', index)}.get({segment}, -1)")
            self.emit(indent, f"if k{i} >= 0:")
            children = [child for _, child in statics]
            self.bisect(children, 0, len(children), i, values, indent + 1, length)
            keyword = "elif"
        if dynamic is None:
            return
        step, child = dynamic
        kind = step.kind
        # A static child of the same text wins, as in the generic walk: the
        # dynamic branch is an elif after the comparisons.
        if kind == _KIND_INT:
            self.emit(indent, f"{keyword} {segment}.isdigit() and {segment}.isascii():")
            # int() refuses more digits than sys.get_int_max_str_digits():
            # not a match here; the fallback tries the other rules.
            self.emit(indent + 1, "try:")
            self.emit(indent + 2, f"v{i} = int({segment})")
            self.emit(indent + 1, "except ValueError:")
            self.emit(indent + 2, "return fallback(method, path, segs)")
            self.node(child, i + 1, [*values, f"v{i}"], indent + 1, length)
        elif kind == _KIND_STRING:
            self.emit(indent, f"{keyword} {segment}:")
            self.node(child, i + 1, [*values, segment], indent + 1, length)
        else:
            # Any other converter: one call; a value it refuses is left to
            # the fallback, which tries the other alternatives.
            if keyword == "elif":
                self.emit(indent, "else:")
                indent += 1
            convert = self.constant("C", step.convert)
            # A step of several parameters (text mixed with parameters)
            # gives a tuple of their values: unpacked, one local each.
            if step.regex is None:
                names = [f"v{i}"]
                target = names[0]
            else:
                names = [f"v{i}_{k}" for k in range(len(step.converters))]
                target = ", ".join(names) + ","
            self.emit(indent, "try:")
            self.emit(indent + 1, f"{target} = {convert}({segment})")
            self.emit(indent, "except ValueError:")
            self.emit(indent + 1, "return fallback(method, path, segs)")
            self.node(child, i + 1, [*values, *names], indent, length)

    def bisect(
        self,
        children: list[_Node],
        lo: int,
        hi: int,
        i: int,
        values: list[str],
        indent: int,
        length: int,
    ) -> None:
        if hi - lo == 1:
            self.node(children[lo], i + 1, values, indent, length)
            return
        mid = (lo + hi) // 2
        self.emit(indent, f"if k{i} < {mid}:")
        self.bisect(children, lo, mid, i, values, indent + 1, length)
        self.emit(indent, "else:")
        self.bisect(children, mid, hi, i, values, indent + 1, length)


def _inlined_dynamic(node: _Node) -> tuple[_DynamicStep, _Node] | None:
    """The dynamic child the unrolled walk follows, if it can follow one.

    Only a node's only dynamic child, and not a ``<path:...>`` (whose match
    depends on the rest of the path): with several, the order they are tried
    in and backtracking between them are the generic walk's.
    """
    if len(node.dynamic) != 1:
        return None
    step, child = node.dynamic[0]
    if step.greedy:
        return None
    return step, child


def compile_lookup(router: Router) -> Lookup:
    """Return ``lookup(method, path)`` for the rules ``router`` holds now."""
    writer = _Writer(router)
    writer.root(router._root)
    writer.emit(1, "return fallback(method, path, segs)")
    source = "\n".join(writer.lines) + "\n"
    exec(compile(source, "<digwebs routes>", "exec"), writer.namespace)
    lookup: Lookup = writer.namespace["lookup"]
    lookup.source = source  # type: ignore[attr-defined]  # for debugging a route table
    return lookup
