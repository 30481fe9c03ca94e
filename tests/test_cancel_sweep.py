"""A randomized cancellation sweep over real servers (issue 16).

Batches of concurrent requests, far more than the pool's slots, each under a
`trio.move_on_after` whose delay is drawn between 0 and a few request
lifetimes; some with a short pool timeout too. Buffered, streamed to the end,
and streamed then closed early. Over HTTP/1.1 (nginx, hypercorn), HTTP/1.1 with
TLS, and HTTP/2 (nginx; hypercorn allowing 4 streams per connection, so
requests also queue for streams). After each sweep the pool must be back at
rest and serve `hard_limit` concurrent requests within a short pool timeout.

The sweep is seeded: the seed is printed and attached to any failure; set
HTTPCORE_CANCEL_SEED to replay it (the interleaving still varies from run to run).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import trio
import trustme

import httpcore
from tests.servers import ServerThread
from tests.test_cancellation import assert_clean

SEED_ENV = "HTTPCORE_CANCEL_SEED"
LIMITS = httpcore.PoolLimits(soft_limit=4, hard_limit=4)
CONCURRENCY = 50
# Seconds of sweeping per server; a sweep stops after the batch that crosses it.
BUDGET = 2.0


@dataclass
class Target:
    buffered_url: str
    stream_url: str
    protocol: str
    client_kwargs: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def h2_server_4_streams(
    ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerThread]:
    """hypercorn over TLS (ALPN h2) allowing only 4 streams per connection."""
    from conftest import _tls_files
    from tests.apps import app

    certfile, keyfile = _tls_files(ca, tmp_path_factory.mktemp("h2-4"))
    thread = ServerThread(
        app, certfile=certfile, keyfile=keyfile, h2_max_concurrent_streams=4
    ).start()
    thread.url = thread.url.replace("http://", "https://")
    yield thread
    thread.stop()


@pytest.fixture(
    params=["h1-nginx", "h1-hypercorn", "h1-tls-nginx", "h2-nginx", "h2-hypercorn-4-streams"]
)
def target(request: pytest.FixtureRequest) -> Target:
    name = request.param
    if name == "h1-hypercorn":
        url = request.getfixturevalue("server").url
        return Target(url + "/", url + "/bytes/262144?chunk=16384", "HTTP/1.1")
    if name == "h2-hypercorn-4-streams":
        url = request.getfixturevalue("h2_server_4_streams").url
        verify = request.getfixturevalue("ca_file")
        return Target(url + "/", url + "/bytes/262144?chunk=16384", "HTTP/2", {"verify": verify})
    nginx = request.getfixturevalue("nginx")
    if name == "h1-nginx":
        url, kwargs, protocol = nginx.http_url, {}, "HTTP/1.1"
    elif name == "h1-tls-nginx":
        url, kwargs, protocol = nginx.https_url, {"http2": False}, "HTTP/1.1"
    else:
        url, kwargs, protocol = nginx.https_url, {}, "HTTP/2"
    kwargs["verify"] = nginx.ca_file
    return Target(url + "/small.json", url + "/medium.bin", protocol, kwargs)


def sweep_seed() -> int:
    value = os.environ.get(SEED_ENV)
    return int(value) if value else random.randrange(1 << 32)


async def one_request(
    client: httpcore.TrioClient,
    target: Target,
    mode: str,
    delay: float,
    pool_timeout: float | None,
    outcomes: Counter[str],
) -> None:
    timeout = httpcore.TimeoutConfig(5.0)
    if pool_timeout is not None:
        timeout = httpcore.TimeoutConfig(timeout, pool_timeout=pool_timeout)
    with trio.move_on_after(delay) as scope:
        try:
            if mode == "buffered":
                response = await client.get(target.buffered_url, timeout=timeout)
                assert response.status_code == 200
                assert response.protocol == target.protocol
            else:
                async with client.stream("GET", target.stream_url, timeout=timeout) as response:
                    assert response.protocol == target.protocol
                    async for _ in response.stream():
                        if mode == "partial":
                            break
        except httpcore.PoolTimeout:
            outcomes["pool timeout"] += 1
            return
        except httpcore.TimeoutException:  # e.g. a read timeout on a loaded machine
            outcomes["other timeout"] += 1
            return
    outcomes["cancelled" if scope.cancelled_caught else "completed"] += 1


async def run_batch(
    client: httpcore.TrioClient,
    target: Target,
    rng: random.Random,
    span: float,
    outcomes: Counter[str],
) -> None:
    """CONCURRENCY requests at once; the random choices are drawn before any starts."""
    plans = []
    for _ in range(CONCURRENCY):
        mode = rng.choice(("buffered", "buffered", "stream", "partial"))
        roll = rng.random()
        # Some cancelled at their first checkpoint, some never; most spread over
        # the batch's lifetime, weighted towards the early, busy phases.
        if roll < 0.1:
            delay = 0.0
        elif roll < 0.2:
            delay = float("inf")
        else:
            delay = span * rng.random() ** 2
        pool_timeout = span * rng.random() if rng.random() < 0.2 else None
        plans.append((mode, delay, pool_timeout))
    async with trio.open_nursery() as nursery:
        for plan in plans:
            nursery.start_soon(one_request, client, target, *plan, outcomes)


async def test_cancellation_sweep(target: Target) -> None:
    seed = sweep_seed()
    print(f"cancellation sweep seed: {seed} (replay with {SEED_ENV}={seed})")
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    try:
        async with httpcore.TrioClient(pool_limits=LIMITS, **target.client_kwargs) as client:
            # A batch with no cancellation measures the requests' lifetime here.
            started = time.perf_counter()
            await run_batch(client, target, random.Random(seed), float("inf"), Counter())
            batch_time = time.perf_counter() - started
            assert_clean(client)
            span = 1.5 * batch_time
            deadline = time.perf_counter() + BUDGET
            batches = 0
            with trio.fail_after(BUDGET * 5 + 30):
                while batches < 3 or time.perf_counter() < deadline:
                    await run_batch(client, target, rng, span, outcomes)
                    batches += 1
                    assert_clean(client)
            # No slot was lost: hard_limit requests at once, each served at once.
            quick = httpcore.TimeoutConfig(5.0, pool_timeout=1.0)
            statuses: list[int] = []

            async def fetch() -> None:
                statuses.append((await client.get(target.buffered_url, timeout=quick)).status_code)

            async with trio.open_nursery() as nursery:
                for _ in range(LIMITS.hard_limit):
                    nursery.start_soon(fetch)
            assert statuses == [200] * LIMITS.hard_limit
            assert_clean(client)
        print(f"{batches} batches of {CONCURRENCY} in {BUDGET:.1f}s: {dict(outcomes)}")
        assert outcomes["cancelled"] > 0
        assert outcomes["completed"] > 0
    except BaseException as exc:
        exc.add_note(f"cancellation sweep seed: {seed} (replay with {SEED_ENV}={seed})")
        raise
