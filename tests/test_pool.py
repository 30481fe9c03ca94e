"""The pool under load and under cancellation at every checkpoint."""

from __future__ import annotations

from typing import Any

import pytest
import trio

import httpcore
from tests.servers import CountingServer, ServerThread, raw_server

pytestmark = pytest.mark.usefixtures("h1_codec")


def assert_baseline(client: httpcore.TrioClient) -> None:
    stats = client.statistics()
    assert stats.connections == stats.idle
    assert stats.opening == 0
    assert stats.waiters == 0


async def test_crawl_1000_urls_never_exceeds_hard_limit() -> None:
    counter = CountingServer()
    limits = httpcore.PoolLimits(soft_limit=20, hard_limit=20)
    async with raw_server(counter.handle) as url:
        async with httpcore.TrioClient(pool_limits=limits) as client:
            results: dict[int, bytes] = {}

            async def fetch(i: int) -> None:
                response = await client.get(f"{url}/page/{i}")
                results[i] = response.content

            async with trio.open_nursery() as nursery:
                for i in range(1000):
                    nursery.start_soon(fetch, i)
            assert_baseline(client)
    assert len(results) == 1000
    assert all(results[i] == f"/page/{i}".encode() for i in range(1000))
    assert counter.requests == 1000
    assert 1 < counter.max_open_connections <= 20
    assert counter.total_connections <= 20  # keep-alive: every connection was reused


async def test_max_per_host() -> None:
    counter = CountingServer()
    limits = httpcore.PoolLimits(hard_limit=20, max_per_host=3)
    async with raw_server(counter.handle) as url:
        async with httpcore.TrioClient(pool_limits=limits) as client:
            async with trio.open_nursery() as nursery:
                for i in range(50):
                    nursery.start_soon(client.get, f"{url}/{i}")
    assert counter.requests == 50
    assert counter.max_open_connections <= 3


async def test_soft_limit_closes_surplus_idle_connections() -> None:
    counter = CountingServer()
    limits = httpcore.PoolLimits(soft_limit=2, hard_limit=10)
    async with raw_server(counter.handle) as url:
        async with httpcore.TrioClient(pool_limits=limits) as client:
            async with trio.open_nursery() as nursery:
                for i in range(30):
                    nursery.start_soon(client.get, f"{url}/{i}")
            stats = client.statistics()
            assert stats.idle <= 2
            assert stats.connections == stats.idle


async def test_hard_limit_evicts_idle_connection_of_other_origin(server: ServerThread) -> None:
    counter = CountingServer()
    limits = httpcore.PoolLimits(soft_limit=1, hard_limit=1)
    async with raw_server(counter.handle) as url:
        async with httpcore.TrioClient(pool_limits=limits) as client:
            await client.get(url + "/a")
            assert client.statistics().idle == 1
            response = await client.get(server.url + "/")
            assert response.status_code == 200
            assert client.statistics().connections == 1
            await client.get(url + "/b")
    assert counter.total_connections == 2


async def test_keepalive_expiry(server: ServerThread) -> None:
    limits = httpcore.PoolLimits(keepalive_expiry=0.0)
    async with httpcore.TrioClient(pool_limits=limits) as client:
        await client.get(server.url + "/")
        await trio.sleep(0.01)  # let the clock pass the (zero) expiry
        await client.get(server.url + "/")
        assert client.statistics().connections == 1


class CancelAfter(trio.abc.Instrument):
    """Cancel `scope` after the watched task has run `steps` scheduling steps."""

    def __init__(self, scope: trio.CancelScope, steps: int) -> None:
        self.scope = scope
        self.steps = steps
        self.task: Any = None
        self.fired = False

    def after_task_step(self, task: Any) -> None:
        if task is self.task and not self.fired:
            self.steps -= 1
            if self.steps <= 0:
                self.fired = True
                self.scope.cancel()


async def run_cancelled_after(steps: int, fn: Any) -> bool:
    """Run `fn()` in a scope cancelled after `steps` steps; True if it was cancelled."""
    with trio.CancelScope() as scope:
        instrument = CancelAfter(scope, steps)
        instrument.task = trio.lowlevel.current_task()
        trio.lowlevel.add_instrument(instrument)
        try:
            await fn()
        finally:
            trio.lowlevel.remove_instrument(instrument)
    return scope.cancelled_caught


@pytest.mark.parametrize("reuse", [False, True])
@pytest.mark.parametrize("body", ["read", "stream-partial"])
async def test_cancellation_at_every_checkpoint(
    server: ServerThread, tls_server: ServerThread, ca_file: str, reuse: bool, body: str
) -> None:
    """Cancel after k steps for every k: the pool returns to baseline and still works."""
    for base in (server.url, tls_server.url):
        async with httpcore.TrioClient(verify=ca_file) as client:
            if reuse:
                await client.get(base + "/")

            async def request(base: str = base) -> None:
                if body == "read":
                    await client.post(base + "/echo", data=b"x" * 10_000)
                else:
                    async with client.stream("GET", base + "/bytes/300000?chunk=1000") as r:
                        async for _ in r.stream():
                            break

            steps = 1
            while await run_cancelled_after(steps, request):
                assert_baseline(client)
                response = await client.get(base + "/")
                assert response.status_code == 200
                assert_baseline(client)
                steps += 1
            assert steps > 1  # at least one cancellation really landed


async def test_cancel_while_waiting_for_pool(server: ServerThread) -> None:
    limits = httpcore.PoolLimits(hard_limit=1)
    async with httpcore.TrioClient(pool_limits=limits) as client:
        async with client.stream("GET", server.url + "/bytes/10") as held:
            with trio.move_on_after(0.1) as scope:
                await client.get(server.url + "/")
            assert scope.cancelled_caught
            assert client.statistics().waiters == 0
            await held.read()
        assert (await client.get(server.url + "/")).status_code == 200
        assert_baseline(client)


async def test_pool_wait_is_fifo_and_handed_over(server: ServerThread) -> None:
    limits = httpcore.PoolLimits(hard_limit=1)
    order: list[int] = []
    async with httpcore.TrioClient(pool_limits=limits) as client:

        async def fetch(i: int) -> None:
            await client.get(server.url + "/")
            order.append(i)

        async with trio.open_nursery() as nursery:
            for i in range(5):
                nursery.start_soon(fetch, i)
                await trio.testing.wait_all_tasks_blocked()
        assert_baseline(client)
    assert order == [0, 1, 2, 3, 4]


async def test_client_lifecycle_errors(server: ServerThread) -> None:
    client = httpcore.TrioClient()
    with pytest.raises(RuntimeError, match="never entered"):
        await client.get(server.url + "/")
    async with client:
        await client.get(server.url + "/")
    with pytest.raises(RuntimeError, match="is closed"):
        await client.get(server.url + "/")
    with pytest.raises(RuntimeError, match="only once"):
        async with client:
            pass  # pragma: no cover - never entered


async def test_exit_closes_everything(server: ServerThread) -> None:
    before = len(trio.lowlevel.current_task().child_nurseries)
    async with httpcore.TrioClient() as client:
        async with trio.open_nursery() as nursery:
            for _ in range(10):
                nursery.start_soon(client.get, server.url + "/")
        assert client.statistics().connections > 0
    assert client.statistics().connections == 0
    assert len(trio.lowlevel.current_task().child_nurseries) == before


async def test_client_argument_errors() -> None:
    with pytest.raises(ValueError, match="Proxy pattern"):
        httpcore.TrioClient(proxies={"ftp://": "http://proxy:3128"})
    with pytest.raises(ValueError, match="http1"):
        httpcore.TrioClient(http1=False, http2=False)


async def test_choosing_a_connection_does_not_scan_the_pool(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 120 connections open and 119 of them busy, a request finds the idle one at once."""
    from httpcore._trio import http11

    checked: list[object] = []
    is_available = http11.HTTP11Connection.is_available

    def counting_is_available(self: http11.HTTP11Connection) -> bool:
        checked.append(self)
        return is_available(self)

    async def hold_streams(
        client: httpcore.TrioClient,
        count: int,
        release: trio.Event,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """`count` requests in flight at once, each read to the end once `release` is set."""
        opened = 0
        all_open = trio.Event()

        async def hold_one() -> None:
            nonlocal opened
            async with client.stream("GET", server.url + "/") as response:
                opened += 1
                if opened == count:
                    all_open.set()
                await all_open.wait()
                await release.wait()
                await response.read()

        async with trio.open_nursery() as nursery:
            for _ in range(count):
                nursery.start_soon(hold_one)
            await all_open.wait()
            task_status.started()

    limits = httpcore.PoolLimits(soft_limit=120, hard_limit=120)
    async with httpcore.TrioClient(pool_limits=limits) as client:
        released = trio.Event()
        released.set()
        await hold_streams(client, 120, released)
        assert client.statistics().idle == 120  # 120 connections, all idle again
        release = trio.Event()
        async with trio.open_nursery() as nursery:
            await nursery.start(hold_streams, client, 119, release)
            assert client.statistics().idle == 1
            monkeypatch.setattr(http11.HTTP11Connection, "is_available", counting_is_available)
            response = await client.get(server.url + "/")
            looked_at = len(checked)
            release.set()
        assert response.status_code == 200
        assert client.statistics().connections == 120
        # The pool looked at one or two connections, not at the 119 busy ones.
        assert 1 <= looked_at <= 3
