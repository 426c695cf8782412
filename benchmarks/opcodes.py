"""Python opcodes one request executes, per function: a count that load cannot move.

    python benchmarks/opcodes.py [static|hello|notfound] [--lines FUNCTION]

Builds a production app with the in-process benchmark's static-route and
hello handlers, warms it up, then traces one request with opcode events
(``sys.settrace``, ``f_trace_opcodes``) and prints the total and the count
per function (``--lines direct``: per source line of that function). Timing
on a shared machine moves by several percent between runs; this does not,
so two trees can be compared exactly (``PYTHONPATH=/tmp/before python
benchmarks/opcodes.py static``). Opcodes are not time: C work (dict
lookups, allocation) does not show, so use it beside benchmarks/ab.py.
"""

from __future__ import annotations

import collections
import linecache
import sys
import typing as t

from digwebs import Digwebs, request

PATHS = {"static": "/s/k1", "hello": "/hello/42/test", "notfound": "/nope"}


def make_app() -> Digwebs:
    """The benchmark's static-route and hello handlers, in production."""
    app = Digwebs(root_path="/nonexistent", env="production", secret_key="x" * 40)
    text = {"Content-Type": "text/plain; charset=utf-8"}
    data = b"static k1"

    @app.get("/s/k1")
    def static() -> tuple[bytes, int, dict[str, str]]:
        return data, 200, text

    @app.get("/hello/<account_id>/test")
    def hello(account_id: str) -> tuple[bytes, int, dict[str, str]]:
        request.headers.get("User-Agent")
        limit = request.query.get("limit", "10")
        headers = {"Content-Type": text["Content-Type"], "X-Account": account_id, "X-Limit": limit}
        return b"x" * 100, 200, headers

    return app


def count(app: Digwebs, path: str, lines_of: str | None) -> collections.Counter[tuple[t.Any, ...]]:
    """Opcodes of one request to ``path``, by function (or by line of ``lines_of``)."""
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "limit=5",
        "SCRIPT_NAME": "", "SERVER_NAME": "x", "SERVER_PORT": "80", "HTTP_HOST": "x",
        "HTTP_USER_AGENT": "b", "wsgi.url_scheme": "http",
    }  # fmt: skip

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> None:
        pass

    for _ in range(300):  # past the first request's start-up and every cache's first fill
        app(dict(environ), start_response)
    counts: collections.Counter[tuple[t.Any, ...]] = collections.Counter()

    def tracer(frame: t.Any, event: str, arg: t.Any) -> t.Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            key = (code.co_filename.rsplit("/", 1)[-1], code.co_name)
            if code.co_name == lines_of:
                key = (*key, code.co_filename, frame.f_lineno)
            counts[key] += 1
        return tracer

    one = dict(environ)
    sys.settrace(tracer)
    try:
        app(one, start_response)
    finally:
        sys.settrace(None)
    return counts


def main(argv: list[str]) -> int:
    """Print the counts."""
    row = argv[0] if argv else "static"
    lines_of = argv[argv.index("--lines") + 1] if "--lines" in argv else None
    if row not in PATHS:
        print(f"unknown row {row!r}: one of {', '.join(PATHS)}", file=sys.stderr)
        return 2
    counts = count(make_app(), PATHS[row], lines_of)
    print(f"{row}: {sum(counts.values())} opcodes")
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if len(key) == 4:
            source = linecache.getline(key[2], key[3]).rstrip()
            print(f"{n:5d}  {key[0]}:{key[3]}  {source}")
        else:
            print(f"{n:5d}  {key[0]} {key[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
