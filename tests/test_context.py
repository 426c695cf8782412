"""The request context: ctx, request, response, g, current_app, and their isolation."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from digwebs import (
    Digwebs,
    Request,
    Response,
    copy_current_request_context,
    ctx,
    current_app,
    g,
    has_request_context,
    request,
    response,
)


def test_ctx_exposes_request_response_app_and_free_attributes(app, client):
    def mw(c, next):
        c.user = "ann"
        return next()

    app.use(mw)

    @app.get("/")
    def index():
        assert ctx.app is app and ctx.request is request._get_current_object()
        assert ctx.response is response._get_current_object()
        return f"{ctx.user} {type(ctx.request).__name__} {type(ctx.response).__name__}"

    assert client.get("/").text == "ann Request Response"


def test_proxies_resolve_to_the_current_objects(app):
    with app.test_request_context("/x?a=1", headers={"X-Id": "7"}):
        assert isinstance(request, Request) and isinstance(response, Response)
        assert request.path == "/x" and request.headers["X-Id"] == "7"
        assert current_app._get_current_object() is app
        g.answer = 42
        assert g.answer == 42 and g.get("answer") == 42 and "answer" in g


def test_request_and_response_proxies_cover_their_class_and_forward_the_rest(app):
    # Public attributes (and Request.environ, an annotated instance attribute)
    # are properties of the proxy class; other names reach the object through
    # __getattr__, reading and writing alike.
    for proxy, cls in ((request, Request), (response, Response)):
        names = {n for n in dir(cls) if not n.startswith("_")}
        proxy_type = type(proxy)
        assert all(isinstance(vars(proxy_type).get(n), property) for n in names)
    assert isinstance(vars(type(request))["environ"], property)
    with app.test_request_context("/x?a=1"):
        assert request.environ["PATH_INFO"] == "/x" and request.query["a"] == "1"
        request.user = "ann"
        assert request.user == "ann" and ctx.request.user == "ann"
        response.status_code = 201
        assert ctx.response.status_code == 201
        with pytest.raises(AttributeError):
            request.no_such_attribute  # noqa: B018


def test_every_proxy_property_gives_what_the_plain_path_gives(app):
    # PERF: the proxy properties are a shortcut for reading the attribute
    # on ctx.request / ctx.response: each must give the same object, and
    # each is an ordinary closure defined in context.py (no generated source).
    source = sys.modules["digwebs.context"].__file__
    with app.test_request_context("/x?a=1", headers={"X-Id": "7"}):
        for proxy, plain in ((request, ctx.request), (response, ctx.response)):
            for name, prop in vars(type(proxy)).items():
                if not isinstance(prop, property):
                    continue
                assert prop.fget.__code__.co_filename == source, name
                try:
                    expected = getattr(plain, name)
                except Exception as exc:  # noqa: BLE001
                    with pytest.raises(type(exc)):
                        getattr(proxy, name)
                    continue
                got = getattr(proxy, name)
                assert got is expected or got == expected, name
    for name in ("path", "headers", "environ", "status_code", "set_cookie"):
        proxy = request if hasattr(Request, name) or name == "environ" else response
        with pytest.raises(RuntimeError, match="test_request_context"):
            getattr(proxy, name)


def test_g_lives_exactly_as_long_as_the_request(app, client):
    @app.get("/")
    def index():
        seen = g.get("count", 0)
        g.count = seen + 1
        return str(seen)

    assert [client.get("/").text for _ in range(3)] == ["0", "0", "0"]


def test_handler_may_set_response_headers_through_the_proxy(app, client):
    @app.get("/")
    def index():
        response.headers["X-Extra"] = "yes"
        response.status = 202
        return "ok"

    r = client.get("/")
    assert (r.status_code, r.headers["X-Extra"], r.text) == (202, "yes", "ok")


@pytest.mark.parametrize(
    "touch",
    [
        lambda: request.path,
        lambda: response.status,
        lambda: g.x,
        lambda: ctx.app,
        lambda: request.headers,
    ],
)
def test_outside_a_request_the_proxies_raise_and_name_test_request_context(touch):
    assert not has_request_context()
    with pytest.raises(RuntimeError, match="test_request_context"):
        touch()


def test_current_app_outside_everything_raises():
    with pytest.raises(RuntimeError, match="test_request_context"):
        _ = current_app.config


def test_test_request_context_push_pop_tokens_and_nesting(app):
    outer = app.test_request_context("/outer")
    inner = app.test_request_context("/inner")
    token = outer.push()
    try:
        with inner:
            assert request.path == "/inner"
        assert request.path == "/outer"
    finally:
        outer.pop(token)
    assert not has_request_context()


def test_same_context_can_be_entered_twice(app):
    c = app.test_request_context("/x")
    with c:
        with c:
            assert request.path == "/x"
        assert request.path == "/x"
    assert not has_request_context()


def test_context_is_popped_after_a_request_even_when_the_handler_fails(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    assert client.get("/boom").status_code == 500
    assert not has_request_context()


# -- concurrency: threads --------------------------------------------------------


def add_who_route(app, sleep):
    """Route /who: request i stores its X-Rid in g, ctx and a response header,
    sleeps with *sleep* so that other requests run in between, then answers
    what g, ctx, the request header and the query parameter q hold.

    Returns [requests in flight, the most seen at once].  Also used by the
    gevent script, where threading.Lock is the monkey-patched, greenlet-aware one.
    """
    lock, in_flight = threading.Lock(), [0, 0]

    @app.get("/who")
    def who():
        rid = request.headers["X-Rid"]
        g.id = rid
        ctx.rid = rid
        response.headers["X-Seen"] = rid
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        sleep(0.01 + (int(rid) % 5) * 0.01)
        with lock:
            in_flight[0] -= 1
        return json.dumps([g.id, ctx.rid, request.headers["X-Rid"], request.query["q"]])

    return in_flight


def call_who(app, i):
    """Request i of /who: [its X-Seen header, what the handler saw]; [str(i), [str(i)] * 4]
    when request i saw only its own objects."""
    r = app.test_client().get("/who", query={"q": str(i)}, headers={"X-Rid": str(i)})
    return [r.headers["X-Seen"], json.loads(r.text)]


def test_concurrent_requests_on_threads_see_only_their_own_objects(app):
    in_flight = add_who_route(app, time.sleep)
    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(lambda i: call_who(app, i), range(200)))
    assert results == [[str(i), [str(i)] * 4] for i in range(200)]
    assert in_flight[1] > 10, "the requests did not overlap"


def test_thread_started_in_a_handler_begins_with_an_empty_context(app, client):
    @app.get("/")
    def index():
        seen = []
        th = threading.Thread(target=lambda: seen.append(has_request_context()))
        th.start()
        th.join()
        return str(seen)

    assert client.get("/").text == "[False]"


def test_copy_current_request_context_carries_the_request_into_a_thread(app, client):
    @app.get("/p")
    def index():
        g.secret = "s3"
        seen = []

        @copy_current_request_context
        def work(suffix):
            seen.append(f"{request.path}{suffix} {g.secret}")

        th = threading.Thread(target=work, args=("!",))
        th.start()
        th.join()
        return seen[0]

    assert client.get("/p").text == "/p! s3"


def test_copy_current_request_context_outside_a_request_raises():
    with pytest.raises(RuntimeError, match="test_request_context"):
        copy_current_request_context(lambda: None)


def test_copy_current_request_context_restores_the_callers_context(app):
    with app.test_request_context("/a"):
        wrapped = copy_current_request_context(lambda: request.path)
    with app.test_request_context("/b"):
        assert wrapped() == "/a" and request.path == "/b"
    assert wrapped() == "/a" and not has_request_context()


# -- concurrency: asyncio tasks -------------------------------------------------------


def test_asyncio_tasks_each_see_their_own_request_and_g(app):
    async def task(i):
        with app.test_request_context(f"/t/{i}", headers={"X-Rid": str(i)}):
            g.id = i
            ctx.rid = i
            await asyncio.sleep(0.001 * (i % 7))
            return request.path, request.headers["X-Rid"], g.id, ctx.rid

    async def main():
        return await asyncio.gather(*(task(i) for i in range(200)))

    assert asyncio.run(main()) == [(f"/t/{i}", str(i), i, i) for i in range(200)]


def test_asyncio_tasks_with_push_pop_tokens(app):
    async def task(i):
        c = app.test_request_context(f"/t/{i}")
        token = c.push()
        try:
            g.id = i
            await asyncio.sleep(0.001 * (i % 3))
            return request.path == f"/t/{i}" and g.id == i
        finally:
            c.pop(token)

    async def main():
        results = await asyncio.gather(*(task(i) for i in range(100)))
        return results, has_request_context()

    assert asyncio.run(main()) == ([True] * 100, False)


# -- concurrency: gevent greenlets (in a subprocess: monkey-patching must not leak) ---------

GEVENT_SCRIPT = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()

    import json, sys, tempfile
    import gevent
    from digwebs import Digwebs, copy_current_request_context, has_request_context, request
    from test_context import add_who_route, call_who  # run with the tests folder as cwd

    app = Digwebs(tempfile.mkdtemp(), debug=False)
    in_flight = add_who_route(app, gevent.sleep)

    @app.get("/spawn")
    def spawn():
        plain = gevent.spawn(has_request_context)
        carried = gevent.spawn(copy_current_request_context(lambda: request.path))
        gevent.joinall([plain, carried], raise_error=True)
        return json.dumps([plain.value, carried.value])

    greenlets = [gevent.spawn(call_who, app, i) for i in range(200)]
    gevent.joinall(greenlets, raise_error=True)
    spawned = json.loads(app.test_client().get("/spawn").text)
    print(json.dumps({
        "max_in_flight": in_flight[1],
        "results": [gl.value for gl in greenlets],
        "spawned": spawned,
    }))
    """
)


def test_concurrent_requests_on_gevent_greenlets_see_only_their_own_objects():
    proc = subprocess.run(
        [sys.executable, "-c", GEVENT_SCRIPT],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["results"] == [[str(i), [str(i)] * 4] for i in range(200)]
    assert out["max_in_flight"] > 10, "the greenlets did not overlap"
    # A greenlet spawned in a handler starts empty; copy_current_request_context carries it.
    assert out["spawned"] == [False, "/spawn"]


def test_current_app_during_load_and_request(tmp_path):
    app = Digwebs(tmp_path, debug=False)

    @app.get("/")
    def index():
        return str(current_app._get_current_object() is app)

    assert app.test_client().get("/").text == "True"


# -- copying the proxies (issue 9 item 26) ------------------------------------------


def _copy_outcome(fn, target):
    try:
        return ("ok", type(fn(target)))
    except Exception as exc:  # noqa: BLE001 - the exception type is the outcome
        return ("raises", type(exc))


@pytest.mark.parametrize("name", ["request", "response", "g", "session", "ctx", "current_app"])
@pytest.mark.parametrize("fn", [copy.copy, copy.deepcopy])
def test_copying_a_context_proxy_copies_the_object(app, name, fn):
    # As werkzeug: copy.copy / copy.deepcopy of a proxy is the copy of the
    # object it stands for (not a proxy, and never an error about the
    # proxy's own ContextVar). An object that cannot be deep-copied (the app
    # holds locks) fails alike through its proxy.
    import digwebs.context

    proxy = getattr(digwebs.context, name)
    with app.test_request_context("/x?a=1"):
        obj = proxy._get_current_object()
        assert _copy_outcome(fn, proxy) == _copy_outcome(fn, obj)
        if name in ("request", "response", "g", "session"):
            copied = fn(proxy)
            assert type(copied) is type(obj) and copied is not obj


def test_copied_request_and_response_keep_their_data(app):
    with app.test_request_context("/x?a=1", headers={"X-H": "h"}):
        response.headers["X-R"] = "r"
        response.status_code = 201
        req, resp = copy.copy(request), copy.deepcopy(response)
        assert (req.path, req.query["a"], req.headers["X-H"]) == ("/x", "1", "h")
        assert (resp.status_code, resp.headers["X-R"]) == (201, "r")
        resp.headers["X-R"] = "changed"
        assert response.headers["X-R"] == "r"
        g.items = [1]
        g_copy = copy.deepcopy(g)
        g_copy.items.append(2)
        assert g.items == [1]


def test_copying_an_unbound_context_proxy_names_test_request_context():
    for fn in (copy.copy, copy.deepcopy):
        with pytest.raises(RuntimeError, match="test_request_context"):
            fn(request)
