"""Benchmark client: aiohttp's ClientSession on asyncio (HTTP/1.1 only)."""

from __future__ import annotations

import asyncio
import ssl
import sys
from importlib.metadata import version

import aiohttp
from _common import Job, Tally, Unsupported, measure, parse_args, shared_counter, snapshot

VARIANTS = ("asyncio",)


async def run(job: Job, tally: Tally) -> None:
    if job.wants_http2:
        raise Unsupported("aiohttp speaks HTTP/1.1 only")
    counter = shared_counter(job.count)
    tls: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=job.cafile) if job.is_tls else True
    )
    # limit: connections in use and idle together, so N-way keeps N connections.
    connector = aiohttp.TCPConnector(limit=max(job.concurrency, 1), ssl=tls)

    async def worker(session: aiohttp.ClientSession) -> None:
        for _ in counter:
            async with session.get(job.url) as response:
                if job.download:
                    received = 0
                    async for chunk in response.content.iter_any():
                        received += len(chunk)
                else:
                    received = len(await response.read())
                tally.add(response.status, received)

    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(job.concurrency)))
        snapshot(job, tally)


def main() -> int:
    job = parse_args(VARIANTS)
    library = f"aiohttp {version('aiohttp')}"
    return measure(job, library, lambda tally: asyncio.run(run(job, tally)))


if __name__ == "__main__":
    sys.exit(main())
