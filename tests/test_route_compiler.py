"""The compiled matcher must answer exactly as the generic walk does."""

from __future__ import annotations

import random
import typing as t

import pytest

from digwebs import _route_compiler
from digwebs.errors import MethodNotAllowed, RequestRedirect
from digwebs.routing import Router, Rule

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
