"""Turning what handlers return (or raise) into responses.

:func:`settle`, the result core, turns the common values into a response's
parts (the chain lane's endpoint and :func:`to_response` call it; the direct
lane of :mod:`digwebs.endpoint` has it written out); :func:`to_response` is
the one slow path for everything else;
:mod:`digwebs.sending` hands status, headers and body to the server. Error
pages, responses built from an exception instead of a return value, are in
:mod:`digwebs.error_pages`.
"""

from __future__ import annotations

import typing as t

# Error pages moved to error_pages.py; their names stay importable from here.
from .error_pages import NOT_FOUND_PAGE as NOT_FOUND_PAGE
from .error_pages import call_error_handler as call_error_handler
from .error_pages import debug_page as debug_page
from .error_pages import error_template as error_template
from .error_pages import http_error_response as http_error_response
from .error_pages import internal_error_response as internal_error_response
from .error_pages import prefers_json as prefers_json
from .errors import HttpError, Redirect

# Sending moved to sending.py; finish and send_bytes stay importable from here.
from .sending import finish as finish
from .sending import send_bytes as send_bytes
from .wrappers.response import Response, json_bytes

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .context import RequestContext

# What settle() makes of a handler's value: body, status, the handler's own
# headers (a dict, pairs or None) and the Content-Type (None: the default).
Parts = tuple[bytes, int, t.Any, "str | None"]

_JSON_TYPE = "application/json"


class ViewResultError(TypeError):
    """A ``@view`` handler returned something other than a dict."""


def settle(rv: t.Any, api: bool = False) -> Parts | None:
    """The result core: a handler's value of a common shape, as its response's parts.

    The chain lane and :func:`to_response` start here; the direct lane has
    it written out (:meth:`Endpoint.direct_lane`). The shapes: ``str`` and
    ``bytes`` (200, the default type), ``dict`` and ``list`` (200, JSON), and a
    tuple of a ``str`` or ``bytes`` body with an ``int`` (or no) status and
    headers, ``(body, status[, headers])`` or ``(body, headers)``. Anything
    else is ``None``: the caller takes the one slow path,
    :func:`to_response`'s general branch, which gives the same answer for
    these shapes too (tests/test_results.py compares the two).

    :param api: the route is ``@api``: only ``dict`` and ``list`` are fast
        (a ``str`` becomes a JSON string the slow way).
    """
    cls = rv.__class__
    if cls is dict or cls is list:
        return json_bytes(rv), 200, None, _JSON_TYPE
    if api:
        return None
    if cls is tuple:
        size = len(rv)
        if size == 3:
            body, status, headers = rv
        elif size == 2:
            body, status = rv
            headers = None
            if not isinstance(status, int | str):  # (body, headers)
                status, headers = None, status
        else:
            return None
        if status is None:
            status = 200
        elif status.__class__ is not int:
            return None
        if body.__class__ is str:
            return body.encode(), status, headers, None
        if body.__class__ is bytes:
            return body, status, headers, None
        return None
    if cls is str:
        return rv.encode(), 200, None, None
    if cls is bytes:
        return rv, 200, None, None
    return None


def _split_tuple(rv: tuple[t.Any, ...]) -> tuple[t.Any, t.Any, t.Any]:
    if len(rv) == 3:
        return rv[0], rv[1], rv[2]
    if len(rv) == 2:
        second = rv[1]
        if isinstance(second, int | str):
            return rv[0], second, None
        return rv[0], None, second
    raise TypeError(
        "a handler returned a tuple of the wrong size: use (body, status), "
        "(body, headers) or (body, status, headers)"
    )


def _apply(resp: Response, status: t.Any, headers: t.Any) -> None:
    """Set a handler's status and headers on ``resp`` (the slow path's tuple).

    As :func:`settle`'s answer has them: each name the handler gives replaces
    the headers of that name already there, and a name repeated in a list of
    pairs is sent as often as it is given (two ``Link`` or ``Set-Cookie``),
    but Content-Type, which is one header (the last given).
    """
    if status is not None:
        resp.status = status
    if not headers:
        return
    target = resp.headers
    if isinstance(headers, t.Mapping):
        target.update(headers)
        return
    given: set[str] = set()
    for name, value in headers:
        key = name.lower()
        if key in given and key != "content-type":
            target.add(name, value)
        else:
            given.add(key)
            target[name] = value


# Headers that describe a response's own body or target: a response keeps
# its own, never the ones prepared on ctx.response for another body.
_REPRESENTATION_HEADERS = frozenset(
    (
        "content-type",
        "content-length",
        "content-encoding",
        "content-language",
        "content-location",
        "content-range",
        "content-disposition",
        "transfer-encoding",
        "accept-ranges",
        "etag",
        "last-modified",
        "location",
        "allow",
    )
)


def carry_over(prepared: Response, resp: Response) -> Response:
    """Send what a handler put on ``ctx.response`` with the response it chose.

    The rule: a handler (or middleware) that sets cookies or headers on
    ``ctx.response`` and then returns or raises another response (a
    :func:`~digwebs.redirect`, :func:`~digwebs.abort`, a :class:`Response`)
    still sends them. Every ``Set-Cookie`` is added; any other header is added
    unless ``resp`` sets that name itself; headers about the body or the target
    (Content-Type, Content-Length, Location, ETag, ...) stay ``resp``'s own.
    An unhandled exception (a 500) sends none of them: the work was not done.
    """
    target = resp.headers
    own = {name.lower() for name, _ in resp._header_list}
    for name, value in prepared._header_list:
        lname = name.lower()
        if lname == "set-cookie" or (lname not in own and lname not in _REPRESENTATION_HEADERS):
            target.add(name, value)
    return resp


def site_path(url: str) -> str:
    """``url`` (a path the framework built) made to start with exactly one ``/``.

    A path beginning ``//`` or ``/\\`` is read by browsers as another host's
    URL; ``SCRIPT_NAME`` is a header some servers take from the client, so a
    mount point of ``//evil.example`` must not make a redirect leave the site.
    """
    if url[1:2] in ("/", "\\") or url[:1] != "/":
        return "/" + url.lstrip("/\\")
    return url


def options_response(app: Digwebs, methods: t.Iterable[str]) -> Response:
    """The answer to OPTIONS: ``Allow``, an empty body, and so no Content-Type."""
    resp = app.response_class(b"", 200, {"Allow": ", ".join(sorted(methods))})
    del resp.headers["Content-Type"]
    return resp


def to_response(app: Digwebs, rv: t.Any, ctx: RequestContext, *, as_json: bool = False) -> Response:
    """Turn a handler's (or middleware's) return value into a response.

    The one slow path: common shapes are settled by :func:`settle` when
    nothing was prepared on ``ctx.response``; everything else is handled
    here, merging what was prepared (see :func:`carry_over`).

    :param as_json: the route is ``@api``: any value but a Response or an
        :class:`HttpError` is sent as JSON, and a returned error (not a
        redirect) is rendered as JSON.
    """
    cls = app.response_class
    base = ctx._response
    if base is None:
        parts = settle(rv, as_json)
        if parts is not None:
            return cls._from_parts(*parts)
    status = headers = None
    if type(rv) is tuple:
        rv, status, headers = _split_tuple(rv)
    if isinstance(rv, Response):
        resp = rv
        if base is not None and base is not rv:
            carry_over(base, resp)
    elif isinstance(rv, HttpError):  # returned, not raised
        if as_json and not isinstance(rv, Redirect):
            resp = rv.get_response(as_json=True)
        else:
            resp = rv.get_response()
        if base is not None:
            carry_over(base, resp)
    elif as_json:
        resp = base if base is not None else cls()
        resp.body = json_bytes(rv)
        resp.content_type = _JSON_TYPE
    elif isinstance(rv, str | bytes):
        if base is None:
            resp = cls(rv)
        else:
            resp = base
            resp.body = rv.encode() if isinstance(rv, str) else rv
    elif rv is None:
        resp = base if base is not None else cls(b"")
    elif isinstance(rv, dict | list):
        resp = base if base is not None else cls()
        resp.body = json_bytes(rv)
        resp.content_type = _JSON_TYPE
    elif hasattr(rv, "__iter__"):
        resp = base if base is not None else cls()
        resp.body = rv
    else:
        raise TypeError(
            f"a handler returned {type(rv).__name__!r}, which digwebs cannot send; return "
            "str, bytes, dict, list, a Response, an iterable of bytes, None, or a tuple "
            "(body, status[, headers])"
        )
    if status is not None or headers:
        _apply(resp, status, headers)
    return resp


# The endpoint moved to endpoint.py (it imports this module's settle and
# to_response); its names stay importable from here.
from .endpoint import DirectEndpoint as DirectEndpoint  # noqa: E402
from .endpoint import Endpoint as Endpoint  # noqa: E402
from .endpoint import StartResponse as StartResponse  # noqa: E402
