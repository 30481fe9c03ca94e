"""Proxies end to end, with both clients, through real proxy servers on loopback.

tinyproxy forwards http:// requests and tunnels https:// ones (CONNECT), with
and without Basic proxy auth; nginx's stream module puts TLS in front of it
for an https:// proxy; pproxy serves SOCKS5. The proxies' own logs show what
they were asked; the echo endpoint of the origin shows what reached it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import ssl
from typing import Any

import pytest
import trio

import httpcore
from tests.proxy_servers import PASSWORD, USER, ProxyServer

BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def _echo_headers(response: Any) -> dict[str, str]:
    return dict(json.loads(response.text)["headers"])


def _requests_seen(proxy: ProxyServer) -> list[str]:
    """The request lines tinyproxy logged since `mark()`."""
    return [line.split("): ", 1)[1] for line in proxy.new_lines() if "Request (file" in line]


# -- http:// proxy: forwarding and CONNECT --------------------------------------------


@pytest.mark.usefixtures("h1_codec")
async def test_http_origin_is_forwarded_in_absolute_form(
    make_client: Any, tinyproxy: ProxyServer, server: Any
) -> None:
    tinyproxy.mark()
    async with make_client(proxies=tinyproxy.url) as client:
        response = await client.get(server.url + "/echo?x=1")
    assert response.status_code == 200
    assert json.loads(response.text)["query"] == "x=1"
    assert _requests_seen(tinyproxy) == [f"GET {server.url}/echo?x=1 HTTP/1.1"]


@pytest.mark.parametrize("http2", [True, False])
async def test_https_origin_is_tunnelled_with_alpn_inside(
    make_client: Any, tinyproxy: ProxyServer, tls_server: Any, ca_file: str, http2: bool
) -> None:
    tinyproxy.mark()
    async with make_client(proxies=tinyproxy.url, verify=ca_file, http2=http2) as client:
        first = await client.get(tls_server.url + "/echo")
        second = await client.get(tls_server.url + "/")
    assert first.protocol == ("HTTP/2" if http2 else "HTTP/1.1")
    assert json.loads(first.text)["http_version"] == ("2" if http2 else "1.1")
    assert second.text == "Hello, world!"
    # One tunnel, reused by the second request; the proxy saw nothing but CONNECT.
    authority = tls_server.url.removeprefix("https://")
    assert _requests_seen(tinyproxy) == [f"CONNECT {authority} HTTP/1.1"]


async def test_tunnel_checks_the_origin_certificate(
    make_client: Any, tinyproxy: ProxyServer, tls_server: Any
) -> None:
    async with make_client(proxies=tinyproxy.url) as client:
        with pytest.raises(httpcore.ConnectError, match="certificate") as info:
            await client.get(tls_server.url)
    assert "through the proxy" in str(info.value)


@pytest.mark.parametrize("h2_server", ["h2c"], indirect=True)
async def test_h2c_prior_knowledge_goes_through_a_tunnel(
    make_client: Any, tinyproxy: ProxyServer, h2_server: Any
) -> None:
    tinyproxy.mark()
    async with make_client(proxies=tinyproxy.url, http1=False) as client:
        response = await client.get(h2_server.url + "/")
    assert response.protocol == "HTTP/2"
    assert _requests_seen(tinyproxy) == [
        f"CONNECT {h2_server.url.removeprefix('http://')} HTTP/1.1"
    ]


@pytest.mark.usefixtures("h1_codec")
async def test_forwarded_requests_to_many_origins_share_a_proxy_connection(
    make_client: Any,
) -> None:
    # A keep-alive HTTP server standing in for a proxy: it answers each request
    # with its target (tinyproxy closes the client connection after each one).
    from tests.servers import CountingServer, raw_server

    counting = CountingServer()
    async with raw_server(counting.handle) as proxy_url:
        async with make_client(proxies=proxy_url) as client:
            first = await client.get("http://one.example/a?b=1")
            second = await client.get("http://two.example:8080/c")
    assert first.text == "http://one.example/a?b=1"
    assert second.text == "http://two.example:8080/c"
    assert counting.total_connections == 1


# -- credentials ----------------------------------------------------------------------


async def test_connect_refused_with_407_is_a_proxy_error_carrying_the_response(
    make_client: Any, tinyproxy_auth: ProxyServer, tls_server: Any, ca_file: str
) -> None:
    async with make_client(proxies=tinyproxy_auth.url, verify=ca_file) as client:
        with pytest.raises(httpcore.ProxyError, match="407") as info:
            await client.get(tls_server.url + "/echo")
    error = info.value
    assert error.response is not None
    assert error.response.status_code == 407
    assert "proxy-authenticate" in error.response.headers
    assert error.request is not None and error.response.request is error.request
    assert tinyproxy_auth.url in str(error)


async def test_forwarded_request_without_credentials_gets_the_proxys_407(
    make_client: Any, tinyproxy_auth: ProxyServer, server: Any
) -> None:
    async with make_client(proxies=tinyproxy_auth.url) as client:
        response = await client.get(server.url + "/echo")
    assert response.status_code == 407


@pytest.mark.parametrize("userinfo", ["user:pass", "us%65r:p%61ss"])
async def test_credentials_go_to_the_proxy_only(
    make_client: Any,
    tinyproxy_auth: ProxyServer,
    server: Any,
    tls_server: Any,
    ca_file: str,
    userinfo: str,
) -> None:
    async with make_client(proxies=tinyproxy_auth.url_with(userinfo), verify=ca_file) as client:
        forwarded = await client.get(server.url + "/echo")
        tunnelled = await client.get(tls_server.url + "/echo")
    assert forwarded.status_code == tunnelled.status_code == 200
    # Neither tinyproxy's forwarding nor the tunnel let the credentials reach the origin.
    assert "proxy-authorization" not in _echo_headers(forwarded)
    assert "proxy-authorization" not in _echo_headers(tunnelled)


async def test_a_proxy_authorization_header_goes_to_the_proxy_only(
    make_client: Any, tinyproxy_auth: ProxyServer, server: Any, tls_server: Any, ca_file: str
) -> None:
    headers = {"Proxy-Authorization": BASIC}
    async with make_client(proxies=tinyproxy_auth.url, verify=ca_file) as client:
        forwarded = await client.get(server.url + "/echo", headers=headers)
        tunnelled = await client.get(tls_server.url + "/echo", headers=headers)
    assert forwarded.status_code == tunnelled.status_code == 200
    assert "proxy-authorization" not in _echo_headers(tunnelled)
    async with make_client(trust_env=False) as client:
        direct = await client.get(server.url + "/echo", headers=headers)
    assert "proxy-authorization" not in _echo_headers(direct)


async def test_wrong_credentials_in_connect(
    make_client: Any, tinyproxy_auth: ProxyServer, tls_server: Any, ca_file: str
) -> None:
    proxy = tinyproxy_auth.url_with("user:wrong")
    async with make_client(proxies=proxy, verify=ca_file) as client:
        # tinyproxy answers wrong credentials with 401 rather than 407.
        with pytest.raises(httpcore.ProxyError, match=r"answered CONNECT .* with 401") as info:
            await client.get(tls_server.url)
    assert "wrong" not in str(info.value)


# -- https:// proxy -------------------------------------------------------------------


async def test_https_proxy_forwards_and_tunnels_tls_in_tls(
    make_client: Any, https_proxy: ProxyServer, server: Any, tls_server: Any, ca_file: str
) -> None:
    https_proxy.mark()
    proxy = https_proxy.url_with("user:pass")
    async with make_client(proxies=proxy, verify=ca_file) as client:
        forwarded = await client.get(server.url + "/echo")
        tunnelled = await client.get(tls_server.url + "/echo")
        again = await client.get(tls_server.url + "/")
    assert forwarded.status_code == 200
    assert tunnelled.protocol == "HTTP/2"
    assert again.text == "Hello, world!"
    assert "proxy-authorization" not in _echo_headers(tunnelled)
    assert _requests_seen(https_proxy) == [
        f"GET {server.url}/echo HTTP/1.1",
        f"CONNECT {tls_server.url.removeprefix('https://')} HTTP/1.1",
    ]


async def test_https_proxy_with_an_ssl_context_as_verify(
    make_client: Any,
    https_proxy: ProxyServer,
    server: Any,
    tls_server: Any,
    client_ssl_context: ssl.SSLContext,
) -> None:
    # The one context serves the proxy's TLS and the origin's inside the tunnel:
    # the origin still gets its h2 by ALPN, and the proxy its HTTP/1.1.
    proxy = https_proxy.url_with("user:pass")
    async with make_client(proxies=proxy, verify=client_ssl_context) as client:
        tunnelled = await client.get(tls_server.url + "/echo")
        forwarded = await client.get(server.url + "/echo")
        again = await client.get(tls_server.url + "/")
    assert tunnelled.protocol == again.protocol == "HTTP/2"
    assert forwarded.status_code == 200


async def test_https_proxy_that_chooses_h2_by_alpn(
    make_client: Any, ca: Any, client_ssl_context: ssl.SSLContext
) -> None:
    from tests.servers import raw_server

    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    server_context.set_alpn_protocols(["h2"])

    async def tls_h2(stream: trio.SocketStream) -> None:
        tls = trio.SSLStream(stream, server_context, server_side=True)
        with contextlib.suppress(trio.BrokenResourceError):
            await tls.do_handshake()
            await trio.sleep_forever()

    # As after a request to an h2 origin with this context.
    client_ssl_context.set_alpn_protocols(["h2", "http/1.1"])
    async with raw_server(tls_h2) as url:
        proxy = url.replace("http://", "https://")
        async with make_client(proxies=proxy, verify=client_ssl_context) as client:
            with pytest.raises(httpcore.ConnectError, match="chose 'h2' by ALPN"):
                await client.get("http://example.test/")


async def test_https_proxy_certificate_is_checked_with_verify(
    make_client: Any, https_proxy: ProxyServer, server: Any
) -> None:
    async with make_client(proxies=https_proxy.url) as client:
        with pytest.raises(httpcore.ConnectError, match="certificate") as info:
            await client.get(server.url)
    assert https_proxy.url in str(info.value)


# -- SOCKS5 ---------------------------------------------------------------------------


class RecordingResolver(trio.abc.HostnameResolver):
    """Resolves every name to 127.0.0.1 and records the names it was asked."""

    def __init__(self) -> None:
        self.names: list[str] = []

    async def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        self.names.append(name)
        return [(trio.socket.AF_INET, trio.socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))]

    async def getnameinfo(self, *args: Any) -> Any:  # the abstract method; never asked
        raise NotImplementedError


@pytest.fixture
async def resolver() -> Any:
    recording = RecordingResolver()
    previous = trio.socket.set_custom_hostname_resolver(recording)
    yield recording
    trio.socket.set_custom_hostname_resolver(previous)


def _socks_targets(proxy: ProxyServer) -> list[str]:
    return [line.split(" -> ", 1)[1] for line in proxy.new_lines() if " -> " in line]


async def test_socks5h_lets_the_proxy_resolve_the_name(
    socks_proxy: ProxyServer, server: Any, resolver: RecordingResolver
) -> None:
    # TrioClient only: the resolver hook is per trio run, and Client runs its own.
    socks_proxy.mark()
    port = server.url.rsplit(":", 1)[1]
    proxy = socks_proxy.url.replace("socks5://", "socks5h://")
    async with httpcore.TrioClient(proxies=proxy) as client:
        response = await client.get(f"http://localhost:{port}/echo")
    assert response.status_code == 200
    assert resolver.names == []
    assert _socks_targets(socks_proxy) == [f"localhost:{port}"]


async def test_socks5_resolves_the_name_on_the_client(
    socks_proxy: ProxyServer, server: Any, resolver: RecordingResolver
) -> None:
    socks_proxy.mark()
    port = server.url.rsplit(":", 1)[1]
    async with httpcore.TrioClient(proxies=socks_proxy.url) as client:
        response = await client.get(f"http://localhost:{port}/echo")
    assert response.status_code == 200
    assert resolver.names == ["localhost"]
    assert _socks_targets(socks_proxy) == [f"127.0.0.1:{port}"]


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_socks5_to_http_and_h2_origins(
    make_client: Any,
    socks_proxy: ProxyServer,
    server: Any,
    tls_server: Any,
    ca_file: str,
    scheme: str,
) -> None:
    proxy = socks_proxy.url.replace("socks5://", f"{scheme}://")
    async with make_client(proxies=proxy, verify=ca_file) as client:
        plain = await client.get(server.url + "/echo", headers={"Proxy-Authorization": BASIC})
        tls = await client.get(tls_server.url + "/echo")
        again = await client.get(tls_server.url + "/")
    assert plain.status_code == 200
    assert "proxy-authorization" not in _echo_headers(plain)
    assert tls.protocol == "HTTP/2"
    assert again.text == "Hello, world!"


async def test_socks5_with_credentials(
    make_client: Any, socks_proxy_auth: ProxyServer, server: Any
) -> None:
    socks_proxy_auth.mark()
    async with make_client(proxies=socks_proxy_auth.url_with("user:pass")) as client:
        response = await client.get(server.url + "/")
    assert response.text == "Hello, world!"
    assert len(_socks_targets(socks_proxy_auth)) == 1


@pytest.mark.parametrize(
    ("userinfo", "message"),
    [("user:wrong", "were they refused"), (None, "user name and password")],
)
async def test_socks5_refused_credentials(
    make_client: Any,
    socks_proxy_auth: ProxyServer,
    server: Any,
    userinfo: str | None,
    message: str,
) -> None:
    proxy = socks_proxy_auth.url if userinfo is None else socks_proxy_auth.url_with(userinfo)
    async with make_client(proxies=proxy) as client:
        with pytest.raises(httpcore.ProxyError, match=message) as info:
            await client.get(server.url + "/")
    assert socks_proxy_auth.url in str(info.value)
    assert "wrong" not in str(info.value)


# -- unreachable proxies and timeouts -------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https", "socks5"])
@pytest.mark.parametrize("origin", ["server", "tls_server"])
async def test_unreachable_proxy_is_a_connect_error_naming_it(
    make_client: Any, request: pytest.FixtureRequest, scheme: str, origin: str
) -> None:
    from tests.proxy_servers import free_port

    proxy = f"{scheme}://127.0.0.1:{free_port()}"
    url = request.getfixturevalue(origin).url
    async with make_client(proxies=proxy) as client:
        with pytest.raises(httpcore.ConnectError, match="Could not connect to the proxy") as info:
            await client.get(url)
    assert proxy in str(info.value)
    assert info.value.request is not None
