"""HTTP errors, redirects and the API error family.

Every :class:`HttpError` is an exception *and* knows how to render itself as a
:class:`~digwebs.response.Response`, so the dispatcher needs a single
``except HttpError`` branch, and a handler may either ``raise`` or ``return``
one (``return redirect("/")`` and ``raise redirect("/")`` both work).
"""

from __future__ import annotations

import typing as t
from html import escape
from urllib.parse import quote

from .response import Response, status_line

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
    "RangeNotSatisfiable",
    "UnprocessableEntity",
    "TooManyRequests",
    "InternalServerError",
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
    """An HTTP error response raised as an exception.

    ``code`` and ``description`` are class attributes that subclasses
    override; both can also be given per instance. ``headers`` are added to
    the rendered response.
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
        return (
            "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>{self.code} {escape(self.name)}</title></head>\n"
            f"<body><h1>{escape(self.name)}</h1>\n<p>{escape(self.description)}</p></body></html>\n"
        )

    def get_json(self) -> dict[str, t.Any]:
        return {"error": f"http:{self.code}", "data": "", "message": self.description}

    def get_response(self, as_json: bool = False) -> Response:
        """Render this error as a response, HTML unless ``as_json``."""
        if as_json:
            resp = Response.json(self.get_json(), self.code)
        else:
            resp = Response(self.get_body().encode(), self.code)
        for name, value in self.headers.items():
            resp.headers[name] = value
        return resp


class BadRequest(HttpError):
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
    code = 401
    description = "You need to be signed in to see this page."


class Forbidden(HttpError):
    code = 403
    description = "You do not have permission to access this resource."


class NotFound(HttpError):
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
    code = 406
    description = "The resource cannot produce a response the client accepts."


class Conflict(HttpError):
    code = 409
    description = "The request conflicts with the current state of the resource."


class Gone(HttpError):
    code = 410
    description = "The requested URL is no longer available."


class LengthRequired(HttpError):
    code = 411
    description = "A request with this method needs a Content-Length header."


class PayloadTooLarge(HttpError):
    code = 413
    description = "The request body is larger than this server accepts."


class UnsupportedMediaType(HttpError):
    code = 415
    description = "The server does not support the media type sent in the request."


class RangeNotSatisfiable(HttpError):
    code = 416
    description = "The requested range cannot be served."


class UnprocessableEntity(HttpError):
    code = 422
    description = "The request was well-formed but could not be processed."


class TooManyRequests(HttpError):
    code = 429
    description = "Too many requests; slow down."


class InternalServerError(HttpError):
    code = 500
    description = "The server encountered an internal error and could not complete the request."


class NotImplementedHttp(HttpError):
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
        NotImplementedHttp,
    )
}


def _safe_location(url: str) -> str:
    # A CR or LF in Location would let a user-controlled URL inject headers.
    if "\r" in url or "\n" in url:
        raise ValueError("redirect URL contains a newline; refusing it (header injection)")
    # Percent-encode what may not appear raw in a header; keep URL syntax.
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")


class Redirect(HttpError):
    """A redirect to ``location`` (302 unless another 3xx code is given)."""

    code = 302
    description = "Redirecting."

    def __init__(self, location: str, code: int = 302) -> None:
        if not 300 <= code < 400:
            raise ValueError(f"redirect code must be 3xx, not {code}")
        self.location = _safe_location(location)
        super().__init__(code=code, headers={"Location": self.location})

    def get_body(self) -> str:
        loc = escape(self.location)
        return (
            "<!doctype html>\n<html lang=en><title>Redirecting...</title>\n"
            "<h1>Redirecting...</h1>\n"
            f'<p>You should be redirected to <a href="{loc}">{loc}</a>.</p>\n'
        )


class RequestRedirect(Redirect):
    """308 to the canonical URL of a rule (``/blogs`` -> ``/blogs/``)."""

    def __init__(self, new_url: str) -> None:
        self.new_url = new_url
        super().__init__(new_url, 308)


def abort(code: int, description: str | None = None, **kwargs: t.Any) -> t.NoReturn:
    """Stop handling the request with HTTP error ``code``.

    Written so that ``return thing or abort(404)`` reads naturally.
    """
    cls = _BY_CODE.get(code)
    if cls is MethodNotAllowed:
        raise MethodNotAllowed(kwargs.get("valid_methods", ()), description)
    if cls is None:
        raise HttpError(description, code=code, headers=kwargs.get("headers"))
    raise cls(description, headers=kwargs.get("headers"))


def redirect(location: str, code: int = 302) -> Redirect:
    """Return a redirect response to ``location``; may also be raised.

    URLs containing CR or LF are refused with :class:`ValueError`.
    """
    return Redirect(location, code)


class APIError(HttpError):
    """An error of a JSON API: rendered as ``{"error", "data", "message"}``.

    ``error`` is a short machine-readable kind, ``data`` usually names the
    field or resource concerned, ``message`` is for people.
    """

    code = 400

    def __init__(self, error: str, data: str = "", message: str = "") -> None:
        self.error, self.data, self.message = error, data, message
        super().__init__(message or error)

    def get_json(self) -> dict[str, t.Any]:
        return {"error": self.error, "data": self.data, "message": self.message}

    def get_response(self, as_json: bool = True) -> Response:
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
