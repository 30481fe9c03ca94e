"""Benchmark client: httpx, as AsyncClient on asyncio or on trio, or as the blocking Client.

Runs in the peers' virtualenv: httpx depends on the PyPI package named
`httpcore`, which must never meet this repository's package of that name.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from pathlib import Path
from typing import Any

import httpx
from _common import Job, Tally, measure, parse_args, shared_counter, snapshot

VARIANTS = ("asyncio", "trio", "sync")


def client_options(job: Job) -> dict[str, Any]:
    limit = max(job.concurrency, 1)
    return {
        "verify": ssl.create_default_context(cafile=job.cafile) if job.is_tls else True,
        "limits": httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
        "http1": job.protocol != "h2c",
        "http2": job.wants_http2,
        "trust_env": False,
    }


def check(job: Job, response: httpx.Response) -> None:
    expected = "HTTP/2" if job.wants_http2 else "HTTP/1.1"
    if response.http_version != expected:
        raise RuntimeError(f"expected {expected}, got {response.http_version}")


async def run_async(job: Job, tally: Tally, gather: str) -> None:
    """The workload on the running event loop; `gather` is "asyncio" or "trio"."""
    counter = shared_counter(job.count)

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in counter:
            if job.download:
                async with client.stream("GET", job.url) as response:
                    check(job, response)
                    received = 0
                    async for chunk in response.aiter_bytes():
                        received += len(chunk)
            else:
                response = await client.get(job.url)
                check(job, response)
                received = len(response.content)
            tally.add(response.status_code, received)

    async with httpx.AsyncClient(**client_options(job)) as client:
        if job.concurrency == 1:
            await worker(client)
        elif gather == "asyncio":
            await asyncio.gather(*(worker(client) for _ in range(job.concurrency)))
        else:
            import trio

            async with trio.open_nursery() as nursery:
                for _ in range(job.concurrency):
                    nursery.start_soon(worker, client)
        snapshot(job, tally)


def run_sync(job: Job, tally: Tally) -> None:
    with httpx.Client(**client_options(job)) as client:
        for _ in range(job.count):
            if job.download:
                with client.stream("GET", job.url) as response:
                    check(job, response)
                    received = 0
                    for chunk in response.iter_bytes():
                        received += len(chunk)
            else:
                response = client.get(job.url)
                check(job, response)
                received = len(response.content)
            tally.add(response.status_code, received)
        snapshot(job, tally)


def main() -> int:
    job = parse_args(VARIANTS)
    import httpcore as httpx_core  # httpx's dependency, not ours

    ours = Path(__file__).resolve().parents[2] / "httpcore"
    if hasattr(httpx_core, "TrioClient") or Path(httpx_core.__file__).resolve().parent == ours:
        sys.exit(f"httpx would use this repository's httpcore ({httpx_core.__file__})")
    if job.variant == "sync" and job.concurrency != 1:
        sys.exit("the blocking client runs sequential workloads only")
    library = f"httpx {httpx.__version__}"
    if job.variant == "asyncio":
        return measure(job, library, lambda tally: asyncio.run(run_async(job, tally, "asyncio")))
    if job.variant == "trio":
        import trio

        return measure(job, library, lambda tally: trio.run(run_async, job, tally, "trio"))
    return measure(job, library, lambda tally: run_sync(job, tally))


if __name__ == "__main__":
    sys.exit(main())
