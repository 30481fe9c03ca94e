"""HTTP/1.1 from misbehaving raw servers: status lines, 1xx floods, early answers
during an upload. Each test runs with both codecs (h11 and httptools)."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator

import pytest
import trio
import trustme

import httpcore
from httpcore._core.h1codec import MAX_INFORMATIONAL
from httpcore._trio.http11 import EARLY_BODY_LIMIT
from tests.servers import raw_server, read_request_head

pytestmark = pytest.mark.usefixtures("h1_codec")

OK_TAIL = b"Content-Length: 2\r\n\r\nok"


def answering(*replies: bytes) -> object:
    async def handler(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        for reply in replies:
            await stream.send_all(reply)
        await trio.sleep(1)

    return handler


@pytest.mark.parametrize(
    "status_line",
    [
        b"HTTP/2.0 200 OK",
        b"HTTP/2 200 OK",
        b"HTTP/3.0 200 OK",
        b"HTTP/1.2 200 OK",
        b"HTTP/0.9 200 OK",
        b"HTTP/1.1 600 Too Far",
        b"HTTP/1.1 2000 OK",
        b"HTTP/1.1 099 Low",
        b"HTTP/1.1 20x OK",
        b"ICY 200 OK",
    ],
)
async def test_bad_status_lines(status_line: bytes) -> None:
    async with raw_server(answering(status_line + b"\r\n" + OK_TAIL)) as url:  # type: ignore[arg-type]
        async with httpcore.TrioClient() as client:
            with pytest.raises(httpcore.RemoteProtocolError):
                await client.get(url + "/")
            assert client.statistics().connections == 0


@pytest.mark.parametrize(
    ("status_line", "reason", "protocol"),
    [
        (b"HTTP/1.1 200", "OK", "HTTP/1.1"),
        (b"HTTP/1.1 200 ", "OK", "HTTP/1.1"),
        (b"HTTP/1.1 404 Nope", "Nope", "HTTP/1.1"),
        (b"HTTP/1.0 200 OK", "OK", "HTTP/1.0"),
        (b"HTTP/1.1 599 Edge", "Edge", "HTTP/1.1"),
    ],
)
async def test_good_status_lines(status_line: bytes, reason: str, protocol: str) -> None:
    async with raw_server(answering(status_line + b"\r\n" + OK_TAIL)) as url:  # type: ignore[arg-type]
        async with httpcore.TrioClient() as client:
            response = await client.get(url + "/")
    assert (response.reason_phrase, response.protocol, response.text) == (reason, protocol, "ok")


async def test_informational_responses_within_bounds() -> None:
    informational = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    replies = [informational * (MAX_INFORMATIONAL // 2), b"HTTP/1.1 200 OK\r\n" + OK_TAIL]
    async with raw_server(answering(*replies)) as url:  # type: ignore[arg-type]
        async with httpcore.TrioClient() as client:
            response = await client.get(url + "/")
            assert (response.status_code, response.text) == (200, "ok")


@pytest.mark.parametrize(
    "flood",
    [
        b"HTTP/1.1 102 Processing\r\n\r\n" * (MAX_INFORMATIONAL + 1),
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" * 100_000,
        # Few, but large: 10 heads of 20 KB each.
        (b"HTTP/1.1 103 Early Hints\r\nLink: " + b"x" * 20_000 + b"\r\n\r\n") * 10,
    ],
    ids=["count", "many", "large"],
)
async def test_informational_flood_is_bounded(flood: bytes) -> None:
    async def handler(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        with contextlib.suppress(trio.BrokenResourceError):  # the client gave up, as it should
            await stream.send_all(flood + b"HTTP/1.1 200 OK\r\n" + OK_TAIL)

    async with raw_server(handler) as url, httpcore.TrioClient() as client:
        with trio.fail_after(5), pytest.raises(httpcore.RemoteProtocolError, match="1xx"):
            await client.get(url + "/")
        assert client.statistics().connections == 0


async def test_slow_informational_trickle_is_bounded_by_count() -> None:
    async def handler(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        with trio.move_on_after(5):
            while True:
                await stream.send_all(b"HTTP/1.1 102 Processing\r\n\r\n")
                await trio.sleep(0.001)

    async with raw_server(handler) as url, httpcore.TrioClient(timeout=1) as client:
        with pytest.raises(httpcore.RemoteProtocolError, match="more than"):
            await client.get(url + "/")


# -- an answer that comes while the body is still going out ----------------------------


class Upload:
    """A streamed body that counts the chunks taken, and never ends on its own."""

    def __init__(self, chunks: int | None = None, pause: float = 0.0) -> None:
        self.taken = 0
        self.chunks = chunks
        self.pause = pause

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.chunks is None or self.taken < self.chunks:
            self.taken += 1
            yield b"x" * 65536
            await trio.sleep(self.pause)


def early_answer(status: bytes, close: bool) -> object:
    async def handler(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        await stream.send_all(b"HTTP/1.1 " + status + b"\r\nContent-Length: 4\r\n\r\nnope")
        if close:
            await stream.aclose()
        else:
            await trio.sleep(10)  # neither reads nor closes

    return handler


@pytest.mark.parametrize("close", [False, True])
@pytest.mark.parametrize("status", [b"413 Payload Too Large", b"401 Unauthorized"])
async def test_early_answer_to_a_streamed_upload(status: bytes, close: bool) -> None:
    upload = Upload(pause=0.001)
    async with raw_server(early_answer(status, close)) as url:  # type: ignore[arg-type]
        async with httpcore.TrioClient(timeout=2) as client:
            with trio.fail_after(3):
                response = await client.post(url + "/", data=upload)
            assert response.status_code == int(status[:3])
            assert response.text == "nope"
            taken = upload.taken
            await trio.sleep(0.05)
            assert upload.taken == taken  # the upload stopped
            assert client.statistics().connections == 0  # and the connection was not kept


async def test_early_answer_to_a_large_upload_the_server_does_not_read() -> None:
    async with raw_server(early_answer(b"413 Payload Too Large", False)) as url:  # type: ignore[arg-type]
        async with httpcore.TrioClient(timeout=1) as client:
            response = await client.post(url + "/", data=b"x" * (64 << 20))
            assert (response.status_code, response.text) == (413, "nope")
            assert client.statistics().connections == 0


async def test_read_timeout_starts_after_the_upload() -> None:
    async def handler(stream: trio.SocketStream) -> None:
        data = b""
        while True:  # requests in turn, each answered once its chunked body has ended
            while not data.endswith(b"0\r\n\r\n"):
                more = await stream.receive_some(65536)
                if not more:
                    return
                data += more
            data = b""
            await stream.send_all(b"HTTP/1.1 200 OK\r\n" + OK_TAIL)

    timeout = httpcore.TimeoutConfig(2, read_timeout=0.2)
    async with raw_server(handler) as url, httpcore.TrioClient(timeout=timeout) as client:
        # 0.5 s of upload, more than the read timeout: fine, the server answers after it.
        response = await client.post(url + "/", data=Upload(chunks=5, pause=0.1))
        assert response.text == "ok"
        # No read timeout at all works too.
        no_read_timeout = httpcore.TimeoutConfig(2, read_timeout=None)
        response = await client.post(url + "/", data=Upload(chunks=2), timeout=no_read_timeout)
        assert response.text == "ok"


async def test_silence_after_the_upload_is_a_read_timeout() -> None:
    async def handler(stream: trio.SocketStream) -> None:
        with trio.move_on_after(5):
            while await stream.receive_some(65536):
                pass

    timeout = httpcore.TimeoutConfig(2, read_timeout=0.2)
    async with raw_server(handler) as url, httpcore.TrioClient(timeout=timeout) as client:
        with trio.fail_after(2), pytest.raises(httpcore.ReadTimeout):
            await client.post(url + "/", data=Upload(chunks=2))
        assert client.statistics().connections == 0


async def test_a_failing_body_iterator_fails_the_request_as_itself() -> None:
    async def handler(stream: trio.SocketStream) -> None:
        with trio.move_on_after(5):
            while await stream.receive_some(65536):
                pass

    async def broken() -> AsyncIterator[bytes]:
        yield b"first"
        raise ValueError("the body broke")

    async with raw_server(handler) as url, httpcore.TrioClient() as client:
        with pytest.raises(ValueError, match="the body broke"):
            await client.post(url + "/", data=broken())
        assert client.statistics().connections == 0
        # Cancelled by the caller mid-upload: the pool stays clean.
        with trio.move_on_after(0.1):
            await client.post(url + "/", data=Upload(pause=0.01))
        assert client.statistics().connections == 0


async def test_garbage_during_an_upload_is_a_protocol_error() -> None:
    async def handler(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        await stream.send_all(b"NOT HTTP AT ALL\r\n\r\n")
        with trio.move_on_after(2):
            while await stream.receive_some(65536):
                pass

    async with raw_server(handler) as url, httpcore.TrioClient(timeout=2) as client:
        with trio.fail_after(3), pytest.raises(httpcore.RemoteProtocolError):
            await client.post(url + "/", data=Upload(pause=0.001))
        assert client.statistics().connections == 0


async def test_close_without_an_answer_after_the_upload() -> None:
    async def handler(stream: trio.SocketStream) -> None:
        data = b""
        while not data.endswith(b"0\r\n\r\n"):
            data += await stream.receive_some(65536)
        await stream.aclose()

    async with raw_server(handler) as url, httpcore.TrioClient(timeout=2) as client:
        with pytest.raises(httpcore.RemoteProtocolError):
            await client.post(url + "/", data=Upload(chunks=3))
        assert client.statistics().connections == 0


@pytest.mark.parametrize("body_size", [100_000, EARLY_BODY_LIMIT + 300_000])
async def test_early_answer_over_tls(ca: trustme.CA, body_size: int) -> None:
    """A cancelled TLS write breaks the stream, so the early answer's body is read
    (up to EARLY_BODY_LIMIT) before the upload stops."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)

    async def handler(tcp: trio.SocketStream) -> None:
        stream = trio.SSLStream(tcp, server_context, server_side=True)
        data = b""
        while b"\r\n\r\n" not in data:
            data += await stream.receive_some(65536)
        head = b"HTTP/1.1 413 Too Large\r\nContent-Length: %d\r\n\r\n" % body_size
        with contextlib.suppress(trio.BrokenResourceError):
            await stream.send_all(head + b"n" * body_size)
            await trio.sleep(5)  # neither reads nor closes

    async with raw_server(handler) as url:
        url = url.replace("http://", "https://")
        async with httpcore.TrioClient(verify=client_context, timeout=2) as client:
            with trio.fail_after(5):
                if body_size <= EARLY_BODY_LIMIT:
                    response = await client.post(url + "/", data=b"x" * (64 << 20))
                    assert (response.status_code, len(response.content)) == (413, body_size)
                else:
                    # Beyond the limit the upload stops before the rest of the body is
                    # read; httpcore's own TLS layer keeps the reading side whole after
                    # a cancelled write, so the rest still comes.
                    async with client.stream("POST", url + "/", data=Upload()) as response:
                        assert response.status_code == 413
                        assert len(await response.read()) == body_size
            assert client.statistics().connections == 0
