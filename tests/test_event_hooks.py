"""event_hooks={"request": [...], "response": [...]}, against a real server (hypercorn).

Request hooks see every request just before it is sent, response hooks every
response before its body is read: each redirect hop and each auth round trip
included. Async hooks on TrioClient (plain functions work too), plain
functions on Client. A hook's exception reaches the caller, and the
connection is released.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio

import httpcore
from tests.servers import ServerThread


class Seen:
    """What the hooks were called with."""

    def __init__(self) -> None:
        self.requests: list[httpcore.Request] = []
        self.authorized: list[bool] = []
        self.responses: list[Any] = []
        self.unread: list[bool] = []

    def on_request(self, request: httpcore.Request) -> None:
        self.requests.append(request)
        self.authorized.append("authorization" in request.headers)

    def on_response(self, response: Any) -> None:
        self.responses.append(response)
        try:
            response.content  # noqa: B018 - raises ResponseNotRead before the body is read
        except httpcore.ResponseNotRead:
            self.unread.append(True)
        else:
            self.unread.append(False)

    async def async_on_request(self, request: httpcore.Request) -> None:
        await trio.lowlevel.checkpoint()
        self.on_request(request)

    async def async_on_response(self, response: Any) -> None:
        await trio.lowlevel.checkpoint()
        self.on_response(response)


def assert_released(engine: httpcore.TrioClient) -> None:
    stats = engine.statistics()
    assert stats.connections == stats.idle and stats.opening == 0 and stats.waiters == 0, stats


# -- TrioClient ------------------------------------------------------------------------


async def test_hooks_see_every_redirect_hop(server: ServerThread) -> None:
    seen = Seen()
    hooks = {"request": [seen.async_on_request], "response": [seen.async_on_response]}
    async with httpcore.TrioClient(event_hooks=hooks) as client:
        response = await client.get(server.url + "/redirect-chain/3")
    assert response.status_code == 200
    assert [r.url.path for r in seen.requests] == [
        "/redirect-chain/3",
        "/redirect-chain/2",
        "/redirect-chain/1",
        "/",
    ]
    assert [r.status_code for r in seen.responses] == [302, 302, 302, 200]
    assert seen.responses[-1] is response
    assert seen.unread == [True, True, True, True]  # called before the body was read
    assert response.text == "Hello, world!"


async def test_hooks_see_every_auth_round_trip(server: ServerThread) -> None:
    seen = Seen()
    hooks = {"request": [seen.async_on_request], "response": [seen.async_on_response]}
    async with httpcore.TrioClient(event_hooks=hooks) as client:
        auth = httpcore.DigestAuth("user", "pass")
        response = await client.get(server.url + "/digest-auth/MD5", auth=auth)
    assert response.status_code == 200
    assert seen.authorized == [False, True]
    assert seen.requests[1].headers["authorization"].startswith("Digest ")
    assert [r.status_code for r in seen.responses] == [401, 200]


async def test_plain_functions_work_on_trio_client(server: ServerThread) -> None:
    seen = Seen()
    hooks = {"request": [seen.on_request], "response": [seen.on_response]}
    async with httpcore.TrioClient(event_hooks=hooks) as client:
        await client.get(server.url + "/")
    assert len(seen.requests) == len(seen.responses) == 1


async def test_a_response_hook_may_read_the_body(server: ServerThread) -> None:
    bodies: list[bytes] = []

    async def read(response: httpcore.AsyncResponse) -> None:
        bodies.append(await response.read())

    async with httpcore.TrioClient(event_hooks={"response": [read]}) as client:
        response = await client.get(server.url + "/")
        assert response.text == "Hello, world!"
        async with client.stream("GET", server.url + "/") as streamed:
            assert b"".join([chunk async for chunk in streamed.stream()]) == b"Hello, world!"
    assert bodies == [b"Hello, world!", b"Hello, world!"]


class HookFailed(Exception):
    pass


@pytest.mark.parametrize("kind", ["request", "response"])
async def test_a_hook_error_propagates_and_releases_the_connection(
    server: ServerThread, kind: str
) -> None:
    async def fail(item: Any) -> None:
        raise HookFailed(kind)

    async with httpcore.TrioClient(event_hooks={kind: [fail]}) as client:
        for stream in (False, True):
            with pytest.raises(HookFailed):
                await client.get(server.url + "/stream-lines/3", stream=stream)
            assert_released(client)
        client.event_hooks[kind].clear()
        response = await client.get(server.url + "/")
        assert response.status_code == 200
        assert_released(client)


async def test_event_hooks_are_mutable(server: ServerThread) -> None:
    seen = Seen()
    async with httpcore.TrioClient() as client:
        assert client.event_hooks == {"request": [], "response": []}
        client.event_hooks["request"].append(seen.async_on_request)
        await client.get(server.url + "/")
        client.event_hooks = {"response": [seen.async_on_response]}
        assert client.event_hooks == {"request": [], "response": [seen.async_on_response]}
        await client.get(server.url + "/")
    assert len(seen.requests) == 1
    assert len(seen.responses) == 1


def test_event_hooks_are_validated() -> None:
    with pytest.raises(ValueError, match="keys are 'request' and 'response', not 'requests'"):
        httpcore.TrioClient(event_hooks={"requests": []})
    with pytest.raises(TypeError, match="an event hook must be callable, not 3"):
        httpcore.Client(event_hooks={"request": [3]})
    hooks = {"request": [print]}
    client = httpcore.TrioClient(event_hooks=hooks)
    hooks["request"].append(len)  # the client keeps its own lists
    assert client.event_hooks["request"] == [print]


# -- Client (plain functions, run while the caller waits) ----------------------------


def test_sync_hooks_see_every_redirect_hop(server: ServerThread) -> None:
    seen = Seen()
    hooks = {"request": [seen.on_request], "response": [seen.on_response]}
    with httpcore.Client(event_hooks=hooks) as client:
        response = client.get(server.url + "/redirect-chain/2")
        assert client.event_hooks["request"] == [seen.on_request]
    assert response.text == "Hello, world!"
    assert len(seen.requests) == 3
    assert [r.status_code for r in seen.responses] == [302, 302, 200]
    assert all(isinstance(r, httpcore.Response) for r in seen.responses)
    assert seen.unread == [True, True, True]


def test_a_sync_response_hook_may_read_the_body(server: ServerThread) -> None:
    bodies: list[bytes] = []

    def read(response: httpcore.Response) -> None:
        bodies.append(response.read())

    with httpcore.Client(event_hooks={"response": [read]}) as client:
        assert client.get(server.url + "/").text == "Hello, world!"
        with client.stream("GET", server.url + "/stream-lines/2") as response:
            assert list(response.stream_lines()) == ["line 0", "line 1"]
        assert_released(client._engine)
    assert bodies == [b"Hello, world!", b"line 0\nline 1\n"]


def test_a_sync_response_hook_that_does_not_read_leaves_the_body(server: ServerThread) -> None:
    statuses: list[int] = []
    with httpcore.Client(
        event_hooks={"response": [lambda r: statuses.append(r.status_code)]}
    ) as client:
        with client.stream("GET", server.url + "/stream-lines/2") as response:
            assert list(response.stream_lines()) == ["line 0", "line 1"]
        assert client.get(server.url + "/").text == "Hello, world!"
    assert statuses == [200, 200]


def test_a_sync_hook_may_use_the_client(server: ServerThread) -> None:
    texts: list[str] = []

    def nested(response: httpcore.Response) -> None:
        if response.url.path == "/redirect-chain/1":
            texts.append(client.get(server.url + "/").text)

    with httpcore.Client(event_hooks={"response": [nested]}) as client:
        assert client.get(server.url + "/redirect-chain/1").status_code == 200
    assert texts == ["Hello, world!"]


def test_a_sync_hook_error_propagates(server: ServerThread) -> None:
    def fail(item: Any) -> None:
        raise HookFailed

    with httpcore.Client(event_hooks={"response": [fail], "request": []}) as client:
        with pytest.raises(HookFailed):
            client.get(server.url + "/stream-lines/3")
        assert_released(client._engine)
        client.event_hooks = {"request": [fail]}
        with pytest.raises(HookFailed):
            client.get(server.url + "/")
        client.event_hooks = None
        assert client.get(server.url + "/").status_code == 200


def test_async_hooks_are_refused_by_the_blocking_client(server: ServerThread) -> None:
    async def hook(request: httpcore.Request) -> None:
        raise AssertionError("never awaited")  # pragma: no cover

    with httpcore.Client(event_hooks={"request": [hook]}) as client:
        with pytest.raises(TypeError, match="Client event hooks must be plain functions"):
            client.get(server.url + "/")
