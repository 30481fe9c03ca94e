"""Benchmark client: this repository's httpcore, as TrioClient ("trio"; "trio-h11"
with the pure-Python h11 codec for HTTP/1.1 instead of httptools), AsyncClient
under asyncio ("asyncio") or Client ("sync"; concurrent workloads run in that
many threads sharing one Client).

Runs with the interpreter where our httpcore is installed. HTTP/2 workloads are
reported as unsupported (n/a) while httpcore cannot negotiate HTTP/2: a first
request that fails, or a response whose protocol is not "HTTP/2".
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

import trio
from _common import (
    Job,
    Tally,
    Unsupported,
    describe,
    measure,
    parse_args,
    run_threads,
    shared_counter,
    snapshot,
    threaded_counter,
)

# This checkout's httpcore, whatever copy the interpreter has installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import httpcore
import httpcore._trio.http11
from httpcore._core.h1codec import H11Codec

VARIANTS = ("trio", "trio-h11", "asyncio", "sync")


class _ProtocolCheck:
    """Fails the run on a wrong protocol; before HTTP/2 is seen, failure means n/a."""

    def __init__(self, job: Job) -> None:
        self.expected = "HTTP/2" if job.wants_http2 else "HTTP/1.1"
        self.wants_http2 = job.wants_http2
        self.confirmed = False

    def failed(self, exc: Exception) -> BaseException:
        if self.wants_http2 and not self.confirmed:
            return Unsupported(f"no HTTP/2 yet: {describe(exc)}")
        return exc

    def check(self, protocol: str) -> None:
        if protocol == self.expected:
            self.confirmed = True
            return
        if self.wants_http2 and not self.confirmed:
            raise Unsupported(f"no HTTP/2 yet: the response came over {protocol}")
        raise RuntimeError(f"expected {self.expected}, got {protocol}")


def client_options(job: Job) -> dict[str, Any]:
    # As many connections as workers may exist and stay idle in the pool: at
    # N-way over HTTP/1.1 that is N connections; over HTTP/2 the requests share
    # one connection as far as the server's stream limit allows.
    limit = max(job.concurrency, 1)
    return {
        "verify": job.cafile if job.is_tls else True,
        "pool_limits": httpcore.PoolLimits(soft_limit=limit, hard_limit=limit),
        "http1": job.protocol != "h2c",
        "http2": job.wants_http2,
        "trust_env": False,
    }


def run_trio(job: Job, tally: Tally) -> None:
    fetch = _fetcher(job, tally)

    async def main() -> None:
        counter = shared_counter(job.count)

        async def worker() -> None:
            for _ in counter:
                await fetch(client)

        async with httpcore.TrioClient(**client_options(job)) as client:
            if job.concurrency == 1:
                await worker()
            else:
                async with trio.open_nursery() as nursery:
                    for _ in range(job.concurrency):
                        nursery.start_soon(worker)
            snapshot(job, tally)

    trio.run(main)


def run_asyncio(job: Job, tally: Tally) -> None:
    fetch = _fetcher(job, tally)

    async def main() -> None:
        counter = shared_counter(job.count)

        async def worker() -> None:
            for _ in counter:
                await fetch(client)

        async with httpcore.AsyncClient(**client_options(job)) as client:
            await asyncio.gather(*(worker() for _ in range(max(job.concurrency, 1))))
            snapshot(job, tally)

    asyncio.run(main())


def _fetcher(job: Job, tally: Tally) -> Any:
    """One request of the workload, for either async client (they share the API)."""
    checker = _ProtocolCheck(job)

    async def fetch(client: Any) -> None:
        try:
            if job.download:
                async with client.stream("GET", job.url) as response:
                    checker.check(response.protocol)
                    received = 0
                    async for chunk in response.stream():
                        received += len(chunk)
            else:
                response = await client.get(job.url)
                checker.check(response.protocol)
                received = len(response.content)
        except Unsupported:
            raise
        except Exception as exc:
            raise checker.failed(exc) from exc
        tally.add(response.status_code, received)

    return fetch


def run_sync(job: Job, tally: Tally) -> None:
    checker = _ProtocolCheck(job)
    take = threaded_counter(job.count)
    # Tally.add from many threads: keep its two counters consistent.
    tally_lock = threading.Lock()

    def worker() -> None:
        while take():
            try:
                if job.download:
                    with client.stream("GET", job.url) as response:
                        checker.check(response.protocol)
                        received = 0
                        for chunk in response.stream():
                            received += len(chunk)
                else:
                    response = client.get(job.url)
                    checker.check(response.protocol)
                    received = len(response.content)
            except Unsupported:
                raise
            except Exception as exc:
                raise checker.failed(exc) from exc
            with tally_lock:
                tally.add(response.status_code, received)

    with httpcore.Client(**client_options(job)) as client:
        if job.concurrency == 1:
            worker()
        else:
            run_threads(job.concurrency, worker)
        snapshot(job, tally)


def main() -> int:
    job = parse_args(VARIANTS)
    # Guard against benchmarking the unrelated PyPI package of the same name.
    if not hasattr(httpcore, "TrioClient"):
        sys.exit(f"{httpcore.__file__} is not this repository's httpcore")
    library = f"httpcore {httpcore.__version__}"
    if job.variant == "trio-h11":
        # Set before the client exists: each new HTTP/1.1 connection reads it.
        httpcore._trio.http11.CODEC = H11Codec
    run = {"trio": run_trio, "trio-h11": run_trio, "asyncio": run_asyncio, "sync": run_sync}[
        job.variant
    ]
    return measure(job, library, lambda tally: run(job, tally))


if __name__ == "__main__":
    sys.exit(main())
