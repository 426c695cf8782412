from markupsafe import escape

TITLE = {{ cookiecutter.title|python }}


def test_home_page_renders_the_view(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert f"<h1>Welcome to {escape(TITLE)}</h1>" in r.text


def test_home_page_uses_the_base_layout(client):
    r = client.get("/")
    assert "/static/css/site.css" in r.text
    assert "Made with digwebs." in r.text
