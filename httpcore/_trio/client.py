"""`TrioClient`: the engine every client of httpcore runs.

A request goes down four layers, each a loop or a single call:
`send` (timeouts, reading the body unless streaming) → redirects (SPEC §6,
each hop a fresh request from `build_redirect_request`) → auth flow (a
generator that may answer a challenge) → one exchange through the dispatch
(the pool, or a user-supplied dispatch). Cookies are taken from every
response into the client's jar.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Unpack

import trio

from .._core.auth import Auth, auth_from_url, build_auth, netrc_credentials
from .._core.config import TimeoutConfig
from .._core.cookies import Cookies
from .._core.decoders import accept_encoding_header
from .._core.exceptions import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    RequestError,
    TimeoutException,
    TooManyRedirects,
    UnsupportedProtocol,
)
from .._core.headers import Headers
from .._core.models import AsyncResponse, Request
from .._core.proxies import ProxyMap
from .._core.redirects import build_redirect_request, is_same_origin_for_credentials
from .._core.urls import URL
from .._version import __version__
from .deadline import DeadlineBody, DeadlineTimeouts, explain
from .options import (
    BUILD,
    NO_BODY,
    REQUEST,
    SEND,
    STREAM,
    UNSET,
    BuildOptions,
    ClientBase,
    ClientConfig,
    Dispatch,
    NoBodyOptions,
    RequestOptions,
    SendOptions,
    StreamOptions,
    check_options,
    takes,
)
from .pool import ConnectionPool, PoolStatistics
from .transport import NetworkDispatch

USER_AGENT = f"python-httpcore/{__version__}"
# A redirect's body is read (so its connection can be reused) up to this size.
MAX_REDIRECT_BODY_DRAIN = 1 << 20
# `retries=`: connect failures of these methods are retried; retry n waits
# 0 s (the first), then RETRY_BACKOFF * 2 ** (n - 2) s, at most MAX_RETRY_DELAY.
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))
RETRY_BACKOFF = 0.5
MAX_RETRY_DELAY = 8.0
# Absolute URLs given as str, parsed once (`_merge_url`); cleared when full.
_PARSED_URLS_MAX = 256


def in_trio_task() -> bool:
    """True inside a trio task (False in asyncio code, even beside a trio guest run)."""
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


class TrioClient(ClientBase):
    """An HTTP client for trio programs; use it as ``async with TrioClient() as client``.

    The client owns a nursery (opened by ``async with``) and the connection
    pool. Leaving the block closes every connection. Each request enforces its
    own timeouts with cancel scopes in the calling task; a caller's own
    cancellation (``trio.move_on_after``) cancels the request and leaves the
    pool consistent.

    ``proxies`` is one proxy URL (``http://``, ``https://``, ``socks5://``,
    ``socks5h://``) or a dict from patterns (``"all://"``, ``"https://"``,
    ``"all://*.example.com"``...) to proxy URLs or None; without it and with
    ``trust_env``, ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and
    ``NO_PROXY`` are read once, here (see docs/proxies.md). A bad pattern
    raises ``ValueError``, a bad proxy URL ``InvalidURL``, a SOCKS proxy
    without the ``socksio`` package ``ImportError``.

    ``event_hooks={"request": [...], "response": [...]}``: async callables (a
    plain function works too) called with each `Request` just before it is
    sent, and with each `AsyncResponse` before its body is read: every
    redirect hop and auth round trip included. An exception raised by a hook
    propagates to the caller (the response is closed first). The lists are
    in `event_hooks`, which may be changed at any time.

    ``retries=N``: a request with an idempotent method (GET, HEAD, OPTIONS,
    TRACE, PUT, DELETE) whose connection could not be made (`ConnectError`,
    `ConnectTimeout`) is tried again, on a fresh connection, up to N times;
    the connect timeout applies to each attempt. Nothing that failed after
    connecting is retried here.
    """

    def _configure(self, config: ClientConfig) -> None:
        if not config.http1 and not config.http2:
            raise ValueError("At least one of http1 and http2 must be enabled")
        if isinstance(config.retries, bool) or not isinstance(config.retries, int):
            raise TypeError(f"retries must be an int, not {config.retries!r}")
        if config.retries < 0:
            raise ValueError(f"retries must be >= 0, not {config.retries!r}")
        self.retries = config.retries
        self.event_hooks = config.event_hooks
        self.auth = build_auth(config.auth)
        self.cookies = Cookies(config.cookies)
        self.verify = config.verify
        self.cert = config.cert
        self.timeout = TimeoutConfig.coerce(config.timeout)
        self.pool_limits = config.pool_limits
        self.max_redirects = config.max_redirects
        self.trust_env = config.trust_env
        self.headers = Headers(
            {
                "Accept": "*/*",
                "Accept-Encoding": accept_encoding_header(),
                "Connection": "keep-alive",
                "User-Agent": USER_AGENT,
            }
        )
        if config.headers is not None:
            self.headers.update(Headers(config.headers))
        self.params = config.params
        self.base_url = None if config.base_url is None else _as_base_url(config.base_url)
        # The environment is read once, here; a dispatch replaces proxies altogether.
        proxy_map = (
            ProxyMap.from_config(config.proxies, trust_env=config.trust_env, environ=os.environ)
            if config.dispatch is None
            else None
        )
        self._dispatch: Dispatch = config.dispatch or NetworkDispatch(
            pool_limits=config.pool_limits,
            http1=config.http1,
            http2=config.http2,
            trust_env=config.trust_env,
            proxies=proxy_map,
        )
        self._nursery_manager: Any = None
        self._state = "unopened"
        self._parsed_urls: dict[str, URL] = {}

    @classmethod
    def _from_config(cls, config: ClientConfig) -> TrioClient:
        """The engine of a facade (`Client`, `AsyncClient`), made from its arguments."""
        engine = cls.__new__(cls)
        engine._configure(config)
        return engine

    # -- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> TrioClient:
        if not in_trio_task():
            raise RuntimeError(
                "TrioClient runs only under trio (inside trio.run): in asyncio code use "
                "httpcore.AsyncClient, in blocking code httpcore.Client"
            )
        if self._state != "unopened":
            raise RuntimeError("A TrioClient can be entered only once; create a new one")
        self._nursery_manager = trio.open_nursery()
        self._nursery = await self._nursery_manager.__aenter__()
        if isinstance(self._dispatch, NetworkDispatch):
            self._dispatch.nursery = self._nursery
        self._state = "open"
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        self._state = "closed"
        try:
            await self._dispatch.close()
        finally:
            try:
                suppress: bool | None = await self._nursery_manager.__aexit__(*exc_info)
            except BaseExceptionGroup as group:
                # trio's nursery wraps whatever the `async with` block raised in
                # a group; when that is all it holds, let the caller see it plain.
                if group.exceptions != (exc_info[1],):
                    raise
                return False
        return suppress

    def _check_open(self) -> None:
        if self._state != "open":
            problem = "was never entered" if self._state == "unopened" else "is closed"
            raise RuntimeError(
                f"This TrioClient {problem}: use it as `async with TrioClient() as client:`"
                " and make requests inside the block"
            )

    def statistics(self) -> PoolStatistics:
        """The pool's counts (connections, idle, opening, waiters)."""
        pool: ConnectionPool = getattr(self._dispatch, "pool")  # noqa: B009
        return pool.statistics()

    # -- building requests ---------------------------------------------------------

    def _merge_url(self, url: URL | str) -> URL:
        cached = self._parsed_urls.get(url) if type(url) is str else None
        if cached is not None:
            return cached
        merged = URL(url, allow_relative=True)
        if merged.scheme and merged.scheme not in ("http", "https"):
            # `file:`, `data:`, `mailto:`... have no host: say what is wrong with them.
            raise UnsupportedProtocol(
                f"Unsupported URL scheme {merged.scheme!r} in {str(merged)[:200]!r}:"
                " only http and https"
            )
        if merged.is_absolute_url:
            if type(url) is str:
                # URLs are immutable: a program that asks for the same few URLs
                # again and again parses each once.
                if len(self._parsed_urls) >= _PARSED_URLS_MAX:
                    self._parsed_urls.clear()
                self._parsed_urls[url] = merged
            return merged
        if self.base_url is None:
            return URL(url)  # InvalidURL: relative
        return merged.resolve_with(self.base_url)

    @takes(BuildOptions)
    def build_request(
        self, method: str, url: URL | str, **options: Unpack[BuildOptions]
    ) -> Request:
        """A `Request` with the client's base URL, default headers, params and cookies."""
        check_options(options, BUILD, self, "build_request")
        return self._build(method, url, options)

    def _build(self, method: str, url: URL | str, options: Mapping[str, Any]) -> Request:
        """`build_request` for options already checked (every client builds with this)."""
        get = options.get
        merged_url = self._merge_url(url)
        if self.params is not None:
            merged_url = URL(merged_url, params=self.params)
        merged_headers = self.headers.copy()
        headers = get("headers")
        if headers is not None:
            merged_headers.update(Headers(headers))
        return Request(
            method,
            merged_url,
            params=get("params"),
            data=get("data"),
            files=get("files"),
            json=get("json"),
            headers=merged_headers,
            cookies=self._merge_cookies(get("cookies"), merged_url),
        )

    def prepare_request(self, request: Request) -> Request:
        """A copy of `request` with the client's default headers, params and cookies merged in."""
        url = URL(request.url, params=self.params) if self.params is not None else request.url
        headers = self.headers.copy()
        headers.update(request.headers)
        return Request(
            request.method,
            url,
            headers=headers,
            cookies=self._merge_cookies(request.cookies, url),
            body=request.body,
        )

    def _merge_cookies(self, cookies: Any, url: URL) -> Cookies:
        """The client's cookies and the request's; the request's only for its own host."""
        if cookies is None or cookies is self.cookies:
            return self.cookies
        merged = Cookies(self.cookies)
        merged.update(Cookies(cookies)._bound_to(url))
        return merged

    # -- sending -------------------------------------------------------------------

    @takes(RequestOptions)
    async def request(
        self, method: str, url: URL | str, **options: Unpack[RequestOptions]
    ) -> AsyncResponse:
        """Build and send a request; see `send` for how it is sent."""
        check_options(options, REQUEST, self, "request")
        return await self._request(method, url, options)

    async def _request(
        self, method: str, url: URL | str, options: Mapping[str, Any]
    ) -> AsyncResponse:
        return await self._send(self._build(method, url, options), options)

    @takes(SendOptions, first=("stream", "allow_redirects", "auth"))
    async def send(self, request: Request, **options: Unpack[SendOptions]) -> AsyncResponse:
        """Send `request`, following redirects and running the auth flow.

        With `stream=False` the body is read before this returns; with
        `stream=True` the caller must read or close the response. `timeout`
        overrides the client's for this request (`None` disables timeouts);
        `verify`/`cert` likewise, and a connection made under other TLS
        settings is never reused for it. A `TimeoutConfig` with a ``total``
        bounds the whole exchange, body included. Raises the SPEC §7
        exceptions. Cancellation cancels the request and closes its connection.
        """
        check_options(options, SEND, self, "send")
        return await self._send(request, options)

    async def _send(self, request: Request, options: Mapping[str, Any]) -> AsyncResponse:
        self._check_open()
        get = options.get
        timeout = get("timeout", UNSET)
        timeout = self.timeout if timeout is UNSET else TimeoutConfig.coerce(timeout)
        if timeout.total is not None:
            timeout = DeadlineTimeouts(timeout, trio.current_time() + timeout.total)
        verify = get("verify")
        cert = get("cert")
        settings = _Settings(
            verify=self.verify if verify is None else verify,
            cert=self.cert if cert is None else cert,
            timeout=timeout,
            auth=build_auth(get("auth")) or self.auth,
        )
        response = await self._send_handling_redirects(
            request, settings, get("allow_redirects", True), []
        )
        if not get("stream", False):
            try:
                await response.read()
            finally:
                await response.close()
        return response

    async def _send_handling_redirects(
        self,
        request: Request,
        settings: _Settings,
        allow_redirects: bool,
        history: list[AsyncResponse],
    ) -> AsyncResponse:
        first_url = request.url if not history else history[0].request.url
        while True:
            auth = self._auth_for(request, settings, first_url)
            response = await self._send_handling_auth(request, auth, settings)
            response.history = list(history)
            if not response.is_redirect:
                return response
            if not allow_redirects:
                response._next = self._follow_later(response, settings, history)
                return response
            if len(history) >= self.max_redirects:
                await response.close()
                raise TooManyRedirects(
                    f"Exceeded the maximum of {self.max_redirects} redirects", request=request
                )
            try:
                next_request = self._build_redirect_request(request, response)
            except RequestError as exc:
                await response.close()
                exc.request = exc.request or request
                raise
            await drain_redirect(response)
            history.append(response)
            request = next_request

    def _follow_later(
        self, response: AsyncResponse, settings: _Settings, history: list[Any]
    ) -> Any:
        async def follow() -> AsyncResponse:
            next_request = self._build_redirect_request(response.request, response)
            await drain_redirect(response)
            next_response = await self._send_handling_redirects(
                next_request, settings, False, [*history, response]
            )
            await next_response.read()
            return next_response

        return follow

    def _build_redirect_request(self, request: Request, response: AsyncResponse) -> Request:
        next_request = build_redirect_request(request, response)
        # SPEC §6 keeps Proxy-Authorization on a same-origin hop, but never for
        # another proxy (http -> https on the same host may change the proxy).
        proxies = getattr(self._dispatch, "proxies", None)
        if (
            proxies is not None
            and "proxy-authorization" in next_request.headers
            and proxies.select(request.url) != proxies.select(next_request.url)
        ):
            del next_request.headers["proxy-authorization"]
        return next_request

    def _auth_for(self, request: Request, settings: _Settings, first_url: URL) -> Auth | None:
        if "authorization" in request.headers:
            return None
        if settings.auth is not None and is_same_origin_for_credentials(first_url, request.url):
            return settings.auth
        from_url = auth_from_url(request.url)
        if from_url is not None:
            return from_url
        if self.trust_env:
            credentials = netrc_credentials(request.url.host)
            if credentials is not None:
                return build_auth(credentials)
        return None

    async def _send_handling_auth(
        self, request: Request, auth: Auth | None, settings: _Settings
    ) -> AsyncResponse:
        if auth is None:
            return await self._send_single(request, settings)
        if auth.requires_request_body:
            await request.aread()
        flow = auth.auth_flow(request)
        request = next(flow)
        while True:
            response = await self._send_single(request, settings)
            try:
                if auth.requires_response_body:
                    await response.read()
                next_request = flow.send(response)
            except StopIteration:
                return response
            except BaseException as exc:
                await response.close()
                if isinstance(exc, RequestError):
                    exc.request = exc.request or request
                raise
            await drain_redirect(response)
            request = next_request

    async def _send_single(self, request: Request, settings: _Settings) -> AsyncResponse:
        """One exchange: request hooks, the dispatch (with `retries`), response hooks."""
        if request.url.scheme not in ("http", "https"):
            raise UnsupportedProtocol(
                f"Unsupported URL scheme {request.url.scheme!r}: only http and https",
                request=request,
            )
        hooks = self._event_hooks
        if hooks["request"]:
            await _run_hooks(hooks["request"], request)
        timeout = settings.timeout
        started = time.perf_counter()
        attempt = 0
        while True:
            try:
                response = await self._dispatch.send(
                    request, verify=settings.verify, cert=settings.cert, timeout=timeout
                )
                break
            except RequestError as exc:
                exc.request = exc.request or request
                if isinstance(exc, ProxyError) and exc.response is not None:
                    exc.response.request = request
                if isinstance(exc, TimeoutException) and isinstance(timeout, DeadlineTimeouts):
                    explain(exc, timeout, request)
                attempt += 1
                if not self._may_retry(exc, request, attempt, timeout):
                    raise
            await trio.sleep(_retry_delay(attempt))
        response.elapsed = timedelta(seconds=time.perf_counter() - started)
        response.request = request
        if isinstance(timeout, DeadlineTimeouts) and response._stream is not None:
            response._stream = DeadlineBody(response._stream, timeout, request)
        self.cookies.extract_cookies(response)
        if request.cookies is not None and request.cookies is not self.cookies:
            request.cookies.extract_cookies(response)
        if hooks["response"]:
            try:
                await _run_hooks(hooks["response"], response)
            except BaseException:
                await response.close()
                raise
        return response

    def _may_retry(
        self, exc: RequestError, request: Request, attempt: int, timeout: TimeoutConfig
    ) -> bool:
        """`retries=`: only connect failures, only idempotent methods, within the deadline."""
        if attempt > self.retries or not isinstance(exc, (ConnectError, ConnectTimeout)):
            return False
        if request.method not in IDEMPOTENT_METHODS:
            return False
        if isinstance(timeout, DeadlineTimeouts):
            return trio.current_time() + _retry_delay(attempt) < timeout.deadline
        return True

    @takes(StreamOptions)
    @asynccontextmanager
    async def stream(
        self, method: str, url: URL | str, **options: Unpack[StreamOptions]
    ) -> AsyncIterator[AsyncResponse]:
        """Send a request and yield its unread response; it is closed on exit."""
        check_options(options, STREAM, self, "stream")
        response = await self._request(method, url, {**options, "stream": True})
        try:
            yield response
        finally:
            await response.close()

    @takes(NoBodyOptions)
    async def get(self, url: URL | str, **options: Unpack[NoBodyOptions]) -> AsyncResponse:
        """Send a GET request."""
        check_options(options, NO_BODY, self, "get")
        return await self._request("GET", url, options)

    @takes(NoBodyOptions)
    async def options(self, url: URL | str, **options: Unpack[NoBodyOptions]) -> AsyncResponse:
        """Send an OPTIONS request."""
        check_options(options, NO_BODY, self, "options")
        return await self._request("OPTIONS", url, options)

    @takes(NoBodyOptions)
    async def head(self, url: URL | str, **options: Unpack[NoBodyOptions]) -> AsyncResponse:
        """Send a HEAD request (redirects are followed too)."""
        check_options(options, NO_BODY, self, "head")
        return await self._request("HEAD", url, options)

    @takes(RequestOptions)
    async def post(self, url: URL | str, **options: Unpack[RequestOptions]) -> AsyncResponse:
        """Send a POST request."""
        check_options(options, REQUEST, self, "post")
        return await self._request("POST", url, options)

    @takes(RequestOptions)
    async def put(self, url: URL | str, **options: Unpack[RequestOptions]) -> AsyncResponse:
        """Send a PUT request."""
        check_options(options, REQUEST, self, "put")
        return await self._request("PUT", url, options)

    @takes(RequestOptions)
    async def patch(self, url: URL | str, **options: Unpack[RequestOptions]) -> AsyncResponse:
        """Send a PATCH request."""
        check_options(options, REQUEST, self, "patch")
        return await self._request("PATCH", url, options)

    @takes(RequestOptions)
    async def delete(self, url: URL | str, **options: Unpack[RequestOptions]) -> AsyncResponse:
        """Send a DELETE request."""
        check_options(options, REQUEST, self, "delete")
        return await self._request("DELETE", url, options)


async def _run_hooks(hooks: list[Callable[[Any], Any]], item: object) -> None:
    for hook in list(hooks):  # a hook may change the list
        result = hook(item)
        if inspect.isawaitable(result):
            await result


def _retry_delay(attempt: int) -> float:
    """The wait before retry number `attempt` (the first is immediate)."""
    if attempt <= 1:
        return 0.0
    return min(RETRY_BACKOFF * 2.0 ** (attempt - 2), MAX_RETRY_DELAY)


class _Settings:
    __slots__ = ("auth", "cert", "timeout", "verify")

    def __init__(
        self, *, verify: Any, cert: Any, timeout: TimeoutConfig, auth: Auth | None
    ) -> None:
        self.verify = verify
        self.cert = cert
        self.timeout = timeout
        self.auth = auth


async def drain_redirect(response: AsyncResponse) -> None:
    """Skip a small body of known size (so its connection is reused); close others.

    The body is read as received and dropped: never decompressed, never kept.
    """
    if response.is_stream_consumed or response.is_closed:
        return
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) <= MAX_REDIRECT_BODY_DRAIN:
        async for _ in response.raw():
            pass
    await response.close()


def _as_base_url(url: URL | str) -> URL:
    base = URL(url)
    if not base.path.endswith("/"):
        base = base.copy_with(path=base.path + "/")
    return base


__all__ = [
    "UNSET",
    "Dispatch",
    "TrioClient",
    "drain_redirect",
    "in_trio_task",
]
