"""Cross-site request forgery protection, on by default.

The check is the modern one (Go 1.25's ``net/http.CrossOriginProtection``):
browsers say where a request comes from, so an unsafe request (any method
but GET, HEAD, OPTIONS and TRACE) is judged by its headers.

* ``Sec-Fetch-Site: same-origin`` or ``none`` (the user typed the URL) passes;
  ``cross-site`` (or any other value) is refused with 403.
* ``Sec-Fetch-Site: same-site`` (a sibling subdomain, which shares cookies
  with this site) passes only with a valid token from :func:`csrf_token`, in
  the form field ``csrf_token`` or the ``X-CSRF-Token`` header.
* Without ``Sec-Fetch-Site`` (an older browser), an ``Origin`` whose host is
  not the request's host (``request.host``, after a trusted proxy's rewrite)
  is refused; so is an ``http`` origin posting to an ``https`` request, and
  ``Origin: null`` (a sandboxed page, a redirect chain).
* With neither header the client is not a browser (curl, another server, the
  test client), which a forged page cannot be: it passes.
* An origin in ``csrf_trusted_origins`` passes whatever the headers say.
* An ``X-CSRF-Token`` header that is present but invalid is refused whatever
  the other headers say (defence in depth); the form field is read only when
  a token is needed, so a request the headers decide never has its body read.

:func:`csrf_exempt` marks a handler (a webhook) that must accept anything;
``csrf_protection = false`` turns all of it off. A refusal is a
:class:`CSRFError` (403) whose message says which header said what and how to
allow it; it goes through the application's error handlers like any
:class:`~digwebs.errors.HttpError`, so a custom 403 page and ``@api`` JSON
apply. Refusals are logged at INFO: they are the client's doing, and a burst
of forged posts must not flood the error log.

The check is a link at the head of each route's own chain, built at start-up
only for routes that accept an unsafe method: a GET-only route pays nothing.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import inspect
import logging
import secrets
import typing as t
from dataclasses import replace

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from .chains import describe
from .config import ConfigError
from .context import _cv_ctx
from .errors import Forbidden

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .chains import MiddlewareInfo
    from .context import RequestContext
    from .routing import Rule

__all__ = ["CSRFError", "csrf_exempt", "csrf_token", "route_guard", "SAFE_METHODS"]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

#: Methods that must not change anything, and so are never checked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: The form field and the header that carry a token.
FIELD_NAME = "csrf_token"
HEADER_NAME = "X-CSRF-Token"
#: Flask-WTF's default lifetime of a token (``csrf_time_limit``), in seconds.
DEFAULT_TIME_LIMIT = 3600

_SALT = "digwebs.csrf"
# Where the per-session secret lives in the session (hex of _SECRET_BYTES).
_SESSION_KEY = "_csrf_secret"
_SECRET_BYTES = 32
_ENVIRON_TOKEN = "HTTP_X_CSRF_TOKEN"
_EXEMPT_MARK = "__digwebs_csrf_exempt__"
_HOW_TO_ALLOW = (
    "To accept it, add the origin to csrf_trusted_origins, send the token of csrf_token() "
    "(form field csrf_token or header X-CSRF-Token), or mark a webhook's handler @csrf_exempt."
)
logger = logging.getLogger("digwebs")


class CSRFError(Forbidden):
    """403: an unsafe request that looks forged, or carries a bad CSRF token.

    The description says what was refused and how to allow it. Register
    ``@app.errorhandler(CSRFError)`` (or 403) for a page of your own.
    """

    description = "The request was refused as a possible cross-site request forgery."


def csrf_exempt(fn: F) -> F:
    """Let the handler ``fn`` accept unsafe requests from anywhere (webhooks).

    Works above or below the route decorator. ``digwebs routes`` shows such
    routes with ``digwebs.csrf.exempt`` in their middleware column.
    """
    setattr(fn, _EXEMPT_MARK, True)
    return fn


def _is_exempt(fn: t.Callable[..., t.Any]) -> bool:
    return bool(
        getattr(fn, _EXEMPT_MARK, False) or getattr(inspect.unwrap(fn), _EXEMPT_MARK, False)
    )


# -- tokens ------------------------------------------------------------------------------


def _serializer(app: Digwebs) -> URLSafeTimedSerializer | None:
    """The application's token signer, or None without a ``secret_key``."""
    secret = app.config.get("secret_key")
    if not secret:
        return None
    key = str(secret)
    cached = app.__dict__.get("_csrf_serializer")
    # Kept per secret, so a key changed in tests or by a reload is honoured.
    if cached is None or cached[0] != key:
        cached = app.__dict__["_csrf_serializer"] = (key, URLSafeTimedSerializer(key, salt=_SALT))
    return t.cast(URLSafeTimedSerializer, cached[1])


def _session_secret(ctx: RequestContext) -> bytes | None:
    """This session's CSRF secret, or None when it has none (or a mangled one)."""
    value = ctx.session.get(_SESSION_KEY)
    if type(value) is not str or len(value) != 2 * _SECRET_BYTES:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def csrf_token() -> str:
    """A fresh CSRF token for the current session; also a template global.

    The session keeps one random secret (created on the first call, which
    therefore sets the session cookie). Each call hands it out masked with new
    random bytes and signed with ``secret_key`` (itsdangerous, salt
    ``"digwebs.csrf"``), so two calls give different tokens, both valid, and
    a compressed page never repeats the secret (BREACH). A token is valid for
    ``csrf_time_limit`` seconds (3600 by default, Flask-WTF's; ``None``: as
    long as the session) and only for this session.

    Raises :class:`RuntimeError` outside a request, or when no ``secret_key``
    is configured to sign with.
    """
    ctx = _cv_ctx.get(None)
    if ctx is None:
        raise RuntimeError(
            "csrf_token() needs the request it is for: call it in a handler or a template "
            "rendered by one (or inside app.test_request_context())."
        )
    serializer = _serializer(ctx.app)
    if serializer is None:
        raise RuntimeError(
            "csrf_token() cannot sign a token: no secret_key is configured. Set secret_key "
            "in config/default.toml or DIGWEBS_SECRET_KEY."
        )
    secret = _session_secret(ctx)
    if secret is None:
        secret = secrets.token_bytes(_SECRET_BYTES)
        ctx.session[_SESSION_KEY] = secret.hex()
    mask = secrets.token_bytes(_SECRET_BYTES)
    masked = base64.urlsafe_b64encode(mask + _xor(secret, mask)).decode().rstrip("=")
    return serializer.dumps(masked)


def _token_problem(ctx: RequestContext, token: str) -> str | None:
    """Why ``token`` is not valid for this session (None: it is)."""
    app = ctx.app
    serializer = _serializer(app)
    if serializer is None:
        return (
            "no secret_key is configured, so no token can be checked; set secret_key in "
            "config/default.toml or DIGWEBS_SECRET_KEY"
        )
    limit = app.config.get("csrf_time_limit", DEFAULT_TIME_LIMIT)
    try:
        masked = serializer.loads(token, max_age=limit)
    except SignatureExpired:
        return f"the token has expired (tokens last csrf_time_limit = {limit} s); reload the page"
    except BadData:
        return "the token was altered or signed with another secret_key"
    except Exception:  # whatever a hostile token provokes in the decoder: never a 500
        return "the token was altered or signed with another secret_key"
    raw = None
    if type(masked) is str:
        try:
            raw = base64.urlsafe_b64decode(masked + "=" * (-len(masked) % 4))
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 2 * _SECRET_BYTES:
        return "the token was altered or signed with another secret_key"
    secret = _session_secret(ctx)
    if secret is None:
        return (
            "the session holds no CSRF secret (its cookie expired or was not sent); reload the page"
        )
    mask, body = raw[:_SECRET_BYTES], raw[_SECRET_BYTES:]
    if not hmac.compare_digest(_xor(body, mask), secret):
        return "the token belongs to another session; reload the page"
    return None


# -- origins -------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def _strip_default_port(scheme: str, host: str) -> str:
    port = _DEFAULT_PORTS.get(scheme)
    return host[: -len(port)] if port and host.endswith(port) else host


def _parse_origin(value: str) -> tuple[str, str] | None:
    """``(scheme, host[:port])`` of a serialised origin, lower-cased; None if it is none.

    An origin is ``scheme://host[:port]``, nothing after it (RFC 6454); the
    default port of the scheme is dropped, as browsers do.
    """
    scheme, sep, host = value.partition("://")
    if not sep or not scheme or not host or not scheme.isascii() or not scheme.isalpha():
        return None
    if any(c in host for c in "/?#@\\ \t") or not host.isprintable():
        return None
    scheme = scheme.lower()
    return scheme, _strip_default_port(scheme, host.lower())


class TrustedOrigins:
    """``csrf_trusted_origins``: full origins, or ``scheme://*.domain`` patterns.

    ``https://app.example.com`` trusts exactly that origin (scheme, host and
    port); ``https://*.example.com`` trusts every subdomain of example.com at
    any depth over https, not example.com itself (Django's rule). Anything
    else is a :class:`~digwebs.config.ConfigError` at start-up.
    """

    def __init__(self, values: t.Any) -> None:
        if isinstance(values, str) or not isinstance(values, list | tuple):
            raise ConfigError(
                f"csrf_trusted_origins must be a list of origins such as "
                f'["https://app.example.com"], not {values!r}'
            )
        self.exact: frozenset[tuple[str, str]] = frozenset()
        exact = set()
        self.suffixes: tuple[tuple[str, str], ...] = ()
        suffixes = []
        for value in values:
            parsed = _parse_origin(value) if isinstance(value, str) else None
            host = parsed[1] if parsed else ""
            if parsed is None or (host.count("*") > (1 if host.startswith("*.") else 0)):
                raise ConfigError(
                    f"csrf_trusted_origins: {value!r} is not an origin: write scheme://host[:port] "
                    "with nothing after it, e.g. https://app.example.com or https://*.example.com"
                )
            if host.startswith("*."):
                suffixes.append((parsed[0], host[1:]))
            else:
                exact.add(parsed)
        self.exact = frozenset(exact)
        self.suffixes = tuple(suffixes)

    def __contains__(self, origin: tuple[str, str]) -> bool:
        if origin in self.exact:
            return True
        scheme, host = origin
        return any(
            scheme == s and host.endswith(suffix) and len(host) > len(suffix)
            for s, suffix in self.suffixes
        )

    def __bool__(self) -> bool:
        return bool(self.exact or self.suffixes)


def _shown(value: str) -> str:
    """A header value as the error message quotes it: short, printable."""
    value = "".join(c if c.isprintable() else "?" for c in value[:80])
    return value + ("..." if len(value) >= 80 else "")


class CrossOriginCheck:
    """The decision for one application's settings: :meth:`check` raises or returns."""

    def __init__(self, app: Digwebs) -> None:
        self.trusted = TrustedOrigins(app.config.get("csrf_trusted_origins") or [])

    def check(self, ctx: RequestContext) -> None:
        """Raise :class:`CSRFError` if this unsafe request must be refused."""
        environ = ctx.request.environ
        method = environ.get("REQUEST_METHOD", "")
        header_token = environ.get(_ENVIRON_TOKEN)
        if header_token is not None:
            # Defence in depth: a token that is sent must be right.
            problem = _token_problem(ctx, header_token)
            if problem is not None:
                self._refuse(
                    ctx, f"Refused a {method} with an invalid X-CSRF-Token header: {problem}."
                )
        site = environ.get("HTTP_SEC_FETCH_SITE")
        origin_value = environ.get("HTTP_ORIGIN")
        if site is not None:
            site = site.strip().lower()
            if site == "same-origin" or site == "none":
                return
            if origin_value is not None and self._trusted(origin_value):
                return
            if site == "same-site":
                if header_token is not None:
                    return  # checked above
                self._need_form_token(ctx, method, "Sec-Fetch-Site: same-site")
                return
            self._refuse(
                ctx,
                f"Refused a cross-site {method}: the browser sent Sec-Fetch-Site: {_shown(site)}"
                + (f" from Origin {_shown(origin_value)}" if origin_value else "")
                + f". {_HOW_TO_ALLOW}",
            )
        if origin_value is None:
            return  # not a browser: nothing a forged page could send
        origin = _parse_origin(origin_value)
        if origin is not None and self._same_origin(ctx, origin):
            return
        if origin is not None and origin in self.trusted:
            return
        request = ctx.request
        self._refuse(
            ctx,
            f"Refused a cross-origin {method}: Origin {_shown(origin_value)} is not this site "
            f"({_shown(request.scheme)}://{_shown(request.host)}) and the browser sent no "
            "Sec-Fetch-Site; if a proxy in front of the app changes the host or scheme, list it "
            f"in trusted_proxies. {_HOW_TO_ALLOW}",
        )

    def _trusted(self, origin_value: str) -> bool:
        origin = _parse_origin(origin_value)
        return origin is not None and origin in self.trusted

    @staticmethod
    def _same_origin(ctx: RequestContext, origin: tuple[str, str]) -> bool:
        request = ctx.request
        scheme = request.scheme
        host = _strip_default_port(scheme, request.host.lower())
        if origin[1] != host:
            return False
        # An http page posting to an https request is a downgrade (a network
        # attacker's page); the other way round the app may simply not know
        # that a proxy terminated TLS, so the host decides.
        return not (scheme == "https" and origin[0] != "https")

    def _need_form_token(self, ctx: RequestContext, method: str, said: str) -> None:
        """The headers cannot decide: the form field's token must be valid."""
        token = None
        if ctx.request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            token = ctx.request.form.get(FIELD_NAME)
        if not token:
            self._refuse(
                ctx,
                f"Refused a {method} from a sibling site ({said}) without a CSRF token. "
                f"{_HOW_TO_ALLOW}",
            )
        problem = _token_problem(ctx, t.cast(str, token))
        if problem is not None:
            self._refuse(ctx, f"Refused a {method} ({said}) with an invalid csrf_token: {problem}.")

    @staticmethod
    def _refuse(ctx: RequestContext, message: str) -> t.NoReturn:
        request = ctx.request
        logger.info("CSRF: %s %s: %s", request.method, request.path, message)
        raise CSRFError(message)


def route_guard(
    app: Digwebs, rule: Rule, fn: t.Callable[..., t.Any]
) -> tuple[t.Callable[..., t.Any], MiddlewareInfo] | None:
    """The CSRF check of ``rule`` as a middleware link, or None when none applies.

    None when ``csrf_protection`` is off or the rule accepts only safe
    methods (so it keeps the direct lane). A route whose handler is
    :func:`csrf_exempt` gets a link that only passes the request on, so that
    ``digwebs routes`` shows the exemption.
    """
    if not app.config.get("csrf_protection", True):
        return None
    if not set(rule.methods) - SAFE_METHODS:
        return None
    if _is_exempt(fn):

        def csrf_exempt_link(ctx: RequestContext, next_: t.Callable[[], t.Any]) -> t.Any:
            return next_()

        return csrf_exempt_link, replace(
            describe(csrf_exempt_link, 0, "route", None), name="digwebs.csrf.exempt"
        )
    checker = app.__dict__.get("_csrf_check")
    if checker is None:
        checker = app.__dict__["_csrf_check"] = CrossOriginCheck(app)
    check, safe = checker.check, SAFE_METHODS

    def csrf_protect(ctx: RequestContext, next_: t.Callable[[], t.Any]) -> t.Any:
        if ctx.request.environ["REQUEST_METHOD"] not in safe:
            check(ctx)
        return next_()

    return csrf_protect, replace(
        describe(csrf_protect, 0, "route", None), name="digwebs.csrf.protect"
    )
