"""The :class:`Response` object, its status and headers, and the JSON encoder.

Cookies are written by :mod:`digwebs.cookies` (``dump_cookie`` is re-exported
here for existing callers).
"""

from __future__ import annotations

import json as _json
import json.encoder as _json_encoder_c
import re
import typing as t
from datetime import datetime
from http import HTTPStatus

from ..cookies import dump_cookie
from ..datastructures import Headers, _check_header_value

__all__ = ["Response", "dump_cookie", "json_bytes", "parse_status", "status_line"]

# "404" -> "404 Not Found", built once for every code the stdlib knows.
_STATUS_LINES: dict[int, str] = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}
_STATUS_LINES[308] = "308 Permanent Redirect"


# Header names already seen to be free of CR, LF and colons -> what _name_kind says.
_CHECKED_NAMES: dict[str, str] = {}


def status_line(code: int) -> str:
    """Return the WSGI status line for ``code`` (``"404 Not Found"``).

    A code the standard library has no phrase for gets ``"Unknown"``; a code
    outside 100-599 raises :class:`ValueError`.
    """
    line = _STATUS_LINES.get(code)
    if line is None:
        parse_status(code)  # raises for a code out of range
        line = f"{code} Unknown"
    return line


_ALLOWED_STATUS = "an int from 100 to 599 or a string such as '404 Not Found'"


def parse_status(value: t.Any) -> tuple[int, str | None]:
    """Check an HTTP status and return ``(code, line)``.

    ``value`` is an ``int`` (or an int enum such as ``HTTPStatus.OK``, never a
    ``bool``) from 100 to 599, or a WSGI status string: three ASCII digits
    (100-599), optionally a space and a reason phrase free of control
    characters and within latin-1. ``line`` is the status line to send for a
    string with a reason of its own, else ``None`` (the standard line is
    used). Anything else raises at once, naming the value: :class:`TypeError`
    for a value of the wrong type, :class:`ValueError` for a wrong value.
    Results use this for the status a handler returns.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if 100 <= value <= 599:
            return int(value), None
        raise ValueError(f"invalid HTTP status {value!r}: use {_ALLOWED_STATUS}")
    if not isinstance(value, str):
        raise TypeError(
            f"invalid HTTP status {value!r} ({type(value).__name__}): use {_ALLOWED_STATUS}"
        )
    code, _, reason = value.strip().partition(" ")
    if len(code) == 3 and code.isascii() and code.isdigit() and 100 <= int(code) <= 599:
        if not reason:
            return int(code), None
        # The reason goes out on the status line: the rules of a header value.
        if reason.isascii() and reason.isprintable() or _is_latin1_text(reason):
            return int(code), f"{code} {reason}"
    raise ValueError(f"invalid HTTP status {value!r}: use {_ALLOWED_STATUS}")


def _is_latin1_text(text: str) -> bool:
    # Latin-1 with no control characters but HTAB (RFC 9112 reason-phrase).
    return not any(c > "\xff" or c == "\x7f" or (c < " " and c != "\t") for c in text)


def header_list(headers: t.Any, content_type: str) -> tuple[list[tuple[str, str]], bool]:
    """Check a handler's headers (a dict or pairs) and return them as a WSGI list.

    Content-Type comes first, ``content_type`` unless the headers set one.
    The flag tells whether the list carries no Content-Length (so one may be
    added without scanning for it). A name that is not a token, or a value
    with a control character (HTAB aside) or a character above U+00FF,
    raises ValueError naming the header, whichever path the headers take.
    """
    if type(headers) is dict:
        # PERF: a handler returns the same names every time; once the
        # checked loop has accepted a dict of some names, a function written
        # for those names builds the list (tests/wrappers/test_response.py
        # compares the two).
        names = tuple(headers)
        build = _DICT_BUILDERS.get(names)
        if build is not None:
            try:
                built = build(headers, content_type)
            except (TypeError, AttributeError):
                # A value that is not a str (the function is written for
                # str values: 7 + 7 is an int, without isascii): the checked
                # loop converts it.
                built = None
            if built is not None:
                return built  # type: ignore[no-any-return]
        elif headers and names not in _DICT_BUILDERS and len(_DICT_BUILDERS) < 256:
            built = _checked_header_list(headers, content_type)  # checks the names
            _DICT_BUILDERS[names] = _dict_builder(names)
            return built
    if not headers:
        return [("Content-Type", content_type)], True
    return _checked_header_list(headers, content_type)


# Header names of a handler's dict, in order -> the function that turns such a
# dict into a WSGI list (None when the names are not for one: a Content-Type
# given twice, or a Content-Length, which the checked loop handles).
_DICT_BUILDERS: dict[tuple[str, ...], t.Any] = {}


def _dict_builder(names: tuple[str, ...]) -> t.Any:
    """Write ``build(h, content_type)`` for header dicts with exactly ``names``.

    It returns what :func:`header_list` returns, or ``None`` when a value is
    not printable ASCII (controls, tabs, latin-1: the checked loop decides); a value that is
    not a str raises TypeError. The names were checked by the checked loop
    already (a name it has not filed in ``_CHECKED_NAMES``, which is full,
    gives ``None``).
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
    source += f"    joined = {' + '.join(values)}\n"
    source += "    if joined.isascii() and joined.isprintable():\n"
    source += f"        return [{', '.join([first, *pairs])}], True\n"
    source += "    return None\n"
    namespace: dict[str, t.Any] = {}
    exec(source, namespace)
    return namespace["build"]


def _checked_header_list(headers: t.Any, content_type: str) -> tuple[list[tuple[str, str]], bool]:
    """:func:`header_list` the plain way: every name and value checked, values made str."""
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

    :param body: ``bytes``, ``str`` (encoded as UTF-8) or any iterable of
        ``bytes`` (streamed as it is produced).
    :param status: an ``int`` from 100 to 599 or a WSGI status string such
        as ``"201 Created"``.
    :param headers: a mapping or ``(name, value)`` pairs; each name replaces
        what came before it, ``Content-Type`` included.
    :param content_type: the ``Content-Type``; :attr:`default_content_type`
        (HTML in UTF-8) if not given.
    :raises TypeError, ValueError: a status or header that cannot be sent
        (see :func:`parse_status`, :meth:`Headers.add
        <digwebs.datastructures.Headers.add>`), raised here rather than when
        the response is sent.
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
        if type(status) is int and 100 <= status <= 599:
            self.status_code = status
            self._status: str | None = None
        else:
            self.status = status  # checks it (raises for a status out of range)
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
        edits); a fresh response only needs Content-Type folded in. ``status``
        is an int; one outside 100-599 raises ValueError.
        """
        if not 100 <= status <= 599:
            parse_status(status)  # raises, naming it
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
        """The WSGI status line, e.g. ``"200 OK"``.

        Set it to an int (100-599) or a status string (``"418 I'm a teapot"``);
        anything else raises at once (see :func:`parse_status`).
        """
        return self._status or status_line(self.status_code)

    @status.setter
    def status(self, value: int | str) -> None:
        # Checked here, where the handler sets it, not when the response is sent.
        self.status_code, self._status = parse_status(value)

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
        """The ``Content-Type`` header, or ``None`` once it is removed; settable."""
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
        """Build a JSON response from any value :func:`json_bytes` can encode."""
        return cls(json_bytes(data), status, headers, "application/json")

    def __repr__(self) -> str:
        return f"<Response {self.status}>"


# Any surrogate code point in a str fails to encode as UTF-8; each is escaped
# on its own (a high one right before a low one then reads back as one
# character, as it does from Flask's output).
_surrogate = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_bytes(value: t.Any) -> bytes:
    """Encode ``value`` as compact JSON (no spaces) in UTF-8: digwebs' one JSON encoder.

    Non-ASCII text is sent as UTF-8, not as escapes. A lone surrogate
    (``"\\ud800"``, which has no UTF-8 form) is sent as the JSON escape
    ``\\ud800``, as Flask does, instead of failing; the rest of the document
    is unchanged. NaN and infinities are written as ``json.dumps`` writes
    them, and a circular structure raises :class:`ValueError`. Besides the
    JSON types it encodes datetimes (ISO 8601), sets and tuples (lists),
    UUIDs (strings), dataclasses, and objects with a ``__json__()`` or
    ``to_dict()`` method; anything else raises :class:`TypeError`.
    """
    text = _encode_json(value)
    try:
        return text.encode()
    except UnicodeEncodeError:
        # Surrogates only appear inside JSON strings, so an escape is valid there.
        return _surrogate.sub(_escape_surrogate, text).encode()


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


def _json_encoder() -> t.Callable[[t.Any], str]:
    """The compact, UTF-8 (``ensure_ascii=False``) JSON encoder ``json_bytes`` uses.

    PERF: ``JSONEncoder.encode`` sets up the C encoder again on each call, in
    Python; calling ``c_make_encoder`` with the same arguments ourselves costs
    a fifth less on a small dict. A fresh ``markers`` dict per call keeps the
    circular-reference check and is safe across threads. Where the C encoder
    is missing or takes other arguments, ``JSONEncoder.encode`` it is.
    """
    encode = _json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), default=_json_default
    ).encode
    make = getattr(_json_encoder_c, "c_make_encoder", None)  # not in typeshed
    if make is None:
        return encode
    string = _json_encoder_c.encode_basestring
    default, join = _json_default, "".join

    def encode_c(value: t.Any) -> str:
        return join(make({}, default, string, None, ":", ",", False, False, True)(value, 0))

    try:
        if encode_c({"a": [1.5, None, "\u00e9"]}) != encode({"a": [1.5, None, "\u00e9"]}):
            return encode
    except TypeError:  # another signature
        return encode
    return encode_c


_encode_json = _json_encoder()
