"""Security headers on every answer, from the ``[security_headers]`` config table.

The defaults::

    [security_headers]
    x_content_type_options = "nosniff"
    referrer_policy = "strict-origin-when-cross-origin"
    x_frame_options = "DENY"
    strict_transport_security = "max-age=31536000; includeSubDomains"   # https only

A key is the header's name in snake_case (``content_security_policy =
"frame-ancestors 'self'"`` adds that header); a value of ``""`` or ``false``
sends none. ``Strict-Transport-Security`` goes only on answers to https
requests (``wsgi.url_scheme``, which a trusted proxy's ``X-Forwarded-Proto``
sets), since a browser ignores it over http. A response that sets one of
these headers itself keeps its own value.

The headers are worked out once per application (:func:`for_app`); a request
then pays one scheme test and one list extend (see :func:`add_to`).
"""

from __future__ import annotations

import typing as t

from .config import ConfigError
from .datastructures import _check_header_value

if t.TYPE_CHECKING:
    from .app import Digwebs

__all__ = ["SecurityHeaders", "add_to", "for_app", "header_name"]

Pairs = tuple[tuple[str, str], ...]
# The headers a browser only honours over https.
_HTTPS_ONLY = frozenset({"strict-transport-security"})


def header_name(key: str) -> str:
    """``x_frame_options`` -> ``X-Frame-Options`` (a name already hyphenated stays)."""
    return "-".join(part[:1].upper() + part[1:] for part in key.replace("_", "-").split("-"))


class SecurityHeaders(t.NamedTuple):
    """One application's security headers, ready to append to a WSGI list."""

    #: For answers to http requests.
    plain: Pairs
    #: For answers to https requests (``plain`` plus the https-only ones).
    https: Pairs
    #: Their names, lower-cased, to see whether a response set one itself.
    names: frozenset[str]


def parse(table: t.Any) -> SecurityHeaders:
    """Build :class:`SecurityHeaders` from the config table; bad values raise ConfigError."""
    if table is None or table is False or table == "":
        table = {}
    if not isinstance(table, dict):
        raise ConfigError(
            f"security_headers must be a table of header names and values, not {table!r}"
        )
    plain: list[tuple[str, str]] = []
    https: list[tuple[str, str]] = []
    for key, value in table.items():
        if value is None or value is False or value == "":
            continue
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigError(
                f'security_headers.{key}: the value must be a string ("" or false sends '
                f"no header), not {value!r}"
            )
        name = header_name(key)
        try:
            _check_header_value(name, value)
        except ValueError as exc:
            raise ConfigError(f"security_headers.{key}: {exc}") from None
        https.append((name, value))
        if name.lower() not in _HTTPS_ONLY:
            plain.append((name, value))
    return SecurityHeaders(tuple(plain), tuple(https), frozenset(n.lower() for n, _ in https))


def for_app(app: Digwebs) -> SecurityHeaders:
    """The application's :class:`SecurityHeaders`, parsed from its config on first use.

    Like the route chains, they are fixed once requests are served: a change
    to ``app.config`` after that is not seen.
    """
    found = app.__dict__.get("_security_headers")
    if found is None:
        found = app.__dict__["_security_headers"] = parse(app.config.get("security_headers"))
    return t.cast(SecurityHeaders, found)


def add_to(headers: list[tuple[str, str]], extra: Pairs, names: frozenset[str]) -> None:
    """Append ``extra`` to a response's WSGI header list, but no name it sets itself."""
    for name, _ in headers:
        if name.lower() in names:
            present = {n.lower() for n, _ in headers}
            headers += [pair for pair in extra if pair[0].lower() not in present]
            return
    headers += extra
