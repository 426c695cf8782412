"""The development error page: source, locals, folded framework frames, route, chain, request."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from digwebs import Digwebs, use
from digwebs.debug_page import REPR_LIMIT, is_framework_file, safe_repr

XSS = "<script>alert('x')</script>"


class BrokenRepr:
    def __repr__(self):
        raise RuntimeError("repr is broken")


def audit(ctx, next):
    return next()


def helper(value):
    inner_secret_token = "tok-" + "hidden"  # noqa: F841  # a masked local
    raise ValueError(f"bad value {value}")


def make_app(tmp_path, **config):
    app = Digwebs(root_path=tmp_path, **config)

    def timing(ctx, next):
        return next()

    app.use(timing, order=-5)
    app.use(audit, prefix="/boom")

    @app.get("/boom/<int:n>", name="boom_page")
    @use(audit)
    def boom(n):
        payload = XSS  # noqa: F841  # a local shown escaped
        long_text = "y" * 5000  # noqa: F841
        broken = BrokenRepr()  # noqa: F841
        helper(n)

    return app


@pytest.fixture
def page(tmp_path):
    app = make_app(tmp_path)
    resp = app.test_client().get(
        "/boom/7?q=needle",
        headers={
            "Authorization": "Bearer top-secret-bearer",
            "Cookie": "session=sess-value-123; theme=dark",
            "X-Trace": "trace-value",
        },
    )
    assert resp.status_code == 500
    assert resp.content_type.startswith("text/html")
    return resp.text


def frame_blocks(text):
    return re.findall(r'<div class="frame user">.*?</table></div>', text, re.DOTALL)


def test_locals_are_shown_escaped(page):
    assert XSS not in page
    assert "payload" in page
    assert html.escape(repr(XSS)) in page


def test_long_reprs_are_cut(page):
    assert "y" * 5000 not in page
    assert "y" * (REPR_LIMIT - 5) in page
    assert "more characters" in page


def test_a_repr_that_raises_does_not_break_the_page(page):
    assert "repr raised RuntimeError" in page


def test_secret_locals_headers_and_cookies_are_masked(page):
    for secret in ("tok-hidden", "top-secret-bearer", "sess-value-123"):
        assert secret not in page
    assert "trace-value" in page  # other headers are shown
    assert "session (session)" in page and "theme" in page  # cookie names only


def test_source_lines_around_the_failing_line(page):
    assert html.escape("helper(n)") in page
    assert html.escape('raise ValueError(f"bad value {value}")') in page
    assert 'class="cur"' in page


def test_framework_frames_are_folded_user_frames_stand_out(page):
    folded = re.findall(r'<details class="framework">(.*?)</details>', page, re.DOTALL)
    assert folded, "the digwebs frames are folded"
    assert all('<details class="framework" open' not in page for _ in folded)
    assert any("wsgi_app" in block for block in folded)
    user = re.findall(r'<div class="frame user"><div class="where">(\w+)', page)
    # The project's middleware are its own frames too, outermost first.
    assert user == ["timing", "audit", "audit", "boom", "helper"]


def test_route_handler_and_middleware_chain(page, tmp_path):
    assert "<th>Route</th><td>GET /boom/&lt;int:n&gt;</td>" in page
    assert "<th>Name</th><td>boom_page</td>" in page
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    first = 1 + next(i for i, line in enumerate(lines) if 'app.get("/boom/<int:n>"' in line)
    assert f"make_app.&lt;locals&gt;.boom  {__file__}:{first}</td>" in page  # the handler
    chain = re.search(r"<ol class=chain>(.*?)</ol>", page, re.DOTALL).group(1)
    names = re.findall(r"<li><code>([^<]+)</code>", chain)
    assert [n.rsplit(".", 1)[-1] for n in names] == ["timing", "audit", "audit"]
    assert "(global, order -5)" in chain and "(prefix /boom, order 0)" in chain
    assert f"test_debug_page.py:{audit.__code__.co_firstlineno}" in chain
    assert "n=7" in page  # the route's parameters


def test_request_and_plain_traceback(page):
    assert "http://localhost/boom/7?q=needle" in page
    assert "needle" in page
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.DOTALL).group(1)
    text = html.unescape(textarea)
    assert text.startswith("Traceback (most recent call last):")
    assert "ValueError: bad value 7" in text


def test_self_contained(page):
    assert "<style>" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<script" not in page
    assert "<link" not in page


def test_form_keys_when_the_handler_read_the_form(tmp_path):
    app = Digwebs(root_path=tmp_path)

    @app.post("/submit")
    def submit():
        from digwebs import request

        request.form  # noqa: B018
        raise RuntimeError("after reading")

    text = app.test_client().post("/submit", data={"title": "t", "password": "p"}).text
    assert "title, password" in text


def test_unread_body_is_not_read_for_the_page(tmp_path):
    app = Digwebs(root_path=tmp_path)

    @app.post("/submit")
    def submit():
        raise RuntimeError("before reading")

    text = app.test_client().post("/submit", data={"title": "t"}).text
    assert "(the body was not read)" in text


def test_error_in_global_middleware_without_a_route(tmp_path):
    app = Digwebs(root_path=tmp_path)

    def failing(ctx, next):
        raise KeyError("mw")

    app.use(failing)
    text = app.test_client().get("/anything").text
    assert "No route matched this request." in text
    assert "failing" in text


def test_production_shows_none_of_it(tmp_path):
    app = make_app(tmp_path, env="production", secret_key="s" * 40)
    resp = app.test_client().get("/boom/7", headers={"Authorization": "Bearer zzz"})
    assert resp.status_code == 500
    leaks = ("payload", "helper", "boom_page", "audit", "timing", "Traceback", "zzz")
    for leak in (*leaks, "<details", "test_debug_page"):
        assert leak not in resp.text


def test_safe_repr_and_framework_files():
    assert safe_repr("x" * 10, limit=4) == "'xxx… (8 more characters)"
    assert safe_repr(BrokenRepr()) == "<repr raised RuntimeError>"
    import digwebs.app

    assert is_framework_file(digwebs.app.__file__)
    assert is_framework_file("/usr/lib/python3/site-packages/gunicorn/workers/sync.py")
    assert is_framework_file("/venv/lib/gevent/greenlet.py")
    assert not is_framework_file(__file__)
