"""MockDispatch and ASGIDispatch: the client stack with no network."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
import trio

import httpcore
from tests.apps import app


async def test_mock_dispatch_through_redirects_cookies_and_auth() -> None:
    seen: list[httpcore.Request] = []

    def handler(request: httpcore.Request) -> httpcore.AsyncResponse:
        seen.append(request)
        if request.url.path == "/start":
            return httpcore.AsyncResponse(
                302, headers={"Location": "/end", "Set-Cookie": "k=v; Path=/"}
            )
        return httpcore.AsyncResponse(
            200,
            headers={"Content-Encoding": "gzip"},
            content=gzip.compress(b"done"),
        )

    async with httpcore.TrioClient(dispatch=httpcore.MockDispatch(handler)) as client:
        response = await client.get("http://test/start", auth=("u", "p"))
    assert response.content == b"done"
    assert [r.status_code for r in response.history] == [302]
    assert seen[1].headers["cookie"] == "k=v"
    assert seen[1].headers["authorization"].startswith("Basic ")


async def test_mock_dispatch_async_handler_and_blocking_client() -> None:
    async def handler(request: httpcore.Request) -> httpcore.AsyncResponse:
        await trio.sleep(0)
        return httpcore.AsyncResponse(201, content=request.method.encode())

    def run() -> Any:
        with httpcore.Client(dispatch=httpcore.MockDispatch(handler)) as client:
            return client.put("http://test/")

    response = await trio.to_thread.run_sync(run)
    assert (response.status_code, response.text) == (201, "PUT")


async def test_asgi_dispatch() -> None:
    dispatch = httpcore.ASGIDispatch(app)
    async with httpcore.TrioClient(dispatch=dispatch) as client:
        response = await client.post("http://testserver/echo?x=1", json={"a": 1})
        data = response.json()
        assert data["method"] == "POST"
        assert data["query"] == "x=1"
        assert data["body"] == '{"a":1}'
        response = await client.get("http://testserver/redirect?to=/")
        assert response.text == "Hello, world!"
        assert response.history[0].status_code == 302


async def test_asgi_app_errors() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("boom")

    async def silent(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "http.request"
        assert (await receive())["type"] == "http.disconnect"

    async with httpcore.TrioClient(dispatch=httpcore.ASGIDispatch(broken)) as client:
        with pytest.raises(ValueError, match="boom"):
            await client.get("http://testserver/")
    async with httpcore.TrioClient(dispatch=httpcore.ASGIDispatch(silent)) as client:
        with pytest.raises(RuntimeError, match="without starting a response"):
            await client.get("http://testserver/")
