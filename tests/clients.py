"""Run one test through both clients: `TrioClient` directly, `Client` from a worker thread."""

from __future__ import annotations

from functools import partial
from typing import Any

import trio

import httpcore


class ClientUnderTest:
    """A uniform async face over `TrioClient` and the blocking `Client`."""

    def __init__(self, kind: str, client: Any) -> None:
        self.kind = kind
        self.client = client

    @property
    def cookies(self) -> httpcore.Cookies:
        return self.client.cookies  # type: ignore[no-any-return]

    async def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        if self.kind == "trio":
            return await self.client.request(method, url, **kwargs)
        return await trio.to_thread.run_sync(partial(self.client.request, method, url, **kwargs))

    async def get(self, url: Any, **kwargs: Any) -> Any:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: Any, **kwargs: Any) -> Any:
        return await self.request("POST", url, **kwargs)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call any client method (awaiting it on TrioClient, in a thread on Client)."""
        fn = getattr(self.client, method)
        if self.kind == "trio":
            return await fn(*args, **kwargs)
        return await trio.to_thread.run_sync(partial(fn, *args, **kwargs))

    async def next(self, response: Any) -> Any:
        if self.kind == "trio":
            return await response.next()
        return await trio.to_thread.run_sync(response.next)
