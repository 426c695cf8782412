"""Converters: what a parameter matches, the value a handler gets, and how it is written back."""

from __future__ import annotations

import math
import uuid

import pytest
from _helpers import UUID_TEXT, compiled_and_walk, echo_params
from hypothesis import example, given, settings
from hypothesis import strategies as st

from digwebs.routing import BuildError, FloatConverter, IntConverter, UUIDConverter

EXAMPLES = settings(max_examples=200, deadline=None)


@pytest.mark.parametrize(
    ("rule", "url", "expected"),
    [
        ("/u/<name>", "/u/ann", {"name": ["str", "ann"]}),
        ("/u/:name", "/u/ann", {"name": ["str", "ann"]}),
        ("/n/<int:n>", "/n/42", {"n": ["int", "42"]}),
        ("/f/<float:x>", "/f/1.5", {"x": ["float", "1.5"]}),
        ("/p/<path:rest>", "/p/a/b/c.txt", {"rest": ["str", "a/b/c.txt"]}),
        ("/id/<uuid:id>", f"/id/{UUID_TEXT}", {"id": ["UUID", UUID_TEXT]}),
        ("/a/<int:x>/b/<y>", "/a/1/b/two", {"x": ["int", "1"], "y": ["str", "two"]}),
        ("/file/<name>.txt", "/file/readme.txt", {"name": ["str", "readme"]}),
    ],
)
def test_params_arrive_as_converted_kwargs(app, client, rule, url, expected):
    app.add_route(rule, echo_params)
    r = client.get(url)
    assert r.status_code == 200 and r.json == expected


def test_uuid_param_is_a_uuid(app, client):
    @app.get("/id/<uuid:id>")
    def show(id):
        assert isinstance(id, uuid.UUID)
        return id.hex

    assert client.get(f"/id/{UUID_TEXT}").text == UUID_TEXT.replace("-", "")


@pytest.mark.parametrize(
    ("rule", "url"),
    [
        ("/n/<int:n>", "/n/abc"),
        ("/n/<int:n>", "/n/-1"),
        ("/n/<int:n>", "/n/\u00b2"),  # a superscript digit is not an int
        ("/f/<float:x>", "/f/1"),
        ("/f/<float:x>", "/f/a.b"),
        ("/id/<uuid:id>", "/id/not-a-uuid"),
        ("/u/<name>", "/u/a/b"),  # a plain parameter never spans a slash
        ("/p/<path:rest>", "/p/"),
    ],
)
def test_value_that_does_not_convert_is_404(app, client, rule, url):
    app.add_route(rule, echo_params)
    assert client.get(url).status_code == 404


# -- issue 9: converters never fail a request -------------------------------


@pytest.mark.parametrize(
    ("rule", "url"),
    [
        ("/users/<int:uid>", "/users/" + "7" * 4301),  # past Python's int string limit
        ("/users/<int:uid>/posts", "/users/" + "7" * 5000 + "/posts"),
        ("/v/<int:a>-<int:b>", "/v/1-" + "2" * 4400),
        ("/f/<float:x>", "/f/" + "9" * 400 + ".5"),  # float() would give inf
        ("/id/<uuid:id>", "/id/1234567_-1234-5678-1234-567812345678"),  # int(..., 16) takes _
        ("/id/<uuid:id>", "/id/{{12345678123456781234567812345678}}"),  # uuid.UUID strips {}
        ("/id/<uuid:id>", "/id/+2345678-1234-5678-1234-567812345678"),
    ],
)
def test_a_value_no_converter_accepts_is_404_never_500(app, client, rule, url):
    app.add_route(rule, echo_params)
    assert client.get(url).status_code == 404
    router, compiled = compiled_and_walk((rule, ("GET",)))
    assert router.lookup("GET", url) is None
    assert compiled("GET", url) is None


def test_a_huge_int_falls_back_to_the_next_alternative():
    router, compiled = compiled_and_walk(("/u/<int:n>", ("GET",)), ("/u/<name>", ("GET",)))
    url = "/u/" + "1" * 4400
    for lookup in (router.lookup, compiled):
        rule, params = lookup("GET", url)
        assert rule.path == "/u/<name>" and params == {"name": "1" * 4400}


# -- building: what the converters write ---------------------------------------


@pytest.mark.parametrize(
    ("value", "url"),
    [
        (0.00001, "/f/0.00001"),
        (1e16, "/f/10000000000000000.0"),
        (1e-7, "/f/0.0000001"),
        (3, "/f/3.0"),
        (0.1, "/f/0.1"),
        (1.5, "/f/1.5"),
    ],
)
def test_floats_are_built_without_an_exponent(app, client, value, url):
    app.add_route("/f/<float:x>", echo_params, name="r")
    assert app.url_for("r", x=value) == url
    assert client.get(url).json == {"x": ["float", repr(float(value))]}


@pytest.mark.parametrize(
    ("rule", "value"),
    [
        ("/f/<float:x>", -1.5),
        ("/f/<float:x>", float("nan")),
        ("/f/<float:x>", float("inf")),
        ("/n/<int:x>", -1),
    ],
)
def test_a_value_the_converter_would_not_match_is_a_build_error(app, rule, value):
    app.add_route(rule, echo_params, name="r")
    with pytest.raises(BuildError, match="'x'"):
        app.url_for("r", x=value)


# -- floats: never an exponent, always what the converter reads back ----------


@EXAMPLES
@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_every_finite_float_is_written_as_the_converter_reads_it(value):
    conv = FloatConverter()
    text = conv.to_url(value)
    assert "e" not in text.lower()
    whole, dot, frac = text.partition(".")
    assert dot and whole.isdigit() and frac.isdigit()
    assert conv.to_python(text) == value
    if "e" not in str(value):
        # Where werkzeug's str() has no exponent, the same digits.
        assert text == str(value)


@EXAMPLES
@given(
    st.from_regex(r"[0-9]{1,30}\.[0-9]{1,30}", fullmatch=True)
    | st.sampled_from(["9" * 400 + ".5", "0." + "0" * 400 + "1"])
)
def test_every_float_the_converter_accepts_is_written_back_alike(text):
    conv = FloatConverter()
    try:
        value = conv.to_python(text)
    except ValueError:
        assert math.isinf(float(text))  # the only refusal: too large for a float
        return
    assert float(conv.to_url(value)) == value


@pytest.mark.parametrize("value", [-0.5, -1e-9, math.nan, math.inf, -math.inf])
def test_floats_the_converter_cannot_match_are_refused(value):
    with pytest.raises(ValueError):
        FloatConverter().to_url(value)


def test_negative_zero_is_written_as_zero():
    assert FloatConverter().to_url(-0.0) == "0.0"


# -- ints and uuids: a non-match, never another exception -----------------------


@EXAMPLES
@given(
    st.text(st.sampled_from("0123456789\u0663\u00b2x"), min_size=1, max_size=20),
    st.integers(0, 5000),
)
def test_int_to_python_returns_an_int_or_raises_value_error(text, padding):
    text = "7" * padding + text
    try:
        value = IntConverter().to_python(text)
    except ValueError:
        assert not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 4300
        return
    assert value == int(text) and text.isascii()


@EXAMPLES
@given(st.text(st.sampled_from("0123456789abcdefABCDEF-_{}+ :urnid"), min_size=30, max_size=40))
@example("1234567_-1234-5678-1234-567812345678")  # int(..., 16) takes "_"
@example("{{12345678123456781234567812345678}}")  # uuid.UUID strips braces
@example("+2345678-1234-5678-1234-567812345678")
def test_uuid_to_python_takes_only_the_canonical_form(text):
    conv = UUIDConverter()
    try:
        value = conv.to_python(text)
    except ValueError:
        return
    assert str(value) == text.lower()


def test_uuid_to_url_refuses_what_is_not_a_uuid():
    u = uuid.uuid4()
    conv = UUIDConverter()
    assert conv.to_url(u) == conv.to_url(str(u)) == str(u)
    with pytest.raises(ValueError):
        conv.to_url("../etc/passwd")
