"""Session-wide test servers: hypercorn over plain HTTP and over TLS (trustme)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from tests.apps import app
from tests.servers import ServerThread


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server() -> Iterator[ServerThread]:
    """hypercorn over plain HTTP on loopback; `server.url` is its base URL."""
    thread = ServerThread(app).start()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def tls_server(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """hypercorn over TLS with a trustme certificate for 127.0.0.1 and localhost."""
    certfile, keyfile = _tls_files(ca, tmp_path_factory.mktemp("tls"))
    thread = ServerThread(app, certfile=certfile, keyfile=keyfile).start()
    thread.url = thread.url.replace("http://", "https://")
    yield thread
    thread.stop()


def _tls_files(ca: trustme.CA, directory: Any) -> tuple[str, str]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certfile = directory / "server.pem"
    keyfile = directory / "server.key"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(certfile), append=True)
    cert.private_key_pem.write_to_path(str(keyfile))
    return str(certfile), str(keyfile)


@pytest.fixture(scope="session", params=["h2", "h2c"])
def h2_server(
    request: pytest.FixtureRequest, ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerThread]:
    """hypercorn speaking HTTP/2, over TLS (ALPN) and in clear text (prior knowledge),
    allowing 1,000 streams per connection."""
    if request.param == "h2":
        certfile, keyfile = _tls_files(ca, tmp_path_factory.mktemp("h2tls"))
        thread = ServerThread(
            app, certfile=certfile, keyfile=keyfile, h2_max_concurrent_streams=1000
        ).start()
        thread.url = thread.url.replace("http://", "https://")
    else:
        thread = ServerThread(app, h2_max_concurrent_streams=1000).start()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def client_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


@pytest.fixture(params=["trio", "sync", "asyncio"])
def make_client(request: pytest.FixtureRequest) -> Any:
    """A factory of clients of every kind: ``async with make_client(**kwargs) as client``."""
    return client_factory(request.param)


@pytest.fixture(params=["trio", "asyncio"])
def make_async_client(request: pytest.FixtureRequest) -> Any:
    """The same, for the async clients only (tests that stream or gather natively)."""
    return client_factory(request.param)


def client_factory(kind: str) -> Any:
    from contextlib import asynccontextmanager

    import trio

    import httpcore
    from tests.clients import AsyncioThread, ClientUnderTest

    @asynccontextmanager
    async def make(**kwargs: Any) -> Any:
        if kind == "trio":
            async with httpcore.TrioClient(**kwargs) as client:
                yield ClientUnderTest(kind, client)
        elif kind == "asyncio":
            loop = await trio.to_thread.run_sync(AsyncioThread().start)
            async_client = httpcore.AsyncClient(**kwargs)
            try:
                yield ClientUnderTest(kind, async_client, loop)
            finally:
                await loop.run(async_client.aclose())
                await trio.to_thread.run_sync(loop.stop)
        else:
            sync_client = httpcore.Client(**kwargs)
            try:
                yield ClientUnderTest(kind, sync_client)
            finally:
                await trio.to_thread.run_sync(sync_client.close)

    return make


@pytest.fixture
async def client(make_client: Any) -> Any:
    """A client of each kind with default settings."""
    async with make_client() as client:
        yield client


@pytest.fixture(scope="session")
def nginx(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real nginx on loopback: HTTP/1.1, HTTPS (ALPN h2 + http/1.1) and h2c."""
    from tests.nginx import start_nginx

    yield from start_nginx(tmp_path_factory.mktemp("nginx"), ca)


@pytest.fixture(params=["h11", "httptools"])
def h1_codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with each HTTP/1.1 codec (modules opt in with `usefixtures`)."""
    from httpcore._core import h1codec as _h1codec
    from httpcore._trio import http11 as _http11

    if request.param == "httptools":
        if not _h1codec.HAS_HTTPTOOLS:
            pytest.skip("httptools is not installed")
        monkeypatch.setattr(_http11, "CODEC", _h1codec.HttptoolsCodec)
    else:
        monkeypatch.setattr(_http11, "CODEC", _h1codec.H11Codec)
    return str(request.param)


@pytest.fixture(scope="session")
def tinyproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """tinyproxy on loopback: forwards http:// requests and tunnels CONNECT."""
    from tests.proxy_servers import start_tinyproxy

    yield from start_tinyproxy(tmp_path_factory.mktemp("tinyproxy"))


@pytest.fixture(scope="session")
def tinyproxy_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """tinyproxy asking for Basic proxy auth, user ``user`` password ``pass``."""
    from tests.proxy_servers import start_tinyproxy

    yield from start_tinyproxy(tmp_path_factory.mktemp("tinyproxy-auth"), auth=True)


@pytest.fixture(scope="session")
def https_proxy(
    tmp_path_factory: pytest.TempPathFactory, ca: trustme.CA, tinyproxy_auth: Any
) -> Iterator[Any]:
    """An https:// proxy: nginx ends TLS, the auth tinyproxy behind it does the proxying."""
    from tests.proxy_servers import start_tls_front

    yield from start_tls_front(tmp_path_factory.mktemp("https-proxy"), ca, tinyproxy_auth)


@pytest.fixture(scope="session")
def socks_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """pproxy serving SOCKS5 without auth."""
    from tests.proxy_servers import start_pproxy

    yield from start_pproxy(tmp_path_factory.mktemp("pproxy"))


@pytest.fixture(scope="session")
def socks_proxy_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """pproxy serving SOCKS5 with user ``user`` password ``pass``."""
    from tests.proxy_servers import start_pproxy

    yield from start_pproxy(tmp_path_factory.mktemp("pproxy-auth"), auth=True)
