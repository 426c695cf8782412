"""The compiled matcher must answer exactly as the generic walk does, and both as werkzeug's.

werkzeug's ``Map`` is the oracle for generated route tables (the rule that
wins, its converted values, 405s and trailing-slash redirects), given
digwebs' converter weights; see the differential test at the end.
"""

from __future__ import annotations

import random
import re
import typing as t
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed as WMethodNotAllowed
from werkzeug.exceptions import NotFound as WNotFound
from werkzeug.routing import Map
from werkzeug.routing import RequestRedirect as WRequestRedirect
from werkzeug.routing import Rule as WRule
from werkzeug.routing import converters as wconv

from digwebs.errors import MethodNotAllowed, RequestRedirect
from digwebs.routing import Converter, Router, Rule
from digwebs.routing import compiler as _route_compiler

METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS")


def outcome(lookup: t.Callable[[str, str], t.Any], method: str, path: str) -> t.Any:
    """What a lookup gives, with exceptions turned into comparable values."""
    try:
        found = lookup(method, path)
    except MethodNotAllowed as exc:
        return ("405", tuple(sorted(exc.valid_methods)))
    except RequestRedirect as exc:
        return ("308", exc.new_url)
    if found is None:
        return None
    rule, params = found
    return rule, params, [type(v) for v in params.values()]


def must_match(lookup: t.Callable[[str, str], t.Any], method: str, path: str) -> t.Any:
    found = lookup(method, path)
    assert found is not None, path
    return found


def router_of(rules: t.Sequence[tuple[str, t.Sequence[str]]]) -> Router:
    router = Router()
    for path, methods in rules:
        router.add(Rule(path, endpoint=path, methods=methods))
    return router


MIXED_RULES = [
    ("/", ("GET",)),
    ("/hello/<name>/test", ("GET", "POST")),
    ("/hello/world/test", ("GET",)),
    ("/hello/<int:n>/count", ("GET",)),
    ("/items/<int:item_id>", ("GET",)),
    ("/items/<int:item_id>", ("DELETE",)),
    ("/items/<item_id>", ("PUT",)),
    ("/items/new", ("GET",)),
    ("/prices/<float:p>", ("GET",)),
    ("/ids/<uuid:u>", ("GET",)),
    ("/files/<path:rest>", ("GET",)),
    ("/files/<path:rest>/raw", ("GET",)),
    ("/docs/<name>.json", ("GET",)),
    ("/docs/<name>.<int:v>.html", ("GET",)),
    ("/slash/", ("GET",)),
    ("/slash/<a>/", ("GET",)),
    ("/u/<user>", ("GET",)),
    ("/u/<uid>", ("POST",)),
    ("/:legacy/show", ("GET",)),
    *[(f"/many/k{i}/<x>", ("GET",)) for i in range(23)],
    *[(f"/many/k{i}/fixed", ("POST",)) for i in range(0, 23, 3)],
    *[(f"/top{i}", ("GET",)) for i in range(9)],
    *[(f"/top{i}/<int:id>/sub", ("GET",)) for i in range(9)],
]

PROBES = [
    "/",
    "",
    "//",
    "/hello/x/test",
    "/hello/world/test",
    "/hello/world/test/",
    "/hello//test",
    "/hello/42/count",
    "/hello/x/count",
    "/hello/x",
    "/hello/x/test/more",
    "/items/7",
    "/items/007",
    "/items/new",
    "/items/x",
    "/items/\u0663",
    "/items/-1",
    "/items/",
    "/prices/1.5",
    "/prices/1",
    "/ids/12345678-1234-5678-1234-567812345678",
    "/ids/nope",
    "/files/a/b/c",
    "/files/a/b/raw",
    "/files/",
    "/docs/readme.json",
    "/docs/readme.3.html",
    "/docs/readme.txt",
    "/slash",
    "/slash/",
    "/slash/a",
    "/slash/a/",
    "/u/bob",
    "/anything/show",
    "/many/k5/zz",
    "/many/k6/fixed",
    "/many/k22/fixed",
    "/many/k23/zz",
    "/many/k5",
    "/top3",
    "/top3/",
    "/top8/12/sub",
    "/top8/x/sub",
    "/nowhere",
    "/hello/ünï/test",
]


@pytest.mark.parametrize("method", METHODS)
def test_compiled_lookup_answers_as_the_walk_does(method: str) -> None:
    router = router_of(MIXED_RULES)
    compiled = router.compile()
    for path in PROBES:
        assert outcome(compiled, method, path) == outcome(router.lookup, method, path), path


def test_random_trees_agree() -> None:
    rng = random.Random(20261121)
    fan_out = [f"f{i}" for i in range(8)]
    pieces = ["a", "b", "c", "<x>", "<int:n>", "<float:f>", "<path:p>", "k<int:v>", "", *fan_out]
    values = ["a", "b", "c", "d", "1", "22", "1.5", "k3", "", "x.y", "f2", "f7", "f9"]
    for _ in range(40):
        rules: list[tuple[str, tuple[str, ...]]] = []
        for _ in range(rng.randint(1, 30)):
            segs: list[str] = []
            for _ in range(rng.randint(1, 4)):
                piece = rng.choice(pieces)
                # Each parameter name once per rule.
                piece = piece.replace("<x>", f"<x{len(segs)}>").replace(":n>", f":n{len(segs)}>")
                piece = piece.replace(":f>", f":f{len(segs)}>").replace(":p>", f":p{len(segs)}>")
                piece = piece.replace(":v>", f":v{len(segs)}>")
                segs.append(piece)
                if "path:" in piece:
                    break
            rules.append(("/" + "/".join(segs), (rng.choice(["GET", "POST"]),)))
        router = router_of(rules)
        compiled = router.compile()
        for _ in range(60):
            path = "/" + "/".join(rng.choice(values) for _ in range(rng.randint(1, 5)))
            for method in ("GET", "POST", "PUT"):
                got = outcome(compiled, method, path)
                assert got == outcome(router.lookup, method, path), (rules, method, path)


@pytest.mark.parametrize(
    "template, path_of, code",
    [
        # Routes that differ in their last segment: one dict gives the rules.
        (
            "/repos/<owner>/<repo>/issues/<int:number>/k{i}",
            "/repos/o/r/issues/{i}/k{i}",
            ".get(s6)",
        ),
        # ... in a middle segment: a dict gives an index, a binary search the branch.
        ("/users/<owner>/k{i}/<repo>/<int:number>", "/users/o/k{i}/r/{i}", ".get(s3, -1)"),
    ],
)
def test_large_fan_out_still_finds_every_route(template: str, path_of: str, code: str) -> None:
    rules = [(template.format(i=i), ("GET",)) for i in range(300)]
    router = router_of(rules)
    compiled = router.compile()
    assert code in compiled.source  # type: ignore[attr-defined]
    for i in range(300):
        rule, params = must_match(compiled, "GET", path_of.format(i=i))
        assert rule.path == rules[i][0]
        assert params == {"owner": "o", "repo": "r", "number": i}
        assert outcome(compiled, "POST", path_of.format(i=i)) == ("405", ("GET", "HEAD", "OPTIONS"))
    assert compiled("GET", path_of.format(i=300)) is None


def test_a_leaf_fan_out_whose_rules_name_parameters_differently() -> None:
    rules = [(f"/a/<x>/k{i}", ("GET",)) for i in range(5)] + [("/a/<y>/k5", ("POST",))]
    router = router_of(rules)
    compiled = router.compile()
    assert must_match(compiled, "GET", "/a/1/k3")[1] == {"x": "1"}
    assert must_match(compiled, "POST", "/a/1/k5")[1] == {"y": "1"}


def test_a_tree_deeper_than_python_allows_to_nest_falls_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_route_compiler, "_MAX_INDENT", 6)
    deep = "/" + "/".join(f"d{i}" for i in range(12)) + "/<leaf>"
    router = router_of([(deep, ("GET",)), ("/d0/<x>", ("GET",))])
    compiled = router.compile()
    rule, params = must_match(compiled, "GET", deep.replace("<leaf>", "end"))
    assert rule.path == deep and params == {"leaf": "end"}
    assert must_match(compiled, "GET", "/d0/zz")[1] == {"x": "zz"}


def test_a_real_python_nesting_limit_is_not_reached() -> None:
    deep = "/" + "/".join(f"<p{i}>" for i in range(60))
    router = router_of([(deep, ("GET",))])
    compiled = router.compile()
    path = "/" + "/".join(str(i) for i in range(60))
    rule, params = must_match(compiled, "GET", path)
    assert params == {f"p{i}": str(i) for i in range(60)}


class _Hex(Converter):
    """A user's converter: hexadecimal numbers."""

    regex = r"[0-9a-f]+"

    def to_python(self, value: str) -> int:
        return int(value, 16)


def test_every_one_parameter_converter_is_settled_without_the_walk() -> None:
    """The compiled matcher, not the generic walk, answers float, uuid, mixed
    and user converters (the matcher tier that used to sit between the two
    is folded into it); a value the converter refuses is the walk's."""
    router = Router()
    router.converters["hex"] = _Hex
    for path in (
        "/prices/<float:p>",
        "/ids/<uuid:u>",
        "/docs/<name>.<int:v>.html",
        "/two/<name>.json",
        "/two/<name>",
        "/h/<hex:n>/x",
        "/h/other/x",
    ):
        router.add(Rule(path, endpoint=path, converters=router.converters))
    walked: list[str] = []
    walk = router._search

    def spy(method: str, path: str, segs: list[str]) -> t.Any:
        walked.append(path)
        return walk(method, path, segs)

    router._search = spy  # type: ignore[method-assign]
    compiled = router.compile()
    uid = "12345678-1234-5678-1234-567812345678"
    for path, params in [
        ("/prices/1.5", {"p": 1.5}),
        (f"/ids/{uid}", {"u": uuid.UUID(uid)}),
        ("/docs/readme.3.html", {"name": "readme", "v": 3}),
        ("/h/ff/x", {"n": 255}),
    ]:
        assert must_match(compiled, "GET", path)[1] == params
        assert walked == [], path
        assert outcome(compiled, "GET", path) == outcome(router.lookup, "GET", path)
        walked.clear()
    # Refused values, and a segment two dynamic steps compete for, are the walk's.
    for path in ("/prices/1", "/ids/nope", "/docs/readme.txt", "/h/zz/x", "/two/a.json"):
        assert outcome(compiled, "GET", path) == outcome(router.lookup, "GET", path), path
        assert walked[0] == path
        walked.clear()


# -- differential: compiled, walk and werkzeug's Map agree ------------------------


class _WInt(wconv.IntegerConverter):
    regex = r"[0-9]+"  # werkzeug's \d+ takes any Unicode digit


class _WFloat(wconv.FloatConverter):
    regex = r"[0-9]+\.[0-9]+"
    weight = 60  # digwebs' weights (werkzeug: 50)


class _WUUID(wconv.UUIDConverter):
    weight = 40  # werkzeug: 100, a tie with strings decided by registration order


# werkzeug's matcher with digwebs' converter weights: what is compared is the
# order and the walk, not the choice of weights (see digwebs.routing).
WERKZEUG_CONVERTERS = {
    "int": _WInt,
    "float": _WFloat,
    "uuid": _WUUID,
    "str": wconv.UnicodeConverter,
}

U1 = "12345678-1234-5678-1234-567812345678"
# Steps of generated rules ({n}: a parameter name unique in its rule).
RULE_PIECES = [
    "a", "b", "edit", "", "\u00e9",
    "<x{n}>", "<int:n{n}>", "<float:f{n}>", "<uuid:u{n}>", "<path:p{n}>",
    "<x{n}>.json", "k<int:v{n}>", "<a{n}>-<b{n}>", "<int:i{n}>.<int:j{n}>",
]  # fmt: skip
# Segments of generated request paths.
PATH_PIECES = [
    "a", "b", "edit", "", "\u00e9", "x", "1", "22", "1.5", "x.json", "k3", "kx",
    "1-2", "a-b-c", "1.2", U1, "\n",
]  # fmt: skip
REQUEST_METHODS = ["GET", "POST", "PUT", "HEAD", "DELETE"]


@st.composite
def rule_tables(draw: st.DrawFn) -> list[tuple[str, tuple[str, ...]]]:
    # A few pieces per table, so that its rules compete for the same paths.
    vocabulary = draw(st.lists(st.sampled_from(RULE_PIECES), min_size=2, max_size=5, unique=True))
    table = []
    for _ in range(draw(st.integers(1, 10))):
        pieces = draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=4))
        path = "/" + "/".join(p.format(n=k) for k, p in enumerate(pieces))
        methods = draw(st.sampled_from([("GET",), ("POST",), ("PUT",), ("GET", "POST")]))
        table.append((path, methods))
    return table


request_paths = st.lists(st.sampled_from(PATH_PIECES), min_size=1, max_size=5).map(
    lambda segs: "/" + "/".join(segs)
)
# What a parameter of each kind may be given, in paths built from the rules.
SAMPLES = {
    "x": ["x", "edit", "a"], "n": ["1", "22"], "f": ["1.5"], "u": [U1], "p": ["a", "a/b", "a/edit"],
    "v": ["3"], "a": ["1", "a-b"], "b": ["2"], "i": ["1"], "j": ["2"],
}  # fmt: skip
_PARAM_IN_PIECE = re.compile(r"<(?:\w+:)?([a-z])\d+>")


@st.composite
def paths_near(draw: st.DrawFn, table: list[tuple[str, tuple[str, ...]]]) -> str:
    """A path one of the rules matches, or one slash away from it."""
    rule_path = draw(st.sampled_from(table))[0]
    path = _PARAM_IN_PIECE.sub(lambda m: draw(st.sampled_from(SAMPLES[m.group(1)])), rule_path)
    change = draw(st.sampled_from(["", "strip", "add"]))
    if change == "strip" and path.endswith("/") and len(path) > 1:
        path = path[:-1]
    elif change == "add":
        path += "/"
    return path


def werkzeug_outcome(adapter: t.Any, table: t.Sequence[t.Any], method: str, path: str) -> t.Any:
    """werkzeug's answer in the terms of :func:`outcome`."""
    try:
        endpoint, values = adapter.match(path, method)
    except WRequestRedirect as exc:
        return ("308", exc.new_url)
    except WMethodNotAllowed as exc:
        return ("405", tuple(sorted({*exc.valid_methods, "OPTIONS"})))
    except WNotFound:
        return None
    return table[endpoint], values, [type(v) for v in values.values()]


def _digwebs_redirect(path: str) -> str:
    # werkzeug answers with an absolute URL, its leading slashes made one (as
    # digwebs' application does: the router gives the quoted path).
    return "http://x/" + path.lstrip("/")


@settings(max_examples=250, deadline=None)
@given(rule_tables(), st.lists(request_paths, max_size=4), st.data())
def test_generated_tables_match_as_werkzeug_and_as_the_walk(table, paths, data):
    paths += data.draw(st.lists(paths_near(table), min_size=1, max_size=6))
    router = Router()
    rules = [
        router.add(Rule(path, endpoint=k, methods=methods))
        for k, (path, methods) in enumerate(table)
    ]
    compiled = router.compile()
    wmap = Map(
        [WRule(p, endpoint=k, methods=list(m)) for k, (p, m) in enumerate(table)],
        converters=WERKZEUG_CONVERTERS,
        merge_slashes=False,
    )
    adapter = wmap.bind("x")
    for path in paths:
        if path.startswith("//") or "\n" in path:
            # werkzeug strips leading slashes and its "." misses newlines:
            # there digwebs is only compared with itself.
            oracle = None
        else:
            oracle = 1
        for method in REQUEST_METHODS:
            walked = outcome(router.lookup, method, path)
            assert outcome(compiled, method, path) == walked, (table, method, path)
            if oracle is None:
                continue
            expected = werkzeug_outcome(adapter, rules, method, path)
            if isinstance(walked, tuple) and walked[0] == "308":
                walked = ("308", _digwebs_redirect(walked[1]))
            assert walked == expected, (table, method, path)
