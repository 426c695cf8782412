from pathlib import Path

import pytest

from digwebs import Digwebs


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/css/site.css", "text/css"),
        ("/static/js/site.js", ("text/javascript", "application/javascript")),
        ("/static/images/logo.svg", "image/svg+xml"),
        ("/static/favicon.ico", "image/"),
        ("/favicon.ico", "image/"),  # where browsers ask for it
    ],
)
def test_static_files_are_served(client, path, content_type):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(content_type)


def test_unknown_page_uses_the_404_view(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert "Page not found" in r.text
    assert "/no/such/page" in r.text


def test_server_error_uses_the_500_view(monkeypatch, caplog):
    # A second app on this project, with a handler that fails. Outside
    # development digwebs answers with views/errors/500.html, not a traceback.
    monkeypatch.setenv("DIGWEBS_DEBUG", "false")
    app = Digwebs(root_path=Path(__file__).resolve().parent.parent)

    def fail():
        raise RuntimeError("boom")

    app.add_route("/fail", fail)
    r = app.test_client().get("/fail")
    assert r.status_code == 500
    assert "Something went wrong" in r.text
    assert "boom" not in r.text
    assert "boom" in caplog.text  # logged, with its traceback


def test_wrong_method_uses_the_405_view(client):
    r = client.post("/")
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"]
    assert "Method not allowed" in r.text
    assert "/static/css/site.css" in r.text  # the site's look, from base.html
    assert "GET" in r.text  # says which methods the page answers


def test_the_current_page_is_marked_and_styled(client):
    for path, label in (("/", "Home"), ("/contact", "Contact")):
        html = client.get(path).text
        assert html.count('aria-current="page"') == 1
        assert f'aria-current="page">{label}</a>' in html
    css = client.get("/static/css/site.css").text
    assert '[aria-current="page"]' in css
