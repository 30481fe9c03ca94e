"""HTTP/2 limits (RFC 9113) against a raw h2 server: stream limits, bad SETTINGS and
WINDOW_UPDATE, bad :status, and floods that must not keep a request alive."""

from __future__ import annotations

import struct
import time

import h2.events
import h2.settings
import pytest
import trio
from hyperframe.frame import GoAwayFrame

import httpcore
from tests.h2server import H2ServerConnection, h2_server
from tests.test_http2_failures import H2C, answer_everything, assert_clean

MAX_STREAMS = h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS


def frame(kind: int, stream_id: int, payload: bytes = b"", flags: int = 0) -> bytes:
    """A raw frame, valid or not, as h2 would never write it."""
    return (
        struct.pack(">I", len(payload))[1:]
        + bytes([kind, flags])
        + struct.pack(">I", stream_id)
        + payload
    )


def goaways(conn: H2ServerConnection) -> list[h2.events.ConnectionTerminated]:
    return [e for e in conn.events_seen if isinstance(e, h2.events.ConnectionTerminated)]


async def test_zero_streams_waits_idle_until_the_pool_timeout() -> None:
    async with h2_server(answer_everything, settings={MAX_STREAMS: 0}) as (url, connections):
        timeout = httpcore.TimeoutConfig(5, pool_timeout=1.0)
        async with httpcore.TrioClient(timeout=timeout, **H2C) as client:
            cpu, wall = time.process_time(), trio.current_time()
            with pytest.raises(httpcore.PoolTimeout):
                await client.get(url + "/")
            cpu, wall = time.process_time() - cpu, trio.current_time() - wall
            assert 0.9 < wall < 3
            assert cpu < 0.25 * wall, f"{cpu:.3f} s of CPU over {wall:.3f} s of waiting"
            assert_clean(client)
        assert not any(
            isinstance(e, h2.events.RequestReceived) for c in connections for e in c.events_seen
        )


async def test_zero_streams_then_raised() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        await trio.sleep(0.3)
        conn.h2.update_settings({MAX_STREAMS: 10})
        await conn.flush()
        await answer_everything(conn)

    async with h2_server(handler, settings={MAX_STREAMS: 0}) as (url, _):
        async with httpcore.TrioClient(**H2C) as client:
            with trio.fail_after(3):
                assert (await client.get(url + "/")).text == "ok"
            assert_clean(client)


async def test_limit_lowered_while_a_request_holds_a_slot() -> None:
    """SETTINGS lowering the limit can arrive after the pool handed out a stream slot:
    that request waits for a stream rather than failing the connection."""
    release = trio.Event()

    async def handler(conn: H2ServerConnection) -> None:
        (first,) = await conn.wait_for(h2.events.StreamEnded)
        conn.h2.update_settings({MAX_STREAMS: 1})
        await conn.flush()
        await release.wait()
        await conn.respond(first.stream_id, b"first")
        await answer_everything(conn)

    async with h2_server(handler) as (url, connections):
        limits = httpcore.PoolLimits(hard_limit=1)
        async with httpcore.TrioClient(pool_limits=limits, **H2C) as client:
            results: list[str] = []

            async def fetch() -> None:
                results.append((await client.get(url + "/")).text)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(fetch)
                await trio.sleep(0.2)
                for _ in range(3):
                    nursery.start_soon(fetch)
                await trio.sleep(0.2)
                release.set()
            assert sorted(results) == ["first", "ok", "ok", "ok"]
            assert_clean(client)
        assert len(connections) == 1
        assert [e.error_code for e in goaways(connections[0])] == [0]  # a clean close


@pytest.mark.parametrize(
    "bad_frame",
    [
        # SETTINGS_INITIAL_WINDOW_SIZE of 2^31 and more
        frame(0x4, 0, struct.pack(">HI", 0x4, 1 << 31)),
        frame(0x4, 0, struct.pack(">HI", 0x4, 0xFFFFFFFF)),
        # WINDOW_UPDATE with an increment of 0, on the connection and on a stream
        frame(0x8, 0, struct.pack(">I", 0)),
        # SETTINGS_MAX_FRAME_SIZE out of range
        frame(0x4, 0, struct.pack(">HI", 0x5, 100)),
        # SETTINGS_ENABLE_PUSH other than 0 or 1
        frame(0x4, 0, struct.pack(">HI", 0x2, 7)),
    ],
    ids=["window-2^31", "window-max", "window-update-0", "max-frame-size", "enable-push"],
)
async def test_bad_settings_and_window_updates_are_connection_errors(bad_frame: bytes) -> None:
    async def handler(conn: H2ServerConnection) -> None:
        await conn.wait_for(h2.events.StreamEnded)
        await conn.stream.send_all(bad_frame)
        # Read what the client says (GOAWAY), until it closes.
        with trio.move_on_after(3):
            while data := await conn.stream.receive_some(65536):
                received.append(data)

    received: list[bytes] = []
    async with h2_server(handler) as (url, _):
        async with httpcore.TrioClient(**H2C) as client:
            with trio.fail_after(3), pytest.raises(httpcore.RemoteProtocolError):
                await client.get(url + "/")
            assert_clean(client)
    data = b"".join(received)
    # A GOAWAY frame (type 7) went out before the socket closed.
    assert any(data[i + 3] == 0x7 for i in _frame_starts(data)), data


async def test_window_update_zero_on_a_stream() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        (event,) = await conn.wait_for(h2.events.StreamEnded)
        await conn.stream.send_all(frame(0x8, event.stream_id, struct.pack(">I", 0)))
        await conn.wait_for(h2.events.ConnectionTerminated)

    async with h2_server(handler) as (url, _):
        async with httpcore.TrioClient(**H2C) as client:
            with trio.fail_after(3), pytest.raises(httpcore.RemoteProtocolError):
                await client.get(url + "/")
            assert_clean(client)


def _frame_starts(data: bytes) -> list[int]:
    starts, i = [], 0
    while i + 9 <= len(data):
        starts.append(i)
        i += 9 + int.from_bytes(data[i : i + 3], "big")
    return starts


@pytest.mark.parametrize("status", [b"2000", b"99", b"600", b"abc", b"", b"20 ", b"+200"])
async def test_bad_status(status: bytes) -> None:
    async def handler(conn: H2ServerConnection) -> None:
        while (event := await conn.next_event()) is not None:
            if isinstance(event, h2.events.StreamEnded):
                if event.stream_id == 1:
                    # Past h2's own checks: encode the header block ourselves.
                    block = conn.h2.encoder.encode([(b":status", status)])
                    await conn.flush()
                    await conn.stream.send_all(frame(0x1, 1, block, flags=0x4 | 0x1))
                else:
                    await conn.respond(event.stream_id, b"ok")

    async with h2_server(handler) as (url, _):
        async with httpcore.TrioClient(**H2C) as client:
            with trio.fail_after(3), pytest.raises(httpcore.RemoteProtocolError):
                await client.get(url + "/")
            assert_clean(client)


@pytest.mark.parametrize("flood", ["empty-data", "ping", "settings", "continuation"])
async def test_floods_do_not_outlive_the_read_timeout(flood: str) -> None:
    async def handler(conn: H2ServerConnection) -> None:
        (event,) = await conn.wait_for(h2.events.StreamEnded)
        sid = event.stream_id
        if flood == "continuation":
            block = conn.h2.encoder.encode([(b":status", b"200")])
            await conn.stream.send_all(frame(0x1, sid, block[:1]))  # HEADERS, no END_HEADERS
        else:
            conn.h2.send_headers(sid, [(b":status", b"200")])
            await conn.flush()
        one = {
            "empty-data": frame(0x0, sid),
            "ping": frame(0x6, 0, b"12345678"),
            "settings": frame(0x4, 0),
            "continuation": frame(0x9, sid),
        }[flood]
        with trio.move_on_after(4):
            while True:
                await conn.stream.send_all(one * 64)
                await trio.sleep(0.001)

    timeout = httpcore.TimeoutConfig(5, read_timeout=0.5)
    async with h2_server(handler) as (url, _):
        async with httpcore.TrioClient(timeout=timeout, **H2C) as client:
            started = trio.current_time()
            with (
                trio.fail_after(3),
                pytest.raises((httpcore.ReadTimeout, httpcore.RemoteProtocolError)),
            ):
                await client.get(url + "/")
            assert trio.current_time() - started < 2.5  # the flood goes on for 4 s
            assert_clean(client)


_ = GoAwayFrame


async def test_connection_lost_while_waiting_for_a_stream() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        await trio.sleep(0.2)  # then close, with the request still waiting for a stream

    async with h2_server(handler, settings={MAX_STREAMS: 0}) as (url, _):
        timeout = httpcore.TimeoutConfig(5, pool_timeout=3)
        async with httpcore.TrioClient(timeout=timeout, **H2C) as client:
            with trio.fail_after(2), pytest.raises(httpcore.TransportError) as info:
                await client.get(url + "/")
            assert not isinstance(info.value, httpcore.PoolTimeout)
            assert_clean(client)
