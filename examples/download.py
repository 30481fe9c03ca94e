"""A resumable download manager: several files at once, each resumed where an
earlier run stopped, with HTTP Range requests.

    python examples/download.py URL [URL ...] --dir downloads

Each URL is saved as DIR/<last path segment>. While downloading, the bytes go
to `<name>.part` and the server's validator (ETag or Last-Modified) to
`<name>.part.validator`. A later run sends `Range: bytes=<size of .part>-` with
`If-Range: <validator>`: a 206 answer is appended; a 200 (the server ignores
ranges, or the file changed since) starts the file again. The `.part` file
becomes the final file only when complete.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

import httpcore


@dataclass
class Download:
    url: str
    path: Path
    resumed_from: int = 0  # bytes already on disk that the server let us keep
    received: int = 0  # bytes received in this run
    complete: bool = False


def _validator(response: httpcore.AsyncResponse) -> str | None:
    etag = response.headers.get("etag")
    if etag and not etag.startswith("W/"):  # If-Range needs a strong validator
        return etag
    return response.headers.get("last-modified")


async def download(
    client: httpcore.TrioClient, url: str, directory: Path, *, stop_after: int | None = None
) -> Download:
    """Download `url` into `directory`, resuming a `.part` file left by an earlier run.

    `stop_after` ends this run after that many bytes, as an interruption would
    (for demonstrations and tests).
    """
    path = directory / (httpcore.URL(url).path.rsplit("/", 1)[-1] or "index.html")
    part = path.with_name(path.name + ".part")
    validator_file = path.with_name(path.name + ".part.validator")
    result = Download(url, path)
    # Byte ranges of the file itself, not of a compressed form of it.
    headers = {"Accept-Encoding": "identity"}
    offset = part.stat().st_size if part.exists() else 0
    if offset and validator_file.exists():
        headers["Range"] = f"bytes={offset}-"
        headers["If-Range"] = validator_file.read_text()
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 416:  # nothing left to send: the .part is whole
            part.rename(path)
            validator_file.unlink(missing_ok=True)
            result.resumed_from, result.complete = offset, True
            return result
        response.raise_for_status()
        if response.status_code == 206:
            content_range = response.headers.get("content-range", "")
            if not content_range.startswith(f"bytes {offset}-"):
                raise RuntimeError(f"{url}: asked for bytes {offset}-, got {content_range!r}")
            result.resumed_from, mode = offset, "ab"
        else:  # 200: the whole file (again)
            mode = "wb"
            validator = _validator(response)
            if validator:
                validator_file.write_text(validator)
            else:
                validator_file.unlink(missing_ok=True)
        async with await trio.open_file(part, mode) as file:
            async for chunk in response.raw():
                await file.write(chunk)
                result.received += len(chunk)
                if stop_after is not None and result.received >= stop_after:
                    return result
    part.rename(path)
    validator_file.unlink(missing_ok=True)
    result.complete = True
    return result


async def download_all(
    urls: list[str],
    directory: Path,
    *,
    concurrency: int = 4,
    stop_after: int | None = None,
    **client_options: Any,
) -> list[Download]:
    """Download every URL, `concurrency` at a time; failures are reported, not raised."""
    directory.mkdir(parents=True, exist_ok=True)
    results: dict[str, Download | Exception] = {}
    limiter = trio.CapacityLimiter(concurrency)

    async def one(url: str) -> None:
        async with limiter:
            try:
                results[url] = await download(client, url, directory, stop_after=stop_after)
            except (httpcore.HTTPError, RuntimeError, OSError) as exc:
                results[url] = exc
                print(f"{url}: {exc}", file=sys.stderr)

    async with httpcore.TrioClient(**client_options) as client:
        async with trio.open_nursery() as nursery:
            for url in urls:
                nursery.start_soon(one, url)
    return [r for r in results.values() if isinstance(r, Download)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--dir", type=Path, default=Path("downloads"))
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    done = trio.run(lambda: download_all(args.urls, args.dir, concurrency=args.concurrency))
    for item in done:
        resumed = f" (resumed at byte {item.resumed_from})" if item.resumed_from else ""
        print(f"{item.path}: {item.received} bytes received{resumed}")
    return 0 if len(done) == len(args.urls) and all(d.complete for d in done) else 1


if __name__ == "__main__":
    sys.exit(main())
