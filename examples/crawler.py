"""A concurrent crawler: one nursery, a per-host limit, a progress line, and
errors collected rather than raised.

    python examples/crawler.py https://example.org/ --max-pages 100 --per-host 4

It follows the links of each HTML page to other pages of the same host, at
most `--max-pages` of them, with at most `--per-host` requests in flight per
host. A page that fails (a 4xx/5xx answer, a timeout, a refused connection) is
recorded with its error and the crawl goes on.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

import trio

import httpcore


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.extend(value for name, value in attrs if name == "href" and value)


def links_of(page: httpcore.AsyncResponse) -> list[httpcore.URL]:
    """The absolute http(s) URLs that an HTML page links to, fragments dropped."""
    if not page.headers.get("content-type", "").startswith("text/html"):
        return []
    parser = _LinkParser()
    parser.feed(page.text)
    urls = []
    for href in parser.links:
        try:
            url = httpcore.URL(href, allow_relative=True).resolve_with(page.url)
        except httpcore.InvalidURL:
            continue
        if url.scheme in ("http", "https"):
            urls.append(url.copy_with(fragment=None))
    return urls


@dataclass
class Crawl:
    """What a crawl found: status codes of the pages fetched, and the errors."""

    pages: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


async def crawl(
    start: str,
    *,
    max_pages: int = 100,
    per_host: int = 4,
    timeout: float = 10.0,
    progress: bool = True,
) -> Crawl:
    """Crawl the pages of `start`'s host reachable from it."""
    result = Crawl()
    host = httpcore.URL(start).host
    seen = {str(httpcore.URL(start))}
    limiters: defaultdict[str, trio.CapacityLimiter] = defaultdict(
        lambda: trio.CapacityLimiter(per_host)
    )
    limits = httpcore.PoolLimits(max_per_host=per_host)

    def report() -> None:
        if progress:
            done = len(result.pages) + len(result.errors)
            errors = len(result.errors)
            print(f"\r{done}/{len(seen)} pages, {errors} errors", end="", file=sys.stderr)

    async with httpcore.TrioClient(pool_limits=limits, timeout=timeout) as client:

        async def visit(url: str, nursery: trio.Nursery) -> None:
            try:
                async with limiters[httpcore.URL(url).host]:
                    page = await client.get(url)
                page.raise_for_status()
            except httpcore.HTTPStatusError as exc:
                result.errors[url] = f"HTTP {exc.response.status_code}"
            except httpcore.RequestError as exc:
                result.errors[url] = f"{type(exc).__name__}: {exc}"
            else:
                result.pages[url] = page.status_code
                for link in links_of(page):
                    if link.host == host and str(link) not in seen and len(seen) < max_pages:
                        seen.add(str(link))
                        nursery.start_soon(visit, str(link), nursery)
            report()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(visit, str(httpcore.URL(start)), nursery)
    if progress:
        print(file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start", help="the first page")
    parser.add_argument("--max-pages", type=int, default=100)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    result = trio.run(
        lambda: crawl(
            args.start, max_pages=args.max_pages, per_host=args.per_host, timeout=args.timeout
        )
    )
    for url, status in sorted(result.pages.items()):
        print(f"{status} {url}")
    for url, error in sorted(result.errors.items()):
        print(f"ERR {url}: {error}")
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
