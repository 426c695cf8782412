"""Host validation: a malformed host, or one not in ``allowed_hosts``, gets 400.

Oracles: werkzeug's ``host_is_trusted`` and Django's ``split_domain_port`` /
``validate_host`` (Django is a test-only dependency). The syntax digwebs
accepts is exactly what both accept (where they differ, Django takes any
port digits, werkzeug 1-65535 without leading zeros: the stricter is
followed); matching follows Django, which ignores a final dot, and
``.example.com`` means the domain and its subdomains in both. digwebs adds
``*.example.com``, the subdomains only (nginx's ``server_name`` wildcard).
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.sansio.utils import host_is_trusted

from digwebs import ConfigError, Digwebs, api
from digwebs.hosts import (
    DisallowedHost,
    HostCheck,
    host_problems,
    match_host,
    parse_allowed_hosts,
    split_host,
)
from digwebs.testing import build_environ

django_request = pytest.importorskip("django.http.request")

EXAMPLES = settings(max_examples=200, deadline=None)


def make_app(tmp_path, **config):
    app = Digwebs(tmp_path, debug=False, **config)

    @app.get("/")
    def home():
        return "home"

    @app.get("/api/items")
    @api
    def items():
        return {"items": []}

    return app


def status(app, host, path="/", **kwargs):
    headers = {} if host is None else {"Host": host}
    return app.test_client().get(path, headers=headers, **kwargs).status_code


# -- syntax: always checked ----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "example.com",
        "EXAMPLE.com",
        "example.com.",
        "example.com:8000",
        "192.0.2.1",
        "192.0.2.1:65535",
        "[::1]",
        "[::1]:8000",
        "[2001:db8::1]",
        "xn--bcher-kva.example",
    ],
)
def test_well_formed_hosts_pass_without_allowed_hosts(tmp_path, host):
    assert status(make_app(tmp_path), host) == 200


@pytest.mark.parametrize(
    "host",
    [
        "",
        "a b",
        "evil.example@site",
        "site/evil",
        "site:0",
        "site:65536",
        "site:080",
        "site:",
        "site:http",
        "[::1",
        "::1",
        ".",
        "b\u00fccher.example",
        "site\x00",
        "site\t",
        "site\\evil",
        "site#",
        "\u212a.example",  # the Kelvin sign lower-cases to "k"
    ],
)
def test_malformed_hosts_are_400_whatever_allowed_hosts_says(tmp_path, host):
    assert status(make_app(tmp_path), host) == 400
    assert status(make_app(tmp_path, allowed_hosts=["*"]), host) == 400


def test_no_host_header_uses_the_server_name(tmp_path):
    app = make_app(tmp_path)

    def answer(app, **environ):
        env = build_environ("/", environ_overrides=environ)
        del env["HTTP_HOST"]
        statuses = []
        list(app(env, lambda s, h, e=None: statuses.append(s)))
        return int(statuses[0][:3])

    # An HTTP/1.0 request: the name is the server's own, never the client's mistake.
    assert answer(app, SERVER_NAME="/tmp/app.sock", SERVER_PORT="") == 200
    strict = make_app(tmp_path, allowed_hosts=["example.com"])
    assert answer(strict, SERVER_NAME="example.com", SERVER_PORT="8000") == 200
    assert answer(strict, SERVER_NAME="0.0.0.0", SERVER_PORT="8000") == 400


# -- allowed_hosts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patterns", "host", "allowed"),
    [
        (["example.com"], "example.com", True),
        (["example.com"], "EXAMPLE.COM:8443", True),  # case and port ignored
        (["example.com"], "example.com.", True),  # the final dot, as Django
        (["example.com"], "www.example.com", False),
        (["example.com"], "evilexample.com", False),
        (["*.example.com"], "www.example.com", True),
        (["*.example.com"], "a.b.example.com", True),
        (["*.example.com"], "example.com", False),  # subdomains only, as nginx
        (["*.example.com"], "evilexample.com", False),
        ([".example.com"], "example.com", True),  # both, as Django and nginx
        ([".example.com"], "www.example.com", True),
        ([".example.com"], "evilexample.com", False),
        (["*"], "anything.example", True),
        (["[::1]"], "[::1]:8000", True),
        (["::1"], "[::1]", True),  # a bare IPv6 address is bracketed
        (["192.0.2.1"], "192.0.2.1:80", True),
        (["192.0.2.1"], "192.0.2.10", False),
        (["B\u00fccher.Example"], "xn--bcher-kva.example", True),  # IDNA-encoded
        (["example.com", "other.org"], "other.org", True),
        (["example.com"], "other.org", False),
    ],
)
def test_allowed_hosts_patterns(tmp_path, patterns, host, allowed):
    assert status(make_app(tmp_path, allowed_hosts=patterns), host) == (200 if allowed else 400)


def test_empty_allowed_hosts_allows_any_host(tmp_path):
    assert status(make_app(tmp_path), "anything.example") == 200
    assert parse_allowed_hosts([]) == ()


def test_setting_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_ALLOWED_HOSTS", '["example.com"]')
    app = make_app(tmp_path)
    assert status(app, "example.com") == 200
    assert status(app, "evil.example") == 400


def test_setting_from_the_environment_as_a_comma_list(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_ALLOWED_HOSTS", "example.com, www.example.com")
    app = make_app(tmp_path)
    assert status(app, "www.example.com") == 200
    assert status(app, "evil.example") == 400


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (["a b"], r"'a b' is not a host name"),
        (["example.com:8000"], r"ports are not compared, so write 'example\.com'"),
        (["*.*.example.com"], r"a pattern is '\*\.example\.com'"),
        (["exa*mple.com"], r"a pattern is"),
        ([""], r"'' is not a host name"),
        ([3], r"entries must be strings"),
        ({"example.com": 1}, r"must be a list of host names"),
    ],
)
def test_bad_entries_stop_start_up(tmp_path, value, match):
    with pytest.raises(ConfigError, match=match):
        Digwebs(tmp_path, allowed_hosts=value)


# -- the answer ------------------------------------------------------------------------------


def test_the_400_page_names_the_host_and_the_setting(tmp_path):
    app = make_app(tmp_path, allowed_hosts=["example.com"])
    res = app.test_client().get("/", headers={"Host": "evil.example:8000"})
    assert res.status_code == 400
    assert res.headers["Content-Type"].startswith("text/html")
    assert "&#x27;evil.example:8000&#x27;" in res.text
    assert "allowed_hosts" in res.text
    assert "add &#x27;evil.example&#x27;" in res.text


def test_a_malformed_host_page_says_so(tmp_path):
    res = make_app(tmp_path).test_client().get("/", headers={"Host": "<b>x</b>"})
    assert res.status_code == 400
    assert "is not a valid host name" in res.text
    assert "<b>" not in res.text  # escaped


def test_json_for_api_paths_and_json_clients(tmp_path):
    app = make_app(tmp_path, allowed_hosts=["example.com"])
    client = app.test_client()
    res = client.get("/api/items", headers={"Host": "evil.example"})
    assert res.status_code == 400
    assert res.json["error"] == "http:400"
    assert "allowed_hosts" in res.json["message"]
    res = client.get("/", headers={"Host": "evil.example", "Accept": "application/json"})
    assert res.json["error"] == "http:400"


def test_the_projects_400_handler_answers(tmp_path):
    app = make_app(tmp_path, allowed_hosts=["example.com"])

    @app.errorhandler(DisallowedHost)
    def refused(error):
        return f"not here: {error.host}", 400

    res = app.test_client().get("/", headers={"Host": "evil.example"})
    assert (res.status_code, res.text) == (400, "not here: evil.example")


def test_a_failing_400_handler_is_a_500(tmp_path):
    app = make_app(tmp_path, allowed_hosts=["example.com"])

    @app.errorhandler(400)
    def broken(error):
        raise RuntimeError("boom")

    app.logger.disabled = True
    try:
        assert status(app, "evil.example") == 500
    finally:
        app.logger.disabled = False


def test_no_error_is_logged(tmp_path, caplog):
    app = make_app(tmp_path, allowed_hosts=["example.com"])
    with caplog.at_level(logging.DEBUG):
        assert status(app, "evil.example") == 400
        assert status(app, "a b") == 400
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_route_never_runs(tmp_path):
    app = Digwebs(tmp_path, allowed_hosts=["example.com"])
    calls = []

    @app.get("/")
    def home():
        calls.append(1)
        return "home"

    assert status(app, "evil.example") == 400
    assert calls == []


def test_global_middleware_never_runs(tmp_path):
    app = make_app(tmp_path, allowed_hosts=["example.com"])
    calls = []

    def outer(ctx, next):
        calls.append(1)
        return next()

    app.use(outer)
    assert status(app, "evil.example") == 400
    assert status(app, "example.com") == 200
    assert calls == [1]


def test_the_forwarded_host_is_checked_behind_a_trusted_proxy(tmp_path):
    app = make_app(tmp_path, allowed_hosts=["example.com"], trusted_proxies=["127.0.0.1"])
    client = app.test_client()
    ok = client.get("/", headers={"Host": "backend:8000", "X-Forwarded-Host": "example.com"})
    assert ok.status_code == 200
    bad = client.get("/", headers={"Host": "example.com", "X-Forwarded-Host": "evil.example"})
    assert bad.status_code == 400
    # From a peer that is not trusted, the Host header is what counts.
    app2 = make_app(tmp_path, allowed_hosts=["example.com"], trusted_proxies=["10.0.0.1"])
    assert (
        app2.test_client()
        .get("/", headers={"Host": "example.com", "X-Forwarded-Host": "evil.example"})
        .status_code
        == 200
    )


def test_known_hosts_are_bounded(tmp_path):
    app = make_app(tmp_path)
    for i in range(100):
        assert status(app, f"h{i}.example") == 200
    assert 0 < len(app._known_hosts) <= 64
    assert status(app, "a b") == 400  # still checked once the set is full


def test_host_check_callable():
    check = HostCheck(parse_allowed_hosts(["example.com"]))
    assert check(build_environ("/", headers={"Host": "example.com"})) is None
    refused = check(build_environ("/", headers={"Host": "evil.example"}))
    assert isinstance(refused, DisallowedHost)
    assert refused.code == 400 and refused.host == "evil.example"


def test_host_problems():
    assert "allowed_hosts is empty" in host_problems({"allowed_hosts": []})[0]
    assert "contains '*'" in host_problems({"allowed_hosts": ["*"]})[0]
    assert host_problems({"allowed_hosts": ["example.com"]}) == []
    with pytest.raises(ConfigError):
        host_problems({"allowed_hosts": ["a b"]})


# -- the oracles -----------------------------------------------------------------------------

# Every character class the two parsers treat differently.
HOST_ALPHABET = "aZ09.-:[]_@/ \t%\u00fc\u212a\u0130"
host_text = st.one_of(
    st.text(HOST_ALPHABET, max_size=12),
    st.builds(
        lambda name, port: f"{name}:{port}",
        st.text("az09.-", min_size=1, max_size=6),
        st.text("0123456789", min_size=0, max_size=6),
    ),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
)


def _django_valid(host: str) -> bool:
    return django_request.split_domain_port(host)[0] != ""


@EXAMPLES
@given(host_text)
def test_syntax_is_what_django_and_werkzeug_both_accept(host):
    assert (split_host(host) is not None) == (_django_valid(host) and host_is_trusted(host))


labels = st.sampled_from(["a", "b", "example", "com", "xn--bcher-kva"])
domains = st.lists(labels, min_size=1, max_size=3).map(".".join)
patterns = st.one_of(domains, domains.map(lambda d: "." + d), st.just("*"))


@EXAMPLES
@given(
    host=st.tuples(domains, st.sampled_from(["", "."]), st.sampled_from(["", ":8000"])).map(
        "".join
    ),
    allowed=st.lists(patterns, max_size=3),
)
def test_matching_agrees_with_django(host, allowed):
    domain, _ = django_request.split_domain_port(host)
    ours = match_host(split_host(host)[0], parse_allowed_hosts(allowed))
    assert ours == django_request.validate_host(domain, allowed)
    if allowed and not host.split(":")[0].endswith(".") and "*" not in allowed:
        # werkzeug agrees too, but for the final dot (it does not strip it)
        # and an empty list (which allows any host there).
        assert ours == host_is_trusted(host, allowed)


@EXAMPLES
@given(host=domains, domain=domains)
def test_star_pattern_is_the_dot_pattern_without_the_domain_itself(host, domain):
    star = match_host(host, parse_allowed_hosts([f"*.{domain}"]))
    assert star == (django_request.validate_host(host, [f".{domain}"]) and host != domain)
