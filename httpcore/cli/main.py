"""The `httpcore` command: send one request, print or save the response.

The request runs on `TrioClient` inside one `trio.run` rather than on the
blocking `Client`: a download then moves each chunk from the socket to the
file in one task, with no hop between threads per chunk (the blocking client
costs about 2.7 times the CPU per downloaded byte), and Ctrl-C reaches the
waiting task directly.
"""

from __future__ import annotations

import argparse
import os
import platform
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from importlib import metadata
from typing import IO, Any

import trio

from .._core.exceptions import HTTPError, LocalProtocolError, StreamError
from .._core.models import AsyncResponse, Request
from .._trio.client import TrioClient
from .._version import __version__
from .args import build_parser, split_words
from .build import Plan, build_plan, save_cookies
from .download import (
    check_resumed,
    create_unique,
    existing_size,
    file_writer,
    make_progress,
    name_from_response,
    name_from_url,
    open_output,
)
from .download import save as save_body
from .errors import (
    EXIT_INTERRUPTED,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_USAGE,
    Failure,
    UsageError,
    describe,
    http_status_exit,
)
from .output import Terminal, Trace, write_body, write_head


class _TracingClient(TrioClient):
    """A `TrioClient` that shows each exchange (redirect hops, auth retries) for ``-v``."""

    trace: Trace | None = None

    async def _send_single(self, request: Request, settings: Any) -> AsyncResponse:
        try:
            response = await super()._send_single(request, settings)
        except Exception:  # not on Ctrl-C or cancellation: those stay quiet
            if self.trace is not None:
                self.trace.request(request, None)
            raise
        if self.trace is not None:
            self.trace.exchange(request, response)
        return response


def versions() -> str:
    lines = [f"httpcore {__version__}", f"Python {platform.python_version()}"]
    for package in ("trio", "h11", "h2", "httptools", "rich", "brotli", "zstandard"):
        with suppress(metadata.PackageNotFoundError):
            lines.append(f"{package} {metadata.version(package)}")
    lines.append(ssl.OPENSSL_VERSION)
    return "\n".join(lines) + "\n"


def _is_interrupt(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_interrupt(inner) for inner in exc.exceptions)
    return isinstance(exc, KeyboardInterrupt)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: IO[bytes] | None = None,
    ask_password: Callable[[str], str] | None = None,
) -> int:
    """Run the command with `argv` (default: ``sys.argv[1:]``); return the exit status.

    0 success, 1 a usage or local file error, 2 a network, TLS, protocol or
    timeout failure, 4/5 an HTTP 4xx/5xx answer with ``--fail``, 130 when
    interrupted. Errors are one line on stderr (tracebacks with ``--traceback``).
    """
    terminal = Terminal.from_sys()
    try:
        return _main(argv, terminal, stdin or sys.stdin.buffer, ask_password)
    except BaseException as exc:
        if not _is_interrupt(exc):
            raise
        return EXIT_INTERRUPTED


def _main(
    argv: Sequence[str] | None,
    terminal: Terminal,
    stdin: IO[bytes],
    ask_password: Callable[[str], str] | None,
) -> int:
    parser = build_parser()
    traceback = "--traceback" in (sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
        if args.version:
            terminal.stdout.write(versions())
            return EXIT_OK
        _check_output_options(args)
        with ExitStack() as files:
            method, url, items = split_words(args.words)
            extra = {} if ask_password is None else {"ask_password": ask_password}
            plan = build_plan(args, method, url, items, files, stdin, **extra)
            return trio.run(_run, plan, args, terminal)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except (UsageError, Failure) as exc:
        if traceback:
            raise
        terminal.notice(str(exc))
        return exc.status if isinstance(exc, Failure) else EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`httpcore URL | head`): stop quietly, and point
        # stdout at /dev/null so that Python's final flush finds no broken pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, terminal.stdout.fileno())
        os.close(devnull)
        return EXIT_USAGE


def _check_output_options(args: argparse.Namespace) -> None:
    if args.output is not None and args.download:
        raise UsageError("give either -o FILE or -O, not both")
    if args.resume and args.output in (None, "-") and not args.download:
        raise UsageError("--continue needs -o FILE or -O")


async def _run(plan: Plan, args: argparse.Namespace, terminal: Terminal) -> int:
    try:
        client = _TracingClient(cookies=plan.cookies, **plan.client)
    except ValueError as exc:
        raise Failure(f"cannot use the proxy {plan.proxy}: {exc}", EXIT_USAGE) from exc
    if args.verbose:
        client.trace = Trace(terminal, plan.follow)
    try:
        async with client:
            return await _exchange(client, plan, args, terminal)
    except (HTTPError, StreamError) as exc:
        if args.traceback:
            raise
        raise Failure(describe(exc, plan.url, plan.timeout, plan.proxy), EXIT_NETWORK) from exc
    finally:
        if args.cookie_jar is not None:
            save_cookies(client.cookies, args.cookie_jar)


async def _exchange(
    client: _TracingClient, plan: Plan, args: argparse.Namespace, terminal: Terminal
) -> int:
    for name in plan.removed_headers:
        if name in client.headers:
            del client.headers[name]
    try:
        request = client.build_request(
            plan.method, plan.url, params=plan.params or None, headers=plan.headers, **plan.body
        )
    except (LocalProtocolError, ValueError) as exc:  # InvalidURL is a ValueError
        raise UsageError(f"invalid request: {exc}") from None
    to_file = args.output not in (None, "-") or args.download
    resume_path = None
    offset = 0
    if args.resume:
        resume_path = args.output or name_from_url(request.url)
        offset = existing_size(resume_path)
        if offset:
            request.headers["Range"] = f"bytes={offset}-"
            request.headers["Accept-Encoding"] = "identity"
    started = time.monotonic()
    response = await client.send(request, stream=True, allow_redirects=plan.follow, auth=plan.auth)
    async with response:
        if offset and response.status_code == 416:
            if not args.silent:
                terminal.notice(f"{resume_path} is already complete ({offset} bytes)")
            return EXIT_OK
        if args.fail and response.status_code >= 400:
            raise Failure(
                f"HTTP {response.status_code} {response.reason_phrase} from {response.url}",
                http_status_exit(response.status_code),
            )
        if args.head or args.include:
            for hop in [*response.history, response]:
                write_head(terminal, hop)
        if args.head:
            return EXIT_OK
        if to_file:
            await _save(response, args, terminal, resume_path, offset)
        elif terminal.stdout_tty:
            await write_body(terminal, response)
        else:
            progress = make_progress(terminal, args.silent)
            await save_body(response, terminal.write_bytes, "stdout", progress, 0)
        if client.trace is not None:
            client.trace.done(response, time.monotonic() - started)
    return EXIT_OK


async def _save(
    response: AsyncResponse,
    args: argparse.Namespace,
    terminal: Terminal,
    resume_path: str | None,
    offset: int,
) -> None:
    """Write the body to ``-o FILE``, to a new file named as ``-O`` says, or
    (``--continue``) append it to the partial file."""
    if resume_path is not None:
        name = resume_path
        if offset and response.status_code == 206:
            check_resumed(response, offset)
            file = open_output(name, "ab")
        else:
            if offset and not args.silent:
                terminal.notice(f"the server cannot resume: downloading {name} from the start")
            offset = 0
            file = open_output(name, "wb")
    elif args.output is not None:
        name, file = args.output, open_output(args.output, "wb")
    else:
        name, file = create_unique(name_from_response(response))
    if response.status_code >= 400 and not args.silent:
        terminal.notice(
            f"HTTP {response.status_code} {response.reason_phrase}: saving the error body"
            f" to {name} (--fail to exit non-zero and save nothing)"
        )
    progress = make_progress(terminal, args.silent)
    with file:
        await save_body(response, file_writer(file, name), name, progress, offset)
