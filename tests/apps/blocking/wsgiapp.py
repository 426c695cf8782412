import psycopg2  # the stand-in in this folder: no gevent wait callback set  # noqa: F401


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
