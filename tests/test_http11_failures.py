"""HTTP/1.1 against misbehaving raw servers, through `TrioClient` and `AsyncClient`.

Each server here is a few lines of trio that read the request and write exact
bytes, for what a real server will not do: truncated or broken bodies, garbage
and oversize heads, stalls, connections closed at awkward moments. Every
failure must raise the exact SPEC §7 class with `.request` set, finish well
within a guard deadline (nothing hangs), and leave the pool without a leaked
connection, so that the next request to a good server works.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

import httpcore
from tests.clients import flavoured_client
from tests.servers import CountingServer, ServerThread, raw_server, read_request_head

pytestmark = pytest.mark.usefixtures("h1_codec")

# Every test runs under this deadline: a hang fails the test instead of the suite.
HANG_GUARD = 8.0
SHORT = 0.3

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
Handler = Callable[[trio.SocketStream], Awaitable[None]]


class Recorder:
    """What a raw server saw: connections accepted and request heads read."""

    def __init__(self) -> None:
        self.connections = 0
        self.heads: list[bytes] = []

    @property
    def methods(self) -> list[str]:
        return [head.split(b" ", 1)[0].decode() for head in self.heads]


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


async def read_request(stream: trio.SocketStream) -> bytes:
    """Read one request, head and Content-Length body; return its head (b"" at EOF)."""
    data = await read_request_head(stream)
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return b""
    while len(body) < _content_length(head):
        chunk = await stream.receive_some(65536)
        if not chunk:
            return b""
        body += chunk
    return head


def answer_every_request(recorder: Recorder, reply: bytes) -> Handler:
    """Answer every request with `reply`, keeping each connection open until the client closes."""

    async def handler(stream: trio.SocketStream) -> None:
        recorder.connections += 1
        try:
            while head := await read_request(stream):
                recorder.heads.append(head)
                await stream.send_all(reply)
        except trio.BrokenResourceError:
            pass

    return handler


def reply_once(recorder: Recorder, reply: bytes, *, then: str) -> Handler:
    """Read a request, send `reply`, then "close" or "stall" (hold the socket open)."""

    async def handler(stream: trio.SocketStream) -> None:
        recorder.connections += 1
        recorder.heads.append(await read_request(stream))
        try:
            await stream.send_all(reply)
        except trio.BrokenResourceError:
            return
        if then == "stall":
            await trio.sleep_forever()

    return handler


# Every test runs with TrioClient and with AsyncClient (in an asyncio thread).
FLAVOUR = ["trio"]


@pytest.fixture(autouse=True, params=["trio", "asyncio"])
def flavour(request: pytest.FixtureRequest) -> Iterator[str]:
    FLAVOUR[0] = request.param
    yield request.param
    FLAVOUR[0] = "trio"


@asynccontextmanager
async def guarded_client(**kwargs: Any) -> AsyncIterator[Any]:
    with trio.fail_after(HANG_GUARD):
        async with flavoured_client(FLAVOUR[0], **kwargs) as client:
            yield client


def assert_no_leak(client: httpcore.TrioClient, *, connections: int | None = None) -> None:
    stats = client.statistics()
    assert stats.connections == stats.idle, stats
    assert stats.opening == 0, stats
    assert stats.waiters == 0, stats
    if connections is not None:
        assert stats.connections == connections, stats


async def assert_healthy(client: httpcore.TrioClient, server: ServerThread) -> None:
    """No leaked connection, and the client still works against a good server."""
    assert_no_leak(client)
    response = await client.get(server.url + "/")
    assert response.status_code == 200
    assert response.text == "Hello, world!"
    assert_no_leak(client)


def assert_error(exc: BaseException, cls: type[Exception], url: str) -> None:
    assert type(exc) is cls, repr(exc)
    assert isinstance(exc, httpcore.RequestError)
    assert exc.request is not None, f"{cls.__name__} raised without .request"
    assert exc.request.url == url


async def read_body(client: httpcore.TrioClient, url: str, *, stream: bool) -> bytes:
    """GET `url`; with `stream` the body is read while iterating, after the head arrived."""
    if not stream:
        return (await client.get(url)).content
    async with client.stream("GET", url) as response:
        assert response.status_code == 200
        return b"".join([chunk async for chunk in response.stream()])


# -- 1, 2. bodies cut short or broken --------------------------------------------------------------

BROKEN_BODIES = {
    "content-length-truncated": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10,
        "close",
    ),
    "chunk-size-not-hex": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n",
        "stall",
    ),
    "chunk-truncated": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nhello",
        "close",
    ),
    "chunked-without-last-chunk": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        "close",
    ),
}


@pytest.mark.parametrize("stream", [False, True], ids=["read", "stream"])
@pytest.mark.parametrize("reply, then", BROKEN_BODIES.values(), ids=BROKEN_BODIES.keys())
async def test_broken_body(server: ServerThread, reply: bytes, then: str, stream: bool) -> None:
    recorder = Recorder()
    async with raw_server(reply_once(recorder, reply, then=then)) as url:
        async with guarded_client(timeout=2.0) as client:
            with pytest.raises(httpcore.RemoteProtocolError) as excinfo:
                await read_body(client, url + "/body", stream=stream)
            assert type(excinfo.value) is httpcore.RemoteProtocolError
            assert_no_leak(client, connections=0)
            await assert_healthy(client, server)
    assert recorder.connections == 1


# -- 3, 4. bad response heads ----------------------------------------------------------------------

BAD_HEADS = {
    "garbage-status-line": (b"HELLO\r\n\r\n", "stall"),
    "non-numeric-status": (b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n", "stall"),
    "header-without-colon": (b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "stall"),
    "empty-then-close": (b"", "close"),
    "half-head-then-close": (b"HTTP/1.1 200 OK\r\nContent-", "close"),
    "head-of-200-KiB": (
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (200 * 1024) + b"\r\nContent-Length: 0\r\n\r\n",
        "stall",
    ),
}


@pytest.mark.parametrize("reply, then", BAD_HEADS.values(), ids=BAD_HEADS.keys())
async def test_bad_head(server: ServerThread, reply: bytes, then: str) -> None:
    recorder = Recorder()
    async with raw_server(reply_once(recorder, reply, then=then)) as url:
        async with guarded_client(timeout=2.0) as client:
            with pytest.raises(httpcore.RemoteProtocolError) as excinfo:
                await client.get(url + "/head")
            assert_error(excinfo.value, httpcore.RemoteProtocolError, url + "/head")
            assert_no_leak(client, connections=0)
            await assert_healthy(client, server)
    # A failure on a fresh connection is never retried.
    assert recorder.connections == 1


async def test_head_of_90_KiB_is_accepted() -> None:
    recorder = Recorder()
    value = b"v" * (90 * 1024)
    reply = b"HTTP/1.1 200 OK\r\nX-Big: " + value + b"\r\nContent-Length: 2\r\n\r\nok"
    async with raw_server(answer_every_request(recorder, reply)) as url:
        async with guarded_client(timeout=2.0) as client:
            response = await client.get(url + "/")
            assert response.status_code == 200
            assert response.headers["x-big"] == value.decode()
            assert response.content == b"ok"
            assert_no_leak(client, connections=1)


async def test_head_just_over_100_KiB_is_refused() -> None:
    recorder = Recorder()
    reply = b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (101 * 1024) + b"\r\nContent-Length: 0\r\n\r\n"
    async with raw_server(reply_once(recorder, reply, then="stall")) as url:
        async with guarded_client(timeout=2.0) as client:
            with pytest.raises(httpcore.RemoteProtocolError):
                await client.get(url + "/")


# -- 5. stalls -------------------------------------------------------------------------------------

STALLS = {
    "before-head": (b"", False),
    "mid-head": (b"HTTP/1.1 200 OK\r\nContent-Le", False),
    "mid-body": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10, False),
    "mid-body-streaming": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10,
        True,
    ),
    "mid-chunked-body": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        False,
    ),
}


@pytest.mark.parametrize("reply, stream", STALLS.values(), ids=STALLS.keys())
async def test_stall_is_read_timeout(server: ServerThread, reply: bytes, stream: bool) -> None:
    recorder = Recorder()
    async with raw_server(reply_once(recorder, reply, then="stall")) as url:
        async with guarded_client(timeout=SHORT) as client:
            started = trio.current_time()
            with pytest.raises(httpcore.ReadTimeout) as excinfo:
                await read_body(client, url + "/", stream=stream)
            if b"\r\n\r\n" in reply:
                assert type(excinfo.value) is httpcore.ReadTimeout  # .request: see below
            else:
                assert_error(excinfo.value, httpcore.ReadTimeout, url + "/")
            assert SHORT <= trio.current_time() - started < SHORT + 1.0
            assert_no_leak(client, connections=0)
            await assert_healthy(client, server)


# -- body errors must carry the request ------------------------------------------------------------

BODY_ERRORS = {
    "truncated": (BROKEN_BODIES["content-length-truncated"], httpcore.RemoteProtocolError),
    "bad-chunk": (BROKEN_BODIES["chunk-size-not-hex"], httpcore.RemoteProtocolError),
    "stall": ((STALLS["mid-body"][0], "stall"), httpcore.ReadTimeout),
}


@pytest.mark.parametrize("stream", [False, True], ids=["read", "stream"])
@pytest.mark.parametrize("case, cls", BODY_ERRORS.values(), ids=BODY_ERRORS.keys())
async def test_body_error_carries_the_request(
    case: tuple[bytes, str], cls: type[Exception], stream: bool
) -> None:
    reply, then = case
    async with raw_server(reply_once(Recorder(), reply, then=then)) as url:
        async with guarded_client(timeout=SHORT) as client:
            with pytest.raises(cls) as excinfo:
                await read_body(client, url + "/body", stream=stream)
            assert_error(excinfo.value, cls, url + "/body")


# -- 6. keep-alive connections the server closed ---------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_idle_connection_closed_by_server_is_not_reused(method: str) -> None:
    """The pool notices the EOF on the idle socket: even a POST (never retried) succeeds."""
    recorder = Recorder()
    closed = trio.Event()

    async def handler(stream: trio.SocketStream) -> None:
        recorder.connections += 1
        first = recorder.connections == 1
        while head := await read_request(stream):
            recorder.heads.append(head)
            await stream.send_all(OK)
            if first:
                await stream.aclose()
                closed.set()
                return

    async with raw_server(handler) as url:
        async with guarded_client(timeout=2.0) as client:
            assert (await client.get(url + "/1")).content == b"ok"
            assert_no_leak(client, connections=1)
            await closed.wait()
            response = await client.request(method, url + "/2", data=b"payload")
            assert response.content == b"ok"
            assert_no_leak(client, connections=1)
    assert recorder.connections == 2
    assert recorder.methods == ["GET", method]


@pytest.mark.parametrize(
    "method, data, retried",
    [("GET", None, True), ("PUT", b"payload", True), ("POST", b"payload", False)],
)
async def test_reused_connection_closed_without_answer(
    server: ServerThread, method: str, data: bytes | None, retried: bool
) -> None:
    """The server reads the second request on a kept-alive connection and closes."""
    recorder = Recorder()

    async def handler(stream: trio.SocketStream) -> None:
        recorder.connections += 1
        first = recorder.connections == 1
        served = 0
        while head := await read_request(stream):
            recorder.heads.append(head)
            if first and served == 1:
                return  # the whole request was read: the close is a clean FIN
            await stream.send_all(OK)
            served += 1

    async with raw_server(handler) as url:
        async with guarded_client(timeout=2.0) as client:
            assert (await client.get(url + "/1")).content == b"ok"
            if retried:
                response = await client.request(method, url + "/2", data=data)
                assert response.content == b"ok"
                assert recorder.connections == 2
                assert recorder.methods == ["GET", method, method]
            else:
                with pytest.raises(httpcore.RemoteProtocolError) as excinfo:
                    await client.request(method, url + "/2", data=data)
                assert_error(excinfo.value, httpcore.RemoteProtocolError, url + "/2")
                assert recorder.connections == 1
                assert recorder.methods == ["GET", method]
            assert_no_leak(client, connections=1 if retried else 0)
            await assert_healthy(client, server)


# -- 7, 8. uploads the server does not read --------------------------------------------------------


async def test_upload_never_read_is_write_timeout(server: ServerThread) -> None:
    recorder = Recorder()

    async def handler(stream: trio.SocketStream) -> None:
        recorder.connections += 1
        recorder.heads.append(await read_request_head(stream))
        await trio.sleep_forever()

    async with raw_server(handler) as url:
        async with guarded_client() as client:
            started = trio.current_time()
            with pytest.raises(httpcore.WriteTimeout) as excinfo:
                await client.post(
                    url + "/upload",
                    data=b"x" * (64 << 20),
                    timeout=httpcore.TimeoutConfig(5, write_timeout=SHORT),
                )
            assert_error(excinfo.value, httpcore.WriteTimeout, url + "/upload")
            assert trio.current_time() - started < SHORT + 2.0
            assert_no_leak(client, connections=0)
            await assert_healthy(client, server)
    assert recorder.connections == 1


async def test_write_timeout_is_per_progress_not_per_body() -> None:
    """A server that keeps reading (64 KiB every 5 ms) never leaves the client waiting 0.3 s."""
    size = 8 << 20  # about 0.7 s at this pace, well beyond the loopback buffers
    received = 0

    async def handler(stream: trio.SocketStream) -> None:
        nonlocal received
        # A fixed small receive buffer: the upload cannot vanish into kernel buffers.
        stream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
        data = await read_request_head(stream)
        received = len(data.partition(b"\r\n\r\n")[2])
        while received < size:
            await trio.sleep(0.005)
            chunk = await stream.receive_some(65536)
            if not chunk:
                return
            received += len(chunk)
        await stream.send_all(OK)

    async with raw_server(handler) as url:
        async with guarded_client() as client:
            response = await client.post(
                url + "/upload",
                data=b"x" * size,
                timeout=httpcore.TimeoutConfig(5, write_timeout=SHORT),
            )
            assert response.content == b"ok"
    assert received == size


async def test_early_413_during_large_upload(server: ServerThread) -> None:
    recorder = Recorder()

    async def handler(stream: trio.SocketStream) -> None:
        recorder.connections += 1
        recorder.heads.append(await read_request_head(stream))
        await stream.send_all(
            b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n"
            b"Content-Length: 8\r\n\r\ntoo big!"
        )
        # Closing with the upload unread makes the kernel reset the connection.

    async with raw_server(handler) as url:
        async with guarded_client(timeout=3.0) as client:
            started = trio.current_time()
            try:
                response = await client.post(url + "/upload", data=b"x" * (32 << 20))
            except (httpcore.WriteError, httpcore.ReadError) as exc:
                assert_error(exc, type(exc), url + "/upload")
            else:
                assert response.status_code == 413
                assert response.content == b"too big!"
            assert trio.current_time() - started < 2.0
            assert_no_leak(client, connections=0)
            await assert_healthy(client, server)
    assert recorder.connections == 1


# -- 9. TLS handshake stall ------------------------------------------------------------------------


async def test_tls_handshake_stall_is_connect_timeout(server: ServerThread) -> None:
    accepted = 0

    async def handler(stream: trio.SocketStream) -> None:
        nonlocal accepted
        accepted += 1
        await trio.sleep_forever()

    async with raw_server(handler) as url:
        https_url = url.replace("http://", "https://") + "/"
        async with guarded_client() as client:
            started = trio.current_time()
            with pytest.raises(httpcore.ConnectTimeout) as excinfo:
                await client.get(https_url, timeout=SHORT)
            assert_error(excinfo.value, httpcore.ConnectTimeout, https_url)
            assert SHORT <= trio.current_time() - started < SHORT + 1.0
            assert_no_leak(client, connections=0)
            await assert_healthy(client, server)
    assert accepted == 1


# -- 10, 12. which responses leave a reusable connection -------------------------------------------

REUSE = {
    "keep-alive": (OK, b"ok", True),
    "connection-close": (
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"ok",
        False,
    ),
    "http-1.0": (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok", False),
    "http-1.0-keep-alive": (
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
        b"ok",
        False,
    ),
    "content-length-and-chunked": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n",
        b"hello",
        False,
    ),
    "extra-bytes-after-response": (OK + b"HTTP/1.1 200 OK\r\n", b"ok", False),
    "100-continue-first": (b"HTTP/1.1 100 Continue\r\n\r\n" + OK, b"ok", True),
    "two-informational-first": (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK,
        b"ok",
        True,
    ),
}


@pytest.mark.parametrize("reply, body, reused", REUSE.values(), ids=REUSE.keys())
async def test_connection_reuse(reply: bytes, body: bytes, reused: bool) -> None:
    recorder = Recorder()
    async with raw_server(answer_every_request(recorder, reply)) as url:
        async with guarded_client(timeout=2.0) as client:
            for path in ("/1", "/2"):
                response = await client.get(url + path)
                assert response.status_code == 200
                assert response.content == body
                assert_no_leak(client, connections=1 if reused else 0)
    assert len(recorder.heads) == 2
    assert recorder.connections == (1 if reused else 2)


# -- 11. a body not read to the end ----------------------------------------------------------------


async def test_unfinished_body_closes_the_connection() -> None:
    recorder = Recorder()
    size = 512 * 1024
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"z" * size
    async with raw_server(answer_every_request(recorder, reply)) as url:
        async with guarded_client(timeout=2.0) as client:
            async with client.stream("GET", url + "/1") as response:
                async for chunk in response.raw():
                    assert 0 < len(chunk) < size
                    break
                stats = client.statistics()
                assert (stats.connections, stats.idle) == (1, 0)
            assert response.is_closed
            assert_no_leak(client, connections=0)
            response = await client.get(url + "/2")
            assert response.content == b"z" * size
            assert_no_leak(client, connections=1)
    assert recorder.connections == 2


async def test_closing_unread_stream_closes_the_connection() -> None:
    recorder = Recorder()
    async with raw_server(answer_every_request(recorder, OK)) as url:
        async with guarded_client(timeout=2.0) as client:
            async with client.stream("GET", url + "/1") as response:
                assert response.status_code == 200
            assert_no_leak(client, connections=0)
            assert (await client.get(url + "/2")).content == b"ok"
    assert recorder.connections == 2


# -- 13. pool limits -------------------------------------------------------------------------------


async def test_hard_limit_pool_timeout_then_handover() -> None:
    counter = CountingServer()
    limits = httpcore.PoolLimits(hard_limit=1)
    waiting = httpcore.TimeoutConfig(5, pool_timeout=0.2)
    async with raw_server(counter.handle) as url:
        async with guarded_client(pool_limits=limits) as client:
            async with client.stream("GET", url + "/held") as held:
                assert held.status_code == 200
                started = trio.current_time()
                with pytest.raises(httpcore.PoolTimeout) as excinfo:
                    await client.get(url + "/blocked", timeout=waiting)
                assert_error(excinfo.value, httpcore.PoolTimeout, url + "/blocked")
                assert 0.2 <= trio.current_time() - started < 1.0
                stats = client.statistics()
                assert (stats.connections, stats.idle, stats.opening, stats.waiters) == (
                    1,
                    0,
                    0,
                    0,
                )
            # The held response was not read to the end: its connection is gone.
            assert_no_leak(client, connections=0)
            response = await client.get(url + "/after", timeout=waiting)
            assert response.content == b"/after"

            # A waiter is handed the connection as soon as the holder finishes.
            results: list[bytes] = []
            async with client.stream("GET", url + "/held2") as held:

                async def wait_for_connection() -> None:
                    results.append((await client.get(url + "/waiter")).content)

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(wait_for_connection)
                    with trio.fail_after(2):  # (the AsyncClient waits in another thread)
                        while client.statistics().waiters != 1:
                            await trio.sleep(0.005)
                    assert await held.read() == b"/held2"
            assert results == [b"/waiter"]
            assert_no_leak(client, connections=1)
    assert counter.max_open_connections == 1


async def test_max_per_host_blocks_only_that_origin() -> None:
    first, second = CountingServer(), CountingServer()
    limits = httpcore.PoolLimits(max_per_host=1)
    waiting = httpcore.TimeoutConfig(5, pool_timeout=0.2)
    async with raw_server(first.handle) as url_a, raw_server(second.handle) as url_b:
        async with guarded_client(pool_limits=limits) as client:
            async with client.stream("GET", url_a + "/held") as held:
                with pytest.raises(httpcore.PoolTimeout) as excinfo:
                    await client.get(url_a + "/blocked", timeout=waiting)
                assert_error(excinfo.value, httpcore.PoolTimeout, url_a + "/blocked")
                response = await client.get(url_b + "/other", timeout=waiting)
                assert response.content == b"/other"
                assert await held.read() == b"/held"
            response = await client.get(url_a + "/after", timeout=waiting)
            assert response.content == b"/after"
            assert_no_leak(client, connections=2)
    assert (first.total_connections, first.max_open_connections) == (1, 1)
    assert second.total_connections == 1


# -- errors leave the client's block as themselves -------------------------------------------------


async def test_error_leaves_client_block_unwrapped() -> None:
    async with raw_server(reply_once(Recorder(), b"HELLO\r\n\r\n", then="stall")) as url:
        with trio.fail_after(HANG_GUARD), pytest.raises(httpcore.RemoteProtocolError):
            async with httpcore.TrioClient() as client:
                await client.get(url + "/")
