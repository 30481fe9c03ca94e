"""Proxies that misbehave (small raw servers: no real proxy does these on purpose),
timeouts, the environment end to end, and the redirect rule for Proxy-Authorization."""

from __future__ import annotations

import contextlib
import socket
import struct
from typing import Any

import pytest
import trio

import httpcore
from httpcore._trio.network import NetworkStream
from tests.proxy_servers import ProxyServer
from tests.servers import raw_server, read_request_head


async def _silent(stream: trio.SocketStream) -> None:
    await trio.sleep_forever()


def _reset(stream: trio.SocketStream) -> None:
    # SO_LINGER 0: close() sends RST, so the client sees a reset, not an end of stream.
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stream.socket.close()


# socks5h, not socks5: the client must not look up test names in the real DNS.
@pytest.mark.parametrize("scheme", ["http", "socks5h"])
async def test_tunnel_set_up_is_bounded_by_the_connect_timeout(
    make_client: Any, scheme: str
) -> None:
    async with raw_server(_silent) as url:
        proxy = url.replace("http://", f"{scheme}://")
        async with make_client(
            proxies=proxy, timeout=httpcore.TimeoutConfig(connect_timeout=0.2)
        ) as client:
            with trio.fail_after(5):
                with pytest.raises(httpcore.ConnectTimeout, match="Timed out opening a tunnel"):
                    await client.get("https://example.test/")


async def test_origin_tls_inside_the_tunnel_is_bounded_by_the_connect_timeout(
    make_client: Any,
) -> None:
    async def established_then_silent(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        await stream.send_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await trio.sleep_forever()

    async with raw_server(established_then_silent) as url:
        timeout = httpcore.TimeoutConfig(connect_timeout=0.2)
        async with make_client(proxies=url, timeout=timeout) as client:
            with trio.fail_after(5):
                with pytest.raises(httpcore.ConnectTimeout, match="through the proxy"):
                    await client.get("https://example.test/")


async def test_cancelled_during_tunnel_set_up_leaves_the_pool_consistent(
    tinyproxy: ProxyServer, tls_server: Any, ca_file: str
) -> None:
    async def answer_slowly(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        await trio.sleep_forever()

    async with raw_server(answer_slowly) as url:
        proxies = {"all://example.test": url, "all://": tinyproxy.url}
        async with httpcore.TrioClient(proxies=proxies, verify=ca_file) as client:
            with trio.move_on_after(0.2) as scope:
                await client.get("https://example.test/")
            assert scope.cancelled_caught
            stats = client.statistics()
            assert (stats.connections, stats.opening, stats.waiters) == (0, 0, 0)
            response = await client.get(tls_server.url + "/")
            assert response.status_code == 200


async def test_https_proxy_tls_handshake_timeout(make_client: Any) -> None:
    async with raw_server(_silent) as url:
        proxy = url.replace("http://", "https://")
        timeout = httpcore.TimeoutConfig(connect_timeout=0.2)
        async with make_client(proxies=proxy, timeout=timeout) as client:
            with pytest.raises(httpcore.ConnectTimeout, match="connecting to the proxy"):
                await client.get("http://example.test/")


async def test_proxy_closes_instead_of_answering_connect(make_client: Any) -> None:
    async def close_after_head(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        await stream.aclose()

    async with raw_server(close_after_head) as url:
        async with make_client(proxies=url) as client:
            with pytest.raises(httpcore.ProxyError, match="closed the connection before") as info:
                await client.get("https://example.test/")
    assert url in str(info.value)


@pytest.mark.parametrize("scheme", ["http", "socks5h"])
async def test_proxy_resets_during_the_handshake(make_client: Any, scheme: str) -> None:
    async def reset(stream: trio.SocketStream) -> None:
        await stream.receive_some(1)
        _reset(stream)

    async with raw_server(reset) as url:
        proxy = url.replace("http://", f"{scheme}://")
        async with make_client(proxies=proxy) as client:
            with pytest.raises(httpcore.ProxyError, match="failed during") as info:
                await client.get("https://example.test/")
    assert isinstance(info.value.__cause__, httpcore.ReadError)


async def test_connect_answer_too_large(make_client: Any) -> None:
    async def huge(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        # The client gives up part way and closes: the rest cannot be sent.
        with contextlib.suppress(trio.BrokenResourceError):
            await stream.send_all(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 30000 + b"\r\n")
            await trio.sleep_forever()

    async with raw_server(huge) as url:
        async with make_client(proxies=url) as client:
            with pytest.raises(httpcore.ProxyError, match=r"larger than|invalid answer"):
                await client.get("https://example.test/")


async def test_proxy_that_is_not_a_tls_origin_after_connect(make_client: Any) -> None:
    async def not_tls(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        await stream.send_all(b"HTTP/1.1 200 OK\r\n\r\nthis is not TLS at all\r\n" * 10)
        await trio.sleep_forever()

    async with raw_server(not_tls) as url:
        async with make_client(proxies=url) as client:
            with pytest.raises(httpcore.ConnectError, match=r"through the proxy .* failed"):
                await client.get("https://example.test/")


async def test_socks5_reports_the_proxys_reason(make_client: Any) -> None:
    async def unreachable(stream: trio.SocketStream) -> None:
        assert await stream.receive_some(3) == b"\x05\x01\x00"
        await stream.send_all(b"\x05\x00")
        await stream.receive_some(1024)
        await stream.send_all(b"\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00")
        await trio.sleep_forever()

    async with raw_server(unreachable) as url:
        proxy = url.replace("http://", "socks5h://")
        async with make_client(proxies=proxy) as client:
            with pytest.raises(httpcore.ProxyError, match="host unreachable") as info:
                await client.get("http://example.test:8080/")
    assert "example.test:8080" in str(info.value)
    assert proxy in str(info.value)


class FailingResolver(trio.abc.HostnameResolver):
    async def getaddrinfo(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def getnameinfo(self, *args: Any) -> Any:  # the abstract method; never asked
        raise NotImplementedError


async def test_socks5_name_that_does_not_resolve() -> None:
    # TrioClient only: the resolver hook belongs to this trio run.
    previous = trio.socket.set_custom_hostname_resolver(FailingResolver())
    try:
        async with raw_server(_silent) as url:
            proxy = url.replace("http://", "socks5://")
            async with httpcore.TrioClient(proxies=proxy) as client:
                with pytest.raises(
                    httpcore.ConnectError, match=r"Could not resolve 'nowhere\.test'"
                ):
                    await client.get("http://nowhere.test/")
    finally:
        trio.socket.set_custom_hostname_resolver(previous)


async def test_bytes_sent_after_the_handshake_are_read_first() -> None:
    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(b"from the socket")
        await trio.sleep_forever()

    async with raw_server(handler) as url:
        port = int(url.rsplit(":", 1)[1])
        stream = await NetworkStream.connect("127.0.0.1", port)
        assert stream.prepend(b"") is stream
        prefixed = stream.prepend(b"left over")
        assert prefixed.is_readable()
        assert await prefixed.read(None, 4) == b"left"
        assert await prefixed.read(None) == b" over"
        assert await prefixed.read(None, 1 << 20) == b"from the socket"
        await prefixed._stream.wait_send_all_might_not_block()
        await prefixed.write(b"x", None)
        await prefixed.aclose()
        assert prefixed.is_readable()  # closed


# -- the environment, end to end ------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "trust_env", "proxied"),
    [
        ({"HTTP_PROXY": "{proxy}"}, True, True),
        ({"http_proxy": "{proxy}"}, True, True),
        ({"ALL_PROXY": "{proxy}"}, True, True),
        ({"HTTPS_PROXY": "{proxy}"}, True, False),
        ({"HTTP_PROXY": "{proxy}", "NO_PROXY": "127.0.0.1"}, True, False),
        ({"HTTP_PROXY": "{proxy}", "no_proxy": "127.0.0.0/8"}, True, False),
        ({"HTTP_PROXY": "{proxy}", "NO_PROXY": "localhost"}, True, True),
        ({"HTTP_PROXY": "{proxy}"}, False, False),
    ],
)
async def test_environment_proxies(
    make_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    tinyproxy: ProxyServer,
    server: Any,
    environ: dict[str, str],
    trust_env: bool,
    proxied: bool,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value.format(proxy=tinyproxy.url))
    tinyproxy.mark()
    async with make_client(trust_env=trust_env) as client:
        response = await client.get(server.url + "/")
    assert response.status_code == 200
    seen = [line for line in tinyproxy.new_lines() if "Request (file" in line]
    assert len(seen) == (1 if proxied else 0)


# -- redirects ------------------------------------------------------------------------


def _redirect(location: str, request: httpcore.Request) -> httpcore.AsyncResponse:
    return httpcore.AsyncResponse(302, headers={"Location": location}, request=request)


def test_proxy_authorization_never_follows_a_redirect_to_another_proxy() -> None:
    client = httpcore.TrioClient(
        proxies={"http://": "http://one:3128", "https://": "http://two:3128"}, trust_env=False
    )
    request = httpcore.Request("GET", "http://example.com/", headers={"Proxy-Authorization": "x"})
    # http -> https on the same host keeps credentials (SPEC §6), but the proxy changes.
    upgraded = client._build_redirect_request(request, _redirect("https://example.com/", request))
    assert "proxy-authorization" not in upgraded.headers
    same = client._build_redirect_request(request, _redirect("/other", request))
    assert same.headers["proxy-authorization"] == "x"


def test_proxy_authorization_kept_on_a_same_proxy_upgrade() -> None:
    client = httpcore.TrioClient(proxies="http://one:3128", trust_env=False)
    request = httpcore.Request("GET", "http://example.com/", headers={"Proxy-Authorization": "x"})
    upgraded = client._build_redirect_request(request, _redirect("https://example.com/", request))
    assert upgraded.headers["proxy-authorization"] == "x"


def test_without_proxies_the_redirect_rule_is_the_specs() -> None:
    client = httpcore.TrioClient(trust_env=False)
    request = httpcore.Request("GET", "http://example.com/", headers={"Proxy-Authorization": "x"})
    upgraded = client._build_redirect_request(request, _redirect("https://example.com/", request))
    assert upgraded.headers["proxy-authorization"] == "x"


def test_a_dispatch_replaces_proxies() -> None:
    client = httpcore.TrioClient(
        proxies="not even parsed", dispatch=httpcore.MockDispatch(lambda request: None)
    )
    assert not hasattr(client._dispatch, "proxies")


# -- cancellation -----------------------------------------------------------------------


@pytest.mark.parametrize("proxy_kind", ["socks_proxy", "https_proxy"])
async def test_cancellation_at_every_step_of_a_tunnel(
    request: pytest.FixtureRequest, tls_server: Any, ca_file: str, proxy_kind: str
) -> None:
    """Cancel a request after k steps for every k while its tunnel (SOCKS5, or CONNECT
    over TLS to the proxy, then TLS and HTTP/2 inside) is being set up and used: the
    pool returns to baseline and the client still works."""
    from tests.test_pool import assert_baseline, run_cancelled_after

    proxy: ProxyServer = request.getfixturevalue(proxy_kind)
    proxy_url = proxy.url_with("user:pass") if proxy_kind == "https_proxy" else proxy.url
    steps = 1
    while True:
        async with httpcore.TrioClient(proxies=proxy_url, verify=ca_file) as client:

            async def get(client: httpcore.TrioClient = client) -> None:
                await client.get(tls_server.url + "/")

            cancelled = await run_cancelled_after(steps, get)
            assert_baseline(client)
            if not cancelled:
                break
            assert (await client.get(tls_server.url + "/")).protocol == "HTTP/2"
        steps += 1
    assert steps > 10  # the cancellations landed all along the set-up
