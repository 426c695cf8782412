import psycopg2

# what psycogreen.gevent.patch_psycopg() does
psycopg2.extensions.set_wait_callback(lambda conn, timeout=None: None)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
