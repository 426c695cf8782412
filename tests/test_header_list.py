"""response.header_list: its fast paths must agree with the checked loop."""

from __future__ import annotations

import typing as t

import pytest

from digwebs.wrappers.response import _checked_header_list, header_list

CASES: list[t.Any] = [
    {},
    None,
    {"X-One": "1"},
    {"Content-Type": "text/plain", "X-Account": "12345", "X-Limit": "10"},
    {"X-Account": "12345", "Content-Type": "text/plain"},
    {"content-type": "application/xml", "X-A": "a"},
    {"Content-Type": "a/b", "content-type": "c/d"},
    {"Content-Length": "5", "X-A": "a"},
    {"X-Number": 7, "X-Float": 1.5},
    {"X-Tab": "a\tb"},
    {"X-Unicode": "caf\u00e9"},
    {"X-Empty": ""},
    [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
    (("X-Tuple", "t"),),
]


@pytest.mark.parametrize("headers", CASES, ids=repr)
def test_every_path_gives_what_the_checked_loop_gives(headers: t.Any) -> None:
    expected = _checked_header_list(headers or {}, "text/html")
    # First call: the loops (and, for a dict, learning its names); then the
    # function written for those names; a fresh copy each time, as handlers
    # build a new dict per request.
    for _ in range(3):
        fresh = dict(headers) if isinstance(headers, dict) else headers
        assert header_list(fresh, "text/html") == expected


def test_pairs_from_a_generator_are_read_once_and_all_kept() -> None:
    pairs = ((name, value) for name, value in [("X-A", "1"), ("X-B", 2)])
    assert header_list(pairs, "text/html") == (
        [("Content-Type", "text/html"), ("X-A", "1"), ("X-B", "2")],
        True,
    )


@pytest.mark.parametrize("bad", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb"])
def test_newlines_are_refused_on_every_path(bad: str) -> None:
    names = {"Content-Type": "text/plain", "X-Value": "fine"}
    header_list(dict(names), "text/html")
    header_list(dict(names), "text/html")  # the names now have their own function
    with pytest.raises(ValueError, match="newline"):
        header_list({**names, "X-Value": bad}, "text/html")
    with pytest.raises(ValueError, match="newline"):
        header_list({"X-Bad\nName": "v"}, "text/html")


def test_content_length_is_reported() -> None:
    for _ in range(2):
        pairs, no_length = header_list({"Content-Length": "3", "X-A": "a"}, "text/html")
        assert no_length is False
        assert ("Content-Length", "3") in pairs


@pytest.mark.parametrize("names", [("X-N",), ("X-A", "X-B"), ("Content-Type", "X-N")])
def test_a_value_that_stops_being_a_str_takes_the_checked_path(names: tuple[str, ...]) -> None:
    # The function written for a dict's names assumes str values; the
    # handler that returned strings may return an int the next time.
    for _ in range(3):
        header_list(dict.fromkeys(names, "7"), "text/html")
    for value in (7, 1.5, None):
        headers = dict.fromkeys(names, value)
        assert header_list(headers, "text/html") == _checked_header_list(headers, "text/html")


def test_pairs_and_new_dict_shapes_take_the_checked_loop_once_learned_shapes_the_builder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PERF: the only shortcut left is the function written per dict shape.
    import sys

    module = sys.modules["digwebs.wrappers.response"]
    calls: list[t.Any] = []
    checked = module._checked_header_list

    def spy(headers: t.Any, content_type: str) -> t.Any:
        calls.append(headers)
        return checked(headers, content_type)

    monkeypatch.setattr(module, "_checked_header_list", spy)
    shape = {"X-Shape-Test-1": "a", "X-Shape-Test-2": "b"}
    assert header_list(dict(shape), "text/html") == checked(shape, "text/html")
    assert len(calls) == 1  # a new shape: checked, and its builder written
    for _ in range(3):
        assert header_list(dict(shape), "text/html") == checked(shape, "text/html")
    assert len(calls) == 1  # then the builder
    pairs = [("X-A", "1"), ("X-B", "2")]
    assert header_list(pairs, "text/html") == checked(pairs, "text/html")
    assert len(calls) == 2
