"""HTTP/2 misbehaviour from a raw h2 server: GOAWAY, refused streams, limits, stalls."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import h2.events
import h2.settings
import pytest
import trio
from h2.errors import ErrorCodes

import httpcore
from tests.clients import flavoured_client
from tests.h2server import H2ServerConnection, h2_server

H2C = {"http1": False}
# Every test runs with TrioClient and with AsyncClient (in an asyncio thread).
FLAVOUR = ["trio"]


@pytest.fixture(autouse=True, params=["trio", "asyncio"])
def flavour(request: pytest.FixtureRequest) -> Iterator[str]:
    FLAVOUR[0] = request.param
    yield request.param
    FLAVOUR[0] = "trio"


def assert_clean(client: httpcore.TrioClient) -> None:
    stats = client.statistics()
    assert (stats.opening, stats.waiters, stats.streams) == (0, 0, 0)
    assert stats.connections == stats.idle


async def answer_everything(conn: H2ServerConnection) -> None:
    while (event := await conn.next_event()) is not None:
        if isinstance(event, h2.events.StreamEnded):
            await conn.respond(event.stream_id, b"ok")


async def test_settings_we_advertise_and_ping() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        conn.h2.ping(b"12345678")
        await conn.flush()
        await answer_everything(conn)

    async with h2_server(handler) as (url, connections):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            response = await client.get(url + "/")
            assert (response.protocol, response.text) == ("HTTP/2", "ok")
        # The client's SETTINGS: no push, 100 KiB header lists; and our PING was answered.
        (conn,) = connections
        settings = [e for e in conn.events_seen if isinstance(e, h2.events.RemoteSettingsChanged)]
        values = {code: change.new_value for code, change in settings[0].changed_settings.items()}
        assert values[h2.settings.SettingCodes.ENABLE_PUSH] == 0
        assert values[h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE] == 100 * 1024
        assert any(isinstance(e, h2.events.PingAckReceived) for e in conn.events_seen)


async def test_goaway_with_streams_in_flight() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        if len(connections) == 1:
            ended = await conn.wait_for(h2.events.StreamEnded, count=3)
            first = min(e.stream_id for e in ended)
            await conn.send_goaway(last_stream_id=first)
            await conn.respond(first, b"first")
            await conn.wait_for(h2.events.ConnectionTerminated)  # until the client leaves
            return
        await answer_everything(conn)

    async with h2_server(handler) as (url, connections):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            bodies: list[bytes] = []

            async def fetch() -> None:
                bodies.append((await client.get(url + "/")).content)

            async with trio.open_nursery() as nursery:
                for _ in range(3):
                    nursery.start_soon(fetch)
            assert sorted(bodies) == [b"first", b"ok", b"ok"]
            assert len(connections) == 2
            assert client.statistics().connections == 1  # the old one left the pool
            assert_clean(client)


async def test_refused_stream_is_retried_on_a_new_connection() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        if len(connections) == 1:
            (event,) = await conn.wait_for(h2.events.StreamEnded)
            conn.h2.reset_stream(event.stream_id, ErrorCodes.REFUSED_STREAM)
            await conn.flush()
        await answer_everything(conn)

    async with h2_server(handler) as (url, connections):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            response = await client.post(url + "/", data=b"not idempotent")
            assert response.text == "ok"
            assert len(connections) == 2
            assert_clean(client)


async def test_refused_twice_is_an_error() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        while (event := await conn.next_event()) is not None:
            if isinstance(event, h2.events.StreamEnded):
                conn.h2.reset_stream(event.stream_id, ErrorCodes.REFUSED_STREAM)
                await conn.flush()

    async with h2_server(handler) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            with pytest.raises(httpcore.RemoteProtocolError, match="REFUSED_STREAM"):
                await client.get(url + "/")
            assert_clean(client)


async def test_max_concurrent_streams_one() -> None:
    active = 0
    peak = 0

    async def handler(conn: H2ServerConnection) -> None:
        nonlocal active, peak
        while (event := await conn.next_event()) is not None:
            if isinstance(event, h2.events.RequestReceived):
                active += 1
                peak = max(peak, active)
            if isinstance(event, h2.events.StreamEnded):
                await trio.sleep(0.01)
                active -= 1
                await conn.respond(event.stream_id, b"ok")

    settings = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1}
    limits = httpcore.PoolLimits(hard_limit=1)
    async with h2_server(handler, settings) as (url, connections):
        async with flavoured_client(FLAVOUR[0], pool_limits=limits, **H2C) as client:
            async with trio.open_nursery() as nursery:
                for _ in range(5):
                    nursery.start_soon(client.get, url + "/")
            assert_clean(client)
    assert peak == 1
    assert len(connections) == 1


async def test_stream_limit_opens_another_connection_within_pool_limits() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        while (event := await conn.next_event()) is not None:
            if isinstance(event, h2.events.StreamEnded):
                await trio.sleep(0.05)
                await conn.respond(event.stream_id, b"ok")

    settings = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 2}
    async with h2_server(handler, settings) as (url, connections):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            async with trio.open_nursery() as nursery:
                for _ in range(6):
                    nursery.start_soon(client.get, url + "/")
            assert_clean(client)
    assert 2 <= len(connections) <= 3


async def test_oversize_header_list() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        (event,) = await conn.wait_for(h2.events.StreamEnded)
        await conn.respond(event.stream_id, b"big", extra=[(b"x-big", b"v" * (200 * 1024))])
        await answer_everything(conn)

    async with h2_server(handler) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            with pytest.raises(httpcore.RemoteProtocolError) as info:
                await client.get(url + "/")
            assert info.value.request is not None
            assert client.statistics().connections == 0


async def test_header_list_under_the_limit() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        (event,) = await conn.wait_for(h2.events.StreamEnded)
        await conn.respond(event.stream_id, b"ok", extra=[(b"x-big", b"v" * (90 * 1024))])
        await answer_everything(conn)

    async with h2_server(handler) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            response = await client.get(url + "/")
            assert len(response.headers["x-big"]) == 90 * 1024


@pytest.mark.parametrize("when", ["before-headers", "mid-body"])
async def test_connection_dropped(when: str) -> None:
    async def handler(conn: H2ServerConnection) -> None:
        (event,) = await conn.wait_for(h2.events.StreamEnded)
        if when == "mid-body":
            conn.h2.send_headers(event.stream_id, [(b":status", b"200")])
            conn.h2.send_data(event.stream_id, b"partial")
            await conn.flush()
        await conn.stream.aclose()

    async with h2_server(handler) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            with pytest.raises((httpcore.RemoteProtocolError, httpcore.ReadError)) as info:
                await client.get(url + "/")
            assert info.value.request is not None
            assert client.statistics().connections == 0


async def test_window_update_never_comes() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        await conn.wait_for(h2.events.StreamEnded)  # never: the body cannot finish

    settings = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1024}
    async with h2_server(handler, settings) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            timeout = httpcore.TimeoutConfig(5, write_timeout=0.3)
            with pytest.raises(httpcore.WriteTimeout):
                await client.post(url + "/", data=b"w" * 100_000, timeout=timeout)
            assert_clean(client)


async def test_cancelled_request_resets_only_its_stream() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        first = second = None
        while (event := await conn.next_event()) is not None:
            if isinstance(event, h2.events.StreamEnded):
                if first is None:
                    first = event.stream_id  # never answered: the client gives up on it
                else:
                    second = event.stream_id
                    await conn.respond(second, b"second")
            if isinstance(event, h2.events.StreamReset):
                reset.append((event.stream_id, event.error_code, first))

    reset: list[Any] = []
    async with h2_server(handler) as (url, connections):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            if FLAVOUR[0] == "trio":
                with trio.move_on_after(0.2):
                    await client.get(url + "/first")
            else:  # cancelled in its own loop, by asyncio.wait_for
                with pytest.raises(TimeoutError):
                    await client.loop.run(asyncio.wait_for(client.client.get(url + "/first"), 0.2))
            assert (await client.get(url + "/second")).text == "second"
            assert_clean(client)
    (stream_id, code, first) = reset[0]
    assert (stream_id, code) == (first, ErrorCodes.CANCEL)
    assert len(connections) == 1


async def test_server_closes_idle_connection_then_new_request() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        if len(connections) == 1:
            (event,) = await conn.wait_for(h2.events.StreamEnded)
            await conn.respond(event.stream_id, b"one")
            conn.h2.close_connection()
            await conn.flush()
            return
        await answer_everything(conn)

    async with h2_server(handler) as (url, connections):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            assert (await client.get(url + "/")).text == "one"
            with trio.fail_after(5):
                while client.statistics().connections:
                    await trio.sleep(0.01)
            assert (await client.get(url + "/")).text == "ok"
    assert len(connections) == 2


async def test_garbage_instead_of_settings() -> None:
    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await stream.receive_some(1024)

    from tests.servers import raw_server

    async with raw_server(handler) as url:
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            with pytest.raises(httpcore.RemoteProtocolError):
                await client.get(url + "/")
            assert client.statistics().connections == 0


async def test_settings_never_come() -> None:
    async def handler(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    from tests.servers import raw_server

    async with raw_server(handler) as url:
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            with pytest.raises(httpcore.ConnectTimeout):
                await client.get(url + "/", timeout=httpcore.TimeoutConfig(5, connect_timeout=0.2))
            assert client.statistics().connections == 0


async def test_lowered_stream_limit_later_never_deadlocks() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        answered = 0
        while (event := await conn.next_event()) is not None:
            if isinstance(event, h2.events.StreamEnded):
                await conn.respond(event.stream_id, b"ok")
                answered += 1
                if answered == 1:  # from now on, one stream at a time
                    conn.h2.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1})
                    await conn.flush()

    limits = httpcore.PoolLimits(hard_limit=1)
    async with h2_server(handler) as (url, _):
        async with flavoured_client(FLAVOUR[0], pool_limits=limits, **H2C) as client:
            await client.get(url + "/")
            with trio.fail_after(5):
                async with trio.open_nursery() as nursery:
                    for _ in range(5):
                        nursery.start_soon(client.get, url + "/")
            assert_clean(client)


async def test_goaway_on_an_idle_connection() -> None:
    consumed = trio.Event()

    async def handler(conn: H2ServerConnection) -> None:
        if len(connections) == 1:
            (event,) = await conn.wait_for(h2.events.StreamEnded)
            await conn.respond(event.stream_id, b"one")
            await consumed.wait()
            await conn.send_goaway(last_stream_id=event.stream_id)
            await conn.wait_for(h2.events.ConnectionTerminated)
            return
        await answer_everything(conn)

    async with h2_server(handler) as (url, connections):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            assert (await client.get(url + "/")).text == "one"
            consumed.set()
            with trio.fail_after(5):
                while client.statistics().connections:
                    await trio.sleep(0.01)
            assert (await client.get(url + "/")).text == "ok"
    assert len(connections) == 2


async def test_connection_reset_during_upload() -> None:
    import socket
    import struct

    async def handler(conn: H2ServerConnection) -> None:
        await conn.wait_for(h2.events.RequestReceived)
        sock = conn.stream.socket
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    big_window = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: (1 << 31) - 1}
    async with h2_server(handler, big_window) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            with pytest.raises(
                (httpcore.WriteError, httpcore.ReadError, httpcore.RemoteProtocolError)
            ):
                await client.post(url + "/", data=b"z" * (64 << 20))
            assert client.statistics().connections == 0


async def test_connection_lost_while_waiting_for_window() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        await conn.wait_for(h2.events.DataReceived)
        await trio.sleep(0.2)
        await conn.stream.aclose()

    settings = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1024}
    async with h2_server(handler, settings) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            with pytest.raises((httpcore.ReadError, httpcore.RemoteProtocolError)):
                await client.post(url + "/", data=b"w" * 100_000)
            assert client.statistics().connections == 0


async def test_early_response_while_uploading() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        (event,) = await conn.wait_for(h2.events.RequestReceived)
        await conn.respond(event.stream_id, b"too big", status=413)
        conn.h2.reset_stream(event.stream_id, 0)  # NO_ERROR: "stop sending, I answered"
        await conn.flush()
        await answer_everything(conn)

    settings = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1024}
    async with h2_server(handler, settings) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            response = await client.post(url + "/", data=b"u" * 1_000_000)
            assert (response.status_code, response.text) == (413, "too big")
            assert_clean(client)


async def test_stream_reset_with_an_error() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        (event,) = await conn.wait_for(h2.events.StreamEnded)
        conn.h2.reset_stream(event.stream_id, ErrorCodes.INTERNAL_ERROR)
        await conn.flush()
        await answer_everything(conn)

    async with h2_server(handler) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            with pytest.raises(httpcore.RemoteProtocolError, match="INTERNAL_ERROR"):
                await client.get(url + "/")
            assert (await client.get(url + "/")).text == "ok"
            assert_clean(client)


@pytest.mark.parametrize("flavour", ["trio"], indirect=True)  # engine internals
async def test_empty_data_frames_and_body_end() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        (event,) = await conn.wait_for(h2.events.StreamEnded)
        conn.h2.send_headers(event.stream_id, [(b":status", b"200")])
        conn.h2.send_data(event.stream_id, b"")
        conn.h2.send_data(event.stream_id, b"body")
        conn.h2.send_data(event.stream_id, b"", end_stream=True)
        await conn.flush()
        await answer_everything(conn)

    async with h2_server(handler) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            response = await client.get(url + "/", stream=True)
            body: Any = response._stream
            assert [chunk async for chunk in body] == [b"body"]
            with pytest.raises(StopAsyncIteration):
                await body.__anext__()
            await response.close()
            assert_clean(client)


async def test_connect_method_is_refused_locally() -> None:
    async with h2_server(answer_everything) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            with pytest.raises(httpcore.LocalProtocolError, match="HTTP/2"):
                await client.request("CONNECT", url + "/")
            assert (await client.get(url + "/")).text == "ok"
            assert_clean(client)


@pytest.mark.parametrize("flavour", ["trio"], indirect=True)  # engine internals
async def test_closing_an_already_failed_connection() -> None:
    async with h2_server(answer_everything) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            await client.get(url + "/")
            pool = client._dispatch.pool  # type: ignore[attr-defined]
            (connection,) = [c for conns in pool._by_key.values() for c in conns]
            connection._fail(httpcore.ReadError("gone"))
            # Frames still queued on a failed connection are not sent: the error is raised.
            connection._h2.ping(b"12345678")
            with pytest.raises(httpcore.ReadError, match="gone"):
                await connection._flush(1.0)
            await connection.aclose()
            assert connection.is_closed
            assert client.statistics().connections == 0


@pytest.mark.parametrize("flavour", ["trio"], indirect=True)  # engine internals
async def test_h2_state_closed_under_a_new_request() -> None:
    """h2 refuses new streams once its state is closed (it sent a GOAWAY on an error
    the reader has not reported yet): the request fails locally, the connection retires."""
    async with h2_server(answer_everything) as (url, connections):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            await client.get(url + "/")
            pool = client._dispatch.pool  # type: ignore[attr-defined]
            (connection,) = [c for conns in pool._by_key.values() for c in conns]
            connection._h2.close_connection()
            with pytest.raises(httpcore.LocalProtocolError, match="Cannot send this request"):
                await client.get(url + "/")
            assert connection.is_closed
            assert (await client.get(url + "/")).text == "ok"
            assert len(connections) == 2
            assert_clean(client)


def test_unexpected_errors_become_remote_protocol_errors() -> None:
    from httpcore._trio.http2 import _fresh

    error = _fresh(KeyError("bug"))
    assert isinstance(error, httpcore.RemoteProtocolError)
    assert isinstance(error.__cause__, KeyError)


async def test_server_stops_reading_during_upload() -> None:
    async def handler(conn: H2ServerConnection) -> None:
        await conn.wait_for(h2.events.RequestReceived)
        conn.h2.increment_flow_control_window(1 << 30)  # the connection window too
        await conn.flush()
        await trio.sleep_forever()  # never reads again: the socket buffers fill up

    big_window = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: (1 << 31) - 1}
    async with h2_server(handler, big_window) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            timeout = httpcore.TimeoutConfig(5, write_timeout=0.3)
            with pytest.raises(httpcore.WriteTimeout):
                await client.post(url + "/", data=b"s" * (256 << 20), timeout=timeout)
            # A write cut off mid-frame leaves the connection unusable: it is gone.
            assert client.statistics().connections == 0


# trio's own cancellation (an asyncio caller's reaches the engine differently)
@pytest.mark.parametrize("flavour", ["trio"], indirect=True)
async def test_upload_cancelled_mid_write_without_a_write_timeout() -> None:
    """With no write timeout the write is not shielded: cancelling it may cut a frame,
    so the connection is failed, never reused."""

    async def handler(conn: H2ServerConnection) -> None:
        await conn.wait_for(h2.events.RequestReceived)
        conn.h2.increment_flow_control_window(1 << 30)
        await conn.flush()
        await trio.sleep_forever()

    big_window = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: (1 << 31) - 1}
    async with h2_server(handler, big_window) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            timeout = httpcore.TimeoutConfig(5, write_timeout=None)
            with trio.move_on_after(0.5) as scope:
                await client.post(url + "/", data=b"s" * (256 << 20), timeout=timeout)
            assert scope.cancelled_caught
            assert client.statistics().connections == 0


@pytest.mark.parametrize("flavour", ["trio"], indirect=True)  # streams, natively
async def test_credit_goes_back_at_once_when_the_connection_window_runs_low() -> None:
    """16 streams hold 15.5 MiB unread, a 17th gets the last 512 KiB of the connection
    window: reading those leaves less than a batch of credit, and the server no window
    at all. That credit must go back now, or the 17th stream would wait forever."""
    unit = 1 << 20

    async def handler(conn: H2ServerConnection) -> None:
        ended = await conn.wait_for(h2.events.StreamEnded, count=17)
        ids = sorted(e.stream_id for e in ended)
        for sid in ids:
            role = b"read" if sid == ids[-1] else b"hold"
            conn.h2.send_headers(sid, [(b":status", b"200"), (b"x-role", role)])
        for sid in ids[:15]:
            conn.h2.send_data(sid, b"u" * (unit // 2))
            conn.h2.send_data(sid, b"u" * (unit // 2))
        conn.h2.send_data(ids[15], b"u" * (unit // 2))
        conn.h2.send_data(ids[16], b"r" * (unit // 2))
        assert conn.h2.outbound_flow_control_window == 0
        await conn.flush()
        # The rest of the 17th body goes out as the client's credit comes back.
        rest = unit
        while rest:
            window = conn.h2.local_flow_control_window(ids[16])
            if window == 0:
                if await conn.next_event() is None:
                    return
                continue
            chunk = min(window, rest, 16384)
            rest -= chunk
            conn.h2.send_data(ids[16], b"r" * chunk, end_stream=not rest)
            await conn.flush()
        await answer_everything(conn)

    async with h2_server(handler) as (url, _):
        async with flavoured_client(FLAVOUR[0], **H2C) as client:
            async with contextlib.AsyncExitStack() as stack:
                responses = []
                async with trio.open_nursery() as nursery:

                    async def open_one() -> None:
                        responses.append(
                            await stack.enter_async_context(client.stream("GET", url + "/"))
                        )

                    for _ in range(17):
                        nursery.start_soon(open_one)
                (target,) = [r for r in responses if r.headers["x-role"] == "read"]
                with trio.fail_after(5):
                    body = await target.read()
                assert body == b"r" * (unit // 2 + unit)
