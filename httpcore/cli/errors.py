"""Exit codes, and every failure told as one line that names the URL and the cause.

The exit codes are part of the command's contract (docs/cli.md): 0 success,
1 a usage mistake or a local file problem, 2 a network, TLS, protocol or
timeout failure, 4 and 5 an HTTP 4xx or 5xx answer with ``--fail``, 130 when
interrupted (Ctrl-C).
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator

from .._core.config import TimeoutConfig
from .._core.exceptions import (
    ConnectError,
    ConnectTimeout,
    DecodingError,
    HTTPError,
    PoolTimeout,
    ProtocolError,
    ProxyError,
    ReadTimeout,
    RemoteProtocolError,
    RequestError,
    StreamError,
    TooManyRedirects,
    UnsupportedProtocol,
    WriteTimeout,
)

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_NETWORK = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A mistake on the command line or with a local file: exit status 1."""


class Failure(Exception):
    """A failure already worded for the user, with its exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and everything it was raised from, exception groups included."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)


def _seconds(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g} s"


def _connect_cause(exc: ConnectError) -> str:
    """Why a connection failed, in words."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate:{cause.verify_message}"
        if isinstance(cause, socket.gaierror):
            return "could not resolve the host name"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
    return str(exc)


def describe(
    exc: HTTPError | StreamError, url: str, timeout: TimeoutConfig, proxy: str | None = None
) -> str:
    """One line for a failed request to `url` (the URL the user asked for)."""
    via = f" via the proxy {proxy}" if proxy else ""
    if isinstance(exc, RequestError) and exc.request is not None:
        url = str(exc.request.url)  # a redirect hop may have failed
    if isinstance(exc, ConnectTimeout):
        return (
            f"could not connect to {url}{via}: timed out after {_seconds(timeout.connect_timeout)}"
            " (--connect-timeout SECONDS to wait longer)"
        )
    if isinstance(exc, ReadTimeout):
        return (
            f"read timed out after {_seconds(timeout.read_timeout)} waiting for {url}"
            " (--read-timeout SECONDS to wait longer)"
        )
    if isinstance(exc, WriteTimeout):
        return f"write timed out after {_seconds(timeout.write_timeout)} sending to {url}"
    if isinstance(exc, PoolTimeout):
        return f"timed out after {_seconds(timeout.pool_timeout)} waiting for a connection to {url}"
    if isinstance(exc, ProxyError):
        return f"{'the proxy ' + proxy if proxy else 'the proxy'} failed for {url}: {exc}"
    if isinstance(exc, ConnectError):
        cause = _connect_cause(exc)
        if cause.startswith("certificate:"):
            return (
                f"certificate verify failed for {url}: {cause.partition(':')[2]}:"
                " use --cacert FILE, or --no-verify to skip the check"
            )
        return f"could not connect to {url}{via}: {cause}"
    if isinstance(exc, UnsupportedProtocol):  # a redirect (the command checks its own URL)
        return f"cannot follow the redirect from {url}: {exc} (only http:// and https://)"
    if isinstance(exc, TooManyRedirects):
        return f"too many redirects from {url}: {exc} (--max-redirects N to allow more)"
    if isinstance(exc, RemoteProtocolError):
        return f"the server broke the HTTP protocol at {url}: {exc}"
    if isinstance(exc, ProtocolError):
        return f"invalid request to {url}: {exc}"
    if isinstance(exc, DecodingError):
        return f"could not decode the response body of {url}: {exc}"
    return f"request to {url} failed: {exc}"


def http_status_exit(status_code: int) -> int:
    """The exit status that ``--fail`` gives an HTTP error status (4 or 5)."""
    return 4 if status_code < 500 else 5
