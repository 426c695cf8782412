"""MultiDict and query parsing, unit and differential (the headers: test_headers.py).

The differential tests use werkzeug (a test-only dependency) as the oracle:
digwebs claims the same behaviour, so random inputs must give the same
answers. Where digwebs deliberately differs, the test says so and why.
"""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from werkzeug.datastructures import MultiDict as WMultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WRequest

from digwebs import request
from digwebs.datastructures import MultiDict, parse_qs
from digwebs.errors import BadRequestKeyError
from digwebs.wrappers.request import Request

# -- MultiDict: the dict methods it inherits must not leak its storage --------


def sample() -> MultiDict:
    return MultiDict([("a", "1"), ("a", "2"), ("b", "3")])


def test_constructors_agree():
    pairs = MultiDict([("a", "1"), ("a", "2"), ("b", "3")])
    lists = MultiDict({"a": ["1", "2"], "b": "3"})
    assert pairs == lists == MultiDict(pairs)
    assert MultiDict({"a": (1, 2), "b": [], "c": {3}}).to_dict(flat=False) == {
        "a": [1, 2],
        "c": [3],
    }
    assert MultiDict() == {} and MultiDict(None) == {}


def test_dict_of_a_multidict_gives_first_values():
    assert dict(sample()) == {"a": "1", "b": "3"}
    assert {**sample()} == {"a": "1", "b": "3"}


@pytest.mark.parametrize(
    "clone",
    [
        copy.copy,
        copy.deepcopy,
        lambda md: md.copy(),
        lambda md: md.deepcopy(),
        *[(lambda md, p=p: pickle.loads(pickle.dumps(md, p))) for p in range(6)],
    ],
)
def test_copies_and_pickles_keep_every_value(clone):
    md = sample()
    other = clone(md)
    assert type(other) is MultiDict
    assert list(other.items(multi=True)) == [("a", "1"), ("a", "2"), ("b", "3")]
    other.add("a", "x")
    assert md.getlist("a") == ["1", "2"], "the copy shares its lists with the original"


def test_deepcopy_copies_values():
    md = MultiDict([("a", [1])])
    other = copy.deepcopy(md)
    other["a"].append(2)
    assert md["a"] == [1]


def test_pop_setdefault_update_store_and_return_single_values():
    md = sample()
    assert md.pop("a") == "1" and "a" not in md
    assert md.pop("zz", "d") == "d"
    with pytest.raises(KeyError):
        md.pop("zz")
    assert md.setdefault("c", "x") == "x" and md.getlist("c") == ["x"]
    assert md.setdefault("c", "y") == "x"
    md.update({"b": "4", "d": ["5", "6"]})
    md.update(MultiDict([("d", "7")]))
    md.update([("e", "8")], f="9")
    assert md.getlist("b") == ["3", "4"]
    assert md["d"] == "5" and md.getlist("d") == ["5", "6", "7"]
    assert md["e"] == "8" and md["f"] == "9"


def test_list_methods():
    md = sample()
    assert md.getlist("a") == ["1", "2"] and md.getlist("zz") == []
    assert MultiDict([("n", "1"), ("n", "x"), ("n", "3")]).getlist("n", type=int) == [1, 3]
    md.setlist("a", iter(["p", "q"]))
    assert md.getlist("a") == ["p", "q"]
    md.setlistdefault("n", ["1"]).append("2")
    assert md.getlist("n") == ["1", "2"]
    assert list(md.lists()) == [("a", ["p", "q"]), ("b", ["3"]), ("n", ["1", "2"])]
    assert list(md.listvalues()) == [["p", "q"], ["3"], ["1", "2"]]
    assert list(md.values()) == ["p", "3", "1"]
    assert list(md.keys()) == list(md) == ["a", "b", "n"]
    assert md.poplist("a") == ["p", "q"] and md.poplist("a") == []
    assert md.popitemlist() == ("n", ["1", "2"])
    assert md.popitem() == ("b", "3")
    with pytest.raises(KeyError):
        md.popitem()
    with pytest.raises(KeyError):
        md.popitemlist()


def test_or_and_ior_add_values():
    md = sample()
    merged = md | {"a": "9"}
    assert type(merged) is MultiDict and merged.getlist("a") == ["1", "2", "9"]
    assert md.getlist("a") == ["1", "2"]
    md |= [("b", "4")]
    assert md.getlist("b") == ["3", "4"]


def test_fromkeys_eq_repr():
    assert MultiDict.fromkeys(["x", "y"], 5) == MultiDict([("x", 5), ("y", 5)])
    assert type(MultiDict.fromkeys(["x"])) is MultiDict
    assert sample() == {"a": ["1", "2"], "b": ["3"]}  # as werkzeug: the lists are compared
    assert sample() != MultiDict([("a", "1"), ("b", "3")])
    assert repr(sample()) == "MultiDict([('a', '1'), ('a', '2'), ('b', '3')])"


def test_missing_key_is_a_bad_request_key_error():
    with pytest.raises(BadRequestKeyError) as info:
        sample()["zz"]
    assert info.value.code == 400 and isinstance(info.value, KeyError)


def test_get_with_type():
    md = MultiDict([("n", "5"), ("s", "x")])
    assert md.get("n", type=int) == 5
    assert md.get("s", -1, type=int) == -1
    assert md.get("zz", "d") == "d"


def test_a_key_with_no_values_is_skipped_where_werkzeug_fails():
    # setlist(k, []) keeps the key (as werkzeug); werkzeug's items() then
    # raises IndexError, digwebs skips the empty key instead.
    md = MultiDict([("a", "1")])
    md.setlist("b", [])
    assert "b" in md and md.get("b", "d") == "d" and md.getlist("b") == []
    with pytest.raises(KeyError):
        md["b"]
    assert list(md.items()) == [("a", "1")] and list(md.values()) == ["1"]
    assert md.to_dict() == {"a": "1"}


# -- MultiDict against werkzeug's, over random operation sequences ------------

keys = st.sampled_from(["a", "b", "c", "d"])
values = st.one_of(st.sampled_from(["1", "2", "x", ""]), st.integers(-3, 3))
value_lists = st.lists(values, max_size=3)


def outcome(fn, *args, **kwargs):
    """``("ok", result)`` or ``("raise", kind)``; exceptions compared by kind."""
    try:
        return ("ok", fn(*args, **kwargs))
    except KeyError:
        return ("raise", KeyError)
    except IndexError:
        return ("raise", IndexError)
    except (ValueError, TypeError) as exc:
        return ("raise", type(exc))


def normal(result):
    """Make results of the two implementations comparable."""
    if isinstance(result, (MultiDict, WMultiDict)):
        return ("multidict", [(k, list(v)) for k, v in result.lists()])
    if isinstance(result, dict):
        return ("dict", list(result.items()))
    if isinstance(result, tuple):
        return tuple(normal(x) for x in result)
    if isinstance(result, list):
        return [normal(x) for x in result]
    return result


class MultiDictMachine(RuleBasedStateMachine):
    """The same operations on a digwebs and a werkzeug MultiDict, side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.ours = MultiDict()
        self.theirs = WMultiDict()

    def both(self, fn, *args, **kwargs):
        mine = outcome(fn, self.ours, *args, **kwargs)
        other = outcome(fn, self.theirs, *args, **kwargs)
        if other == ("raise", IndexError):
            # werkzeug fails on a key whose list is empty; digwebs skips it.
            return
        assert normal(mine) == normal(other), (fn, args, kwargs)

    def has_empty_list(self) -> bool:
        return any(not v for v in dict.values(self.theirs))

    @rule(key=keys, value=values)
    def setitem(self, key, value):
        self.both(lambda d, k, v: d.__setitem__(k, v), key, value)

    @rule(key=keys, value=values)
    def add(self, key, value):
        self.both(lambda d, k, v: d.add(k, v), key, value)

    @rule(key=keys, items=value_lists)
    def setlist(self, key, items):
        self.both(lambda d, k, v: d.setlist(k, v), key, items)

    @rule(key=keys, value=values)
    def setdefault(self, key, value):
        self.both(lambda d, k, v: d.setdefault(k, v), key, value)

    @rule(key=keys, items=st.none() | value_lists, extra=values)
    def setlistdefault(self, key, items, extra):
        # The returned list is the stored one: appending to it adds a value.
        self.both(lambda d, k, v, e: d.setlistdefault(k, v).append(e), key, items, extra)

    @rule(
        pairs=st.lists(st.tuples(keys, values), max_size=4),
        kind=st.sampled_from(["multidict", "lists", "flat", "pairs"]),
    )
    def update(self, pairs, kind):
        def run(d, pairs):
            cls = type(d)
            if kind == "multidict":
                arg = cls(pairs)
            elif kind == "lists":
                arg = {}
                for k, v in pairs:
                    arg.setdefault(k, []).append(v)
            elif kind == "flat":
                arg = dict(pairs)
            else:
                arg = pairs
            d.update(arg)

        self.both(run, pairs)

    @rule(pairs=st.lists(st.tuples(keys, values), max_size=3), inplace=st.booleans())
    def or_(self, pairs, inplace):
        def run(d, pairs):
            arg = {k: [v for kk, v in pairs if kk == k] for k, _ in pairs}
            if inplace:
                d |= arg
                return None
            return d | arg

        self.both(run, pairs)

    @rule(key=keys)
    def getitem(self, key):
        self.both(lambda d, k: d[k], key)

    @rule(key=keys, default=values, typed=st.booleans())
    def get(self, key, default, typed):
        self.both(lambda d, k: d.get(k, default, type=int if typed else None), key)

    @rule(key=keys, typed=st.booleans())
    def getlist(self, key, typed):
        self.both(lambda d, k: d.getlist(k, type=int if typed else None), key)

    @rule(key=keys, with_default=st.booleans())
    def pop(self, key, with_default):
        if with_default:
            self.both(lambda d, k: d.pop(k, "dflt"), key)
        else:
            self.both(lambda d, k: d.pop(k), key)

    @rule()
    def popitem(self):
        self.both(lambda d: d.popitem())

    @rule(key=keys)
    def poplist(self, key):
        self.both(lambda d, k: d.poplist(k), key)

    @rule()
    def popitemlist(self):
        self.both(lambda d: d.popitemlist())

    @rule(key=keys)
    def delitem(self, key):
        self.both(lambda d, k: d.__delitem__(k), key)

    @rule()
    def clear(self):
        self.both(lambda d: d.clear())

    @rule(how=st.sampled_from(["copy", "deepcopy", "copy.copy", "copy.deepcopy", "pickle"]))
    def clone(self, how):
        funcs = {
            "copy": lambda d: d.copy(),
            "deepcopy": lambda d: d.deepcopy(),
            "copy.copy": copy.copy,
            "copy.deepcopy": copy.deepcopy,
            "pickle": lambda d: pickle.loads(pickle.dumps(d)),
        }
        self.both(lambda d: type(funcs[how](d)) is type(d))
        self.both(funcs[how])

    @rule(ks=st.lists(keys, max_size=3), value=values)
    def fromkeys(self, ks, value):
        self.both(lambda d: type(d).fromkeys(ks, value))

    @invariant()
    def same_state(self):
        ours, theirs = self.ours, self.theirs
        assert list(ours.lists()) == list(theirs.lists())
        assert list(ours.items(multi=True)) == list(theirs.items(multi=True))
        assert list(ours) == list(theirs) and list(ours.keys()) == list(theirs.keys())
        assert len(ours) == len(theirs)
        assert dict.__eq__(ours, theirs) and (ours == theirs)
        assert [list(v) for v in ours.listvalues()] == [list(v) for v in theirs.listvalues()]
        assert ours.to_dict(flat=False) == theirs.to_dict(flat=False)
        assert repr(ours) == repr(theirs)
        for key in "abcd":
            assert (key in ours) == (key in theirs)
            assert ours.getlist(key) == theirs.getlist(key)
        if not self.has_empty_list():
            assert list(ours.items()) == list(theirs.items())
            assert list(ours.values()) == list(theirs.values())
            assert ours.to_dict() == theirs.to_dict()
            assert dict(ours) == dict(theirs)


TestMultiDictAgainstWerkzeug = MultiDictMachine.TestCase
TestMultiDictAgainstWerkzeug.settings = settings(
    max_examples=150, stateful_step_count=25, deadline=None
)


# -- query strings and urlencoded forms against werkzeug -----------------------

query_pieces = st.sampled_from(
    [
        "a", "b", "key", "=", "&", "&&", "+", ";", "%", "%2", "%zz", "%41", "%2B", "%26",
        "%3D", "%e9", "%C3%A9", "%C3", "%FF", "%ff%fe", "%E2%82%AC", "\u00e9", "\u20ac",
        "\U0001f600", " ", "%20", "%00", "x=1", "=v", "k=", "%%",
        # What a decoder built on binascii.a2b_qp (``=XX`` escapes, ``=`` +
        # newline as a soft line break, ``_`` in headers) could get wrong, and
        # the control characters such a decoder might use as separators.
        "%25", "%3d", "%5F", "_", "%0A", "%0D", "\n", "\r", "\r\n", "%\n", "%\r",
        "\x00", "\x01", "%01", "%7e", "%4", "%g1",
    ]
)  # fmt: skip
query_texts = st.lists(query_pieces, max_size=12).map("".join)
# Character by character: escapes cut anywhere, every separator next to every other.
query_chars = st.text(alphabet="%&=+ab3DdFfe9C_\r\n\x00\x01\u00e9", max_size=24)


def wsgi_str(text: str) -> str:
    """How a WSGI server hands over what the client sent as UTF-8."""
    return text.encode("utf-8").decode("latin-1")


@settings(max_examples=300, deadline=None)
@given(query_texts)
def test_query_parsing_matches_werkzeug(qs):
    environ = EnvironBuilder().get_environ()
    environ["QUERY_STRING"] = wsgi_str(qs)
    expected = list(WRequest(environ).args.lists())
    req = Request(environ)
    assert list(req.query.lists()) == expected
    assert list(req.args.lists()) == expected
    assert list(parse_qs(qs).lists()) == expected


@settings(max_examples=400, deadline=None)
@given(query_chars)
def test_query_parsing_matches_werkzeug_char_by_char(qs):
    environ = EnvironBuilder().get_environ()
    environ["QUERY_STRING"] = wsgi_str(qs)
    expected = list(WRequest(environ).args.lists())
    assert list(parse_qs(qs).lists()) == expected


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query_texts | query_chars, st.sampled_from(["POST", "PUT", "PATCH"]))
def test_urlencoded_form_matches_werkzeug(body_text, method):
    def environ():
        # A new builder each time: the environs would share one input stream.
        body = body_text.encode("utf-8")
        ctype = "application/x-www-form-urlencoded"
        return EnvironBuilder(method=method, data=body, content_type=ctype).get_environ()

    theirs = list(WRequest(environ()).form.lists())
    ours = Request(environ())
    assert list(ours.form.lists()) == theirs
    assert list(ours.files.lists()) == []


def test_raw_invalid_utf8_differs_from_werkzeug_on_purpose(app):
    # werkzeug raises UnicodeDecodeError for raw invalid UTF-8 in the query
    # (a 500) and silently drops such a form body; digwebs replaces in the
    # query (a URL is not worth a failure) and answers 400 for a form body
    # (the data the handler would see is not what the client sent).
    environ = EnvironBuilder().get_environ()
    environ["QUERY_STRING"] = "a=\xff"
    with pytest.raises(UnicodeDecodeError):
        _ = WRequest(environ).args
    assert Request(environ).query["a"] == "\ufffd"
    app.add_route("/f", lambda: request.form.to_dict(), ["POST"], name="f")
    r = app.test_client().post(
        "/f", data=b"a=\xff", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 400


def test_invalid_percent_escapes_stay_percent_encoded():
    # As werkzeug 2.3+: bytes that are not UTF-8 stay visible as %XX.
    parsed = parse_qs("a=%ff&b=%C3%A9%FE&c=%zz")
    assert parsed.to_dict() == {"a": "%FF", "b": "\u00e9%FE", "c": "%zz"}


# -- the module layout (issue 10 item 4) -----------------------------------------


def test_headers_and_uploads_live_in_their_own_modules_and_stay_importable_here():
    # The classes moved out; the old import path must give the very same
    # objects (isinstance checks in users' code keep working).
    import importlib
    from pathlib import Path

    datastructures = importlib.import_module("digwebs.datastructures")
    headers = importlib.import_module("digwebs.headers")
    uploads = importlib.import_module("digwebs.uploads")
    assert datastructures.Headers is headers.Headers
    assert datastructures.EnvironHeaders is headers.EnvironHeaders
    assert datastructures._check_header_value is headers._check_header_value
    assert datastructures.FileStorage is uploads.FileStorage
    for module in (datastructures, headers, uploads):
        assert module.__file__ is not None
        assert len(Path(module.__file__).read_text().splitlines()) <= 500, module.__name__
