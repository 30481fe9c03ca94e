"""retries=N: connect failures of idempotent requests are tried again on a fresh connection.

Against real loopback sockets: a port nobody listens on (then a listener
opened on it), raw trio servers that stall the TLS handshake (ConnectTimeout,
each attempt with its own connect timeout) or drop it (ConnectError), and a
server that fails after the request was sent (never retried). The backoff
(0 s, then 0.5 s, 1 s, ...) runs on trio's clock; `autojump_clock` makes it
instant and the timings exact.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio
import trio.testing

import httpcore
from httpcore._trio.client import _retry_delay
from tests.servers import ServerThread, read_request_head

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Listener:
    """A raw server on a loopback port that counts the connections it accepted."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.connections = 0

    async def handle(self, stream: trio.SocketStream) -> None:
        self.connections += 1
        if self.behaviour == "stall":  # never answers the TLS handshake
            await trio.sleep_forever()
        if self.behaviour == "answer":
            await read_request_head(stream)
            await stream.send_all(OK)
        if self.behaviour == "read-and-close":
            await read_request_head(stream)
        await stream.aclose()


@asynccontextmanager
async def listening(listener: Listener, port: int = 0) -> AsyncIterator[int]:
    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(port, host="127.0.0.1")
        await nursery.start(trio.serve_listeners, listener.handle, listeners)
        try:
            yield listeners[0].socket.getsockname()[1]
        finally:
            nursery.cancel_scope.cancel()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_backoff() -> None:
    assert [_retry_delay(n) for n in range(1, 8)] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


async def test_connect_timeout_applies_to_each_attempt(
    autojump_clock: trio.testing.MockClock,
) -> None:
    listener = Listener("stall")
    timeout = httpcore.TimeoutConfig(5, connect_timeout=0.2)
    async with listening(listener) as port:
        async with httpcore.TrioClient(timeout=timeout, retries=2) as client:
            started = trio.current_time()
            with pytest.raises(httpcore.ConnectTimeout) as info:
                await client.get(f"https://127.0.0.1:{port}/")
            # three attempts of 0.2 s each, and the 0 s and 0.5 s waits between them
            assert trio.current_time() - started == pytest.approx(1.1)
            assert info.value.request is not None
            assert client.statistics().connections == 0
    assert listener.connections == 3


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"])
async def test_idempotent_methods_are_retried(
    autojump_clock: trio.testing.MockClock, method: str
) -> None:
    listener = Listener("close")  # a TLS handshake cut short: ConnectError
    async with listening(listener) as port:
        async with httpcore.TrioClient(retries=3) as client:
            with pytest.raises(httpcore.ConnectError):
                await client.request(method, f"https://127.0.0.1:{port}/")
    assert listener.connections == 4


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_other_methods_are_not_retried(
    autojump_clock: trio.testing.MockClock, method: str
) -> None:
    listener = Listener("close")
    async with listening(listener) as port:
        async with httpcore.TrioClient(retries=3) as client:
            with pytest.raises(httpcore.ConnectError):
                await client.request(method, f"https://127.0.0.1:{port}/", data=b"x")
    assert listener.connections == 1


async def test_no_retries_by_default(autojump_clock: trio.testing.MockClock) -> None:
    listener = Listener("close")
    async with listening(listener) as port:
        async with httpcore.TrioClient() as client:
            assert client.retries == 0
            with pytest.raises(httpcore.ConnectError):
                await client.get(f"https://127.0.0.1:{port}/")
    assert listener.connections == 1


async def test_a_failure_after_connecting_is_not_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    listener = Listener("read-and-close")
    async with listening(listener) as port:
        async with httpcore.TrioClient(retries=3) as client:
            with pytest.raises(httpcore.RemoteProtocolError):
                await client.get(f"http://127.0.0.1:{port}/")
    assert listener.connections == 1


async def test_a_refused_port_then_a_listener(autojump_clock: trio.testing.MockClock) -> None:
    port = free_port()
    seen: list[httpcore.Request] = []

    async def record(request: httpcore.Request) -> None:
        seen.append(request)

    async with httpcore.TrioClient(retries=1, event_hooks={"request": [record]}) as client:
        started = trio.current_time()
        with pytest.raises(httpcore.ConnectError) as info:
            await client.get(f"http://127.0.0.1:{port}/")
        assert f"127.0.0.1:{port}" in str(info.value)
        assert trio.current_time() == started  # the first retry is immediate

        listener = Listener("answer")
        client.retries = 3
        async with trio.open_nursery() as nursery:

            async def open_later() -> None:
                await trio.sleep(0.25)  # between the second attempt (0 s) and the third (0.5 s)
                async with listening(listener, port):
                    await trio.sleep(10)

            nursery.start_soon(open_later)
            started = trio.current_time()
            response = await client.get(f"http://127.0.0.1:{port}/")
            assert response.text == "ok"
            assert trio.current_time() - started == pytest.approx(0.5)
            nursery.cancel_scope.cancel()
    assert listener.connections == 1
    assert len(seen) == 2  # request hooks run once per request, not per attempt


async def test_the_total_deadline_stops_the_retries(
    autojump_clock: trio.testing.MockClock,
) -> None:
    listener = Listener("close")
    async with listening(listener) as port:
        timeout = httpcore.TimeoutConfig(5, total=0.3)
        async with httpcore.TrioClient(retries=5, timeout=timeout) as client:
            with pytest.raises(httpcore.ConnectError):
                await client.get(f"https://127.0.0.1:{port}/")
    # the first retry is immediate; the next would wait 0.5 s, past the deadline
    assert listener.connections == 2


def test_the_blocking_client_retries(server: ServerThread) -> None:
    port = free_port()
    with httpcore.Client(retries=2) as client:
        with pytest.raises(httpcore.ConnectError):
            client.get(f"http://127.0.0.1:{port}/")
        assert client.get(server.url + "/").status_code == 200


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (-1, ValueError, "retries must be >= 0, not -1"),
        ("2", TypeError, "retries must be an int, not '2'"),
        (True, TypeError, "retries must be an int, not True"),
    ],
)
def test_retries_are_validated(value: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        httpcore.TrioClient(retries=value)  # type: ignore[arg-type]
