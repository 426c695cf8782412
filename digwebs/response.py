"""The :class:`Response` object and cookie serialisation."""

from __future__ import annotations

import json as _json
import re
import typing as t
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus

from .datastructures import Headers, _check_header_value

__all__ = ["Response", "status_line"]

# "404" -> "404 Not Found", built once for every code the stdlib knows.
_STATUS_LINES: dict[int, str] = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}
_STATUS_LINES[308] = "308 Permanent Redirect"


# Header names already seen to be free of CR, LF and colons -> what _name_kind says.
_CHECKED_NAMES: dict[str, str] = {}


def status_line(code: int) -> str:
    """Return the WSGI status line for ``code`` (``"404 Not Found"``)."""
    line = _STATUS_LINES.get(code)
    if line is None:
        if not 100 <= code <= 999:
            raise ValueError(f"invalid HTTP status code {code!r}")
        line = f"{code} Unknown"
    return line


_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_COOKIE_SAFE_VALUE = re.compile(r"^[!#$%&'()*+\-./0-9:<=>?@A-Z\[\]^_`a-z{|}~]*$")


def _quote_cookie_value(value: str) -> str:
    if _COOKIE_SAFE_VALUE.match(value):
        return value
    # RFC 6265 has no escaping; quoting with backslash escapes is what
    # browsers and Python's http.cookies both understand.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


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
    """Serialise one ``Set-Cookie`` header value."""
    if not _COOKIE_NAME.match(name):
        raise ValueError(f"invalid cookie name {name!r}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"cookie {name!r} value contains a newline")
    parts = [f"{name}={_quote_cookie_value(value)}"]
    if isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
        if expires is None:
            expires = datetime.now(UTC) + timedelta(seconds=int(max_age))
    if expires is not None:
        if isinstance(expires, int | float):
            expires = datetime.fromtimestamp(expires, UTC)
        parts.append(f"Expires={format_datetime(expires.astimezone(UTC), usegmt=True)}")
    if domain:
        parts.append(f"Domain={domain}")
    if path:
        parts.append(f"Path={path}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite:
        samesite = samesite.title()
        if samesite not in ("Strict", "Lax", "None"):
            raise ValueError("samesite must be 'Strict', 'Lax' or 'None'")
        if samesite == "None" and not secure:
            # Browsers drop SameSite=None cookies that are not Secure.
            raise ValueError("a SameSite=None cookie must also be secure=True")
        parts.append(f"SameSite={samesite}")
    for part in parts[1:]:
        if ";" in part[:-1] or "\n" in part or "\r" in part:
            raise ValueError(f"invalid cookie attribute {part!r}")
    return "; ".join(parts)


def header_list(headers: t.Any, content_type: str) -> tuple[list[tuple[str, str]], bool]:
    """Check a handler's headers (a dict or pairs) and return them as a WSGI list.

    Content-Type comes first, ``content_type`` unless the headers set one.
    The flag tells whether the list carries no Content-Length (so one may be
    added without scanning for it). Values with CR or LF raise ValueError.
    """
    if type(headers) is dict:
        # PERF: a handler returns the same names every time; the second time
        # a function written for those names builds the list.
        build = _DICT_BUILDERS.get(tuple(headers))
        if build is not None:
            try:
                built = build(headers, content_type)
            except TypeError:  # a value that is not a str: the loops convert it
                built = None
            if built is not None:
                return built  # type: ignore[no-any-return]
    headers_out = [("Content-Type", content_type)]
    if not headers:
        return headers_out, True
    # PERF: the loop below handles names seen before whose values are
    # printable strings (no CR or LF), in as few steps as Python allows;
    # anything else starts over in _checked_header_list.
    append, kind_of, ordinary = headers_out.append, _CHECKED_NAMES.get, _ORDINARY
    if type(headers) is dict or hasattr(headers, "items"):
        pairs = headers.items()
    else:  # pairs, kept in a list: the checked path may have to read them again
        pairs = headers = headers if type(headers) is list else list(headers)
    try:
        for name, value in pairs:
            kind = kind_of(name)
            if value.isprintable():  # AttributeError for a value that is not a str
                if kind is ordinary:
                    append((name, value))
                    continue
                if kind is _CONTENT_TYPE:
                    headers_out[0] = ("Content-Type", value)
                    continue
            break
        else:
            if type(headers) is dict and len(_DICT_BUILDERS) < 256:
                _DICT_BUILDERS[tuple(headers)] = _dict_builder(tuple(headers))
            return headers_out, True
    except AttributeError:
        pass
    return _checked_header_list(headers, content_type)


# Header names of a handler's dict, in order -> the function that turns such a
# dict into a WSGI list (None when the names are not for one: a Content-Type
# given twice, or a Content-Length, which the checked loop handles).
_DICT_BUILDERS: dict[tuple[str, ...], t.Any] = {}


def _dict_builder(names: tuple[str, ...]) -> t.Any:
    """Write ``build(h, content_type)`` for header dicts with exactly ``names``.

    It returns what :func:`header_list` returns, or ``None`` when a value is
    not printable (CR, LF, tabs: the checked loop decides); a value that is
    not a str raises TypeError. The names were checked by the loop already.
    """
    kinds = [_CHECKED_NAMES.get(name) for name in names]
    if kinds.count(_CONTENT_TYPE) > 1 or any(k not in (_ORDINARY, _CONTENT_TYPE) for k in kinds):
        return None
    first = '("Content-Type", content_type)'
    pairs = []
    for k, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        if kind is _CONTENT_TYPE:
            first = f'("Content-Type", v{k})'
        else:
            pairs.append(f"({name!r}, v{k})")
    values = [f"v{k}" for k in range(len(names))]
    source = "def build(h, content_type):\n"
    source += "".join(f"    v{k} = h[{name!r}]\n" for k, name in enumerate(names))
    source += f"    if ({' + '.join(values)}).isprintable():\n"
    source += f"        return [{', '.join([first, *pairs])}], True\n"
    source += "    return None\n"
    namespace: dict[str, t.Any] = {}
    exec(source, namespace)
    return namespace["build"]


def _checked_header_list(
    headers: t.Any, content_type: str
) -> tuple[list[tuple[str, str]], bool]:
    headers_out = [("Content-Type", content_type)]
    no_length = True
    pairs = headers.items() if hasattr(headers, "items") else headers
    for name, value in pairs:
        value = str(value)
        _check_header_value(name, value)
        kind = _CHECKED_NAMES.get(name) or _name_kind(name)
        if kind is _CONTENT_TYPE:
            headers_out[0] = ("Content-Type", value)
        else:
            headers_out.append((name, value))
            no_length = no_length and kind is not _CONTENT_LENGTH
    return headers_out, no_length


_ORDINARY, _CONTENT_TYPE, _CONTENT_LENGTH = "ordinary", "content-type", "content-length"
# Lower-cased name -> the constant itself, so that header_list can compare with "is".
_SPECIAL_NAMES = {_CONTENT_TYPE: _CONTENT_TYPE, _CONTENT_LENGTH: _CONTENT_LENGTH}


def _name_kind(name: str) -> str:
    kind = _SPECIAL_NAMES.get(name.lower(), _ORDINARY)
    if len(_CHECKED_NAMES) < 1024:
        _CHECKED_NAMES[name] = kind
    return kind


_new_object = object.__new__


class Response:
    """An HTTP response: status, headers and a body.

    ``body`` may be ``bytes``, ``str`` (encoded as UTF-8) or any iterable of
    ``bytes`` (streamed as it is produced). ``status`` may be an ``int`` or a
    WSGI status string such as ``"201 Created"``.
    """

    # _no_length: True when the headers are known to carry no Content-Length
    # (so finish() can add one without scanning them).
    __slots__ = ("status_code", "_status", "_header_list", "_headers", "body", "_no_length")

    default_content_type = "text/html; charset=utf-8"

    def __init__(
        self,
        body: bytes | str | t.Iterable[bytes] = b"",
        status: int | str = 200,
        headers: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]] | None = None,
        content_type: str | None = None,
    ) -> None:
        if type(status) is int:
            self.status_code = status
            self._status: str | None = None
        else:
            self.status = status
        if type(body) is str:
            body = body.encode()
        self.body = body
        self._header_list: list[tuple[str, str]] = [
            ("Content-Type", content_type or self.default_content_type)
        ]
        self._headers: Headers | None = None
        self._no_length = False
        if headers:
            self.headers.update(headers)

    @classmethod
    def _from_parts(
        cls, body: bytes, status: int, headers: t.Any, content_type: str | None = None
    ) -> Response:
        """Build a response from a handler's ``(body, status, headers)`` quickly.

        PERF: skips :class:`Headers` (its replace-on-set scan is for later
        edits); a fresh response only needs Content-Type folded in.
        """
        resp = _new_object(cls)
        resp.status_code = status
        resp._status = None
        resp.body = body
        resp._headers = None
        resp._header_list, resp._no_length = header_list(
            headers, content_type or cls.default_content_type
        )
        return resp

    @property
    def status(self) -> str:
        """The WSGI status line, e.g. ``"200 OK"``."""
        return self._status or status_line(self.status_code)

    @status.setter
    def status(self, value: int | str) -> None:
        if isinstance(value, int):
            self.status_code, self._status = value, None
            return
        code, _, reason = value.strip().partition(" ")
        if not code.isdigit() or len(code) != 3 or "\n" in value or "\r" in value:
            raise ValueError(f"invalid HTTP status {value!r}")
        self.status_code = int(code)
        self._status = f"{code} {reason}" if reason else status_line(self.status_code)

    @property
    def headers(self) -> Headers:
        """The response headers (case-insensitive, multi-valued)."""
        # Whoever holds the view may add a Content-Length: stop vouching.
        self._no_length = False
        h = self._headers
        if h is None:
            h = self._headers = Headers._wrap(self._header_list)
        return h

    @headers.setter
    def headers(self, value: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]]) -> None:
        self._header_list[:] = []
        self.headers.update(value)

    @property
    def content_type(self) -> str | None:
        return t.cast("str | None", self.headers.get("Content-Type"))

    @content_type.setter
    def content_type(self, value: str) -> None:
        self.headers["Content-Type"] = value

    @property
    def data(self) -> bytes:
        """The whole body as bytes (consumes an iterable body)."""
        body = self.body
        if isinstance(body, bytes):
            return body
        data = b"".join(t.cast("t.Iterable[bytes]", body))
        self.body = data
        return data

    @data.setter
    def data(self, value: bytes | str) -> None:
        self.body = value.encode() if isinstance(value, str) else value

    def set_cookie(self, name: str, value: str = "", **options: t.Any) -> None:
        """Add a ``Set-Cookie`` header; HttpOnly and SameSite=Lax by default.

        Options: ``max_age``, ``expires``, ``path`` (``"/"``), ``domain``,
        ``secure``, ``httponly`` (True), ``samesite`` (``"Lax"``).
        """
        self.headers.add("Set-Cookie", dump_cookie(name, value, **options))

    def delete_cookie(
        self, name: str, path: str = "/", domain: str | None = None, **options: t.Any
    ) -> None:
        """Tell the client to drop cookie ``name`` (same path and domain as set)."""
        self.set_cookie(name, "", max_age=0, expires=0, path=path, domain=domain, **options)

    @classmethod
    def json(cls, data: t.Any, status: int = 200, headers: t.Any = None) -> Response:
        """Build a JSON response from any ``json.dumps``-able value."""
        body = _json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_json_default)
        return cls(body.encode(), status, headers, "application/json")

    def __repr__(self) -> str:
        return f"<Response {self.status}>"


def _json_default(value: t.Any) -> t.Any:
    # Common non-JSON types a handler returns; anything else is a bug to report.
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    for attr in ("__json__", "to_dict"):
        method = getattr(value, attr, None)
        if callable(method):
            return method()
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    if hasattr(value, "hex") and type(value).__name__ == "UUID":
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
