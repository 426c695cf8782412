"""Routes the hostile-input suite (tests/e2e/test_hostile.py) adds to a generated project.

Each route exposes one piece of the request to the client (the body, the
parsed JSON, form, query, cookies, a converter's value) or does one thing a
handler commonly does with client input (set a cookie or a header from it,
redirect after setting a cookie), so that the suite can send hostile input
over real HTTP and check what comes back. They echo what they read as JSON,
so that the test can compare values exactly.
"""

from digwebs import api, ctx, get, middleware, post, redirect, request, route


def _multi(md):
    # every value of every key, as a plain dict of lists
    return {key: list(md.getlist(key)) for key in md}


@get("/h/ok")
def ok():
    return "ok"


@api
@post("/h/body")
def body():
    return {"length": len(request.body)}


@api
@post("/h/small")
def small():
    # a route that accepts less than the app: the limit is set on the request
    # before the body is read (werkzeug and Flask allow the same)
    ctx.request.max_content_length = 1024
    return {"length": len(request.body)}


@api
@post("/h/json")
def echo_json():
    return {"json": request.json}


@api
@post("/h/form")
def form():
    files = {key: [f.filename for f in request.files.getlist(key)] for key in request.files}
    return {"form": _multi(request.form), "files": files}


@api
@get("/h/query")
def query():
    return _multi(request.args)


@api
@get("/h/cookies")
def cookies():
    return dict(request.cookies)


@api
@get("/h/seg/<s>")
def segment(s):
    return {"s": s}


@api
@get("/h/path/<path:p>")
def path(p):
    return {"p": p}


@api
@get("/h/int/<int:n>")
def integer(n):
    return {"digits": len(str(n))}


@get("/h/dir/")
def directory():
    return "dir"


@get("/h/setcookie")
def set_cookie():
    ctx.response.set_cookie("pref", request.args.get("v", ""))
    return "set"


@get("/h/login")
def login():
    # the commonest flow there is: log in, set a cookie, redirect
    ctx.response.set_cookie("sid", "abc")
    return redirect("/h/ok")


@get("/h/header")
def header():
    ctx.response.headers["X-Echo"] = request.args.get("v", "")
    return "header"


@get("/h/status")
def status():
    ctx.response.status = int(request.args.get("code", "200"))
    return "status"


@get("/h/tuple-status")
def tuple_status():
    return "x", 5


@middleware(prefix="/h/mw")
def trace(ctx, next):
    result = next()
    ctx.response.headers["X-Trace"] = "1"
    return result


@get("/h/mw/plain")
def mw_plain():
    return "plain"


# a <path:> rule must not hide a more specific one
@api
@get("/h/p/<path:p>")
def p_any(p):
    return {"route": "any", "p": p}


@api
@get("/h/p/<path:p>/edit")
def p_edit(p):
    return {"route": "edit", "p": p}


# /h/bar for POST only, /h/bar/ for GET: GET /h/bar redirects to /h/bar/
@route("/h/bar", methods=["POST"])
def bar_post():
    return "bar post"


@get("/h/bar/")
def bar_get():
    return "bar get"
