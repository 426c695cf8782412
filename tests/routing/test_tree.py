"""The segment tree and its walk: which rule wins when several could match a path."""

from __future__ import annotations

import pytest
from _helpers import compiled_and_walk, echo_params


def test_static_path_wins_over_a_parameter(app, client):
    app.add_route("/users/<name>", lambda name: f"user {name}")
    app.add_route("/users/me", lambda: "me", name="me")
    assert client.get("/users/me").text == "me"
    assert client.get("/users/ann").text == "user ann"


def test_int_parameter_wins_over_string_parameter(app, client):
    app.add_route("/x/<name>", lambda name: "str")
    app.add_route("/x/<int:n>", lambda n: "int", name="int")
    assert (client.get("/x/5").text, client.get("/x/a").text) == ("int", "str")


def test_backtracks_from_static_to_dynamic_branch(app, client):
    app.add_route("/a/b/c", lambda: "static")
    app.add_route("/a/<x>/d", lambda x: f"dyn {x}", name="dyn")
    assert client.get("/a/b/d").text == "dyn b"


@pytest.mark.parametrize(
    ("rule", "url", "expected"),
    [
        ("/files/<path:p>/edit", "/files/a/b/edit", {"p": ["str", "a/b"]}),
        ("/v/<int:a>-<int:b>", "/v/3-14", {"a": ["int", "3"], "b": ["int", "14"]}),
        ("/x/<a>/<b>/<c>", "/x/1/2/3", {"a": ["str", "1"], "b": ["str", "2"], "c": ["str", "3"]}),
    ],
)
def test_more_rule_shapes(app, client, rule, url, expected):
    app.add_route(rule, echo_params)
    assert client.get(url).json == expected


def test_empty_segment_does_not_match_a_parameter(app, client):
    app.add_route("/u/<name>/x", echo_params)
    assert client.get("/u//x").status_code == 404


# -- issue 9: rule order ------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "url", "winner", "params"),
    [
        (["/<path:p>", "/<path:p>/edit"], "/a/b/edit", "/<path:p>/edit", {"p": "a/b"}),
        (["/<path:p>/edit", "/<path:p>"], "/a/b/edit", "/<path:p>/edit", {"p": "a/b"}),
        (["/<path:p>", "/<path:p>/edit"], "/a/b", "/<path:p>", {"p": "a/b"}),
        (["/<path:x>", "/<a>/<b>"], "/he/he", "/<a>/<b>", {"a": "he", "b": "he"}),
        (["/<path:x>", "/<a>/<b>"], "/he/he/he", "/<path:x>", {"x": "he/he/he"}),
        (["/<path:x>", "/<a>"], "/he", "/<a>", {"a": "he"}),
        (["/<a>", "/<int:n>"], "/5", "/<int:n>", {"n": 5}),
        (["/<a>", "/<a>.json"], "/x.json", "/<a>.json", {"a": "x"}),
        (
            ["/f/<path:p>", "/f/<path:p>/<int:n>"],
            "/f/a/1",
            "/f/<path:p>/<int:n>",
            {"p": "a", "n": 1},
        ),
        # More static text in the step beats a lighter converter (werkzeug's order).
        (["/f/<x>/raw", "/f/<path:p>/raw"], "/f/a/raw", "/f/<path:p>/raw", {"p": "a"}),
        (["/f/<path:p>"], "/f//etc", None, None),  # a path value never starts with '/'
    ],
)
def test_static_beats_converters_beats_path(rules, url, winner, params):
    router, compiled = compiled_and_walk(*[(r, ("GET",)) for r in rules])
    for lookup in (router.lookup, compiled):
        found = lookup("GET", url)
        if winner is None:
            assert found is None
        else:
            assert (found[0].path, found[1]) == (winner, params)
    assert router.shadowed() == []
