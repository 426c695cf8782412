"""``url_for(name, _external=True)``: absolute URLs from the request's host.

Flask's ``url_for(..., _external=True)`` (and ``_scheme=``) under the same
environ is the oracle, on generated hosts, schemes and mount points. Where
digwebs deliberately differs it is tested on its own:

* a mount point starting ``//`` stays on the site (Flask writes
  ``http://host//evil/...``);
* a malformed host is a 400 (Flask builds ``http:///path``);
* outside a request, ``_external`` defaults to False (Flask: True), and
  ``server_name`` is used only there (Flask uses ``SERVER_NAME`` in
  requests too, so links follow the request's validated host here).
"""

from __future__ import annotations

import flask
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digwebs import Digwebs, url_for
from digwebs.hosts import DisallowedHost

EXAMPLES = settings(max_examples=200, deadline=None)


@pytest.fixture
def app(tmp_path):
    app = Digwebs(tmp_path, debug=False)

    @app.get("/items/<item_id>", name="item")
    def item(item_id):
        return url_for("item", item_id=item_id, _external=True)

    return app


def test_in_a_request(app):
    res = app.test_client().get("/items/7", headers={"Host": "Example.COM"})
    assert res.text == "http://example.com/items/7"


@pytest.mark.parametrize(
    ("environ", "kwargs", "url"),
    [
        ({}, {}, "http://localhost/items/1"),
        ({"HTTP_HOST": "example.com:80"}, {}, "http://example.com/items/1"),
        ({"HTTP_HOST": "example.com:8080"}, {}, "http://example.com:8080/items/1"),
        (
            {"HTTP_HOST": "example.com:443", "wsgi.url_scheme": "https"},
            {},
            "https://example.com/items/1",
        ),
        ({"HTTP_HOST": "example.com:80"}, {"_scheme": "https"}, "https://example.com/items/1"),
        ({"HTTP_HOST": "[::1]:8000"}, {}, "http://[::1]:8000/items/1"),
        ({"SCRIPT_NAME": "/app/"}, {}, "http://localhost/app/items/1"),
        ({"SCRIPT_NAME": "//evil.example"}, {}, "http://localhost/evil.example/items/1"),
        ({}, {"q": "a b", "_anchor": "top"}, "http://localhost/items/1?q=a+b#top"),
    ],
)
def test_scheme_host_port_and_mount_point(app, environ, kwargs, url):
    with app.test_request_context("/", environ_overrides=environ):
        assert app.url_for("item", item_id=1, _external=True, **kwargs) == url


def test_scheme_implies_external_and_needs_it(app):
    with app.test_request_context("/"):
        assert app.url_for("item", item_id=1, _scheme="https") == "https://localhost/items/1"
        assert app.url_for("item", item_id=1) == "/items/1"
        assert app.url_for("item", item_id=1, _external=False) == "/items/1"
        with pytest.raises(ValueError, match="'_scheme' needs '_external=True'"):
            app.url_for("item", item_id=1, _scheme="https", _external=False)


def test_behind_a_trusted_proxy(tmp_path):
    app = Digwebs(tmp_path, trusted_proxies=["127.0.0.1"], allowed_hosts=["example.com"])

    @app.get("/here", name="here")
    def here():
        return url_for("here", _external=True)

    headers = {
        "Host": "127.0.0.1:8000",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "example.com",
        "X-Forwarded-Prefix": "/shop",
    }
    assert app.test_client().get("/here", headers=headers).text == "https://example.com/shop/here"


def test_a_malformed_host_builds_no_url(app):
    with app.test_request_context("/", headers={"Host": "evil.example@site"}):
        with pytest.raises(DisallowedHost):
            app.url_for("item", item_id=1, _external=True)


def test_outside_a_request_needs_server_name(app):
    assert app.url_for("item", item_id=1) == "/items/1"
    with pytest.raises(RuntimeError, match="outside a request: set the server_name setting"):
        app.url_for("item", item_id=1, _external=True)


@pytest.mark.parametrize(
    ("config", "kwargs", "url"),
    [
        ({"server_name": "example.com"}, {}, "http://example.com/items/1"),
        ({"server_name": "Example.com:8443"}, {}, "http://example.com:8443/items/1"),
        (
            {"server_name": "example.com:443", "preferred_url_scheme": "https"},
            {},
            "https://example.com/items/1",
        ),
        ({"server_name": "example.com"}, {"_scheme": "https"}, "https://example.com/items/1"),
    ],
)
def test_outside_a_request_with_server_name(tmp_path, config, kwargs, url):
    app = Digwebs(tmp_path, **config)
    app.add_route("/items/<item_id>", lambda item_id: "", name="item")
    assert app.url_for("item", item_id=1, _external=True, **kwargs) == url


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"server_name": "a b"}, "server_name must be a host name"),
        ({"server_name": 8000}, "server_name must be a host name"),
        ({"preferred_url_scheme": "ftp"}, "preferred_url_scheme must be 'http' or 'https'"),
    ],
)
def test_bad_server_settings_stop_start_up(tmp_path, config, match):
    from digwebs import ConfigError

    with pytest.raises(ConfigError, match=match):
        Digwebs(tmp_path, **config)


def test_the_template_global_takes_external(tmp_path):
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "link.html").write_text(
        "{{ url_for('item', item_id=2, _external=True) }} "
        "{{ url_for('item', item_id=3, _scheme='https') }}"
    )
    app = Digwebs(tmp_path)
    app.add_route("/items/<item_id>", lambda item_id: "", name="item")
    with app.test_request_context("/", headers={"Host": "example.com"}):
        html = app.render_template("link.html", {})
    assert html == "http://example.com/items/2 https://example.com/items/3"


# -- the oracle: Flask -----------------------------------------------------------------------

labels = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=6)
domains = st.lists(labels, min_size=1, max_size=3).map(".".join)
names = st.one_of(
    domains,
    domains.map(lambda d: d.upper() + "."),  # case and the final dot kept as sent
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
)
ports = st.sampled_from(["", ":80", ":443", ":8000", ":65535"])
hosts = st.tuples(names, ports).map("".join)
mounts = st.lists(st.text("abc019-_.~", min_size=1, max_size=5), max_size=2).map(
    lambda parts: "".join("/" + p for p in parts)
)
# No "/": digwebs quotes it in a one-segment parameter (see routing/test_rules.py).
values = st.text("abcXYZ019-_.~ %?#&", min_size=1, max_size=8)


def _flask_app():
    fapp = flask.Flask(__name__)
    fapp.add_url_rule("/items/<item_id>", "item", lambda item_id: "")
    return fapp


_FLASK = _flask_app()
_DIGWEBS = Digwebs("/nonexistent-root")
_DIGWEBS.add_route("/items/<item_id>", lambda item_id: "", name="item")


@EXAMPLES
@given(
    host=hosts,
    scheme=st.sampled_from(["http", "https"]),
    mount=mounts,
    value=values,
    override=st.sampled_from([None, "http", "https"]),
    slash=st.booleans(),
)
def test_agrees_with_flask(host, scheme, mount, value, override, slash):
    environ = {
        "HTTP_HOST": host,
        "wsgi.url_scheme": scheme,
        "SCRIPT_NAME": mount + ("/" if slash and mount else ""),
    }
    kwargs = {"_external": True} if override is None else {"_scheme": override}
    with _FLASK.test_request_context("/", environ_overrides=environ):
        theirs = flask.url_for("item", item_id=value, **kwargs)
    with _DIGWEBS.test_request_context("/", environ_overrides=environ):
        ours = url_for("item", item_id=value, **kwargs)
    assert ours == theirs


def test_test_request_context_does_not_freeze_registration(tmp_path):
    app = Digwebs(tmp_path, trusted_proxies=["127.0.0.1"])
    with app.test_request_context("/", headers={"X-Forwarded-Proto": "https"}):
        pass
    app.add_route("/later", lambda: "", name="later")  # still allowed
    with app.test_request_context("/", headers={"X-Forwarded-Proto": "https"}):
        assert app.url_for("later", _external=True) == "https://localhost/later"
