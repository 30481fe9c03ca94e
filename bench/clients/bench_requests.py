"""Benchmark client: requests with one Session (blocking, HTTP/1.1 only)."""

from __future__ import annotations

import sys
from importlib.metadata import version

import requests
from _common import Job, Tally, Unsupported, measure, parse_args

VARIANTS = ("sync",)


def run(job: Job, tally: Tally) -> None:
    if job.wants_http2:
        raise Unsupported("requests speaks HTTP/1.1 only")
    if job.concurrency != 1:
        raise Unsupported("the blocking client runs sequential workloads only")
    with requests.Session() as session:
        session.trust_env = False
        verify: str | bool = job.cafile if job.is_tls and job.cafile else True
        for _ in range(job.count):
            if job.download:
                with session.get(job.url, stream=True, verify=verify) as response:
                    received = 0
                    for chunk in response.iter_content(chunk_size=job.chunk_size):
                        received += len(chunk)
            else:
                response = session.get(job.url, verify=verify)
                received = len(response.content)
            tally.add(response.status_code, received)


def main() -> int:
    job = parse_args(VARIANTS)
    library = f"requests {version('requests')}"
    return measure(job, library, lambda tally: run(job, tally))


if __name__ == "__main__":
    sys.exit(main())
