"""response.header_list: its fast paths must agree with the checked loop."""

from __future__ import annotations

import typing as t

import pytest

from digwebs.response import _checked_header_list, header_list

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
