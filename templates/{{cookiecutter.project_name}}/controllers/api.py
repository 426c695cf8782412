"""A small JSON API: ``@api`` turns the returned dict or list into JSON."""

from digwebs import abort, api, get

# Stands in for a database table, so the example runs without one.
ITEMS = {
    1: {"id": 1, "name": "Write the first post"},
    2: {"id": 2, "name": "Deploy the site"},
}


@api
@get("/api/status")
def status():
    return {"status": "ok"}


@api
@get("/api/items", name="api.items")
def list_items():
    return list(ITEMS.values())


@api
@get("/api/items/<int:item_id>", name="api.item")
def show_item(item_id):
    item = ITEMS.get(item_id)
    if item is None:
        abort(404)
    return item
