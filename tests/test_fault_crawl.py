"""A fault-injection crawl: 2,000 requests over HTTP/1.1 and HTTP/2 against raw servers
that randomly reset, stall, truncate and send garbage.

Every request must end with a response or an exception of the SPEC hierarchy, the pool
must end at its baseline, and no socket may be left open. The run is seeded
(`HTTPCORE_CRAWL_SEED` overrides the default); the seed is in every failure message.
"""

from __future__ import annotations

import collections
import os
import random
import socket
import struct
from typing import Any

import h2.events
import h2.exceptions
import trio
from hyperframe.frame import GoAwayFrame

import httpcore
from tests.h2server import H2ServerConnection, h2_server
from tests.servers import raw_server

SEED = int(os.environ.get("HTTPCORE_CRAWL_SEED", "20261207"))
REQUESTS_PER_PROTOCOL = 1000
WORKERS = 40
READ_TIMEOUT = 0.15
STALL = 0.4  # longer than the read timeout
FAULTS = ["ok", "ok", "ok", "close", "reset", "stall", "short-stall", "truncate", "garbage"]
# On HTTP/2 a fault of the connection hits every stream on it: rarer.
H2_FAULTS = {
    "ok": 60,
    "short-stall": 10,
    "stall": 5,
    "truncate": 5,
    "rst-stream": 5,
    "close": 2,
    "goaway": 2,
    "reset": 1,
    "garbage": 1,
}


def hard_reset(stream: trio.SocketStream) -> None:
    """Close with SO_LINGER 0: the peer sees a reset."""
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stream.socket.close()


class H1Faults:
    """A keep-alive HTTP/1.1 server that picks a fault for each request."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: collections.Counter[str] = collections.Counter()

    async def handle(self, stream: trio.SocketStream) -> None:
        rng = random.Random(self.rng.random())
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    buffer += data
                _, _, buffer = buffer.partition(b"\r\n\r\n")  # GETs: no body
                fault = rng.choice(FAULTS)
                self.seen[fault] += 1
                body = b"x" * rng.randrange(0, 3000)
                head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body)
                if fault == "ok":
                    await stream.send_all(head + b"\r\n" + body)
                elif fault == "short-stall":
                    await stream.send_all(head)
                    await trio.sleep(READ_TIMEOUT / 5)
                    await stream.send_all(b"\r\n" + body)
                elif fault == "close":
                    await stream.send_all(head + b"Connection: close\r\n\r\n" + body)
                    return
                elif fault == "reset":
                    hard_reset(stream)
                    return
                elif fault == "stall":
                    await stream.send_all(head + b"\r\n" + body[: len(body) // 2])
                    await trio.sleep(STALL)
                    return
                elif fault == "truncate":
                    await stream.send_all(head + b"\r\n" + body[: len(body) // 2])
                    return
                else:  # garbage
                    await stream.send_all(rng.randbytes(rng.randrange(1, 200)))
                    return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            await stream.aclose()


class H2Faults:
    """An h2 server that picks a fault for each stream (some kill the connection)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: collections.Counter[str] = collections.Counter()

    async def handle(self, conn: H2ServerConnection) -> None:
        rng = random.Random(self.rng.random())
        # Streams are answered by concurrent tasks: one writer at a time.
        lock = trio.Lock()
        unlocked_flush = conn.flush

        async def flush() -> None:
            async with lock:
                await unlocked_flush()

        conn.flush = flush  # type: ignore[method-assign]
        async with trio.open_nursery() as nursery:
            try:
                while (event := await conn.next_event()) is not None:
                    if not isinstance(event, h2.events.StreamEnded):
                        continue
                    (fault,) = rng.choices(list(H2_FAULTS), weights=list(H2_FAULTS.values()))
                    self.seen[fault] += 1
                    if fault in ("reset", "garbage"):
                        if fault == "reset":
                            hard_reset(conn.stream)
                        else:
                            async with lock:
                                await conn.stream.send_all(rng.randbytes(rng.randrange(1, 200)))
                        nursery.cancel_scope.cancel()
                        return
                    nursery.start_soon(self.answer, conn, event.stream_id, fault, rng.random())
                    if fault in ("close", "goaway"):
                        goaway = GoAwayFrame(0, last_stream_id=event.stream_id).serialize()
                        async with lock:
                            await unlocked_flush()
                            await conn.stream.send_all(goaway)
            except (h2.exceptions.ProtocolError, trio.BrokenResourceError):
                pass
            nursery.cancel_scope.cancel()

    async def answer(self, conn: H2ServerConnection, stream_id: int, fault: str, r: float) -> None:
        body = b"y" * int(r * 3000)
        try:
            if fault == "rst-stream":
                conn.h2.reset_stream(stream_id)
                await conn.flush()
                return
            if fault in ("stall", "truncate"):
                conn.h2.send_headers(stream_id, [(b":status", b"200")])
                conn.h2.send_data(stream_id, body[: len(body) // 2])
                await conn.flush()
                if fault == "stall":
                    await trio.sleep(STALL)
                conn.h2.reset_stream(stream_id)
                await conn.flush()
                return
            if fault == "short-stall":
                await trio.sleep(READ_TIMEOUT / 5)
            await conn.respond(stream_id, body)
        except (h2.exceptions.ProtocolError, trio.BrokenResourceError, trio.ClosedResourceError):
            pass


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def crawl(url: str, client: httpcore.TrioClient, outcomes: collections.Counter[str]) -> None:
    rng = random.Random(SEED)
    limiter = trio.Semaphore(WORKERS)

    async def one(index: int) -> None:
        async with limiter:
            try:
                response = await client.get(f"{url}/{index}")
            except httpcore.HTTPError as exc:
                outcomes[type(exc).__name__] += 1
            else:
                assert response.status_code == 200, f"seed {SEED}: {response}"
                assert set(response.content) <= {ord("x"), ord("y")}, f"seed {SEED}"
                outcomes["response"] += 1

    async with trio.open_nursery() as nursery:
        for index in range(REQUESTS_PER_PROTOCOL):
            nursery.start_soon(one, index)
            if rng.random() < 0.05:
                await trio.sleep(0)


def assert_baseline(client: httpcore.TrioClient) -> None:
    stats = client.statistics()
    assert (stats.opening, stats.waiters, stats.streams) == (0, 0, 0), f"seed {SEED}: {stats}"
    assert stats.connections == stats.idle, f"seed {SEED}: {stats}"


async def test_fault_crawl() -> None:
    print(f"fault crawl seed: {SEED} (set HTTPCORE_CRAWL_SEED to replay)")
    master = random.Random(SEED)
    fds_before = open_fds()
    timeout = httpcore.TimeoutConfig(5, read_timeout=READ_TIMEOUT, pool_timeout=10)
    limits = httpcore.PoolLimits(soft_limit=10, hard_limit=30)
    h1, h2 = H1Faults(random.Random(master.random())), H2Faults(random.Random(master.random()))
    h1_outcomes: collections.Counter[str] = collections.Counter()
    h2_outcomes: collections.Counter[str] = collections.Counter()
    with trio.fail_after(60):
        async with raw_server(h1.handle) as h1_url, h2_server(h2.handle) as (h2_url, _):
            client: Any
            async with httpcore.TrioClient(timeout=timeout, pool_limits=limits) as client:
                await crawl(h1_url, client, h1_outcomes)
                assert_baseline(client)
            async with httpcore.TrioClient(
                timeout=timeout, pool_limits=limits, http1=False
            ) as client:
                await crawl(h2_url, client, h2_outcomes)
                assert_baseline(client)
            # Both still serve a plain request after all that.
    print("HTTP/1.1 faults", dict(h1.seen), "outcomes", dict(h1_outcomes))
    print("HTTP/2 faults", dict(h2.seen), "outcomes", dict(h2_outcomes))
    for outcomes in (h1_outcomes, h2_outcomes):
        assert sum(outcomes.values()) == REQUESTS_PER_PROTOCOL, f"seed {SEED}: {outcomes}"
        assert outcomes["response"] > REQUESTS_PER_PROTOCOL // 4, f"seed {SEED}: {outcomes}"
        assert len(outcomes) > 2, f"seed {SEED}: faults surfaced as {outcomes}"
    assert open_fds() <= fds_before, f"seed {SEED}: sockets left open"
