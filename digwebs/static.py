"""Static files: the ``/static`` route, ``static_url`` and ``send_file``.

Every response here is built by :func:`digwebs.files.file_response`, which
holds the rules they share (conditional requests, ranges, the streamed
:class:`~digwebs.files.FileBody`, paths that never leave their folder: a
refused or missing file is a plain ``404``). This module holds what uses it:
the routes an app registers at start-up, the content-hashed URLs of
:func:`static_url`, and :func:`send_file` / :func:`send_from_directory` for
handlers.
"""

from __future__ import annotations

import hashlib
import os
import stat as _stat
import threading
import typing as t
from urllib.parse import quote

from .context import _cv_ctx, _get_app, _get_ctx
from .errors import NotFound

# Re-exported: users import them from here (issue 10 item 8).
from .files import BLOCK_SIZE as BLOCK_SIZE
from .files import FileBody as FileBody
from .files import content_disposition as content_disposition
from .files import file_response
from .files import guess_type as guess_type
from .files import parse_range as parse_range
from .files import safe_join as safe_join
from .wrappers.response import Response

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

#: ``Cache-Control`` of a request whose ``v=`` matches the file's content hash.
IMMUTABLE = "public, max-age=31536000, immutable"


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


# -- responses --------------------------------------------------------------


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
    return file_response(c, real, st, guess_type(real), _static_cache_control(c, real, st))


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
    return file_response(c, real, st, mimetype, cache_control, extra)


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
