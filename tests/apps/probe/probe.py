"""Routes the live `digwebs serve` tests add to a generated project."""

import os
import sys
import time

from digwebs import api, ctx, g, get, request

VERSION = "v1"

# under --workers gevent, the standard library must already be patched when
# the app is imported (in the worker, never in the master)
_gevent_monkey = sys.modules.get("gevent.monkey")
PATCHED_AT_IMPORT = bool(_gevent_monkey and _gevent_monkey.is_module_patched("socket"))
IMPORT_PID = os.getpid()


@api
@get("/probe/info")
def info():
    return {"pid": IMPORT_PID, "patched_at_import": PATCHED_AT_IMPORT, "version": VERSION}


@get("/probe/version")
def version():
    return VERSION


@get("/probe/slow")
def slow():
    time.sleep(float(request.args.get("s", "1.5")))
    return "slow done"


@get("/probe/echo/<rid>")
def echo(rid):
    # each request keeps its own context while it sleeps among hundreds
    g.rid = rid
    ctx.params_seen = dict(ctx.params or {})
    time.sleep(0.1)
    return f"{g.rid}|{ctx.params_seen.get('rid')}|{request.path}"


@get("/probe/block")
def block():
    # an unpatched blocking call: gevent cannot switch away from it
    from gevent.monkey import get_original

    get_original("time", "sleep")(0.4)
    return "blocked"
