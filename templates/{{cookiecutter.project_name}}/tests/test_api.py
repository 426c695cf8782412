def test_status(client):
    r = client.get("/api/status")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json == {"status": "ok"}


def test_list_items(client):
    r = client.get("/api/items")
    assert r.status_code == 200
    assert [item["id"] for item in r.json] == [1, 2]


def test_show_item(client):
    r = client.get("/api/items/2")
    assert r.status_code == 200
    assert r.json == {"id": 2, "name": "Deploy the site"}


def test_unknown_item_is_404(client):
    assert client.get("/api/items/99").status_code == 404


def test_item_id_must_be_an_integer(client):
    assert client.get("/api/items/abc").status_code == 404
