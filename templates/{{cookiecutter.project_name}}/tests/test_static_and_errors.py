import pytest


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/css/site.css", "text/css"),
        ("/static/js/site.js", ("text/javascript", "application/javascript")),
        ("/static/images/logo.svg", "image/svg+xml"),
        ("/static/favicon.ico", "image/"),
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
