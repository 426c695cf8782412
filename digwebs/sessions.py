"""Sessions stored in a signed cookie, and flash messages on top of them.

The whole session travels in one cookie signed with the application's
``secret_key`` (itsdangerous), so any number of processes or machines can
serve the same user with no server-side state. A cookie that was tampered
with, signed with another key, or has expired is ignored: the request simply
gets an empty session.
"""

from __future__ import annotations

import logging
import typing as t

from itsdangerous import BadData, URLSafeTimedSerializer

from .context import _cv_ctx, _get_ctx

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .wrappers.request import Request
    from .wrappers.response import Response

__all__ = ["Session", "SessionInterface", "flash", "get_flashed_messages"]

_SALT = "digwebs.session"
_FLASHES = "_flashes"
# Browsers drop cookies larger than about 4 KB (name, value and attributes).
_COOKIE_LIMIT = 4093
logger = logging.getLogger("digwebs")


class Session(dict[str, t.Any]):
    """A dict that remembers whether it changed, so unchanged sessions cost nothing."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.modified = False
        self.new = not self

    def _changed(self) -> None:
        self.modified = True

    def __setitem__(self, key: str, value: t.Any) -> None:
        super().__setitem__(key, value)
        self.modified = True

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.modified = True

    def clear(self) -> None:
        """Remove every key; the session is then saved (an empty one deletes the cookie)."""
        super().clear()
        self.modified = True

    def pop(self, key: str, *default: t.Any) -> t.Any:
        """Remove ``key`` and return its value (or ``default``); modified only if it was there."""
        self.modified = self.modified or key in self
        return super().pop(key, *default)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        """Return ``key``'s value, storing ``default`` first (and so modifying) when absent."""
        if key not in self:
            self.modified = True
        return super().setdefault(key, default)

    def update(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Update as :meth:`dict.update` does; the session is then saved."""
        super().update(*args, **kwargs)
        self.modified = True


class SessionInterface:
    """Loads the session from the request cookie and saves it on the response."""

    def _serializer(self, app: Digwebs) -> URLSafeTimedSerializer | None:
        secret = app.config.get("secret_key")
        if not secret:
            return None
        return URLSafeTimedSerializer(str(secret), salt=_SALT)

    def open(self, app: Digwebs, request: Request) -> Session:
        """Load the session from the request's signed cookie.

        A missing, tampered, expired or undecodable cookie (or no
        ``secret_key``) gives a new, empty session, never an error.
        """
        serializer = self._serializer(app)
        raw = request.cookies.get(app.config["session_cookie_name"])
        if serializer is None or not raw:
            return Session()
        try:
            data = serializer.loads(raw, max_age=app.config.get("session_max_age"))
        except BadData:  # bad signature, expired, or an undecodable payload
            return Session()
        except Exception:  # whatever a hostile cookie provokes: never a 500
            return Session()
        return Session(data) if isinstance(data, dict) else Session()

    def save(self, app: Digwebs, session: Session, response: Response) -> None:
        """Set the session cookie on ``response`` when the session changed.

        Always adds ``Vary: Cookie``. An emptied session deletes the cookie.
        The cookie's flags come from the ``session_cookie_*`` settings
        (``Secure`` follows the request's scheme unless forced).

        :raises RuntimeError: the session changed and no ``secret_key`` can sign it.
        """
        # The page depends on the cookie: shared caches must not mix users.
        _add_vary_cookie(response)
        if not session.modified:
            return
        cfg = app.config
        name = cfg["session_cookie_name"]
        options = {
            "path": cfg.get("session_cookie_path", "/"),
            "domain": cfg.get("session_cookie_domain"),
            "secure": _secure(cfg.get("session_cookie_secure")),
            "httponly": bool(cfg.get("session_cookie_httponly", True)),
            "samesite": cfg.get("session_cookie_samesite", "Lax"),
        }
        if not session:
            if not session.new:
                response.delete_cookie(name, **options)
            return
        serializer = self._serializer(app)
        if serializer is None:
            raise RuntimeError(
                "the session was changed but no secret_key is configured, so it cannot be "
                "signed. Set secret_key in config/default.toml or DIGWEBS_SECRET_KEY."
            )
        value = serializer.dumps(dict(session))
        if len(name) + len(value) > _COOKIE_LIMIT:
            logger.warning(
                "The session cookie is %d bytes; browsers ignore cookies over about 4 KB, so "
                "the session will be lost. Keep large data on the server and store its id.",
                len(name) + len(value),
            )
        response.set_cookie(name, value, max_age=cfg.get("session_max_age"), **options)


def _secure(setting: t.Any) -> bool:
    """The cookie's ``Secure`` flag: forced by true/false, else the request's scheme.

    ``None`` (the default) marks the cookie Secure when the request came
    over https (``wsgi.url_scheme``, which a trusted proxy's
    ``X-Forwarded-Proto`` sets), so one setting serves ``digwebs serve`` on
    plain http in development and the site behind TLS in production.
    """
    if setting is not None:
        return bool(setting)
    ctx = _cv_ctx.get(None)
    return ctx is not None and ctx.request.environ.get("wsgi.url_scheme") == "https"


def _add_vary_cookie(response: Response) -> None:
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Cookie"
    elif "cookie" not in {v.strip().lower() for v in vary.split(",")} and vary.strip() != "*":
        response.headers["Vary"] = f"{vary}, Cookie"


def flash(message: str, category: str = "message") -> None:
    """Store ``message`` for the next page that calls :func:`get_flashed_messages`."""
    session = _get_ctx().session
    flashes = list(session.get(_FLASHES, []))
    flashes.append([category, message])
    session[_FLASHES] = flashes


def get_flashed_messages(
    with_categories: bool = False, category_filter: t.Iterable[str] = ()
) -> list[t.Any]:
    """Return and clear the flashed messages (``(category, message)`` pairs if asked)."""
    c = _get_ctx()
    cached = c.__dict__.get("_digwebs_flashes")
    if cached is None:
        cached = c.__dict__["_digwebs_flashes"] = c.session.pop(_FLASHES, [])
    wanted = set(category_filter)
    items = [(cat, msg) for cat, msg in cached if not wanted or cat in wanted]
    return items if with_categories else [msg for _, msg in items]
