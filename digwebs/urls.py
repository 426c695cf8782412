"""Building URLs: ``url_for`` for handlers, templates and middleware.

:func:`build` is the whole of it, for :meth:`digwebs.Digwebs.url_for` and
the module-level :func:`url_for` (the current application's): the router
builds the path, then the mount point (``SCRIPT_NAME``), the scheme and host
of an absolute URL (the request's, or the ``server_name`` setting outside a
request) and the ``#fragment`` are added.
"""

from __future__ import annotations

import inspect
import typing as t
import warnings

from .context import _cv_ctx, _get_app
from .hosts import external_host
from .results import site_path
from .routing import BuildError

if t.TYPE_CHECKING:
    from .app import Digwebs

__all__ = ["url_for"]

# The package whose modules hold the handlers; route names are relative to it.
CONTROLLERS = "controllers."


def url_for(name: str, /, **values: t.Any) -> str:
    """Build the URL of the route called ``name`` in the current application.

    ``name`` is positional-only, so a route parameter may be called ``name``
    too (``url_for("hello", name="x")``). Path parameters are filled from
    ``values``; the others become the query string (quoted; ``None`` left
    out). When several routes share the name, the one whose parameters the
    values fill is used (see :meth:`digwebs.routing.Router.build`).
    ``_anchor`` adds a ``#fragment``. See :meth:`digwebs.Digwebs.url_for`.
    """
    return build(_get_app(), name, values)


def build(app: Digwebs, name: str, values: dict[str, t.Any]) -> str:
    """The URL of ``app``'s route ``name``; unknown values become the query.

    Under a mount point (``SCRIPT_NAME``) the URL starts with it, and always
    with exactly one ``/``: a hostile ``SCRIPT_NAME`` such as
    ``//evil.example`` cannot turn it into another host's URL.

    ``_external=True`` makes the URL absolute, as Flask's: in a request, with
    its scheme and host (after the trusted proxy rewrite, and checked against
    ``allowed_hosts`` before the request was routed), without the scheme's
    default port; outside a request with the ``server_name`` and
    ``preferred_url_scheme`` settings (a :class:`RuntimeError` when
    ``server_name`` is not set). ``_scheme="https"`` sets the scheme and
    implies ``_external``. ``_anchor`` adds a ``#fragment``.

    Called by the public ``url_for`` functions only: a deprecation warning
    points at their caller.

    :param values: the route's parameters, the query's and the ``_anchor``,
        ``_external`` and ``_scheme`` options (popped from it).
    """
    anchor = values.pop("_anchor", None)
    external = values.pop("_external", None)
    scheme = values.pop("_scheme", None)
    if scheme is not None:
        if external is None:
            external = True
        elif not external:
            raise ValueError("url_for: '_scheme' needs '_external=True' (the URL is absolute).")
    if name.startswith(CONTROLLERS):
        name = renamed_route(app, name)
    router = app.router
    try:
        url = router.build(name, values)
    except BuildError:
        if app._static_registered:
            raise
        # Building a URL must not freeze registration the way a request
        # does; only the built-in static routes may be missing so far.
        app._register_static()
        url = router.build(name, values)
    c = _cv_ctx.get(None)
    if c is not None:
        if c.request.script_root:
            url = site_path(c.request.script_root + url)
        if external:
            environ = c.request.environ
            host = external_host(environ)
            url = f"{scheme or environ.get('wsgi.url_scheme', 'http')}://{host}{url}"
    elif external:
        url = server_url(app, name, scheme) + url
    return f"{url}#{anchor}" if anchor else url


def renamed_route(app: Digwebs, name: str) -> str:
    """``home.index`` for ``controllers.home.index``, the name it had before, with a warning.

    Until issue 10 a handler's default route name began with its package,
    ``controllers.``; a project may still build URLs that way. A name that
    is a route as given is kept.
    """
    router = app.router
    try:
        router.find(name)
    except BuildError:
        short = name[len(CONTROLLERS) :]
        try:
            router.find(short)
        except BuildError:
            return name
        warnings.warn(
            f"url_for({name!r}): route names no longer start with 'controllers.'; use {short!r}",
            DeprecationWarning,
            stacklevel=4,  # url_for's caller (url_for -> build -> here)
        )
        return short
    return name


def server_url(app: Digwebs, name: str, scheme: str | None) -> str:
    """``scheme://server_name`` for an absolute URL built outside a request.

    :raises RuntimeError: the ``server_name`` setting is not set.
    """
    server_name = app.config.get("server_name")
    if not server_name:
        raise RuntimeError(
            f"Unable to build an absolute URL for {name!r} outside a request: set the "
            'server_name setting (e.g. server_name = "example.com", and '
            'preferred_url_scheme = "https"), or build it inside a request or '
            "'with app.test_request_context(...):'."
        )
    preferred = app.config.get("preferred_url_scheme") or "http"
    host = str(server_name).lower()
    default_port = {"http": ":80", "https": ":443"}.get(preferred)
    if default_port:
        host = host.removesuffix(default_port)
    return f"{scheme or preferred}://{host}"


def default_route_name(fn: t.Callable[..., t.Any]) -> str:
    """The route name of a handler registered without one: ``module.function``.

    The module is named relative to the project's ``controllers/`` package, so
    ``controllers/home.py``'s ``index`` is ``home.index``; a handler elsewhere
    keeps its full module name.
    """
    target = inspect.unwrap(fn)
    module = target.__module__ or ""
    if module.startswith(CONTROLLERS):
        module = module[len(CONTROLLERS) :]
    elif module == "controllers":
        return str(target.__qualname__)
    return f"{module}.{target.__qualname__}"
