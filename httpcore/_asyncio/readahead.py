"""`TrioStream`: a response body that trio reads, streamed by an asyncio application.

Theory of operation
-------------------
A trio task, the *pump*, started at the application's first read, pulls the
body (a pooled connection's `ResponseBody`) up to `READ_AHEAD` bytes, plus
one read, ahead of the application. The application takes chunks from the
buffer and waits, on an asyncio future, only when it is empty: chunks do not
cross from trio to asyncio one by one. The pump waits for room when the
buffer is full, so memory stays bounded, an HTTP/2 stream's window is still
replenished only as the application reads, and a read timeout still means
that the server was silent (never that the application was slow).

As under `TrioClient`: a cancelled read closes the response, and so does an
error; reading after the client closed raises `ReadError`; a response dropped
unclosed is released (its connection closed) with a `ResourceWarning`. For
that last one the pump holds the buffer and the body, never the `TrioStream`,
so the stream can be garbage collected while the pump waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections import deque
from typing import Any

import outcome
import trio

from .._core.exceptions import ReadError
from .guest import GuestRun, wait_through_cancellation

#: How far a response body is read ahead of the application that streams it.
READ_AHEAD = 256 * 1024


class _Buffer:
    """What the pump and the application share."""

    __slots__ = ("buffered", "chunks", "closing", "done", "end", "room", "scope", "waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.end: BaseException | None = None  # StopAsyncIteration, or the pump's error
        self.waiter: asyncio.Future[None] | None = None  # the application, waiting
        self.room: trio.Event | None = None  # the pump, waiting for room
        self.scope = trio.CancelScope()
        self.done: asyncio.Future[None] = loop.create_future()
        self.closing = False

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class TrioStream:
    """A response body read by trio (a pooled connection's), iterated from asyncio.

    Only the application touches it once adopted: the engine is done with a
    response when it hands it over (see `bridge.adopt_response`).
    """

    __slots__ = ("_body", "_buffer", "_run", "_url")

    def __init__(self, run: GuestRun, body: Any, url: object) -> None:
        self._run = run
        self._body = body  # a ResponseBody: its own async iterator, with aclose()
        self._url = url
        self._buffer: _Buffer | None = None  # once the pump has started

    def __aiter__(self) -> TrioStream:
        return self

    async def __anext__(self) -> bytes:
        buffer = self._buffer or self._start_pump()
        while not buffer.chunks:
            if buffer.end is not None:
                raise buffer.end
            buffer.waiter = self._run.loop.create_future()
            try:
                await buffer.waiter
            except asyncio.CancelledError:
                await self.aclose()
                raise
        chunk = buffer.chunks.popleft()
        buffer.buffered -= len(chunk)
        if buffer.room is not None:
            buffer.room.set()
        return chunk

    def _start_pump(self) -> _Buffer:
        if self._run.stopping:  # as under TrioClient: the client closed the connection
            self._body.forget()
            raise ReadError("Cannot read the body: the AsyncClient that sent it is closed")
        assert self._run.nursery is not None
        self._buffer = _Buffer(self._run.loop)
        self._run.nursery.start_soon(_pump, self._buffer, self._body)
        return self._buffer

    async def aclose(self) -> None:
        buffer = self._buffer
        if buffer is None:
            if self._run.stopping:  # the connection is gone already
                self._body.forget()
            else:
                await self._run.call(self._body.aclose)
            return
        buffer.closing = True
        buffer.scope.cancel()
        try:
            await asyncio.shield(buffer.done)
        except asyncio.CancelledError:
            await wait_through_cancellation(buffer.done)  # closed when we return
            raise

    def __del__(self) -> None:
        buffer = self._buffer
        if buffer is None or buffer.closing or buffer.done.done():
            return  # unread bodies warn themselves (ResponseBody); the rest are done
        buffer.closing = True
        token = self._run.token
        assert token is not None, "a pump runs in a started run"
        # A finalizer may run in any thread: the pump is stopped through the run's token.
        with contextlib.suppress(trio.RunFinishedError):
            token.run_sync_soon(buffer.scope.cancel)
        warnings.warn(
            f"A streaming response from {self._url} was garbage collected before it was"
            " closed; its connection has been released. Close streaming responses: use"
            " `async with response:` or `async with client.stream(...)`, or call `close()`.",
            ResourceWarning,
            stacklevel=2,
        )


async def _pump(buffer: _Buffer, body: Any) -> None:
    with buffer.scope:
        result = await outcome.acapture(_fill, buffer, body)
    if isinstance(result, outcome.Error):
        error = result.error
        if isinstance(error, trio.Cancelled):
            # Closed by the application (aclose), or cut short by the run's end.
            error = (
                StopAsyncIteration()
                if buffer.closing
                else ReadError("The body was cut short: the AsyncClient was closed")
            )
        buffer.end = error
    with trio.CancelScope(shield=True):
        await body.aclose()  # a no-op after the end or an error
    buffer.wake()
    buffer.done.set_result(None)


async def _fill(buffer: _Buffer, body: Any) -> None:
    while True:
        if buffer.buffered >= READ_AHEAD:
            # The application has just been woken, and will likely take a chunk
            # within the loop's turn: staying runnable that long spares trio a
            # round trip through its I/O thread (see guest.py).
            await trio.lowlevel.cancel_shielded_checkpoint()
            if buffer.buffered >= READ_AHEAD:
                buffer.room = trio.Event()
                await buffer.room.wait()
                buffer.room = None
            continue
        try:
            chunk = await body.__anext__()
        except StopAsyncIteration as end:
            buffer.end = end
            return
        buffer.chunks.append(chunk)
        buffer.buffered += len(chunk)
        buffer.wake()
