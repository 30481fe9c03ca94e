"""Objects that live on one side of the guest run and are used from the other.

Each wrapper looks at who calls it: from its own side it calls straight
through; from the other side it crosses with `GuestRun.call` (into trio) or
`GuestRun.call_host` (into asyncio). That is what lets one object serve both
the engine (trio) and the application (asyncio):

- `TrioStream`: a response body read by trio code (a pooled connection),
  iterated by the application in asyncio. Each chunk crosses once. Only
  asyncio uses it, so it always crosses.
- `HostStream`: an async iterable written for asyncio (an upload body, the
  body of a dispatch's response), iterated by the engine in trio.
- `HostDispatch`: a user's dispatch (asyncio code: a MockDispatch handler,
  an ASGI app), called by the engine in trio.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import outcome
import trio

from .._core.config import TimeoutConfig
from .._core.content import AsyncIteratorBody
from .._core.exceptions import ReadError
from .._core.models import AsyncResponse, Request
from .._trio.client import drain_redirect, in_trio_task
from .guest import GuestRun, wait_through_cancellation

#: How far a response body is read ahead of the application that streams it.
READ_AHEAD = 256 * 1024


class TrioStream:
    """A response body read by trio (a pooled connection's), iterated from asyncio.

    A trio task, the *pump*, started at the first read, pulls the body up to
    `READ_AHEAD` bytes (plus one read) ahead of the application, which takes chunks from the
    buffer and waits (on an asyncio future) only when it is empty: chunks do
    not cross one by one. The pump waits for room when the buffer is full, so
    memory stays bounded, an HTTP/2 stream's window is still replenished only
    as the application reads, and a read timeout still means the server was
    silent (never that the application was slow). As under `TrioClient`, a
    cancelled read closes the response.

    Only the application touches it once adopted: the engine is done with a
    response when it hands it over (see `adopt_response`).
    """

    def __init__(self, run: GuestRun, body: Any) -> None:
        self._run = run
        self._body = body  # a ResponseBody: its own async iterator, with aclose()
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._end: BaseException | None = None  # StopAsyncIteration, or the pump's error
        self._waiter: asyncio.Future[None] | None = None
        self._room: trio.Event | None = None
        self._pump_scope: trio.CancelScope | None = None
        self._pump_done: asyncio.Future[None] | None = None
        self._closing = False

    def __aiter__(self) -> TrioStream:
        return self

    async def __anext__(self) -> bytes:
        if self._pump_done is None:
            self._start_pump()
        while not self._chunks:
            if self._end is not None:
                raise self._end
            self._waiter = self._run.loop.create_future()
            try:
                await self._waiter
            except asyncio.CancelledError:
                await self.aclose()
                raise
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._room is not None:
            self._room.set()
        return chunk

    def _start_pump(self) -> None:
        if self._run.stopping:  # as under TrioClient: the client closed the connection
            self._body.forget()
            raise ReadError("Cannot read the body: the AsyncClient that sent it is closed")
        assert self._run.nursery is not None
        self._pump_scope = trio.CancelScope()
        self._pump_done = self._run.loop.create_future()
        self._run.nursery.start_soon(self._pump)

    async def _pump(self) -> None:
        assert self._pump_scope is not None and self._pump_done is not None
        with self._pump_scope:
            result = await outcome.acapture(self._fill)
        if isinstance(result, outcome.Error):
            error = result.error
            if isinstance(error, trio.Cancelled):
                # Closed by the application (aclose), or cut short by the run's end.
                error = (
                    StopAsyncIteration()
                    if self._closing
                    else ReadError("The body was cut short: the AsyncClient was closed")
                )
            self._end = error
        with trio.CancelScope(shield=True):
            await self._body.aclose()  # a no-op after the end or an error
        self._wake()
        self._pump_done.set_result(None)

    async def _fill(self) -> None:
        while True:
            if self._buffered >= READ_AHEAD:
                self._room = trio.Event()
                await self._room.wait()
                self._room = None
                continue
            try:
                chunk = await self._body.__anext__()
            except StopAsyncIteration as end:
                self._end = end
                return
            self._chunks.append(chunk)
            self._buffered += len(chunk)
            self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def aclose(self) -> None:
        if self._pump_done is None:
            if self._run.stopping:  # the connection is gone already
                self._body.forget()
            else:
                await self._run.call(self._body.aclose)
            return
        assert self._pump_scope is not None
        self._closing = True
        self._pump_scope.cancel()
        try:
            await asyncio.shield(self._pump_done)
        except asyncio.CancelledError:
            await wait_through_cancellation(self._pump_done)  # closed when we return
            raise


class HostStream:
    """An asyncio-side async iterable, usable from trio as well."""

    __slots__ = ("_iterable", "_iterator", "_run")

    def __init__(self, run: GuestRun, iterable: AsyncIterable[Any]) -> None:
        self._run = run
        self._iterable = iterable
        self._iterator: AsyncIterator[Any] | None = None

    @property
    def wrapped(self) -> AsyncIterable[Any]:
        return self._iterable

    def __aiter__(self) -> HostStream:
        return self

    async def __anext__(self) -> Any:
        if self._iterator is None:
            self._iterator = self._iterable.__aiter__()
        if in_trio_task():
            return await self._run.call_host(_anext, self._iterator)
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        # An upload is closed through its iterator (an async generator has
        # `aclose`); a response body through the iterable, as AsyncResponse does.
        target = self._iterator if self._iterator is not None else self._iterable
        aclose = getattr(target, "aclose", None)
        if aclose is None:
            return
        if in_trio_task():
            await self._run.call_host(aclose)
        else:
            await aclose()


async def _anext(iterator: AsyncIterator[Any]) -> Any:
    return await iterator.__anext__()


def host_request(run: GuestRun, request: Request) -> Request:
    """Let the engine (trio) read an upload body written for asyncio."""
    body = request.body
    if isinstance(body, AsyncIteratorBody) and not isinstance(body._iterable, HostStream):
        body._iterable = HostStream(run, body._iterable)
    return request


def adopt_response(run: GuestRun, response: AsyncResponse) -> AsyncResponse:
    """Make a response that the engine returned readable from asyncio."""
    stream = response._stream
    if stream is not None and not response.is_closed:
        # A dispatch's own asyncio stream goes back as it was; a trio one crosses.
        response._stream = (
            stream.wrapped if isinstance(stream, HostStream) else TrioStream(run, stream)
        )
    follow = response._next
    if follow is not None:

        async def next_response() -> AsyncResponse:
            await drain_redirect(response)  # here, so its body crosses as asyncio reads it
            return adopt_response(run, await run.call(follow))

        response._next = next_response
    return response


class HostDispatch:
    """A dispatch written for asyncio, called by the engine from trio."""

    def __init__(self, run_for: Any, dispatch: Any) -> None:
        self._run_for = run_for
        self.dispatch = dispatch

    async def send(
        self, request: Request, *, verify: Any, cert: Any, timeout: TimeoutConfig
    ) -> AsyncResponse:
        run: GuestRun = self._run_for()
        response: AsyncResponse = await run.call_host(
            _dispatch_send, self.dispatch, request, verify, cert, timeout
        )
        if response._stream is not None and not response.is_closed:
            response._stream = HostStream(run, response._stream)
        return response

    async def close(self) -> None:
        run: GuestRun = self._run_for()
        await run.call_host(self.dispatch.close)


async def _dispatch_send(
    dispatch: Any, request: Request, verify: Any, cert: Any, timeout: TimeoutConfig
) -> AsyncResponse:
    response: AsyncResponse = await dispatch.send(
        request, verify=verify, cert=cert, timeout=timeout
    )
    return response
