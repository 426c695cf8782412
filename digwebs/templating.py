"""Jinja2 views: ``@view``, ``render`` and the template environment.

Templates live in the project's ``views/`` folder. Autoescaping is on for
``.html``, ``.htm`` and ``.xml``. In development templates are re-read when
they change; in production they are compiled once and cached.
"""

from __future__ import annotations

import typing as t

import jinja2

from .context import _cv_ctx, current_app, g, request
from .context import ctx as ctx_proxy

if t.TYPE_CHECKING:
    from .app import Digwebs

__all__ = ["view", "render", "render_template", "view_result", "TemplateNotFound"]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


class TemplateNotFound(jinja2.TemplateNotFound):
    """A template is missing; the message names it and the folder searched.

    A subclass of :class:`jinja2.TemplateNotFound`, so code that catches
    jinja2's exception catches this one too.
    """


def view(template: str) -> t.Callable[[F], F]:
    """Render the dict a handler returns with ``views/<template>``.

    Works above or below the route decorator: it only marks the function.
    """

    if not isinstance(template, str):
        raise TypeError('@view needs the template name: write @view("page.html"), not a bare @view')

    def mark(fn: F) -> F:
        fn.__digwebs_view__ = template  # type: ignore[attr-defined]
        return fn

    return mark


def create_environment(app: Digwebs) -> jinja2.Environment:
    """The jinja2 environment of ``app``: its ``views/`` folder, autoescaping on.

    HTML and XML templates are autoescaped; templates are re-read when they
    change only with ``templates_auto_reload`` (development). Every template
    sees ``url_for``, ``static_url``, ``csrf_token``, ``get_flashed_messages``,
    ``config``, ``request``, ``g``, ``ctx`` and ``current_app``, then the
    app's own filters and globals.
    """
    auto_reload = bool(app.config.get("templates_auto_reload"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(app.template_folder),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
        auto_reload=auto_reload,
        # Production: keep every compiled template; development: re-check mtimes.
        cache_size=-1 if not auto_reload else 400,
        enable_async=False,
    )
    from .static import static_url

    env.globals.update(
        url_for=app.url_for,
        static_url=static_url,
        config=app.config,
        ctx=ctx_proxy,
        request=request,
        g=g,
        current_app=current_app,
    )
    from .sessions import get_flashed_messages

    env.globals["get_flashed_messages"] = get_flashed_messages
    from .csrf import csrf_token

    env.globals["csrf_token"] = csrf_token
    env.globals.update(app.template_globals)
    env.filters.update(app.template_filters)
    return env


def _not_found(app: Digwebs, name: str, exc: jinja2.TemplateNotFound) -> TemplateNotFound:
    missing = exc.name if isinstance(exc.name, str) else name
    message = f"template {missing!r} was not found in {app.template_folder!r}"
    if missing != name:
        message += f" (while rendering {name!r})"
    return TemplateNotFound(missing, message)


def render_template(app: Digwebs, name: str, context: t.Mapping[str, t.Any]) -> str:
    """Render ``name`` with ``context`` on top of the context processors' values."""
    env = app.jinja_env
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise _not_found(app, name, exc) from None
    if type(template.globals) is not dict:
        # PERF: jinja keeps a template's globals as a ChainMap over the
        # environment's, and copies it into a dict on every render through
        # Python-level ChainMap methods. The environment's globals are fixed
        # once it is built, so flatten them once per loaded template.
        template.globals = dict(template.globals)
    if app.context_processors:
        merged: dict[str, t.Any] = {}
        for processor in app.context_processors:
            merged.update(processor() or {})
        merged.update(context)
        context = merged
    try:
        return str(template.render(context))
    except TemplateNotFound:
        raise
    except jinja2.TemplateNotFound as exc:
        # An {% include %}, {% extends %} or {% import %} names a missing file;
        # the chained traceback points at the line that asked for it.
        raise _not_found(app, name, exc) from exc


def view_result(app: Digwebs, fn: t.Callable[..., t.Any], template: str, rv: t.Any) -> t.Any:
    """Turn what a ``@view`` function returned into ``(html, status, headers)``.

    Used for error handlers marked with ``@view``; a :class:`Response` or an
    :class:`HttpError` (a redirect, say) passes through unchanged. Anything
    but a dict (optionally in a ``(dict, status[, headers])`` tuple) is an
    error that names the function.
    """
    from .errors import HttpError
    from .results import ViewResultError, _split_tuple
    from .wrappers.response import Response

    if isinstance(rv, Response | HttpError):
        return rv
    status = headers = None
    if type(rv) is tuple:
        rv, status, headers = _split_tuple(rv)
    if not isinstance(rv, dict):
        raise ViewResultError(
            f"handler '{fn.__module__}.{fn.__qualname__}' is decorated with "
            f"@view({template!r}) and must return a dict for the template, "
            f"but returned {type(rv).__name__}"
        )
    return render_template(app, template, rv), status, headers


def render(template: str, **context: t.Any) -> str:
    """Render ``views/<template>`` with ``context`` inside a request."""
    c = _cv_ctx.get(None)
    if c is not None:
        return render_template(c.app, template, context)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return render_template(app, template, context)
