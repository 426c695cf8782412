"""Cookies: what digwebs writes in Set-Cookie and reads from Cookie.

Unit tests for the rules of ``digwebs.cookies``, then differential tests:
what ``dump_cookie`` writes must read back to the same value through
``http.cookies.SimpleCookie``, ``werkzeug.http.parse_cookie`` and digwebs'
own parser, with exactly the attributes that were set; and digwebs' reader
must agree with werkzeug and ``http.cookies`` on the Cookie headers a
browser sends.
"""

from __future__ import annotations

import importlib
import re
import time
import typing as t
from datetime import UTC, datetime, timedelta, timezone
from http.cookies import SimpleCookie
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.http import parse_cookie as werkzeug_parse_cookie

from digwebs import Digwebs, Response, request
from digwebs.cookies import dump_cookie, parse_cookie_header, quote_cookie_value

# ---------------------------------------------------------------------------
# Writing: values
# ---------------------------------------------------------------------------


def test_the_issue_s_injection_attempt_stays_inside_the_value():
    header = dump_cookie("pref", "a; Domain=evil.example; x=")
    assert (
        header == r'pref="a\073\040Domain=evil.example\073\040x="; Path=/; HttpOnly; SameSite=Lax'
    )
    assert header.count(";") == 3  # only the separators of the three attributes


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("abc", "abc"),
        ("", ""),
        ("a=b/c:d?e@f[g]{h}(i)<j>!#$%&'*+-.^_`|~", "a=b/c:d?e@f[g]{h}(i)<j>!#$%&'*+-.^_`|~"),
        ("dark mode", r'"dark\040mode"'),
        ("a,b", r'"a\054b"'),
        ("a;b", r'"a\073b"'),
        ('say "hi"', r'"say\040\"hi\""'),
        ("back\\slash", r'"back\\slash"'),
        ("line1\nline2", r'"line1\012line2"'),
        ("cr\r", r'"cr\015"'),
        ("nul\x00", r'"nul\000"'),
        ("tab\t", r'"tab\011"'),
        ("del\x7f", r'"del\177"'),
        ("caf\u00e9", r'"caf\303\251"'),  # UTF-8 bytes, each as an octal escape
        ("\u0436", r'"\320\266"'),  # above U+00FF: what used to break the server
        ("\U0001f600", r'"\360\237\230\200"'),
    ],
)
def test_values_are_sent_bare_or_quoted_with_octal_escapes(value, sent):
    assert quote_cookie_value(value) == sent
    assert dump_cookie("c", value).startswith(f"c={sent}; ")
    assert dump_cookie("c", value).isascii()


def test_a_lone_surrogate_is_refused_naming_the_cookie():
    with pytest.raises(ValueError, match="'sid'.*surrogate"):
        dump_cookie("sid", "a\ud800b")


@pytest.mark.parametrize(
    "name", ["", "a b", "a;b", "a=b", 'a"b', "a,b", "a\tb", "sid\n", "sid\r\n", "\u0436", "a(b)"]
)
def test_cookie_names_must_be_tokens(name):
    with pytest.raises(ValueError, match="cookie name"):
        dump_cookie(name, "v")


def test_a_non_str_value_is_a_type_error():
    with pytest.raises(TypeError, match="'sid'"):
        dump_cookie("sid", 5)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Writing: attributes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["domain", "path"])
@pytest.mark.parametrize(
    "bad", ["x; Secure", "x\r\nSet-Cookie: a=1", "x\nb", "x\x00", "x\tb", "x\x7f", "x\x1b"]
)
def test_attribute_values_with_semicolons_or_controls_are_refused(option, bad):
    with pytest.raises(ValueError, match=option.capitalize()):
        dump_cookie("c", "v", **{option: bad})


@pytest.mark.parametrize("bad", ["Lax; Domain=x", "Lax\r\n", "sometimes", "None"])
def test_samesite_is_one_of_three_words(bad):
    with pytest.raises(ValueError, match="(?i)samesite"):
        dump_cookie("c", "v", samesite=bad)


def test_non_ascii_domain_and_path_are_encoded():
    header = dump_cookie(
        "c", "v", domain="b\u00fccher.example", path="/\u0432\u043e\u0439\u0442\u0438/"
    )
    assert "Domain=xn--bcher-kva.example" in header
    assert "Path=/%D0%B2%D0%BE%D0%B9%D1%82%D0%B8/" in header
    assert header.isascii()


@pytest.mark.parametrize("bad", ['"x"', "a b", "example.com:8000", "[::1]", "x/y"])
def test_a_domain_must_be_a_host_name(bad):
    with pytest.raises(ValueError, match="Domain"):
        dump_cookie("c", "v", domain=bad)


def test_a_path_is_percent_encoded_as_a_browser_writes_request_paths():
    header = dump_cookie("c", "v", path='/a b/"q"/<x>/%2F/\\/?#^`{}')
    assert "; Path=/a%20b/%22q%22/%3Cx%3E/%2F/%5C/%3F%23%5E%60%7B%7D;" in header


def test_a_domain_idna_cannot_encode_is_refused():
    with pytest.raises(ValueError, match="Domain"):
        dump_cookie("c", "v", domain="a..\u00fc" + "x" * 70)


def test_max_age_must_be_a_number():
    with pytest.raises(ValueError):
        dump_cookie("c", "v", max_age="1; Domain=evil")  # type: ignore[arg-type]
    assert "Max-Age=3600" in dump_cookie("c", "v", max_age=timedelta(hours=1))


def test_expires_must_be_a_datetime_or_a_timestamp():
    with pytest.raises(TypeError, match="expires"):
        dump_cookie("c", "v", expires="Wed, 02 Jan 2030 03:04:05 GMT")  # type: ignore[arg-type]


@pytest.fixture
def eastern_time(monkeypatch):
    """Run in a zone five hours behind UTC, restoring the process's zone after."""
    monkeypatch.setenv("TZ", "EST+05EDT,M3.2.0,M11.1.0")
    time.tzset()
    assert time.timezone == 5 * 3600
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("eastern_time")
def test_a_naive_expires_is_utc_not_local_time():
    naive = dump_cookie("c", "v", expires=datetime(2030, 1, 2, 3, 4, 5))
    assert "Expires=Wed, 02 Jan 2030 03:04:05 GMT" in naive
    aware = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert "Expires=Wed, 02 Jan 2030 08:04:05 GMT" in dump_cookie("c", "v", expires=aware)
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in dump_cookie("c", "v", expires=0)


def test_response_module_still_exports_dump_cookie():
    # importlib: digwebs.request and digwebs.response are the context proxies.
    request_module = importlib.import_module("digwebs.wrappers.request")
    response_module = importlib.import_module("digwebs.wrappers.response")

    assert response_module.dump_cookie is dump_cookie
    assert request_module.parse_cookie_header is parse_cookie_header


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "cookies"),
    [
        ("", {}),
        ("a=1", {"a": "1"}),
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1;b=2", {"a": "1", "b": "2"}),
        (" a = 1 ;\tb=2\t", {"a": "1", "b": "2"}),
        (r'm="line1\012line2"', {"m": "line1\nline2"}),
        (r'q="say \"hi\" \\o/"', {"q": 'say "hi" \\o/'}),
        (r'u="caf\303\251"', {"u": "caf\u00e9"}),
        (r'x="\q"', {"x": "q"}),  # a backslash before any other character quotes it
        (r'x="\477"', {"x": "477"}),  # three octal digits up to \377 only
        ('e=""', {"e": ""}),
        ("e=", {"e": ""}),
        ("a=1; a=2", {"a": "1"}),  # the first wins: browsers send the most specific first
        ("a=b=c", {"a": "b=c"}),
        ("a=b c", {"a": "b c"}),  # unquoted values are taken as sent
        # Malformed pairs are skipped, the rest kept.
        ("novalue; a=1", {"a": "1"}),
        ("=1; a=1", {"a": "1"}),
        (";;; a=1 ;;", {"a": "1"}),
        ('bad="open; a=1', {"a": "1"}),
        ('bad="x"y"; a=1', {"a": "1"}),
        ('bad="ends\\"; a=1', {"a": "1"}),
        (r'bad="\303"; a=1', {"bad": "\ufffd", "a": "1"}),  # not UTF-8: replaced, not fatal
    ],
)
def test_parse_cookie_header(header, cookies):
    assert parse_cookie_header(header) == cookies


def test_request_cookies_decode_octal_escapes_and_utf8(app):
    app.add_route("/", lambda: request.cookies)
    raw = 'm="line1\\012line2"; u=caf\u00e9; q="\\303\\251"'
    wsgi = raw.encode().decode("latin-1")  # as a WSGI server hands the header over
    r = app.test_client().get("/", headers={"Cookie": wsgi})
    assert r.json == {"m": "line1\nline2", "u": "caf\u00e9", "q": "\u00e9"}


def test_a_cookie_set_by_a_handler_reaches_the_next_request(app):
    @app.get("/set")
    def set_():
        resp = Response(b"")
        resp.set_cookie("pref", "dark mode, big")
        return resp

    app.add_route("/read", lambda: request.cookies, name="read")
    client = app.test_client()
    client.get("/set")
    assert client.cookies == {"pref": "dark mode, big"}
    assert client.get("/read").json == {"pref": "dark mode, big"}


# ---------------------------------------------------------------------------
# Differential: what dump_cookie writes, three parsers read back
# ---------------------------------------------------------------------------

# Characters that need care, mixed into arbitrary text (no surrogates: those
# are refused, see test_surrogates_are_refused).
TRICKY = st.sampled_from(list(';,= "\\\t\n\r\x00\x01\x1f\x7f\x80\xa0\xff\u0436\u20ac\U0001f600'))
VALUES = st.text(alphabet=st.one_of(TRICKY, st.characters(codec="utf-8")), max_size=40)

# Attribute values: what an application would configure, including injection
# attempts, which must be refused (the test checks which).
ATTR_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list('/.-_~a;\r\n\x00\t" ?%')), st.characters(codec="utf-8")
    ),
    max_size=12,
)


# What a browser leaves raw in a request path (printable ASCII but the WHATWG
# path percent-encode set, and the backslash): the rest of a Path is
# percent-encoded.
PATH_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"#<>?^`{}\\')


def browser_split(header: str) -> tuple[str, list[str]]:
    """What RFC 6265 section 5.2 does: split on ';', whatever the quotes."""
    pair, *attributes = header.split(";")
    return pair, [a.strip().partition("=")[0].lower() for a in attributes]


def expected_attributes(options: dict[str, t.Any]) -> list[str]:
    names = []
    if options.get("max_age") is not None:
        names += ["max-age", "expires"]
    if options.get("domain"):
        names.append("domain")
    if options.get("path", "/"):
        names.append("path")
    if options.get("secure"):
        names.append("secure")
    if options.get("httponly", True):
        names.append("httponly")
    if options.get("samesite", "Lax"):
        names.append("samesite")
    return names


def simple_cookie_value(header: str, name: str) -> tuple[str, dict[str, t.Any]]:
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    morsel = jar[name]
    # http.cookies turns each octal escape into one character (a latin-1
    # code point); digwebs escapes UTF-8 bytes, so read them back as bytes.
    return morsel.value.encode("latin-1").decode("utf-8"), dict(morsel)


@settings(max_examples=300, deadline=None)
@given(value=VALUES)
def test_every_value_reads_back_the_same_in_three_parsers(value):
    header = dump_cookie("pref", value)
    pair, attributes = browser_split(header)
    assert attributes == ["path", "httponly", "samesite"]
    assert parse_cookie_header(pair) == {"pref": value}
    assert werkzeug_parse_cookie(pair).to_dict() == {"pref": value}
    assert simple_cookie_value(header, "pref")[0] == value
    assert header.isascii() and header.isprintable()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=VALUES,
    max_age=st.none() | st.integers(min_value=0, max_value=10**9),
    domain=st.none() | ATTR_TEXT,
    path=st.none() | ATTR_TEXT,
    secure=st.booleans(),
    httponly=st.booleans(),
    samesite=st.sampled_from([None, "Lax", "strict", "None", "lax; Domain=x"]),
)
def test_the_header_carries_exactly_the_attributes_set(
    value, max_age, domain, path, secure, httponly, samesite
):
    options = {
        "max_age": max_age,
        "domain": domain,
        "path": path,
        "secure": secure,
        "httponly": httponly,
        "samesite": samesite,
    }
    expected_domain = expected_path = None
    refused = samesite == "lax; Domain=x" or (samesite == "None" and not secure)
    if domain:
        try:
            expected_domain = domain if domain.isascii() else domain.encode("idna").decode()
        except UnicodeError:
            refused = True
        else:
            refused = refused or not re.fullmatch(r"[A-Za-z0-9._-]+", expected_domain)
    if path:
        refused = refused or bool(re.search(r"[\x00-\x1f\x7f;]", path))
        expected_path = quote(path, safe=PATH_SAFE)
    try:
        header = dump_cookie("pref", value, **options)
    except ValueError:
        assert refused
        return
    assert not refused
    pair, attributes = browser_split(header)
    assert sorted(attributes) == sorted(expected_attributes(options))
    assert parse_cookie_header(pair) == {"pref": value}
    parsed_value, morsel = simple_cookie_value(header, "pref")
    assert parsed_value == value
    assert bool(morsel["secure"]) is secure
    assert bool(morsel["httponly"]) is httponly
    if max_age is not None:
        assert morsel["max-age"] == str(max_age)
    assert morsel["domain"] == (expected_domain or "")
    assert morsel["path"] == (expected_path or "")


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3), VALUES)
def test_surrogates_are_refused(surrogates, value):
    with pytest.raises(ValueError, match="surrogate"):
        dump_cookie("pref", value + surrogates + value)


# ---------------------------------------------------------------------------
# Differential: reading the Cookie headers a browser sends
# ---------------------------------------------------------------------------

TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Cookie-octets: what a bare value may hold (RFC 6265 section 4.1.1).
OCTETS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')
# http.cookies reads names that are attribute words, or start with "$", as attributes.
_RESERVED = {"expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version",
             "samesite"}  # fmt: skip
NAMES = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=8).filter(
    lambda n: not n.startswith("$") and n.lower() not in _RESERVED
)
ESCAPE = st.one_of(
    st.integers(0, 255).map(lambda b: f"\\{b:03o}"),
    st.sampled_from(['\\"', "\\\\"]),
    st.sampled_from(list(OCTETS)).map(lambda c: "\\" + c),
)


def quoted_values(raw: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pieces = st.lists(st.one_of(raw, ESCAPE), max_size=10)
    return pieces.map(lambda p: '"' + "".join(p) + '"')


BARE = st.text(alphabet=OCTETS, max_size=10)
# Inside quotes a browser may send spaces and commas too (never ';').
ASCII_IN_QUOTES = st.sampled_from([c for c in OCTETS + " ," if c not in '"\\'])


def cookie_headers(values: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, list[str]]]:
    pairs = st.lists(st.tuples(NAMES, values), min_size=1, max_size=5)
    return pairs.map(lambda ps: ("; ".join(f"{n}={v}" for n, v in ps), [n for n, _ in ps]))


@settings(max_examples=300, deadline=None)
@given(cookie_headers(st.one_of(BARE, quoted_values(ASCII_IN_QUOTES))))
def test_reader_agrees_with_werkzeug_and_http_cookies(header_names):
    header, names = header_names
    ours = parse_cookie_header(header)
    theirs = werkzeug_parse_cookie(header)
    assert ours == {name: theirs[name] for name in theirs}  # both: the first value wins
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    if len(set(names)) == len(names):  # http.cookies lets the last value win
        assert ours == {
            k: m.value.encode("latin-1").decode("utf-8", "replace") for k, m in jar.items()
        }


@settings(max_examples=200, deadline=None)
@given(
    cookie_headers(
        st.one_of(BARE, quoted_values(st.sampled_from(list("a \u00e9\u0436\U0001f600"))))
    )
)
def test_reader_agrees_with_werkzeug_on_utf8_headers(header_names):
    header, _ = header_names
    wsgi = header.encode().decode("latin-1")  # werkzeug takes the WSGI (latin-1) form
    theirs = werkzeug_parse_cookie(wsgi)
    assert parse_cookie_header(header) == {name: theirs[name] for name in theirs}


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.one_of(st.sampled_from(list(';="\\ \t,')), st.characters()), max_size=60)
)
def test_reader_never_fails(header):
    cookies = parse_cookie_header(header)
    assert all(name and ";" not in name and ";" not in v for name, v in cookies.items())


def test_set_cookie_in_a_real_app_sends_the_escaped_header(tmp_path):
    app = Digwebs(tmp_path, debug=False)

    @app.get("/")
    def index():
        resp = Response(b"x")
        resp.set_cookie("pref", "a; Domain=evil.example; x=")
        resp.set_cookie("when", "1", expires=datetime(2030, 1, 2, tzinfo=UTC))
        return resp

    pref, when = app.test_client().get("/").headers.getlist("Set-Cookie")
    assert browser_split(pref)[1] == ["path", "httponly", "samesite"]
    assert "Expires=Wed, 02 Jan 2030 00:00:00 GMT" in when
