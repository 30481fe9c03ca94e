"""`NetworkDispatch`: the default dispatch, the pool over real connections.

For each request it picks a route (direct, forwarded through an HTTP proxy,
tunnelled with CONNECT, or SOCKS) and asks the `ConnectionPool` for a
connection keyed by origin, TLS settings and route; a new connection is
opened here (TCP, TLS with ALPN, the tunnel) and driven by `HTTP11Connection`
or `HTTP2Connection`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import trio

from .._core.config import PoolLimits, TimeoutConfig
from .._core.exceptions import ConnectError, ConnectTimeout
from .._core.models import AsyncResponse, Request
from .._core.proxies import ProxyMap
from .deadline import unbounded
from .http2 import HTTP2Connection
from .http11 import HTTP11Connection
from .network import NetworkStream
from .pool import Connection, ConnectionPool
from .proxy import ProxyRoute, connect_to_proxy, open_tunnel
from .tls import SSLConfig

__all__ = ["NetworkDispatch"]


class NetworkDispatch:
    """The default dispatch: a `ConnectionPool` over TCP and TLS, direct or through proxies.

    HTTP/2 is used when ALPN selects it on https, and with prior knowledge
    (h2c) on http when HTTP/1.1 is disabled. Each HTTP/2 connection's reader
    task runs in `nursery`, which the client sets when it is entered.

    Pool keys: ``(scheme, host, port, ssl_config)`` for a direct connection;
    the same plus a `ProxyRoute` for a tunnel (CONNECT or SOCKS5) to the
    origin; the `ProxyRoute` alone for a connection to a proxy that forwards
    ``http://`` requests to any origin. A ``Proxy-Authorization`` header set
    on a request never reaches an origin: it is taken off the request and
    sent to the proxy only (on forwarded requests and on CONNECT).
    """

    def __init__(
        self,
        *,
        pool_limits: PoolLimits,
        http1: bool,
        http2: bool,
        trust_env: bool,
        proxies: ProxyMap | None = None,
    ) -> None:
        self._pool_limits = pool_limits
        self._http1 = http1
        self._http2 = http2
        self._trust_env = trust_env
        self.proxies = proxies
        self.pool = ConnectionPool(pool_limits, self._open_connection)
        self.nursery: trio.Nursery | None = None
        self._ssl_configs: dict[tuple[Any, Any], SSLConfig] = {}
        self._proxy_ssl_configs: dict[Any, SSLConfig] = {}

    def _ssl_config(self, verify: Any, cert: Any) -> SSLConfig:
        try:
            return self._ssl_configs[verify, cert]
        except KeyError:
            config = SSLConfig(
                verify=verify, cert=cert, trust_env=self._trust_env, http2=self._http2
            )
            self._ssl_configs[verify, cert] = config
            return config
        except TypeError:  # an unhashable `cert` such as a list
            return SSLConfig(verify=verify, cert=cert, trust_env=self._trust_env, http2=self._http2)

    def _proxy_ssl_config(self, verify: Any) -> SSLConfig:
        # TLS to an https:// proxy: checked with `verify`; the client certificate
        # is the origin's business and is not shown to the proxy; HTTP/1.1 only.
        try:
            return self._proxy_ssl_configs[verify]
        except KeyError:
            config = SSLConfig(verify=verify, trust_env=self._trust_env, http2=False)
            self._proxy_ssl_configs[verify] = config
            return config

    async def send(
        self, request: Request, *, verify: Any, cert: Any, timeout: TimeoutConfig
    ) -> AsyncResponse:
        url = request.url
        ssl_config = self._ssl_config(verify, cert) if url.is_ssl else None
        user_authorization = None
        if "proxy-authorization" in request.headers:
            user_authorization, request = _take_proxy_authorization(request)
        proxy = self.proxies.select(url) if self.proxies is not None else None
        if proxy is None:
            key: Hashable = (url.scheme, url.socket_host, url.port, ssl_config)
        else:
            route = ProxyRoute(
                proxy,
                self._proxy_ssl_config(verify) if proxy.is_tls else None,
                user_authorization or proxy.authorization,
            )
            if proxy.is_socks or ssl_config is not None or not self._http1:
                key = (url.scheme, url.host, url.port, ssl_config, route)
            else:
                # Forwarded by the proxy: one HTTP/1.1 connection serves any origin.
                return await self.pool.handle_request(route, request, timeout)
        may_multiplex = self._http2 and (ssl_config is not None or not self._http1)
        return await self.pool.handle_request(key, request, timeout, may_multiplex=may_multiplex)

    async def _open_connection(
        self, key: Any, on_release: Any, timeout: TimeoutConfig
    ) -> Connection:
        keepalive_expiry = self._pool_limits.keepalive_expiry
        if isinstance(key, ProxyRoute):
            stream = await connect_to_proxy(key, timeout.connect_timeout)
            return HTTP11Connection(
                stream,
                key,
                on_release,
                keepalive_expiry,
                forwarding=True,
                proxy_authorization=key.authorization,
            )
        host, port, ssl_config = key[1], key[2], key[3]
        ssl_context = ssl_config.load_ssl_context() if ssl_config is not None else None
        if len(key) == 5:
            stream = await open_tunnel(
                key[4], host, port, ssl_context=ssl_context, timeout=timeout.connect_timeout
            )
        else:
            stream = await NetworkStream.connect(
                host, port, ssl_context=ssl_context, timeout=timeout.connect_timeout
            )
        speak_h2 = stream.alpn_protocol == "h2" or (ssl_config is None and not self._http1)
        if not speak_h2:
            if not self._http1:
                stream.close_nowait()
                raise ConnectError(f"{host}:{port} did not agree to speak HTTP/2 (ALPN)")
            return HTTP11Connection(stream, key, on_release, keepalive_expiry)
        # The connection outlives this request: its own writes ignore the request's deadline.
        write_timeout = unbounded(timeout).write_timeout
        connection = HTTP2Connection(stream, key, on_release, keepalive_expiry, write_timeout)
        assert self.nursery is not None, "the client sets the nursery when entered"
        try:
            with trio.fail_after(_seconds(timeout.connect_timeout)):
                await connection.start(self.nursery)
        except trio.TooSlowError as exc:
            connection.close_nowait()
            raise ConnectTimeout("The HTTP/2 connection set-up timed out") from exc
        except BaseException:
            connection.close_nowait()
            raise
        return connection

    async def close(self) -> None:
        await self.pool.aclose()


def _take_proxy_authorization(request: Request) -> tuple[str, Request]:
    """The request's Proxy-Authorization (as latin-1 text of its bytes), and the
    request without it: it is for the proxy, never for the origin."""
    values = []
    kept = []
    for name, value in request.headers.raw:
        if name.lower() == b"proxy-authorization":
            values.append(value.decode("latin-1"))
        else:
            kept.append((name, value))
    stripped = Request(request.method, request.url, headers=kept, body=request.body)
    return ", ".join(values), stripped


def _seconds(timeout: float | None) -> float:
    return math.inf if timeout is None else timeout
