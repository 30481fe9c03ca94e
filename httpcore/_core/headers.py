"""``Headers``: the case-insensitive multi-dict of request and response headers.

Storage is one list of ``(name, lower_name, value)`` str triples in insertion
order (``name`` keeps the case it was given in, for ``.raw``). Two caches hang
off it and are dropped on every mutation:

- ``_index``: ``lower_name -> [values]``, built on the first lookup, so that
  lookups cost one dict access however many headers there are;
- ``_raw``: the ``(bytes, bytes)`` wire form, built on the first ``.raw`` (or
  given as is by ``_from_trusted_raw``, so a response's headers are never
  re-encoded).

Bytes are decoded as latin-1, which maps every byte to one character, and a
value that came as bytes with a non-ASCII byte is kept as a `_Latin1` str, so
``.raw`` gives back the bytes that were given or received. Any other str value
is sent as UTF-8: one rule, the same on HTTP/1.1 and HTTP/2.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from typing import TypeVar, Union, overload

from .exceptions import LocalProtocolError

__all__ = ["HeaderTypes", "Headers"]

HeaderTypes = Union[
    "Headers",
    Mapping[str, str | bytes],
    Mapping[bytes, str | bytes],
    Mapping[str | bytes, str | bytes],
    Sequence[tuple[str | bytes, str | bytes]],
    None,
]

_T = TypeVar("_T")

# RFC 7230 §3.2.6 token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Control characters other than HTAB (RFC 7230 §3.2: field-vchar, obs-text, SP, HTAB only).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SECURE = frozenset({"authorization", "proxy-authorization"})

# Programs and servers use the same few names over and over, so these caches
# skip the regex (names already validated -> lower-case form) and the decoding
# (wire names -> (name, lower-case form)) on nearly every call. Cleared when full.
_NAMES_CACHE_MAX = 1024
_VALID_NAMES: dict[str, str] = {}
_RAW_NAMES: dict[bytes, tuple[str, str]] = {}


class _Latin1(str):
    """A header value that came as bytes: sent as those bytes again (latin-1)."""

    __slots__ = ()


def as_received(value: str) -> str:
    """`value` marked to be sent as latin-1 when it can be.

    For text that came from received bytes, read as latin-1 (a cookie value a
    server set): it then goes back as exactly those bytes, not as UTF-8.
    """
    if value.isascii():
        return value
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return value
    return _Latin1(value)


def _check_name(key: object) -> tuple[str, str]:
    if isinstance(key, str):
        name = key
    elif isinstance(key, bytes):
        name = key.decode("latin-1")
    else:
        raise TypeError(f"Header names must be str or bytes, not {type(key).__name__}")
    lower = _VALID_NAMES.get(name)
    if lower is None:
        if _TOKEN.fullmatch(name) is None:
            raise LocalProtocolError(
                f"Invalid header name {name!r}: a name must be a non-empty RFC 7230 token"
            )
        lower = name.lower()
        if len(_VALID_NAMES) >= _NAMES_CACHE_MAX:
            _VALID_NAMES.clear()
        _VALID_NAMES[name] = lower
    return name, lower


def _check_value(name: str, value: object) -> str:
    if isinstance(value, str):
        from_bytes = type(value) is _Latin1
        text = value.strip(" \t")
    elif isinstance(value, bytes):
        from_bytes = not value.isascii()
        text = value.decode("latin-1").strip(" \t")
    else:
        raise TypeError(
            f"Value of header {name!r} must be str or bytes, not {type(value).__name__}"
        )
    # isprintable() is False for every control character, so the regex only
    # runs for values with a TAB, non-ASCII spaces or an actual error.
    if not text.isprintable():
        bad = _CONTROL.search(text)
        if bad is not None:
            raise LocalProtocolError(
                f"Invalid value for header {name!r}: control character {bad.group()!r} "
                f"at position {bad.start()}"
            )
    return _Latin1(text) if from_bytes else text


def _normalize(key: object, value: object) -> tuple[str, str, str]:
    name, lower = _check_name(key)
    return name, lower, _check_value(name, value)


def _items_from_pairs(pairs: Iterable[Sequence[object]]) -> list[tuple[str, str, str]]:
    items: list[tuple[str, str, str]] = []
    append = items.append
    known = _VALID_NAMES
    for key, value in pairs:
        if type(key) is bytes:
            key = key.decode("latin-1")
        if type(value) is bytes and value.isascii():
            value = value.decode("ascii")
        # Fast path for the usual case: a name seen before and a plain printable value.
        if type(key) is str and type(value) is str:
            lower = known.get(key)
            if lower is not None:
                text = value.strip(" \t")
                if text.isprintable():
                    append((key, lower, text))
                    continue
        append(_normalize(key, value))
    return items


def _decode_raw_name(raw_name: bytes) -> tuple[str, str]:
    name = raw_name.decode("latin-1")
    pair = (name, name.lower())
    if len(_RAW_NAMES) >= _NAMES_CACHE_MAX:
        _RAW_NAMES.clear()
    _RAW_NAMES[raw_name] = pair
    return pair


def _encode_value(value: str) -> bytes:
    if type(value) is _Latin1:
        return value.encode("latin-1")
    return value.encode("utf-8")


def _joined(values: list[str]) -> str:
    """The values of one name as one str; a single value is returned as itself, so
    a received non-ASCII value keeps going back as the bytes it came as."""
    return values[0] if len(values) == 1 else ", ".join(values)


def _lower_key(key: object) -> str:
    """The lower-case form of a lookup key; "" (never a name) when it cannot be one."""
    if isinstance(key, str):
        # Names are ASCII; without this check "\u212a" (Kelvin sign) would find "k".
        return key.lower() if key.isascii() else ""
    if isinstance(key, bytes):
        return key.decode("latin-1").lower()
    return ""


# Up to this many headers, a lookup right after a change scans the list rather
# than rebuilding the index (which the next change would throw away again).
_SCAN_LIMIT = 12


class Headers(MutableMapping[str, str]):
    """A case-insensitive multi-dict of HTTP headers.

    Built from ``None``, a dict, a list or tuple of ``(name, value)`` pairs
    (str or bytes; bytes are decoded as latin-1 and sent as given; str values
    are sent as UTF-8) or another ``Headers`` (copied). Insertion order and the
    case of names are kept for ``.raw``; every other view uses lower-case
    names. Leading and trailing spaces and tabs of values are dropped.

    As a mapping it has one key per distinct name: ``h[name]`` joins all the
    values of that name with ``", "``, and ``len(h)`` counts distinct names.
    ``.getlist()``, ``.multi_items()`` and ``.raw`` show every value.

    Raises ``LocalProtocolError`` (naming the header) for a name that is not an
    RFC 7230 token or a value with a control character other than TAB, and
    ``TypeError`` for names or values that are neither str nor bytes.
    """

    __slots__ = ("_index", "_items", "_raw")

    _items: list[tuple[str, str, str]]
    _index: dict[str, list[str]] | None
    _raw: list[tuple[bytes, bytes]] | None

    def __init__(self, headers: HeaderTypes = None) -> None:
        self._index = None
        self._raw = None
        if headers is None:
            self._items = []
        elif isinstance(headers, Headers):
            self._items = list(headers._items)
            self._raw = headers._raw  # never mutated in place, so it can be shared
        elif type(headers) is dict or isinstance(headers, Mapping):
            self._items = _items_from_pairs(headers.items())
        elif isinstance(headers, (str, bytes)):
            raise TypeError(f"Headers cannot be built from a {type(headers).__name__}")
        else:
            pairs = list(headers)
            for pair in pairs:
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise TypeError(f"Header items must be (name, value) pairs, not {pair!r}")
            self._items = _items_from_pairs(pairs)

    @classmethod
    def _from_trusted_raw(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """Build from wire headers that h11/h2 have already validated (no checks, no stripping).

        A list is kept as ``.raw``, so it must not be mutated afterwards.
        """
        self = cls.__new__(cls)
        raw = raw if type(raw) is list else list(raw)
        self._raw = raw
        self._index = None
        items: list[tuple[str, str, str]] = []
        append = items.append
        names = _RAW_NAMES
        for raw_name, raw_value in raw:
            name = names.get(raw_name)
            if name is None:
                name = _decode_raw_name(raw_name)
            value = raw_value.decode("latin-1")
            append((name[0], name[1], value if raw_value.isascii() else _Latin1(value)))
        self._items = items
        return self

    def _build_index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for _, lower, value in self._items:
            values = index.get(lower)
            if values is None:
                index[lower] = [value]
            else:
                values.append(value)
        self._index = index
        return index

    def _changed(self) -> None:
        self._index = None
        self._raw = None

    # -- reading ---------------------------------------------------------------

    def __getitem__(self, key: str | bytes) -> str:
        """All values of ``key`` joined by ``", "``; ``KeyError`` if there are none."""
        index = self._index
        if index is None:
            index = self._build_index()
        values = index.get(_lower_key(key))
        if values is None:
            raise KeyError(key)
        return _joined(values)

    @overload
    def get(self, key: str | bytes) -> str | None: ...

    @overload
    def get(self, key: str | bytes, default: str | _T) -> str | _T: ...

    def get(self, key: str | bytes, default: object = None) -> object:
        """All values of ``key`` joined by ``", "``, or ``default`` if there are none."""
        index = self._index
        if index is None:
            if len(self._items) <= _SCAN_LIMIT:
                lower = _lower_key(key)
                found = [value for _, name, value in self._items if name == lower]
                return _joined(found) if found else default
            index = self._build_index()
        values = index.get(_lower_key(key))
        if values is None:
            return default
        return _joined(values)

    def getlist(self, key: str | bytes) -> list[str]:
        """Every value of ``key`` in order; an empty list if there are none."""
        index = self._index
        if index is None:
            index = self._build_index()
        return list(index.get(_lower_key(key), ()))

    def __contains__(self, key: object) -> bool:
        index = self._index
        if index is None:
            if len(self._items) <= _SCAN_LIMIT:
                lower = _lower_key(key)
                return any(name == lower for _, name, _ in self._items)
            index = self._build_index()
        return _lower_key(key) in index

    def __iter__(self) -> Iterator[str]:
        """The distinct lower-case names, in order of first appearance."""
        index = self._index
        if index is None:
            index = self._build_index()
        return iter(index)

    def __len__(self) -> int:
        """The number of distinct names."""
        index = self._index
        if index is None:
            index = self._build_index()
        return len(index)

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(lower-case name, value)`` pair, in order."""
        return [(lower, value) for _, lower, value in self._items]

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """Every ``(name, value)`` pair as bytes, names in their original case, in order."""
        raw = self._raw
        if raw is None:
            raw = self._raw = [
                (name.encode("latin-1"), _encode_value(value)) for name, _, value in self._items
            ]
        return list(raw)

    def copy(self) -> Headers:
        """An independent copy."""
        return Headers(self)

    # -- writing ---------------------------------------------------------------

    def __setitem__(self, key: str | bytes, value: str | bytes) -> None:
        """Replace every value of ``key`` with ``value``, where the first one was (else append)."""
        item = _normalize(key, value)
        self._replace(item[1], [item])

    def _replace(self, lower: str, new: list[tuple[str, str, str]]) -> None:
        """Put ``new`` where the first item named ``lower`` is and drop the others (or append)."""
        items = self._items
        kept: list[tuple[str, str, str]] = []
        found = False
        for item in items:
            if item[1] != lower:
                kept.append(item)
            elif not found:
                found = True
                kept.extend(new)
        if not found:
            kept.extend(new)
        self._items = kept
        self._changed()

    def __delitem__(self, key: str | bytes) -> None:
        """Remove every value of ``key``; ``KeyError`` if there are none."""
        lower = _lower_key(key)
        kept = [item for item in self._items if item[1] != lower]
        if len(kept) == len(self._items):
            raise KeyError(key)
        self._items = kept
        self._changed()

    def update(self, headers: HeaderTypes = None, /, **kwargs: str | bytes) -> None:  # type: ignore[override]
        """Set every name of ``headers`` (then of ``kwargs``), replacing its values here.

        A name repeated in ``headers`` keeps all its values.
        """
        for source in (headers, kwargs):
            other = source if isinstance(source, Headers) else Headers(source)
            grouped: dict[str, list[tuple[str, str, str]]] = {}
            for item in other._items:
                grouped.setdefault(item[1], []).append(item)
            for lower, new in grouped.items():
                self._replace(lower, new)

    def setdefault(self, key: str | bytes, default: str | bytes = "") -> str:
        """Return ``self[key]``, first setting it to ``default`` if absent."""
        value = self.get(key)
        if value is None:
            self[key] = default
            value = self[key]
        return value

    def clear(self) -> None:
        """Remove every header."""
        self._items = []
        self._changed()

    # -- comparing and showing ------------------------------------------------

    def __eq__(self, other: object) -> bool:
        """Equal when both hold the same (lower-case name, value) pairs, in any order.

        ``other`` may be a ``Headers``, a mapping or a list/tuple of pairs.
        """
        if not isinstance(other, Headers):
            if not isinstance(other, (Mapping, list, tuple)):
                return NotImplemented
            try:
                other = Headers(other)
            except (LocalProtocolError, TypeError):
                return False
        if len(self._items) != len(other._items):
            return False
        return sorted(self.multi_items()) == sorted(other.multi_items())

    def __repr__(self) -> str:
        items = [
            (lower, "[secure]" if lower in _SECURE else value) for _, lower, value in self._items
        ]
        as_dict = dict(items)
        shown: object = as_dict if len(as_dict) == len(items) else items
        return f"{type(self).__name__}({shown!r})"
