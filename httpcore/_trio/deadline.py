"""The total deadline of a request (``TimeoutConfig(total=...)``).

Theory of operation
-------------------
Every wait of a request is already bounded by the timeout of its phase, read
from the request's `TimeoutConfig` at the moment the wait starts (the pool
wait, each connect, each write, each read). A request with a total deadline
is sent with a `DeadlineTimeouts` instead: the same four timeouts, each
capped by the time left until the deadline whenever it is read. So the
phase that is running when the deadline passes times out, in the task that
waits, with its own exception class (SPEC §7 has no class for the total
deadline); the client then rewrites that exception's message to say that
the total deadline ran out (`explain`). Nothing else changes: the
connection is closed, and the pool released, exactly as for any timeout.

Waits that outlive `send()` (a streaming response's body) keep the deadline:
the response's body is wrapped in `DeadlineBody`, whose reads get the
rewritten message too.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

import trio

from .._core.config import TimeoutConfig
from .._core.exceptions import (
    ConnectTimeout,
    PoolTimeout,
    ReadTimeout,
    TimeoutException,
    WriteTimeout,
)
from .._core.models import Request

_PHASES: dict[type[TimeoutException], str] = {
    ConnectTimeout: "connecting",
    PoolTimeout: "waiting for a connection from the pool",
    ReadTimeout: "reading the response",
    WriteTimeout: "sending the request",
}


class DeadlineTimeouts(TimeoutConfig):
    """A request's timeouts, each capped by the time left until `deadline` (trio time)."""

    __slots__ = ("deadline", "unbounded")

    def __init__(self, timeout: TimeoutConfig, deadline: float) -> None:
        super().__init__(timeout)
        self.unbounded = timeout
        self.deadline = deadline

    def _cap(self, seconds: float | None) -> float:
        left = max(self.deadline - trio.current_time(), 0.0)
        return left if seconds is None or seconds > left else seconds

    @property
    def connect_timeout(self) -> float:
        return self._cap(self._connect)

    @property
    def read_timeout(self) -> float:
        return self._cap(self._read)

    @property
    def write_timeout(self) -> float:
        return self._cap(self._write)

    @property
    def pool_timeout(self) -> float:
        return self._cap(self._pool)

    def expired(self) -> bool:
        return trio.current_time() >= self.deadline


def unbounded(timeout: TimeoutConfig) -> TimeoutConfig:
    """`timeout` without a request's deadline (for what outlives the request)."""
    return timeout.unbounded if isinstance(timeout, DeadlineTimeouts) else timeout


def explain(exc: TimeoutException, timeout: DeadlineTimeouts, request: Request) -> None:
    """Say in `exc` that the total deadline fired, if it did (else leave `exc` as it is)."""
    if not timeout.expired():
        return
    phase = next((words for cls, words in _PHASES.items() if isinstance(exc, cls)), "waiting")
    exc.args = (
        f"{type(exc).__name__}: the total deadline of {timeout.total:g} s for "
        f"{request.method} {request.url} was exceeded while {phase}",
    )


class DeadlineBody:
    """A response body whose reads explain a timeout caused by the deadline."""

    __slots__ = ("_iterator", "_request", "_source", "_timeout")

    def __init__(
        self, source: AsyncIterable[bytes], timeout: DeadlineTimeouts, request: Request
    ) -> None:
        self._source = source
        self._iterator: AsyncIterator[bytes] | None = None
        self._timeout = timeout
        self._request = request

    def __aiter__(self) -> DeadlineBody:
        return self

    async def __anext__(self) -> bytes:
        if self._iterator is None:
            self._iterator = self._source.__aiter__()
        try:
            return await self._iterator.__anext__()
        except TimeoutException as exc:
            explain(exc, self._timeout, self._request)
            raise

    async def aclose(self) -> None:
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            await aclose()

    def forget(self) -> None:
        """Give the body up without I/O (`ResponseBody.forget`), as the asyncio bridge may."""
        forget = getattr(self._source, "forget", None)
        if forget is not None:
            forget()
