"""httpcore from asyncio: `AsyncClient` has the same API as `TrioClient`.

    python examples/asyncio_fetch.py https://example.org/ https://example.com/

Fetches the URLs concurrently with `asyncio.gather`, at most 10 at a time, and
gives up on the whole batch after `--deadline` seconds: cancelling the asyncio
task cancels its requests, and their connections are closed or reset.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpcore


async def fetch_all(urls: list[str], *, deadline: float = 30.0) -> dict[str, int | str]:
    """The status code of each URL, or the error it met."""
    semaphore = asyncio.Semaphore(10)
    results: dict[str, int | str] = {}

    async with httpcore.AsyncClient(timeout=10) as client:

        async def fetch(url: str) -> None:
            async with semaphore:
                try:
                    response = await client.get(url)
                except httpcore.RequestError as exc:
                    results[url] = f"{type(exc).__name__}: {exc}"
                else:
                    results[url] = response.status_code

        async with asyncio.timeout(deadline):
            await asyncio.gather(*(fetch(url) for url in urls))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--deadline", type=float, default=30.0)
    args = parser.parse_args(argv)
    for url, outcome in asyncio.run(fetch_all(args.urls, deadline=args.deadline)).items():
        print(outcome, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
