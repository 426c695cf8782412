"""Header collections (digwebs.headers): Headers of a response, EnvironHeaders of a request."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders as WEnvironHeaders

from digwebs import request
from digwebs.headers import EnvironHeaders, Headers
from digwebs.wrappers.response import Response

# -- request.headers lists each header once (item 28) --------------------------


def test_headers_list_content_type_once(app):
    overrides = {
        "CONTENT_TYPE": "text/plain",
        "HTTP_CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "1",
        "HTTP_CONTENT_LENGTH": "1",
    }
    with app.test_request_context("/", "POST", data=b"x", environ_overrides=overrides):
        names = [n.lower() for n in request.headers]
        assert names.count("content-type") == 1 and names.count("content-length") == 1


# -- EnvironHeaders against werkzeug's --------------------------------------


header_keys = st.one_of(
    st.sampled_from(
        [
            "HTTP_HOST", "HTTP_USER_AGENT", "HTTP_X_TOKEN", "HTTP_CONTENT_TYPE",
            "HTTP_CONTENT_LENGTH", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_ACCEPT",
            "REQUEST_METHOD", "PATH_INFO", "SERVER_NAME", "wsgi.url_scheme", "HTTP_",
        ]
    ),
    st.text("ABCXYZ019_", min_size=1, max_size=6).map(lambda s: "HTTP_" + s),
)  # fmt: skip


header_values = st.sampled_from(["", "x", "text/plain", "12", "a b", "\u00e9"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(header_keys, header_values, max_size=8))
def test_environ_headers_match_werkzeug(environ):
    ours, theirs = EnvironHeaders(environ), WEnvironHeaders(environ)
    assert list(ours.items()) == list(theirs)
    assert [(k, ours[k]) for k in ours] == list(theirs)
    assert len(ours) == len(theirs)
    for name in ("Content-Type", "content-length", "Host", "X-Token", "User-Agent", "Nope"):
        assert ours.get(name) == theirs.get(name)
        assert (name in ours) == (name in theirs)


def test_content_type_is_listed_once_when_the_server_sets_both():
    environ = {
        "CONTENT_TYPE": "text/plain",
        "HTTP_CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "3",
        "HTTP_CONTENT_LENGTH": "3",
        "HTTP_HOST": "h",
    }
    headers = EnvironHeaders(environ)
    assert list(headers) == ["Content-Type", "Content-Length", "Host"]
    assert len(headers) == 3


# -- Headers ------------------------------------------------------------------


def test_header_set_replaces_every_value_and_delete():
    h = Headers([("A", "1"), ("b", "2"), ("a", "3")])
    h["a"] = "9"
    assert h.items() == [("a", "9"), ("b", "2")]
    del h["B"]
    assert "b" not in h and len(h) == 1
    with pytest.raises(KeyError):
        del h["b"]
    assert h.setdefault("A", "x") == "9" and h.pop("a") == "9" and h.pop("a", "d") == "d"


@pytest.mark.parametrize(
    "action",
    [
        lambda h: h.__setitem__("X", "a\r\nSet-Cookie: evil=1"),
        lambda h: h.add("X", "a\nb"),
        lambda h: h.add("X", "a\rb"),
        lambda h: h.add("X\r\nY", "v"),
        lambda h: h.add("X:Y", "v"),
        lambda h: h.update({"X": "line\nbreak"}),
    ],
)
def test_header_values_with_cr_or_lf_are_refused(action):
    with pytest.raises(ValueError):
        action(Response().headers)
