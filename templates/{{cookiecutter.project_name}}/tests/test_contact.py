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


def test_a_cross_site_post_is_refused(client):
    # What a browser sends when another site's page posts to this form.
    headers = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    r = client.post("/contact", data={"name": "Ada", "message": "Hello"}, headers=headers)
    assert r.status_code == 403
    # views/errors/403.html, with what was refused and how to allow it.
    assert "<h1>Forbidden</h1>" in r.text
    assert "Sec-Fetch-Site: cross-site" in r.text


def test_a_post_with_the_forms_token_is_accepted_from_a_sibling_site(client):
    # A sibling subdomain (same-site) must show the token the form carries.
    page = client.get("/contact").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    headers = {"Sec-Fetch-Site": "same-site", "Origin": "https://blog.example.com"}
    data = {"name": "Ada", "message": "Hello"}
    assert client.post("/contact", data=data, headers=headers).status_code == 403
    r = client.post("/contact", data={**data, "csrf_token": token}, headers=headers)
    assert r.status_code in (302, 303)
