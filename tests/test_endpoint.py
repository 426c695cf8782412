"""Routes without middleware answer the server directly; the answer must not change.

Every handler below is served twice: by an app where no middleware wraps it
(the direct lane of endpoint.Endpoint.direct_lane) and by an app where a
pass-through route middleware forces the ordinary chain. Status, headers and
body must be the same, through the real WSGI entry (the test client runs
wsgiref's validator).
"""

from __future__ import annotations

import functools
import secrets
import types
import typing as t

import pytest

from digwebs import APIValueError, Digwebs, abort, api, endpoint, response, session, use


def passthrough(ctx: t.Any, next: t.Callable[[], t.Any]) -> t.Any:
    return next()


HANDLERS: dict[str, t.Callable[..., t.Any]] = {
    "bytes": lambda: b"raw bytes",
    "str": lambda: "<p>caf\u00e9</p>",
    "dict": lambda: {"a": 1, "b": ["x", None]},
    "list": lambda: [1, 2, 3],
    "tuple": lambda: ("made", 201, {"X-Custom": "yes", "Content-Type": "text/plain"}),
    "tuple_str_status_body": lambda: ("gone", 410, [("X-A", "1"), ("X-A", "2")]),
    "tuple_length": lambda: (b"12345", 200, {"Content-Length": "5"}),
    "tuple_no_body_status": lambda: (b"", 204, {"X-Empty": "1"}),
    "tuple_unknown_status": lambda: (b"odd", 299, {}),
    "tuple_int_value": lambda: (b"n", 200, {"X-Number": 7}),
    "tuple_none_headers": lambda: (b"n", 202, None),
    "pair": lambda: ("two", 202),
    "none": lambda: None,
    "generator": lambda: (chunk for chunk in (b"a", b"b")),
    "abort": lambda: abort(404, "no such thing"),
    "header_injection": lambda: (b"x", 200, {"X-Bad": "a\r\nSet-Cookie: evil=1"}),
}


def _with_response() -> t.Any:
    response.set_cookie("flavour", "oat")
    response.status_code = 202
    return b"cookie set"


def _with_session() -> t.Any:
    session["visits"] = session.get("visits", 0) + 1
    return b"counted"


HANDLERS["touches_response"] = _with_response
HANDLERS["touches_session"] = _with_session


def _api_dict() -> t.Any:
    return {"ok": True}


def _api_tuple() -> t.Any:
    return {"created": 1}, 201


def _api_error() -> t.Any:
    raise APIValueError("email", "bad address")


SECRET = secrets.token_urlsafe(32)
API_HANDLERS = {"api_dict": _api_dict, "api_tuple": _api_tuple, "api_error": _api_error}


def make_app(wrapped: bool) -> Digwebs:
    # production: the 500 page shows no traceback, which differs between the lanes.
    # CSRF off: a route that takes POST gets the CSRF link, which (like any
    # link) takes it off the direct lane; the lanes are compared here.
    app = Digwebs(
        root_path="/nonexistent-root",
        env="production",
        secret_key=SECRET,
        csrf_protection=False,
    )
    for name, fn in {**HANDLERS, **API_HANDLERS}.items():
        # A function object of its own per app: @api and @use mark the function.
        handler = types.FunctionType(fn.__code__, fn.__globals__, name, None, fn.__closure__)
        if name in API_HANDLERS:
            handler = api(handler)
        if wrapped:
            handler = use(passthrough)(handler)
        app.add_route(f"/{name}", handler, ["GET", "POST"], name=name)
    return app


def snapshot(app: Digwebs, method: str, path: str) -> tuple[t.Any, ...]:
    client = app.test_client()
    res = client.open(path, method=method)
    again = client.open(path, method=method)  # cookies from the first call are sent
    return (
        res.status_code,
        sorted(res.headers.items()),
        res.data,
        again.status_code,
        again.data,
    )


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize("name", sorted({**HANDLERS, **API_HANDLERS}))
def test_direct_answer_equals_the_chain_answer(name: str, method: str) -> None:
    direct_app, chain_app = make_app(wrapped=False), make_app(wrapped=True)
    got = snapshot(direct_app, method, f"/{name}")
    assert got == snapshot(chain_app, method, f"/{name}")
    rule = {r.name: r for r in direct_app.router.rules}[name]
    assert rule.direct is not None
    assert {r.name: r for r in chain_app.router.rules}[name].direct is None


def test_head_keeps_the_length_of_the_body_it_omits() -> None:
    res = make_app(wrapped=False).test_client().head("/tuple")
    assert res.status_code == 201 and res.data == b""
    assert res.headers["Content-Length"] == str(len(b"made"))


def test_header_injection_is_refused_on_the_direct_lane() -> None:
    res = make_app(wrapped=False).test_client().get("/header_injection")
    assert res.status_code == 500
    assert "evil" not in str(res.headers.items())


def test_global_middleware_turns_the_direct_lane_off() -> None:
    app = make_app(wrapped=False)
    seen: list[str] = []

    def record(ctx: t.Any, next: t.Callable[[], t.Any]) -> t.Any:
        seen.append(ctx.request.path)
        return next()

    app.use(record)
    assert app.test_client().get("/bytes").data == b"raw bytes"
    assert seen == ["/bytes"]
    assert app._global_chain is not None


def _wrapping(fn: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    @functools.wraps(fn)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        return fn(*args, **kwargs)

    return wrapper


def _sig_plain(x: str) -> str:
    return f"plain {x}"


def _sig_default(x: str, suffix: str = "!") -> str:
    return f"default {x}{suffix}"


def _sig_keyword_only(*, x: str) -> str:
    return f"keyword {x}"


def _sig_kwargs(**kwargs: str) -> str:
    return f"kwargs {kwargs['x']}"


def _sig_other_name(y: str = "none") -> str:
    return f"other {y}"


def _sig_required_extra(x: str, extra: str) -> str:
    return "never"


SIGNATURES: dict[str, tuple[t.Callable[..., t.Any], str | None]] = {
    "plain": (_sig_plain, "x"),
    "default": (_sig_default, "x"),
    "keyword_only": (_sig_keyword_only, None),
    "kwargs": (_sig_kwargs, None),
    "other_name": (_sig_other_name, None),
    "required_extra": (_sig_required_extra, None),
    "wrapped": (_wrapping(_sig_plain), None),
}


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_handlers_of_every_signature_get_their_parameter_on_both_lanes(name: str) -> None:
    fn, positional = SIGNATURES[name]
    assert endpoint._only_parameter(fn, ("x",)) == positional
    answers = []
    for wrapped in (False, True):
        app = Digwebs(root_path="/nonexistent-root", env="production", secret_key=SECRET)
        handler = use(passthrough)(_wrapping(fn)) if wrapped else fn
        app.add_route("/sig/<x>", handler, ["GET"])
        res = app.test_client().get("/sig/v")
        answers.append((res.status_code, res.data))
    assert answers[0] == answers[1]
    if name in ("required_extra", "other_name"):  # a TypeError either way
        assert answers[0][0] == 500
    else:
        assert answers[0][0] == 200 and b" v" in answers[0][1]
