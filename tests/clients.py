"""Run one test through every client flavour.

- "trio": `TrioClient`, awaited directly in the trio test;
- "sync": the blocking `Client`, called from a worker thread;
- "asyncio": `AsyncClient`, in an asyncio loop (``asyncio.run``) of its own
  thread; each call is submitted to that loop and waited for from a worker
  thread.

`ClientUnderTest.native(fn)` runs ``fn(client, flavour)`` in the client's own
world (trio or asyncio), for tests that stream, gather or cancel there.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import trio

import httpcore


class AsyncioThread:
    """An asyncio loop running in its own thread (``asyncio.run``, so shut down as usual)."""

    def __init__(self, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> None:
        self._loop_factory = loop_factory
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="asyncio-under-test", daemon=True)

    def start(self) -> AsyncioThread:
        self._thread.start()
        self._ready.wait()
        return self

    def _run(self) -> None:
        if self._loop_factory is None:
            asyncio.run(self._main())
        else:
            with asyncio.Runner(loop_factory=self._loop_factory) as runner:
                runner.run(self._main())

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run `coro` in the loop; block this (non-loop) thread for its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """From trio: run `coro` in the loop and return its result.

        A trio cancellation (a test's hang guard) abandons the wait, not the coroutine.
        """
        return await trio.to_thread.run_sync(self.submit, coro, abandon_on_cancel=True)

    def stop(self) -> None:
        assert self.loop is not None and self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()


class Flavour:
    """The concurrency tools of a client's world, for `ClientUnderTest.native` functions."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def gather(self, *fns: Callable[[], Awaitable[Any]]) -> list[Any]:
        """Run every ``fn()`` concurrently; return their results in order."""
        if self.kind == "asyncio":
            return list(await asyncio.gather(*(fn() for fn in fns)))
        results: list[Any] = [None] * len(fns)

        async def one(i: int) -> None:
            results[i] = await fns[i]()

        async with trio.open_nursery() as nursery:
            for i in range(len(fns)):
                nursery.start_soon(one, i)
        return results

    async def sleep(self, seconds: float) -> None:
        if self.kind == "asyncio":
            await asyncio.sleep(seconds)
        else:
            await trio.sleep(seconds)


class ClientUnderTest:
    """A uniform async face over `TrioClient`, the blocking `Client` and `AsyncClient`."""

    def __init__(self, kind: str, client: Any, loop: AsyncioThread | None = None) -> None:
        self.kind = kind
        self.client = client
        self.loop = loop

    @property
    def cookies(self) -> httpcore.Cookies:
        return self.client.cookies  # type: ignore[no-any-return]

    async def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        return await self.call("request", method, url, **kwargs)

    async def get(self, url: Any, **kwargs: Any) -> Any:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: Any, **kwargs: Any) -> Any:
        return await self.request("POST", url, **kwargs)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call any client method (awaited on TrioClient, in a thread on Client, in the
        loop on AsyncClient)."""
        fn = getattr(self.client, method)
        if self.kind == "trio":
            return await fn(*args, **kwargs)
        if self.kind == "asyncio":
            assert self.loop is not None
            return await self.loop.run(fn(*args, **kwargs))
        return await trio.to_thread.run_sync(partial(fn, *args, **kwargs))

    async def next(self, response: Any) -> Any:
        if self.kind == "trio":
            return await response.next()
        if self.kind == "asyncio":
            assert self.loop is not None
            return await self.loop.run(response.next())
        return await trio.to_thread.run_sync(response.next)

    async def native(self, fn: Callable[[Any, Flavour], Awaitable[Any]]) -> Any:
        """Run ``fn(client, flavour)`` where the client lives (not for "sync")."""
        assert self.kind != "sync", "native() is for the async clients"
        if self.kind == "trio":
            return await fn(self.client, Flavour("trio"))
        assert self.loop is not None
        return await self.loop.run(_as_coroutine(fn(self.client, Flavour("asyncio"))))


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


@asynccontextmanager
async def flavoured_client(kind: str, **kwargs: Any) -> AsyncIterator[Any]:
    """``async with``: a `TrioClient` ("trio"), or an `AsyncClient` in an asyncio loop of
    its own thread behind a trio-side stand-in with TrioClient's API ("asyncio")."""
    if kind == "trio":
        async with httpcore.TrioClient(**kwargs) as client:
            yield client
        return
    loop = await trio.to_thread.run_sync(AsyncioThread().start)
    async_client = httpcore.AsyncClient(**kwargs)
    try:
        yield AsyncioStandIn(async_client, loop)
    finally:
        with trio.CancelScope(shield=True):
            await loop.run(async_client.aclose())
            await trio.to_thread.run_sync(loop.stop)


class AsyncioStandIn:
    """TrioClient's API, from trio, over an `AsyncClient` living in an asyncio thread."""

    def __init__(self, client: httpcore.AsyncClient, loop: AsyncioThread) -> None:
        self.client = client
        self.loop = loop
        self.cookies = client.cookies
        self.headers = client.headers

    def statistics(self) -> Any:
        return self.client.statistics()

    def build_request(self, *args: Any, **kwargs: Any) -> httpcore.Request:
        return self.client.build_request(*args, **kwargs)

    async def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        return StandInResponse(
            await self.loop.run(self.client.request(method, url, **kwargs)), self.loop
        )

    async def send(self, request: httpcore.Request, **kwargs: Any) -> Any:
        return StandInResponse(await self.loop.run(self.client.send(request, **kwargs)), self.loop)

    async def get(self, url: Any, **kwargs: Any) -> Any:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: Any, **kwargs: Any) -> Any:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: Any, **kwargs: Any) -> Any:
        return await self.request("PUT", url, **kwargs)

    @asynccontextmanager
    async def stream(self, method: str, url: Any, **kwargs: Any) -> AsyncIterator[Any]:
        response = await self.request(method, url, stream=True, **kwargs)
        try:
            yield response
        finally:
            await response.close()


class StandInResponse:
    """An `AsyncResponse` of the asyncio thread, read from trio."""

    def __init__(self, response: httpcore.AsyncResponse, loop: AsyncioThread) -> None:
        self._response = response
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response, name)

    async def read(self) -> bytes:
        return await self._loop.run(self._response.read())  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self._loop.run(self._response.close())

    async def next(self) -> Any:
        return StandInResponse(await self._loop.run(self._response.next()), self._loop)

    async def __aenter__(self) -> StandInResponse:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()

    def stream(self) -> StandInIterator:
        return StandInIterator(self._response.stream(), self._loop)

    def raw(self) -> StandInIterator:
        return StandInIterator(self._response.raw(), self._loop)

    def stream_text(self) -> StandInIterator:
        return StandInIterator(self._response.stream_text(), self._loop)

    def stream_lines(self) -> StandInIterator:
        return StandInIterator(self._response.stream_lines(), self._loop)


class StandInIterator:
    def __init__(self, iterator: Any, loop: AsyncioThread) -> None:
        self._iterator = iterator
        self._loop = loop

    def __aiter__(self) -> StandInIterator:
        return self

    async def __anext__(self) -> Any:
        return await self._loop.run(_anext(self._iterator))


async def _anext(iterator: Any) -> Any:
    return await iterator.__anext__()
