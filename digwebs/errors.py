"""HTTP errors, redirects and the API error family.

Every :class:`HttpError` is an exception *and* knows how to render itself as a
:class:`~digwebs.Response`, so the dispatcher needs a single
``except HttpError`` branch, and a handler may either ``raise`` or ``return``
one (``return redirect("/")`` and ``raise redirect("/")`` both work).
"""

from __future__ import annotations

import typing as t
from html import escape
from urllib.parse import quote

from .wrappers.response import Response, status_line

__all__ = [
    "HttpError",
    "BadRequest",
    "BadRequestKeyError",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "MethodNotAllowed",
    "NotAcceptable",
    "Conflict",
    "Gone",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "LengthRequired",
    "RangeNotSatisfiable",
    "UnprocessableEntity",
    "TooManyRequests",
    "InternalServerError",
    "HttpNotImplemented",
    "RequestRedirect",
    "Redirect",
    "APIError",
    "APIValueError",
    "APIResourceNotFoundError",
    "APIPermissionError",
    "abort",
    "redirect",
]


class HttpError(Exception):
    """An HTTP error response that can be raised or returned.

    A handler or middleware that raises one (or returns one) gets exactly
    this response, rendered by :meth:`get_response`, as HTML or as JSON
    depending on the route and the client. ``code`` and ``description`` are
    class attributes that subclasses override; both can also be given per
    instance.

    :param description: the sentence shown to the client, instead of the
        class's.
    :param code: the status code, instead of the class's.
    :param headers: headers added to the rendered response (``Allow``,
        ``Location``, ``Retry-After``...).
    """

    code: int = 500
    description: str = "The server could not complete the request."

    def __init__(
        self,
        description: str | None = None,
        *,
        code: int | None = None,
        headers: t.Mapping[str, str] | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        if description is not None:
            self.description = description
        self.headers = dict(headers or {})
        super().__init__(f"{self.code}: {self.description}")

    @property
    def name(self) -> str:
        """The reason phrase, e.g. ``"Not Found"``."""
        return status_line(self.code).partition(" ")[2]

    def get_body(self) -> str:
        """Return the HTML page of this error: its code, name and description, escaped."""
        return (
            "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>{self.code} {escape(self.name)}</title></head>\n"
            f"<body><h1>{escape(self.name)}</h1>\n<p>{escape(self.description)}</p></body></html>\n"
        )

    def get_json(self) -> dict[str, t.Any]:
        """Return the JSON body of this error: ``{"error", "data", "message"}``.

        ``error`` is ``"http:<code>"`` and ``message`` the description, the
        shape :class:`APIError` uses, so API clients read one format.
        """
        return {"error": f"http:{self.code}", "data": "", "message": self.description}

    def get_response(self, as_json: bool = False) -> Response:
        """Render this error as a response, HTML unless ``as_json``.

        The response has this error's code and every header of
        :attr:`headers`.
        """
        if as_json:
            resp = Response.json(self.get_json(), self.code)
        else:
            resp = Response(self.get_body().encode(), self.code)
        for name, value in self.headers.items():
            resp.headers[name] = value
        return resp


class BadRequest(HttpError):
    """400 Bad Request: the request is malformed or lacks what the URL needs."""

    code = 400
    description = "The browser (or proxy) sent a request that this server could not understand."


class BadRequestKeyError(BadRequest, KeyError):
    """400 for ``request.form["x"]`` (or query, header) when the client sent no ``x``.

    Also a :class:`KeyError`, so ``except KeyError`` in handlers still works.
    """

    def __init__(self, key: str, what: str = "field") -> None:
        self.key = key
        super().__init__(f"The request has no {what} {key!r}, which this URL requires.")

    def __str__(self) -> str:
        return f"{self.code}: {self.description}"


class Unauthorized(HttpError):
    """401 Unauthorized: the client must authenticate first.

    Give a ``WWW-Authenticate`` header in ``headers`` when the client is
    expected to retry with credentials (HTTP requires one on a 401).
    """

    code = 401
    description = "You need to be signed in to see this page."


class Forbidden(HttpError):
    """403 Forbidden: the client is known but may not do this."""

    code = 403
    description = "You do not have permission to access this resource."


class NotFound(HttpError):
    """404 Not Found: no resource at this URL (also what the router answers)."""

    code = 404
    description = "The requested URL was not found on the server."


class MethodNotAllowed(HttpError):
    """405, with the ``Allow`` header listing the methods the path accepts."""

    code = 405
    description = "The method is not allowed for the requested URL."

    def __init__(self, valid_methods: t.Iterable[str] = (), description: str | None = None) -> None:
        self.valid_methods = sorted(set(valid_methods))
        super().__init__(description, headers={"Allow": ", ".join(self.valid_methods)})


class NotAcceptable(HttpError):
    """406 Not Acceptable: no representation matches the request's ``Accept``."""

    code = 406
    description = "The resource cannot produce a response the client accepts."


class Conflict(HttpError):
    """409 Conflict: the request conflicts with the resource's current state."""

    code = 409
    description = "The request conflicts with the current state of the resource."


class Gone(HttpError):
    """410 Gone: the resource existed and was removed for good."""

    code = 410
    description = "The requested URL is no longer available."


class LengthRequired(HttpError):
    """411 Length Required: this request must say its body's length in ``Content-Length``."""

    code = 411
    description = "A request with this method needs a Content-Length header."


class PayloadTooLarge(HttpError):
    """413: the request body is larger than ``max_content_length`` allows."""

    code = 413
    description = "The request body is larger than this server accepts."


class UnsupportedMediaType(HttpError):
    """415 Unsupported Media Type: the body's ``Content-Type`` is not accepted."""

    code = 415
    description = "The server does not support the media type sent in the request."


class RangeNotSatisfiable(HttpError):
    """416: no part of the requested ``Range`` exists.

    Give ``Content-Range: bytes */<size>`` in ``headers``, as
    :func:`~digwebs.static.send_file` does.
    """

    code = 416
    description = "The requested range cannot be served."


class UnprocessableEntity(HttpError):
    """422 Unprocessable Entity: well-formed, but the values cannot be used."""

    code = 422
    description = "The request was well-formed but could not be processed."


class TooManyRequests(HttpError):
    """429 Too Many Requests: the client is rate limited.

    Give a ``Retry-After`` header in ``headers`` to say when to try again.
    """

    code = 429
    description = "Too many requests; slow down."


class InternalServerError(HttpError):
    """500 Internal Server Error: the server failed; the client is not at fault."""

    code = 500
    description = "The server encountered an internal error and could not complete the request."


class HttpNotImplemented(HttpError):
    """501 Not Implemented: the server does not support what the request asks.

    For a method the server does not know at all (a method it knows but
    this URL does not accept is :class:`MethodNotAllowed`). Named with the
    ``Http`` prefix because ``NotImplemented`` and ``NotImplementedError``
    are builtins; the former name ``NotImplementedHttp`` still imports,
    with a :class:`DeprecationWarning`.
    """

    code = 501
    description = "The server does not support this request."


_BY_CODE: dict[int, type[HttpError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        Conflict,
        Gone,
        LengthRequired,
        PayloadTooLarge,
        UnsupportedMediaType,
        RangeNotSatisfiable,
        UnprocessableEntity,
        TooManyRequests,
        InternalServerError,
        HttpNotImplemented,
    )
}


def _safe_location(url: str) -> str:
    # A CR or LF in Location would let a user-controlled URL inject headers.
    if "\r" in url or "\n" in url:
        raise ValueError("redirect URL contains a newline; refusing it (header injection)")
    # Percent-encode what may not appear raw in a header; keep URL syntax.
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")


class Redirect(HttpError):
    """A redirect to ``location``, with a short HTML page linking to it.

    :param location: the ``Location`` URL, percent-encoded where a header
        requires it; sent as given otherwise (relative URLs stay relative).
    :param code: any 3xx code; 302 by default.
    :raises ValueError: ``code`` is not 3xx, or ``location`` holds a CR or
        LF (which would inject headers).
    """

    code = 302
    description = "Redirecting."

    def __init__(self, location: str, code: int = 302) -> None:
        if not 300 <= code < 400:
            raise ValueError(f"redirect code must be 3xx, not {code}")
        self.location = _safe_location(location)
        super().__init__(code=code, headers={"Location": self.location})

    def get_body(self) -> str:
        """Return the HTML page of the redirect: a link to :attr:`location`."""
        loc = escape(self.location)
        return (
            "<!doctype html>\n<html lang=en><title>Redirecting...</title>\n"
            "<h1>Redirecting...</h1>\n"
            f'<p>You should be redirected to <a href="{loc}">{loc}</a>.</p>\n'
        )


class RequestRedirect(Redirect):
    """308 to the canonical URL of a rule (``/blogs`` -> ``/blogs/``).

    Raised by :meth:`Router.match <digwebs.routing.Router.match>`;
    ``new_url`` is the path as the router built it, before the application
    adds the mount point and the query string. A 308 keeps the method and
    the body, so a POST is redirected as a POST.
    """

    def __init__(self, new_url: str) -> None:
        self.new_url = new_url
        super().__init__(new_url, 308)


def abort(code: int, description: str | None = None, **kwargs: t.Any) -> t.NoReturn:
    """Stop handling the request with HTTP error ``code``.

    Raises the :class:`HttpError` subclass of that code (a plain
    :class:`HttpError` for a code without one), so ``except NotFound`` sees
    ``abort(404)``. Written so that ``return thing or abort(404)`` reads
    naturally.

    :param code: the status code.
    :param description: the sentence shown to the client, instead of the
        class's.
    :param kwargs: ``headers`` (a mapping added to the response); for 405,
        ``valid_methods`` (the methods listed in ``Allow``).
    """
    cls = _BY_CODE.get(code)
    if cls is MethodNotAllowed:
        raise MethodNotAllowed(kwargs.get("valid_methods", ()), description)
    if cls is None:
        raise HttpError(description, code=code, headers=kwargs.get("headers"))
    raise cls(description, headers=kwargs.get("headers"))


def redirect(location: str, code: int = 302) -> Redirect:
    """Return a redirect to ``location``, which a handler returns or raises.

    :param location: the URL to send the client to.
    :param code: a 3xx code; 302 by default (303 after a form POST, 307 or
        308 to keep the method).
    :raises ValueError: ``code`` is not 3xx, or ``location`` holds a CR or LF.
    """
    return Redirect(location, code)


class APIError(HttpError):
    """An error of a JSON API: always rendered as ``{"error", "data", "message"}``.

    400 unless a subclass says otherwise.

    :param error: a short machine-readable kind, such as ``"value:invalid"``.
    :param data: usually the field or resource concerned.
    :param message: for people; also the description.
    """

    code = 400

    def __init__(self, error: str, data: str = "", message: str = "") -> None:
        self.error, self.data, self.message = error, data, message
        super().__init__(message or error)

    def get_json(self) -> dict[str, t.Any]:
        """Return ``{"error": error, "data": data, "message": message}``."""
        return {"error": self.error, "data": self.data, "message": self.message}

    def get_response(self, as_json: bool = True) -> Response:
        """Render this error as JSON, whatever ``as_json`` says."""
        return super().get_response(as_json=True)


class APIValueError(APIError):
    """400: the input value of ``field`` is invalid."""

    def __init__(self, field: str, message: str = "") -> None:
        super().__init__("value:invalid", field, message)


class APIResourceNotFoundError(APIError):
    """404: the resource named ``field`` was not found."""

    code = 404

    def __init__(self, field: str, message: str = "") -> None:
        super().__init__("value:notfound", field, message)


class APIPermissionError(APIError):
    """403: the caller may not do this."""

    code = 403

    def __init__(self, message: str = "") -> None:
        super().__init__("permission:forbidden", "permission", message)


if t.TYPE_CHECKING:
    NotImplementedHttp = HttpNotImplemented
else:

    def __getattr__(name: str) -> t.Any:
        # The former names, still importable with a warning (PEP 562), as
        # Flask keeps its renamed names. Hidden from type checkers, so that
        # mypy still reports a misspelled name imported from this module.
        if name == "NotImplementedHttp":
            import warnings

            warnings.warn(
                "'digwebs.errors.NotImplementedHttp' has been renamed to"
                " 'HttpNotImplemented'; the old name will be removed in a later release.",
                DeprecationWarning,
                stacklevel=2,
            )
            return HttpNotImplemented
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
