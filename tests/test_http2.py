"""HTTP/2 against hypercorn (h2 over TLS, h2c), through every client."""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any

import pytest
import trio

import httpcore
from httpcore._core.h2codec import CONNECTION_WINDOW, STREAM_WINDOW
from tests.clients import Flavour
from tests.servers import ServerThread


def h2_kwargs(server: ServerThread, ca_file: str) -> dict[str, Any]:
    """Client settings for HTTP/2 to `server`: ALPN on https, prior knowledge on http."""
    if server.url.startswith("https://"):
        return {"verify": ca_file}
    return {"http1": False}


async def test_protocol_and_basics(make_client: Any, h2_server: ServerThread, ca_file: str) -> None:
    async with make_client(**h2_kwargs(h2_server, ca_file)) as client:
        response = await client.get(h2_server.url + "/")
        assert response.protocol == "HTTP/2"
        assert response.reason_phrase == "OK"
        assert response.text == "Hello, world!"
        data = (await client.post(h2_server.url + "/echo?q=1", json={"a": 1})).json()
        headers = dict(data["headers"])
        assert data["http_version"] == "2"
        assert (data["method"], data["query"], data["body"]) == ("POST", "q=1", '{"a":1}')
        assert "connection" not in headers
        assert headers["user-agent"].startswith("python-httpcore/")
        response = await client.get(h2_server.url + "/redirect?to=/")
        assert response.text == "Hello, world!"
        assert response.history[0].protocol == "HTTP/2"


async def test_200_concurrent_requests_share_one_connection(
    make_async_client: Any, h2_server: ServerThread, ca_file: str
) -> None:
    async def fetch_all(client: Any, flavour: Flavour) -> None:
        async def fetch(i: int) -> Any:
            return (await client.get(f"{h2_server.url}/echo?i={i}")).json()

        bodies = await flavour.gather(*(partial(fetch, i) for i in range(200)))
        assert [body["query"] for body in bodies] == [f"i={i}" for i in range(200)]
        stats = client.statistics()
        assert (stats.connections, stats.idle, stats.streams) == (1, 1, 0)

    async with make_async_client(**h2_kwargs(h2_server, ca_file)) as client:
        await client.native(fetch_all)


async def test_64_mib_download_intact(
    make_async_client: Any, h2_server: ServerThread, ca_file: str
) -> None:
    size = 64 << 20

    async def download(client: Any, flavour: Flavour) -> int:
        async with client.stream("GET", f"{h2_server.url}/pattern/{size}") as response:
            received = 0
            pattern = bytes(range(256))
            async for chunk in response.stream():
                offset = received % 256
                expected = (pattern[offset:] + pattern * (len(chunk) // 256 + 2))[: len(chunk)]
                assert chunk == expected
                received += len(chunk)
        return received

    async with make_async_client(**h2_kwargs(h2_server, ca_file)) as client:
        assert await client.native(download) == size


async def test_slow_consumer_holds_only_its_window(h2_server: ServerThread, ca_file: str) -> None:
    async with httpcore.TrioClient(**h2_kwargs(h2_server, ca_file)) as client:
        async with client.stream("GET", f"{h2_server.url}/pattern/{16 << 20}") as slow:
            slow_reader = slow.stream()
            await slow_reader.__anext__()
            pool = client._dispatch.pool  # type: ignore[attr-defined]
            (connection,) = [c for conns in pool._by_key.values() for c in conns]
            (stream,) = connection._streams.values()
            done: list[int] = []
            peak = 0

            async def fetch() -> None:
                response = await client.get(h2_server.url + "/pattern/100000")
                done.append(len(response.content))

            with trio.fail_after(10):
                async with trio.open_nursery() as nursery:
                    for _ in range(50):
                        nursery.start_soon(fetch)
                    # Meanwhile the slow stream takes one chunk a second.
                    for _ in range(3):
                        await trio.sleep(1)
                        peak = max(peak, stream.buffered)
                        await slow_reader.__anext__()
            assert done == [100000] * 50
            # Unread data on the slow stream never exceeds its window (16 MiB was on offer).
            assert 0 < peak <= STREAM_WINDOW
    assert client.statistics().connections == 0


async def test_unread_streams_hold_their_windows_and_others_flow(
    h2_server: ServerThread, ca_file: str
) -> None:
    """14 streams nobody reads hold at most a window each (14 of the connection's 16
    MiB); a download beside them still completes (its credit goes back at once when
    the connection window runs low), and so does each of them, read later."""
    size = 4 << 20
    url = f"{h2_server.url}/pattern/{size}"
    async with httpcore.TrioClient(**h2_kwargs(h2_server, ca_file)) as client:
        async with contextlib.AsyncExitStack() as stack:
            responses = [
                await stack.enter_async_context(client.stream("GET", url)) for _ in range(14)
            ]
            pool = client._dispatch.pool  # type: ignore[attr-defined]
            (connection,) = [c for conns in pool._by_key.values() for c in conns]
            with trio.fail_after(10):
                while sum(s.buffered for s in connection._streams.values()) < 14 * STREAM_WINDOW:
                    await trio.sleep(0.05)
                big = await client.get(f"{h2_server.url}/pattern/{8 << 20}")
            assert len(big.content) == 8 << 20
            assert max(s.buffered for s in connection._streams.values()) <= STREAM_WINDOW
            assert 14 * STREAM_WINDOW <= CONNECTION_WINDOW
            for response in responses:
                assert len(await response.read()) == size
    assert client.statistics().connections == 0


async def test_16_mib_upload_under_flow_control(
    make_client: Any, h2_server: ServerThread, ca_file: str
) -> None:
    async with make_client(**h2_kwargs(h2_server, ca_file)) as client:
        response = await client.post(h2_server.url + "/upload-size", data=b"u" * (16 << 20))
        assert response.text == str(16 << 20)

        class Chunks:
            sent = 0

            def __aiter__(self) -> Chunks:
                return self

            async def __anext__(self) -> bytes:
                if self.sent >= 4 << 20:
                    raise StopAsyncIteration
                self.sent += 1 << 20
                return b"s" * (1 << 20)

        if client.kind != "sync":  # an async iterator: for the async clients
            response = await client.post(h2_server.url + "/upload-size", data=Chunks())
            assert response.text == str(4 << 20)


async def test_cancel_one_of_ten(h2_server: ServerThread, ca_file: str) -> None:
    async with httpcore.TrioClient(**h2_kwargs(h2_server, ca_file)) as client:
        await client.get(h2_server.url + "/")
        results: list[int] = []

        async def fetch(i: int) -> None:
            if i == 3:
                with trio.move_on_after(0.2):
                    await client.get(h2_server.url + "/slow?delay=5")
                return
            results.append((await client.get(h2_server.url + "/slow?delay=0.5")).status_code)

        async with trio.open_nursery() as nursery:
            for i in range(10):
                nursery.start_soon(fetch, i)
        assert results == [200] * 9
        stats = client.statistics()
        assert (stats.connections, stats.streams) == (1, 0)


async def test_cancellation_sweep_http2(h2_server: ServerThread, ca_file: str) -> None:
    from tests.test_pool import assert_baseline, run_cancelled_after

    async with httpcore.TrioClient(**h2_kwargs(h2_server, ca_file)) as client:
        await client.get(h2_server.url + "/")

        async def request() -> None:
            async with client.stream("POST", h2_server.url + "/echo", data=b"x" * 100_000) as r:
                await r.read()

        steps = 1
        while await run_cancelled_after(steps, request):
            assert_baseline(client)
            assert client.statistics().streams == 0
            assert (await client.get(h2_server.url + "/")).status_code == 200
            steps += 1
        assert steps > 1  # at least one cancellation really landed
        assert client.statistics().connections == 1


async def test_stream_closed_early_returns_credit(h2_server: ServerThread, ca_file: str) -> None:
    async with httpcore.TrioClient(**h2_kwargs(h2_server, ca_file)) as client:
        for _ in range(40):  # far more than the connection window if credit leaked
            async with client.stream("GET", h2_server.url + f"/pattern/{4 << 20}") as response:
                await response.stream().__anext__()
        response = await client.get(h2_server.url + f"/pattern/{8 << 20}")
        assert len(response.content) == 8 << 20
        assert client.statistics().connections == 1


def read_only(seconds: float) -> httpcore.TimeoutConfig:
    return httpcore.TimeoutConfig(5.0, read_timeout=seconds)


async def test_read_timeout_http2(make_client: Any, h2_server: ServerThread, ca_file: str) -> None:
    async with make_client(**h2_kwargs(h2_server, ca_file)) as client:
        with pytest.raises(httpcore.ReadTimeout):
            # Only the read is short: a connect slowed by a loaded machine is not the point.
            await client.get(h2_server.url + "/slow?delay=5", timeout=read_only(0.2))
        with pytest.raises(httpcore.ReadTimeout):
            await client.get(h2_server.url + "/slow-body?delay=5", timeout=read_only(0.3))
        assert (await client.get(h2_server.url + "/")).status_code == 200


async def test_http2_disabled_speaks_http11(tls_server: ServerThread, ca_file: str) -> None:
    async with httpcore.TrioClient(verify=ca_file, http2=False) as client:
        assert (await client.get(tls_server.url + "/")).protocol == "HTTP/1.1"


async def test_http1_disabled_but_server_refuses_h2(ca_file: str, tmp_path: Any) -> None:
    import trustme

    from tests.apps import app

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, cafile = tmp_path / "c.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    ca.cert_pem.write_to_path(str(cafile))
    thread = ServerThread(
        app, certfile=str(certfile), keyfile=str(certfile), alpn_protocols=["http/1.1"]
    )
    await trio.to_thread.run_sync(thread.start)
    try:
        url = thread.url.replace("http://", "https://")
        async with httpcore.TrioClient(verify=str(cafile), http1=False) as client:
            with pytest.raises(httpcore.ConnectError, match="HTTP/2"):
                await client.get(url + "/")
        async with httpcore.TrioClient(verify=str(cafile)) as client:
            assert (await client.get(url + "/")).protocol == "HTTP/1.1"
    finally:
        await trio.to_thread.run_sync(thread.stop)


async def test_client_sync_threads_share_h2_connection(
    h2_server: ServerThread, ca_file: str
) -> None:
    import threading

    def run() -> Any:
        statuses: list[int] = []
        with httpcore.Client(**h2_kwargs(h2_server, ca_file)) as client:

            def work() -> None:
                for _ in range(20):
                    statuses.append(client.get(h2_server.url + "/slow?delay=0.01").status_code)

            threads = [threading.Thread(target=work) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return statuses, client._engine.statistics()

    statuses, stats = await trio.to_thread.run_sync(run)
    assert statuses == [200] * 160
    assert stats.connections == 1


def test_blocking_client_streams_http2(h2_server: ServerThread, ca_file: str) -> None:
    with httpcore.Client(**h2_kwargs(h2_server, ca_file)) as client:
        with client.stream("GET", h2_server.url + f"/pattern/{3 << 20}") as response:
            assert response.protocol == "HTTP/2"
            assert sum(len(c) for c in response.stream()) == 3 << 20
