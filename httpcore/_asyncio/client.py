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
import inspect
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any, Unpack

from .._core.cookies import Cookies
from .._core.headers import Headers
from .._core.models import AsyncResponse, Request
from .._core.urls import URL
from .._trio.client import TrioClient
from .._trio.options import (
    BUILD,
    NO_BODY,
    REQUEST,
    SEND,
    STREAM,
    BuildOptions,
    ClientBase,
    ClientConfig,
    NoBodyOptions,
    RequestOptions,
    SendOptions,
    StreamOptions,
    check_options,
    takes,
)
from .._trio.pool import PoolStatistics
from .bridge import HostDispatch, adopt_response, host_request
from .guest import ClientHandle, GuestRun, running_loop, wait_through_cancellation


class AsyncClient(ClientBase):
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

    ``event_hooks`` take asyncio code too (async functions; plain functions
    work as well), run in the loop: each `Request` before it is sent, each
    `AsyncResponse` before its body is read (a hook may ``await
    response.read()``), every redirect hop and auth round trip included. An
    exception raised by a hook propagates to the caller.
    """

    def _configure(self, config: ClientConfig) -> None:
        self._run: GuestRun | None = None
        self._handle: ClientHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Task[None] | None = None
        self._closed = False
        self.event_hooks = config.event_hooks
        dispatch = config.dispatch
        self._engine = TrioClient._from_config(
            replace(
                config,
                dispatch=None if dispatch is None else HostDispatch(self._current_run, dispatch),
                event_hooks=None,
            )
        )
        # The engine (trio) calls the hooks through these adapters, which cross
        # into the loop; the lists in `event_hooks` may change at any time.
        self._engine._event_hooks = {
            "request": _Adapter(self, "request", self._request_hooks),
            "response": _Adapter(self, "response", self._response_hooks),
        }

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

    async def _request_hooks(self, request: Request) -> None:
        for hook in list(self._event_hooks["request"]):
            await self._current_run().call_host(_call_hook, hook, request)

    async def _response_hooks(self, response: AsyncResponse) -> None:
        hooks = list(self._event_hooks["response"])  # not empty: see `_Adapter`
        run = self._current_run()
        view = _hook_view(run, response)
        for hook in hooks:
            await run.call_host(_call_hook, hook, view)
        if view._content is not None and response._content is None:
            # The hook read the body through `view`: the engine must not read it again.
            response._content = view._content
            response.num_bytes_downloaded = view.num_bytes_downloaded
            response.is_stream_consumed = True

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

    @takes(BuildOptions)
    def build_request(
        self, method: str, url: URL | str, **options: Unpack[BuildOptions]
    ) -> Request:
        """See `TrioClient.build_request`."""
        check_options(options, BUILD, self, "build_request")
        return self._engine._build(method, url, options)

    def prepare_request(self, request: Request) -> Request:
        """See `TrioClient.prepare_request`."""
        return self._engine.prepare_request(request)

    # -- sending -------------------------------------------------------------------

    @takes(RequestOptions)
    async def request(
        self, method: str, url: URL | str, **options: Unpack[RequestOptions]
    ) -> AsyncResponse:
        """Build and send a request; see `TrioClient.request` for the options."""
        check_options(options, REQUEST, self, "request")
        return await self._request(method, url, options)

    async def _request(
        self, method: str, url: URL | str, options: Mapping[str, Any]
    ) -> AsyncResponse:
        return await self._send(self._engine._build(method, url, options), options)

    @takes(SendOptions, first=("stream", "allow_redirects", "auth"))
    async def send(self, request: Request, **options: Unpack[SendOptions]) -> AsyncResponse:
        """Send `request`; the options and behaviour are those of `TrioClient.send`.

        Cancelling the awaiting task cancels the request; it has unwound (its
        connection released or closed) when `CancelledError` arrives.
        """
        check_options(options, SEND, self, "send")
        return await self._send(request, options)

    async def _send(self, request: Request, options: Mapping[str, Any]) -> AsyncResponse:
        run = self._run
        if run is None or self._closed or asyncio._get_running_loop() is not self._loop:
            run = await self._ensure_started()  # the first request, or the wrong loop
        response = await run.call(self._engine._send, host_request(run, request), options)
        return adopt_response(run, response)

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


class _Adapter(list[Callable[[Any], Any]]):
    """The engine's hooks of one kind: one adapter that runs the client's in the loop.

    False while the client has no hooks of that kind, so that the engine
    skips the call (and its crossing) as it does for a client without hooks.
    """

    def __init__(self, client: AsyncClient, kind: str, adapter: Callable[[Any], Any]) -> None:
        super().__init__((adapter,))
        self._client = client
        self._kind = kind

    def __bool__(self) -> bool:
        return bool(self._client._event_hooks[self._kind])


async def _call_hook(hook: Callable[[Any], Any], item: object) -> None:
    """Run one event hook in the loop (an async function, or a plain one)."""
    result = hook(item)
    if inspect.isawaitable(result):
        await result


def _hook_view(run: GuestRun, response: AsyncResponse) -> AsyncResponse:
    """The engine's `response` as a response hook sees it: its body readable from asyncio.

    The body is handed over only if the hook reads it (a `TrioStream` starts
    pulling at its first read), so a hook that does not leaves it to the engine.
    """
    unread = response._content is None and not (response.is_closed or response.is_stream_consumed)
    view = AsyncResponse(
        response.status_code,
        headers=response.headers,
        content=response._stream if unread else None,
        request=response.request,
        protocol=response.protocol,
        reason_phrase=response.reason_phrase,
        elapsed=response.elapsed,
    )
    if not unread:
        view._content = response._content
        view._raw_content = response._raw_content
        view.num_bytes_downloaded = response.num_bytes_downloaded
        return view
    return adopt_response(run, view)
