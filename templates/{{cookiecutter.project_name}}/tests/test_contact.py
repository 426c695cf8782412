def test_form_is_shown(client):
    r = client.get("/contact")
    assert r.status_code == 200
    assert '<form method="post" action="/contact"' in r.text


def test_valid_post_redirects_and_flashes(client):
    r = client.post("/contact", data={"name": "Ada", "message": "Hello"})
    assert r.status_code in (302, 303)
    assert r.headers["Location"].endswith("/contact")
    # The flash message lives in the session cookie, which the client keeps.
    r = client.get("/contact")
    assert "Thank you, Ada!" in r.text


def test_missing_fields_show_the_form_again(client):
    r = client.post("/contact", data={"name": "Ada", "message": ""})
    assert r.status_code == 422
    assert "This field is required." in r.text
    assert 'value="Ada"' in r.text
