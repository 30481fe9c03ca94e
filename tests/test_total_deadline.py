"""TimeoutConfig(total=...): one deadline for the whole request.

It covers pool waits, connects, writes, every redirect hop and auth round
trip, and reading the body (a streaming response's reads too, until the
deadline). When it fires, the phase that was running raises its own timeout
class (SPEC §7), with a message naming the total deadline. Raw trio servers
stall each phase; `autojump_clock` makes the timings exact. Real servers
(hypercorn over HTTP/1.1 and HTTP/2) check the same in real time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

import httpcore
from tests.h2server import H2ServerConnection, h2_server
from tests.servers import ServerThread, read_request_head

Handler = Callable[[trio.SocketStream], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        await nursery.start(trio.serve_listeners, handler, listeners)
        try:
            yield f"127.0.0.1:{listeners[0].socket.getsockname()[1]}"
        finally:
            nursery.cancel_scope.cancel()


def assert_deadline(exc: BaseException, cls: type[Exception], total: float, phase: str) -> None:
    assert type(exc) is cls, repr(exc)
    assert isinstance(exc, httpcore.RequestError) and exc.request is not None
    message = str(exc)
    assert message.startswith(f"{cls.__name__}: the total deadline of {total:g} s for ")
    assert f"{exc.request.method} {exc.request.url}" in message
    assert message.endswith(f"was exceeded while {phase}")


def assert_pool_released(client: httpcore.TrioClient) -> None:
    stats = client.statistics()
    assert stats.connections == stats.idle and stats.opening == 0 and stats.waiters == 0, stats


# -- TimeoutConfig -------------------------------------------------------------------------


def test_timeout_config_total() -> None:
    assert httpcore.TimeoutConfig().total is None
    config = httpcore.TimeoutConfig(5, total=30)
    assert config.total == 30.0 and config.read_timeout == 5.0
    assert repr(config) == "TimeoutConfig(timeout=5.0, total=30.0)"
    assert httpcore.TimeoutConfig(config).total == 30.0
    assert httpcore.TimeoutConfig(config, total=None).total is None
    assert httpcore.TimeoutConfig(None, total=2).total == 2.0
    assert config != httpcore.TimeoutConfig(5)
    assert hash(config) != hash(httpcore.TimeoutConfig(5))
    assert config == httpcore.TimeoutConfig(5.0, total=30.0)
    assert repr(httpcore.TimeoutConfig(1, read_timeout=2, total=3)) == (
        "TimeoutConfig(connect_timeout=1.0, read_timeout=2.0, write_timeout=1.0,"
        " pool_timeout=1.0, total=3.0)"
    )
    with pytest.raises(ValueError, match="total must be >= 0 seconds"):
        httpcore.TimeoutConfig(total=-1)
    with pytest.raises(TypeError, match="total must be a number of seconds or None"):
        httpcore.TimeoutConfig(total="3")  # type: ignore[arg-type]


# -- each phase, against raw servers that stall ------------------------------------------


async def test_connect(autojump_clock: trio.testing.MockClock) -> None:
    async def stall_handshake(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    async with serving(stall_handshake) as address:
        async with httpcore.TrioClient(timeout=httpcore.TimeoutConfig(10, total=0.3)) as client:
            with pytest.raises(httpcore.ConnectTimeout) as info:
                await client.get(f"https://{address}/")
            assert trio.current_time() == pytest.approx(0.3)
            assert_deadline(info.value, httpcore.ConnectTimeout, 0.3, "connecting")


async def answer_then_stall(stream: trio.SocketStream) -> None:
    """Answer with a head and the first 2 of 100 body bytes, then nothing."""
    await read_request_head(stream)
    await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nok")
    await trio.sleep_forever()


async def test_pool_wait(autojump_clock: trio.testing.MockClock) -> None:
    async with serving(answer_then_stall) as address:
        limits = httpcore.PoolLimits(hard_limit=1)
        async with httpcore.TrioClient(pool_limits=limits) as client:
            async with client.stream("GET", f"http://{address}/") as held:
                assert held.status_code == 200
                timeout = httpcore.TimeoutConfig(10, total=0.3)
                with pytest.raises(httpcore.PoolTimeout) as info:
                    await client.get(f"http://{address}/", timeout=timeout)
                assert trio.current_time() == pytest.approx(0.3)
            assert_deadline(
                info.value, httpcore.PoolTimeout, 0.3, "waiting for a connection from the pool"
            )
            assert_pool_released(client)


async def test_write(autojump_clock: trio.testing.MockClock) -> None:
    async def never_read(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        await trio.sleep_forever()

    async def body() -> AsyncIterator[bytes]:
        chunk = b"x" * 65536
        for _ in range(1024):  # 64 MiB: far more than the socket buffers hold
            yield chunk

    async with serving(never_read) as address:
        async with httpcore.TrioClient(timeout=httpcore.TimeoutConfig(10, total=0.3)) as client:
            with pytest.raises(httpcore.WriteTimeout) as info:
                await client.put(f"http://{address}/", data=body())
            assert trio.current_time() == pytest.approx(0.3)
            assert_deadline(info.value, httpcore.WriteTimeout, 0.3, "sending the request")
            assert_pool_released(client)


async def test_read_head(autojump_clock: trio.testing.MockClock) -> None:
    async def never_answer(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        await trio.sleep_forever()

    async with serving(never_answer) as address:
        async with httpcore.TrioClient(timeout=httpcore.TimeoutConfig(10, total=0.3)) as client:
            with pytest.raises(httpcore.ReadTimeout) as info:
                await client.get(f"http://{address}/")
            assert trio.current_time() == pytest.approx(0.3)
            assert_deadline(info.value, httpcore.ReadTimeout, 0.3, "reading the response")


async def trickle(stream: trio.SocketStream) -> None:
    """A body of 1000 bytes, one every 0.1 s: no single wait is long, the whole is."""
    await read_request_head(stream)
    try:
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            await trio.sleep(0.1)
            await stream.send_all(b"x")
    except trio.BrokenResourceError:
        pass  # the client gave up


async def test_reading_the_body(autojump_clock: trio.testing.MockClock) -> None:
    async with serving(trickle) as address:
        timeout = httpcore.TimeoutConfig(1, total=2)
        async with httpcore.TrioClient(timeout=timeout) as client:
            with pytest.raises(httpcore.ReadTimeout) as info:
                await client.get(f"http://{address}/")
            assert trio.current_time() == pytest.approx(2)
            assert_deadline(info.value, httpcore.ReadTimeout, 2, "reading the response")
            assert_pool_released(client)


async def test_a_streaming_body_until_the_deadline(autojump_clock: trio.testing.MockClock) -> None:
    async with serving(trickle) as address:
        timeout = httpcore.TimeoutConfig(1, total=2)
        async with httpcore.TrioClient(timeout=timeout) as client:
            received = b""
            with pytest.raises(httpcore.ReadTimeout) as info:
                async with client.stream("GET", f"http://{address}/") as response:
                    assert trio.current_time() == 0  # the head arrived at once
                    async for chunk in response.raw():
                        received += chunk
            assert trio.current_time() == pytest.approx(2)
            assert 15 <= len(received) <= 20
            assert_deadline(info.value, httpcore.ReadTimeout, 2, "reading the response")
            assert_pool_released(client)
            # Without a total, the same body is read to the end.
            async with client.stream("GET", f"http://{address}/", timeout=1) as response:
                assert len(await response.read()) == 1000


def slow_site(delay: float) -> Handler:
    """/r/N redirects to /r/N-1, /r/0 answers 200, each after `delay`; /auth wants a header."""

    async def handler(stream: trio.SocketStream) -> None:
        while head := await read_request_head(stream):
            await trio.sleep(delay)
            path = head.split(b" ")[1].decode()
            if path.startswith("/r/") and path != "/r/0":
                target = f"/r/{int(path[3:]) - 1}"
                reply = f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n"
            elif path == "/auth" and b"x-token: " not in head.lower():
                reply = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
            else:
                reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            await stream.send_all(reply.encode())

    return handler


async def test_redirects(autojump_clock: trio.testing.MockClock) -> None:
    async with serving(slow_site(0.2)) as address:
        async with httpcore.TrioClient(timeout=httpcore.TimeoutConfig(1, total=0.5)) as client:
            with pytest.raises(httpcore.ReadTimeout) as info:
                await client.get(f"http://{address}/r/5")
            assert trio.current_time() == pytest.approx(0.5)
            assert_deadline(info.value, httpcore.ReadTimeout, 0.5, "reading the response")
            assert info.value.request is not None
            assert info.value.request.url.path == "/r/3"  # the third hop
            started = trio.current_time()
            response = await client.get(
                f"http://{address}/r/5", timeout=httpcore.TimeoutConfig(1, total=2)
            )
            assert len(response.history) == 5
            assert trio.current_time() - started == pytest.approx(1.2)


class TokenAuth(httpcore.Auth):
    """Sends the request bare, then with a token when the server answers 401."""

    def auth_flow(
        self, request: httpcore.Request
    ) -> Generator[httpcore.Request, httpcore.AsyncResponse, None]:
        response = yield request
        if response.status_code == 401:
            request.headers["X-Token"] = "secret"
            yield request


async def test_auth_round_trips(autojump_clock: trio.testing.MockClock) -> None:
    async with serving(slow_site(0.2)) as address:
        async with httpcore.TrioClient(timeout=httpcore.TimeoutConfig(1, total=0.3)) as client:
            with pytest.raises(httpcore.ReadTimeout) as info:
                await client.get(f"http://{address}/auth", auth=TokenAuth())
            assert trio.current_time() == pytest.approx(0.3)
            assert_deadline(info.value, httpcore.ReadTimeout, 0.3, "reading the response")
            response = await client.get(f"http://{address}/auth", auth=TokenAuth(), timeout=10)
            assert response.text == "ok"


async def test_a_phase_timeout_keeps_its_own_message(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with serving(answer_then_stall) as address:
        timeout = httpcore.TimeoutConfig(0.2, total=10)
        async with httpcore.TrioClient(timeout=timeout) as client:
            with pytest.raises(httpcore.ReadTimeout) as info:
                await client.get(f"http://{address}/")
            assert trio.current_time() == pytest.approx(0.2)
            assert "total deadline" not in str(info.value)
            async with client.stream("GET", f"http://{address}/") as response:
                with pytest.raises(httpcore.ReadTimeout) as info:
                    await response.read()
            assert "total deadline" not in str(info.value)


async def test_a_per_request_timeout_replaces_the_total(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with serving(trickle) as address:
        async with httpcore.TrioClient(timeout=httpcore.TimeoutConfig(1, total=0.5)) as client:
            response = await client.get(f"http://{address}/", timeout=None)
            assert len(response.content) == 1000
            assert trio.current_time() == pytest.approx(100)


async def test_a_dispatch_timeout_is_explained(autojump_clock: trio.testing.MockClock) -> None:
    async def handler(request: httpcore.Request) -> httpcore.AsyncResponse:
        await trio.sleep(1)
        raise httpcore.TimeoutException("the handler gave up")

    dispatch = httpcore.MockDispatch(handler)
    async with httpcore.TrioClient(
        dispatch=dispatch, timeout=httpcore.TimeoutConfig(total=0.5)
    ) as client:
        with pytest.raises(httpcore.TimeoutException) as info:
            await client.get("http://example.org/")
    assert_deadline(info.value, httpcore.TimeoutException, 0.5, "waiting")


async def test_a_body_without_aclose(autojump_clock: trio.testing.MockClock) -> None:
    class Chunks:
        def __init__(self) -> None:
            self.chunks = [b"a", b"b"]

        def __aiter__(self) -> Chunks:
            return self

        async def __anext__(self) -> bytes:
            if not self.chunks:
                raise StopAsyncIteration
            return self.chunks.pop(0)

    def handler(request: httpcore.Request) -> httpcore.AsyncResponse:
        return httpcore.AsyncResponse(200, content=Chunks())

    dispatch = httpcore.MockDispatch(handler)
    async with httpcore.TrioClient(
        dispatch=dispatch, timeout=httpcore.TimeoutConfig(total=1)
    ) as client:
        assert (await client.get("http://example.org/")).content == b"ab"
        async with client.stream("GET", "http://example.org/") as response:
            pass  # closed unread
        assert response.is_closed


# -- real servers, real time -----------------------------------------------------------


def h2_kwargs(server: ServerThread, ca_file: str) -> dict[str, Any]:
    if server.url.startswith("https"):
        return {"verify": ca_file}
    return {"http1": False}


async def test_http2_streaming_body(h2_server: ServerThread, ca_file: str) -> None:
    timeout = httpcore.TimeoutConfig(5, total=0.5)
    async with httpcore.TrioClient(timeout=timeout, **h2_kwargs(h2_server, ca_file)) as client:
        started = trio.current_time()
        with pytest.raises(httpcore.ReadTimeout) as info:
            async with client.stream("GET", h2_server.url + "/slow-body?delay=3") as response:
                assert response.protocol == "HTTP/2"
                await response.read()
        assert 0.45 < trio.current_time() - started < 1.5
        assert_deadline(info.value, httpcore.ReadTimeout, 0.5, "reading the response")
        assert (await client.get(h2_server.url + "/")).status_code == 200


async def test_http2_upload_held_by_flow_control(autojump_clock: trio.testing.MockClock) -> None:
    """A raw HTTP/2 server that never gives window: the upload waits for it."""

    async def never_acknowledge(conn: H2ServerConnection) -> None:
        while await conn.next_event() is not None:
            pass

    async with h2_server(never_acknowledge) as (url, _):
        timeout = httpcore.TimeoutConfig(5, total=0.5)
        async with httpcore.TrioClient(timeout=timeout, http1=False) as client:
            with pytest.raises(httpcore.WriteTimeout) as info:
                await client.post(url + "/", data=b"x" * (1 << 20))
            assert trio.current_time() == pytest.approx(0.5)
            assert_deadline(info.value, httpcore.WriteTimeout, 0.5, "sending the request")
            stats = client.statistics()
            assert stats.streams == 0 and stats.waiters == 0 and stats.opening == 0, stats


def test_blocking_client(server: ServerThread) -> None:
    with httpcore.Client(timeout=httpcore.TimeoutConfig(5, total=0.5)) as client:
        with pytest.raises(httpcore.ReadTimeout) as info:
            client.get(server.url + "/slow-body?delay=3")
        assert_deadline(info.value, httpcore.ReadTimeout, 0.5, "reading the response")
        assert client.get(server.url + "/").text == "Hello, world!"
