"""Opening connections through a proxy: to the proxy, CONNECT tunnels, SOCKS5.

Theory of operation
-------------------
A proxy is a property of how a connection is opened. The dispatch picks a
`ProxyRoute` for each request (which proxy, its TLS settings, the
``Proxy-Authorization`` for it) and the pool keys connections by it:

- *forwarding* (an ``http://`` origin through an ``http(s)://`` proxy): the
  connection is to the proxy itself (`connect_to_proxy`); HTTP/1.1 sends
  each request in absolute form with the ``Proxy-Authorization`` of the
  route, so requests to many origins share the connections to one proxy;
- *tunnelling* (`open_tunnel`): an ``https://`` origin through an
  ``http(s)://`` proxy (``CONNECT host:port``), or any origin through a
  SOCKS5 proxy. Once the tunnel is open it carries TLS to the origin (with
  the origin's name, certificate check and ALPN, so HTTP/2 works) and the
  connection is an ordinary origin connection. Nothing of the proxy's
  credentials goes inside the tunnel.

Everything up to a usable stream (TCP and TLS to the proxy, the handshake,
TLS to the origin) runs under one deadline, the connect timeout, in the
calling task: `ConnectTimeout` when it runs out. A proxy that cannot be
reached gives `ConnectError`; a proxy that refuses, fails or misbehaves
during the handshake gives `ProxyError` naming the proxy and what it said.
"""

from __future__ import annotations

import ipaddress
import math
import ssl
from dataclasses import dataclass

import trio

from ..._core.exceptions import (
    ConnectError,
    ConnectTimeout,
    NetworkError,
    ProxyError,
)
from ..._core.headers import Headers
from ..._core.models import AsyncResponse
from ..._core.proxies import Proxy
from ..._core.tunnels import ConnectHandshake, ConnectRefused, Socks5Handshake, authority_form
from ..._version import __version__
from ..network import NetworkStream, translate_error
from ..tls import SSLConfig

__all__ = ["ProxyRoute", "connect_to_proxy", "open_tunnel"]

USER_AGENT = f"python-httpcore/{__version__}"


@dataclass(frozen=True, slots=True)
class ProxyRoute:
    """How connections through one proxy are opened (and a pool key for forwarding).

    ``authorization`` is the ``Proxy-Authorization`` value for this proxy: the
    one the request set, else the one from the proxy URL's credentials.
    ``ssl_config`` is the TLS to an ``https://`` proxy (None for others).
    """

    proxy: Proxy
    ssl_config: SSLConfig | None
    authorization: str | None


def _seconds(timeout: float | None) -> float:
    return math.inf if timeout is None else timeout


async def connect_to_proxy(route: ProxyRoute, timeout: float | None) -> NetworkStream:
    """TCP to the proxy, and TLS for an ``https://`` proxy (checked with `verify`).

    Raises `ConnectError` naming the proxy when it cannot be reached or its
    TLS fails, `ConnectTimeout` past `timeout`.
    """
    proxy = route.proxy
    ssl_context = _proxy_ssl_context(route.ssl_config)
    try:
        stream = await NetworkStream.connect(
            proxy.host, proxy.port, ssl_context=ssl_context, timeout=timeout
        )
    except ConnectTimeout as exc:
        raise ConnectTimeout(f"Timed out connecting to the proxy {proxy}") from exc
    except ConnectError as exc:
        raise ConnectError(f"Could not connect to the proxy {proxy}: {exc}") from exc
    if stream.alpn_protocol not in (None, "http/1.1"):
        # Possible only with a user's SSLContext that offers more (see above).
        stream.close_nowait()
        raise ConnectError(
            f"The proxy {proxy} chose {stream.alpn_protocol!r} by ALPN; httpcore speaks"
            " HTTP/1.1 to proxies"
        )
    return stream


def _proxy_ssl_context(ssl_config: SSLConfig | None) -> ssl.SSLContext | None:
    if ssl_config is None:
        return None
    if isinstance(ssl_config.verify, ssl.SSLContext):
        # The user's own context is shared with the origin's TLS, inside the
        # tunnel: setting its ALPN here would take h2 away from the origin.
        return ssl_config.verify
    return ssl_config.load_ssl_context()


async def open_tunnel(
    route: ProxyRoute,
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None,
    timeout: float | None,
) -> NetworkStream:
    """A stream to ``host:port`` through the route's proxy, TLS-wrapped given a context.

    The connect timeout covers the whole set-up. Raises `ConnectTimeout`,
    `ConnectError` (proxy unreachable, name not found for ``socks5://``, TLS
    to the origin failed) or `ProxyError` (the proxy refused or failed).
    """
    proxy = route.proxy
    try:
        with trio.fail_after(_seconds(timeout)):
            stream = await connect_to_proxy(route, None)
            try:
                if proxy.is_socks:
                    stream = await _socks5(stream, proxy, host, port)
                else:
                    stream = await _http_connect(stream, route, host, port)
                if ssl_context is not None:
                    stream = await _origin_tls(stream, ssl_context, host, port, proxy)
            except BaseException:
                stream.close_nowait()
                raise
    except trio.TooSlowError as exc:
        raise ConnectTimeout(
            f"Timed out opening a tunnel to {authority_form(host, port)} through the proxy {proxy}"
        ) from exc
    return stream


async def _http_connect(
    stream: NetworkStream, route: ProxyRoute, host: str, port: int
) -> NetworkStream:
    handshake = ConnectHandshake(
        host, port, authorization=route.authorization, user_agent=USER_AGENT
    )
    proxy = route.proxy
    try:
        await stream.write(handshake.request(), None)
        while True:
            outcome = handshake.receive(await stream.read(None))
            if outcome is not None:
                break
    except NetworkError as exc:
        raise ProxyError(
            f"The connection to the proxy {proxy} failed during CONNECT {handshake.target}: {exc}"
        ) from exc
    except ProxyError as exc:
        raise ProxyError(f"{exc} (proxy {proxy})") from exc
    if isinstance(outcome, ConnectRefused):
        raise ProxyError(
            f"The proxy {proxy} answered CONNECT {handshake.target} with"
            f" {outcome.status_code} {outcome.reason}".rstrip(),
            response=_as_response(outcome),
        )
    return stream.prepend(outcome)


def _as_response(refused: ConnectRefused) -> AsyncResponse:
    return AsyncResponse(
        refused.status_code,
        headers=Headers(refused.headers),
        content=refused.body,
        protocol="HTTP/1.1",
        reason_phrase=refused.reason or None,
    )


async def _socks5(stream: NetworkStream, proxy: Proxy, host: str, port: int) -> NetworkStream:
    target = host
    if proxy.scheme == "socks5":
        target = await _resolve(host, port)
    handshake = Socks5Handshake(target, port, username=proxy.username, password=proxy.password)
    try:
        while True:
            await stream.write(handshake.data_to_send(), None)
            leftover = handshake.receive(await stream.read(None))
            if leftover is not None:
                return stream.prepend(leftover)
    except NetworkError as exc:
        raise ProxyError(
            f"The connection to the SOCKS5 proxy {proxy} failed during the handshake"
            f" for {authority_form(host, port)}: {exc}"
        ) from exc
    except ProxyError as exc:
        raise ProxyError(f"{exc} (proxy {proxy})") from exc


async def _resolve(host: str, port: int) -> str:
    """The first address of `host` (``socks5://``: the client resolves the name)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    try:
        addresses = await trio.socket.getaddrinfo(host, port, type=trio.socket.SOCK_STREAM)
    except OSError as exc:
        raise ConnectError(f"Could not resolve {host!r} for the SOCKS5 proxy: {exc}") from exc
    return str(addresses[0][4][0])


async def _origin_tls(
    stream: NetworkStream, ssl_context: ssl.SSLContext, host: str, port: int, proxy: Proxy
) -> NetworkStream:
    try:
        return await stream.start_tls(ssl_context, host)
    except (trio.BrokenResourceError, OSError) as exc:
        error = translate_error(exc, ConnectError, ConnectTimeout)
        raise ConnectError(
            f"TLS to {authority_form(host, port)} through the proxy {proxy} failed: {error}"
        ) from exc
