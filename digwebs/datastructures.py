"""Multi-valued mappings: :class:`MultiDict` and the query/form parser :func:`parse_qs`.

The request's headers and the response's header list are in
:mod:`digwebs.headers`, uploaded files in :mod:`digwebs.uploads`; their
classes stay importable from here, where they were first defined.
"""

from __future__ import annotations

import binascii
import codecs
import copy
import typing as t
from urllib.parse import unquote_plus

# Re-exported: users import them from here (issue 10 item 8).
from .headers import EnvironHeaders as EnvironHeaders
from .headers import Headers as Headers
from .headers import _check_header_value as _check_header_value
from .uploads import FileStorage as FileStorage

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
