"""NetworkStream's TLS draining, with real TLS over in-memory BIOs (no sockets)."""

from __future__ import annotations

import contextlib
import ssl

import pytest
import trustme

from httpcore._trio.network import NetworkStream

TLS = tuple[ssl.SSLObject, ssl.SSLObject, list[ssl.MemoryBIO]]


def tls_pair(ca: trustme.CA) -> TLS:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("example.org").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    bios = [ssl.MemoryBIO() for _ in range(4)]
    client = client_context.wrap_bio(bios[0], bios[1], server_hostname="example.org")
    server = server_context.wrap_bio(bios[2], bios[3], server_side=True)
    for _ in range(10):  # handshake, shuttling bytes by hand
        for side in (client, server):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
        bios[2].write(bios[1].read())
        bios[0].write(bios[3].read())
    return client, server, bios


def stream_over(client: ssl.SSLObject) -> NetworkStream:
    stream = NetworkStream.__new__(NetworkStream)
    stream._ssl_object = client
    return stream


@pytest.fixture
def tls(ca: trustme.CA) -> TLS:
    return tls_pair(ca)


def test_drain_takes_every_buffered_record(tls: TLS) -> None:
    client, server, bios = tls
    for i in range(5):
        server.write(bytes([65 + i]) * 10000)  # five records
    bios[0].write(bios[3].read())
    first = client.read(65536)  # what trio's receive_some hands over: one record
    assert len(first) == 10000
    data = stream_over(client)._drain_tls(first, 65536)
    assert data == b"".join(bytes([65 + i]) * 10000 for i in range(5))


def test_drain_stops_at_max_bytes(tls: TLS) -> None:
    client, server, bios = tls
    server.write(b"x" * 30000)
    bios[0].write(bios[3].read())
    first = client.read(10000)
    data = stream_over(client)._drain_tls(first, 20000)
    assert len(data) == 20000
    assert len(client.read(65536)) == 10000  # the rest is still there


def test_drain_stops_at_close_notify(tls: TLS) -> None:
    client, server, bios = tls
    server.write(b"last")
    with contextlib.suppress(ssl.SSLWantReadError):
        server.unwrap()
    bios[0].write(bios[3].read())
    first = client.read(2)
    assert stream_over(client)._drain_tls(first, 65536) == b"last"


def test_drain_with_nothing_more(tls: TLS) -> None:
    client, server, bios = tls
    server.write(b"only")
    bios[0].write(bios[3].read())
    first = client.read(65536)
    assert stream_over(client)._drain_tls(first, 65536) == b"only"
