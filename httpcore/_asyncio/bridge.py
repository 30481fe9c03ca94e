"""Objects that live on one side of the guest run and are used from the other.

Each wrapper looks at who calls it: from its own side it calls straight
through; from the other side it crosses with `GuestRun.call` (into trio) or
`GuestRun.call_host` (into asyncio). That is what lets one object serve both
the engine (trio) and the application (asyncio):

- `TrioStream` (in `readahead.py`): a response body read by trio code (a
  pooled connection), iterated by the application in asyncio.
- `HostStream`: an async iterable written for asyncio (an upload body, the
  body of a dispatch's response), iterated by the engine in trio.
- `HostDispatch`: a user's dispatch (asyncio code: a MockDispatch handler,
  an ASGI app), called by the engine in trio.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from .._core.config import TimeoutConfig
from .._core.content import AsyncIteratorBody
from .._core.models import AsyncResponse, Request
from .._trio.client import drain_redirect, in_trio_task
from .guest import GuestRun
from .readahead import TrioStream


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
            stream.wrapped
            if isinstance(stream, HostStream)
            else TrioStream(run, stream, response.request.url)
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
