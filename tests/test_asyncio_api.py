"""AsyncClient's share of issue 14: its signatures, event hooks (asyncio code, run in
the loop), retries and the total deadline, in real asyncio programs against the
session's real servers and raw servers."""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

import httpcore
from tests.servers import ServerThread


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def assert_released(client: httpcore.AsyncClient) -> None:
    stats = client.statistics()
    assert stats.connections == stats.idle and stats.opening == 0 and stats.waiters == 0, stats


# -- signatures ----------------------------------------------------------------------------


def test_signatures_are_those_of_trio_client() -> None:
    assert inspect.signature(httpcore.AsyncClient) == inspect.signature(httpcore.TrioClient)
    for name in (
        "request", "get", "options", "head", "post", "put", "patch", "delete",
        "stream", "send", "build_request",
    ):  # fmt: skip
        ours = inspect.signature(getattr(httpcore.AsyncClient, name))
        theirs = inspect.signature(getattr(httpcore.TrioClient, name))
        assert str(ours) == str(theirs), name
    for name in ("request", "get", "send", "delete"):
        assert inspect.iscoroutinefunction(getattr(httpcore.AsyncClient, name))


def test_a_wrong_keyword_names_async_client() -> None:
    with pytest.raises(TypeError, match=r"^AsyncClient.__init__\(\) got .* 'foo'$"):
        httpcore.AsyncClient(foo=1)  # type: ignore[call-arg]

    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            for method in ("get", "options", "head", "post", "put", "patch", "delete"):
                with pytest.raises(TypeError, match=rf"^AsyncClient\.{method}\(\) got .* 'x'$"):
                    await getattr(client, method)("http://x/", x=1)
            with pytest.raises(TypeError, match=r"^AsyncClient\.request\(\) got .* 'x'$"):
                await client.request("GET", "http://x/", x=1)  # type: ignore[call-arg]
            request = client.build_request("GET", "http://x/")
            with pytest.raises(TypeError, match=r"^AsyncClient\.send\(\) got .* 'data'$"):
                await client.send(request, data=b"")  # type: ignore[call-arg]
            with pytest.raises(TypeError, match=r"^AsyncClient\.build_request\(\) got .*'auth'$"):
                client.build_request("GET", "http://x/", auth=("a", "b"))  # type: ignore[call-arg]
            with pytest.raises(TypeError, match=r"^AsyncClient\.stream\(\) got .* 'stream'$"):
                async with client.stream("GET", "http://x/", stream=True):  # type: ignore[call-arg]
                    pass  # pragma: no cover - never entered

    run(main())


# -- event hooks ---------------------------------------------------------------------------


class Seen:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.responses: list[int] = []
        self.unread: list[bool] = []

    async def on_request(self, request: httpcore.Request) -> None:
        await asyncio.sleep(0)  # asyncio code: a trio task could not await this
        self.requests.append(f"{request.url.path} {'authorization' in request.headers}")

    async def on_response(self, response: httpcore.AsyncResponse) -> None:
        await asyncio.sleep(0)
        self.responses.append(response.status_code)
        try:
            response.content  # noqa: B018
        except httpcore.ResponseNotRead:
            self.unread.append(True)
        else:
            self.unread.append(False)


def test_hooks_run_in_the_loop_for_every_hop_and_round_trip(server: ServerThread) -> None:
    seen = Seen()

    async def main() -> None:
        hooks = {"request": [seen.on_request], "response": [seen.on_response]}
        async with httpcore.AsyncClient(event_hooks=hooks) as client:
            response = await client.get(server.url + "/redirect-chain/2")
            assert response.text == "Hello, world!"
            auth = httpcore.DigestAuth("user", "pass")
            response = await client.get(server.url + "/digest-auth/MD5", auth=auth)
            assert response.status_code == 200
            assert_released(client)

    run(main())
    assert seen.requests == [
        "/redirect-chain/2 False",
        "/redirect-chain/1 False",
        "/ False",
        "/digest-auth/MD5 False",
        "/digest-auth/MD5 True",
    ]
    assert seen.responses == [302, 302, 200, 401, 200]
    assert seen.unread == [True] * 5


def test_a_response_hook_may_read_the_body(server: ServerThread) -> None:
    bodies: list[bytes] = []

    async def read(response: httpcore.AsyncResponse) -> None:
        bodies.append(await response.read())

    async def main() -> None:
        async with httpcore.AsyncClient(event_hooks={"response": [read]}) as client:
            assert (await client.get(server.url + "/")).text == "Hello, world!"
            async with client.stream("GET", server.url + "/stream-lines/2") as response:
                assert [line async for line in response.stream_lines()] == ["line 0", "line 1"]
            assert_released(client)
            # A hook that does not read leaves the body to the caller.
            client.event_hooks = {"response": [lambda r: None]}
            async with client.stream("GET", server.url + "/stream-lines/2") as response:
                assert [line async for line in response.stream_lines()] == ["line 0", "line 1"]

    run(main())
    assert bodies == [b"Hello, world!", b"line 0\nline 1\n"]


class _Chunks:
    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        await asyncio.sleep(0)
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)


def test_hooks_with_an_asyncio_dispatch() -> None:
    bodies: list[bytes] = []

    async def handler(request: httpcore.Request) -> httpcore.AsyncResponse:
        await asyncio.sleep(0)
        if request.url.path == "/start":
            return httpcore.AsyncResponse(302, headers={"Location": "/body"})
        return httpcore.AsyncResponse(200, content=_Chunks(b"a", b"b"))

    async def read(response: httpcore.AsyncResponse) -> None:
        bodies.append(await response.read())

    async def main() -> None:
        dispatch = httpcore.MockDispatch(handler)
        async with httpcore.AsyncClient(dispatch=dispatch, event_hooks={"response": [read]}) as c:
            response = await c.get("http://test/start")
            assert response.text == "ab"
            assert response.history[0].status_code == 302

    run(main())
    assert bodies == [b"", b"ab"]


class HookFailed(Exception):
    pass


@pytest.mark.parametrize("kind", ["request", "response"])
def test_a_hook_error_propagates(server: ServerThread, kind: str) -> None:
    async def fail(item: Any) -> None:
        await asyncio.sleep(0)
        raise HookFailed

    async def main() -> None:
        async with httpcore.AsyncClient(event_hooks={kind: [fail]}) as client:
            for stream in (False, True):
                with pytest.raises(HookFailed):
                    await client.get(server.url + "/stream-lines/3", stream=stream)
                assert_released(client)
            client.event_hooks[kind].remove(fail)
            assert client.event_hooks == {"request": [], "response": []}
            assert (await client.get(server.url + "/")).status_code == 200

    run(main())


# -- retries and the total deadline ----------------------------------------------------------


def test_retries(server: ServerThread) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    attempts: list[str] = []

    async def main() -> None:
        hooks = {"request": [lambda r: attempts.append(str(r.url))]}
        async with httpcore.AsyncClient(retries=2, event_hooks=hooks) as client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(httpcore.ConnectError):
                await client.get(f"http://127.0.0.1:{port}/")
            assert loop.time() - started >= 0.5  # 0 s, then 0.5 s between the attempts
            assert (await client.get(server.url + "/")).status_code == 200

    run(main())
    assert len(attempts) == 2


def test_the_total_deadline(server: ServerThread) -> None:
    async def main() -> None:
        timeout = httpcore.TimeoutConfig(5, total=0.5)
        async with httpcore.AsyncClient(timeout=timeout) as client:
            with pytest.raises(httpcore.ReadTimeout, match=r"total deadline of 0\.5 s") as info:
                await client.get(server.url + "/slow-body?delay=3")
            assert info.value.request is not None
            async with client.stream("GET", server.url + "/slow-body?delay=3") as response:
                with pytest.raises(httpcore.ReadTimeout, match="while reading the response"):
                    await response.read()
            assert_released(client)
            # A body left unread when the client closes is given up without I/O.
            response = await client.get(server.url + "/slow-body?delay=3", stream=True)
        with pytest.raises(httpcore.ReadError):
            await response.read()

    run(main())


def test_a_deadline_body_forgets_only_what_can_forget() -> None:
    from httpcore._trio.deadline import DeadlineBody, DeadlineTimeouts

    forgotten: list[bool] = []

    class Forgetful(_Chunks):
        def forget(self) -> None:
            forgotten.append(True)

    timeout = DeadlineTimeouts(httpcore.TimeoutConfig(total=1), deadline=1.0)
    request = httpcore.Request("GET", "http://x/")
    DeadlineBody(_Chunks(b"a"), timeout, request).forget()  # nothing to forget: no error
    DeadlineBody(Forgetful(b"a"), timeout, request).forget()
    assert forgotten == [True]


def test_cancelling_the_caller_cancels_a_running_hook(server: ServerThread) -> None:
    events: list[str] = []

    async def slow(item: Any) -> None:
        events.append("started")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async def main() -> None:
        for kind in ("request", "response"):
            async with httpcore.AsyncClient(event_hooks={kind: [slow]}) as client:
                task = asyncio.ensure_future(client.get(server.url + "/"))
                while not events or events[-1] != "started":
                    await asyncio.sleep(0.01)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert events[-1] == "cancelled"
                assert_released(client)
                client.event_hooks = None
                assert (await client.get(server.url + "/")).status_code == 200

    run(main())
    assert events == ["started", "cancelled"] * 2
