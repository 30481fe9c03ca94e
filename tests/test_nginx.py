"""Interop with nginx: ALPN h2, h2c, HTTP/1.1, a large download, 1,000 concurrent requests."""

from __future__ import annotations

from typing import Any

import pytest

import httpcore
from tests.clients import Flavour


def check_pattern(data: bytes, offset: int) -> None:
    block = bytes(range(256))
    start = offset % 256
    expected = (block[start:] + block * (len(data) // 256 + 2))[: len(data)]
    assert data == expected


@pytest.mark.parametrize(
    ("which", "kwargs", "protocol"),
    [
        ("https_url", {}, "HTTP/2"),
        ("https_url", {"http2": False}, "HTTP/1.1"),
        ("h2c_url", {"http1": False}, "HTTP/2"),
        ("http_url", {}, "HTTP/1.1"),
    ],
)
async def test_protocols(
    make_client: Any, nginx: Any, which: str, kwargs: Any, protocol: str
) -> None:
    async with make_client(verify=nginx.ca_file, **kwargs) as client:
        response = await client.get(getattr(nginx, which) + "/small.json")
        assert response.protocol == protocol
        assert response.json() == {"hello": "world", "n": 1}
        assert (await client.get(getattr(nginx, which) + "/missing")).status_code == 404


@pytest.mark.parametrize(
    ("which", "kwargs"), [("https_url", {}), ("h2c_url", {"http1": False}), ("http_url", {})]
)
async def test_large_download(make_async_client: Any, nginx: Any, which: str, kwargs: Any) -> None:
    async def download(client: Any, flavour: Flavour) -> int:
        async with client.stream("GET", getattr(nginx, which) + "/big.bin") as response:
            received = 0
            async for chunk in response.stream():
                check_pattern(chunk, received)
                received += len(chunk)
        return received

    async with make_async_client(verify=nginx.ca_file, **kwargs) as client:
        assert await client.native(download) == nginx.big_size


@pytest.mark.parametrize(("which", "kwargs"), [("https_url", {}), ("h2c_url", {"http1": False})])
async def test_1000_concurrent_requests_http2(
    make_async_client: Any, nginx: Any, which: str, kwargs: Any
) -> None:
    async def fetch_all(client: Any, flavour: Flavour) -> None:
        async def fetch() -> int:
            response = await client.get(getattr(nginx, which) + "/small.json")
            assert response.protocol == "HTTP/2"
            return response.status_code  # type: ignore[no-any-return]

        assert await flavour.gather(*([fetch] * 1000)) == [200] * 1000
        stats = client.statistics()
        assert (stats.connections, stats.streams, stats.waiters) == (1, 0, 0)

    async with make_async_client(verify=nginx.ca_file, **kwargs) as client:
        await client.native(fetch_all)


def test_blocking_client_against_nginx(nginx: Any) -> None:
    with httpcore.Client(verify=nginx.ca_file) as client:
        response = client.get(nginx.https_url + "/small.json")
        assert (response.protocol, response.status_code) == ("HTTP/2", 200)
