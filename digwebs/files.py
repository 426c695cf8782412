"""Serving one file over HTTP: safe paths, validators, ranges and the streamed body.

:func:`file_response` builds every file response of digwebs (the static
route, the favicon, a handler's ``send_file``), so all of them share the same
rules:

* conditional requests: ``ETag`` (from mtime and size) and ``Last-Modified``;
  ``If-None-Match`` (a list, ``*``, weak comparison) wins over
  ``If-Modified-Since``; a match is a ``304`` with no body;
* ranges: one ``bytes=a-b`` / ``a-`` / ``-n`` range gives ``206`` with
  ``Content-Range``; an unsatisfiable one ``416`` with ``bytes */size``;
  several ranges, or a malformed header, the whole file (``200``);
  ``If-Range`` (an ETag or a date) is honoured; ``HEAD`` ignores ``Range``;
* the body is a :class:`FileBody`: the file is opened only when the server
  starts reading it, read in 64 KiB blocks, and handed to
  ``wsgi.file_wrapper`` when the server offers one (whole files only).

:func:`safe_join` keeps an untrusted path inside its folder: NUL bytes,
backslashes, absolute paths, drive letters, ``..`` (also once more
percent-decoded) and dotfiles are refused, and the real path (symlinks
resolved) must lie inside the real folder and be a regular file.

The routes, ``static_url`` and ``send_file`` that use this are in
:mod:`digwebs.static`.
"""

from __future__ import annotations

import mimetypes
import ntpath
import os
import re
import stat as _stat
import typing as t
import unicodedata
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import quote, unquote

from .errors import RangeNotSatisfiable

if t.TYPE_CHECKING:
    from .context import RequestContext
    from .wrappers.response import Response

__all__ = [
    "FileBody",
    "content_disposition",
    "file_response",
    "guess_type",
    "parse_range",
    "safe_join",
]

#: How many bytes a :class:`FileBody` (and the content hash) reads at a time.
BLOCK_SIZE = 64 * 1024

# Types browsers care about, independent of the host's mime.types.
_TYPES: dict[str, str] = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".zip": "application/zip",
    ".gz": "application/gzip",
}

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)


# -- paths ----------------------------------------------------------------


def _clean_parts(filename: str) -> list[str] | None:
    """The segments of a relative URL path, or ``None`` if it is not safe."""
    if (
        not filename
        or "\x00" in filename
        or "\\" in filename
        or filename.startswith("/")
        or ntpath.splitdrive(filename)[0]
    ):
        return None
    parts = filename.split("/")
    for part in parts:
        # Empty, ".", ".." and every dotfile or dot-folder.
        if not part or part.startswith("."):
            return None
    return parts


def safe_join(directory: str, filename: str) -> tuple[str, os.stat_result] | None:
    """Resolve ``filename`` (a ``/``-separated relative path) inside ``directory``.

    Returns ``(real_path, stat)`` of a regular file that really lies inside
    the directory (symlinks resolved), or ``None``.
    """
    parts = _clean_parts(filename)
    if parts is None:
        return None
    if "%" in filename:
        # Refuse double-encoded tricks (%2e%2e, %2f) outright, though the
        # realpath check below would catch any that mattered.
        if _clean_parts(unquote(filename)) is None:
            return None
    try:
        root = os.path.realpath(directory)
        real = os.path.realpath(os.path.join(root, *parts))
        if not real.startswith(root.rstrip(os.sep) + os.sep):
            return None
        st = os.stat(real)
    except (OSError, ValueError):
        return None
    if not _stat.S_ISREG(st.st_mode):
        return None
    return real, st


# -- metadata ---------------------------------------------------------------


def guess_type(name: str) -> str:
    """The ``Content-Type`` for a file name; text types get ``charset=utf-8``."""
    ext = os.path.splitext(name)[1].lower()
    mimetype = _TYPES.get(ext)
    if mimetype is None:
        guessed, encoding = mimetypes.guess_type(name)
        if encoding is not None:
            # foo.tar.gz is gzip bytes, not a tar: never claim Content-Encoding.
            guessed = "application/gzip" if encoding == "gzip" else None
        mimetype = guessed or "application/octet-stream"
    if mimetype.startswith("text/") and "charset" not in mimetype:
        mimetype += "; charset=utf-8"
    return mimetype


def _etag(st: os.stat_result) -> str:
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def _http_date_ts(value: str) -> int | None:
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt is None:  # pragma: no cover - older Pythons returned None
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return int(dt.timestamp())
    except (OverflowError, OSError, ValueError):
        return None


_ETAG_RE = re.compile(r'(W/)?"([^"]*)"')


def _etag_in(header: str, etag: str, weak: bool) -> bool:
    """Does ``etag`` match the list in ``header`` (``weak`` or strong comparison)?"""
    if header.strip() == "*":
        return True
    opaque = etag[2:] if etag.startswith("W/") else etag
    for m in _ETAG_RE.finditer(header):
        if m.group(1) and not weak:
            continue
        if f'"{m.group(2)}"' == opaque:
            return True
    return False


def _not_modified(environ: t.Mapping[str, t.Any], etag: str, mtime: float) -> bool:
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        # If-None-Match, when present, decides alone (RFC 9110 13.2.2).
        return _etag_in(inm, etag, weak=True)
    ims = environ.get("HTTP_IF_MODIFIED_SINCE")
    if ims:
        since = _http_date_ts(ims)
        if since is not None and int(mtime) <= since:
            return True
    return False


def _if_range_allows(environ: t.Mapping[str, t.Any], etag: str, mtime: float) -> bool:
    value = environ.get("HTTP_IF_RANGE")
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return _etag_in(value, etag, weak=False)
    when = _http_date_ts(value)
    return when is not None and when == int(mtime)


_RANGE_SPEC = re.compile(r"\s*([0-9]*)\s*-\s*([0-9]*)\s*\Z")
_UNSATISFIABLE = (-1, -1)


def _to_int(digits: str) -> int:
    # Python refuses int() of very long digit strings; they are all "huge".
    return int(digits) if len(digits) <= 18 else 1 << 63


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One satisfiable ``(first, last)`` byte range, :data:`_UNSATISFIABLE`, or ``None``.

    ``None`` means "serve the whole file": no usable single range (malformed,
    another unit, or several ranges, which RFC 9110 lets a server ignore).
    """
    unit, eq, spec = header.partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None
    specs = [s for s in spec.split(",") if s.strip()]
    if len(specs) != 1:
        return None
    m = _RANGE_SPEC.match(specs[0])
    if m is None:
        return None
    first, last = m.groups()
    if first:
        start = _to_int(first)
        end = _to_int(last) if last else size - 1
        if last and end < start:
            return None
        if start >= size:
            return _UNSATISFIABLE
        return start, min(end, size - 1)
    if not last:
        return None
    suffix = _to_int(last)
    if suffix == 0:
        return _UNSATISFIABLE
    return max(size - suffix, 0), size - 1


def content_disposition(kind: str, filename: str) -> str:
    """``attachment; filename="..."; filename*=UTF-8''...`` (RFC 6266 / 5987)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in filename):
        raise ValueError("download name contains a control character (CR, LF...); refusing it")
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = fallback.replace("\\", "\\\\").replace('"', '\\"') or "download"
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


# -- the body ---------------------------------------------------------------


class FileBody:
    """A WSGI body that streams ``length`` bytes of a file from ``offset``.

    The file is opened on the first read (so ``HEAD``, ``304`` and dropped
    responses never open it) and closed by :meth:`close` or at the end.
    ``wsgi_file`` is set for whole files only: ``finish()`` then passes
    ``wsgi_file()`` -> ``(file, block_size)`` to ``wsgi.file_wrapper``.
    """

    __slots__ = (
        "path",
        "offset",
        "length",
        "block_size",
        "wsgi_file",
        "_file",
        "_remaining",
        "_done",
    )

    def __init__(
        self,
        path: str,
        offset: int = 0,
        length: int | None = None,
        whole: bool = True,
        block_size: int = BLOCK_SIZE,
    ) -> None:
        self.path = path
        self.offset = offset
        self.length = os.stat(path).st_size - offset if length is None else length
        self.block_size = block_size
        self.wsgi_file: t.Callable[[], tuple[t.BinaryIO, int]] | None = (
            self._for_wrapper if whole and offset == 0 else None
        )
        self._file: t.BinaryIO | None = None
        self._remaining = self.length
        self._done = False

    def _open(self) -> t.BinaryIO:
        fd = os.open(self.path, _OPEN_FLAGS)
        try:
            return t.cast(t.BinaryIO, os.fdopen(fd, "rb", buffering=0))
        except BaseException:
            os.close(fd)
            raise

    def _for_wrapper(self) -> tuple[t.BinaryIO, int]:
        self._file = fh = self._open()
        return fh, self.block_size

    def __iter__(self) -> FileBody:
        return self

    def __next__(self) -> bytes:
        if self._done or self._remaining <= 0:
            self.close()
            raise StopIteration
        fh = self._file
        if fh is None:
            fh = self._file = self._open()
            if self.offset:
                fh.seek(self.offset)
        data = fh.read(min(self.block_size, self._remaining))
        if not data:  # the file shrank since its length was sent
            self.close()
            raise StopIteration
        self._remaining -= len(data)
        return data

    def close(self) -> None:
        """Close the file, if it was opened; iterating again yields nothing.

        Safe to call more than once (the WSGI server calls it after the last
        chunk, and so does the body itself).
        """
        self._done = True
        fh, self._file = self._file, None
        if fh is not None:
            fh.close()

    def __repr__(self) -> str:
        return f"<FileBody {self.path!r} {self.offset}+{self.length}>"


# -- responses --------------------------------------------------------------


def file_response(
    c: RequestContext,
    real: str,
    st: os.stat_result,
    mimetype: str,
    cache_control: str,
    extra: list[tuple[str, str]] | None = None,
) -> Response:
    """The response of ``c``'s request for the regular file ``real`` (``st`` its stat).

    ``200`` with the whole file, ``206`` with one satisfiable range, ``304``
    when a validator matches (GET and HEAD only), as the module docstring
    describes; the file itself is opened only once the body is read.

    :param c: the request context (its request's environ, its app's
        ``response_class``).
    :param real: the file's real path, already checked (:func:`safe_join`).
    :param mimetype: the ``Content-Type`` of a ``200`` or ``206``.
    :param cache_control: the ``Cache-Control`` of every answer.
    :param extra: more headers (``Content-Disposition``), sent on each answer.
    :raises RangeNotSatisfiable: a single range starting past the end (416).
    """
    environ = c.request.environ
    method = environ["REQUEST_METHOD"]
    etag = _etag(st)
    mtime = st.st_mtime
    headers = [
        ("ETag", etag),
        ("Last-Modified", formatdate(mtime, usegmt=True)),
        ("Cache-Control", cache_control),
        ("Accept-Ranges", "bytes"),
    ]
    if extra:
        headers.extend(extra)
    cls = c.app.response_class
    if method in ("GET", "HEAD") and _not_modified(environ, etag, mtime):
        resp = cls(b"", 304)
        resp._header_list.extend(headers)
        return resp
    size = st.st_size
    offset, length, status = 0, size, 200
    range_header = environ.get("HTTP_RANGE")
    if range_header and method == "GET" and size > 0 and _if_range_allows(environ, etag, mtime):
        rng = parse_range(range_header, size)
        if rng is _UNSATISFIABLE:
            raise RangeNotSatisfiable(
                headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"}
            )
        if rng is not None:
            offset, last = rng
            length = last - offset + 1
            status = 206
            headers.append(("Content-Range", f"bytes {offset}-{last}/{size}"))
    headers.append(("Content-Length", str(length)))
    resp = cls(FileBody(real, offset, length, whole=status == 200), status, None, mimetype)
    resp._header_list.extend(headers)
    return resp
