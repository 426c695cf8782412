"""Rules: a path pattern parsed, and the URL it builds (digwebs.routing.rules).

URL building is differential against werkzeug's ``Map`` / ``MapAdapter.build``:
werkzeug is the oracle for which rule a name's values pick, how static text,
parameters and the query are percent-encoded, and which values are left
out. Where digwebs deliberately differs, the difference is excluded from the
comparison and tested on its own:

* a ``/`` in the value of a one-segment parameter is quoted (werkzeug leaves
  it, building a URL its own rule does not match);
* floats are written without an exponent (werkzeug writes ``1e-05``, which
  its float converter refuses);
* int and float parameters refuse values their converter could not match
  (negative, NaN, infinite): a ``BuildError`` instead of a dead URL (what
  the converters write and refuse is tested in test_converters.py).

Every URL digwebs builds is also matched back through its router: the same
rule, the same values (the round trip werkzeug's docs leave to the user).
"""

from __future__ import annotations

import typing as t
import uuid
from urllib.parse import unquote

import pytest
from _helpers import UUID_TEXT, echo_params
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.routing import BuildError as WBuildError
from werkzeug.routing import Map
from werkzeug.routing import Rule as WRule

from digwebs.routing import (
    BuildError,
    Router,
    Rule,
)

EXAMPLES = settings(max_examples=200, deadline=None)

# Parameters of the generated rules: name -> converter spelling.
PARAMS = {"x": "", "y": "int:", "z": "float:", "u": "uuid:", "p": "path:"}
STATIC = [
    "a",
    "list",
    "\u0432\u043e\u0439\u0442\u0438",
    "caf\u00e9",
    "a b",
    "x;y=1",
    "~it's",
    "100%",
]

# Text as a client would send it: any printable character, "/" excluded
# where the parameter is one segment.
# Every character class that quoting treats differently: unreserved, the
# sub-delimiters werkzeug keeps, reserved ones it quotes, "%", controls,
# non-ASCII (two, three and four UTF-8 bytes).
ALPHABET = "aZ09-._~!$&'()*+,;=:@%?#[] \"<>\\^`{|}\n\x00\x7f\u00e9\u4f60\U0001f600"
segment_text = st.text(st.sampled_from(ALPHABET), min_size=1, max_size=8)
path_text = st.lists(segment_text, min_size=1, max_size=3).map("/".join)
# Floats whose str() has no exponent: werkzeug writes the others as 1e-05.
plain_floats = st.floats(min_value=0, max_value=1e15, allow_nan=False).filter(
    lambda f: "e" not in str(f)
)
uuids = st.uuids()
VALUES: dict[str, st.SearchStrategy[t.Any]] = {
    "x": segment_text,
    "y": st.integers(min_value=0, max_value=10**20),
    "z": plain_floats,
    "u": uuids,
    "p": path_text,
}
query_scalars = st.one_of(
    st.none(), st.integers(), segment_text, st.text(max_size=6), st.booleans()
)
query_values = st.one_of(
    query_scalars,
    st.lists(query_scalars, max_size=3),
    st.lists(query_scalars, max_size=3).map(tuple),
)


@st.composite
def rule_paths(draw: st.DrawFn) -> str:
    """A rule in the syntax digwebs and werkzeug share, each parameter once."""
    names = draw(st.lists(st.sampled_from(sorted(PARAMS)), unique=True, max_size=3))
    names.sort(key=lambda n: n == "p")  # a path parameter takes the rest: put it last
    segments: list[str] = []
    for name in names:
        if draw(st.booleans()):
            segments.append(draw(st.sampled_from(STATIC)))
        shape = draw(st.sampled_from(["{}", "{}.json", "k{}"])) if name != "p" else "{}"
        segments.append(shape.format(f"<{PARAMS[name]}{name}>"))
    if draw(st.booleans()) or not segments:
        segments.append(draw(st.sampled_from(STATIC)))
    if draw(st.booleans()):
        segments.append("")  # a trailing slash
    return "/" + "/".join(segments)


@st.composite
def route_tables(draw: st.DrawFn) -> list[tuple[str, tuple[str, ...]]]:
    """One endpoint's rules: paths and methods."""
    paths = draw(st.lists(rule_paths(), min_size=1, max_size=4))
    methods = st.sampled_from([("GET",), ("POST",), ("GET", "POST")])
    return [(path, draw(methods)) for path in paths]


@st.composite
def build_values(draw: st.DrawFn) -> dict[str, t.Any]:
    """Some parameters (None sometimes), then extra keys for the query."""
    values: dict[str, t.Any] = {}
    for name in draw(st.lists(st.sampled_from(sorted(PARAMS)), unique=True)):
        values[name] = draw(
            st.one_of(VALUES[name], st.none()) if draw(st.booleans()) else VALUES[name]
        )
    for key in draw(st.lists(st.sampled_from(["q", "page", "tag", "\u00e9", "a&b"]), unique=True)):
        values[key] = draw(query_values)
    return values


def digwebs_router(table: t.Sequence[tuple[str, t.Sequence[str]]]) -> Router:
    router = Router()
    for path, methods in table:
        router.add(Rule(path, "endpoint", methods, name="mod.e"))
    return router


def werkzeug_build(
    table: t.Sequence[tuple[str, t.Sequence[str]]], values: dict[str, t.Any], method: str | None
) -> str | None:
    rules = [WRule(path, endpoint="e", methods=list(methods)) for path, methods in table]
    adapter = Map(rules).bind("example.org")
    try:
        return adapter.build("e", values, method=method)
    except WBuildError:
        return None


def digwebs_build(
    router: Router, name: str, values: dict[str, t.Any], method: str | None
) -> str | None:
    try:
        return router.build(name, values, method=method)
    except BuildError:
        return None


@EXAMPLES
@given(route_tables(), build_values(), st.sampled_from([None, None, "GET", "POST"]))
def test_build_picks_the_rule_and_writes_the_url_as_werkzeug(table, values, method):
    router = digwebs_router(table)
    expected = werkzeug_build(table, values, method)
    assert digwebs_build(router, "mod.e", values, method) == expected
    # The short name resolves exactly as the full one.
    assert digwebs_build(router, "e", values, method) == expected


@EXAMPLES
@given(st.lists(rule_paths(), min_size=1, max_size=4), st.data())
def test_every_url_built_matches_its_rule_with_the_same_values(paths, data):
    paths = [p for p in paths if p.count("<") == len(set(Rule(p, None).arg_names))]
    table = [(p, ("GET",)) for p in dict.fromkeys(paths)]
    for index, (path, _) in enumerate(table):
        rule = Rule(path, index, name=f"r{index}")
        values = {name: data.draw(ROUND_TRIP[name]) for name in rule.arg_names}
        if path.endswith("/") and "p" in values:
            # werkzeug's rule: a <path:> value before a final "/" never ends in "/".
            values["p"] = values["p"].rstrip("/") or "x"
        router = Router()
        router.add(rule)
        url = router.build(f"r{index}", values)
        assert url.isascii() and "?" not in url
        found = router.lookup("GET", unquote(url))
        assert found is not None, (path, values, url)
        assert found[0] is rule and found[1] == values, (path, values, url)


# Values that a rule's own matching gives back unchanged: one-segment text
# without the characters around a parameter in the generated shapes.
_round_trip_text = st.text(st.sampled_from(ALPHABET.replace(".", "")), min_size=1, max_size=8)
ROUND_TRIP: dict[str, st.SearchStrategy[t.Any]] = {
    "x": _round_trip_text,
    "y": st.integers(min_value=0, max_value=10**40),
    "z": st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    "u": uuids,
    "p": st.lists(_round_trip_text, min_size=1, max_size=4).map("/".join),
}


# -- the deliberate differences from werkzeug ---------------------------------


@EXAMPLES
@given(st.lists(segment_text, min_size=2, max_size=3).map("/".join))
def test_a_slash_in_a_one_segment_value_is_quoted(value):
    router = digwebs_router([("/w/<x>", ("GET",))])
    url = router.build("e", {"x": value})
    assert url.count("/") == 2 and "%2F" in url
    assert unquote(url) == f"/w/{value}"


@pytest.mark.parametrize(
    ("value", "digwebs_url", "werkzeug_url"),
    [(0.00001, "/f/0.00001", "/f/1e-05"), (1e16, "/f/10000000000000000.0", "/f/1e+16")],
)
def test_floats_differ_from_werkzeug_only_by_the_exponent(value, digwebs_url, werkzeug_url):
    assert digwebs_router([("/f/<float:z>", ("GET",))]).build("e", {"z": value}) == digwebs_url
    assert werkzeug_build([("/f/<float:z>", ("GET",))], {"z": value}, None) == werkzeug_url


def test_values_with_none_behave_as_werkzeug():
    table = [("/foo/", ("GET",)), ("/foo/<int:y>", ("GET",))]
    router = digwebs_router(table)
    for values in [{}, {"y": 2}, {"y": None}, {"y": 2, "v": [1, None, 2]}, {"v": None}]:
        assert router.build("e", values) == werkzeug_build(table, values, None), values


# -- parsing a rule ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["no-slash", "/x/<nope:y>", "/x/<a>/<a>", "/x/a<path:p>"],
)
def test_invalid_rules_are_refused(path):
    with pytest.raises(ValueError):
        Rule(path, None)


def test_rule_path_is_normalised_to_angle_syntax(app):
    app.add_route("/u/:name/posts/<int:id>", echo_params)
    assert app.routes()[0].path == "/u/<name>/posts/<int:id>"


@pytest.mark.parametrize("methods", ["GET", b"GET"])
def test_methods_as_a_string_is_a_type_error(app, methods):
    msg = "methods must be a list of method names, not a string"
    with pytest.raises(TypeError, match=msg):
        Rule("/x", None, methods)
    with pytest.raises(TypeError, match=msg):
        app.add_route("/x", echo_params, methods)
    from digwebs import decorators

    with pytest.raises(TypeError, match=msg):
        decorators.route("/x", methods)


# -- building through the application ---------------------------------------------


@pytest.mark.parametrize(
    ("rule", "values", "url"),
    [
        ("/w/<word>", {"word": "\u4f60 ?#"}, "/w/%E4%BD%A0%20%3F%23"),
        ("/f/<float:x>", {"x": 2.5}, "/f/2.5"),
        ("/id/<uuid:id>", {"id": uuid.UUID(UUID_TEXT)}, f"/id/{UUID_TEXT}"),
        ("/v/<int:a>-<int:b>", {"a": 1, "b": 2, "page": 3}, "/v/1-2?page=3"),
        ("/q", {"q": "\u00e9 &", "none": None}, "/q?q=%C3%A9+%26"),
    ],
)
def test_url_for_quotes_values(app, rule, values, url):
    app.add_route(rule, echo_params, name="r")
    assert app.url_for("r", **values) == url


def test_url_for_round_trips_through_the_router(app, client):
    app.add_route("/w/<word>/<path:rest>", echo_params, name="r")
    url = app.url_for("r", word="a b\u00e9", rest="x y/z")
    assert client.get(url).json == {"word": ["str", "a b\u00e9"], "rest": ["str", "x y/z"]}


def test_non_ascii_static_text_is_percent_encoded_and_still_matches(app, client):
    app.add_route("/\u0432\u043e\u0439\u0442\u0438/", lambda: "login", name="login")
    app.add_route("/caf\u00e9/<name>.\u00e9", echo_params, name="mixed")
    url = app.url_for("login")
    assert url == "/%D0%B2%D0%BE%D0%B9%D1%82%D0%B8/"
    assert client.get(url).text == "login"
    url = app.url_for("mixed", name="x y")
    assert url == "/caf%C3%A9/x%20y.%C3%A9"
    assert client.get(url).json == {"name": ["str", "x y"]}


def test_none_is_dropped_from_the_query(app):
    app.add_route("/q", echo_params, name="q")
    assert app.url_for("q", v=[1, None, 2], w=None, x=(None,)) == "/q?v=1&v=2"
    assert app.url_for("q", v={3}) == "/q?v=3"
