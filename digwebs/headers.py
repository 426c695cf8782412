"""HTTP headers: the response's :class:`Headers` and the request's :class:`EnvironHeaders`.

:class:`Headers` is a case-insensitive, multi-valued view over a WSGI header
list that refuses what must never be sent (CR, LF and other controls, names
that are not tokens): :func:`_check_header_value` is that check, shared by
the response and the security headers. :class:`EnvironHeaders` reads the
request's headers from the WSGI environ without copying them.
"""

from __future__ import annotations

import typing as t

__all__ = ["Headers", "EnvironHeaders"]


def _missing(name: str) -> KeyError:
    """The 400 :class:`KeyError` for a request header that was not sent."""
    # Imported here: errors -> response -> headers would be a cycle.
    from .errors import BadRequestKeyError

    return BadRequestKeyError(name, "header")


# What _check_header_value allows: names are RFC 7230 tokens; values, as
# latin-1 bytes, HTAB, printable ASCII and 0x80-0xFF (RFC 7230 field-content).
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_HEADER_VALUE_BYTES = bytes([0x09, *range(0x20, 0x7F), *range(0x80, 0x100)])
# Header names already found to be tokens (an application uses a few dozen).
_TOKEN_NAMES: set[str] = set()


def _check_header_value(name: str, value: str) -> str:
    """Return ``value`` if ``name: value`` may be sent, else raise ValueError naming it.

    The name must be an RFC 7230 token. The value may hold any latin-1
    character (a WSGI header is latin-1) except controls: CR and LF (they
    would let a value inject headers or a body), NUL and the rest of
    0x00-0x1F but HTAB, and DEL (servers such as gunicorn refuse them after
    the handler is done, with a 500 of their own). A name that is not a str
    raises TypeError.
    """
    # PERF: a name seen before is one set lookup; the usual value, printable
    # ASCII, two C scans.
    if name not in _TOKEN_NAMES:
        _check_header_name(name)
    if not (value.isascii() and value.isprintable()):
        try:
            refused = value.encode("latin-1").translate(None, _HEADER_VALUE_BYTES)
        except UnicodeEncodeError as exc:
            char = value[exc.start]
            raise ValueError(
                f"header {name!r}: the value contains {char!r}, which is not latin-1 (WSGI "
                "sends header values as latin-1: percent-encode it, or RFC 8187 for "
                "parameters); refusing to send it"
            ) from None
        if refused:
            if b"\n" in refused or b"\r" in refused:
                raise ValueError(
                    f"header {name!r}: the value contains a newline; refusing to send it"
                )
            raise ValueError(
                f"header {name!r}: the value contains the control character "
                f"{chr(refused[0])!r}; refusing to send it"
            )
    return value


def _check_header_name(name: str) -> None:
    """Raise unless ``name`` is an RFC 7230 token; remember it if it is."""
    if not isinstance(name, str):
        raise TypeError(f"header name {name!r} is not a str")
    if not name or not _TOKEN_CHARS.issuperset(name):
        if "\n" in name or "\r" in name:
            raise ValueError(f"header name {name!r} contains a newline; refusing to send it")
        raise ValueError(
            f"header name {name!r} is not an RFC 7230 token "
            "(letters, digits and !#$%&'*+-.^_`|~); refusing to send it"
        )
    if len(_TOKEN_NAMES) < 1024:
        _TOKEN_NAMES.add(name)


class Headers:
    """Case-insensitive, multi-valued HTTP headers kept as a WSGI list.

    ``h[name] = value`` replaces every header of that name, ``h.add`` appends
    another one (``Set-Cookie``). Values with CR or LF are refused.
    """

    __slots__ = ("_list",)

    def __init__(
        self, items: t.Iterable[tuple[str, str]] | t.Mapping[str, str] | None = None
    ) -> None:
        self._list: list[tuple[str, str]] = []
        if items:
            pairs = items.items() if isinstance(items, t.Mapping) else items
            for name, value in pairs:
                self.add(name, value)

    @classmethod
    def _wrap(cls, header_list: list[tuple[str, str]]) -> Headers:
        # Share the list: the response writes through this view.
        h = cls.__new__(cls)
        h._list = header_list
        return h

    def __getitem__(self, name: str) -> str:
        lname = name.lower()
        for key, value in self._list:
            if key.lower() == lname:
                return value
        raise KeyError(name)

    def get(self, name: str, default: t.Any = None) -> t.Any:
        """Return the first value of header ``name`` (any case), or ``default``."""
        try:
            return self[name]
        except KeyError:
            return default

    def getlist(self, name: str) -> list[str]:
        """Return every value of header ``name`` (any case), in order; empty if none."""
        lname = name.lower()
        return [v for k, v in self._list if k.lower() == lname]

    def _remove(self, name: str, start: int = 0) -> bool:
        """Drop every header called ``name`` from ``start`` on; tell if any was."""
        lname = name.lower()
        tail = self._list[start:]
        kept = [kv for kv in tail if kv[0].lower() != lname]
        self._list[start:] = kept
        return len(kept) != len(tail)

    def __setitem__(self, name: str, value: t.Any) -> None:
        value = _check_header_value(name, str(value))
        lname = name.lower()
        lst = self._list
        for i, (key, _) in enumerate(lst):
            if key.lower() == lname:
                # Replace the first in place (keeping its position), drop the rest.
                lst[i] = (name, value)
                self._remove(name, i + 1)
                return
        lst.append((name, value))

    def setdefault(self, name: str, value: str) -> str:
        """Return the first value of ``name``, setting it to ``value`` if there is none.

        :raises ValueError: ``value`` holds a control character or the name
            is not a token, as for ``h[name] = value``.
        """
        existing = self.get(name)
        if existing is None:
            self[name] = value
            return value
        return t.cast(str, existing)

    def add(self, name: str, value: t.Any) -> None:
        """Append a header, keeping any of the same name (for ``Set-Cookie``).

        ``value`` is sent as ``str(value)``.

        :raises ValueError: the value holds a CR, LF or another control
            character, or a character past U+00FF; or the name is not a token.
        """
        self._list.append((name, _check_header_value(name, str(value))))

    def __delitem__(self, name: str) -> None:
        if not self._remove(name):
            raise KeyError(name)

    def pop(self, name: str, default: t.Any = None) -> t.Any:
        """Remove every header ``name``; return the first value, or ``default``."""
        value = self.get(name, default)
        self._remove(name)
        return value

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        lname = name.lower()
        return any(k.lower() == lname for k, _ in self._list)

    def __iter__(self) -> t.Iterator[tuple[str, str]]:
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def items(self) -> list[tuple[str, str]]:
        """Return a copy of the ``(name, value)`` pairs, repeated names included, in order."""
        return list(self._list)

    def keys(self) -> list[str]:
        """Return the header names in order, as set, once per header (so maybe repeated)."""
        return [k for k, _ in self._list]

    def update(self, other: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]]) -> None:
        """Set each header of ``other`` (a mapping or pairs) as ``h[name] = value`` does.

        Each name replaces the headers of that name already there; of pairs
        that repeat a name, the last one stays.
        """
        pairs = other.items() if isinstance(other, t.Mapping) else other
        for name, value in pairs:
            self[name] = value

    def __repr__(self) -> str:
        return f"Headers({self._list!r})"


_ENVIRON_KEYS: dict[str, str] = {}
_CGI_HEADER_KEYS = frozenset(("CONTENT_TYPE", "CONTENT_LENGTH"))
_SHADOWED_BY_CGI_KEYS = frozenset(("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"))


class EnvironHeaders(t.Mapping[str, str]):
    """Read-only, case-insensitive request headers backed by the WSGI environ."""

    __slots__ = ("environ",)

    def __init__(self, environ: dict[str, t.Any]) -> None:
        self.environ = environ

    @staticmethod
    def _key(name: str) -> str:
        # PERF: header names repeat from request to request; map each once.
        key = _ENVIRON_KEYS.get(name)
        if key is None:
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            if len(_ENVIRON_KEYS) < 1024:
                _ENVIRON_KEYS[name] = key
        return key

    def __getitem__(self, name: str) -> str:
        value = self.environ.get(self._key(name))
        if value is None:
            raise _missing(name)
        return t.cast(str, value)

    def get(self, name: str, default: t.Any = None) -> t.Any:
        """Return the request header ``name`` (any case), or ``default`` if it was not sent."""
        key = _ENVIRON_KEYS.get(name) or self._key(name)
        return self.environ.get(key, default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self.environ

    def __iter__(self) -> t.Iterator[str]:
        """Header names, each once, as werkzeug's ``EnvironHeaders`` lists them.

        Content-Type and Content-Length come from ``CONTENT_TYPE`` and
        ``CONTENT_LENGTH`` (when not empty); the ``HTTP_CONTENT_TYPE`` and
        ``HTTP_CONTENT_LENGTH`` copies some servers also set are not listed
        again (reading ``headers["Content-Type"]`` never used them either).
        """
        environ = self.environ
        for key in environ:
            if key.startswith("HTTP_"):
                if key not in _SHADOWED_BY_CGI_KEYS:
                    yield key[5:].replace("_", "-").title()
            elif key in _CGI_HEADER_KEYS and environ[key]:
                yield key.replace("_", "-").title()

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"EnvironHeaders({dict(self.items())!r})"
