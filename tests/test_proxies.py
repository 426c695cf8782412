"""Trusted proxies: X-Forwarded-* headers change the request only from them.

werkzeug's ``ProxyFix(x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)``
is the oracle for one trusted hop, on generated header values where the two
models agree. Where digwebs deliberately differs, the difference is left
out of the comparison and tested on its own:

* ``ProxyFix`` counts hops and takes the value that many from the right
  whoever wrote it; digwebs walks ``X-Forwarded-For`` from the right past the
  trusted addresses (a second proxy is one more entry in ``trusted_proxies``,
  not a new count), and reads the other headers one value per proxy passed;
* malformed values are ignored: ``ProxyFix`` would make ``REMOTE_ADDR`` of
  ``X-Forwarded-For: garbage``, a scheme of ``X-Forwarded-Proto: ftp`` and a
  host of ``X-Forwarded-Host: a b``;
* a forwarded host without a port sets ``SERVER_PORT`` to the scheme's
  default (``ProxyFix`` leaves the port the proxy connected to);
* addresses are normalised (``2001:DB8::1`` -> ``2001:db8::1``), a port on
  an ``X-Forwarded-For`` item is dropped, and an IPv4-mapped peer
  (``::ffff:127.0.0.1``) is its IPv4 address;
* the prefix loses its trailing ``/`` (``request.script_root`` did already).
"""

from __future__ import annotations

import ipaddress
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix

from digwebs import ConfigError, Digwebs, request
from digwebs.proxies import (
    ORIGINAL,
    TrustedProxies,
    gunicorn_forwarded_allow_ips,
    parse_trusted_proxies,
    proxy_problems,
)
from digwebs.testing import build_environ

EXAMPLES = settings(max_examples=200, deadline=None)
FORGED = {
    "X-Forwarded-For": "6.6.6.6",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Port": "4443",
    "X-Forwarded-Prefix": "/evil",
}


def seen_app(tmp_path, **config):
    """An app whose one route answers what the request looks like to it."""
    app = Digwebs(tmp_path, debug=False, **config)

    @app.get("/")
    def view():
        return {
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "script_root": request.script_root,
            "url": request.url,
        }

    return app


def seen(app, headers=None, **overrides):
    res = app.test_client().get("/", headers=headers or {}, environ_overrides=overrides)
    assert res.status_code == 200, res.text
    return res.json


# -- the setting -------------------------------------------------------------------------


def test_parse_addresses_and_networks_v4_and_v6():
    nets = parse_trusted_proxies(["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", " 192.0.2.7 "])
    assert [str(n) for n in nets] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
        "::1/128",
        "fd00::/8",
        "192.0.2.7/32",
    ]
    assert parse_trusted_proxies("127.0.0.1, ::1") == parse_trusted_proxies(["127.0.0.1", "::1"])
    assert parse_trusted_proxies([]) == ()


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (["10.0.0.1/8"], r"host bits set; did you mean '10\.0\.0\.0/8'"),
        (["*"], r"'\*' is refused.*'0\.0\.0\.0/0' and '::/0'"),
        (["localhost"], r"'localhost' is not an IP address or network"),
        (["300.1.1.1"], r"'300\.1\.1\.1' is not an IP address"),
        ([7], r"entries must be strings, not 7"),
        (7, r"must be a list of addresses or networks"),
    ],
)
def test_bad_entries_stop_start_up_with_the_fix(tmp_path, value, match):
    with pytest.raises(ConfigError, match=match):
        Digwebs(tmp_path, trusted_proxies=value)


def test_setting_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_TRUSTED_PROXIES", '["127.0.0.1"]')
    app = seen_app(tmp_path)
    assert seen(app, FORGED)["remote_addr"] == "6.6.6.6"


def test_setting_from_the_environment_is_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_TRUSTED_PROXIES", "nginx")
    with pytest.raises(ConfigError, match="'nginx' is not an IP address"):
        Digwebs(tmp_path)


# -- who is believed -------------------------------------------------------------------


def test_no_trusted_proxies_forged_headers_change_nothing(tmp_path):
    app = seen_app(tmp_path)
    got = seen(app, FORGED)
    assert got == {
        "remote_addr": "127.0.0.1",
        "scheme": "http",
        "host": "localhost",
        "script_root": "",
        "url": "http://localhost/",
    }
    # Nothing to do per request but wsgi_app's own test.
    assert app.trusted_proxies is None


def test_untrusted_peer_forged_headers_change_nothing(tmp_path):
    app = seen_app(tmp_path, trusted_proxies=["10.0.0.1"])
    got = seen(app, FORGED)
    assert (got["remote_addr"], got["scheme"], got["host"], got["script_root"]) == (
        "127.0.0.1",
        "http",
        "localhost",
        "",
    )


def test_trusted_peer_one_hop(tmp_path):
    app = seen_app(tmp_path, trusted_proxies=["127.0.0.1"])
    got = seen(app, FORGED)
    assert got == {
        "remote_addr": "6.6.6.6",
        "scheme": "https",
        "host": "evil.example:4443",
        "script_root": "/evil",
        "url": "https://evil.example:4443/evil/",
    }


def test_the_originals_are_kept(tmp_path):
    environ = build_environ("/", headers=FORGED)
    before = {k: environ.get(k) for k in ("REMOTE_ADDR", "wsgi.url_scheme", "HTTP_HOST")}
    TrustedProxies(parse_trusted_proxies(["127.0.0.1"])).rewrite(environ)
    assert environ[ORIGINAL]["REMOTE_ADDR"] == before["REMOTE_ADDR"] == "127.0.0.1"
    assert environ[ORIGINAL]["wsgi.url_scheme"] == "http"
    assert environ[ORIGINAL]["HTTP_HOST"] == before["HTTP_HOST"]
    assert environ[ORIGINAL]["SCRIPT_NAME"] == ""


def test_rewritten_once_per_request():
    proxies = TrustedProxies(parse_trusted_proxies(["127.0.0.1", "10.0.0.0/8"]))
    environ = build_environ("/", headers={"X-Forwarded-For": "10.1.1.1", "X-Forwarded-Port": "81"})
    proxies.rewrite(environ)
    first = dict(environ)
    assert environ["REMOTE_ADDR"] == "10.1.1.1"  # trusted itself: a second pass would apply
    proxies.rewrite(environ)
    assert environ == first
    assert environ[ORIGINAL]["REMOTE_ADDR"] == "127.0.0.1"


def test_untrusted_peer_gets_no_original_key():
    environ = build_environ("/", headers=FORGED, environ_overrides={"REMOTE_ADDR": "192.0.2.1"})
    TrustedProxies(parse_trusted_proxies(["127.0.0.1"])).rewrite(environ)
    assert ORIGINAL not in environ
    assert environ["REMOTE_ADDR"] == "192.0.2.1"


def test_ipv6_peer_and_network(tmp_path):
    app = seen_app(tmp_path, trusted_proxies=["fd00::/8"])
    got = seen(app, {"X-Forwarded-For": "2001:DB8::1"}, REMOTE_ADDR="fd00::5")
    assert got["remote_addr"] == "2001:db8::1"
    assert seen(app, {"X-Forwarded-For": "2001:db8::1"}, REMOTE_ADDR="fe00::5")["remote_addr"] == (
        "fe00::5"
    )


def test_ipv4_mapped_peer_is_its_ipv4_address(tmp_path):
    app = seen_app(tmp_path, trusted_proxies=["127.0.0.1"])
    got = seen(app, {"X-Forwarded-For": "192.0.2.9"}, REMOTE_ADDR="::ffff:127.0.0.1")
    assert got["remote_addr"] == "192.0.2.9"


def test_peer_that_is_not_an_address_is_not_trusted(tmp_path):
    app = seen_app(tmp_path, trusted_proxies=["127.0.0.1"])
    assert seen(app, FORGED, REMOTE_ADDR="")["remote_addr"] == ""
    assert seen(app, FORGED, REMOTE_ADDR="unix:/tmp/sock")["scheme"] == "http"


# -- the walk ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("203.0.113.5, 10.0.0.2", "203.0.113.5"),  # through a second, trusted proxy
        ("6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),  # the client's forged entry
        ("garbage, 203.0.113.5", "203.0.113.5"),  # left of the client: never read
        ("10.0.0.9, 10.0.0.2", "10.0.0.9"),  # all trusted: the leftmost
        ("203.0.113.5:5678", "203.0.113.5"),  # ports on items (IIS, Azure)
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("[2001:db8::7]", "2001:db8::7"),
        ("2001:0db8:0:0::7", "2001:db8::7"),
        # Malformed on the walk: the chain cannot be followed, the peer stays.
        ("203.0.113.5, garbage", "127.0.0.1"),
        ("203.0.113.5, ", "127.0.0.1"),
        ("203.0.113.5,,10.0.0.2", "127.0.0.1"),
        ("1.2.3.4:x", "127.0.0.1"),
        ("[2001:db8::7]x", "127.0.0.1"),
        ("[2001:db8::7", "127.0.0.1"),
        ("1.2.3.4.5", "127.0.0.1"),
        ("\u0661.2.3.4", "127.0.0.1"),
    ],
)
def test_forwarded_for_walk(tmp_path, forwarded_for, client):
    app = seen_app(tmp_path, trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    assert seen(app, {"X-Forwarded-For": forwarded_for})["remote_addr"] == client


def test_one_value_per_trusted_proxy(tmp_path):
    # client -> edge 10.0.0.2 (TLS, appends "https") -> local nginx (appends "http") -> app
    app = seen_app(tmp_path, trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    headers = {"X-Forwarded-For": "203.0.113.5, 10.0.0.2", "X-Forwarded-Proto": "https, http"}
    assert seen(app, headers)["scheme"] == "https"
    # The client's own value, left of the proxies' ones, is not read.
    headers["X-Forwarded-Proto"] = "http, https, http"
    assert seen(app, headers)["scheme"] == "https"
    # Proxies that replace rather than append leave fewer values: the leftmost.
    headers["X-Forwarded-Proto"] = "https"
    assert seen(app, headers)["scheme"] == "https"


@pytest.mark.parametrize(
    ("headers", "field", "value"),
    [
        ({"X-Forwarded-Proto": "ftp"}, "scheme", "http"),
        ({"X-Forwarded-Proto": "HTTPS"}, "scheme", "https"),
        ({"X-Forwarded-Proto": ""}, "scheme", "http"),
        ({"X-Forwarded-Host": "a b"}, "host", "localhost"),
        ({"X-Forwarded-Host": "evil.example@site"}, "host", "localhost"),
        ({"X-Forwarded-Host": "site.example:0"}, "host", "localhost"),
        ({"X-Forwarded-Host": "[::1]:8443"}, "host", "[::1]:8443"),
        ({"X-Forwarded-Port": "http"}, "host", "localhost"),
        ({"X-Forwarded-Port": "70000"}, "host", "localhost"),
        ({"X-Forwarded-Port": "-1"}, "host", "localhost"),
        ({"X-Forwarded-Port": "\u0663"}, "host", "localhost"),
        ({"X-Forwarded-Port": "8080"}, "host", "localhost:8080"),
        ({"X-Forwarded-Host": "[::1]", "X-Forwarded-Port": "8080"}, "host", "[::1]:8080"),
        ({"X-Forwarded-Host": "a.example:81", "X-Forwarded-Port": "82"}, "host", "a.example:82"),
        ({"X-Forwarded-Prefix": "app"}, "script_root", ""),
        ({"X-Forwarded-Prefix": "/a b"}, "script_root", ""),
        ({"X-Forwarded-Prefix": "/a?b"}, "script_root", ""),
        ({"X-Forwarded-Prefix": "/app/"}, "script_root", "/app"),
    ],
)
def test_malformed_values_are_ignored(tmp_path, headers, field, value):
    app = seen_app(tmp_path, trusted_proxies=["127.0.0.1"])
    assert seen(app, headers)[field] == value


def test_forwarded_host_sets_server_name_and_port():
    proxies = TrustedProxies(parse_trusted_proxies(["127.0.0.1"]))
    environ = build_environ(
        "/",
        headers={"X-Forwarded-Host": "site.example", "X-Forwarded-Proto": "https"},
        environ_overrides={"SERVER_PORT": "8000"},
    )
    proxies.rewrite(environ)
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("site.example", "443")
    environ = build_environ("/", headers={"X-Forwarded-Host": "[2001:db8::1]:8443"})
    proxies.rewrite(environ)
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("[2001:db8::1]", "8443")


def test_test_request_context_sees_the_rewrite(tmp_path):
    app = Digwebs(tmp_path, trusted_proxies=["127.0.0.1"])
    with app.test_request_context("/", headers={"X-Forwarded-For": "203.0.113.5"}):
        assert request.remote_addr == "203.0.113.5"


header_text = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=30)


@EXAMPLES
@given(
    st.fixed_dictionaries(
        {},
        optional={
            name: header_text
            for name in (
                "X-Forwarded-For",
                "X-Forwarded-Proto",
                "X-Forwarded-Host",
                "X-Forwarded-Port",
                "X-Forwarded-Prefix",
            )
        },
    )
)
def test_any_header_values_never_a_500(headers):
    app = _FUZZ_APP
    environ = build_environ("/", headers={"Host": "localhost", **headers})
    statuses = []
    body = b"".join(app(environ, lambda status, hdrs, exc=None: statuses.append(status)))
    assert statuses[0][:3] in ("200", "400"), body
    if statuses[0][:3] == "400":  # only a forwarded host can make the request's host bad
        assert "X-Forwarded-Host" in headers


def _make_fuzz_app():
    import tempfile

    app = seen_app(tempfile.mkdtemp(), trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    app.logger.disabled = False
    return app


_FUZZ_APP = _make_fuzz_app()


def test_fuzzed_headers_log_no_error(caplog):
    environ = build_environ("/", headers={"X-Forwarded-For": "\x00,[", "X-Forwarded-Port": "9x"})
    with caplog.at_level(logging.ERROR):
        list(_FUZZ_APP(environ, lambda *a: None))
    assert not caplog.records


# -- the oracle: werkzeug's ProxyFix, one trusted hop -----------------------------------------

public_v4 = st.ip_addresses(v=4).filter(lambda ip: ip.is_global)
public_v6 = st.ip_addresses(v=6).filter(lambda ip: ip.is_global and ip.ipv4_mapped is None)
clients = st.one_of(public_v4, public_v6).map(str)
# Values a client may have sent before the proxy appended its own.
forged = st.lists(st.text("abcxyz0189.:-", min_size=1, max_size=8), max_size=2)
labels = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=6)
names = st.one_of(
    st.lists(labels, min_size=1, max_size=3).map(".".join),
    public_v4.map(str),
    public_v6.map(lambda ip: f"[{ip}]"),
)
ports = st.integers(1, 65535).map(str)
hosts = st.tuples(names, st.none() | ports).map(lambda hp: hp[0] + (f":{hp[1]}" if hp[1] else ""))
prefixes = st.lists(st.text("abc019-_.~", min_size=1, max_size=5), min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(parts)
)


def _list_header(forged_values, real):
    return ", ".join([*forged_values, real])


@EXAMPLES
@given(
    client=st.none() | clients,
    proto=st.none() | st.sampled_from(["http", "https"]),
    host=st.none() | hosts,
    port=st.none() | ports,
    prefix=st.none() | prefixes,
    extra=st.fixed_dictionaries({k: forged for k in ("for", "proto", "host", "port", "prefix")}),
)
def test_one_trusted_hop_agrees_with_proxyfix(client, proto, host, port, prefix, extra):
    headers = {}
    for name, key, value in [
        ("X-Forwarded-For", "for", client),
        ("X-Forwarded-Proto", "proto", proto),
        ("X-Forwarded-Host", "host", host),
        ("X-Forwarded-Port", "port", port),
        ("X-Forwarded-Prefix", "prefix", prefix),
    ]:
        if value is not None:
            headers[name] = _list_header(extra[key], value)
    ours = build_environ("/", headers=headers, environ_overrides={"SERVER_PORT": "8000"})
    theirs = dict(ours)
    _ORACLE_PROXIES.rewrite(ours)
    captured = {}
    ProxyFix(
        lambda environ, start_response: captured.update(environ) or [],
        x_for=1,
        x_proto=1,
        x_host=1,
        x_port=1,
        x_prefix=1,
    )(theirs, None)
    keys = ["REMOTE_ADDR", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SCRIPT_NAME"]
    if port is not None or (host is not None and not host.endswith("]") and ":" in host):
        keys.append("SERVER_PORT")  # else ProxyFix keeps the port the proxy connected to
    assert {k: ours.get(k) for k in keys} == {k: captured.get(k) for k in keys}
    assert ours[ORIGINAL] == captured["werkzeug.proxy_fix.orig"]


_ORACLE_PROXIES = TrustedProxies(parse_trusted_proxies(["127.0.0.1"]))


def test_where_proxyfix_differs_two_proxies():
    # ProxyFix(x_for=1) would take the second proxy's address as the client.
    proxies = TrustedProxies(parse_trusted_proxies(["127.0.0.1", "10.0.0.0/8"]))
    environ = build_environ("/", headers={"X-Forwarded-For": "203.0.113.5, 10.0.0.2"})
    theirs = dict(environ)
    proxies.rewrite(environ)
    ProxyFix(lambda e, s: [], x_for=1)(theirs, None)
    assert (environ["REMOTE_ADDR"], theirs["REMOTE_ADDR"]) == ("203.0.113.5", "10.0.0.2")


# -- gunicorn and check --deploy ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([], ""),
        (["127.0.0.1"], "127.0.0.1"),
        (["127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"], "127.0.0.1,::1,10.0.0.0/8,fd00::/8"),
        (["192.0.2.1/32", "0.0.0.0/0"], "192.0.2.1,0.0.0.0/0"),
    ],
)
def test_gunicorn_forwarded_allow_ips(value, expected):
    from gunicorn.config import Config as GunicornConfig

    got = gunicorn_forwarded_allow_ips({"trusted_proxies": value})
    assert got == expected
    cfg = GunicornConfig()
    cfg.set("forwarded_allow_ips", got)  # gunicorn's own validator takes it
    nets = cfg.forwarded_allow_networks()
    assert nets == [ipaddress.ip_network(n) for n in parse_trusted_proxies(value)]


def test_proxy_problems():
    assert proxy_problems({"trusted_proxies": []}) == []
    assert proxy_problems({"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]}) == []
    found = proxy_problems({"trusted_proxies": ["0.0.0.0/0", "::/0"]})
    assert len(found) == 2
    assert "'0.0.0.0/0', every address" in found[0]
    assert "trusted_proxies" in found[1]
    with pytest.raises(ConfigError):
        proxy_problems({"trusted_proxies": ["nope"]})


# -- the address parser: inet_pton, checked against ipaddress ---------------------------------

address_text = st.one_of(
    st.text("0123456789abcdefABCDEF:.%\x00\u0661", max_size=20),
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda ip: ip.exploded.upper()),
    st.ip_addresses(v=4).map(lambda ip: f"::ffff:{ip}"),
)


@EXAMPLES
@given(address_text)
def test_address_parser_agrees_with_ipaddress(text):
    from digwebs.proxies import _parse_ip

    try:
        expected = ipaddress.ip_address(text)
    except ValueError:
        expected = None
    got = _parse_ip(text)
    assert (got is None) == (expected is None)
    if expected is not None:
        if expected.version == 6 and expected.ipv4_mapped is not None:
            expected = expected.ipv4_mapped
        (version, value), canonical = got
        assert (version, value) == (expected.version, int(expected))
        assert ipaddress.ip_address(canonical) == expected
        if version == 4:
            assert canonical == str(expected)
