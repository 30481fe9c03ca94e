"""The `httpcore` command: send one request and print the response.

httpcore https://example.org/
httpcore -X POST --json '{"a": 1}' -H 'X-Token: t' -i https://example.org/api
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .._core.exceptions import HTTPError, InvalidURL
from .._core.models import Response
from .._trio.sync import Client


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="httpcore", description="Send an HTTP request.")
    parser.add_argument("url", help="the URL to request")
    parser.add_argument("-X", "--method", default=None, help="HTTP method (default GET)")
    parser.add_argument(
        "-H", "--header", action="append", default=[], metavar="NAME: VALUE", help="add a header"
    )
    parser.add_argument("-d", "--data", default=None, help="request body, sent as is")
    parser.add_argument("--json", default=None, help="JSON request body")
    parser.add_argument("-i", "--include", action="store_true", help="print the response head")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    parser.add_argument("--no-verify", action="store_true", help="skip TLS verification")
    parser.add_argument("--no-follow", action="store_true", help="do not follow redirects")
    return parser


def _head(response: Response) -> str:
    lines = [f"{response.protocol} {response.status_code} {response.reason_phrase}"]
    lines += [
        f"{name.decode('latin-1')}: {value.decode('latin-1')}"
        for name, value in response.headers.raw
    ]
    return "\n".join(lines) + "\n\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0, or 1 on any error)."""
    args = _parser().parse_args(argv)
    headers = []
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep:
            print(f"httpcore: bad header {header!r}: expected 'Name: value'", file=sys.stderr)
            return 1
        headers.append((name.strip(), value.strip()))
    body = None if args.json is None else json.loads(args.json)
    method = args.method or ("POST" if args.data is not None or body is not None else "GET")
    try:
        with Client(verify=not args.no_verify, timeout=args.timeout) as client:
            response = client.request(
                method,
                args.url,
                headers=headers,
                data=None if args.data is None else args.data.encode(),
                json=body,
                allow_redirects=not args.no_follow,
            )
    except (HTTPError, InvalidURL) as exc:
        print(f"httpcore: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if args.include:
        sys.stdout.write(_head(response))
    sys.stdout.flush()
    sys.stdout.buffer.write(response.content)
    sys.stdout.buffer.flush()
    return 0
