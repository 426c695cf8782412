import re


def test_every_response_has_a_response_time(client):
    for path in ("/", "/api/status", "/does-not-exist"):
        r = client.get(path)
        assert re.fullmatch(r"\d+\.\d{2}ms", r.headers["X-Response-Time"]), path
