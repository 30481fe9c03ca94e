"""NetworkStream calling its socket itself: TLS over our own SSLObject, and the
failures a real server does not produce (raw trio servers), over loopback."""

from __future__ import annotations

import ssl

import pytest
import trio
import trustme

import httpcore
from httpcore._trio.network import NetworkStream
from tests.servers import ServerThread, raw_server, read_request_head


@pytest.fixture
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


async def tls_handshake(tcp: trio.SocketStream, context: ssl.SSLContext) -> trio.SSLStream:
    stream = trio.SSLStream(tcp, context, server_side=True)
    await stream.do_handshake()
    return stream


async def test_garbage_instead_of_tls_records_is_a_read_error(
    server_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    async def handler(tcp: trio.SocketStream) -> None:
        stream = await tls_handshake(tcp, server_context)
        await read_request_head(stream)  # type: ignore[arg-type]
        await tcp.send_all(b"\x17\x03\x03\x00\x20" + b"not a TLS record" * 2)
        await trio.sleep(2)

    async with raw_server(handler) as url:
        url = url.replace("http://", "https://")
        async with httpcore.TrioClient(verify=client_ssl_context, timeout=2) as client:
            with pytest.raises(httpcore.ReadError, match="TLS error"):
                await client.get(url + "/")
            assert client.statistics().connections == 0


async def test_tls_body_cut_short_without_close_notify(
    server_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    """The end of TCP without close_notify is the end of the stream, as in trio's
    https_compatible mode: the HTTP framing finds the body cut short."""

    async def handler(tcp: trio.SocketStream) -> None:
        stream = await tls_handshake(tcp, server_context)
        await read_request_head(stream)  # type: ignore[arg-type]
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..")
        await trio.sleep(0.05)
        await tcp.aclose()  # no close_notify

    async with raw_server(handler) as url:
        url = url.replace("http://", "https://")
        async with httpcore.TrioClient(verify=client_ssl_context, timeout=2) as client:
            with pytest.raises(httpcore.RemoteProtocolError):
                await client.get(url + "/")
            assert client.statistics().connections == 0


async def test_server_closing_during_the_tls_handshake_is_a_connect_error(
    client_ssl_context: ssl.SSLContext,
) -> None:
    async def handler(tcp: trio.SocketStream) -> None:
        await tcp.receive_some(65536)  # the ClientHello
        await tcp.aclose()

    async with raw_server(handler) as url:
        url = url.replace("http://", "https://")
        async with httpcore.TrioClient(verify=client_ssl_context, timeout=2) as client:
            with pytest.raises(httpcore.ConnectError, match="TLS error"):
                await client.get(url + "/")


async def test_write_after_a_tls_close_is_a_write_error(
    tls_server: ServerThread, ca: trustme.CA, client_ssl_context: ssl.SSLContext
) -> None:
    port = int(tls_server.url.rsplit(":", 1)[1])
    stream = await NetworkStream.connect("127.0.0.1", port, ssl_context=client_ssl_context)
    assert stream.tls_info[0] is not None
    await stream.write(b"", 1.0)  # nothing to send (an empty TLS write would end the stream)
    await stream.aclose()  # sends close_notify
    with pytest.raises(httpcore.WriteError, match="TLS error"):
        await stream.write(b"GET / HTTP/1.1\r\n\r\n", 1.0)


async def test_a_closed_socket_is_a_read_error_not_a_hang(tls_server: ServerThread) -> None:
    """A read on a stream another task closed fails at once (plain TCP and TLS)."""
    port = int(tls_server.url.rsplit(":", 1)[1])
    stream = await NetworkStream.connect("127.0.0.1", port)
    stream.close_nowait()
    with trio.fail_after(2), pytest.raises(httpcore.ReadError):
        await stream.read(1.0)
    with trio.fail_after(2), pytest.raises(httpcore.ReadError):
        await stream.read(None, wait_first=True)


async def test_read_woken_by_a_close_from_another_task(server: ServerThread) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    stream = await NetworkStream.connect("127.0.0.1", port)
    async with trio.open_nursery() as nursery:

        async def close_soon() -> None:
            await trio.sleep(0.05)
            stream.close_nowait()

        nursery.start_soon(close_soon)
        with trio.fail_after(2), pytest.raises(httpcore.ReadError):
            await stream.read(None)  # nothing comes: the close wakes it


async def test_large_writes_wait_for_the_socket(server_context: ssl.SSLContext) -> None:
    """Writes the socket cannot take at once wait for it (plain TCP and TLS), with
    the write timeout bounding each wait."""
    received = trio.Event()

    async def handler(tcp: trio.SocketStream) -> None:
        await trio.sleep(0.2)  # let the client's buffers fill first
        total = 0
        while total < 8 << 20:
            data = await tcp.receive_some(1 << 20)
            if not data:
                break
            total += len(data)
        received.set()

    async with raw_server(handler) as url:
        port = int(url.rsplit(":", 1)[1])
        stream = await NetworkStream.connect("127.0.0.1", port)
        with trio.fail_after(10):
            for _ in range(8):
                await stream.write(b"x" * (1 << 20), 5.0)
            await received.wait()
        await stream.aclose()


async def test_streams_through_trio_prefixed() -> None:
    """A stream with bytes a proxy sent first goes through trio's streams: its
    reads, writes, timeouts and failures map as the direct ones do."""

    async def handler(tcp: trio.SocketStream) -> None:
        await read_request_head(tcp)
        await tcp.send_all(b"answer")
        await trio.sleep(2)

    async with raw_server(handler) as url:
        port = int(url.rsplit(":", 1)[1])
        stream = (await NetworkStream.connect("127.0.0.1", port)).prepend(b"early")
        try:
            assert await stream.read(1.0, wait_first=True) == b"early"
            await stream.send_eager(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1.0)
            assert await stream.read(2.0) == b"answer"
            with pytest.raises(httpcore.ReadTimeout):
                await stream.read(0.05)
        finally:
            stream.close_nowait()
        with pytest.raises(httpcore.ReadError):
            await stream.read(1.0)


async def test_tls_inside_our_tls(
    server_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    """TLS over one of our TLS streams (an https:// proxy's tunnel) runs trio's
    SSLStream over it; closing the inner stream closes the outer one."""

    async def handler(tcp: trio.SocketStream) -> None:
        outer = await tls_handshake(tcp, server_context)
        inner = trio.SSLStream(outer, server_context, server_side=True)
        data = await inner.receive_some(100)
        await inner.send_all(data.upper())
        await trio.sleep(1)

    async with raw_server(handler) as url:
        port = int(url.rsplit(":", 1)[1])
        outer = await NetworkStream.connect("127.0.0.1", port, ssl_context=client_ssl_context)
        inner = await outer.start_tls(client_ssl_context, "127.0.0.1")
        await inner.write(b"hello", 1.0)
        assert await inner.read(1.0) == b"HELLO"
        with trio.fail_after(3):
            await inner.aclose()
        assert outer.is_closed


async def test_tls_reads_of_exactly_the_size_asked_and_a_clean_close(
    server_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    """A read that decrypts all it asked for returns at once; close_notify is the end."""
    sent = bytes(range(256)) * 64  # 16 KiB in one TLS record

    async def handler(tcp: trio.SocketStream) -> None:
        stream = await tls_handshake(tcp, server_context)
        await stream.send_all(sent)
        await stream.aclose()  # with close_notify

    async with raw_server(handler) as url:
        port = int(url.rsplit(":", 1)[1])
        stream = await NetworkStream.connect(
            "127.0.0.1", port, ssl_context=client_ssl_context, timeout=5
        )
        received = b""
        while len(received) < len(sent):
            chunk = await stream.read(5, max_bytes=1000)
            assert chunk and len(chunk) <= 1000
            received += chunk
        assert received == sent
        assert await stream.read(5) == b""
        await stream.aclose()


async def test_a_send_the_peer_reset_is_a_write_error() -> None:
    """The server resets the connection (RST): the next send fails at once."""
    import socket
    import struct

    async def handler(tcp: trio.SocketStream) -> None:
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        tcp.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await tcp.aclose()

    async with raw_server(handler) as url:
        port = int(url.rsplit(":", 1)[1])
        stream = await NetworkStream.connect("127.0.0.1", port)
        with trio.fail_after(2), pytest.raises(httpcore.WriteError):
            for _ in range(50):  # until the RST has arrived
                await trio.sleep(0.02)
                await stream.write(b"x", 1.0)
        stream.close_nowait()
