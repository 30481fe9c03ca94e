"""Dispatches that replace the network: a handler function, or an ASGI app.

A dispatch is any object with ``async def send(request, *, verify, cert,
timeout) -> AsyncResponse`` and ``async def close()``. Redirects, cookies and
auth still run in the client above it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from .._core.models import AsyncResponse, Request

Handler = Callable[[Request], "AsyncResponse | Awaitable[AsyncResponse]"]


class MockDispatch:
    """Answer every request with `handler(request)` (a function or a coroutine function).

    The handler builds its answer as ``AsyncResponse(status_code, headers=..., content=...)``.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def send(
        self, request: Request, *, verify: Any = None, cert: Any = None, timeout: Any = None
    ) -> AsyncResponse:
        result = self.handler(request)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, AsyncResponse), "the handler must return an AsyncResponse"
        return result

    async def close(self) -> None:
        """Nothing to release."""


class ASGIDispatch:
    """Send requests to an ASGI 3 application in the same process, with no network.

    The request body is read before the app runs and the response body is
    collected before `send` returns. An exception raised by the app
    propagates to the caller.
    """

    def __init__(
        self, app: Any, *, root_path: str = "", client: tuple[str, int] = ("127.0.0.1", 123)
    ) -> None:
        self.app = app
        self.root_path = root_path
        self.client = client

    async def send(
        self, request: Request, *, verify: Any = None, cert: Any = None, timeout: Any = None
    ) -> AsyncResponse:
        url = request.url
        body = await request.aread()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(name.lower(), value) for name, value in request.headers.raw],
            "scheme": url.scheme,
            "path": unquote(url.path),
            "raw_path": url.path.encode("ascii"),
            "query_string": url.query.encode("ascii"),
            "server": (url.host, url.port),
            "client": self.client,
            "root_path": self.root_path,
        }
        body_sent = False
        status: int | None = None
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if body_sent:
                return {"type": "http.disconnect"}
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers.extend(message.get("headers", []))
            else:  # http.response.body (other extension messages carry no body)
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        if status is None:
            raise RuntimeError("The ASGI app returned without starting a response")
        return AsyncResponse(status, headers=headers, content=b"".join(chunks), request=request)

    async def close(self) -> None:
        """Nothing to release."""
