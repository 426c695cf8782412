"""The development error page and API JSON errors, over HTTP from ``digwebs serve``.

A generated project gets a controller that raises; served with ``--env
development`` the page shows the project's frame with its source and locals,
the route, the middleware chain and the request; ``--env production`` shows
none of it. API paths answer 404 and 405 in JSON in both.
"""

from __future__ import annotations

import http.client
import json

BROKEN = '''
"""A controller that fails, for the development error page."""

from digwebs import api, get


def total_of(order):
    discount = "<b>not escaped?</b>"
    return order["price"] * order["quantity"] + discount


@get("/broken/<int:order_id>")
def broken(order_id):
    order = {"price": 3, "quantity": order_id}
    return total_of(order)


@api
@get("/api/orders/<int:order_id>")
def order(order_id):
    return {"id": order_id}
'''


def fetch(port, method, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def serve(project, start_server, env):
    (project / "controllers" / "broken.py").write_text(BROKEN, encoding="utf-8")
    extra = {"DIGWEBS_SECRET_KEY": "s" * 40} if env == "production" else {}
    server = start_server(["--env", env, "--workers", "threads", "--no-reload"], project, **extra)
    server.wait_ready("/probe/version")
    return server


def test_development_page_over_http(project, start_server):
    server = serve(project, start_server, "development")
    status, headers, body = fetch(
        server.port, "GET", "/broken/2?q=1", {"Authorization": "Bearer live-secret"}
    )
    assert status == 500
    assert headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "TypeError" in page
    assert '<div class="frame user"><div class="where">total_of' in page
    assert "controllers/broken.py" in page
    assert "&#x27;quantity&#x27;: 2" in page  # the caller's local, escaped
    assert "&lt;b&gt;not escaped?&lt;/b&gt;" in page and "<b>not escaped" not in page
    assert '<details class="framework">' in page
    assert "<th>Route</th><td>GET /broken/&lt;int:order_id&gt;</td>" in page
    assert "<h2>Middleware chain, outermost first</h2>" in page
    assert "live-secret" not in page
    assert "<textarea" in page and "Traceback (most recent call last)" in page


def test_development_api_500_and_404_are_json(project, start_server):
    server = serve(project, start_server, "development")
    status, headers, body = fetch(server.port, "GET", "/api/orders/abc")
    assert status == 404 and headers["content-type"].startswith("application/json")
    assert set(json.loads(body)) == {"error", "data", "message"}
    status, headers, body = fetch(server.port, "PUT", "/api/orders/1")
    assert status == 405 and headers["allow"] == "GET, HEAD, OPTIONS"
    assert json.loads(body)["error"] == "http:405"


def test_production_page_has_no_internals(project, start_server):
    server = serve(project, start_server, "production")
    status, headers, body = fetch(server.port, "GET", "/broken/2")
    assert status == 500
    page = body.decode()
    for leak in ("TypeError", "total_of", "broken.py", "Traceback", "quantity"):
        assert leak not in page
    status, headers, body = fetch(server.port, "GET", "/api/orders/abc")
    assert status == 404 and json.loads(body)["error"] == "http:404"
