"""Signed-cookie sessions and flash messages, through the test client."""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from digwebs import Digwebs, flash, get_flashed_messages, redirect, session, view

SECRET = "shared-secret-for-every-process-0123"


def make_app(root: Path, **config: object) -> Digwebs:
    """A small app with session routes; several instances may share ``root``."""
    config.setdefault("secret_key", SECRET)
    app = Digwebs(root_path=root, **config)

    @app.get("/set/<key>/<value>")
    def set_value(key, value):
        session[key] = value
        return "ok"

    @app.get("/get/<key>")
    def get_value(key):
        return session.get(key, "<missing>")

    @app.get("/all")
    def all_values():
        return dict(session)

    @app.get("/clear")
    def clear():
        session.clear()
        return "cleared"

    @app.get("/read-only")
    def read_only():
        return str(len(session))

    @app.get("/nothing")
    def nothing():
        return "no session"

    @app.get("/count")
    def count():
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    return app


def cookie_header(resp, name="session") -> str:
    [header] = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    return header


def cookie_value(resp, name="session") -> str:
    return cookie_header(resp, name).split(";", 1)[0].split("=", 1)[1]


def attributes(header: str) -> dict[str, str]:
    result = {}
    for part in header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        result[key.lower()] = value
    return result


# -- basics --------------------------------------------------------------------


def test_session_survives_between_requests(tmp_path):
    client = make_app(tmp_path).test_client()
    assert client.get("/get/user").text == "<missing>"
    assert client.get("/set/user/ann").text == "ok"
    assert client.get("/get/user").text == "ann"
    assert [client.get("/count").text for _ in range(3)] == ["1", "2", "3"]
    assert client.get("/all").json == {"user": "ann", "n": 3}


def test_session_is_dict_like(tmp_path):
    app = make_app(tmp_path)

    @app.get("/dict")
    def dict_ops():
        session["a"] = 1
        session.update(b=2)
        session.setdefault("c", 3)
        assert "a" in session and len(session) == 3
        assert session.pop("b") == 2
        del session["c"]
        return {"keys": sorted(session.keys()), "items": dict(session.items())}

    client = app.test_client()
    assert client.get("/dict").json == {"keys": ["a"], "items": {"a": 1}}
    assert client.get("/all").json == {"a": 1}


def test_unmodified_session_sets_no_cookie(tmp_path):
    client = make_app(tmp_path).test_client()
    assert "Set-Cookie" not in client.get("/read-only").headers
    client.get("/set/x/1")
    resp = client.get("/read-only")
    assert resp.text == "1"
    assert "Set-Cookie" not in resp.headers


def test_session_use_adds_vary_cookie(tmp_path):
    client = make_app(tmp_path).test_client()
    assert client.get("/read-only").headers["Vary"] == "Cookie"
    assert "Vary" not in client.get("/nothing").headers


def test_cleared_session_deletes_the_cookie(tmp_path):
    client = make_app(tmp_path).test_client()
    client.get("/set/x/1")
    resp = client.get("/clear")
    header = cookie_header(resp)
    assert header.startswith("session=;") or header.startswith('session="";')
    assert attributes(header)["max-age"] == "0"
    assert "session" not in client.cookies
    assert client.get("/get/x").text == "<missing>"


def test_clearing_an_empty_new_session_sends_nothing(tmp_path):
    client = make_app(tmp_path).test_client()
    assert "Set-Cookie" not in client.get("/clear").headers


def test_cookie_holds_signed_data_not_server_state(tmp_path):
    client = make_app(tmp_path).test_client()
    resp = client.get("/set/user/ann")
    raw = cookie_value(resp)
    data = URLSafeTimedSerializer(SECRET, salt="digwebs.session").loads(raw)
    assert data == {"user": "ann"}


# -- many processes, no server state --------------------------------------------------


def test_two_app_instances_with_one_secret_share_sessions(tmp_path):
    first = make_app(tmp_path).test_client()
    second = make_app(tmp_path).test_client()  # another process or machine
    raw = cookie_value(first.get("/set/user/ann"))
    resp = second.get("/get/user", headers={"Cookie": f"session={raw}"})
    assert resp.text == "ann"
    # The second one can change it and the first one sees the change.
    raw2 = cookie_value(second.get("/set/role/admin", headers={"Cookie": f"session={raw}"}))
    assert first.get("/all", headers={"Cookie": f"session={raw2}"}).json == {
        "user": "ann",
        "role": "admin",
    }


def test_another_secret_does_not_read_the_session(tmp_path):
    first = make_app(tmp_path).test_client()
    other = make_app(tmp_path, secret_key="a-completely-different-secret-987").test_client()
    raw = cookie_value(first.get("/set/user/ann"))
    resp = other.get("/get/user", headers={"Cookie": f"session={raw}"})
    assert (resp.status_code, resp.text) == (200, "<missing>")


# -- tampering and expiry ------------------------------------------------------------------


def _flip(text: str, index: int) -> str:
    char = text[index]
    return text[:index] + ("A" if char != "A" else "B") + text[index + 1 :]


def _forged_cookies() -> dict[str, str]:
    good = URLSafeTimedSerializer(SECRET, salt="digwebs.session").dumps({"user": "ann"})
    payload, timestamp, signature = good.rsplit(".", 2)
    admin = URLSafeTimedSerializer(SECRET, salt="digwebs.session").dumps({"user": "admin"})
    return {
        "payload changed": _flip(good, 2),
        "signature changed": _flip(good, len(good) - 3),
        "payload swapped": admin.split(".", 1)[0] + "." + good.split(".", 1)[1],
        "signed with another key": URLSafeTimedSerializer(
            "not-our-secret-0123456789", salt="digwebs.session"
        ).dumps({"user": "admin"}),
        "signed with another salt": URLSafeTimedSerializer(SECRET, salt="other").dumps(
            {"user": "admin"}
        ),
        "no signature": payload,
        "garbage": "%%%not-a-cookie%%%",
        "bad base64": "!!!!." + timestamp + "." + signature,
        "empty parts": "..",
        "very long": "x" * 3000,
        "non-ascii": "caf\u00e9.abc.def",
    }


@pytest.mark.parametrize("kind", sorted(_forged_cookies()))
def test_tampered_cookie_gives_an_empty_session_not_an_error(tmp_path, kind):
    client = make_app(tmp_path, debug=False).test_client()
    value = _forged_cookies()[kind]
    resp = client.get("/all", headers={"Cookie": f"session={value}"})
    assert resp.status_code == 200
    assert resp.json == {}


def test_validly_signed_non_dict_is_ignored(tmp_path):
    client = make_app(tmp_path).test_client()
    value = URLSafeTimedSerializer(SECRET, salt="digwebs.session").dumps(["not", "a", "dict"])
    assert client.get("/all", headers={"Cookie": f"session={value}"}).json == {}


def test_tampered_cookie_can_be_replaced_by_a_fresh_session(tmp_path):
    client = make_app(tmp_path).test_client()
    raw = cookie_value(client.get("/set/user/ann"))
    resp = client.get("/set/user/bob", headers={"Cookie": f"session={_flip(raw, 2)}"})
    assert resp.status_code == 200
    fresh = cookie_value(resp)
    assert client.get("/all", headers={"Cookie": f"session={fresh}"}).json == {"user": "bob"}


def test_expired_cookie_gives_an_empty_session(tmp_path, monkeypatch):
    client = make_app(tmp_path, session_max_age=60).test_client()
    raw = cookie_value(client.get("/set/user/ann"))
    assert client.get("/get/user", headers={"Cookie": f"session={raw}"}).text == "ann"
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 59)
    assert client.get("/get/user", headers={"Cookie": f"session={raw}"}).text == "ann"
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 120)
    resp = client.get("/get/user", headers={"Cookie": f"session={raw}"})
    assert (resp.status_code, resp.text) == (200, "<missing>")


def test_without_max_age_sessions_do_not_expire(tmp_path, monkeypatch):
    client = make_app(tmp_path, session_max_age=None).test_client()
    resp = client.get("/set/user/ann")
    attrs = attributes(cookie_header(resp))
    assert "max-age" not in attrs and "expires" not in attrs
    raw = cookie_value(resp)
    later = int(time.time()) + 10 * 365 * 24 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert client.get("/get/user", headers={"Cookie": f"session={raw}"}).text == "ann"


# -- cookie flags ---------------------------------------------------------------------


def test_cookie_flags_by_default(tmp_path):
    resp = make_app(tmp_path).test_client().get("/set/a/b")
    attrs = attributes(cookie_header(resp))
    assert "httponly" in attrs
    assert attrs["samesite"] == "Lax"
    assert attrs["path"] == "/"
    assert "secure" not in attrs
    assert attrs["max-age"] == str(31 * 24 * 3600)


def test_cookie_flags_when_configured(tmp_path):
    app = make_app(
        tmp_path,
        session_cookie_secure=True,
        session_max_age=600,
        session_cookie_name="sid",
        session_cookie_samesite="Strict",
        session_cookie_domain="example.com",
    )
    resp = app.test_client().get("/set/a/b")
    header = cookie_header(resp, "sid")
    attrs = attributes(header)
    assert "secure" in attrs
    assert "httponly" in attrs
    assert attrs["max-age"] == "600"
    assert attrs["samesite"] == "Strict"
    assert attrs["domain"] == "example.com"


HTTPS = {"wsgi.url_scheme": "https"}


def test_the_cookie_is_secure_when_the_request_is_https(tmp_path):
    # session_cookie_secure = None (the default) follows the request's scheme.
    client = make_app(tmp_path).test_client()
    assert "secure" in attributes(cookie_header(client.get("/set/a/b", environ_overrides=HTTPS)))
    assert "secure" not in attributes(cookie_header(client.get("/set/a/c")))
    # Deleting it carries the same flag.
    resp = client.get("/clear", environ_overrides=HTTPS)
    assert "secure" in attributes(cookie_header(resp))


def test_the_cookie_is_secure_behind_a_trusted_https_proxy(tmp_path):
    forwarded = {"X-Forwarded-Proto": "https"}
    client = make_app(tmp_path, trusted_proxies=["127.0.0.1"]).test_client()
    assert "secure" in attributes(cookie_header(client.get("/set/a/b", headers=forwarded)))
    client = make_app(tmp_path).test_client()
    assert "secure" not in attributes(cookie_header(client.get("/set/a/b", headers=forwarded)))


@pytest.mark.parametrize(
    ("setting", "over_http", "over_https"), [(True, True, True), (False, False, False)]
)
def test_session_cookie_secure_true_or_false_forces_it(tmp_path, setting, over_http, over_https):
    client = make_app(tmp_path, session_cookie_secure=setting).test_client()
    http = "secure" in attributes(cookie_header(client.get("/set/a/b")))
    https = "secure" in attributes(cookie_header(client.get("/set/a/c", environ_overrides=HTTPS)))
    assert (http, https) == (over_http, over_https)


def test_cookie_flags_from_config_files_and_environment(tmp_path, monkeypatch):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "default.toml").write_text("session_cookie_secure = true\n")
    monkeypatch.setenv("DIGWEBS_SESSION_MAX_AGE", "120")
    resp = make_app(tmp_path).test_client().get("/set/a/b")
    attrs = attributes(cookie_header(resp))
    assert "secure" in attrs
    assert attrs["max-age"] == "120"


def test_session_in_production(tmp_path):
    app = make_app(tmp_path, env="production")
    client = app.test_client()
    client.get("/set/user/ann")
    assert client.get("/get/user").text == "ann"


# -- no secret -------------------------------------------------------------------------


def test_writing_a_session_without_secret_key_explains_in_debug(tmp_path, caplog):
    app = make_app(tmp_path, secret_key=None)
    client = app.test_client()
    assert client.get("/get/user").text == "<missing>"  # reading is harmless
    with caplog.at_level(logging.ERROR, logger="digwebs"):
        resp = client.get("/set/user/ann")
    assert resp.status_code == 500
    assert "no secret_key" in resp.text
    assert "DIGWEBS_SECRET_KEY" in resp.text
    assert "Set-Cookie" not in resp.headers
    assert any("/set/user/ann" in r.getMessage() for r in caplog.records)


def test_oversized_session_is_logged(tmp_path, caplog):
    app = make_app(tmp_path)

    @app.get("/big")
    def big():
        session["blob"] = secrets.token_hex(3000)  # incompressible
        return "ok"

    with caplog.at_level(logging.WARNING, logger="digwebs"):
        app.test_client().get("/big")
    assert any("4 KB" in r.getMessage() for r in caplog.records)


# -- flash -------------------------------------------------------------------------------


def make_flash_app(root: Path) -> Digwebs:
    (root / "views").mkdir(exist_ok=True)
    (root / "views" / "messages.html").write_text(
        "{% for m in get_flashed_messages() %}<p>{{ m }}</p>{% endfor %}", encoding="utf-8"
    )
    app = make_app(root)

    @app.post("/save")
    def save():
        flash("Saved <draft>")
        flash("Check your mail", "info")
        return redirect("/messages")

    @app.get("/messages")
    @view("messages.html")
    def messages():
        return {}

    @app.get("/categories")
    def categories():
        return {"all": get_flashed_messages(with_categories=True)}

    @app.get("/filtered")
    def filtered():
        return {
            "info": get_flashed_messages(category_filter=["info"]),
            "again": get_flashed_messages(category_filter=["info"]),
        }

    return app


def test_flash_then_redirect_shows_the_messages_once(tmp_path):
    client = make_flash_app(tmp_path).test_client()
    resp = client.post("/save", follow_redirects=True)
    assert resp.status_code == 200
    assert resp.text == "<p>Saved &lt;draft&gt;</p><p>Check your mail</p>"
    assert client.get("/messages").text == ""


def test_flash_messages_survive_across_app_instances(tmp_path):
    first = make_flash_app(tmp_path).test_client()
    second = make_flash_app(tmp_path).test_client()
    raw = cookie_value(first.post("/save"))
    resp = second.get("/messages", headers={"Cookie": f"session={raw}"})
    assert resp.text == "<p>Saved &lt;draft&gt;</p><p>Check your mail</p>"


def test_flash_with_categories(tmp_path):
    client = make_flash_app(tmp_path).test_client()
    client.post("/save")
    assert client.get("/categories").json == {
        "all": [["message", "Saved <draft>"], ["info", "Check your mail"]]
    }
    assert client.get("/categories").json == {"all": []}


def test_flash_category_filter_within_one_request(tmp_path):
    client = make_flash_app(tmp_path).test_client()
    client.post("/save")
    # Calling twice in one request returns the same messages.
    expected = {"info": ["Check your mail"], "again": ["Check your mail"]}
    assert client.get("/filtered").json == expected
    # They were consumed, every category included.
    assert client.get("/categories").json == {"all": []}


def test_flash_outside_a_request_is_a_clear_error():
    with pytest.raises(RuntimeError, match="outside of a request context"):
        flash("nope")
