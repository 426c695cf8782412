"""The :class:`Request` object: a lazy view over the WSGI environ.

Nothing is parsed until a handler reads it: building a request is one object
and one attribute, and each property caches its result on first access.
Reading and parsing the body (``body``, ``form``, ``files``) is
:mod:`digwebs.forms`' work.
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote

from ..cookies import parse_cookie_header as parse_cookie_header  # re-exported
from ..datastructures import MultiDict, parse_qs
from ..errors import BadRequest, UnsupportedMediaType
from ..forms import _FormAttribute, _loads_json, _parse_form, _read_body
from ..headers import EnvironHeaders

__all__ = ["Request"]

_DEFAULT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024
# What _parsed_json holds for an empty body (None is the JSON null).
_EMPTY_BODY: t.Any = object()

T = t.TypeVar("T")


class cached_property(t.Generic[T]):
    """A lazily computed attribute, stored on the instance after first use.

    PERF: unlike :class:`functools.cached_property` on Python 3.11 it takes
    no lock; a request is only ever read by the one thread handling it, and
    after the first access the value is a plain instance-dict hit.
    """

    def __init__(self, fn: t.Callable[[t.Any], T]) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__
        self.name = fn.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @t.overload
    def __get__(self, obj: None, owner: type) -> cached_property[T]: ...
    @t.overload
    def __get__(self, obj: object, owner: type) -> T: ...
    def __get__(self, obj: t.Any, owner: type) -> t.Any:
        if obj is None:
            return self
        value = self.fn(obj)
        # PERF: setattr, not obj.__dict__[...]: touching __dict__ makes
        # CPython build a real dict for an instance that had none.
        setattr(obj, self.name, value)
        return value


def _wsgi_decode(value: str) -> str:
    # WSGI carries bytes as latin-1 str; URLs on the wire are UTF-8.
    if value.isascii():
        return value
    return value.encode("latin-1").decode("utf-8", "replace")


def _parse_options(value: str) -> tuple[str, dict[str, str]]:
    """Split ``text/html; charset=utf-8`` into the value and its options."""
    main, _, rest = value.partition(";")
    options = {}
    for item in rest.split(";"):
        key, eq, val = item.strip().partition("=")
        if eq:
            options[key.strip().lower()] = val.strip().strip('"')
    # Only spaces and tabs are HTTP whitespace (as werkzeug strips them).
    return main.strip(" \t").lower(), options


def _is_json_mimetype(mimetype: str) -> bool:
    # application/json, or application/<anything>+json (RFC 6839), as werkzeug.
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


class _QueryAttribute:
    """``request.query``: query parameters, ``.getlist(k)`` for repeated keys.

    PERF: a dedicated descriptor computes and caches in one frame; the
    handful of handlers that read the query do so on every request.
    """

    def __get__(self, obj: t.Any, owner: type) -> t.Any:
        if obj is None:
            return self
        qs = obj.environ.get("QUERY_STRING", "")
        if "&" in qs or "%" in qs or "+" in qs or not qs.isascii():
            value = parse_qs(_wsgi_decode(qs))
        elif qs:
            # PERF: one plain pair (?limit=10), the commonest query of all;
            # two C calls instead of MultiDict.__init__.
            key, _, item = qs.partition("=")
            value = _new_dict(MultiDict)
            _dict_setitem(value, key, [item])
        else:
            value = _new_dict(MultiDict)
        obj.query = value  # PERF: not via obj.__dict__ (see cached_property)
        return value


class _HeadersAttribute:
    """``request.headers``: case-insensitive request headers (``["User-Agent"]``)."""

    def __get__(self, obj: t.Any, owner: type) -> t.Any:
        if obj is None:
            return self
        headers = _new_object(EnvironHeaders)
        headers.environ = obj.environ
        obj.headers = headers
        return headers


_new_object = object.__new__
_new_dict = dict.__new__
_dict_setitem = dict.__setitem__


class Request:
    """The HTTP request being handled.

    Read it through ``ctx.request`` or the ``request`` proxy. ``environ`` is
    the WSGI environ; everything else is derived from it lazily.
    """

    #: The WSGI environ of the request.
    environ: dict[str, t.Any]
    #: Bodies larger than this get 413 without being read (``None``: no limit).
    #: An app sets it on each of its requests from its ``max_content_length``
    #: config; this class default is for a Request made outside an app.
    max_content_length: int | None = _DEFAULT_MAX_CONTENT_LENGTH
    #: Parts of a multipart body larger than this spill to a temporary file.
    max_form_memory_size: int = 1024 * 1024

    def __init__(self, environ: dict[str, t.Any]) -> None:
        """Wrap *environ*; nothing is read from it until an attribute is."""
        self.environ = environ

    # -- the request line -------------------------------------------------

    @cached_property
    def method(self) -> str:
        """The request method, upper-case (``"GET"``, ``"POST"``)."""
        return t.cast(str, self.environ.get("REQUEST_METHOD", "GET")).upper()

    @cached_property
    def path(self) -> str:
        """The path below the application's mount point, decoded."""
        return _wsgi_decode(self.environ.get("PATH_INFO") or "/")

    @cached_property
    def script_root(self) -> str:
        """Where the application is mounted (``SCRIPT_NAME``), decoded, without a
        trailing slash; ``""`` at the root."""
        return _wsgi_decode(self.environ.get("SCRIPT_NAME", "")).rstrip("/")

    @cached_property
    def query_string(self) -> str:
        """The raw query string, as the server passed it (not decoded)."""
        return t.cast(str, self.environ.get("QUERY_STRING", ""))

    query = _QueryAttribute()

    @property
    def args(self) -> MultiDict:
        """Flask's name for :attr:`query`."""
        return self.query  # type: ignore[no-any-return]

    headers = _HeadersAttribute()

    @cached_property
    def scheme(self) -> str:
        """``"http"`` or ``"https"`` (``wsgi.url_scheme``)."""
        return t.cast(str, self.environ.get("wsgi.url_scheme", "http"))

    @cached_property
    def host(self) -> str:
        """``Host`` header, or the server name and non-default port."""
        host = self.environ.get("HTTP_HOST")
        if host:
            return t.cast(str, host)
        name, port = (
            self.environ.get("SERVER_NAME", "localhost"),
            str(self.environ.get("SERVER_PORT", "")),
        )
        if (self.scheme, port) in (("http", "80"), ("https", "443"), ("http", ""), ("https", "")):
            return t.cast(str, name)
        return f"{name}:{port}"

    @cached_property
    def url(self) -> str:
        """The full URL the client asked for."""
        path = quote(self.script_root + self.path, safe="/:@!$&()*+,;=-._~")
        url = f"{self.scheme}://{self.host}{path}"
        return f"{url}?{self.query_string}" if self.query_string else url

    @cached_property
    def remote_addr(self) -> str | None:
        """The client's address (``REMOTE_ADDR``), or ``None`` if the server gave none."""
        return t.cast("str | None", self.environ.get("REMOTE_ADDR"))

    @cached_property
    def cookies(self) -> dict[str, str]:
        """The request's cookies, name to value (quoted values unquoted; the
        first of repeated names wins)."""
        return parse_cookie_header(_wsgi_decode(self.environ.get("HTTP_COOKIE", "")))

    @cached_property
    def is_json(self) -> bool:
        """Whether the Content-Type is JSON: ``application/json`` or
        ``application/*+json``, parameters such as ``charset`` allowed (the
        same answer as werkzeug's ``Request.is_json``)."""
        return _is_json_mimetype(self.mimetype)

    @cached_property
    def _content_type(self) -> tuple[str, dict[str, str]]:
        return _parse_options(self.environ.get("CONTENT_TYPE", ""))

    @property
    def mimetype(self) -> str:
        """The content type without options, lower-case (``"application/json"``)."""
        return self._content_type[0]

    @cached_property
    def content_length(self) -> int | None:
        """The ``Content-Length`` as an int, ``None`` when absent.

        Not a number, or negative: :class:`~digwebs.errors.BadRequest` (400).
        """
        raw = self.environ.get("CONTENT_LENGTH")
        if not raw:
            return None
        try:
            length = int(raw)
        except ValueError:
            raise BadRequest("The Content-Length header is not a number.") from None
        if length < 0:
            raise BadRequest("The Content-Length header is negative.")
        return length

    # -- the body ------------------------------------------------------------

    @cached_property
    def body(self) -> bytes:
        """The raw body (at most ``max_content_length`` bytes, else 413).

        A ``Content-Length`` that is not a number, or is negative, is a 400.
        Any error the server raises while the body is read (a malformed or
        truncated chunked body, a connection reset) is the client's: 400.
        """
        return _read_body(self)

    # Flask's name for the raw body.
    @property
    def data(self) -> bytes:
        """Flask's name for :attr:`body`."""
        return self.body

    def get_data(self, as_text: bool = False) -> bytes | str:
        """The body, as Flask's ``Request.get_data``.

        :param as_text: decode it as UTF-8 (invalid bytes replaced) instead of
            returning bytes.
        """
        return self.body.decode("utf-8", "replace") if as_text else self.body

    @cached_property
    def _parsed_json(self) -> t.Any:
        body = self.body
        return _loads_json(body) if body else _EMPTY_BODY

    @property
    def json(self) -> t.Any:
        """The body parsed as JSON, if the Content-Type says it is JSON.

        ``None`` when the Content-Type is not ``application/json`` or
        ``application/*+json`` (a ``text/plain`` body, which a cross-site
        HTML form can send, is never parsed), and when the body is empty.
        Invalid JSON, or JSON nested too deeply to parse, is a 400.
        """
        if not self.is_json:
            return None
        value = self._parsed_json
        return None if value is _EMPTY_BODY else value

    def get_json(self, force: bool = False, silent: bool = False) -> t.Any:
        """The body parsed as JSON, as Flask's ``Request.get_json``.

        A Content-Type that is not JSON is a 415
        (:class:`~digwebs.errors.UnsupportedMediaType`) unless ``force``;
        invalid JSON, or an empty body, is a 400. With ``silent`` both give
        ``None`` instead. Errors reading the body (413, 400) are raised
        whatever ``silent`` says: they are not about JSON.
        """
        if not (force or self.is_json):
            if silent:
                return None
            got = self.mimetype or "missing"
            raise UnsupportedMediaType(
                f"The request body must be JSON (Content-Type application/json), not {got}."
            )
        self.body  # noqa: B018 (read errors are raised even when silent)
        try:
            value = self._parsed_json
        except BadRequest:
            if silent:
                return None
            raise
        if value is _EMPTY_BODY:
            if silent:
                return None
            raise BadRequest("The request body is empty; JSON was expected.")
        return value

    @cached_property
    def _form_and_files(self) -> tuple[MultiDict, MultiDict]:
        return _parse_form(self)

    form = _FormAttribute(0)
    files = _FormAttribute(1)

    @property
    def values(self) -> MultiDict:
        """Query and form values together, the query first.

        ``values[k]`` is the query's first value when the query has ``k``,
        else the form's; ``values.getlist(k)`` gives the query's values, then
        the form's. For a GET request only the query counts, as in werkzeug
        2.0+: a body on a GET must not change what a (cached) URL means.
        Unlike Flask's (a read-only ``CombinedMultiDict`` view) the result is
        a new, mutable :class:`MultiDict` each time: changing it changes
        neither :attr:`query` nor :attr:`form`.
        """
        combined = self.query.copy()
        if self.method != "GET":
            combined.update(self.form)
        return t.cast(MultiDict, combined)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url!r}>"
