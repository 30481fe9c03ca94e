"""Response heads that RFC 9113 calls malformed, from a raw h2 server: each fails its
own stream with RemoteProtocolError (h2's own header validation is off: the client
checks the heads itself), and the connection goes on serving other requests."""

from __future__ import annotations

import struct

import h2.events
import pytest

import httpcore
from tests.h2server import H2ServerConnection, h2_server
from tests.test_http2_failures import H2C, assert_clean

OK = [(b":status", b"200")]
MALFORMED = {
    "no-status": [(b"server", b"x")],
    "status-not-first": [(b"server", b"x"), (b":status", b"200")],
    "two-statuses": [*OK, (b":status", b"204")],
    "request-pseudo-header": [*OK, (b":path", b"/")],
    "unknown-pseudo-header": [*OK, (b":bogus", b"1")],
    "uppercase-name": [*OK, (b"X-Upper", b"1")],
    "empty-name": [*OK, (b"", b"1")],
    "colon-in-name": [*OK, (b"a:b", b"1")],
    "space-in-name": [*OK, (b"a b", b"1")],
    "del-in-name": [*OK, (b"a\x7f", b"1")],
    "non-ascii-name": [*OK, (b"caf\xe9", b"1")],
    "nul-in-value": [*OK, (b"a", b"x\x00y")],
    "cr-in-value": [*OK, (b"a", b"x\ry")],
    "lf-in-value": [*OK, (b"a", b"x\ny")],
    "leading-space": [*OK, (b"a", b" x")],
    "trailing-tab": [*OK, (b"a", b"x\t")],
    "connection": [*OK, (b"connection", b"close")],
    "transfer-encoding": [*OK, (b"transfer-encoding", b"chunked")],
    "keep-alive": [*OK, (b"keep-alive", b"5")],
    "upgrade": [*OK, (b"upgrade", b"h2c")],
    "te-not-trailers": [*OK, (b"te", b"gzip")],
}


def frame(kind: int, stream_id: int, payload: bytes, flags: int) -> bytes:
    return (
        struct.pack(">I", len(payload))[1:]
        + bytes([kind, flags])
        + struct.pack(">I", stream_id)
        + payload
    )


async def send_block(
    conn: H2ServerConnection, stream_id: int, headers: list, end_stream: bool
) -> None:
    """A HEADERS frame h2 would refuse to write: encode the block ourselves."""
    block = conn.h2.encoder.encode(headers)
    await conn.flush()
    await conn.stream.send_all(frame(0x1, stream_id, block, 0x4 | (0x1 if end_stream else 0)))


def serve(first: str, bad: list) -> object:
    """Answer stream 1 with `bad` (`first` says where), every later stream with "ok"."""

    async def handler(conn: H2ServerConnection) -> None:
        while (event := await conn.next_event()) is not None:
            if not isinstance(event, h2.events.StreamEnded):
                continue
            sid = event.stream_id
            if sid != 1:
                await conn.respond(sid, b"ok")
            elif first == "head":
                await send_block(conn, sid, bad, end_stream=True)
            elif first == "informational":
                await send_block(conn, sid, bad, end_stream=False)
                await conn.respond(sid, b"late")
            else:  # trailers
                conn.h2.send_headers(sid, OK)
                conn.h2.send_data(sid, b"body")
                await send_block(conn, sid, bad, end_stream=True)

    return handler


async def fails_then_recovers(first: str, bad: list) -> str:
    async with h2_server(serve(first, bad)) as (url, connections):
        async with httpcore.TrioClient(**H2C) as client:
            with pytest.raises(httpcore.RemoteProtocolError) as info:
                await client.get(url + "/")
            # Only that stream failed: the same connection serves the next request.
            assert (await client.get(url + "/")).text == "ok"
            assert len(connections) == 1
            assert_clean(client)
    return str(info.value)


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_malformed_response_head(name: str) -> None:
    message = await fails_then_recovers("head", MALFORMED[name])
    assert "HTTP/2" in message or ":status" in message or "te header" in message


@pytest.mark.parametrize("name", ["request-pseudo-header", "uppercase-name", "lf-in-value"])
async def test_malformed_informational_response(name: str) -> None:
    await fails_then_recovers("informational", [(b":status", b"103"), *MALFORMED[name][1:]])


@pytest.mark.parametrize(
    "bad",
    [[(b":status", b"200")], [(b"Bad", b"1")], [(b"a", b"x\r")], [(b"connection", b"x")]],
    ids=["pseudo-header", "uppercase-name", "cr-in-value", "connection"],
)
async def test_malformed_trailers(bad: list) -> None:
    async with h2_server(serve("trailers", bad)) as (url, connections):
        async with httpcore.TrioClient(**H2C) as client:
            async with client.stream("GET", url + "/") as response:
                assert response.status_code == 200
                with pytest.raises(httpcore.RemoteProtocolError, match="HTTP/2"):
                    await response.read()
            assert (await client.get(url + "/")).text == "ok"
            assert len(connections) == 1
            assert_clean(client)


async def test_valid_trailers_and_informational_responses_pass() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        while (event := await conn.next_event()) is not None:
            if isinstance(event, h2.events.StreamEnded):
                sid = event.stream_id
                conn.h2.send_headers(sid, [(b":status", b"103"), (b"link", b"</a>")])
                conn.h2.send_headers(sid, [*OK, (b"trailer", b"x-sum"), (b"empty", b"")])
                conn.h2.send_data(sid, b"body")
                conn.h2.send_headers(sid, [(b"x-sum", b"1"), (b"te", b"trailers")], end_stream=True)
                await conn.flush()

    async with h2_server(handler) as (url, _):
        async with httpcore.TrioClient(**H2C) as client:
            response = await client.get(url + "/")
            assert (response.status_code, response.text) == (200, "body")
            assert response.headers["empty"] == ""


async def test_request_headers_as_h2_would_send_them() -> None:
    received: list[list] = []

    async def handler(conn: H2ServerConnection) -> None:
        while (event := await conn.next_event()) is not None:
            if isinstance(event, h2.events.RequestReceived):
                received.append(event.headers)
            if isinstance(event, h2.events.StreamEnded):
                await conn.respond(event.stream_id, b"ok")

    headers = {
        "Authorization": "Basic eDp5",
        "Cookie": "a=1",
        "X-Long-Cookie-Like": "a=1",
        "Connection": "close",
        "Keep-Alive": "5",
        "Upgrade": "h2c",
        "TE": "gzip",
        "Host": "example.test:1234",
    }
    async with h2_server(handler) as (url, connections):
        async with httpcore.TrioClient(**H2C) as client:
            await client.get(url + "/p?q=1", headers=headers)
            await client.get(url + "/", headers={"TE": "trailers", "Cookie": "x" * 40})
    first, second = ({h[0]: h[1] for h in block} for block in received)
    assert [h[0] for h in received[0][:4]] == [b":method", b":authority", b":scheme", b":path"]
    assert first[b":authority"] == b"example.test:1234"
    assert first[b":path"] == b"/p?q=1"
    for name in (b"connection", b"keep-alive", b"upgrade", b"te", b"host"):
        assert name not in first
    assert (first[b"authorization"], first[b"cookie"]) == (b"Basic eDp5", b"a=1")
    assert second[b"te"] == b"trailers"
    # Credentials and short cookies never enter the HPACK table; other fields do.
    table = set(connections[0].h2.decoder.header_table.dynamic_entries)
    assert (b"authorization", b"Basic eDp5") not in table
    assert (b"cookie", b"a=1") not in table
    assert (b"x-long-cookie-like", b"a=1") in table
    assert (b"cookie", b"x" * 40) in table
