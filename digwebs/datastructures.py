"""Small containers shared by requests and responses."""

from __future__ import annotations

import typing as t
from urllib.parse import unquote_plus

__all__ = ["MultiDict", "Headers", "EnvironHeaders", "FileStorage", "parse_qs"]


class MultiDict(dict[str, list[t.Any]]):
    """A mapping where a key may carry several values, in arrival order.

    ``d[key]`` and ``d.get(key)`` give the first value (a missing key raises
    :class:`KeyError` from ``d[key]``, which the framework turns into a 400);
    ``d.getlist(key)`` gives them all.
    """

    def __getitem__(self, key: str) -> t.Any:
        try:
            return dict.__getitem__(self, key)[0]
        except KeyError:
            raise _missing(key) from None

    def __setitem__(self, key: str, value: t.Any) -> None:
        dict.__setitem__(self, key, [value])

    def get(
        self, key: str, default: t.Any = None, type: t.Callable[[t.Any], t.Any] | None = None
    ) -> t.Any:
        """Return the first value of ``key``, converted by ``type`` if given.

        A value that ``type`` rejects with :class:`ValueError` gives ``default``.
        """
        values = dict.get(self, key)
        if values is None:
            return default
        if type is None:
            return values[0]
        try:
            return type(values[0])
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str) -> list[t.Any]:
        return list(dict.get(self, key, ()))

    def add(self, key: str, value: t.Any) -> None:
        dict.setdefault(self, key, []).append(value)

    def items(self, multi: bool = False) -> t.Iterator[tuple[str, t.Any]]:  # type: ignore[override]
        for key, values in dict.items(self):
            if multi:
                for value in values:
                    yield key, value
            else:
                yield key, values[0]

    def values(self) -> t.Iterator[t.Any]:  # type: ignore[override]
        for values in dict.values(self):
            yield values[0]

    def to_dict(self, flat: bool = True) -> dict[str, t.Any]:
        if flat:
            return {k: v[0] for k, v in dict.items(self)}
        return {k: list(v) for k, v in dict.items(self)}

    def __repr__(self) -> str:
        return f"MultiDict({list(self.items(multi=True))!r})"


def _missing(key: str, what: str = "field") -> KeyError:
    # Imported here: errors -> response -> datastructures would be a cycle.
    from .errors import BadRequestKeyError

    return BadRequestKeyError(key, what)


def parse_qs(qs: str) -> MultiDict:
    """Parse a query string (or an urlencoded body) into a :class:`MultiDict`.

    Blank values are kept (``?flag=`` gives ``""``), as browsers send them.
    """
    parsed: dict[str, list[str]] = {}
    if qs:
        # PERF: unquoting is most of the cost; most query strings need none.
        plain = "%" not in qs and "+" not in qs
        for pair in qs.split("&"):
            if not pair:
                continue
            key, _, value = pair.partition("=")
            if not plain:
                key, value = unquote_plus(key), unquote_plus(value)
            values = parsed.get(key)
            if values is None:
                parsed[key] = [value]
            else:
                values.append(value)
    return MultiDict(parsed)


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
        try:
            return self[name]
        except KeyError:
            return default

    def getlist(self, name: str) -> list[str]:
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
        existing = self.get(name)
        if existing is None:
            self[name] = value
            return value
        return t.cast(str, existing)

    def add(self, name: str, value: t.Any) -> None:
        self._list.append((name, _check_header_value(name, str(value))))

    def __delitem__(self, name: str) -> None:
        if not self._remove(name):
            raise KeyError(name)

    def pop(self, name: str, default: t.Any = None) -> t.Any:
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
        return list(self._list)

    def keys(self) -> list[str]:
        return [k for k, _ in self._list]

    def update(self, other: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]]) -> None:
        pairs = other.items() if isinstance(other, t.Mapping) else other
        for name, value in pairs:
            self[name] = value

    def __repr__(self) -> str:
        return f"Headers({self._list!r})"


_ENVIRON_KEYS: dict[str, str] = {}


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
            raise _missing(name, "header")
        return t.cast(str, value)

    def get(self, name: str, default: t.Any = None) -> t.Any:
        key = _ENVIRON_KEYS.get(name) or self._key(name)
        return self.environ.get(key, default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self.environ

    def __iter__(self) -> t.Iterator[str]:
        for key in self.environ:
            if key.startswith("HTTP_"):
                yield key[5:].replace("_", "-").title()
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and self.environ[key]:
                yield key.replace("_", "-").title()

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"EnvironHeaders({dict(self.items())!r})"


class FileStorage:
    """An uploaded file: ``filename``, ``content_type``, ``name`` and ``stream``."""

    __slots__ = ("name", "filename", "content_type", "stream", "size", "headers")

    def __init__(
        self,
        stream: t.BinaryIO,
        filename: str | None,
        name: str,
        content_type: str | None,
        size: int = -1,
        headers: t.Mapping[str, str] | None = None,
    ) -> None:
        self.stream = stream
        self.filename = filename
        self.name = name
        self.content_type = content_type
        self.size = size
        self.headers = headers or {}

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)

    def save(self, destination: str | t.BinaryIO, chunk_size: int = 64 * 1024) -> None:
        """Copy the upload to a path or a writable binary file object."""
        self.stream.seek(0)
        if isinstance(destination, str):
            with open(destination, "wb") as out:
                self._copy(out, chunk_size)
        else:
            self._copy(destination, chunk_size)

    def _copy(self, out: t.BinaryIO, chunk_size: int) -> None:
        while chunk := self.stream.read(chunk_size):
            out.write(chunk)

    def __repr__(self) -> str:
        return f"<FileStorage {self.filename!r} ({self.content_type})>"
