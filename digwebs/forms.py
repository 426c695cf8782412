"""Reading and parsing the request body: the raw bytes, urlencoded and multipart forms.

:class:`~digwebs.Request` delegates here: ``Request.body`` is
:func:`_read_body` (Content-Length and ``max_content_length`` checked, the
server's read errors turned into 400), and ``Request.form`` /
``Request.files`` are :class:`_FormAttribute` descriptors. A browser's
urlencoded post goes straight to the one-pass decoder
(:func:`digwebs.datastructures._parse_urlencoded_bytes`); other charsets and
multipart bodies (parsed by the ``multipart`` package, large parts spooled to
temporary files) take :func:`_parse_form`. Whatever is wrong with a body is
a 4xx with a short reason, never a 500.
"""

from __future__ import annotations

import codecs
import io
import json as _json
import typing as t

from .datastructures import MultiDict, _parse_urlencoded_bytes, parse_qs
from .errors import BadRequest, PayloadTooLarge
from .uploads import FileStorage

if t.TYPE_CHECKING:
    from .wrappers.request import Request

__all__: list[str] = []

# Form charsets for which an ASCII body needs no decoding (its text is its bytes).
_ASCII_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1"})
_NO_OPTIONS: dict[str, str] = {}


def _unreadable(exc: Exception) -> BadRequest:
    """The 400 for a body the server could not hand over.

    The message is fixed: the exception's name and text tell which server
    runs the application (``InvalidChunkSize`` is gunicorn's) and may carry
    server details (spool file paths, addresses). The exception stays
    chained as ``__cause__`` for whoever handles the 400.
    """
    return BadRequest("The request body could not be read: it is malformed or incomplete.")


def _loads_json(body: bytes) -> t.Any:
    """Parse ``body`` as JSON; 400 (never a 500) for whatever is wrong with it."""
    try:
        return _json.loads(body)
    except RecursionError:
        raise BadRequest("The request body is JSON nested too deeply to parse.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from None


def _multipart_reason(exc: Exception) -> str:
    # multipart's errors carry (message, cause) tuples; the message will do.
    reason = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return reason[:200]


_new_dict = dict.__new__


def _read_body(req: Request) -> bytes:
    """Read the body of *req* once: ``Request.body``'s implementation.

    PERF: one frame for what were three (the body, the limit check, the
    Content-Length property): every form post goes through it. Caches
    ``content_length`` on the way, with the same answers and errors.
    """
    environ = req.environ
    raw = environ.get("CONTENT_LENGTH")
    length: int | None = None
    if raw:
        try:
            length = int(raw)
        except ValueError:
            raise BadRequest("The Content-Length header is not a number.") from None
        if length < 0:
            raise BadRequest("The Content-Length header is negative.")
    req.content_length = length
    limit = req.max_content_length
    if limit is not None and length is not None and length > limit:
        raise PayloadTooLarge(
            f"The request body is {length} bytes; this server accepts at most {limit}."
        )
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""
    stream = environ["wsgi.input"]
    try:
        if length is None:
            data = stream.read() if limit is None else stream.read(limit + 1)
        else:
            data = stream.read(length) if length else b""
    except MemoryError:
        raise
    except Exception as exc:
        # Deliberately broad: each server raises its own exceptions for a
        # body it cannot decode (gunicorn.http.errors.InvalidChunkSize,
        # NoMoreData, ChunkMissingTerminator...; OSError, ValueError
        # elsewhere) and they share no base class but Exception. Importing
        # gunicorn here would tie the framework to one server.
        raise _unreadable(exc) from exc
    if length is None:
        if limit is not None and len(data) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    elif len(data) < length:
        raise BadRequest("The request body ended before Content-Length bytes arrived.")
    return t.cast(bytes, data)


class _FormAttribute:
    """``request.form`` and ``request.files``: the body's fields and uploads.

    Parsed on first access of either; both are then plain instance
    attributes. PERF: a browser's urlencoded post (the exact Content-Type,
    an ASCII body) goes from here to the one-pass decoder without the
    general parser's frames.
    """

    def __init__(self, index: int) -> None:
        self.index = index

    def __set_name__(self, owner: type, name: str) -> None:
        self.__doc__ = (
            "Fields of an urlencoded or multipart body (uploads are in ``files``)."
            if self.index == 0
            else "Uploaded files of a multipart body, as :class:`FileStorage` objects."
        )

    @t.overload
    def __get__(self, obj: None, owner: type) -> _FormAttribute: ...
    @t.overload
    def __get__(self, obj: object, owner: type) -> MultiDict: ...
    def __get__(self, obj: t.Any, owner: type) -> t.Any:
        if obj is None:
            return self
        form = None
        if obj.environ.get("CONTENT_TYPE") == "application/x-www-form-urlencoded":
            body = obj.body
            if body.isascii():
                form = _parse_urlencoded_bytes(body)
            if form is None:
                form = _parse_urlencoded(obj, _NO_OPTIONS)
            files = _new_dict(MultiDict)
        if form is None:
            form, files = obj._form_and_files
        obj.form = form  # PERF: instance attributes now (see request.cached_property)
        obj.files = files
        return files if self.index else form


def _parse_form(req: Request) -> tuple[MultiDict, MultiDict]:
    """``(form, files)`` of any body: urlencoded with options, multipart, or none."""
    # (the exact urlencoded Content-Type is handled by _FormAttribute)
    mimetype, options = req._content_type
    if mimetype == "application/x-www-form-urlencoded":
        return _parse_urlencoded(req, options), _new_dict(MultiDict)
    if mimetype == "multipart/form-data":
        return _parse_multipart(req, options)
    return MultiDict(), MultiDict()


def _parse_urlencoded(req: Request, options: dict[str, str]) -> MultiDict:
    """The fields of an urlencoded body in the ``charset`` of ``options`` (UTF-8)."""
    body = req.body
    charset = options.get("charset")
    # PERF: an ASCII body (what browsers send) is valid UTF-8 and in every
    # charset Python knows as ASCII-compatible; decoding it to text only to
    # encode it again for the escape decoder would be wasted work.
    if body.isascii() and (charset is None or charset.lower() in _ASCII_CHARSETS):
        fast = _parse_urlencoded_bytes(body)
        return parse_qs(body.decode("ascii")) if fast is None else fast
    charset = charset or "utf-8"
    try:
        text = body.decode(charset)
    except LookupError:
        raise BadRequest(f"The form body names an unknown charset {charset!r}.") from None
    except UnicodeDecodeError:
        raise BadRequest(f"The form body is not valid {charset.upper()}.") from None
    return parse_qs(text)


def _limited_length(req: Request) -> int | None:
    """Length to read, after enforcing ``max_content_length`` (the multipart path)."""
    length = req.content_length
    limit = req.max_content_length
    if limit is not None and length is not None and length > limit:
        raise PayloadTooLarge(
            f"The request body is {length} bytes; this server accepts at most {limit}."
        )
    return length


def _parse_multipart(req: Request, options: dict[str, str]) -> tuple[MultiDict, MultiDict]:
    """``(form, files)`` of a multipart body, streamed from ``wsgi.input``."""
    import multipart  # only forms with uploads need it: imported on first use

    boundary = options.get("boundary")
    if not boundary:
        raise BadRequest("The multipart body has no boundary in its Content-Type.")
    charset = options.get("charset", "utf-8")
    try:
        codecs.lookup(charset)
    except LookupError:
        raise BadRequest(f"The multipart body names an unknown charset {charset!r}.") from None
    length = _limited_length(req)
    stream = req.environ["wsgi.input"]
    if length is None and not req.environ.get("wsgi.input_terminated"):
        stream, length = io.BytesIO(b""), 0
    form, files = MultiDict(), MultiDict()
    limit = req.max_content_length
    parts = iter(
        multipart.MultipartParser(
            stream,
            boundary,
            content_length=-1 if length is None else length,
            spool_limit=req.max_form_memory_size,
            memory_limit=max(req.max_form_memory_size * 8, 8 * 1024 * 1024),
            disk_limit=float("inf") if limit is None else limit,
            charset=charset,
        )
    )
    while True:
        # Only the parser reads wsgi.input, so only next() is guarded.
        try:
            part = next(parts, None)
        except multipart.ParserLimitReached as exc:
            raise PayloadTooLarge(f"The multipart body exceeds a limit: {exc}") from None
        except multipart.MultipartError as exc:
            reason = _multipart_reason(exc)
            raise BadRequest(f"The multipart body is malformed: {reason}") from None
        except MemoryError:
            raise
        except Exception as exc:
            # Broad for the reason given in _read_body: the server's errors.
            raise _unreadable(exc) from exc
        if part is None:
            return form, files
        if part.filename is None:
            try:
                text = part.value
            except UnicodeDecodeError:
                # Same answer as the urlencoded path; file parts stay bytes.
                raise BadRequest(
                    f"The multipart field {part.name!r} is not valid {charset.upper()}."
                ) from None
            form.add(part.name, text)
        else:
            stream_obj = part.file
            stream_obj.seek(0)
            files.add(
                part.name,
                FileStorage(stream_obj, part.filename, part.name, part.content_type, part.size),
            )
