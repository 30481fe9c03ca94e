"""The sans-I/O half of HTTP/2 (`_core/h2codec.py`): request header lists, the checks
that replace h2's header validation, and the HPACK blocks decoded once.

Malformed heads from a real (raw h2) server are in test_http2_headers.py."""

from __future__ import annotations

from typing import Any

import hpack
import pytest
from hyperframe.frame import DataFrame

import httpcore
from httpcore._core import h2codec
from httpcore._core.models import Request


def literal(name: bytes | int, value: bytes, kind: int = 0x00) -> bytes:
    """A literal field (RFC 7541 §6.2): `kind` 0x00 without indexing, 0x10 never
    indexed, 0x40 with indexing; the name a static index or a literal string."""
    prefix = 6 if kind == 0x40 else 4
    if isinstance(name, int):
        head = integer(name, prefix, kind)
        name_part = b""
    else:
        head = bytes([kind])
        name_part = integer(len(name), 7) + name
    return head + name_part + integer(len(value), 7) + value


def integer(value: int, prefix: int, flags: int = 0) -> bytes:
    """An HPACK integer with `prefix` bits in its first byte, `flags` above them."""
    encoded = bytearray(hpack.hpack.encode_integer(value, prefix))
    encoded[0] |= flags
    return bytes(encoded)


STATUS_200 = b"\x88"  # static entry 8
NO_TABLE, WHILE_EMPTY, USES = h2codec._NO_TABLE, h2codec._NO_TABLE_WHILE_EMPTY, h2codec._USES_TABLE


@pytest.mark.parametrize(
    ("block", "use"),
    [
        (b"", NO_TABLE),
        (STATUS_200, NO_TABLE),
        (STATUS_200 + literal(54, b"nginx"), NO_TABLE),
        (STATUS_200 + literal(b"x-name", b"v", 0x10), NO_TABLE),
        (STATUS_200 + literal(28, b"1" * 200), NO_TABLE),  # a multi-byte length
        (STATUS_200 + literal(54, b"nginx", 0x40), WHILE_EMPTY),
        (STATUS_200 + literal(b"x-name", b"v", 0x40), WHILE_EMPTY),
        (integer(62, 7, 0x80), USES),  # the first dynamic entry
        (integer(0, 7, 0x80), USES),  # index 0: malformed
        (integer(200, 7, 0x80), USES),  # a multi-byte index, past the static table
        (b"\x20" + STATUS_200, USES),  # a table size update
        (literal(62, b"v"), USES),  # a dynamic name
        (literal(62, b"v", 0x40), USES),
        (STATUS_200 + literal(54, b"nginx")[:-2], USES),  # value cut short
        (STATUS_200 + literal(b"x-name", b"v")[:3], USES),  # name cut short
        (bytes([0x00]), USES),  # a literal name with no length byte
        (literal(54, b"")[:-1], USES),  # an indexed name with no value
        (literal(54, b"")[:-1] + b"\x7f", USES),  # a value length cut short
        (b"\xff\xff\xff", USES),  # an integer cut short
        (b"\x0f" + b"\xff" * 6, USES),  # an integer that never ends
    ],
)
def test_table_use(block: bytes, use: int) -> None:
    assert h2codec._table_use(block) == use


def test_decoder_remembers_blocks_that_need_no_table() -> None:
    encoder = hpack.Encoder()
    decoder = h2codec._Decoder(h2codec.MAX_HEADER_LIST_SIZE)
    plain = STATUS_200 + literal(54, b"nginx")
    first = decoder.decode(plain, raw=True)
    assert first == [(b":status", b"200"), (b"server", b"nginx")]
    assert decoder._memo[plain][0] == first
    assert decoder.decode(plain, raw=True) == first
    assert decoder.decode(plain, raw=True) is not decoder._memo[plain][0]  # a copy each time
    # Blocks that use the table, and str results, are decoded every time.
    indexed = encoder.encode([(b":status", b"200"), (b"x-a", b"1")])
    assert decoder.decode(indexed, raw=True)[1] == (b"x-a", b"1")
    assert decoder.decode(encoder.encode([(b"x-a", b"1")]), raw=True) == [(b"x-a", b"1")]
    assert decoder.decode(plain) == [(":status", "200"), ("server", "nginx")]
    assert list(decoder._memo) == [plain]


def test_literals_with_indexing_are_remembered_only_while_the_table_is_empty() -> None:
    decoder = h2codec._Decoder(h2codec.MAX_HEADER_LIST_SIZE)
    block = STATUS_200 + literal(54, b"nginx", 0x40)
    # A table of the default size: the literal adds an entry, so no memo.
    assert decoder.decode(block, raw=True)[1] == (b"server", b"nginx")
    assert decoder._memo == {}
    assert len(decoder.header_table.dynamic_entries) == 1
    # The server sets the size to 0 (as nginx does): now the block is remembered...
    assert decoder.decode(b"\x20" + block, raw=True)[1] == (b"server", b"nginx")
    assert decoder.decode(block, raw=True)[1] == (b"server", b"nginx")
    assert block in decoder._memo
    # ... and used only while the size stays 0: once it grows, the entry is added again.
    decoder.decode(integer(100, 5, 0x20) + STATUS_200, raw=True)
    assert decoder.decode(block, raw=True)[1] == (b"server", b"nginx")
    assert decoder.header_table.dynamic_entries[0] == (b"server", b"nginx")


def test_memo_is_bounded() -> None:
    decoder = h2codec._Decoder(h2codec.MAX_HEADER_LIST_SIZE)
    for n in range(h2codec._MEMO_MAX + 5):
        decoder.decode(STATUS_200 + literal(28, str(n).encode()), raw=True)
    assert 0 < len(decoder._memo) <= h2codec._MEMO_MAX
    large = STATUS_200 + literal(b"x-big", b"v" * h2codec._MEMO_BLOCK_MAX)
    decoder.decode(large, raw=True)
    assert large not in decoder._memo


def test_oversized_header_lists_are_refused_every_time() -> None:
    decoder = h2codec._Decoder(100)
    block = STATUS_200 + literal(b"x-big", b"v" * 200)
    for _ in range(2):
        with pytest.raises(hpack.OversizedHeaderListError):
            decoder.decode(block, raw=True)


def test_received_data_frames_have_a_short_repr() -> None:
    connection = h2codec.new_connection()
    frame = DataFrame(1, b"x" * 100_000)
    frame.__class__ = h2codec._DataFrame
    assert repr(frame) == "DataFrame(stream_id=1, length=100000)"
    assert connection._frame_dispatch_table[h2codec._DataFrame] is not None


def request(headers: Any = None, method: str = "GET", url: str = "https://a.test/p?q") -> Request:
    return Request(method, url, headers=headers)


def test_request_headers() -> None:
    headers = h2codec.request_headers(
        request(
            {
                "Host": "b.test:8443",
                "Connection": "close",
                "Transfer-Encoding": "x",
                "Proxy-Connection": "x",
                "TE": "gzip",
                "Authorization": "Basic eDp5",
                "Proxy-Authorization": "Basic eDp5",
                "Cookie": "a=1",
                "X-Cookie": "a=1",
            }
        )
    )
    names = [name for name, _ in headers]
    assert names[:4] == [b":method", b":authority", b":scheme", b":path"]
    assert headers[1] == (b":authority", b"b.test:8443")
    assert headers[3] == (b":path", b"/p?q")
    for name in (b"host", b"connection", b"transfer-encoding", b"proxy-connection", b"te"):
        assert name not in names
    secret = {
        name for name, value in headers if isinstance(value, bytes) and type((name, value)) is tuple
    }
    never = {h[0] for h in headers if isinstance(h, hpack.NeverIndexedHeaderTuple)}
    assert never == {b"authorization", b"proxy-authorization", b"cookie"}
    assert b"x-cookie" in secret
    kept = h2codec.request_headers(request({"TE": "trailers", "Cookie": "a" * 20}))
    assert (b"te", b"trailers") in kept
    assert not any(isinstance(h, hpack.NeverIndexedHeaderTuple) for h in kept)


def test_connect_is_refused() -> None:
    with pytest.raises(httpcore.LocalProtocolError, match="CONNECT"):
        h2codec.request_headers(request(method="CONNECT", url="https://a.test:443"))


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"server", b"x")],
        [(b":status", b"200"), (b":status", b"200")],
        [(b":status", b"200"), (b"Server", b"x")],
        [(b":status", b"200"), (b"a", b"b\x00")],
        [(b":status", b"200"), (b"upgrade", b"h2c")],
        [(b":status", b"200"), (b"te", b"gzip")],
    ],
)
def test_check_head_refuses(headers: list[tuple[bytes, bytes]]) -> None:
    with pytest.raises(httpcore.RemoteProtocolError):
        h2codec.check_head(headers)


def test_check_head_accepts() -> None:
    head = [(b":status", b"204"), (b"x", b""), (b"te", b"Trailers"), (b"v", b"a\tb c\x80")]
    assert h2codec.check_head(head) == 204


def test_name_cache_is_bounded() -> None:
    for n in range(h2codec._GOOD_NAMES_MAX + 3):
        h2codec.check_fields([(f"x-{n}".encode(), b"v")], 0)
    assert 0 < len(h2codec._GOOD_NAMES) <= h2codec._GOOD_NAMES_MAX


async def test_nginx_heads_are_decoded_once(nginx: Any) -> None:
    async with httpcore.TrioClient(http1=False) as client:
        responses = [await client.get(nginx.h2c_url + "/small.json") for _ in range(5)]
        pool = client._dispatch.pool  # type: ignore[attr-defined]
        (connection,) = [c for conns in pool._by_key.values() for c in conns]
        memo = connection._h2.decoder._memo
    assert [r.json()["hello"] for r in responses] == ["world"] * 5
    assert 1 <= len(memo) <= 2  # the Date may tick once
