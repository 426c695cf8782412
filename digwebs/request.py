"""The :class:`Request` object: a lazy view over the WSGI environ.

Nothing is parsed until a handler reads it: building a request is one object
and one attribute, and each property caches its result on first access.
"""

from __future__ import annotations

import io
import json as _json
import typing as t
from urllib.parse import quote

from .cookies import parse_cookie_header  # re-exported: request.parse_cookie_header
from .datastructures import EnvironHeaders, FileStorage, MultiDict, parse_qs
from .errors import BadRequest, PayloadTooLarge

__all__ = ["Request"]

_DEFAULT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024

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
    return main.strip().lower(), options


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
            # PERF: one plain pair (?limit=10), the commonest query of all.
            key, _, item = qs.partition("=")
            value = MultiDict({key: [item]})
        else:
            value = MultiDict()
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


class Request:
    """The HTTP request being handled.

    Read it through ``ctx.request`` or the ``request`` proxy. ``environ`` is
    the WSGI environ; everything else is derived from it lazily.
    """

    #: The WSGI environ of the request.
    environ: dict[str, t.Any]
    #: Bodies larger than this get 413 without being read (``None``: no limit).
    max_content_length: int | None = _DEFAULT_MAX_CONTENT_LENGTH
    #: Parts of a multipart body larger than this spill to a temporary file.
    max_form_memory_size: int = 1024 * 1024

    def __init__(self, environ: dict[str, t.Any]) -> None:
        self.environ = environ

    # -- the request line -------------------------------------------------

    @cached_property
    def method(self) -> str:
        return t.cast(str, self.environ.get("REQUEST_METHOD", "GET")).upper()

    @cached_property
    def path(self) -> str:
        """The path below the application's mount point, decoded."""
        return _wsgi_decode(self.environ.get("PATH_INFO") or "/")

    @cached_property
    def script_root(self) -> str:
        return _wsgi_decode(self.environ.get("SCRIPT_NAME", "")).rstrip("/")

    @cached_property
    def query_string(self) -> str:
        return t.cast(str, self.environ.get("QUERY_STRING", ""))

    query = _QueryAttribute()

    @property
    def args(self) -> MultiDict:
        """Flask's name for :attr:`query`."""
        return self.query  # type: ignore[no-any-return]

    headers = _HeadersAttribute()

    @cached_property
    def scheme(self) -> str:
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
        return t.cast("str | None", self.environ.get("REMOTE_ADDR"))

    @cached_property
    def cookies(self) -> dict[str, str]:
        return parse_cookie_header(_wsgi_decode(self.environ.get("HTTP_COOKIE", "")))

    @cached_property
    def is_json(self) -> bool:
        return self.mimetype == "application/json" or self.mimetype.endswith("+json")

    @cached_property
    def _content_type(self) -> tuple[str, dict[str, str]]:
        return _parse_options(self.environ.get("CONTENT_TYPE", ""))

    @property
    def mimetype(self) -> str:
        """The content type without options, lower-case (``"application/json"``)."""
        return self._content_type[0]

    @cached_property
    def content_length(self) -> int | None:
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

    def _limited_length(self) -> int | None:
        """Length to read, after enforcing ``max_content_length``."""
        length = self.content_length
        limit = self.max_content_length
        if limit is not None and length is not None and length > limit:
            raise PayloadTooLarge(
                f"The request body is {length} bytes; this server accepts at most {limit}."
            )
        return length

    @cached_property
    def body(self) -> bytes:
        """The raw body (at most ``max_content_length`` bytes, else 413)."""
        length = self._limited_length()
        stream = self.environ["wsgi.input"]
        if length is None:
            if not self.environ.get("wsgi.input_terminated"):
                return b""
            limit = self.max_content_length
            data = stream.read() if limit is None else stream.read(limit + 1)
            if limit is not None and len(data) > limit:
                raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
            return t.cast(bytes, data)
        data = stream.read(length) if length else b""
        if len(data) < length:
            raise BadRequest("The request body ended before Content-Length bytes arrived.")
        return t.cast(bytes, data)

    # Flask's name for the raw body.
    @property
    def data(self) -> bytes:
        return self.body

    def get_data(self, as_text: bool = False) -> bytes | str:
        return self.body.decode("utf-8", "replace") if as_text else self.body

    @cached_property
    def json(self) -> t.Any:
        """The body parsed as JSON; ``None`` when empty, 400 when invalid."""
        body = self.body
        if not body:
            return None
        try:
            return _json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"The request body is not valid JSON: {exc}") from None

    def _parse_form(self) -> tuple[MultiDict, MultiDict]:
        mimetype, options = self._content_type
        if mimetype == "application/x-www-form-urlencoded":
            try:
                text = self.body.decode(options.get("charset", "utf-8"))
            except (UnicodeDecodeError, LookupError):
                raise BadRequest("The form body is not valid UTF-8.") from None
            return parse_qs(text), MultiDict()
        if mimetype == "multipart/form-data":
            return self._parse_multipart(options)
        return MultiDict(), MultiDict()

    def _parse_multipart(self, options: dict[str, str]) -> tuple[MultiDict, MultiDict]:
        import multipart

        boundary = options.get("boundary")
        if not boundary:
            raise BadRequest("The multipart body has no boundary in its Content-Type.")
        length = self._limited_length()
        stream = self.environ["wsgi.input"]
        if length is None and not self.environ.get("wsgi.input_terminated"):
            stream, length = io.BytesIO(b""), 0
        form, files = MultiDict(), MultiDict()
        limit = self.max_content_length
        try:
            parser = multipart.MultipartParser(
                stream,
                boundary,
                content_length=-1 if length is None else length,
                spool_limit=self.max_form_memory_size,
                memory_limit=max(self.max_form_memory_size * 8, 8 * 1024 * 1024),
                disk_limit=float("inf") if limit is None else limit,
                charset=options.get("charset", "utf-8"),
            )
            for part in parser:
                if part.filename is None:
                    form.add(part.name, part.value)
                else:
                    stream_obj = part.file
                    stream_obj.seek(0)
                    files.add(
                        part.name,
                        FileStorage(
                            stream_obj, part.filename, part.name, part.content_type, part.size
                        ),
                    )
        except multipart.ParserLimitReached as exc:
            raise PayloadTooLarge(f"The multipart body exceeds a limit: {exc}") from None
        except multipart.MultipartError as exc:
            raise BadRequest(f"The multipart body is malformed: {exc}") from None
        return form, files

    @cached_property
    def _form_and_files(self) -> tuple[MultiDict, MultiDict]:
        return self._parse_form()

    @property
    def form(self) -> MultiDict:
        """Fields of an urlencoded or multipart body (uploads are in ``files``)."""
        return self._form_and_files[0]

    @property
    def files(self) -> MultiDict:
        """Uploaded files of a multipart body, as :class:`FileStorage` objects."""
        return self._form_and_files[1]

    @property
    def values(self) -> MultiDict:
        """Query and form values together (form values win)."""
        combined = MultiDict()
        for source in (self.query, self.form):
            for key, value in source.items(multi=True):
                combined.add(key, value)
        return combined

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url!r}>"
