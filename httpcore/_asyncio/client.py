"""`AsyncClient`: the trio engine, serving asyncio programs through a guest run.

An `AsyncClient` wraps one `TrioClient` (the engine) the way the blocking
`Client` does, but instead of a thread it uses the loop's trio guest run
(see `guest.py`): the engine is entered in a trio task of that run, each
request runs as a trio task, and the asyncio caller awaits a future that the
trio task completes. Building requests, cookies and headers are plain
objects shared with the engine; only I/O crosses over.

A response that is still streaming gets a body that crosses into trio for
each chunk it pulls (`bridge.TrioStream`), so `read()`, `stream()`,
`close()`, `next()` and ``async with response`` work from asyncio.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .._core.config import (
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_POOL_LIMITS,
    DEFAULT_TIMEOUT_CONFIG,
    PoolLimits,
)
from .._core.cookies import Cookies
from .._core.headers import Headers
from .._core.models import AsyncResponse, Request
from .._core.urls import URL
from .._trio.client import UNSET, Dispatch, TrioClient, split_send_options
from .._trio.pool import PoolStatistics
from .bridge import HostDispatch, adopt_response, host_request
from .guest import ClientHandle, GuestRun, running_loop, wait_through_cancellation


class AsyncClient:
    """An HTTP client for asyncio programs, running httpcore's trio engine in the loop.

    Takes the same arguments, and has the same methods, as `TrioClient`, and
    returns the same `AsyncResponse`. Use it as ``async with AsyncClient() as
    client:``, or create it plainly (trio starts in the loop at the first
    request) and ``await client.aclose()`` when done. A client left open when
    its loop ends is closed then, with a `ResourceWarning`.

    Cancelling the asyncio task that awaits a request (``task.cancel()``,
    ``asyncio.wait_for``, ``asyncio.timeout``) cancels the request at once:
    by the time `CancelledError` reaches the caller, its connection has been
    released or closed. The request's own timeouts raise httpcore's timeout
    exceptions. A `dispatch` given here is asyncio code (an async MockDispatch
    handler, an ASGIDispatch app): it runs in the loop, as asyncio tasks.
    """

    def __init__(
        self,
        auth: Any = None,
        cookies: Any = None,
        verify: Any = True,
        cert: Any = None,
        timeout: Any = DEFAULT_TIMEOUT_CONFIG,
        pool_limits: PoolLimits = DEFAULT_POOL_LIMITS,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        dispatch: Dispatch | None = None,
        *,
        headers: Any = None,
        params: Any = None,
        base_url: URL | str | None = None,
        http1: bool = True,
        http2: bool = True,
        proxies: Any = None,
        trust_env: bool = True,
    ) -> None:
        self._run: GuestRun | None = None
        self._handle: ClientHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Task[None] | None = None
        self._closed = False
        self._engine = TrioClient(
            auth,
            cookies,
            verify,
            cert,
            timeout,
            pool_limits,
            max_redirects,
            None if dispatch is None else HostDispatch(self._current_run, dispatch),
            headers=headers,
            params=params,
            base_url=base_url,
            http1=http1,
            http2=http2,
            proxies=proxies,
            trust_env=trust_env,
        )

    @property
    def cookies(self) -> Cookies:
        """The client's `Cookies`, updated from every response."""
        return self._engine.cookies

    @property
    def headers(self) -> Headers:
        """The client's default `Headers`."""
        return self._engine.headers

    def statistics(self) -> PoolStatistics:
        """The pool's counts (connections, idle, opening, waiters, streams)."""
        return self._engine.statistics()

    # -- lifecycle -----------------------------------------------------------------

    def _current_run(self) -> GuestRun:
        assert self._run is not None, "the engine runs only once the client has started"
        return self._run

    async def _ensure_started(self) -> GuestRun:
        run = self._run
        if run is not None and not self._closed and running_loop() is self._loop:
            return run
        if self._closed:
            raise RuntimeError(
                "This AsyncClient is closed: create a new one (or use `async with AsyncClient()`)"
            )
        loop = running_loop()
        if self._starting is None:
            self._loop = loop
            self._starting = loop.create_task(self._start())
        elif loop is not self._loop:
            raise RuntimeError(
                "This AsyncClient belongs to another event loop: create one client per loop"
            )
        await asyncio.shield(self._starting)
        return self._current_run()

    async def _start(self) -> None:
        self._run, self._handle = await GuestRun.serve(self._engine)

    async def __aenter__(self) -> AsyncClient:
        await self._ensure_started()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection; the client cannot be used afterwards.

        Idempotent. Cancelled meanwhile, it still finishes closing before
        `CancelledError` propagates. An error from closing (such as one from
        a dispatch's ``close()``) is raised here.
        """
        if self._closed:
            return
        self._closed = True
        starting = self._starting
        if starting is None:
            return
        interrupted = await wait_through_cancellation(starting)
        if not starting.cancelled() and starting.exception() is None:
            handle = self._handle
            assert handle is not None
            handle.stop.set()
            interrupted = await wait_through_cancellation(handle.stopped) or interrupted
            run = self._current_run()
            if run.stopping:  # the last client of the loop: trio is over when we return
                interrupted = await wait_through_cancellation(run.finished) or interrupted
            if not interrupted:
                handle.stopped.result()
        if interrupted:
            raise asyncio.CancelledError

    # -- building requests ---------------------------------------------------------

    def build_request(self, method: str, url: URL | str, **kwargs: Any) -> Request:
        """See `TrioClient.build_request`."""
        return self._engine.build_request(method, url, **kwargs)

    def prepare_request(self, request: Request) -> Request:
        """See `TrioClient.prepare_request`."""
        return self._engine.prepare_request(request)

    # -- sending -------------------------------------------------------------------

    async def request(self, method: str, url: URL | str, **kwargs: Any) -> AsyncResponse:
        """Build and send a request; see `TrioClient.request` for the arguments."""
        send_options = split_send_options(kwargs)
        return await self.send(self.build_request(method, url, **kwargs), **send_options)

    async def send(
        self,
        request: Request,
        *,
        stream: bool = False,
        allow_redirects: bool = True,
        auth: Any = None,
        verify: Any = None,
        cert: Any = None,
        timeout: Any = UNSET,
    ) -> AsyncResponse:
        """Send `request`; the arguments and behaviour are those of `TrioClient.send`.

        Cancelling the awaiting task cancels the request; it has unwound (its
        connection released or closed) when `CancelledError` arrives.
        """
        run = await self._ensure_started()
        send = functools.partial(
            self._engine.send,
            host_request(run, request),
            stream=stream,
            allow_redirects=allow_redirects,
            auth=auth,
            verify=verify,
            cert=cert,
            timeout=timeout,
        )
        return adopt_response(run, await run.call(send))

    @asynccontextmanager
    async def stream(
        self, method: str, url: URL | str, **kwargs: Any
    ) -> AsyncIterator[AsyncResponse]:
        """Send a request and yield its unread response; it is closed on exit."""
        response = await self.request(method, url, stream=True, **kwargs)
        try:
            yield response
        finally:
            await response.close()

    async def get(self, url: URL | str, **kwargs: Any) -> AsyncResponse:
        """Send a GET request."""
        return await self.request("GET", url, **kwargs)

    async def options(self, url: URL | str, **kwargs: Any) -> AsyncResponse:
        """Send an OPTIONS request."""
        return await self.request("OPTIONS", url, **kwargs)

    async def head(self, url: URL | str, **kwargs: Any) -> AsyncResponse:
        """Send a HEAD request (redirects are followed too)."""
        return await self.request("HEAD", url, **kwargs)

    async def post(self, url: URL | str, **kwargs: Any) -> AsyncResponse:
        """Send a POST request."""
        return await self.request("POST", url, **kwargs)

    async def put(self, url: URL | str, **kwargs: Any) -> AsyncResponse:
        """Send a PUT request."""
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: URL | str, **kwargs: Any) -> AsyncResponse:
        """Send a PATCH request."""
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: URL | str, **kwargs: Any) -> AsyncResponse:
        """Send a DELETE request."""
        return await self.request("DELETE", url, **kwargs)
