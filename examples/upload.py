"""A streaming multipart upload with a progress line, with the blocking client.

    python examples/upload.py https://example.org/upload big.iso --field note="nightly build"

The file is sent from disk in chunks as the connection takes them: a 10 GiB
file uses no more memory than a small one. `Content-Length` is sent, because
the size of every part is known.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

import httpcore


class ProgressFile(io.BufferedReader):
    """A file opened for reading that reports how much of it was read."""

    def __init__(self, path: Path) -> None:
        super().__init__(io.FileIO(path, "rb"))
        self.total = path.stat().st_size
        self.sent = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.sent += len(data)
        print(f"\r{self.sent * 100 // max(self.total, 1)}% sent", end="", file=sys.stderr)
        return data


def upload(
    url: str, path: Path, fields: dict[str, str], **client_options: Any
) -> httpcore.Response:
    """POST `path` as the multipart field `file`, with `fields` beside it."""
    with ProgressFile(path) as file, httpcore.Client(**client_options) as client:
        response = client.post(
            url, data=fields, files={"file": (path.name, file, "application/octet-stream")}
        )
    print(file=sys.stderr)
    response.raise_for_status()
    return response


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("path", type=Path)
    parser.add_argument("--field", action="append", default=[], help="NAME=VALUE")
    args = parser.parse_args(argv)
    fields = dict(field.split("=", 1) for field in args.field)
    response = upload(args.url, args.path, fields, timeout=60)
    print(response.status_code, response.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
