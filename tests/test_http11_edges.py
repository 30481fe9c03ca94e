"""Edges of the HTTP/1.1 engine: bad local framing, TLS errors, use after close."""

from __future__ import annotations

import socket
import struct
from typing import Any

import pytest
import trio

import httpcore
from httpcore._trio.pool import ConnectionPool
from tests.servers import ServerThread, raw_server, read_request_head

pytestmark = pytest.mark.usefixtures("h1_codec")


@pytest.mark.parametrize(
    ("headers", "content", "message"),
    [
        ({"Transfer-Encoding": "gzip"}, b"abc", "Transfer-Encoding"),
        ({"Content-Length": "3"}, b"0123456789", "Content-Length"),
        ({"Content-Length": "10"}, b"abc", "Content-Length"),
    ],
)
async def test_inconsistent_framing_set_by_hand_is_refused(
    server: ServerThread, headers: dict[str, str], content: bytes, message: str
) -> None:
    async with httpcore.TrioClient() as client:
        with pytest.raises(httpcore.LocalProtocolError, match=message) as info:
            await client.post(server.url + "/echo", data=content, headers=headers)
        assert info.value.request is not None
        stats = client.statistics()
        assert stats.connections == stats.idle
        assert (await client.get(server.url + "/")).status_code == 200


async def test_tls_to_a_plain_http_server(server: ServerThread) -> None:
    async with httpcore.TrioClient() as client:
        with pytest.raises(httpcore.ConnectError, match="TLS error"):
            await client.get(server.url.replace("http://", "https://") + "/")


async def test_reading_after_the_client_exited(server: ServerThread) -> None:
    async with httpcore.TrioClient() as client:
        response = await client.get(server.url + "/bytes/300000?chunk=1000", stream=True)
    with pytest.raises(httpcore.ReadError) as info:
        await response.read()
    assert info.value.request is response.request
    assert client.statistics().connections == 0


async def test_upload_reset_without_an_answer_is_a_write_error() -> None:
    async def handler(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        await stream.receive_some(1024)
        # Close with unread data and SO_LINGER 0: the peer sees a reset, no response.
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        stream.socket.close()

    # The reset reaches the blocked upload and the waiting reader in the same
    # scheduling batch, whose order trio randomises: either may see it first, and
    # both ways must end in WriteError. Repeated, so that both orders are taken.
    async with raw_server(handler) as url:
        async with httpcore.TrioClient() as client:
            for _ in range(16):
                with pytest.raises(httpcore.WriteError):
                    await client.post(url + "/", data=b"x" * (32 * 1024 * 1024))
                assert client.statistics().connections == 0


async def test_body_iterator_after_its_end(server: ServerThread) -> None:
    async with httpcore.TrioClient() as client:
        response = await client.get(server.url + "/", stream=True)
        body: Any = response._stream
        assert [chunk async for chunk in body] == [b"Hello, world!"]
        with pytest.raises(StopAsyncIteration):
            await body.__anext__()
        await response.close()


async def test_two_failed_connects_give_both_slots_back() -> None:
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    async with httpcore.TrioClient() as client:
        errors: list[BaseException] = []

        async def fetch() -> None:
            try:
                await client.get(f"http://127.0.0.1:{port}/")
            except httpcore.ConnectError as exc:
                errors.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(fetch)
            nursery.start_soon(fetch)
        assert len(errors) == 2
        assert client.statistics() == httpcore._trio.pool.PoolStatistics(0, 0, 0, 0)


async def test_closed_pool_refuses_requests() -> None:
    async def opener(*args: Any) -> Any:
        raise AssertionError("never called")  # pragma: no cover - the pool is closed

    pool = ConnectionPool(httpcore.PoolLimits(), opener)
    await pool.aclose()
    request = httpcore.Request("GET", "http://example.org/")
    with pytest.raises(RuntimeError, match="closed"):
        await pool.handle_request("key", request, httpcore.TimeoutConfig())


async def test_block_exceptions_are_not_wrapped_in_groups(server: ServerThread) -> None:
    with pytest.raises(httpcore.ConnectError):
        async with httpcore.TrioClient() as client:
            await client.get("http://127.0.0.1:1/")


async def test_background_task_failure_is_reported_as_a_group() -> None:
    async def boom() -> None:
        raise ValueError("background")

    with pytest.raises(ExceptionGroup) as info:
        async with httpcore.TrioClient() as client:
            client._nursery.start_soon(boom)
    assert info.group_contains(ValueError, match="background")


class BrokenAuth(httpcore.Auth):
    def auth_flow(self, request: httpcore.Request) -> Any:
        yield request
        raise ValueError("auth bug")


async def test_auth_flow_bug_propagates(server: ServerThread) -> None:
    async with httpcore.TrioClient() as client:
        with pytest.raises(ValueError, match="auth bug"):
            await client.get(server.url + "/", auth=BrokenAuth())
        stats = client.statistics()
        assert stats.connections == stats.idle


def test_error_without_a_described_cause() -> None:
    from httpcore._trio.network import translate_error

    error = translate_error(trio.BrokenResourceError(), httpcore.ReadError, httpcore.ReadTimeout)
    assert isinstance(error, httpcore.ReadError)
    assert str(error) == "BrokenResourceError"


async def test_connection_forgotten_twice(server: ServerThread) -> None:
    """A connection that fails while the pool is closing is forgotten only once."""
    async with httpcore.TrioClient() as client:
        await client.get(server.url + "/")
        pool = client._dispatch.pool  # type: ignore[attr-defined]
        (connection,) = [c for conns in pool._by_key.values() for c in conns]
        pool._discard(connection)
        pool._forget(connection)
        assert client.statistics() == httpcore._trio.pool.PoolStatistics(0, 0, 0, 0)
