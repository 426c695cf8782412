"""The development error page: what a developer needs to fix an exception.

Shown only when ``debug`` is on (see :func:`digwebs.error_pages.internal_error_response`);
production never renders it. The page is one self-contained HTML document
(inline CSS, no scripts, no external assets) with

* the exception and, first, where it happened in the project's own code;
* the matched route (methods, rule, name), the handler's ``file:line`` and
  the middleware chain that wraps it, outermost first, each with ``file:line``;
* every frame with the source lines around its current line and its local
  variables; frames of digwebs itself, gunicorn and gevent are folded into a
  closed ``<details>`` element so the project's frames stand out;
* the request: method, URL, query, form keys, cookie names and headers, with
  credentials (``Authorization``, ``Cookie``, ...) masked;
* the plain traceback text, to copy.

Every value is escaped with :func:`html.escape`; each ``repr`` is cut to
:data:`REPR_LIMIT` characters, and a ``repr`` that raises shows as such
instead of breaking the page.
"""

from __future__ import annotations

import linecache
import os
import re
import traceback
import types
import typing as t
from html import escape

if t.TYPE_CHECKING:
    from .chains import MiddlewareInfo
    from .context import RequestContext

__all__ = ["render", "safe_repr", "is_framework_file", "REPR_LIMIT", "CONTEXT_LINES"]

#: The longest ``repr`` of a local variable shown, in characters.
REPR_LIMIT = 200
#: Source lines shown before and after each frame's current line.
CONTEXT_LINES = 5
MASK = "••••••••"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_FRAMEWORK_PARTS = (f"{os.sep}gunicorn{os.sep}", f"{os.sep}gevent{os.sep}")
# Header and variable names whose values are credentials.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
_SECRET_NAME = re.compile(r"passw|secret|token|api_?key|auth|credential|session", re.IGNORECASE)

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f6f8}
header{background:#b3261e;color:#fff;padding:1.2em 2em}
header h1{margin:0;font-size:1.35em;word-break:break-word}
header p{margin:.4em 0 0;opacity:.9}
main{padding:1em 2em 3em;max-width:1200px}
h2{font-size:1.05em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}
code,pre,textarea{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;vertical-align:top;padding:.25em .6em;border-bottom:1px solid #eee}
th{width:16em;font-weight:600;word-break:break-all}
td{word-break:break-all}
.frame{background:#fff;border:1px solid #ddd;border-radius:6px;margin:.6em 0;padding:.5em .8em}
.frame.user{border-left:4px solid #b3261e}
.where{font-weight:600}.where small{font-weight:normal;color:#555}
.src{margin:.4em 0;padding:.4em 0;background:#fafafa;overflow:auto}
.src span{display:block;padding:0 .6em;white-space:pre}
.src .cur{background:#fde7e4;font-weight:600}
.src i{color:#999;font-style:normal;display:inline-block;width:3.5em}
details.framework{margin:.6em 0;color:#444}
details.framework>summary{cursor:pointer;color:#666}
.chain li{margin:.15em 0}.muted{color:#777}
textarea{width:100%;height:18em;box-sizing:border-box}
footer{color:#777;margin-top:2em}
"""


def is_framework_file(filename: str) -> bool:
    """True for frames of digwebs itself, gunicorn or gevent (folded on the page)."""
    path = os.path.abspath(filename)
    return path.startswith(_PACKAGE_DIR) or any(part in path for part in _FRAMEWORK_PARTS)


def safe_repr(value: object, limit: int = REPR_LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters; never raises."""
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the page
        text = f"<repr raised {type(exc).__name__}>"
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit} more characters)"
    return text


def _short(path: str, root: str) -> str:
    """``path`` relative to the project folder when it is inside it."""
    if path.startswith(root + os.sep):
        return os.path.relpath(path, root)
    return path


def _source(filename: str, lineno: int, f_globals: dict[str, t.Any]) -> str:
    linecache.checkcache(filename)
    lines = []
    for n in range(max(1, lineno - CONTEXT_LINES), lineno + CONTEXT_LINES + 1):
        line = linecache.getline(filename, n, f_globals)
        if not line:
            if n > lineno:
                break
            continue
        cls = ' class="cur"' if n == lineno else ""
        lines.append(f"<span{cls}><i>{n}</i>{escape(line.rstrip())}</span>")
    if not lines:
        return '<p class="muted">(source not available)</p>'
    return f'<div class="src">{"".join(lines)}</div>'


def _locals(frame: types.FrameType) -> str:
    try:
        items = sorted(frame.f_locals.items())
    except Exception:  # a frame whose locals cannot be read
        return ""
    if not items:
        return '<p class="muted">(no local variables)</p>'
    rows = "".join(
        f"<tr><th>{escape(str(name))}</th><td><code>"
        f"{MASK if _SECRET_NAME.search(str(name)) else escape(safe_repr(value))}"
        "</code></td></tr>"
        for name, value in items
    )
    return f"<table class=locals>{rows}</table>"


def _frame(tb: types.TracebackType, root: str, user: bool) -> str:
    frame, lineno = tb.tb_frame, tb.tb_lineno
    code = frame.f_code
    where = (
        f'<div class="where">{escape(code.co_name)} '
        f"<small>{escape(_short(code.co_filename, root))}:{lineno}</small></div>"
    )
    body = _source(code.co_filename, lineno, frame.f_globals) + _locals(frame)
    return f'<div class="frame{" user" if user else ""}">{where}{body}</div>'


def _frames(exc: BaseException, root: str) -> tuple[str, str | None]:
    """The frames' HTML, framework runs folded, and where the last user frame is."""
    out: list[str] = []
    folded: list[str] = []
    last_user = None

    def fold() -> None:
        if folded:
            noun = "frame" if len(folded) == 1 else "frames"
            out.append(
                f'<details class="framework"><summary>{len(folded)} framework {noun} '
                f"(digwebs, gunicorn, gevent)</summary>{''.join(folded)}</details>"
            )
            folded.clear()

    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if is_framework_file(filename):
            folded.append(_frame(tb, root, False))
        else:
            fold()
            out.append(_frame(tb, root, True))
            last_user = f"{_short(filename, root)}:{tb.tb_lineno}"
        tb = tb.tb_next
    fold()
    return "".join(out), last_user


def _table(rows: t.Iterable[tuple[str, str]], empty: str = "(none)") -> str:
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>" if cells else f'<p class="muted">{escape(empty)}</p>'


def _mw(info: MiddlewareInfo, root: str) -> str:
    where = f"{_short(info.file, root)}:{info.line}"
    scope = info.scope + (f" {info.prefix}" if info.prefix else "")
    return (
        f"<li><code>{escape(info.name)}</code> <span class=muted>({escape(scope)}, "
        f"order {info.order})</span> <code>{escape(where)}</code></li>"
    )


def _route(ctx: RequestContext, root: str) -> str:
    app = ctx.app
    rule = ctx.route
    fn = next((f for r, f in app._routes if r is rule), None) if rule is not None else None
    if rule is None or fn is None:
        chain = [e.info for e in app._ordered_middleware() if e.info.prefix is None]
        head = '<p class="muted">No route matched this request.</p>'
    else:
        from .loading import route_info

        info = route_info(app, rule, fn)
        params = ctx.params or {}
        chain = list(info.middleware)
        head = _table(
            [
                ("Route", f"{' '.join(info.methods)} {info.path}"),
                ("Name", info.name),
                ("Handler", f"{info.handler_name}  {_short(info.file, root)}:{info.line}"),
                ("Renders", info.renders + (f" ({info.template})" if info.template else "")),
                ("Parameters", ", ".join(f"{k}={safe_repr(v)}" for k, v in params.items())),
            ]
        )
    items = "".join(_mw(i, root) for i in chain)
    mws = f"<ol class=chain>{items}</ol>" if items else '<p class="muted">(no middleware)</p>'
    return f"{head}<h2>Middleware chain, outermost first</h2>{mws}"


def _request(ctx: RequestContext) -> str:
    req = ctx.request
    headers = [
        (k, MASK if k.lower() in _SECRET_HEADERS or _SECRET_NAME.search(k) else str(v))
        for k, v in req.headers.items()
    ]
    query = [(k, v) for k, v in req.args.items(multi=True)]
    # The form only if the handler read the body: reading it here could
    # block on a slow client or fail again the way the request did.
    if "_form_and_files" in req.__dict__ or "body" in req.__dict__:
        try:
            form = ", ".join(dict.fromkeys(req.form.keys())) or "(none)"
        except Exception as exc:
            form = f"(the form could not be parsed: {type(exc).__name__})"
    else:
        form = "(the body was not read)"
    try:
        session_name = str(ctx.app.config.get("session_cookie_name", "session"))
        names = [n + (" (session)" if n == session_name else "") for n in req.cookies]
        cookies = ", ".join(names) or "(none)"
    except Exception:
        cookies = "(unreadable)"
    summary = _table(
        [
            ("Method", req.method),
            ("URL", req.url),
            ("Form keys", form),
            ("Cookie names", cookies),
        ]
    )
    return (
        f"{summary}<h2>Query</h2>{_table(query)}"
        f"<h2>Headers (credentials masked)</h2>{_table(headers)}"
    )


def render(ctx: RequestContext, exc: BaseException) -> str:
    """The development page for ``exc`` raised while answering ``ctx``."""
    root = ctx.app.root_path
    try:
        message = str(exc)
    except Exception:  # a broken __str__ must not break the page
        message = "(str() of the exception raised)"
    if len(message) > 500:
        message = message[:500] + "…"
    title = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    frames, last_user = _frames(exc, root)
    text = "".join(traceback.format_exception(exc))
    where = f" in <code>{escape(last_user)}</code>" if last_user else ""
    req = ctx.request
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"<header><h1>{escape(title)}</h1>"
        f"<p><code>{escape(req.method)} {escape(req.url)}</code>{where}</p></header>\n<main>"
        f"<h2>Route</h2>{_route(ctx, root)}"
        f"<h2>Traceback, most recent call last</h2>{frames}"
        f"<h2>Request</h2>{_request(ctx)}"
        "<h2>Traceback as text</h2>"
        f"<textarea readonly aria-label=Traceback>{escape(text)}</textarea>"
        "<footer>This page is shown because debug is on. It never appears in production."
        "</footer></main></body></html>\n"
    )
