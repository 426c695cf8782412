"""Cookies: writing ``Set-Cookie`` header values and reading ``Cookie`` headers.

What digwebs guarantees when writing (:func:`dump_cookie`):

* A value made only of RFC 6265 cookie-octets (printable ASCII except space,
  ``"``, ``,``, ``;`` and ``\\``) is sent as it is. Any other value is sent
  in double quotes, its UTF-8 bytes escaped as ``http.cookies`` and werkzeug
  do: ``"`` as ``\\"``, ``\\`` as ``\\\\``, and every byte that is not a
  cookie-octet (space, ``,``, ``;``, controls, DEL, every byte of a
  non-ASCII character) as a three-digit octal escape (``\\040``, ``\\054``,
  ``\\073``, ``\\012``, ``é`` as ``\\303\\251``). The header is therefore
  printable ASCII with no ``;`` but the attribute separators: a value can
  never add an attribute, whatever a client does with the quotes.
* A value with a lone surrogate (it has no UTF-8 form) is refused with
  :class:`ValueError`, as is a name that is not an RFC 7230 token.
* ``Domain`` and ``Path`` (and ``SameSite``) values with ``;`` or any
  control character are refused with :class:`ValueError`. A non-ASCII
  domain is sent in its IDNA form, a non-ASCII path percent-encoded as UTF-8
  (which is how a browser writes the request path it compares it with).
* A naive ``expires`` datetime is UTC, as in werkzeug, never local time.

What digwebs guarantees when reading (:func:`parse_cookie_header`): see
its docstring. What the writer produces, the reader, ``http.cookies`` and
werkzeug all read back to the same value (``tests/test_cookies.py``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote

__all__ = ["dump_cookie", "parse_cookie_header", "quote_cookie_value"]

# RFC 7230 token: what a cookie name may be.
_is_token = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
# RFC 6265 cookie-octets (%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E): a
# value of these alone is sent bare. fullmatch, never match with "$", which
# would let a trailing newline through.
_is_bare = re.compile(r"[!#-+\--:<-\[\]-~]*").fullmatch

# Byte -> what stands for it between the quotes.
_BYTE_TEXT = [chr(b) if _is_bare(chr(b)) else f"\\{b:03o}" for b in range(256)]
_BYTE_TEXT[ord('"')] = '\\"'
_BYTE_TEXT[ord("\\")] = "\\\\"

# An attribute value may not hold ";" or controls (RFC 6265: any CHAR except
# CTLs or ";"); HTAB is a control too.
_bad_attribute_char = re.compile(r"[\x00-\x1f\x7f;]").search
_is_host_name = re.compile(r"[A-Za-z0-9._-]+").fullmatch
# Printable ASCII but space and the characters a browser percent-encodes in a path.
_is_plain_path = re.compile(r"[!$-;=@-\[\]_a-z|~]*").fullmatch


def quote_cookie_value(value: str) -> str:
    """Return ``value`` as it goes after ``name=`` in a ``Set-Cookie`` header.

    Bare if it is made of cookie-octets only, else quoted with octal escapes
    of its UTF-8 bytes (see the module docstring). The result is always
    printable ASCII without ``;``. Raises :class:`UnicodeEncodeError` (a
    :class:`ValueError`) for a lone surrogate.
    """
    if _is_bare(value):
        return value
    text = _BYTE_TEXT
    return '"' + "".join([text[b] for b in value.encode()]) + '"'


def _attribute(label: str, value: str) -> str:
    match = _bad_attribute_char(value)
    if match is not None:
        raise ValueError(
            f"cookie {label} {value!r} contains {match.group()!r}: a {label} may not hold "
            "';' or control characters"
        )
    return value


def _domain(domain: str) -> str:
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"cookie Domain {domain!r} has no IDNA form: {exc}") from None
    _attribute("Domain", domain)
    if not _is_host_name(domain):
        # No port, no brackets, no quotes: browsers ignore such a Domain, or worse.
        raise ValueError(
            f"cookie Domain {domain!r} is not a host name (letters, digits, '.', '-', '_')"
        )
    return domain


def _path(path: str) -> str:
    _attribute("Path", path)
    if _is_plain_path(path):
        return path
    # Percent-encode what a browser never leaves raw in the request path it
    # compares the cookie's Path with (the WHATWG path percent-encode set,
    # and the backslash); what is ASCII otherwise (a "%2F") is kept as written.
    return "".join([c if _is_plain_path(c) else quote(c, safe="") for c in path])


def _expires(expires: datetime | int | float) -> str:
    if isinstance(expires, datetime):
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)  # naive means UTC, as in werkzeug
    elif isinstance(expires, int | float) and not isinstance(expires, bool):
        expires = datetime.fromtimestamp(expires, UTC)
    else:
        raise TypeError(f"cookie expires must be a datetime or a Unix timestamp, not {expires!r}")
    return format_datetime(expires.astimezone(UTC), usegmt=True)


def dump_cookie(
    name: str,
    value: str = "",
    *,
    max_age: int | timedelta | None = None,
    expires: datetime | int | float | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = True,
    samesite: str | None = "Lax",
) -> str:
    """Serialise one ``Set-Cookie`` header value.

    The header carries ``name=value`` and exactly the attributes asked for:
    ``Max-Age`` (with a matching ``Expires`` unless one is given),
    ``Expires``, ``Domain``, ``Path`` (``/`` unless None or empty),
    ``Secure``, ``HttpOnly`` (on by default) and ``SameSite`` (``Lax`` by
    default; ``None`` requires ``secure=True``, as browsers do). Values are
    quoted and attribute values checked as the module docstring says;
    anything that could not be sent as asked raises :class:`ValueError`
    (:class:`TypeError` for a value of the wrong type).
    """
    if not isinstance(name, str) or not _is_token(name):
        raise ValueError(f"invalid cookie name {name!r}: a name must be an RFC 7230 token")
    if not isinstance(value, str):
        raise TypeError(f"cookie {name!r}: the value must be a str, not {type(value).__name__}")
    try:
        parts = [f"{name}={quote_cookie_value(value)}"]
    except UnicodeEncodeError:
        raise ValueError(
            f"cookie {name!r}: the value contains a lone surrogate, which has no UTF-8 form"
        ) from None
    if isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    if max_age is not None:
        max_age = int(max_age)  # ValueError for text that is not a number
        parts.append(f"Max-Age={max_age}")
        if expires is None:
            expires = datetime.now(UTC) + timedelta(seconds=max_age)
    if expires is not None:
        parts.append(f"Expires={_expires(expires)}")
    if domain:
        parts.append(f"Domain={_domain(domain)}")
    if path:
        parts.append(f"Path={_path(path)}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite:
        samesite = samesite.title()
        if samesite not in ("Strict", "Lax", "None"):
            raise ValueError(f"samesite must be 'Strict', 'Lax' or 'None', not {samesite!r}")
        if samesite == "None" and not secure:
            # Browsers drop SameSite=None cookies that are not Secure.
            raise ValueError("a SameSite=None cookie must also be secure=True")
        parts.append(f"SameSite={samesite}")
    return "; ".join(parts)


# A whole quoted value: backslash escapes, no bare quote or trailing backslash.
_is_quoted = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL).fullmatch
# One escape: three octal digits up to \377 (one byte), or any one character.
_unescape = re.compile(rb"\\([0-3][0-7]{2}|.)", re.DOTALL).sub


def _unescape_one(match: re.Match[bytes]) -> bytes:
    escaped = match.group(1)
    return escaped if len(escaped) == 1 else bytes([int(escaped, 8)])


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header (as text) into ``{name: value}``.

    The header is split on ``;`` as browsers do; around names and values,
    spaces and tabs are ignored. A quoted value (``"..."``) is unescaped as
    ``http.cookies`` and werkzeug do: ``\\ooo`` (three octal digits, up to
    ``\\377``) is one byte, a backslash before any other character stands
    for that character, and the bytes are read as UTF-8 (an invalid sequence
    becomes U+FFFD), so ``"line1\\012line2"`` is ``line1\\nline2`` and
    ``"caf\\303\\251"`` is ``café``. An unquoted value is taken as sent.

    Malformed pairs are skipped, never fatal: no ``=``, an empty name, or a
    value that opens a quote it does not close properly. When a name comes
    twice the first value wins, as in werkzeug (``MultiDict[name]``):
    browsers send the cookie of the most specific path first.
    """
    cookies: dict[str, str] = {}
    for item in header.split(";"):
        name, eq, value = item.partition("=")
        name = name.strip(" \t")
        if not eq or not name or name in cookies:
            continue
        value = value.strip(" \t")
        if value[:1] == '"':
            if not _is_quoted(value):
                continue
            value = value[1:-1]
            if "\\" in value:
                raw = _unescape(_unescape_one, value.encode("utf-8", "surrogatepass"))
                value = raw.decode("utf-8", "replace")
        cookies[name] = value
    return cookies
