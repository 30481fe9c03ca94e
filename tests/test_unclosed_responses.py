"""A streaming response never closed gives its connection back when it is garbage collected.

Whether it was dropped or its task was cancelled before closing it, the
release happens on the client's trio loop (closing an HTTP/1.1 connection,
resetting an HTTP/2 stream) with a ResourceWarning telling the caller to use
`async with` / `with`.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import h2.events
import pytest
import trio
import trio.testing

import httpcore
from tests.h2server import H2ServerConnection, h2_server
from tests.servers import ServerThread
from tests.test_cancellation import assert_clean

LIMITS = httpcore.PoolLimits(hard_limit=1)
QUICK = httpcore.TimeoutConfig(5.0, pool_timeout=1.0)  # no slot may be left held
WARNING = r"garbage collected before it was closed.*`async with response:`"


async def released(client: httpcore.TrioClient) -> None:
    """Until the release scheduled by the finalizer has run (and any reset was flushed)."""
    with trio.fail_after(5):
        while client.statistics().streams:
            await trio.sleep(0.001)
    await trio.testing.wait_all_tasks_blocked()


@pytest.mark.usefixtures("h1_codec")
async def test_dropped_http1_response_closes_its_connection(server: ServerThread) -> None:
    async with httpcore.TrioClient(pool_limits=LIMITS) as client:
        response = await client.get(server.url + "/bytes/100000", stream=True)
        assert client.statistics().streams == 1
        with pytest.warns(ResourceWarning, match=WARNING):
            del response
            gc.collect()
        await released(client)
        assert_clean(client)
        assert client.statistics().connections == 0  # unread: not reusable
        assert (await client.get(server.url + "/", timeout=QUICK)).status_code == 200


@pytest.mark.usefixtures("h1_codec")
async def test_response_of_a_cancelled_task_is_released(server: ServerThread) -> None:
    """The task that held an open stream was cancelled before it could close it."""
    async with httpcore.TrioClient(pool_limits=LIMITS) as client:

        async def careless() -> None:
            response = await client.get(server.url + "/bytes/100000", stream=True)
            assert response.status_code == 200
            await trio.sleep_forever()
            await response.close()  # pragma: no cover - never reached: the point of the test

        with pytest.warns(ResourceWarning, match=WARNING):
            with trio.move_on_after(0.2):
                await careless()
            # trio's run loop still holds the Cancelled that woke this task (and
            # through its traceback, the response) until the task's next step.
            await trio.sleep(0)
            gc.collect()
        await released(client)
        assert_clean(client)
        assert (await client.get(server.url + "/", timeout=QUICK)).status_code == 200


async def test_dropped_http2_response_resets_its_stream(
    h2_server: ServerThread, ca_file: str
) -> None:
    limits = httpcore.PoolLimits(hard_limit=1)
    async with httpcore.TrioClient(pool_limits=limits, verify=ca_file, http1=False) as client:
        response = await client.get(h2_server.url + "/bytes/4000000", stream=True)
        assert response.protocol == "HTTP/2"
        with pytest.warns(ResourceWarning, match=WARNING):
            del response
            gc.collect()
        await released(client)
        assert_clean(client)
        assert client.statistics().connections == 1  # the connection stays, idle
        assert (await client.get(h2_server.url + "/", timeout=QUICK)).status_code == 200


async def test_dropped_http2_response_sends_rst_stream() -> None:
    """The reset reaches the server, though nobody awaits anything on that connection."""
    reset = trio.Event()

    async def handler(conn: H2ServerConnection) -> None:
        while (event := await conn.next_event()) is not None:
            if isinstance(event, h2.events.RequestReceived):
                conn.h2.send_headers(event.stream_id, [(b":status", b"200")])
                conn.h2.send_data(event.stream_id, b"partial")
                await conn.flush()
            elif isinstance(event, h2.events.StreamReset):
                assert event.error_code == h2.errors.ErrorCodes.CANCEL
                reset.set()

    async with h2_server(handler) as (url, _):
        async with httpcore.TrioClient(http1=False) as client:
            response = await client.get(url + "/", stream=True)
            with pytest.warns(ResourceWarning, match=WARNING):
                del response
                gc.collect()
            with trio.fail_after(5):
                await reset.wait()
            assert_clean(client)


@pytest.mark.parametrize("protocol", ["HTTP/1.1", "HTTP/2"])
def test_dropped_response_of_the_blocking_client(
    protocol: str, server: ServerThread, h2_server: ServerThread, ca_file: str
) -> None:
    """The finalizer runs in the caller's thread; the release in the client's trio thread."""
    url = server.url if protocol == "HTTP/1.1" else h2_server.url
    kwargs: dict[str, Any] = {"http1": False} if protocol == "HTTP/2" else {}
    with httpcore.Client(pool_limits=LIMITS, verify=ca_file, **kwargs) as client:
        response = client.get(url + "/bytes/4000000", stream=True)
        assert response.protocol == protocol
        with pytest.warns(ResourceWarning, match=WARNING):
            del response
            gc.collect()
        deadline = time.monotonic() + 5
        while client._engine.statistics().streams and time.monotonic() < deadline:
            time.sleep(0.001)
        assert client._engine.statistics().streams == 0
        assert client.get(url + "/", timeout=QUICK).status_code == 200


@pytest.mark.parametrize("protocol", ["HTTP/1.1", "HTTP/2"])
async def test_dropped_after_the_client_closed(
    protocol: str, server: ServerThread, h2_server: ServerThread, ca_file: str
) -> None:
    """Nothing left to release (the client closed every connection): just the warning."""
    url = server.url if protocol == "HTTP/1.1" else h2_server.url
    kwargs: dict[str, Any] = {"http1": False} if protocol == "HTTP/2" else {}
    async with httpcore.TrioClient(verify=ca_file, **kwargs) as client:
        response = await client.get(url + "/bytes/100000", stream=True)
        assert response.protocol == protocol
    with pytest.warns(ResourceWarning, match=WARNING):
        del response
        gc.collect()
    await trio.testing.wait_all_tasks_blocked()  # the scheduled release has run
    assert client.statistics() == type(client.statistics())(0, 0, 0, 0, 0)


def test_dropped_after_the_blocking_client_closed(server: ServerThread) -> None:
    """The client's trio run has ended: the release has nowhere to run, and needs none."""
    with httpcore.Client() as client:
        response = client.get(server.url + "/bytes/100000", stream=True)
    with pytest.warns(ResourceWarning, match=WARNING):
        del response
        gc.collect()
