"""AsyncClient in asyncio programs: lifecycle, cancellation, loops, dispatch, uvloop.

The behaviour suite (test_client, test_http2, test_nginx...) already runs
against AsyncClient through the "asyncio" client flavour; these tests cover
what only asyncio has. Each test is a plain function that runs its own
``asyncio.run`` (or uvloop), against the session's real servers.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import inspect
import subprocess
import sys
import textwrap
import warnings
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import pytest
import trio

import httpcore
from httpcore._asyncio import guest
from httpcore._asyncio.readahead import READ_AHEAD
from httpcore._trio.http11 import MAX_READ_SIZE
from tests.servers import ServerThread

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a dev dependency where it installs
    uvloop = None

LOOPS = [
    "asyncio",
    pytest.param("uvloop", marks=pytest.mark.skipif(uvloop is None, reason="no uvloop")),
]
BASELINE_CLOSED = (0, 0, 0, 0)


def run(coro: Coroutine[Any, Any, Any], loop: str = "asyncio") -> Any:
    """Run `coro` in a fresh loop of the given kind, as a program would."""
    if loop == "uvloop":
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


def counts(client: httpcore.AsyncClient) -> tuple[int, int, int, int]:
    stats = client.statistics()
    return (stats.connections - stats.idle, stats.opening, stats.waiters, stats.streams)


def test_same_interface_as_trio_client() -> None:
    assert inspect.signature(httpcore.AsyncClient) == inspect.signature(httpcore.TrioClient)
    for name in (
        "request", "get", "options", "head", "post", "put", "patch", "delete",
        "stream", "send", "build_request", "prepare_request", "statistics",
    ):  # fmt: skip
        assert callable(getattr(httpcore.AsyncClient, name)), name
    assert "AsyncClient" in httpcore.__all__


@pytest.mark.parametrize("loop", LOOPS)
def test_async_with_and_plain_use(server: ServerThread, loop: str) -> None:
    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            response = await client.get(server.url + "/")
            assert isinstance(response, httpcore.AsyncResponse)
            assert client.headers["user-agent"].startswith("python-httpcore/")
            assert client.cookies == httpcore.Cookies()
            assert (response.status_code, response.text) == (200, "Hello, world!")
        with pytest.raises(RuntimeError, match="This AsyncClient is closed"):
            await client.get(server.url + "/")
        # No `async with`: trio starts at the first request; aclose() ends it.
        plain = httpcore.AsyncClient()
        assert (await plain.get(server.url + "/echo")).json()["method"] == "GET"
        await plain.aclose()
        await plain.aclose()  # idempotent
        never_used = httpcore.AsyncClient()
        await never_used.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await never_used.get(server.url + "/")

    run(main(), loop)


def test_lazy_start_is_shared_by_concurrent_first_requests(server: ServerThread) -> None:
    async def main() -> None:
        client = httpcore.AsyncClient()
        responses = await asyncio.gather(*(client.get(server.url + "/") for _ in range(5)))
        assert [r.status_code for r in responses] == [200] * 5
        run_object = guest._RUNS[asyncio.get_running_loop()]
        assert run_object.clients == 1
        await client.aclose()
        assert run_object.finished.done()

    run(main())


def test_clients_share_one_run_per_loop_and_it_ends_after_the_last(server: ServerThread) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with httpcore.AsyncClient() as a, httpcore.AsyncClient() as b:
            assert guest._RUNS[loop].clients == 2
            first = guest._RUNS[loop]
            await asyncio.gather(a.get(server.url + "/"), b.get(server.url + "/"))
        await asyncio.wait_for(asyncio.shield(first.finished), 5)
        assert loop not in guest._RUNS
        # A client opened later starts a new run.
        async with httpcore.AsyncClient() as c:
            assert guest._RUNS[loop] is not first
            assert (await c.get(server.url + "/")).status_code == 200

    run(main())


@pytest.mark.parametrize("loop", LOOPS)
def test_several_loops_in_sequence(server: ServerThread, loop: str) -> None:
    async def main(i: int) -> str:
        async with httpcore.AsyncClient() as client:
            return (await client.get(server.url + f"/echo?i={i}")).json()["query"]  # type: ignore[no-any-return]

    assert [run(main(i), loop) for i in range(3)] == ["i=0", "i=1", "i=2"]


async def test_loops_in_two_threads_at_once(server: ServerThread) -> None:
    async def main() -> int:
        async with httpcore.AsyncClient() as client:
            responses = await asyncio.gather(*(client.get(server.url + "/") for _ in range(10)))
            return sum(r.status_code for r in responses)

    async with trio.open_nursery() as nursery:
        results: list[int] = []

        async def in_thread() -> None:
            results.append(await trio.to_thread.run_sync(asyncio.run, main()))

        nursery.start_soon(in_thread)
        nursery.start_soon(in_thread)
    assert results == [2000, 2000]


def test_a_client_belongs_to_one_loop(server: ServerThread) -> None:
    client = httpcore.AsyncClient()

    async def use() -> int:
        return (await client.get(server.url + "/")).status_code

    with pytest.warns(ResourceWarning, match="1 AsyncClient"):
        assert run(use()) == 200
    with pytest.raises(RuntimeError, match="another event loop"):
        run(use())


def test_loop_ending_without_aclose_warns_and_closes(server: ServerThread) -> None:
    clients: list[httpcore.AsyncClient] = []

    async def main() -> None:
        client = httpcore.AsyncClient()
        clients.append(client)
        async with client.stream("GET", server.url + "/slow-body?delay=30") as response:
            assert response.status_code == 200
            # The loop ends here, with the response open and the client unclosed.
            asyncio.get_running_loop().call_soon(_cancel_main)
            await asyncio.sleep(30)

    with pytest.warns(ResourceWarning, match="not closed when the event loop ended"):
        with pytest.raises(asyncio.CancelledError):
            run(main())
    assert clients[0].statistics().connections == 0


def _cancel_main() -> None:
    for task in asyncio.all_tasks():
        if task.get_coro().__name__ == "main":  # type: ignore[union-attr]
            task.cancel()


def test_program_without_aclose_exits_promptly(server: ServerThread) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, warnings, httpcore
        warnings.simplefilter("default")
        async def main():
            client = httpcore.AsyncClient()
            print((await client.get({server.url + "/"!r})).status_code)
        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "200"
    assert "ResourceWarning" in result.stderr
    assert "abandoned" not in result.stderr


# -- wrong flavour -------------------------------------------------------------------


async def test_async_client_under_trio_names_trio_client() -> None:
    with pytest.raises(RuntimeError, match=r"httpcore\.TrioClient"):
        async with httpcore.AsyncClient():
            pass  # pragma: no cover - not reached


def test_async_client_without_a_loop_names_client() -> None:
    client = httpcore.AsyncClient()
    coro = client.get("http://127.0.0.1:1/")
    with pytest.raises(RuntimeError, match=r"httpcore\.Client"):
        coro.send(None)
    coro.close()


def test_trio_client_under_asyncio_names_async_client() -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match=r"httpcore\.AsyncClient"):
            async with httpcore.TrioClient():
                pass  # pragma: no cover - not reached

    run(main())


async def test_asyncio_loop_in_a_trio_thread_cannot_host_trio(server: ServerThread) -> None:
    # A blocking asyncio.run inside a trio task: this thread already runs trio.
    async def main() -> None:
        client = httpcore.AsyncClient()
        with pytest.raises(RuntimeError, match="Could not start trio in this thread") as info:
            await client.get(server.url + "/")
        assert "inside a run" in str(info.value.__cause__)
        with pytest.raises(RuntimeError, match="Could not start trio"):
            await client.get(server.url + "/")
        await client.aclose()

    asyncio.run(main())


# -- cancellation --------------------------------------------------------------------


@pytest.mark.parametrize("loop", LOOPS)
def test_cancelling_the_task_cancels_the_request(server: ServerThread, loop: str) -> None:
    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            task = asyncio.ensure_future(client.get(server.url + "/slow?delay=30"))
            await asyncio.sleep(0.2)
            assert client.statistics().connections == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The trio side had unwound before the cancellation reached us.
            assert counts(client) == BASELINE_CLOSED
            assert client.statistics().connections == 0
            assert (await client.get(server.url + "/")).status_code == 200

    run(main(), loop)


def test_wait_for_and_timeout_cancel_the_request(server: ServerThread) -> None:
    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.get(server.url + "/slow?delay=30"), 0.2)
            assert client.statistics().connections == 0
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await client.get(server.url + "/slow?delay=30")
            assert client.statistics().connections == 0
            # A cancellation while a streaming body is read.
            async with client.stream("GET", server.url + "/slow-body?delay=30") as response:
                chunks = response.stream()
                assert await chunks.__anext__() == b"first"
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.2):
                        await chunks.__anext__()
            assert counts(client) == BASELINE_CLOSED
            assert (await client.get(server.url + "/")).text == "Hello, world!"

    run(main())


def test_our_timeouts_raise_our_exceptions(server: ServerThread) -> None:
    async def main() -> None:
        async with httpcore.AsyncClient(timeout=0.2) as client:
            with pytest.raises(httpcore.ReadTimeout):
                await client.get(server.url + "/slow?delay=30")
            async with client.stream("GET", server.url + "/slow-body?delay=30") as response:
                with pytest.raises(httpcore.ReadTimeout):
                    await response.read()
            pool_limits = httpcore.PoolLimits(hard_limit=1)
        async with httpcore.AsyncClient(timeout=0.2, pool_limits=pool_limits) as client:
            async with client.stream("GET", server.url + "/"):
                with pytest.raises(httpcore.PoolTimeout):
                    await client.get(server.url + "/")

    run(main())


SWEEP_STEPS = 24


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/echo"),  # an upload from an asyncio generator, then a small response
        ("GET", "/bytes/300000?chunk=1000"),  # a body in 300 pieces
        ("GET", "/redirect?to=/echo"),
    ],
)
def test_cancellation_sweep_over_every_loop_step(
    server: ServerThread, method: str, path: str
) -> None:
    """Cancel the request after k loop iterations for every k: the pool stays consistent.

    (No upload to a path that answers before reading it: hypercorn's error reply
    to a cut-off upload can collide with the app's own, and crash the server.)
    """

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(3):
            await asyncio.sleep(0)
            yield b"u" * 1000

    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            completed = 0
            for steps in range(SWEEP_STEPS):
                data = upload() if method == "POST" else None
                task = asyncio.ensure_future(client.request(method, server.url + path, data=data))
                for _ in range(steps):
                    await asyncio.sleep(0)
                task.cancel()
                try:
                    response = await task
                except asyncio.CancelledError:
                    pass
                else:
                    completed += 1
                    assert response.status_code == 200
                assert counts(client) == BASELINE_CLOSED, f"after {steps} steps"
                assert (await client.get(server.url + "/")).status_code == 200
            assert completed < SWEEP_STEPS

    run(main())


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("outcome", ["stream", "read", "value", "error"])
def test_cancelled_while_the_trio_side_was_finishing(
    server: ServerThread, when: str, outcome: str
) -> None:
    """The trio side finished just as the cancellation landed: a response nobody will
    get is closed (its connection released); anything else is dropped."""

    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            run_object = await client._ensure_started()
            loop = asyncio.get_running_loop()
            task: asyncio.Task[Any] | None = None

            async def finish_then_cancel() -> Any:
                request = client.build_request("GET", server.url + "/bytes/200000")
                response = await client._engine.send(request, stream=outcome == "stream")
                assert task is not None
                if when == "before":
                    task.cancel()  # the asyncio side stops waiting before the result
                else:
                    loop.call_soon(task.cancel)  # ... or once the result is in
                if outcome == "error":
                    raise ValueError("lost")
                return 42 if outcome == "value" else response

            task = asyncio.ensure_future(run_object.call(finish_then_cancel))
            with pytest.raises(asyncio.CancelledError):
                await task
            assert counts(client) == BASELINE_CLOSED
            # An unread body is discarded with its connection; a read one is kept.
            assert client.statistics().idle == (0 if outcome == "stream" else 1)

    run(main())


def test_aclose_finishes_even_when_cancelled(server: ServerThread) -> None:
    async def main() -> None:
        client = httpcore.AsyncClient()
        await client.get(server.url + "/")
        closing = asyncio.ensure_future(client.aclose())
        await asyncio.sleep(0)
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        assert client.statistics().connections == 0
        # Cancelled while it was still starting.
        starting = httpcore.AsyncClient()
        opening = asyncio.ensure_future(starting.__aenter__())
        await asyncio.sleep(0)
        opening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await opening
        closing = asyncio.ensure_future(starting.aclose())
        await asyncio.sleep(0)
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing

    run(main())


# -- the crossing: workers, keeping trio warm ------------------------------------------


def test_calls_reuse_parked_workers_and_a_cancelled_one_ends(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guest, "MAX_IDLE_WORKERS", 3)

    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            run_object = await client._ensure_started()
            await client.get(server.url + "/")
            assert len(run_object._idle) == 1
            parked = list(run_object._idle)
            await client.get(server.url + "/")
            assert list(run_object._idle) == parked  # the same worker served the next call
            # Six at once: six workers; once calls stop, three stay parked, the others end.
            responses = await asyncio.gather(*(client.get(server.url + "/") for _ in range(6)))
            assert [r.status_code for r in responses] == [200] * 6
            assert len(run_object._idle) == 3
            workers = set(run_object._idle)
            # The worker whose call is cancelled ends with its spent cancel scope.
            task = asyncio.ensure_future(client.get(server.url + "/slow?delay=30"))
            await asyncio.sleep(0.2)
            assert len(run_object._idle) == 2
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert counts(client) == BASELINE_CLOSED
            assert len(run_object._idle) == 2
            assert set(run_object._idle) < workers
            assert (await client.get(server.url + "/")).status_code == 200

    run(main())


def test_a_late_cancellation_leaves_the_workers_next_call_alone(server: ServerThread) -> None:
    """The caller of a finished call is cancelled after its worker took another call:
    that other call goes on (the worker's scope is no longer the first call's)."""

    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            run_object = await client._ensure_started()
            loop = asyncio.get_running_loop()
            first: asyncio.Task[Any] | None = None
            second: list[asyncio.Task[Any]] = []

            async def slow() -> int:
                await trio.sleep(0.05)
                return 7

            async def finish_then_cancel() -> int:
                assert first is not None
                # Ordered in the loop: the second call starts (taking this worker,
                # which is still warm), then the first caller is cancelled.
                second.append(loop.create_task(run_object.call(slow)))
                loop.call_soon(first.cancel)
                return 42

            first = asyncio.ensure_future(run_object.call(finish_then_cancel))
            with pytest.raises(asyncio.CancelledError):
                await first
            assert await second[0] == 7
            assert (await client.get(server.url + "/")).status_code == 200

    run(main())


_REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def test_hooks_see_the_context_variables_of_their_caller(server: ServerThread) -> None:
    """Workers serve many callers; each call's hooks run in a copy of its caller's context."""
    seen: list[tuple[str, str]] = []

    async def on_request(request: httpcore.Request) -> None:
        seen.append((request.url.query, _REQUEST_ID.get()))
        _REQUEST_ID.set("changed by the hook")  # in a copy: the caller never sees it

    async def main() -> None:
        async with httpcore.AsyncClient(event_hooks={"request": [on_request]}) as client:

            async def get(name: str) -> None:
                _REQUEST_ID.set(name)
                await client.get(server.url + f"/echo?{name}")
                assert _REQUEST_ID.get() == name

            await asyncio.create_task(get("a"))  # each in its own task, with its own context
            await asyncio.gather(get("b"), get("c"))
            await asyncio.create_task(get("d"))
            assert len(client._current_run()._idle) == 2  # so "d" reused a worker
            await client.get(server.url + "/echo?none")

    run(main())
    assert sorted(seen) == [("a", "a"), ("b", "b"), ("c", "c"), ("d", "d"), ("none", "-")]


class _CountingLoop(asyncio.SelectorEventLoop):
    """Counts `call_soon_threadsafe`: how often trio came back from its I/O thread."""

    threadsafe_calls = 0

    def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> Any:
        type(self).threadsafe_calls += 1
        return super().call_soon_threadsafe(*args, **kwargs)


def test_calls_one_after_another_keep_trio_out_of_its_io_thread() -> None:
    """After a call, trio stays scheduled on the loop for one turn: the next call,
    made within that turn, need not wake trio from its I/O thread (a thread hop
    there and back). Calls that do no I/O then never send trio to the thread."""

    async def nothing() -> int:
        return 1

    async def main() -> int:
        async with httpcore.AsyncClient() as client:
            run_object = await client._ensure_started()
            await run_object.call(nothing)
            before = _CountingLoop.threadsafe_calls
            for _ in range(50):
                assert await run_object.call(nothing) == 1
            return _CountingLoop.threadsafe_calls - before

    with asyncio.Runner(loop_factory=_CountingLoop) as runner:
        hops = runner.run(main())
    assert hops <= 2  # without keep_warm: one per call


# -- HTTP features from asyncio --------------------------------------------------------


@pytest.mark.parametrize("loop", LOOPS)
def test_100_gathered_requests_share_one_http2_connection(
    h2_server: ServerThread, ca_file: str, loop: str
) -> None:
    kwargs: dict[str, Any] = (
        {"verify": ca_file} if h2_server.url.startswith("https") else {"http1": False}
    )

    async def main() -> None:
        async with httpcore.AsyncClient(**kwargs) as client:
            responses = await asyncio.gather(
                *(client.get(f"{h2_server.url}/echo?i={i}") for i in range(100))
            )
            assert [r.json()["query"] for r in responses] == [f"i={i}" for i in range(100)]
            assert {r.protocol for r in responses} == {"HTTP/2"}
            stats = client.statistics()
            assert (stats.connections, stats.streams) == (1, 0)
            # (Cancelling one stream among others is tested against the raw h2 server in
            # test_http2_failures: hypercorn's h2 server can crash on a reset under load.)

    run(main(), loop)


def test_streaming_api(server: ServerThread) -> None:
    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            async with client.stream("GET", server.url + "/stream-lines/3") as response:
                assert not response.is_closed
                assert [line async for line in response.stream_lines()] == [
                    "line 0",
                    "line 1",
                    "line 2",
                ]
                assert response.is_closed
            response = await client.get(server.url + "/bytes/200000", stream=True)
            async with response:
                raw = b"".join([chunk async for chunk in response.raw()])
            assert raw == b"x" * 200000
            assert response.num_bytes_downloaded == 200000
            with pytest.raises(httpcore.StreamConsumed):
                response.raw()
            # The body is read ahead of the application, boundedly; closing early
            # releases the connection.
            response = await client.get(server.url + "/bytes/2000000", stream=True)
            chunks = response.stream()
            first = await chunks.__anext__()
            await asyncio.sleep(0.2)
            buffered = response._stream._buffer.buffered  # type: ignore[union-attr]
            assert 0 < buffered < READ_AHEAD + MAX_READ_SIZE  # ahead by at most one read
            rest = [chunk async for chunk in chunks]  # the pump refills as room is made
            assert len(first) + sum(map(len, rest)) == 2000000
            assert client.statistics().idle == 1
            response = await client.get(server.url + "/bytes/2000000", stream=True)
            assert await response.stream().__anext__()
            await response.close()
            assert counts(client) == BASELINE_CLOSED
            # A close that is itself cancelled still finishes first.
            response = await client.get(server.url + "/slow-body?delay=30", stream=True)
            assert await response.stream().__anext__() == b"first"
            pump_done = response._stream._buffer.done  # type: ignore[union-attr]
            assert not pump_done.done()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0):  # fires while the pump is still winding down
                    await response.close()
            assert counts(client) == BASELINE_CLOSED
            response = await client.get(server.url + "/gzip", stream=True)
            assert (await response.read()).startswith(b"compressed ")

    run(main())


def test_uploads_from_asyncio_async_iterators(server: ServerThread) -> None:
    async def body() -> AsyncIterator[bytes]:
        for i in range(5):
            await asyncio.sleep(0.001)  # asyncio code: runs in the loop, not in trio
            yield f"part{i};".encode()

    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            response = await client.post(server.url + "/echo", data=body())
            assert response.json()["body"] == "part0;part1;part2;part3;part4;"
            response = await client.post(server.url + "/upload-size", data=_Parts(3))
            assert response.text == "3"
            # A failing upload: the error is ours to see, not lost in trio.
            response_task = client.post(server.url + "/echo", data=_failing_body())
            with pytest.raises(ValueError, match="upload broke"):
                await response_task
            assert counts(client) == BASELINE_CLOSED

    run(main())


class _Parts:
    """An asyncio-side async iterator with no aclose()."""

    def __init__(self, count: int) -> None:
        self.left = count

    def __aiter__(self) -> _Parts:
        return self

    async def __anext__(self) -> bytes:
        await asyncio.sleep(0)
        if not self.left:
            raise StopAsyncIteration
        self.left -= 1
        return b"p"


async def _failing_body() -> AsyncIterator[bytes]:
    yield b"start"
    await asyncio.sleep(0)
    raise ValueError("upload broke")


def test_redirects_auth_and_cookies(server: ServerThread) -> None:
    async def main() -> None:
        async with httpcore.AsyncClient(auth=("user", "pass")) as client:
            response = await client.get(server.url + "/redirect-chain/3")
            assert [r.status_code for r in response.history] == [302, 302, 302]
            response = await client.get(server.url + "/redirect?to=/echo", allow_redirects=False)
            assert response.is_redirect
            final = await response.next()
            assert final.json()["method"] == "GET"
            assert final.history == [response]
            response = await client.get(
                server.url + "/redirect?to=/echo", allow_redirects=False, stream=True
            )
            final = await response.next()
            assert final.status_code == 200
            assert (await client.get(server.url + "/basic-auth")).status_code == 200
            await client.get(server.url + "/set-cookie?flavour=oat")
            assert client.cookies["flavour"] == "oat"
            echoed = (await client.get(server.url + "/echo")).json()
            assert "cookie" in dict(echoed["headers"])

    run(main())


def test_mock_dispatch_with_asyncio_handlers() -> None:
    async def handler(request: httpcore.Request) -> httpcore.AsyncResponse:
        # asyncio code: a trio task could not await asyncio.sleep.
        await asyncio.sleep(0)
        assert asyncio.current_task() is not None
        if request.url.path == "/start":
            return httpcore.AsyncResponse(302, headers={"Location": "/stream"})
        if request.url.path == "/upload":
            chunks = request.stream().__aiter__()
            first = await chunks.__anext__()
            await chunks.aclose()  # type: ignore[attr-defined]
            return httpcore.AsyncResponse(200, content=first)
        return httpcore.AsyncResponse(200, content=_chunks(b"a", b"b", b"c"))

    closed: list[bool] = []

    class Dispatch(httpcore.MockDispatch):
        async def close(self) -> None:
            await asyncio.sleep(0)
            closed.append(True)

    async def main() -> None:
        async with httpcore.AsyncClient(dispatch=Dispatch(handler)) as client:
            response = await client.get("http://test/start")
            assert (response.text, response.history[0].status_code) == ("abc", 302)
            async with client.stream("GET", "http://test/stream") as response:
                assert [c async for c in response.stream()] == [b"a", b"b", b"c"]
            async with client.stream("GET", "http://test/stream") as response:
                pass  # closed unread: the asyncio stream is closed from asyncio
            response = await client.post("http://test/upload", data=_chunks(b"x", b"y"))
            assert response.text == "x"
            response = await client.post("http://test/upload", data=_Parts(2))
            assert response.text == "p"
            response = await client.get("http://test/start", allow_redirects=False, stream=True)
            assert (await response.next()).text == "abc"
        assert closed == [True]

    run(main())


class _chunks:
    """An asyncio-side async iterable of chunks, with aclose()."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    def __aiter__(self) -> _chunks:
        return self

    async def __anext__(self) -> bytes:
        await asyncio.sleep(0)
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)

    async def aclose(self) -> None:
        await asyncio.sleep(0)
        self.chunks.clear()


def test_dispatch_errors_and_self_cancellation_reach_the_caller() -> None:
    async def handler(request: httpcore.Request) -> httpcore.AsyncResponse:
        if request.url.path == "/cancel-myself":
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)
        raise LookupError("no such thing")

    class Failing(httpcore.MockDispatch):
        async def close(self) -> None:
            raise OSError("close failed")

    async def main() -> None:
        client = httpcore.AsyncClient(dispatch=Failing(handler))
        with pytest.raises(LookupError, match="no such thing"):
            await client.get("http://test/")
        # The asyncio side was cancelled under a trio caller: not a CancelledError here.
        with pytest.raises(RuntimeError, match="asyncio side of this call was cancelled"):
            await client.get("http://test/cancel-myself")
        with pytest.raises(OSError, match="close failed"):
            await client.aclose()

    run(main())


def test_asgi_dispatch_with_an_asyncio_app() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        await asyncio.sleep(0)
        body = f"{scope['method']} {scope['path']} {message['body'].decode()}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    async def main() -> None:
        async with httpcore.AsyncClient(dispatch=httpcore.ASGIDispatch(app)) as client:
            response = await client.post("http://app/items", data=_chunks(b"a", b"b"))
            assert response.text == "POST /items ab"

    run(main())


# -- the guest run's own failures ------------------------------------------------------


def test_an_error_in_the_guest_run_is_reported_not_swallowed(server: ServerThread) -> None:
    reported: list[dict[str, Any]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: reported.append(context))
        client = httpcore.AsyncClient()
        await client.get(server.url + "/")
        run_object = guest._RUNS[loop]
        waiting = asyncio.ensure_future(client.get(server.url + "/slow?delay=30"))
        await asyncio.sleep(0.1)

        async def broken() -> None:
            raise KeyError("a bug in the trio side")

        assert run_object.nursery is not None
        run_object.nursery.start_soon(broken)
        with pytest.raises(RuntimeError, match="shutting down"):
            await waiting
        error = await asyncio.shield(run_object.finished)
        assert isinstance(error, BaseExceptionGroup)
        with pytest.raises(RuntimeError, match="closed"):
            await run_object.call(asyncio.sleep, 0)
        await client.aclose()

    run(main())
    assert reported and reported[0]["message"] == "httpcore's trio guest run failed"


@pytest.mark.parametrize("steps", range(8))
def test_loop_shutdown_while_a_client_is_starting(server: ServerThread, steps: int) -> None:
    """asyncio.run ends (cancelling everything) at each step of a client's start."""

    async def main() -> None:
        client = httpcore.AsyncClient()
        request = asyncio.ensure_future(client.get(server.url + "/"))
        for _ in range(steps):
            await asyncio.sleep(0)
        assert not request.done()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        run(main())
    gc.collect()


def test_a_new_client_while_the_last_run_is_ending(server: ServerThread) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        client = httpcore.AsyncClient()
        await client.get(server.url + "/")
        ending = guest._RUNS[loop]
        closing = asyncio.ensure_future(client.aclose())
        while not ending.stopping:
            await asyncio.sleep(0)
        assert not ending.finished.done()
        async with httpcore.AsyncClient() as other:  # waits for the last run to end
            assert ending.finished.done()
            assert (await other.get(server.url + "/")).status_code == 200
        await closing

    run(main())


def test_the_run_ending_while_a_client_starts(server: ServerThread) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        client = httpcore.AsyncClient()
        opening = asyncio.ensure_future(client.__aenter__())
        while loop not in guest._RUNS or not guest._RUNS[loop]._ready.done():
            await asyncio.sleep(0)
        guest._RUNS[loop]._stop()  # as the guardian does when the loop ends
        with pytest.raises(RuntimeError, match="shutting down"):
            await opening
        await client.aclose()

    run(main())


def test_every_client_leaves_before_trio_got_going(server: ServerThread) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        client = httpcore.AsyncClient()
        opening = asyncio.ensure_future(client.__aenter__())
        while loop not in guest._RUNS:
            await asyncio.sleep(0)
        ending = guest._RUNS[loop]
        await asyncio.sleep(0)
        assert client._starting is not None
        client._starting.cancel()  # as asyncio.run does when the loop ends
        with pytest.raises(asyncio.CancelledError):
            await opening
        assert await asyncio.shield(ending.finished) is None
        async with httpcore.AsyncClient() as other:
            assert (await other.get(server.url + "/")).status_code == 200

    run(main())


def test_reading_after_the_client_closed_is_a_read_error(server: ServerThread) -> None:
    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            response = await client.get(server.url + "/bytes/300000?chunk=1000", stream=True)
            other = await client.get(server.url + "/bytes/300000?chunk=1000", stream=True)
        with pytest.raises(httpcore.ReadError) as info:
            await response.read()
        assert info.value.request is response.request
        await other.close()
        assert client.statistics().connections == 0
        # With another client keeping the loop's trio run alive, the engine says it.
        async with httpcore.AsyncClient() as keeper:
            async with httpcore.AsyncClient() as client:
                response = await client.get(server.url + "/bytes/300000?chunk=1000", stream=True)
            with pytest.raises(httpcore.ReadError):
                await response.read()
            assert (await keeper.get(server.url + "/")).status_code == 200

    run(main())


@pytest.mark.parametrize(
    ("headers", "content", "message"),
    [
        ({"Transfer-Encoding": "gzip"}, b"abc", "Transfer-Encoding"),
        ({"Content-Length": "3"}, b"0123456789", "Content-Length"),
    ],
)
def test_local_errors_and_tls_errors(
    server: ServerThread, headers: dict[str, str], content: bytes, message: str
) -> None:
    async def main() -> None:
        async with httpcore.AsyncClient() as client:
            with pytest.raises(httpcore.LocalProtocolError, match=message) as info:
                await client.post(server.url + "/echo", data=content, headers=headers)
            assert info.value.request is not None
            with pytest.raises(httpcore.ConnectError, match="TLS error"):
                await client.get(server.url.replace("http://", "https://") + "/")
            with pytest.raises(httpcore.UnsupportedProtocol):
                await client.get("ftp://127.0.0.1/")
            assert counts(client) == BASELINE_CLOSED
            assert (await client.get(server.url + "/")).status_code == 200

    run(main())


def test_a_dropped_streaming_response_is_released_with_a_warning(server: ServerThread) -> None:
    async def main() -> None:
        limits = httpcore.PoolLimits(hard_limit=1)
        async with httpcore.AsyncClient(pool_limits=limits) as client:
            # Dropped while the pump reads ahead (or waits for room).
            response = await client.get(server.url + "/bytes/2000000", stream=True)
            assert await response.stream().__anext__()
            with pytest.warns(ResourceWarning, match="garbage collected before it was closed"):
                del response
                gc.collect()
            async with asyncio.timeout(5):
                while client.statistics().connections:
                    await asyncio.sleep(0.001)
            # Dropped unread: the engine's own body warns and releases.
            response = await client.get(server.url + "/bytes/2000000", stream=True)
            with pytest.warns(ResourceWarning, match="garbage collected before it was closed"):
                del response
                gc.collect()
            async with asyncio.timeout(5):
                while client.statistics().connections:
                    await asyncio.sleep(0.001)
            assert (await client.get(server.url + "/", timeout=1.0)).status_code == 200
            # Closed, then dropped: nothing to say.
            response = await client.get(server.url + "/bytes/2000000", stream=True)
            assert await response.stream().__anext__()
            await response.close()
            del response
            gc.collect()

    run(main())


def test_cancelling_one_http2_stream_keeps_the_connection(nginx: Any) -> None:
    async def main() -> None:
        async with httpcore.AsyncClient(verify=nginx.ca_file) as client:

            async def download() -> None:
                async with client.stream("GET", nginx.https_url + "/big.bin") as response:
                    async for _ in response.stream():
                        await asyncio.sleep(0.01)

            task = asyncio.ensure_future(download())
            await asyncio.sleep(0.2)
            small = nginx.https_url + "/small.json"
            responses = await asyncio.gather(*(client.get(small) for _ in range(9)))
            assert [(r.status_code, r.protocol) for r in responses] == [(200, "HTTP/2")] * 9
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            stats = client.statistics()
            assert (stats.connections, stats.streams, stats.waiters) == (1, 0, 0)
            assert (await client.get(small)).json() == {"hello": "world", "n": 1}

    run(main())
