"""Benchmark client: urllib3's PoolManager (blocking, HTTP/1.1 only)."""

from __future__ import annotations

import sys
from importlib.metadata import version

import urllib3
from _common import Job, Tally, Unsupported, measure, parse_args

VARIANTS = ("sync",)


def run(job: Job, tally: Tally) -> None:
    if job.wants_http2:
        raise Unsupported("urllib3 speaks HTTP/1.1 only")
    if job.concurrency != 1:
        raise Unsupported("the blocking client runs sequential workloads only")
    with urllib3.PoolManager(ca_certs=job.cafile if job.is_tls else None) as pool:
        for _ in range(job.count):
            if job.download:
                response = pool.request("GET", job.url, preload_content=False)
                received = 0
                for chunk in response.stream(job.chunk_size):
                    received += len(chunk)
                response.release_conn()
            else:
                response = pool.request("GET", job.url)
                received = len(response.data)
            tally.add(response.status, received)


def main() -> int:
    job = parse_args(VARIANTS)
    library = f"urllib3 {version('urllib3')}"
    return measure(job, library, lambda tally: run(job, tally))


if __name__ == "__main__":
    sys.exit(main())
