"""Static files: the ``/static`` route, ``static_url`` and ``send_file``.

Every file response here is built by :func:`_file_response`, so the static
route, the favicon and a handler's ``send_file`` share the same rules:

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

Paths never escape their folder: NUL bytes, backslashes, absolute paths,
drive letters, ``..`` (also once more percent-decoded) and dotfiles are
refused, and the real path (symlinks resolved) must lie inside the real
folder and be a regular file. Anything else is a plain ``404``.
"""

from __future__ import annotations

import hashlib
import mimetypes
import ntpath
import os
import re
import stat as _stat
import threading
import typing as t
import unicodedata
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import quote, unquote

from .context import _cv_ctx, _get_app, _get_ctx
from .errors import NotFound, RangeNotSatisfiable
from .response import Response

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .context import RequestContext

__all__ = [
    "FileBody",
    "register_static_routes",
    "safe_join",
    "send_file",
    "send_from_directory",
    "static_url",
]

BLOCK_SIZE = 64 * 1024
#: ``Cache-Control`` of a request whose ``v=`` matches the file's content hash.
IMMUTABLE = "public, max-age=31536000, immutable"

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


def _resolve_send_path(app: Digwebs, path: str | os.PathLike[str]) -> tuple[str, os.stat_result]:
    name = os.fspath(path)
    if not name or "\x00" in name:
        raise NotFound()
    try:
        if os.path.isabs(name):
            real = os.path.realpath(name)
        else:
            root = os.path.realpath(app.root_path)
            real = os.path.realpath(os.path.join(root, name))
            if not real.startswith(root.rstrip(os.sep) + os.sep):
                raise NotFound()
        st = os.stat(real)
    except (OSError, ValueError):
        raise NotFound() from None
    if not _stat.S_ISREG(st.st_mode):
        raise NotFound()
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


_hash_cache: dict[str, tuple[int, int, str]] = {}
_hash_lock = threading.Lock()


def _content_hash(real: str, st: os.stat_result) -> str:
    """A short hash of the file's content, cached per (path, mtime, size)."""
    hit = _hash_cache.get(real)
    if hit is not None and hit[0] == st.st_mtime_ns and hit[1] == st.st_size:
        return hit[2]
    h = hashlib.blake2b(digest_size=16)
    with open(real, "rb") as fh:
        while block := fh.read(BLOCK_SIZE):
            h.update(block)
    digest = h.hexdigest()[:12]
    try:
        after = os.stat(real)
    except OSError:
        return digest
    if after.st_mtime_ns == st.st_mtime_ns and after.st_size == st.st_size:
        # Only cache a hash of content that did not change while it was read.
        with _hash_lock:
            _hash_cache[real] = (st.st_mtime_ns, st.st_size, digest)
    return digest


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


def _file_response(
    c: RequestContext,
    real: str,
    st: os.stat_result,
    mimetype: str,
    cache_control: str,
    extra: list[tuple[str, str]] | None = None,
) -> Response:
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


def _static_cache_control(c: RequestContext, real: str, st: os.stat_result) -> str:
    if "v=" in c.request.environ.get("QUERY_STRING", ""):
        v = c.request.query.get("v")
        # Only the current content may be cached forever under its hash: an
        # old server answering a new hash must not poison caches for a year.
        if v and v == _content_hash(real, st):
            return IMMUTABLE
    return f"public, max-age={int(c.app.config.get('static_max_age', 3600))}"


def serve_static(filename: str) -> Response:
    """The handler of ``<static_url_path>/<path:filename>`` (route "static")."""
    c = _get_ctx()
    found = safe_join(c.app.static_folder, filename)
    if found is None:
        raise NotFound()
    real, st = found
    return _file_response(c, real, st, guess_type(real), _static_cache_control(c, real, st))


def serve_favicon() -> Response:
    """The handler of ``/favicon.ico``: ``static/favicon.ico``."""
    return serve_static("favicon.ico")


def send_file(
    path: str | os.PathLike[str],
    download_name: str | None = None,
    mimetype: str | None = None,
    as_attachment: bool | None = None,
    max_age: int | None = None,
) -> Response:
    """Answer the current request with a file, as the static route does.

    ``path`` is absolute, or relative to ``app.root_path`` (and may then not
    leave it). A missing or non-regular file is a ``404``. ``download_name``
    sets ``Content-Disposition`` (``attachment`` unless ``as_attachment`` is
    False; ``as_attachment=True`` alone uses the file's own name).
    ``Cache-Control`` is ``no-cache`` (revalidate with the ETag) unless
    ``max_age`` seconds are given. Conditional and range requests work.
    """
    c = _get_ctx()
    real, st = _resolve_send_path(c.app, path)
    if as_attachment is None:
        as_attachment = download_name is not None
    extra: list[tuple[str, str]] = []
    if download_name is not None or as_attachment:
        name = download_name if download_name is not None else os.path.basename(real)
        kind = "attachment" if as_attachment else "inline"
        extra.append(("Content-Disposition", content_disposition(kind, name)))
    if mimetype is None:
        mimetype = guess_type(download_name or real)
    cache_control = "no-cache" if max_age is None else f"max-age={int(max_age)}"
    return _file_response(c, real, st, mimetype, cache_control, extra)


def send_from_directory(
    directory: str | os.PathLike[str], filename: str, **kwargs: t.Any
) -> Response:
    """:func:`send_file` for an untrusted ``filename`` inside ``directory``.

    ``directory`` is relative to ``app.root_path`` or absolute; ``filename``
    gets the static route's rules (no ``..``, no dotfiles, no way out).
    The other keyword arguments are :func:`send_file`'s.

    :raises NotFound: ``filename`` is refused, missing or not a regular file.
    """
    c = _get_ctx()
    folder = os.path.join(c.app.root_path, os.fspath(directory))
    found = safe_join(folder, filename)
    if found is None:
        raise NotFound()
    return send_file(found[0], **kwargs)


def static_url(path: str) -> str:
    """``/static/<path>?v=<hash of the content>``: a URL browsers may cache forever.

    Without the file (or for a path the static route would refuse) the URL
    has no ``v=``. While files may change as the site runs
    (``templates_auto_reload``, on in development) the file is looked at on
    every call; otherwise its hash is looked up once per path and process,
    as a deployment changes static files only with a restart (``digwebs
    serve`` reloads its workers on HUP).
    """
    app = _get_app()
    base = "/" + (app.config.get("static_url_path") or "/static").strip("/")
    filename = path.lstrip("/")
    url = f"{base.rstrip('/')}/{quote(filename, safe='/')}"
    c = _cv_ctx.get(None)
    if c is not None and c.request.script_root:
        url = c.request.script_root + url
    return url + _version_query(app, filename)


# Hashes already found, per app, while files do not change (see static_url):
# bounded, so that templates asking for endless names cannot grow it.
_VERSION_CACHE_MAX = 4096


def _version_query(app: Digwebs, filename: str) -> str:
    """``?v=<hash>`` for the static file ``filename``, or ``""`` when there is none."""
    cache: dict[str, str] | None = None
    if not app.config.get("templates_auto_reload"):
        cache = app.__dict__.setdefault("_static_versions", {})
        hit = cache.get(filename)
        if hit is not None:
            return hit
    query = ""
    found = safe_join(app.static_folder, filename)
    if found is not None:
        try:
            query = f"?v={_content_hash(*found)}"
        except OSError:
            pass
    if cache is not None and len(cache) < _VERSION_CACHE_MAX:
        cache[filename] = query
    return query


# -- registration -----------------------------------------------------------


def _name_taken(app: Digwebs, name: str) -> bool:
    try:
        app.router.find(name)
    except LookupError:
        return False
    return True


def register_static_routes(app: Digwebs) -> None:
    """Add the static and favicon routes (called once by ``app._finalize``).

    Nothing is added without a static folder; the favicon route only when
    ``static/favicon.ico`` exists and no route for ``/favicon.ico`` is there.
    """
    if app._static_registered:
        return
    app._static_registered = True
    folder = app.static_folder
    if not folder or not os.path.isdir(folder):
        return
    prefix = app.config.get("static_url_path")
    if prefix and not _name_taken(app, "static"):
        prefix = prefix.strip("/")
        rule = f"/{prefix}/<path:filename>" if prefix else "/<path:filename>"
        app.add_route(rule, serve_static, ("GET",), "static")
    if (
        os.path.isfile(os.path.join(folder, "favicon.ico"))
        and not any(r.path == "/favicon.ico" for r in app.router.rules)
        and not _name_taken(app, "static_favicon")
    ):
        app.add_route("/favicon.ico", serve_favicon, ("GET",), "static_favicon")
