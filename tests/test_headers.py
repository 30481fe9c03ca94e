from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpcore._core import headers as _headers
from httpcore._core.exceptions import LocalProtocolError
from httpcore._core.headers import Headers

# -- construction --------------------------------------------------------------


def _pairs() -> Iterator[tuple[str, str]]:
    yield ("A", "1")
    yield ("b", "2")


@pytest.mark.parametrize(
    "source",
    [
        {"A": "1", "b": "2"},
        {b"A": b"1", b"b": b"2"},
        {"A": b"1", b"b": "2"},
        [("A", "1"), ("b", "2")],
        [(b"A", b"1"), (b"b", b"2")],
        (("A", "1"), ("b", "2")),
        [["A", "1"], ["b", "2"]],
        _pairs(),
        Headers({"A": "1", "b": "2"}),
    ],
    ids=[
        "dict-str",
        "dict-bytes",
        "dict-mixed",
        "list-str",
        "list-bytes",
        "tuple",
        "list-of-lists",
        "generator",
        "headers",
    ],
)
def test_construct_from_every_source(source: Any) -> None:
    h = Headers(source)
    assert h.multi_items() == [("a", "1"), ("b", "2")]
    assert h.raw == [(b"A", b"1"), (b"b", b"2")]


def test_construct_empty() -> None:
    for h in (Headers(), Headers(None), Headers({}), Headers([])):
        assert len(h) == 0
        assert h.raw == []
        assert list(h) == []
        assert h == {}


def test_construct_from_headers_copies() -> None:
    original = Headers([("A", "1"), ("A", "2")])
    copy = Headers(original)
    copy["A"] = "3"
    copy["B"] = "4"
    assert original.multi_items() == [("a", "1"), ("a", "2")]
    assert original.raw == [(b"A", b"1"), (b"A", b"2")]
    assert copy.multi_items() == [("a", "3"), ("b", "4")]


def test_copy_method_is_independent() -> None:
    original = Headers({"X": "1"})
    copy = original.copy()
    assert type(copy) is Headers
    assert copy == original
    del copy["x"]
    assert original["x"] == "1"
    assert "x" not in copy


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Accept: */*", "cannot be built from a str"),
        (b"Accept: */*", "cannot be built from a bytes"),
        ([("a", "1", "2")], "must be (name, value) pairs"),
        ([("a",)], "must be (name, value) pairs"),
        (["ab"], "must be (name, value) pairs"),
        ([1], "must be (name, value) pairs"),
        ({1: "x"}, "names must be str or bytes, not int"),
        ([(None, "x")], "names must be str or bytes, not NoneType"),
        ({"a": 1}, "Value of header 'a' must be str or bytes, not int"),
        ([("a", None)], "Value of header 'a' must be str or bytes, not NoneType"),
    ],
)
def test_construct_type_errors(source: Any, message: str) -> None:
    with pytest.raises(TypeError) as info:
        Headers(source)
    assert message in str(info.value)


def test_bytes_are_decoded_as_latin1_and_round_trip() -> None:
    h = Headers([(b"X-Name", b"caf\xc3\xa9 \xff")])
    assert h["x-name"] == "caf\xc3\xa9 \xff"
    assert h.raw == [(b"X-Name", b"caf\xc3\xa9 \xff")]


@pytest.mark.parametrize(
    ("value", "raw"),
    [
        ("plain", b"plain"),
        ("café", b"caf\xc3\xa9"),  # str values are sent as UTF-8, latin-1 or not
        ("€uro", "€uro".encode()),
        ("snow ☃", b"snow \xe2\x98\x83"),
    ],
)
def test_raw_encoding_of_str_values(value: str, raw: bytes) -> None:
    h = Headers({"X-Value": value})
    assert h["x-value"] == value
    assert h.raw == [(b"X-Value", raw)]


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("  a  ", "a"),
        ("\ta b\t", "a b"),
        (b" \t x \t ", "x"),
        ("   ", ""),
        ("", ""),
        ("a\tb", "a\tb"),
    ],
)
def test_values_are_stripped(value: str | bytes, stored: str) -> None:
    h = Headers({"X": value})
    assert h["x"] == stored
    h["y"] = value
    assert h["y"] == stored


def test_raw_keeps_order_and_case_and_is_a_copy() -> None:
    h = Headers([("Content-Type", "a"), ("X-B", "b"), ("content-type", "c")])
    raw = h.raw
    assert raw == [(b"Content-Type", b"a"), (b"X-B", b"b"), (b"content-type", b"c")]
    raw.append((b"Z", b"z"))
    assert len(h.raw) == 3


# -- reading ---------------------------------------------------------------------


@pytest.fixture
def multi() -> Headers:
    return Headers(
        [("Accept", "a/b"), ("Set-Cookie", "a=1"), ("X-Empty", ""), ("set-cookie", "b=2")]
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("accept", "a/b"),
        ("ACCEPT", "a/b"),
        ("Accept", "a/b"),
        (b"accept", "a/b"),
        (b"ACCEPT", "a/b"),
        ("set-cookie", "a=1, b=2"),
        ("Set-Cookie", "a=1, b=2"),
        ("x-empty", ""),
    ],
)
def test_getitem_and_get(multi: Headers, key: str | bytes, value: str) -> None:
    assert multi[key] == value
    assert multi.get(key) == value
    assert multi.get(key, "default") == value
    assert key in multi


@pytest.mark.parametrize("key", ["missing", b"missing", "", "accept ", "\u212a", b"\xc9", 1, None])
def test_missing_keys(multi: Headers, key: Any) -> None:
    multi["K"] = "kelvin"  # "\u212a".lower() == "k", but that is no header name
    with pytest.raises(KeyError) as info:
        multi[key]
    assert info.value.args == (key,)
    assert multi.get(key) is None
    assert multi.get(key, "fallback") == "fallback"
    assert multi.getlist(key) == []
    assert key not in multi


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("set-cookie", ["a=1", "b=2"]),
        ("SET-COOKIE", ["a=1", "b=2"]),
        (b"Set-Cookie", ["a=1", "b=2"]),
        ("accept", ["a/b"]),
        ("x-empty", [""]),
        ("missing", []),
    ],
)
def test_getlist(multi: Headers, key: str | bytes, values: list[str]) -> None:
    result = multi.getlist(key)
    assert result == values
    result.append("mutated")
    assert multi.getlist(key) == values


def test_mapping_views(multi: Headers) -> None:
    assert list(multi) == ["accept", "set-cookie", "x-empty"]
    assert len(multi) == 3
    assert list(multi.keys()) == ["accept", "set-cookie", "x-empty"]
    assert list(multi.values()) == ["a/b", "a=1, b=2", ""]
    assert list(multi.items()) == [("accept", "a/b"), ("set-cookie", "a=1, b=2"), ("x-empty", "")]
    assert multi.keys() & {"accept", "other"} == {"accept"}
    assert ("accept", "a/b") in multi.items()


def test_multi_items(multi: Headers) -> None:
    assert multi.multi_items() == [
        ("accept", "a/b"),
        ("set-cookie", "a=1"),
        ("x-empty", ""),
        ("set-cookie", "b=2"),
    ]


def test_headers_are_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Headers())


# -- writing ---------------------------------------------------------------------


START = [(b"A", b"1"), (b"Set-Cookie", b"1"), (b"B", b"2"), (b"set-cookie", b"2")]


@pytest.mark.parametrize(
    ("key", "value", "stored", "raw"),
    [
        # Replaces every value, at the position of the first, in the new spelling.
        ("SET-COOKIE", "c=3", "c=3", [(b"A", b"1"), (b"SET-COOKIE", b"c=3"), (b"B", b"2")]),
        ("a", b"x", "x", [(b"a", b"x"), *START[1:]]),
        (b"B", " y ", "y", [*START[:2], (b"B", b"y"), START[3]]),
        # A new name goes at the end.
        ("New", "n", "n", [*START, (b"New", b"n")]),
    ],
)
def test_setitem(
    key: str | bytes, value: str | bytes, stored: str, raw: list[tuple[bytes, bytes]]
) -> None:
    h = Headers(START)
    assert h["a"] == "1"  # builds the lookup index: the test also shows it is refreshed
    h[key] = value
    assert h.raw == raw
    assert h[key] == stored
    assert h.getlist(key) == [stored]


@pytest.mark.parametrize("key", ["set-cookie", "Set-Cookie", b"SET-COOKIE"])
def test_delitem(key: str | bytes) -> None:
    h = Headers([("Set-Cookie", "1"), ("A", "x"), ("set-cookie", "2")])
    assert h.raw  # fill the raw cache, so the test also shows it is refreshed
    del h[key]
    assert h.raw == [(b"A", b"x")]
    assert "set-cookie" not in h
    assert len(h) == 1


@pytest.mark.parametrize("key", ["missing", b"missing", 3])
def test_delitem_missing(key: Any) -> None:
    h = Headers({"A": "1"})
    with pytest.raises(KeyError):
        del h[key]
    assert h.raw == [(b"A", b"1")]


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        ({"b": "new"}, [("a", "1"), ("b", "new"), ("c", "3")]),
        ({"D": "4"}, [("a", "1"), ("b", "2"), ("c", "3"), ("b", "2b"), ("d", "4")]),
        (
            [("B", "x"), ("D", "4"), ("b", "y")],
            [("a", "1"), ("b", "x"), ("b", "y"), ("c", "3"), ("d", "4")],
        ),
        (Headers({"A": "z", "C": "w"}), [("a", "z"), ("b", "2"), ("c", "w"), ("b", "2b")]),
        (None, [("a", "1"), ("b", "2"), ("c", "3"), ("b", "2b")]),
        ({}, [("a", "1"), ("b", "2"), ("c", "3"), ("b", "2b")]),
    ],
)
def test_update(other: Any, expected: list[tuple[str, str]]) -> None:
    h = Headers([("A", "1"), ("B", "2"), ("C", "3"), ("b", "2b")])
    h.update(other)
    assert h.multi_items() == expected


def test_update_with_keywords() -> None:
    h = Headers({"a": "1", "b": "2"})
    h.update({"a": "x"}, b="y", c="z")
    assert h.multi_items() == [("a", "x"), ("b", "y"), ("c", "z")]


@pytest.mark.parametrize(
    ("key", "default", "result", "raw"),
    [
        ("A", "ignored", "1", [(b"A", b"1")]),
        ("a", "ignored", "1", [(b"A", b"1")]),
        ("B", "2", "2", [(b"A", b"1"), (b"B", b"2")]),
        (b"B", b" 2 ", "2", [(b"A", b"1"), (b"B", b"2")]),
    ],
)
def test_setdefault(
    key: str | bytes, default: str, result: str, raw: list[tuple[bytes, bytes]]
) -> None:
    h = Headers({"A": "1"})
    assert h.setdefault(key, default) == result
    assert h.raw == raw


def test_setdefault_without_default_sets_empty_value() -> None:
    h = Headers()
    assert h.setdefault("X") == ""
    assert h.raw == [(b"X", b"")]


def test_clear_pop_and_popitem() -> None:
    h = Headers([("A", "1"), ("B", "2"), ("a", "3")])
    assert h.pop("a") == "1, 3"
    assert h.pop("a", "gone") == "gone"
    assert h.popitem() == ("b", "2")
    assert len(h) == 0
    h.update({"C": "3", "D": "4"})
    h.clear()
    assert h.raw == []
    assert "c" not in h


# -- validation ------------------------------------------------------------------

BAD_NAMES = [
    "",
    b"",
    "with space",
    "colon:",
    "tab\tname",
    "cr\r",
    "lf\n",
    "nul\x00",
    "crlf\r\nX-Injected",
    "del\x7f",
    'quote"',
    "paren(",
    "slash/",
    "at@",
    "brace{",
    "comma,",
    "semi;",
    "eq=",
    "café",
    b"caf\xe9",
    b"bad name",
]

GOOD_NAMES = ["a", "X-Custom", "!#$%&'*+-.^_`|~", "0abc", "A" * 200]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_invalid_names(name: str | bytes) -> None:
    shown = repr(name.decode("latin-1") if isinstance(name, bytes) else name)
    for build in (
        lambda: Headers({name: "v"}),
        lambda: Headers([(name, "v")]),
        lambda: Headers().__setitem__(name, "v"),
        lambda: Headers().update({name: "v"}),
        lambda: Headers().setdefault(name, "v"),
    ):
        with pytest.raises(LocalProtocolError) as info:
            build()
        assert f"Invalid header name {shown}" in str(info.value)


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_valid_names(name: str) -> None:
    h = Headers({name: "v"})
    assert h[name.upper()] == "v"
    assert h.raw == [(name.encode(), b"v")]


BAD_VALUES = [
    ("a\rb", "'\\r' at position 1"),
    ("a\nb", "'\\n' at position 1"),
    ("a\r\nX-Injected: 1", "'\\r' at position 1"),
    ("\x00", "'\\x00' at position 0"),
    ("x\x01", "'\\x01' at position 1"),
    ("x\x08", "'\\x08' at position 1"),
    ("x\x0b", "'\\x0b' at position 1"),
    ("x\x1f", "'\\x1f' at position 1"),
    ("x\x7f", "'\\x7f' at position 1"),
    ("value\n", "'\\n' at position 5"),
    (" \nvalue", "'\\n' at position 0"),
    (b"a\r\nb", "'\\r' at position 1"),
    (b"\x00", "'\\x00' at position 0"),
]

GOOD_VALUES = ["a\tb", "\xa0nbsp\xa0", "caf\xe9", "\x85", "€", 'quoted "x" ; a=b, c', ""]


@pytest.mark.parametrize(("value", "detail"), BAD_VALUES)
def test_invalid_values(value: str | bytes, detail: str) -> None:
    for build in (
        lambda: Headers({"X-Bad": value}),
        lambda: Headers([("X-Bad", value)]),
        lambda: Headers().__setitem__("X-Bad", value),
        lambda: Headers().update({"X-Bad": value}),
        lambda: Headers().setdefault("X-Bad", value),
    ):
        with pytest.raises(LocalProtocolError) as info:
            build()
        assert str(info.value) == f"Invalid value for header 'X-Bad': control character {detail}"


@pytest.mark.parametrize("value", GOOD_VALUES)
def test_valid_values(value: str) -> None:
    assert Headers({"X": value})["x"] == value.strip(" \t")


def test_failed_set_leaves_headers_unchanged() -> None:
    h = Headers({"A": "1"})
    with pytest.raises(LocalProtocolError):
        h["A"] = "bad\n"
    with pytest.raises(LocalProtocolError):
        h.update([("B", "2"), ("C", "bad\r")])
    assert h.raw == [(b"A", b"1")]


def test_name_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_headers, "_VALID_NAMES", {})
    monkeypatch.setattr(_headers, "_NAMES_CACHE_MAX", 4)
    h = Headers([(f"X-{i}", str(i)) for i in range(10)])
    assert len(_headers._VALID_NAMES) <= 4
    assert h.getlist("x-9") == ["9"]
    assert len(h) == 10


# -- trusted wire headers ------------------------------------------------------------


def test_from_trusted_raw() -> None:
    raw = [(b"Content-Type", b"text/html"), (b"set-cookie", b"a=1"), (b"Set-Cookie", b"b=\xff")]
    h = Headers._from_trusted_raw(raw)
    assert type(h) is Headers
    assert h.raw == raw
    assert h["content-type"] == "text/html"
    assert h.getlist("SET-COOKIE") == ["a=1", "b=\xff"]
    assert h == Headers(raw)
    h["X"] = "1"  # mutable like any other
    assert h.raw == [*raw, (b"X", b"1")]
    assert raw == [
        (b"Content-Type", b"text/html"),
        (b"set-cookie", b"a=1"),
        (b"Set-Cookie", b"b=\xff"),
    ]


def test_from_trusted_raw_accepts_any_iterable_and_does_not_validate() -> None:
    h = Headers._from_trusted_raw(iter([(b":status", b"200"), (b"x", b" padded ")]))
    assert h.raw == [(b":status", b"200"), (b"x", b" padded ")]
    assert h["x"] == " padded "


def test_raw_name_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_headers, "_RAW_NAMES", {})
    monkeypatch.setattr(_headers, "_NAMES_CACHE_MAX", 4)
    h = Headers._from_trusted_raw([(f"X-{i}".encode(), b"v") for i in range(10)] * 2)
    assert len(_headers._RAW_NAMES) <= 4
    assert h.getlist("x-9") == ["v", "v"]


# -- comparing and showing -------------------------------------------------------


@pytest.mark.parametrize(
    "other",
    [
        Headers([("b", "2"), ("A", "1"), ("a", "3")]),
        {"A": "1", "B": "2"},
        [("a", "1"), ("B", "2"), ("a", "3")],
        (("a", "3"), ("b", "2"), ("a", "1")),
        [(b"A", b"3"), (b"B", b" 2 "), (b"A", b"1")],
    ],
)
def test_equality(other: Any) -> None:
    h = Headers([("A", "1"), ("B", "2"), ("a", "3")])
    if isinstance(other, dict):
        h = Headers([("A", "1"), ("B", "2")])
    assert h == other
    assert other == h
    assert (h != other) is False


@pytest.mark.parametrize(
    "other",
    [
        Headers([("A", "1"), ("B", "2")]),
        {"A": "1", "B": "2", "C": "3"},
        [("A", "1"), ("B", "2"), ("A", "4")],
        [("A", "1"), ("B", "2"), ("B", "3")],
        [("a", "1, 3"), ("b", "2")],
        [("bad name", "x")],
        [("a", "bad\n")],
        [("a",)],
        [],
    ],
)
def test_inequality(other: Any) -> None:
    h = Headers([("A", "1"), ("B", "2"), ("a", "3")])
    assert h != other
    assert (h == other) is False


@pytest.mark.parametrize("other", [None, 1, "a: 1", b"a: 1", object()])
def test_equality_with_other_types_is_false(other: object) -> None:
    h = Headers({"a": "1"})
    assert h != other
    assert h.__eq__(other) is NotImplemented


@pytest.mark.parametrize(
    ("headers", "text"),
    [
        (Headers(), "Headers({})"),
        (Headers({"Accept": "*/*"}), "Headers({'accept': '*/*'})"),
        (Headers({"Authorization": "Bearer abc"}), "Headers({'authorization': '[secure]'})"),
        (
            Headers({"proxy-AUTHORIZATION": "Basic xyz", "X": "1"}),
            "Headers({'proxy-authorization': '[secure]', 'x': '1'})",
        ),
        (
            Headers([("A", "1"), ("a", "2"), ("Authorization", "s")]),
            "Headers([('a', '1'), ('a', '2'), ('authorization', '[secure]')])",
        ),
    ],
)
def test_repr(headers: Headers, text: str) -> None:
    assert repr(headers) == text
    assert "abc" not in repr(headers)


# -- properties ----------------------------------------------------------------------

TOKEN_CHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
names = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=20)
# Values as stored: no control characters but TAB, no surrounding spaces or tabs.
latin1_values = st.text(
    alphabet=st.characters(min_codepoint=0x09, max_codepoint=0xFF).filter(
        lambda c: c == "\t" or (c >= " " and c != "\x7f")
    ),
    max_size=30,
).map(lambda v: v.strip(" \t"))
any_values = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30).map(
    lambda v: v.strip(" \t")
)
pair_lists = st.lists(st.tuples(names, latin1_values), max_size=12)


@given(
    name=names,
    flips=st.lists(st.booleans(), min_size=20, max_size=20),
    values=st.lists(latin1_values, min_size=1, max_size=4),
)
def test_any_casing_of_a_name_finds_the_same_values(
    name: str, flips: list[bool], values: list[str]
) -> None:
    other = "".join(c.swapcase() if flip else c for c, flip in zip(name, flips, strict=False))
    h = Headers([("Other-Name-", "x"), *((name, v) for v in values)])
    assert h.getlist(other) == values
    assert h[other] == h[name] == ", ".join(values)
    assert other in h
    assert h.get(other.encode()) == ", ".join(values)


@given(pairs=st.lists(st.tuples(names, any_values), max_size=12))
def test_stored_values_and_raw(pairs: list[tuple[str, str]]) -> None:
    h = Headers(pairs)
    assert h.multi_items() == [(n.lower(), v) for n, v in pairs]
    for (name, value), (raw_name, raw_value) in zip(pairs, h.raw, strict=True):
        assert raw_name == name.encode("ascii")
        assert raw_value == value.encode("utf-8")


@given(pairs=pair_lists)
def test_round_trip_through_raw(pairs: list[tuple[str, str]]) -> None:
    h = Headers(pairs)
    again = Headers(h.raw)
    assert again.raw == h.raw  # bytes are sent as given
    assert Headers._from_trusted_raw(h.raw).raw == h.raw
    # Bytes read as latin-1: the same text for ASCII values, and the same bytes always.
    assert (again == h) == all(value.isascii() for _, value in pairs)
    changed = again.copy()
    changed["x-extra"] = "1"
    assert changed.raw == [*h.raw, (b"x-extra", b"1")]


@given(pairs=pair_lists, data=st.data())
def test_equality_ignores_order_and_name_case(pairs: list[tuple[str, str]], data: Any) -> None:
    shuffled = data.draw(st.permutations(pairs))
    recased = [(n.swapcase(), v) for n, v in shuffled]
    assert Headers(pairs) == Headers(shuffled) == recased
    assert Headers(recased) == pairs


def test_lookups_right_after_a_change_on_a_long_header_list() -> None:
    headers = Headers([(f"x-{i}", str(i)) for i in range(20)])
    headers["x-new"] = "new"  # drops the index; more headers than a scan is worth
    assert headers.get("x-new") == "new"
    assert "x-3" in headers
    headers["x-other"] = "o"
    assert "x-missing" not in headers
