"""Cancellation racing the pool's hand-offs: a grant and a cancel in either order.

Each test puts a cancel (or a pool timeout) and a grant in the same scheduling
step, the order in which trio can no longer tell the waiter: the cancel is
delivered first (the waiting task is rescheduled with Cancelled), then the
pool grants that waiter a connection or a slot. The waiter must hand the grant
back, the next waiter must get it, and the caller must see only Cancelled (or
PoolTimeout).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

import httpcore
from httpcore._trio.pool import ConnectionPool
from tests.servers import ServerThread

H2C = {"http1": False}


def pool_of(client: httpcore.TrioClient) -> ConnectionPool:
    pool: ConnectionPool = client._dispatch.pool  # type: ignore[attr-defined]
    return pool


def assert_clean(client: httpcore.TrioClient) -> None:
    """Nothing opening, nobody waiting, no stream in use, no slot unaccounted for."""
    stats = client.statistics()
    assert (stats.opening, stats.waiters, stats.streams) == (0, 0, 0), stats
    assert stats.connections == stats.idle, stats
    assert pool_of(client)._slots == stats.connections


@asynccontextmanager
async def waiting_request(
    client: httpcore.TrioClient, url: str, **kwargs: Any
) -> AsyncIterator[trio.CancelScope]:
    """A request started in the background and parked in the pool's queue.

    Yields the request's cancel scope; on exit, asserts that it ended cancelled.
    """
    scope = trio.CancelScope()
    before = client.statistics().waiters

    async def request() -> None:
        with scope:
            await client.get(url, **kwargs)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(request)
        await trio.testing.wait_all_tasks_blocked()
        assert client.statistics().waiters == before + 1
        yield scope
    assert scope.cancelled_caught


@pytest.mark.usefixtures("h1_codec")
async def test_waiter_cancelled_as_a_slot_is_freed(server: ServerThread) -> None:
    """The freed slot (OPEN_NEW) goes to a waiter already cancelled: it gives it back."""
    async with httpcore.TrioClient(pool_limits=httpcore.PoolLimits(hard_limit=1)) as client:
        held = await client.get(server.url + "/bytes/100000", stream=True)
        async with waiting_request(client, server.url + "/") as scope:
            scope.cancel()
            await held.close()  # unread: the connection closes, its slot is granted
        assert_clean(client)
        assert client.statistics().connections == 0
        assert (await client.get(server.url + "/")).status_code == 200


@pytest.mark.usefixtures("h1_codec")
async def test_waiter_cancelled_as_a_connection_goes_idle(server: ServerThread) -> None:
    """An idle connection granted to a cancelled waiter goes back to the pool, reusable."""
    async with httpcore.TrioClient(pool_limits=httpcore.PoolLimits(hard_limit=1)) as client:
        held = await client.get(server.url + "/bytes/10", stream=True)
        raw = held.raw()
        await trio.sleep(0.05)  # the whole body arrives
        assert await raw.__anext__() == b"x" * 10
        async with waiting_request(client, server.url + "/") as scope:
            scope.cancel()
            # The end of the body is already buffered: the connection goes idle
            # and is granted in this very step.
            with pytest.raises(StopAsyncIteration):
                await raw.__anext__()
        assert_clean(client)
        assert client.statistics().idle == 1
        assert (await client.get(server.url + "/")).status_code == 200
        assert client.statistics().connections == 1


async def test_waiter_cancelled_as_an_http2_stream_slot_frees() -> None:
    """MAX_CONCURRENT_STREAMS=1: the freed stream goes to a cancelled waiter, who gives it back."""
    from tests.apps import app

    thread = ServerThread(app, h2_max_concurrent_streams=1)
    await trio.to_thread.run_sync(thread.start)
    try:
        limits = httpcore.PoolLimits(hard_limit=1)
        async with httpcore.TrioClient(pool_limits=limits, **H2C) as client:
            held = await client.get(thread.url + "/bytes/100000", stream=True)
            assert client.statistics().streams == 1
            async with waiting_request(client, thread.url + "/") as scope:
                scope.cancel()
                await held.close()  # resets the stream: its slot is granted
            assert_clean(client)
            assert client.statistics().connections == 1
            response = await client.get(thread.url + "/")
            assert (response.status_code, response.protocol) == (200, "HTTP/2")
    finally:
        await trio.to_thread.run_sync(thread.stop)


async def test_waiter_for_a_connecting_http2_origin_cancelled_as_it_opens(
    h2_server: ServerThread, ca_file: str
) -> None:
    """Requests wait for the first HTTP/2 connection to an origin; one cancelled
    as it registers gives its stream back, and the next waiter is served."""
    async with httpcore.TrioClient(verify=ca_file, **H2C) as client:
        pool = pool_of(client)
        waiter_scope = trio.CancelScope()
        opener, register = pool._opener, pool._register
        opening = trio.Event()

        async def gated_opener(*args: Any) -> Any:
            await opening.wait()  # until both waiters queue behind this connection
            return await opener(*args)

        def register_after_cancelling(connection: Any) -> None:
            waiter_scope.cancel()  # the first waiter is cancelled, then the grants go out
            register(connection)

        pool._opener = gated_opener
        pool._register = register_after_cancelling  # type: ignore[method-assign]
        results: list[int] = []

        async def fetch(scope: trio.CancelScope) -> None:
            with scope:
                results.append((await client.get(h2_server.url + "/")).status_code)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(fetch, trio.CancelScope())  # opens the connection
            await trio.testing.wait_all_tasks_blocked()
            assert client.statistics().opening == 1
            nursery.start_soon(fetch, waiter_scope)
            nursery.start_soon(fetch, trio.CancelScope())
            await trio.testing.wait_all_tasks_blocked()
            assert client.statistics().waiters == 2
            opening.set()
        assert waiter_scope.cancelled_caught
        assert results == [200, 200]
        assert_clean(client)


@pytest.mark.usefixtures("h1_codec")
async def test_pool_timeout_and_grant_in_one_step(
    server: ServerThread, mock_clock: trio.testing.MockClock
) -> None:
    """The pool timeout and a release fall due at the same instant, in random order:
    the waiter raises PoolTimeout whichever comes first, and no slot is lost."""
    limits = httpcore.PoolLimits(hard_limit=1)
    timeout = httpcore.TimeoutConfig(pool_timeout=1.0)
    async with httpcore.TrioClient(pool_limits=limits, timeout=timeout) as client:
        for _ in range(20):
            held = await client.get(server.url + "/bytes/100000", stream=True, timeout=None)
            failures: list[BaseException] = []

            async def wait_in_pool(failures: list[BaseException] = failures) -> None:
                try:
                    await client.get(server.url + "/")
                except httpcore.PoolTimeout as exc:
                    failures.append(exc)

            async def release_at(deadline: float, held: Any = held) -> None:
                await trio.sleep_until(deadline)
                await held.close()

            async with trio.open_nursery() as nursery:
                deadline = trio.current_time() + 1.0
                nursery.start_soon(release_at, deadline)
                nursery.start_soon(wait_in_pool)
                await trio.testing.wait_all_tasks_blocked()
                assert client.statistics().waiters == 1
                mock_clock.jump(1.0)
            assert len(failures) == 1
            assert_clean(client)
        assert (await client.get(server.url + "/")).status_code == 200


@pytest.mark.usefixtures("h1_codec")
async def test_closing_the_client_fails_waiters_and_connections_being_opened(
    server: ServerThread,
) -> None:
    """Requests from tasks outside the client: one waiting, one connecting, when it closes."""
    errors: list[str] = []
    opening = trio.Event()

    async def request(client: httpcore.TrioClient) -> None:
        with pytest.raises(RuntimeError, match="closed") as info:
            await client.get(server.url + "/")
        errors.append(str(info.value))

    async with trio.open_nursery() as outer:
        limits = httpcore.PoolLimits(hard_limit=1)
        async with httpcore.TrioClient(pool_limits=limits) as client:
            pool = pool_of(client)
            opener = pool._opener

            async def gated_opener(*args: Any) -> Any:
                await opening.wait()
                return await opener(*args)

            pool._opener = gated_opener
            outer.start_soon(request, client)
            await trio.testing.wait_all_tasks_blocked()
            outer.start_soon(request, client)
            await trio.testing.wait_all_tasks_blocked()
            assert (client.statistics().opening, client.statistics().waiters) == (1, 1)
        await trio.testing.wait_all_tasks_blocked()
        assert errors == ["The client was closed while this request waited"]
        opening.set()
    assert errors[1] == "The client was closed while this request was connecting"
    assert_clean(client)
    assert client.statistics().connections == 0


async def test_body_wait_cancelled_as_its_data_is_routed() -> None:
    """The reader routes DATA into a stream's channel in the step its consumer is
    cancelled: the data stays in the channel, is acknowledged when the stream is
    abandoned, and no connection-level credit is lost."""
    import h2.events

    from tests.h2server import H2ServerConnection, h2_server

    send_data = trio.Event()

    async def handler(conn: H2ServerConnection) -> None:
        while (event := await conn.next_event()) is not None:
            if isinstance(event, h2.events.RequestReceived):
                conn.h2.send_headers(event.stream_id, [(b":status", b"200")])
                await conn.flush()
                await send_data.wait()
                conn.h2.send_data(event.stream_id, b"d" * 16_000)
                await conn.flush()

    async with h2_server(handler) as (url, _):
        async with httpcore.TrioClient(**H2C) as client:
            response = await client.get(url + "/", stream=True)
            (connection,) = [c for conns in pool_of(client)._by_key.values() for c in conns]
            consumer = trio.CancelScope()
            route = connection._route

            def route_after_cancelling(event: Any) -> None:
                if isinstance(event, h2.events.DataReceived):
                    consumer.cancel()
                route(event)

            connection._route = route_after_cancelling
            with consumer:
                send_data.set()
                await response.read()
            assert consumer.cancelled_caught
            assert response.is_closed
            window = connection._h2._inbound_flow_control_window_manager
            # All that arrived was credited (sent now, or batched by us or by h2).
            outstanding = window.max_window_size - window.current_window_size
            assert outstanding == window._bytes_processed + connection._connection_unacked
            assert outstanding > 0
            assert_clean(client)
            assert client.statistics().connections == 1


async def test_opener_cancelled_while_others_wait_on_it(
    h2_server: ServerThread, ca_file: str
) -> None:
    """The first request to an HTTP/2 origin is cancelled while connecting; the
    requests queued behind it open the connection themselves and share it."""
    async with httpcore.TrioClient(verify=ca_file, **H2C) as client:
        pool = pool_of(client)
        opener = pool._opener
        gate = trio.Event()

        async def gated_opener(*args: Any) -> Any:
            await gate.wait()
            return await opener(*args)

        pool._opener = gated_opener
        first = trio.CancelScope()
        results: list[str] = []

        async def fetch(scope: trio.CancelScope) -> None:
            with scope:
                results.append((await client.get(h2_server.url + "/")).protocol)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(fetch, first)
            await trio.testing.wait_all_tasks_blocked()
            for _ in range(3):
                nursery.start_soon(fetch, trio.CancelScope())
            await trio.testing.wait_all_tasks_blocked()
            assert (client.statistics().opening, client.statistics().waiters) == (1, 3)
            first.cancel()
            await trio.testing.wait_all_tasks_blocked()
            # The next waiter took the slot and is opening; the others wait for it.
            assert (client.statistics().opening, client.statistics().waiters) == (1, 2)
            gate.set()
        assert first.cancelled_caught
        assert results == ["HTTP/2"] * 3
        assert_clean(client)
        assert client.statistics().connections == 1


@pytest.mark.usefixtures("h1_codec")
async def test_waiter_cancelled_as_the_client_closes(server: ServerThread) -> None:
    """Cancelled in the step the client closes: the caller sees Cancelled, nothing else."""
    scope = trio.CancelScope()

    async def request(client: httpcore.TrioClient) -> None:
        with scope:
            await client.get(server.url + "/")

    async with trio.open_nursery() as outer:
        limits = httpcore.PoolLimits(hard_limit=1)
        async with httpcore.TrioClient(pool_limits=limits) as client:
            held = await client.get(server.url + "/bytes/100000", stream=True)
            outer.start_soon(request, client)
            await trio.testing.wait_all_tasks_blocked()
            assert client.statistics().waiters == 1
            scope.cancel()  # then the client closes in this same step
    assert scope.cancelled_caught
    await held.close()
    stats = client.statistics()
    assert (stats.connections, stats.opening, stats.waiters, stats.streams) == (0, 0, 0, 0)


async def test_idle_http2_connections_discarded_by_the_pool(
    h2_server: ServerThread, ca_file: str
) -> None:
    """Expired, or evicted for another origin: an HTTP/2 connection reports its own
    closing from inside `close_nowait()`, in the middle of the pool's decision; the
    pool ignores that report, and its counts stay right."""
    limits = httpcore.PoolLimits(hard_limit=1, keepalive_expiry=0.0)
    async with httpcore.TrioClient(pool_limits=limits, verify=ca_file, **H2C) as client:
        first = await client.get(h2_server.url + "/")
        await trio.sleep(0.01)  # past the (zero) keep-alive expiry
        second = await client.get(h2_server.url + "/")
        assert first.protocol == second.protocol == "HTTP/2"
        assert_clean(client)
        assert client.statistics().connections == 1
        # hard_limit=1: the idle connection is evicted for another origin (the same
        # server by another name).
        other = h2_server.url.replace("127.0.0.1", "localhost")
        assert (await client.get(other + "/", timeout=None)).protocol == "HTTP/2"
        assert_clean(client)
        assert client.statistics().connections == 1
