"""Small containers shared by requests and responses."""

from __future__ import annotations

import binascii
import codecs
import copy
import os
import typing as t
from urllib.parse import unquote_plus

__all__ = ["MultiDict", "Headers", "EnvironHeaders", "FileStorage", "parse_qs"]


_MISSING: t.Any = object()


class MultiDict(dict[str, list[t.Any]]):
    """A mapping where a key may carry several values, in arrival order.

    It behaves as werkzeug's ``MultiDict``, and the test suite checks that
    against werkzeug over random operation sequences:

    * ``d[key]``, ``d.get(key)``, ``d.pop(key)``, ``dict(d)``, ``items()``,
      ``values()`` and ``to_dict()`` give the *first* value of a key; a missing
      key raises :class:`~digwebs.errors.BadRequestKeyError` (a
      :class:`KeyError` that the framework answers with 400).
    * ``getlist``, ``lists``, ``listvalues``, ``poplist``, ``popitemlist``,
      ``items(multi=True)`` and ``to_dict(flat=False)`` give every value.
    * ``d[key] = v`` replaces the values of ``key``; ``add``, ``update``,
      ``|`` and ``|=`` append to them.
    * ``copy()``, :func:`copy.copy`, :func:`copy.deepcopy` and :mod:`pickle`
      keep every value and never share a value list with the original.
    * ``==`` compares the value lists, as werkzeug's does
      (``MultiDict([("a", "1")]) == {"a": ["1"]}``).

    It is a :class:`dict` subclass (as werkzeug's is) that stores a list per
    key; every dict method that would expose or bypass those lists is
    overridden. A key whose list is empty (``setlist(k, [])``,
    ``setlistdefault(k)``) is in the dict but has no first value: lookups
    treat it as missing, and ``items()``, ``values()`` and ``to_dict()`` skip
    it where werkzeug raises :class:`IndexError`.
    """

    def __init__(
        self,
        mapping: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]] | None = None,
    ) -> None:
        """Build from pairs, a mapping or another MultiDict.

        In a mapping, a list, tuple or set value gives several values (an
        empty one gives none); any other value is one value.
        """
        if mapping is not None:
            self.update(mapping)

    # -- one value ---------------------------------------------------------------

    def __getitem__(self, key: str) -> t.Any:
        """The first value of ``key``; :class:`BadRequestKeyError` if there is none."""
        try:
            return _dict_getitem(self, key)[0]
        except (KeyError, IndexError):
            raise _missing(key) from None

    def __setitem__(self, key: str, value: t.Any) -> None:
        """Replace every value of ``key`` with ``value``."""
        _dict_setitem(self, key, [value])

    def get(
        self, key: str, default: t.Any = None, type: t.Callable[[t.Any], t.Any] | None = None
    ) -> t.Any:
        """Return the first value of ``key``, converted by ``type`` if given.

        A missing key, or a value that ``type`` rejects with
        :class:`ValueError` or :class:`TypeError`, gives ``default``.
        """
        # PERF: request.query.get(k) is on the hot path of many handlers;
        # one C-level dict lookup, no exception unless the key has no value.
        values = _dict_get(self, key)
        if not values:
            return default
        if type is None:
            return values[0]
        try:
            return type(values[0])
        except (ValueError, TypeError):
            return default

    def add(self, key: str, value: t.Any) -> None:
        """Append ``value`` to the values of ``key``."""
        _dict_setdefault(self, key, []).append(value)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        """The first value of ``key``, after setting it to ``default`` if absent."""
        if key not in self:
            _dict_setitem(self, key, [default])
        return self[key]

    def pop(self, key: str, default: t.Any = _MISSING) -> t.Any:
        """Remove ``key`` and return its first value (or ``default``).

        Without ``default`` a missing key raises :class:`BadRequestKeyError`.
        """
        values = _dict_pop(self, key, None)
        if values:
            return values[0]
        if default is not _MISSING:
            return default
        raise _missing(key)

    def popitem(self) -> tuple[str, t.Any]:
        """Remove the last key and return it with its first value."""
        try:
            key, values = _dict_popitem(self)
        except KeyError:
            raise KeyError("popitem(): the MultiDict is empty") from None
        if not values:
            raise _missing(key)
        return key, values[0]

    # -- every value ---------------------------------------------------------------

    def getlist(self, key: str, type: t.Callable[[t.Any], t.Any] | None = None) -> list[t.Any]:
        """A new list of the values of ``key`` (``[]`` if none).

        With ``type``, each value is converted; values it rejects with
        :class:`ValueError` or :class:`TypeError` are left out.
        """
        values = _dict_get(self, key, ())
        if type is None:
            return list(values)
        result = []
        for value in values:
            try:
                result.append(type(value))
            except (ValueError, TypeError):
                pass
        return result

    def setlist(self, key: str, new_list: t.Iterable[t.Any]) -> None:
        """Replace the values of ``key`` with a copy of ``new_list``."""
        _dict_setitem(self, key, list(new_list))

    def setlistdefault(
        self, key: str, default_list: t.Iterable[t.Any] | None = None
    ) -> list[t.Any]:
        """The stored value list of ``key``, set from ``default_list`` if absent.

        The list returned is the one stored: appending to it adds values.
        """
        if key not in self:
            _dict_setitem(self, key, list(default_list or ()))
        return _dict_getitem(self, key)

    def poplist(self, key: str) -> list[t.Any]:
        """Remove ``key`` and return all its values (``[]`` if absent)."""
        return _dict_pop(self, key, [])

    def popitemlist(self) -> tuple[str, list[t.Any]]:
        """Remove the last key and return it with all its values."""
        try:
            return _dict_popitem(self)
        except KeyError:
            raise KeyError("popitem(): the MultiDict is empty") from None

    def update(  # type: ignore[override]
        self,
        mapping: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]] = (),
        /,
        **kwargs: t.Any,
    ) -> None:
        """Add the values of ``mapping`` (and ``kwargs``): existing ones are kept.

        In a plain mapping, list, tuple and set values are several values.
        """
        setdefault = _dict_setdefault
        for key, value in _iter_multi_items(mapping):
            setdefault(self, key, []).append(value)
        for key, value in _iter_multi_items(kwargs):
            setdefault(self, key, []).append(value)

    def __or__(self, other: t.Any) -> MultiDict:  # type: ignore[override]
        """A copy of this MultiDict with the values of ``other`` added."""
        if not isinstance(other, t.Mapping):
            return NotImplemented
        merged = self.copy()
        merged.update(other)
        return merged

    def __ior__(self, other: t.Any) -> MultiDict:  # type: ignore[override]
        """Add the values of ``other`` (a mapping or pairs) in place."""
        if not isinstance(other, t.Mapping | t.Iterable):
            return NotImplemented
        self.update(other)
        return self

    # -- views -----------------------------------------------------------------------

    def __iter__(self) -> t.Iterator[str]:
        # Overriding __iter__ (even with dict's own) turns off CPython's fast
        # path in dict(md) and {**md}, which would copy the value lists;
        # they then use keys() and md[key]: the first values.
        return _dict_iter(self)

    def items(self, multi: bool = False) -> t.Iterator[tuple[str, t.Any]]:  # type: ignore[override]
        """``(key, first value)`` pairs, or with ``multi`` one pair per value."""
        for key, values in _dict_items(self):
            if multi:
                for value in values:
                    yield key, value
            elif values:
                yield key, values[0]

    def lists(self) -> t.Iterator[tuple[str, list[t.Any]]]:
        """``(key, list of values)`` pairs; the lists are copies."""
        for key, values in _dict_items(self):
            yield key, list(values)

    def values(self) -> t.Iterator[t.Any]:  # type: ignore[override]
        """The first value of each key."""
        for values in _dict_values(self):
            if values:
                yield values[0]

    def listvalues(self) -> t.Iterator[list[t.Any]]:
        """The list of values of each key (copies), in the order of ``keys()``."""
        for values in _dict_values(self):
            yield list(values)

    def to_dict(self, flat: bool = True) -> dict[str, t.Any]:
        """A plain dict: first values, or with ``flat=False`` lists of values."""
        if flat:
            return {k: v[0] for k, v in _dict_items(self) if v}
        return {k: list(v) for k, v in _dict_items(self)}

    # -- copies and pickles --------------------------------------------------------

    def copy(self) -> MultiDict:
        """A shallow copy: new value lists, the same values."""
        new = _new_dict(type(self))
        for key, values in _dict_items(self):
            _dict_setitem(new, key, list(values))
        return new

    def deepcopy(self, memo: dict[int, t.Any] | None = None) -> MultiDict:
        """A deep copy: the values are copied too."""
        return type(self)(copy.deepcopy(self.to_dict(flat=False), memo))

    def __copy__(self) -> MultiDict:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, t.Any]) -> MultiDict:
        return self.deepcopy(memo)

    def __getstate__(self) -> dict[str, list[t.Any]]:
        # pickle restores a dict subclass through __setitem__ (one value per
        # key) unless the state carries the lists; __setstate__ puts them back.
        return self.to_dict(flat=False)

    def __setstate__(self, state: dict[str, list[t.Any]]) -> None:
        dict.clear(self)
        dict.update(self, state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.items(multi=True))!r})"


_dict_getitem = dict.__getitem__
_dict_setitem = dict.__setitem__
_dict_get = dict.get
_dict_pop = dict.pop
_dict_popitem = dict.popitem
_dict_setdefault = dict.setdefault
_dict_items = dict.items
_dict_values = dict.values
_dict_iter = dict.__iter__
_new_dict = dict.__new__


def _multidict_from_lists(lists: dict[str, list[t.Any]]) -> MultiDict:
    """Wrap a freshly built ``{key: [values]}`` without copying it again.

    PERF: the parsers build their dict of lists directly; skipping
    ``MultiDict.__init__`` saves a Python call per parsed query.
    """
    md = _new_dict(MultiDict)
    dict.update(md, lists)
    return md


def _iter_multi_items(
    mapping: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]],
) -> t.Iterator[tuple[str, t.Any]]:
    if isinstance(mapping, MultiDict):
        yield from mapping.items(multi=True)
    elif isinstance(mapping, t.Mapping):
        for key, value in mapping.items():
            if isinstance(value, list | tuple | set):
                for item in value:
                    yield key, item
            else:
                yield key, value
    else:
        yield from mapping


def _missing(key: str, what: str = "field") -> KeyError:
    # Imported here: errors -> response -> datastructures would be a cycle.
    from .errors import BadRequestKeyError

    return BadRequestKeyError(key, what)


def _requote_invalid_utf8(exc: UnicodeError) -> tuple[str, int]:
    # Bytes of a percent escape that are not UTF-8 stay visible as %XX
    # (uppercase), as werkzeug 2.3+ does, instead of becoming U+FFFD.
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(f"%{byte:02X}" for byte in bad), exc.end


codecs.register_error("digwebs.url_quote", _requote_invalid_utf8)


def parse_qs(qs: str) -> MultiDict:
    """Parse a query string (or an urlencoded body) into a :class:`MultiDict`.

    The result equals werkzeug's (``urllib.parse.parse_qsl`` with blank
    values kept), which the test suite checks on random input: pairs split on
    ``&`` only; ``+`` is a space; a pair without ``=`` is a key with the value
    ``""``; empty pairs are skipped; invalid percent escapes (``%zz``) are
    kept as they are; escapes whose bytes are not UTF-8 stay percent-encoded
    (``%FF``).
    """
    if not qs:
        return _new_dict(MultiDict)
    if "%" in qs:
        # PERF: one C pass decodes every escape of the string at once.
        fast = _parse_urlencoded_bytes(qs.encode("utf-8"))
        if fast is not None:
            return fast
    parsed: dict[str, list[str]] = {}
    # PERF: unquoting is most of the cost; most query strings need none.
    plain = "%" not in qs
    if plain and "+" in qs:
        qs = qs.replace("+", " ")
    for pair in qs.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if not plain:
            key = unquote_plus(key, errors="digwebs.url_quote")
            value = unquote_plus(value, errors="digwebs.url_quote")
        values = parsed.get(key)
        if values is None:
            parsed[key] = [value]
        else:
            values.append(value)
    return _multidict_from_lists(parsed)


# _parse_urlencoded_bytes hands the whole string to binascii.a2b_qp, whose
# escapes are "=XX": "%" becomes "=" and the separators become bytes a
# urlencoded string does not hold, "=" -> NUL and "&" -> SOH ("+" -> space
# on the way). Decoding then cannot confuse a separator with an escaped one
# (%26, %3D), and a2b_qp leaves every other byte as it is but CR and LF after
# "=" (a soft line break, dropped): raw CR and LF become SOH too, so that the
# count of SOH sends such data to the slow path.
_TO_QP = bytes.maketrans(b"=&%+\r\n", b"\x00\x01= \x01\x01")
_a2b_qp = binascii.a2b_qp
_dict_update = dict.update


def _parse_urlencoded_bytes(data: bytes) -> MultiDict | None:
    """:func:`parse_qs` of ``data``, in one C decoding pass; ``None`` when
    that pass cannot give the same answer (then use :func:`parse_qs`).

    ``data`` must be valid UTF-8 (the caller checks: raw bytes that are not
    UTF-8 would come out percent-encoded, like escaped ones). ``None`` for an
    invalid or cut escape (``%zz``, ``%%``, a trailing ``%``), for raw CR or
    LF, and for NUL or SOH in ``data`` or decoded from an escape (``%00``,
    ``%01``: they would read as separators).
    """
    raw = _a2b_qp(data.translate(_TO_QP))
    # Every "%" that starts a valid escape shortens the text by exactly 2;
    # an invalid one by 0, "%%" by 1 for two, a trailing "%" by 1: a length
    # off by anything else means some escape was not a valid one. The
    # separator counts catch NUL/SOH/CR/LF in the data and NUL/SOH decoded
    # from %00/%01. (PERF: count and find, not ``in``, which for bytes first
    # tries its argument as an int.)
    if len(raw) != len(data) - 2 * data.count(b"%") or raw.count(b"\x00") != data.count(b"="):
        return None
    # Decoding the whole text at once gives what decoding each key and value
    # would: the separators are ASCII, so no UTF-8 sequence spans two of
    # them, and bytes of escapes that are not UTF-8 stay %XX either way.
    pairs = raw.decode("utf-8", "digwebs.url_quote").split("\x01")
    if len(pairs) != data.count(b"&") + 1:  # the SOH count (the text has no other)
        return None
    parsed: dict[str, list[str]] = {}
    for pair in pairs:
        if not pair:
            continue
        key, _, value = pair.partition("\x00")
        if "\x00" in value:  # "k=a=b": the value keeps its "="
            value = value.replace("\x00", "=")
        values = parsed.get(key)
        if values is None:
            parsed[key] = [value]
        else:
            values.append(value)
    md = _new_dict(MultiDict)  # PERF: _multidict_from_lists, inlined
    _dict_update(md, parsed)
    return md


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
            raise _missing(name, "header")
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
        """Read up to ``size`` bytes of the upload (all that is left by default)."""
        return self.stream.read(size)

    def save(
        self, destination: str | os.PathLike[str] | t.BinaryIO, chunk_size: int = 64 * 1024
    ) -> None:
        """Copy the whole upload to a path or to a writable binary file.

        The stream is rewound first, so an upload already partly read is
        saved whole.

        :param destination: a path (``str`` or :class:`os.PathLike`, such as
            :class:`pathlib.Path`), created or truncated, or a binary file
            object opened for writing.
        :param chunk_size: how many bytes are copied at a time.
        """
        self.stream.seek(0)
        if isinstance(destination, str | os.PathLike):
            with open(destination, "wb") as out:
                self._copy(out, chunk_size)
        else:
            self._copy(destination, chunk_size)

    def _copy(self, out: t.BinaryIO, chunk_size: int) -> None:
        while chunk := self.stream.read(chunk_size):
            out.write(chunk)

    def __repr__(self) -> str:
        return f"<FileStorage {self.filename!r} ({self.content_type})>"
